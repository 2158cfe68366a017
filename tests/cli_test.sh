#!/bin/bash
# cli_test.sh - end-to-end test of the `cairn` CLI against a real cairnd.
#
# Usage: cli_test.sh PATH/TO/cairnd PATH/TO/cairn
#
# Starts cairnd on a free loopback port with a fresh SQLite store, drives
# every command, checks the text and the --json output (parsed by Python),
# the exit statuses and the one-line error reports, and stops the server.
# Exits non-zero at the first failed check, saying which.
set -u

CAIRND=${1:?usage: cli_test.sh CAIRND CAIRN}
CAIRN=${2:?usage: cli_test.sh CAIRND CAIRN}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cli-test.XXXXXX")
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -CONT "$SERVER_PID" 2>/dev/null
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

CHECKS=0
fail() {
	echo "cli_test: FAIL: $*" >&2
	if [ -s "$TMP/err" ]; then
		echo "cli_test: stderr was: $(cat "$TMP/err")" >&2
	fi
	if [ -s "$TMP/cairnd.log" ]; then
		echo "cli_test: last lines of the server's log:" >&2
		tail -n 5 "$TMP/cairnd.log" >&2
	fi
	exit 1
}
ok() {
	CHECKS=$((CHECKS + 1))
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# run ARGS...: runs cairn; sets OUT (stdout), ERR (stderr) and RC.
run() {
	OUT=$("$CAIRN" "$@" 2>"$TMP/err")
	RC=$?
	ERR=$(cat "$TMP/err")
}

# expect_ok ARGS...: the command must exit 0 with nothing on stderr.
expect_ok() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "cairn $*: exit $RC, expected 0"
	[ -z "$ERR" ] || fail "cairn $*: unexpected stderr"
	ok
}

# expect_rc CODE ARGS...: the command must exit CODE, and when it fails,
# print exactly one line on stderr, starting with "cairn: ".
expect_rc() {
	local want=$1
	shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "cairn $*: exit $RC, expected $want"
	if [ "$want" -ne 0 ] && [ "$want" -le 2 ]; then
		[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] ||
			fail "cairn $*: stderr is not one line: $ERR"
		case $ERR in
		"cairn: "*) ;;
		*) fail "cairn $*: stderr does not start with 'cairn: ': $ERR" ;;
		esac
	fi
	ok
}

# contains TEXT NEEDLE WHAT
contains() {
	case $1 in
	*"$2"*) ok ;;
	*) fail "$3: expected '$2' in: $1" ;;
	esac
}

# pyjson 'PYTHON' WHAT: runs PYTHON with d = the JSON document in OUT.
pyjson() {
	printf '%s' "$OUT" | "$PY" -c "import json, sys
d = json.load(sys.stdin)
$1" || fail "$2: JSON check failed on: $OUT"
	ok
}

# lease_one QUEUE: leases one task of QUEUE (waiting for it to be due);
# sets ID and TOKEN.
lease_one() {
	expect_ok lease "$1" --wait 5s --json
	ID=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["task"]["id"])') ||
		fail "lease $1: no task in $OUT"
	TOKEN=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["lease_token"])')
}

# ---- start the server ------------------------------------------------------

PORT=$(free_port)
URL="tcp://127.0.0.1:$PORT"
"$CAIRND" --listen "$URL" --store "${CAIRN_TEST_STORE:-sqlite:$TMP/t.db}" >"$TMP/cairnd.log" 2>&1 &
SERVER_PID=$!
export CAIRN_SERVER=$URL
unset CAIRN_TOKEN

up=0
for _ in $(seq 1 100); do
	if "$CAIRN" ping >/dev/null 2>&1; then
		up=1
		break
	fi
	kill -0 "$SERVER_PID" 2>/dev/null || fail "cairnd exited at start"
	sleep 0.1
done
[ "$up" -eq 1 ] || fail "cairnd did not answer ping within 10 s"

# ---- ping, help, version -----------------------------------------------------

expect_ok ping
contains "$OUT" "version:" "ping"
contains "$OUT" "round_trip:" "ping"
expect_ok ping --json
pyjson 'assert isinstance(d["version"], str) and d["version"]
assert d["server_time_ms"] > 0 and d["round_trip_ms"] >= 0' "ping --json"
expect_ok --json ping
pyjson 'assert "version" in d' "--json before the command"

expect_ok --version
contains "$OUT" "cairn " "--version"
expect_ok --help
contains "$OUT" "Commands:" "--help"
for cmd in enqueue lease heartbeat complete fail cancel retry get list \
	stats await history ping; do
	expect_ok "$cmd" --help
	contains "$OUT" "Usage: cairn $cmd" "$cmd --help"
	expect_ok help "$cmd"
