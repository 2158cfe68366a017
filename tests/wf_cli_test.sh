#!/bin/bash
# wf_cli_test.sh - end-to-end test of `cairn workflow ...` against a real
# cairnd, with a C workflow worker (wf_test_worker) and `cairn work` as
# the task workers of the activities.
#
# Usage: wf_cli_test.sh PATH/TO/cairnd PATH/TO/cairn PATH/TO/wf_test_worker
#
# Checks the text and --json output (parsed by Python), the exit statuses
# and the one-line error reports of every subcommand. Exits non-zero at
# the first failed check, saying which.
set -u

CAIRND=${1:?usage: wf_cli_test.sh CAIRND CAIRN WF_TEST_WORKER}
CAIRN=${2:?usage: wf_cli_test.sh CAIRND CAIRN WF_TEST_WORKER}
WORKER=${3:?usage: wf_cli_test.sh CAIRND CAIRN WF_TEST_WORKER}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-wf-cli-test.XXXXXX")
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
	echo "wf_cli_test: FAIL: $*" >&2
	[ -s "$TMP/err" ] && echo "wf_cli_test: stderr was: $(cat "$TMP/err")" >&2
	for f in cairnd worker tasks; do
		if [ -s "$TMP/$f.log" ]; then
			echo "wf_cli_test: last lines of $f's log:" >&2
			tail -n 5 "$TMP/$f.log" >&2
		fi
	done
	exit 1
}
ok() {
	CHECKS=$((CHECKS + 1))
}

run() {
	OUT=$("$CAIRN" "$@" 2>"$TMP/err")
	RC=$?
	ERR=$(cat "$TMP/err")
}

expect_ok() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "cairn $*: exit $RC, expected 0"
	[ -z "$ERR" ] || fail "cairn $*: unexpected stderr"
	ok
}

# expect_rc CODE ARGS...: exit CODE; a failure prints one line on stderr
# that starts with "cairn: ".
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

# ---- usage errors: no server needed --------------------------------------

expect_rc 2 workflow
contains "$ERR" "missing SUBCOMMAND" "workflow"
expect_rc 2 workflow frobnicate
contains "$ERR" "unknown subcommand 'frobnicate'" "workflow frobnicate"
expect_ok workflow --help
contains "$OUT" "Subcommands:" "workflow --help"
for sub in start signal cancel terminate get list history await; do
	expect_ok workflow "$sub" --help
	contains "$OUT" "Usage: cairn workflow $sub" "workflow $sub --help"
done
expect_rc 2 workflow start
contains "$ERR" "workflow start: missing TYPE" "start without a type"
expect_rc 2 workflow start order --input a --input-file /dev/null
expect_rc 2 workflow get 0
expect_rc 2 workflow get
expect_rc 2 workflow signal 5
contains "$ERR" "missing RUN and NAME" "signal without a name"
expect_rc 2 workflow list --state pending
contains "$ERR" "unknown state 'pending'" "list --state pending"
expect_rc 2 workflow await 5 --wait soon

# ---- the server, the workflow worker, the task workers ----------------------

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="tcp://127.0.0.1:$PORT"
"$CAIRND" --listen "$URL" --store "sqlite:$TMP/t.db" >"$TMP/cairnd.log" 2>&1 &
PIDS+=($!)
export CAIRN_SERVER=$URL
unset CAIRN_TOKEN
up=0
for _ in $(seq 1 100); do
	if "$CAIRN" ping >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
[ "$up" -eq 1 ] || fail "cairnd did not answer ping within 10 s"

expect_rc 1 workflow get 424242
contains "$ERR" "cairn: NOT_FOUND: " "get an unknown run"
expect_rc 1 workflow start 'bad type!'
contains "$ERR" "INVALID_ARGUMENT" "start with a bad type"

# A run started before any worker: it waits, and await --wait says so.
expect_ok workflow start order --id cli-1 --input o1
contains "$OUT" " cli-1" "start"
RUN1=${OUT%% *}
expect_ok workflow start order --id cli-1 --input other
[ "$OUT" = "$RUN1 cli-1 (existing)" ] || fail "start again: $OUT"
ok
expect_rc 4 workflow await cli-1 --wait 200ms
contains "$OUT" "running" "await before the workers"

# A signal sent before the run waits for it is kept: with no workflow
# worker running yet, the run cannot be waiting.
expect_ok workflow start inbox --id cli-inbox
expect_ok workflow signal cli-inbox go --payload hi
contains "$OUT" "kept in the inbox" "signal before the wait"

