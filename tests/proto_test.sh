#!/usr/bin/env bash
# proto/README.md's hand-made calls, run as written against a real cairnd,
# and a check that cairn_debug.proto has a view for every rpc.
# usage: proto_test.sh CAIRND PROTO_DIR
set -euo pipefail
cairnd=$1
proto=$2

fail() { echo "proto_test: $*" >&2; exit 1; }

for m in $(sed -n 's/^ *rpc \([A-Za-z]*\)(.*/\1/p' "$proto/cairn.proto"); do
	grep -q "^message ${m}Call {" "$proto/cairn_debug.proto" ||
		fail "cairn_debug.proto has no ${m}Call"
	grep -q "^message ${m}Reply {" "$proto/cairn_debug.proto" ||
		fail "cairn_debug.proto has no ${m}Reply"
done

tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$cairnd" --listen "tcp://127.0.0.1:$port" --store "sqlite:$tmp/db" \
	--log-level warn &
pid=$!

# The shell blocks of the README, in order, on our port.
awk '/^```sh$/ {on=1; n++; next} /^```$/ {on=0} on {print > (dir "/block" n ".sh")}' \
	dir="$tmp" "$proto/README.md"
[ -f "$tmp/block1.sh" ] && [ -f "$tmp/block2.sh" ] || fail "README has no sh blocks"
sed -i "s/7420/$port/" "$tmp"/block*.sh

cd "$proto"
for i in $(seq 100); do # until the server answers (nngcat exits 0 anyway)
	out=$(bash "$tmp/block1.sh" 2>&1) || true
	grep -q "created: true" <<<"$out" && break
	sleep 0.1
done
echo "$out"
grep -q "created: true" <<<"$out" || fail "the Enqueue example did not create a task"
out=$(bash "$tmp/block2.sh")
echo "$out"
grep -q 'lease_token: "[0-9a-f]\{32\}"' <<<"$out" || fail "the Lease example leased nothing"
grep -q 'payload: "hello"' <<<"$out" || fail "the leased task is not the enqueued one"
echo "proto_test: 2 passed, 0 failed"