done

# ---- enqueue and get ---------------------------------------------------------

expect_ok enqueue emails --payload 'hello' --key welcome-1 --priority 5 \
	--max-attempts 3 --heartbeat-timeout 30s --retry-initial 250ms \
	--retry-multiplier 1.5 --retry-max 5m
ID1=$OUT
[[ "$ID1" =~ ^[0-9]+$ ]] || fail "enqueue printed '$ID1', not an id"
ok
expect_ok enqueue emails --payload 'other' --key welcome-1
[ "$OUT" = "$ID1 (existing)" ] || fail "second enqueue with a key: '$OUT'"
ok
expect_ok enqueue emails --payload 'other' --key welcome-1 --json
pyjson "assert d == {'id': $ID1, 'created': False}" "enqueue --json"

expect_ok get "$ID1"
contains "$OUT" "state:" "get"
contains "$OUT" "pending" "get"
contains "$OUT" "payload:           hello" "get"
contains "$OUT" "welcome-1" "get"
expect_ok get "$ID1" --json
pyjson "assert d['id'] == $ID1 and d['queue'] == 'emails'
assert d['state'] == 'pending' and d['payload'] == 'hello'
assert d['priority'] == 5 and d['max_attempts'] == 3
assert d['heartbeat_timeout_ms'] == 30000
assert d['retry'] == {'initial_backoff_ms': 250, 'multiplier': 1.5,
                      'max_backoff_ms': 300000}
assert d['idempotency_key'] == 'welcome-1' and d['attempt'] == 0
for f in ('run_at_ms', 'created_at_ms', 'updated_at_ms', 'finished_at_ms',
          'lease_deadline_ms', 'start_to_close_timeout_ms', 'details',
          'result', 'last_error', 'cancel_requested', 'worker_id'):
    assert f in d, f" "get --json"

# Bytes that are not UTF-8 come out as base64; payload from stdin.
printf '\377\376\000a' >"$TMP/bin"
run enqueue blobs - <"$TMP/bin"
[ "$RC" -eq 0 ] || fail "enqueue from stdin: exit $RC"
BIN=$OUT
expect_ok get "$BIN" --json
pyjson "assert 'payload' not in d and d['payload_base64'] == '//4AYQ=='" \
	"payload_base64"
expect_ok get "$BIN"
contains "$OUT" "base64" "get of a binary payload"
printf 'line one\nline "two"\n' >"$TMP/text"
expect_ok enqueue blobs --payload-file "$TMP/text"
expect_ok get "$OUT" --json
pyjson "assert d['payload'] == 'line one\\nline \"two\"\\n'" "--payload-file"

# ---- lease, heartbeat, complete ------------------------------------------------

expect_ok enqueue work --payload low --priority 1
LOW=$OUT
expect_ok enqueue work --payload high --priority 9
HIGH=$OUT
expect_ok lease work --worker tester --json
pyjson "assert isinstance(d, list) and len(d) == 1
t = d[0]
assert t['task']['id'] == $HIGH and t['task']['payload'] == 'high'
assert t['task']['state'] == 'active' and t['task']['attempt'] == 1
assert len(t['lease_token']) > 0 and t['deadline_ms'] > 0
assert t['task']['worker_id'] == 'tester'" "lease --json, priority order"
TOKEN=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["lease_token"])')

expect_ok heartbeat "$HIGH" --token "$TOKEN" --details 'half way'
contains "$OUT" "deadline: " "heartbeat"
expect_ok heartbeat "$HIGH" --token "$TOKEN" --json
pyjson "assert d['cancel_requested'] is False and d['deadline_ms'] > 0" \
	"heartbeat --json"
expect_ok complete "$HIGH" --token "$TOKEN" --result 'all done'
[ "$OUT" = "succeeded" ] || fail "complete printed '$OUT'"
ok
# Repeating a complete that took effect succeeds.
expect_ok complete "$HIGH" --token "$TOKEN" --result 'all done'
expect_ok get "$HIGH" --json
pyjson "assert d['state'] == 'succeeded' and d['result'] == 'all done'
assert d['details'] == 'half way' and d['finished_at_ms'] > 0" \
	"get after complete"
expect_ok await "$HIGH"
contains "$OUT" "succeeded" "await of a succeeded task"
expect_ok await "$HIGH" --json --wait 1s
pyjson "assert d['done'] is True and d['task']['state'] == 'succeeded'" \
	"await --json"

