#!/usr/bin/env bash
# Regenerates cairnpb/cairn.pb.go from proto/cairn.proto with protoc and the
# protoc-gen-go that go.mod pins (a `tool` of this module).
#   generate.sh          write it
#   generate.sh --check  write nothing; exit 1 if the committed file is stale
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
mkdir -p "$tmp/out"
protoc --plugin=protoc-gen-go="$tmp/protoc-gen-go" -I ../../proto \
	--go_out="$tmp/out" --go_opt=paths=source_relative \
	--go_opt=Mcairn.proto=cairn.dev/cairn/cairnpb cairn.proto
if [ "${1:-}" = "--check" ]; then
	if ! cmp -s "$tmp/out/cairn.pb.go" cairnpb/cairn.pb.go; then
		echo "bindings/go/cairnpb/cairn.pb.go does not match proto/cairn.proto:" \
			"run bindings/go/generate.sh and commit the result" >&2
		exit 1
	fi
	echo "generate.sh: cairnpb/cairn.pb.go is current"
	exit 0
fi
mkdir -p cairnpb
cp "$tmp/out/cairn.pb.go" cairnpb/cairn.pb.go
