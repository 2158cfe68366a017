#!/usr/bin/env bash
# The lost-disk test: an S3-compatible server (moto) on 127.0.0.1, then
# lost_disk (cairnd + `litestream replicate` with docker/litestream.yml,
# load, kill -9 of both, the data deleted, `litestream restore`, checks).
#
#   litestream_test.sh VENV LOST_DISK [lost_disk options...]
#
# VENV comes from litestream_env.sh; CAIRND names the server. The by-hand
# runs of docs/RELIABILITY.md are this script with more rounds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$1
lost_disk=$2
shift 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-s3-XXXXXX")
s3=
cleanup() {
	[ -n "$s3" ] && kill "$s3" 2>/dev/null && wait "$s3" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# The machine's own AWS settings (a CA bundle, a profile) would change how
# Litestream talks to the test server; it needs none of them.
unset AWS_CA_BUNDLE AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
	AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_ACCESS_KEY_ID=cairn-test AWS_SECRET_ACCESS_KEY=cairn-test
export AWS_REGION=us-east-1 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# The server lives while this script holds the FIFO open (and at most an
# hour), so it cannot outlive a test that is killed.
mkfifo "$tmp/hold"
"$venv/bin/python" "$here/s3_server.py" "$tmp/port" cairn 3600 \
	<"$tmp/hold" >"$tmp/s3.log" 2>&1 &
s3=$!
exec 8>"$tmp/hold"
for _ in $(seq 300); do
	[ -s "$tmp/port" ] && break
	kill -0 "$s3" 2>/dev/null || { cat "$tmp/s3.log" >&2; exit 1; }
	sleep 0.1
done
port=$(cat "$tmp/port")
echo "litestream_test: S3-compatible server on 127.0.0.1:$port"

export LITESTREAM=$venv/bin/litestream
export LITESTREAM_CONFIG=$here/../../docker/litestream.yml
export LOST_DISK_REPLICA="s3://cairn/lost-disk?endpoint=http://127.0.0.1:$port&region=us-east-1&forcePathStyle=true"
"$lost_disk" "$@"
