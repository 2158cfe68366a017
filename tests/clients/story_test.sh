#!/usr/bin/env bash
# One story across languages, through one real cairnd: a TypeScript
# producer enqueues, a Go worker completes the task with a result, and a
# Python client (libcairn) awaits it; then the other way round, a Go
# producer, a TypeScript worker, and Python again. Then the same with a
# durable workflow: a run started from TypeScript, its code replayed by a
# C workflow worker (wf_test_worker's "order"), its activities done by a
# Go worker, its result awaited from Python; and a run started from Go
# whose activities a TypeScript worker does. Needs the TypeScript build
# (ts_test.sh) and Go's modules (go_test.sh).
# usage: story_test.sh  (CAIRND, WF_TEST_WORKER, CAIRN_LIBRARY, PYTHONPATH set)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "story_test: $*" >&2; exit 1; }

[ -f "$root/bindings/typescript/dist/examples/producer.js" ] ||
	fail "the TypeScript build is missing: run ts_test.sh first"
(cd "$root/bindings/go" && go build -o "$tmp/go-worker" ./examples/worker &&
	go build -o "$tmp/go-producer" ./examples/producer &&
	go build -o "$tmp/go-workflow" ./examples/workflow)

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="tcp://127.0.0.1:$port"
"$CAIRND" --listen "$url" --store "sqlite:$tmp/db" --log-level warn &
pids+=($!)
for _ in $(seq 100); do
	"$tmp/go-producer" -url "$url" -queue warmup >/dev/null 2>&1 && break
	sleep 0.1
done

# await ID WANT_BY: Python waits for the task and checks who answered.
await() {
	/usr/bin/python3 - "$url" "$1" "$2" <<'PY'
import json, sys
import cairn
url, tid, by = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with cairn.Client(url, timeout=10) as c:
    t = c.await_result(tid, timeout=30)
    assert t.state == "succeeded", (t.state, t.last_error)
    r = json.loads(t.result)
    assert r == {"greeting": "hello, Ana", "by": by, "attempt": 1}, r
    print(f"python: task {tid} {t.state}: {t.result.decode()}")
PY
}

node="node $root/bindings/typescript/dist/examples"
passed=0

# TypeScript producer -> Go worker -> Python.
"$tmp/go-worker" -url "$url" -queue story.ts-go -count 1 -wait 200ms >"$tmp/go-worker.log" 2>&1 &
gw=$!
pids+=($gw)
id=$($node/producer.js --url "$url" --queue story.ts-go Ana)
[[ "$id" =~ ^[0-9]+$ ]] || fail "the TypeScript producer printed '$id'"
await "$id" go
wait "$gw" || fail "the Go worker failed: $(cat "$tmp/go-worker.log")"
passed=$((passed + 1))

# Go producer -> TypeScript worker -> Python.
$node/worker.js --url "$url" --queue story.go-ts --count 1 --wait-ms 200 >"$tmp/ts-worker.log" 2>&1 &
tw=$!
pids+=($tw)
id=$("$tmp/go-producer" -url "$url" -queue story.go-ts Ana)
[[ "$id" =~ ^[0-9]+$ ]] || fail "the Go producer printed '$id'"
await "$id" typescript
wait "$tw" || fail "the TypeScript worker failed: $(cat "$tmp/ts-worker.log")"
passed=$((passed + 1))

# The workflow stories. wf_test_worker runs the flows' code; "order" hands
# its input to the activities reserve, charge and ship, takes a step and a
# 50 ms timer, and succeeds with "RESERVE|CHARGE|receipt:INPUT|SHIP".
"$WF_TEST_WORKER" "$url" --timer 50 >"$tmp/wf-worker.log" 2>&1 &
pids+=($!)

# await_run WORKFLOW_ID WANT_BY: Python waits for the run (its workflow
# calls) and checks who did its activities.
await_run() {
	/usr/bin/python3 - "$url" "$1" "$2" <<'PY'
import json, sys
import cairn
url, wfid, by = sys.argv[1], sys.argv[2], sys.argv[3]
with cairn.Client(url) as c:
    try:
        out = c.workflow(wfid).result(timeout=30)
    except cairn.WorkflowFailed as e:
        sys.exit(f"python: {e}")
# The C workflow joins its outcomes with "|": text, not JSON, so the
# result comes back as bytes.
reserve, charge, receipt, ship = out.decode().split("|")
for r in (reserve, charge, ship):
    assert json.loads(r) == {"greeting": "hello, Ana", "by": by, "attempt": 1}, r
assert receipt == 'receipt:{"name":"Ana"}', receipt
print(f"python: workflow {wfid} succeeded: {out.decode()}")
PY
}

# TypeScript starts the run -> C replays it -> Go does its activities ->
# Python awaits it.
"$tmp/go-worker" -url "$url" -queue reserve,charge,ship -count 3 -wait 200ms >"$tmp/go-wf-worker.log" 2>&1 &
gw=$!
pids+=($gw)
out=$($node/workflow.js --url "$url" --id story.ts-go order '{"name":"Ana"}')
[[ "$out" =~ ^[0-9]+\ story.ts-go$ ]] || fail "the TypeScript start printed '$out'"
await_run story.ts-go go
wait "$gw" || fail "the Go worker failed: $(cat "$tmp/go-wf-worker.log")"
passed=$((passed + 1))

# Go starts the run -> C -> TypeScript does its activities -> Python.
$node/worker.js --url "$url" --queue reserve,charge,ship --count 3 --wait-ms 200 >"$tmp/ts-wf-worker.log" 2>&1 &
tw=$!
pids+=($tw)
out=$("$tmp/go-workflow" -url "$url" -id story.go-ts order '{"name":"Ana"}')
[[ "$out" =~ ^[0-9]+\ story.go-ts$ ]] || fail "the Go start printed '$out'"
await_run story.go-ts typescript
wait "$tw" || fail "the TypeScript worker failed: $(cat "$tmp/ts-wf-worker.log")"
passed=$((passed + 1))

echo "story_test: $passed passed, 0 failed"
