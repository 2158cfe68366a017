#!/bin/bash
# readonly_test.sh - cairnd --read-only serves a copy without writing to it.
#
# Usage: readonly_test.sh PATH/TO/cairnd PATH/TO/cairn
#
# Makes a store with tasks in every state, a lease that has run out, a
# workflow run with a signal in its inbox, and stops its cairnd. Then a
# read-only cairnd serves Get, List, Stats, History and the workflow
# inspection calls, refuses every write (rpc and dashboard) with
# FAILED_PRECONDITION, expires no lease, and leaves the file's bytes as
# they were. A read-only cairnd beside a live one reads what the live one
# commits. A missing file or one that holds no Cairn store is refused
# clearly, and the missing file is not created. Exits non-zero at the
# first failed check, saying which.
set -u

CAIRND=${1:?usage: readonly_test.sh CAIRND CAIRN}
CAIRN=${2:?usage: readonly_test.sh CAIRND CAIRN}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-readonly-test.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

CHECKS=0
fail() {
	echo "readonly_test: FAIL: $*" >&2
	[ -s "$TMP/err" ] && echo "readonly_test: stderr was: $(cat "$TMP/err")" >&2
	for f in "$TMP"/*.log; do
		[ -s "$f" ] || continue
		echo "readonly_test: last lines of $(basename "$f"):" >&2
		tail -n 5 "$f" >&2
	done
	exit 1
}
ok() { CHECKS=$((CHECKS + 1)); }

run() {
	OUT=$("$CAIRN" "$@" 2>"$TMP/err")
	RC=$?
	ERR=$(cat "$TMP/err")
}
expect_ok() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "cairn $*: exit $RC, expected 0"
	ok
}
# refused ARGS...: the command fails with FAILED_PRECONDITION and says
# why.
refused() {
	run "$@"
	[ "$RC" -eq 1 ] || fail "cairn $*: exit $RC, expected 1"
	case $ERR in
	*"FAILED_PRECONDITION"*"read-only (--read-only)"*) ok ;;
	*) fail "cairn $*: not refused as read-only: $ERR" ;;
	esac
}
contains() {
	case $1 in
	*"$2"*) ok ;;
	*) fail "$3: expected '$2' in: $1" ;;
	esac
}
pyjson() {
	printf '%s' "$OUT" | "$PY" -c "import json, sys
d = json.load(sys.stdin)
$1" || fail "$2: JSON check failed on: $OUT"
	ok
}
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
sum() { sha256sum "$1" | cut -d' ' -f1; }

# start NAME ARGS...: starts cairnd on a free port with ARGS, waits for
# it to answer, and points the CLI at it (PID in LAST).
start() {
	local name=$1 port
	shift
	port=$(free_port)
	"$CAIRND" --listen "tcp://127.0.0.1:$port" "$@" \
		>"$TMP/$name.log" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
	export CAIRN_SERVER="tcp://127.0.0.1:$port"
	for _ in $(seq 1 100); do
		"$CAIRN" ping >/dev/null 2>&1 && return
		kill -0 "$LAST" 2>/dev/null || fail "$name exited: $(cat "$TMP/$name.log")"
		sleep 0.1
	done
	fail "$name did not answer ping within 10 s"
}
stop() { # PID: SIGTERM, and the exit status must be 0
	kill "$1"
	wait "$1" || fail "cairnd $1 stopped with a non-zero status"
}
unset CAIRN_TOKEN

DB="$TMP/copy.db"

# ---- a store worth inspecting -------------------------------------------------

start maker --store "sqlite:$DB"
MAKER=$LAST
expect_ok enqueue work --payload one
T1=$OUT
expect_ok enqueue work --payload two
expect_ok enqueue work --payload three --key k3
T3=$OUT
expect_ok enqueue later --payload p --delay 1h
expect_ok lease work --lease-time 1s --json
pyjson "assert d[0]['task']['id'] == $T1" "lease"
TOKEN1=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["lease_token"])')
expect_ok lease work --json
T2=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["task"]["id"])')
TOKEN2=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["lease_token"])')
expect_ok complete "$T2" --token "$TOKEN2" --result done
expect_ok workflow start order --id ro-run --input o1
RUN=${OUT%% *}
expect_ok workflow signal ro-run go --payload hi
stop "$MAKER"
BEFORE=$(sum "$DB")

# ---- the inspector -----------------------------------------------------------

HPORT=$(free_port)
start inspector --store "sqlite:$DB" --read-only --http "127.0.0.1:$HPORT"
INSPECTOR=$LAST
contains "$(cat "$TMP/inspector.log")" "read-only" "the start-up log"
sleep 1.5 # past the deadline of T1's lease, which nobody ends here

expect_ok get "$T1" --json
pyjson 'assert d["state"] == "active", d' "an ended lease is not expired"
expect_ok get "$T2" --json
pyjson 'assert d["state"] == "succeeded" and d["result"] == "done"' "get"
expect_ok list work --all --json
pyjson 'assert [t["state"] for t in d["tasks"]] == ["active", "succeeded", "pending"]' "list"
expect_ok stats --json
pyjson 'q = {s["queue"]: s for s in d["queues"]}
assert q["work"]["pending"] == 1 and q["work"]["active"] == 1
assert q["later"]["pending"] == 1' "stats"
expect_ok history "$T2" --json
pyjson 'assert [e["kind"] for e in d["events"]][-1] == "completed"' "history"
expect_ok queue list --json
pyjson 'assert d["queues"] == []' "queue list"
expect_ok queue show work --json
pyjson 'assert d["queue"] == "work" and not d["paused"]' "queue show"
expect_ok workflow get ro-run --json
pyjson "assert d['run_id'] == $RUN and d['state'] == 'running'" "workflow get"
expect_ok workflow list --json
pyjson 'assert [r["workflow_id"] for r in d["runs"]] == ["ro-run"]' "workflow list"
expect_ok workflow history ro-run --json
pyjson 'assert d["run"]["workflow_id"] == "ro-run"' "workflow history"
run await "$T3" --wait 10s
[ "$RC" -eq 4 ] || fail "await of a pending task: exit $RC, expected 4"
ok

refused enqueue work --payload four
refused enqueue work --payload again --key k3
refused lease work --wait 5s
refused heartbeat "$T1" --token "$TOKEN1"
refused complete "$T1" --token "$TOKEN1"
refused fail "$T1" --token "$TOKEN1" --error boom
refused cancel "$T3"
refused retry "$T2"
refused workflow start order --id ro-new
refused workflow signal ro-run go --payload again
refused workflow cancel ro-run
refused workflow terminate ro-run
refused queue set work --pause
refused queue set work --max-active 3
expect_ok queue list --json
refused schedule add nightly --cron '0 3 * * *' --queue work
expect_ok schedule list --json

# The dashboard: its session says read-only, and an action is refused as
# the rpcs refuse it (HTTP 409, FAILED_PRECONDITION).
"$PY" - "$HPORT" "$T3" <<'EOF' || fail "the dashboard of a read-only cairnd"
import json, sys, urllib.request, urllib.error
base = "http://127.0.0.1:%s" % sys.argv[1]
s = json.load(urllib.request.urlopen(base + "/api/session"))
assert s["read_only"] is True, s
req = urllib.request.Request(base + "/api/task/cancel?id=" + sys.argv[2],
    data=b"", method="POST", headers={"X-Cairn-Csrf": "1"})
try:
    urllib.request.urlopen(req)
    raise SystemExit("the cancel was accepted")
except urllib.error.HTTPError as e:
    body = json.load(e)
    assert e.code == 409, e.code
    assert "read-only (--read-only)" in json.dumps(body), body
EOF
ok
stop "$INSPECTOR"
[ "$(sum "$DB")" = "$BEFORE" ] || fail "the read-only session changed the file"
ok
if [ -s "$DB-wal" ]; then
	fail "the read-only session wrote into the WAL"
fi
ok

# ---- beside a live cairnd ----------------------------------------------------
# WAL readers go on beside the writer: each request reads the last commit.

start live --store "sqlite:$DB"
LIVE_URL=$CAIRN_SERVER
start inspector2 --store "sqlite:$DB" --read-only
RO_URL=$CAIRN_SERVER
CAIRN_SERVER=$LIVE_URL expect_ok enqueue work --payload from-live
NEW=$OUT
CAIRN_SERVER=$RO_URL expect_ok get "$NEW" --json
pyjson 'assert d["payload"] == "from-live"' "a read beside a live cairnd"
CAIRN_SERVER=$RO_URL refused enqueue work --payload from-inspector
CAIRN_SERVER=$LIVE_URL expect_ok cancel "$T3"
CAIRN_SERVER=$RO_URL expect_ok get "$T3" --json
pyjson 'assert d["state"] == "canceled"' "the inspector sees the live commit"
for p in "${PIDS[@]}"; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
PIDS=()

# ---- refused copies --------------------------------------------------------------

"$CAIRND" --listen "tcp://127.0.0.1:$(free_port)" --read-only \
	--store "sqlite:$TMP/missing.db" >"$TMP/missing.log" 2>&1
[ $? -ne 0 ] || fail "a read-only cairnd started on a missing file"
[ ! -e "$TMP/missing.db" ] || fail "a read-only cairnd created the file"
contains "$(cat "$TMP/missing.log")" "cannot open store" "a missing file"

"$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("create table t (x)"); c.commit()' "$TMP/other.db"
BEFORE=$(sum "$TMP/other.db")
"$CAIRND" --listen "tcp://127.0.0.1:$(free_port)" --read-only \
	--store "sqlite:$TMP/other.db" >"$TMP/other.log" 2>&1
[ $? -ne 0 ] || fail "a read-only cairnd served a file that is no store"
contains "$(cat "$TMP/other.log")" "schema version 0" "not a Cairn store"
[ "$(sum "$TMP/other.db")" = "$BEFORE" ] || fail "the refused file changed"
ok

echo "readonly_test: $CHECKS checks passed"