expect_ok history "$HIGH"
contains "$OUT" "enqueued" "history"
contains "$OUT" "leased" "history"
contains "$OUT" "completed" "history"
expect_ok history "$HIGH" --json
pyjson "kinds = [e['kind'] for e in d['events']]
assert kinds[0] == 'enqueued' and 'leased' in kinds and kinds[-1] == 'completed'
assert all(set(e) >= {'at_ms', 'kind', 'attempt', 'worker_id', 'message'}
           for e in d['events'])" "history --json"

# The readable lease form.
expect_ok lease work
contains "$OUT" "id:        $LOW" "lease"
contains "$OUT" "token:" "lease"
contains "$OUT" "deadline:" "lease"
contains "$OUT" "payload:   low" "lease"

# Nothing due: no output, exit 0; a long-poll waits, then answers [].
expect_ok lease empty
[ -z "$OUT" ] || fail "lease of an empty queue printed '$OUT'"
ok
t0=$(now_ms)
expect_ok lease empty --wait 500ms --json
elapsed=$(($(now_ms) - t0))
[ "$OUT" = "[]" ] || fail "lease --wait of an empty queue printed '$OUT'"
[ "$elapsed" -ge 400 ] || fail "lease --wait 500ms returned after $elapsed ms"
ok

# ---- fail, retry ---------------------------------------------------------------

expect_ok enqueue flaky --payload p --max-attempts 2
FLAKY=$OUT
lease_one flaky
expect_ok fail "$FLAKY" --token "$TOKEN" --error boom --retry-delay 10ms
contains "$OUT" "pending (next attempt at" "fail, retryable"
lease_one flaky
expect_ok fail "$FLAKY" --token "$TOKEN" --error 'boom again' --json
pyjson "assert d['state'] == 'failed'" "fail --json, attempts used up"
expect_ok get "$FLAKY" --json
pyjson "assert d['state'] == 'failed' and d['last_error'] == 'boom again'
assert d['attempt'] == 2" "get after fail"
expect_rc 3 await "$FLAKY"
expect_ok retry "$FLAKY" --json
pyjson "assert d['state'] == 'pending' and d['id'] == $FLAKY" "retry --json"
lease_one flaky
expect_ok fail "$FLAKY" --token "$TOKEN" --no-retry
[ "$OUT" = "failed" ] || fail "fail --no-retry printed '$OUT'"
ok
expect_ok retry "$FLAKY"
contains "$OUT" "pending" "retry"

# ---- cancel ----------------------------------------------------------------------

expect_ok enqueue doomed --payload p
DOOMED=$OUT
expect_ok cancel "$DOOMED"
[ "$OUT" = "canceled" ] || fail "cancel of a pending task printed '$OUT'"
ok
expect_rc 3 await "$DOOMED" --json
pyjson "assert d['done'] is True and d['task']['state'] == 'canceled'" \
	"await of a canceled task"
expect_ok enqueue doomed --payload q
lease_one doomed
expect_ok cancel "$ID" --json
pyjson "assert d == {'state': 'active'}" "cancel of an active task"
expect_ok heartbeat "$ID" --token "$TOKEN"
contains "$OUT" "cancel requested" "heartbeat after cancel"

# A task that does not finish in time: exit 4.
expect_ok enqueue later --payload p --delay 1h
t0=$(now_ms)
expect_rc 4 await "$OUT" --wait 300ms
elapsed=$(($(now_ms) - t0))
[ "$elapsed" -ge 250 ] || fail "await --wait 300ms returned after $elapsed ms"
ok

# ---- list and stats --------------------------------------------------------------

for i in 1 2 3; do
	expect_ok enqueue pages --payload "page $i"
done
expect_ok list pages
contains "$OUT" "ID" "list header"
contains "$OUT" "page 3" "list"
expect_ok list pages --limit 1
contains "$OUT" "(more: cairn list pages --after" "list with more pages"
expect_ok list pages --limit 1 --json
pyjson "assert len(d['tasks']) == 1 and d['next_after_id'] > 0" \
	"list --limit 1 --json"
expect_ok list pages --limit 1 --all --json
pyjson "assert [t['payload'] for t in d['tasks']] == ['page 1', 'page 2', 'page 3']
assert d['next_after_id'] == 0" "list --all"
expect_ok list pages --state succeeded --json
pyjson "assert d['tasks'] == []" "list --state"
expect_ok list work --state SUCCEEDED --json
pyjson "assert [t['id'] for t in d['tasks']] == [$HIGH]" "list --state"

