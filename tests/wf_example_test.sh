#!/bin/bash
# wf_example_test.sh - runs client/examples/order_workflow against a real
# cairnd, as its README shows, and checks what it prints.
#
# Usage: wf_example_test.sh PATH/TO/cairnd PATH/TO/order_workflow
set -u

CAIRND=${1:?usage: wf_example_test.sh CAIRND ORDER_WORKFLOW}
EXAMPLE=${2:?usage: wf_example_test.sh CAIRND ORDER_WORKFLOW}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-wf-example.XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "wf_example_test: FAIL: $*" >&2
	exit 1
}

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="tcp://127.0.0.1:$PORT"
"$CAIRND" --listen "$URL" --store "sqlite:$TMP/t.db" >"$TMP/cairnd.log" 2>&1 &
SERVER_PID=$!
sleep 0.3

OUT=$(timeout 60 "$EXAMPLE" --server "$URL" book-42 2>"$TMP/err") ||
	fail "exit $?: $(cat "$TMP/err")"
case $OUT in
*"succeeded: reserve done for book-42, charge done for book-42, ship done for book-42"*) ;;
*) fail "unexpected output: $OUT" ;;
esac
# Again: the same workflow id gives the same run, already finished.
OUT=$(timeout 60 "$EXAMPLE" --server "$URL" book-42 2>"$TMP/err") ||
	fail "second run: exit $?: $(cat "$TMP/err")"
case $OUT in
*"started before"*"succeeded"*) ;;
*) fail "second run: unexpected output: $OUT" ;;
esac
echo "wf_example_test: passed"