"$WORKER" "$URL" --timer 200 --step-log "$TMP/steps.log" >"$TMP/worker.log" 2>&1 &
PIDS+=($!)
"$CAIRN" work reserve,charge,ship --wait 500ms -- cat >"$TMP/tasks.log" 2>&1 &
PIDS+=($!)

expect_ok workflow await "$RUN1" --wait 30s
contains "$OUT" "succeeded" "await"
contains "$OUT" "o1|o1|receipt:o1|o1" "await's result"
expect_ok workflow await cli-1 --json
pyjson 'assert d["done"] is True
r = d["run"]
assert r["state"] == "succeeded" and r["workflow_id"] == "cli-1"
assert r["result"] == "o1|o1|receipt:o1|o1"
assert r["log_length"] == 5 and r["stuck"] is False' "await --json"

expect_ok workflow get "$RUN1"
contains "$OUT" "workflow_id:       cli-1" "get"
contains "$OUT" "type:              order" "get"
expect_ok workflow get cli-1 --json
pyjson "assert d['run_id'] == $RUN1 and d['input'] == 'o1'" "get --json"

expect_ok workflow history cli-1
contains "$OUT" "SEQ" "history's header"
contains "$OUT" "activity  reserve" "history"
contains "$OUT" "step      receipt" "history"
contains "$OUT" "timer" "history"
contains "$OUT" "completed" "history"
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 7 ] || fail "history: 7 lines expected: $OUT"
ok
expect_ok workflow history "$RUN1" --json
pyjson 'e = d["entries"]
assert [x["kind"] for x in e] == ["activity", "activity", "step", "timer", "activity"]
assert [x["seq"] for x in e] == [1, 2, 3, 4, 5]
assert all(x["status"] == "completed" for x in e)
assert e[0]["attempts"] == 1 and e[0]["queue"] == "reserve" and e[0]["task_id"] > 0
assert e[0]["input"] == "o1" and e[2]["result"] == "receipt:o1"
assert d["run"]["state"] == "succeeded"' "history --json"

# Signals: the one sent before the wait was delivered.
expect_ok workflow await cli-inbox --wait 30s --json
pyjson 'assert d["run"]["result"] == "hi"' "the signal's payload"
echo -n from-stdin >"$TMP/payload"
expect_rc 1 workflow signal cli-inbox go - <"$TMP/payload"
contains "$ERR" "FAILED_PRECONDITION" "signal a finished run"

# Cancel and terminate a run that waits for a signal.
expect_ok workflow start approval --id cli-appr --input a
for _ in $(seq 1 100); do
	run workflow history cli-appr --json
	case $OUT in *'"approve"'*) break ;; esac
	sleep 0.1
done
expect_ok workflow cancel cli-appr --reason "not needed" --json
pyjson 'assert d["state"] == "running"' "cancel --json"
expect_rc 3 workflow await cli-appr --wait 30s
contains "$OUT" "canceled" "a canceled approval ends canceled"
contains "$OUT" "approval canceled" "the run's error"
expect_ok workflow start approval --id cli-term --input t
expect_ok workflow terminate cli-term --reason "stop it"
contains "$OUT" "terminated" "terminate"
expect_rc 3 workflow await cli-term --wait 5s --json
pyjson 'assert d["run"]["state"] == "terminated" and d["run"]["error"] == "stop it"' "await a terminated run"

# list: filters and pages.
expect_ok workflow list --type order
contains "$OUT" "cli-1" "list --type"
expect_ok workflow list --state succeeded --json
pyjson 'ids = [r["workflow_id"] for r in d["runs"]]
assert "cli-1" in ids and "cli-inbox" in ids and "cli-term" not in ids
assert d["next_after_run_id"] == 0' "list --state succeeded"
expect_ok workflow list --limit 1 --json
pyjson 'assert len(d["runs"]) == 1 and d["next_after_run_id"] > 0' "list --limit 1"
expect_ok workflow list --limit 1 --all --json
pyjson 'assert len(d["runs"]) >= 4 and d["next_after_run_id"] == 0' "list --all"
expect_ok workflow list --stuck --json
pyjson 'assert d["runs"] == []' "list --stuck"

# A workflow id made of digits is named with --workflow-id.
expect_ok workflow start child --id 777 --input n
expect_ok workflow await --workflow-id 777 --wait 30s
contains "$OUT" "child:n" "await --workflow-id"

echo "wf_cli_test: $CHECKS passed, 0 failed"