expect_ok stats
contains "$OUT" "QUEUE" "stats header"
contains "$OUT" "pages" "stats"
expect_ok stats pages --json
pyjson "assert len(d['queues']) == 1
q = d['queues'][0]
assert q['queue'] == 'pages' and q['pending'] == 3 and q['active'] == 0
assert q['due'] == 3 and 'oldest_due_age_ms' in q" "stats QUEUE --json"
expect_ok stats --json
pyjson "names = {q['queue'] for q in d['queues']}
assert {'emails', 'work', 'pages', 'flaky'} <= names" "stats --json"

# ---- queue settings ---------------------------------------------------------------

expect_ok queue --help
contains "$OUT" "Usage: cairn queue" "queue --help"
expect_ok queue set --help
contains "$OUT" "--max-active" "queue set --help"
expect_ok queue set pages --max-active 2 --rate 100/1m --burst 10 \
	--max-attempts 4 --heartbeat-timeout 20s --retry-initial 2s
contains "$OUT" "max_active         2" "queue set"
contains "$OUT" "100/1m, burst 10" "queue set"
expect_ok queue set pages --pause --retry-max 10m --json
pyjson "assert d['paused'] and d['max_active'] == 2
assert d['rate'] == {'count': 100, 'interval_ms': 60000, 'burst': 10}
assert d['max_attempts'] == 4 and d['heartbeat_timeout_ms'] == 20000
assert d['retry']['initial_backoff_ms'] == 2000, d['retry']
assert d['retry']['max_backoff_ms'] == 600000" "queue set --json keeps the others"
expect_ok lease pages --json
pyjson "assert d == []" "a paused queue leases nothing"
expect_ok stats pages
contains "$OUT" "paused max_active=2 rate=100/1m burst=10" "stats shows the limits"
expect_ok stats pages --json
pyjson "assert d['queues'][0]['settings']['paused']" "stats --json shows the settings"
expect_ok queue set pages --resume --rate none --max-active 0
expect_ok queue show pages --json
pyjson "assert not d['paused'] and d['max_active'] == 0 and d['rate']['count'] == 0" "queue show --json"
expect_ok queue set future --pause --create
expect_ok queue list
contains "$OUT" "future" "queue list"
contains "$OUT" "paused" "queue list"
expect_ok queue list --json
pyjson "assert [q['queue'] for q in d['queues']] == ['future', 'pages']" "queue list --json"
expect_rc 1 queue set typo --pause
contains "$ERR" "NOT_FOUND" "queue set of a queue never seen"
expect_rc 1 queue show typo
expect_rc 2 queue set pages --max-active -1
expect_rc 2 queue set pages --rate 5
expect_rc 2 queue set pages --rate 0/s
expect_rc 2 queue set pages --rate 5/fortnight
expect_rc 2 queue set pages --burst 3
expect_rc 2 queue set pages --pause --resume
expect_rc 2 queue set pages
expect_rc 1 queue set pages --max-active 99999999
contains "$ERR" "INVALID_ARGUMENT: settings.max_active" "an absurd max_active"
expect_rc 1 queue set 'no spaces' --pause
contains "$ERR" "INVALID_ARGUMENT" "an invalid queue name"
expect_rc 2 queue frob
expect_ok queue show pages --json
pyjson "assert not d['paused'] and d['max_active'] == 0" "refused settings changed nothing"

# ---- failures: one line on stderr, exit 1 ------------------------------------------

expect_rc 1 get 999999
contains "$ERR" "cairn: NOT_FOUND: " "get of a missing task"
expect_rc 1 complete "$LOW" --token not-the-token
expect_rc 1 heartbeat 999999 --token x
contains "$ERR" "NOT_FOUND" "heartbeat of a missing task"
expect_rc 1 enqueue 'bad queue!' --payload x
contains "$ERR" "INVALID_ARGUMENT" "enqueue to an invalid queue name"
expect_rc 1 enqueue q --payload-file "$TMP/does-not-exist"

# ---- usage errors: one line on stderr, exit 2 --------------------------------------

expect_rc 2 get abc
expect_rc 2 get
expect_rc 2 get 1 2
expect_rc 2 enqueue
expect_rc 2 enqueue q --delay -5s
contains "$ERR" "--delay" "negative duration"
expect_rc 2 enqueue q --delay 5parsecs
contains "$ERR" "--delay" "malformed duration"
expect_rc 2 enqueue q --priority x
contains "$ERR" "--priority" "malformed number"
expect_rc 2 enqueue q --max-attempts -1
contains "$ERR" "--max-attempts" "negative number"
expect_rc 2 enqueue q --payload a --payload-file "$TMP/text"
expect_rc 2 lease
expect_rc 2 lease q --max
expect_rc 2 heartbeat 1
contains "$ERR" "--token" "missing --token"
expect_rc 2 list q --state bogus
expect_rc 2 list q --limit -3
expect_rc 2 await 1 --wait soon
expect_rc 2 frobnicate
expect_rc 2 get 1 --frobnicate
expect_rc 2 --timeout 0 ping
expect_rc 2 --timeout -1s ping
expect_rc 2

