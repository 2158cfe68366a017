package cairn_test

import "cairn.dev/cairn/cairnpb"

type (
	cairnpbHeartbeat = cairnpb.HeartbeatResponse
	cairnpbFail      = cairnpb.FailResponse
)