# ---- release, and leases bound to the connection ----------------------------------

expect_ok enqueue rel --payload bound --priority 1
expect_ok enqueue rel --payload r
# A lease bound to this command's connection ends soon after it exits
# (--disconnect-grace); without the flag, a later command finishes it.
expect_ok lease rel --release-on-disconnect --json
pyjson 'assert d[0]["task"]["attempt"] == 1' "lease --release-on-disconnect"
BOUND=$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["task"]["id"])')
lease_one rel
expect_ok release "$ID" --token "$TOKEN" --reason 'not now'
[ "$OUT" = "pending" ] || fail "release: printed '$OUT'"
expect_ok history "$ID" --json
pyjson 'assert [e["message"] for e in d["events"] if e["kind"] == "released"] == ["not now"]' "release: history"
expect_rc 1 release "$ID" --token 0123456789abcdef0123456789abcdef
contains "$ERR" "FAILED_PRECONDITION" "release with another token"
expect_rc 2 release "$ID"
# Released, it is due at once, its attempt uncounted.
lease_one rel
expect_ok get "$ID" --json
pyjson 'assert d["attempt"] == 1' "released task leased again"
expect_ok complete "$ID" --token "$TOKEN"
expect_ok lease rel --wait 30s --json
pyjson "assert d[0]['task']['id'] == $BOUND and d[0]['task']['attempt'] == 2" "bound lease released"
expect_ok history "$BOUND" --json
pyjson 'assert any(e["kind"] == "expired" and e["message"] == "worker disconnected" for e in d["events"])' "bound lease: history"

# ---- schedules ---------------------------------------------------------------------

expect_rc 1 schedule add bad --cron '61 * * * *' --queue sq --create-queue
contains "$ERR" "INVALID_ARGUMENT: minute" "schedule add: bad cron"
expect_rc 1 schedule add bad --cron '@daily' --tz Nowhere/City --queue sq --create-queue
contains "$ERR" "unknown zone" "schedule add: bad zone"
expect_rc 1 schedule add bad --cron '@daily' --queue never-seen
contains "$ERR" "unknown queue 'never-seen'" "schedule add: unknown queue"
expect_rc 2 schedule add bad --cron '@daily' --queue sq --missed sometimes
expect_rc 2 schedule add bad --queue sq
expect_ok schedule add nightly --cron '30 2 * * *' --tz Europe/Paris --queue sq --create-queue --payload n --missed skip --json
pyjson 'assert d["name"] == "nightly" and d["time_zone"] == "Europe/Paris" and d["missed"] == "skip" and d["next_fire_at_ms"] > 0' "schedule add"
expect_rc 1 schedule add nightly --cron '@daily' --queue sq --create-queue
contains "$ERR" "ALREADY_EXISTS" "schedule add twice"
expect_ok schedule pause nightly --json
pyjson 'assert d["paused"]' "schedule pause"
expect_ok schedule list --json
pyjson 'assert [s["name"] for s in d] == ["nightly"] and d[0]["paused"]' "schedule list"
expect_ok schedule resume nightly
expect_ok schedule delete nightly
expect_rc 1 schedule delete nightly
contains "$ERR" "NOT_FOUND" "schedule delete twice"
expect_rc 2 schedule frobnicate

# ---- no server -------------------------------------------------------------------

DEAD="tcp://127.0.0.1:$(free_port)"
t0=$(now_ms)
expect_rc 1 --server "$DEAD" ping
elapsed=$(($(now_ms) - t0))
contains "$ERR" "UNAVAILABLE" "ping with no server"
contains "$ERR" "$DEAD" "ping with no server"
[ "$elapsed" -lt 3000 ] || fail "no server: took $elapsed ms to say so"
ok

# A server that accepts connections but does not answer (stopped): the
# CLI gives up at its timeout instead of hanging.
kill -STOP "$SERVER_PID"
t0=$(now_ms)
expect_rc 1 --timeout 500ms ping
elapsed=$(($(now_ms) - t0))
kill -CONT "$SERVER_PID"
[ "$elapsed" -lt 3000 ] || fail "stopped server: took $elapsed ms"
ok
expect_ok ping

# ---- done --------------------------------------------------------------------------

kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
echo "cli_test: $CHECKS passed, 0 failed"
