#!/usr/bin/env bash
# The operator's commands through the real binaries: cairnd started from a
# config file, its start-up log, `cairn work` (results, failures, a cancel
# and a lost lease that kill the command, concurrency, SIGTERM once and
# twice), `cairn backup`, promtool on /metrics, --check-config with the
# order file < environment < flags, and JSON logs without payloads or
# tokens.
# usage: ops_cli_test.sh CAIRND CAIRN
set -euo pipefail
cairnd=$1
cairn=$2
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail() {
	echo "ops_cli_test: FAIL: $*" >&2
	[ -f "$tmp/cairnd.log" ] && tail -20 "$tmp/cairnd.log" >&2
	exit 1
}
ok() { echo "ops_cli_test: ok: $*"; pass=$((pass + 1)); }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
field() { # ID FIELD: a field of the task's --json
	C get "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}
wait_state() { # ID STATE SECONDS
	for _ in $(seq $(($3 * 10))); do
		[ "$(field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	fail "task $1 is $(field "$1" state), not $2, after $3 s"
}
wait_file() { # FILE SECONDS
	for _ in $(seq $(($2 * 10))); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	fail "$1 did not appear in $2 s"
}
dead_within() { # PID SECONDS
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "process $1 is still alive after $2 s"
}

# ---- cairnd from a config file ----------------------------------------
port=$(free_port)
hport=$(free_port)
url=tcp://127.0.0.1:$port
mkdir -p "$tmp/backups"
cat >"$tmp/cairnd.conf" <<EOF
# a comment, then every kind of value
listen = $url
store = "sqlite:$tmp/cairn.db"
http = 127.0.0.1:$hport
backup_dir = $tmp/backups
retention = 2d
max-batch = 500
EOF
"$cairnd" --config "$tmp/cairnd.conf" 2>"$tmp/cairnd.log" &
pids+=($!)
# (Background jobs run the binary itself: $! must be its pid.)
C() { "$cairn" --server "$url" "$@"; }
for _ in $(seq 100); do C ping >/dev/null 2>&1 && break; sleep 0.1; done
C ping >/dev/null || fail "cairnd did not start from its config file"
grep -q "cairnd [0-9.]* serving; store sqlite:$tmp/cairn.db; durability full" "$tmp/cairnd.log" ||
	fail "start-up line: $(head -3 "$tmp/cairnd.log")"
grep -q "listening on $url" "$tmp/cairnd.log" || fail "no listen address in the log"
grep -q "HTTP on http://127.0.0.1:$hport" "$tmp/cairnd.log" || fail "no HTTP address in the log"
ok "started from --config; start-up log"

# ---- cairn work: results and failures ---------------------------------
a=$(C enqueue w --payload hello)
b=$(C enqueue w --payload bad --max-attempts 1)
C work w --max-tasks 2 --wait 1s -- sh -c '
	p=$(cat)
	if [ "$p" = bad ]; then echo "first line" >&2; echo "it broke" >&2; exit 7; fi
	printf "%s|%s|%s|%s" "$p" "$CAIRN_TASK_ID" "$CAIRN_ATTEMPT" "$CAIRN_QUEUE"' \
	2>"$tmp/work.log" || fail "cairn work exited $?"
[ "$(field "$a" state)" = succeeded ] || fail "task $a: $(field "$a" state)"
[ "$(field "$a" result)" = "hello|$a|1|w" ] || fail "result: $(field "$a" result)"
[ "$(field "$b" state)" = failed ] || fail "task $b: $(field "$b" state)"
err=$(field "$b" last_error)
[[ "$err" == "exit status 7: first line"*"it broke"* ]] || fail "last_error: $err"
ok "work: stdout is the result, exit 7 and stderr's tail the error"

# ---- a cancel kills the command ----------------------------------------
c=$(C enqueue wc --payload x)
"$cairn" --server "$url" work wc --heartbeat 200ms --kill-after 2s --wait 1s -- \
	sh -c "echo \$\$ > $tmp/pid.c; exec sleep 30" 2>>"$tmp/work.log" &
w=$!
pids+=($w)
wait_file "$tmp/pid.c" 10
C cancel "$c" >/dev/null
dead_within "$(cat "$tmp/pid.c")" 5
wait_state "$c" canceled 5
kill -TERM $w
wait $w || fail "cairn work did not exit 0 after SIGTERM"
ok "work: cancel kills the command, the task ends canceled"

# ---- a lost lease kills the command ------------------------------------
l=$(C enqueue wl --payload x --start-to-close 1s --max-attempts 1)
timeout 20 "$cairn" --server "$url" work wl --max-tasks 1 --heartbeat 200ms --wait 1s -- \
	sh -c "echo \$\$ > $tmp/pid.l; exec sleep 30" 2>>"$tmp/work.log" ||
	fail "cairn work did not end after its lease was lost"
dead_within "$(cat "$tmp/pid.l")" 5
[ "$(field "$l" state)" = failed ] || fail "task $l: $(field "$l" state)"
C history "$l" | grep -q expired || fail "no expiry in the history of $l"
ok "work: a lost lease (start-to-close) kills the command"

# ---- concurrency -------------------------------------------------------
for i in 1 2 3 4; do C enqueue wcc --payload "$i" >/dev/null; done
start=$(date +%s%N)
C work wcc --concurrency 4 --max-tasks 4 --wait 1s -- sleep 1 2>>"$tmp/work.log"
ms=$((($(date +%s%N) - start) / 1000000))
[ $ms -lt 3000 ] || fail "4 commands of 1 s with --concurrency 4 took $ms ms"
[ "$(C stats wcc --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queues"][0]["succeeded"])')" = 4 ] ||
	fail "not all 4 tasks succeeded"
ok "work: --concurrency 4 runs 4 commands at once ($ms ms)"

# ---- SIGTERM: finish what it holds; twice: give it back -----------------
s=$(C enqueue ws --payload x)
"$cairn" --server "$url" work ws --wait 1s -- sh -c "echo \$\$ > $tmp/pid.s; sleep 1; echo done" 2>>"$tmp/work.log" &
w=$!
pids+=($w)
wait_file "$tmp/pid.s" 10
kill -TERM $w
wait $w || fail "cairn work did not exit 0 after one SIGTERM"
[ "$(field "$s" state)" = succeeded ] || fail "task $s: $(field "$s" state)"
[ "$(field "$s" result)" = done ] || fail "task $s result: $(field "$s" result)"
d=$(C enqueue wd --payload x)
"$cairn" --server "$url" work wd --wait 1s -- sh -c "echo \$\$ > $tmp/pid.d; exec sleep 30" 2>>"$tmp/work.log" &
w=$!
pids+=($w)
wait_file "$tmp/pid.d" 10
kill -TERM $w
sleep 0.3
kill -INT $w
timeout 10 tail --pid=$w -f /dev/null || fail "cairn work did not stop after two signals"
wait $w || fail "cairn work did not exit 0 after two signals"
dead_within "$(cat "$tmp/pid.d")" 2
[ "$(field "$d" state)" = pending ] || fail "task $d: $(field "$d" state)"
[ "$(field "$d" last_error)" = "worker stopped; task given back" ] ||
	fail "task $d: $(field "$d" last_error)"
ok "work: SIGTERM finishes the task; a second signal gives it back"

# ---- backup ------------------------------------------------------------
out=$(C backup cli.db)
[ "$out" = "$tmp/backups/cli.db ($(stat -c %s "$tmp/backups/cli.db") bytes, integrity ok)" ] ||
	fail "backup printed: $out"
[ "$(sqlite3 "$tmp/backups/cli.db" 'PRAGMA integrity_check')" = ok ] || fail "copy not ok"
[ "$(sqlite3 "$tmp/backups/cli.db" "SELECT count(*) FROM tasks")" -ge 9 ] || fail "copy lacks tasks"
if C backup cli.db 2>"$tmp/err"; then fail "a second backup replaced the first"; fi
grep -q ALREADY_EXISTS "$tmp/err" || fail "$(cat "$tmp/err")"
ok "backup, refused over an existing file"

# ---- /metrics through promtool, /healthz, /readyz ------------------------
curl -fsS "http://127.0.0.1:$hport/metrics" >"$tmp/metrics"
promtool check metrics <"$tmp/metrics" || fail "promtool check metrics"
grep -q '^cairn_requests_total{method="Lease",code="OK"} [1-9]' "$tmp/metrics" || fail "no leases counted"
[ "$(curl -fsS "http://127.0.0.1:$hport/healthz")" = ok ] || fail "/healthz"
[ "$(curl -fsS "http://127.0.0.1:$hport/readyz")" = ready ] || fail "/readyz"
ok "promtool check metrics; /healthz; /readyz"

# ---- --check-config: file < environment < flags, secrets masked ---------
out=$("$cairnd" --config "$tmp/cairnd.conf" --check-config 2>/dev/null) || fail "check-config: $?"
grep -qx "max-batch = 500" <<<"$out" || fail "file value not shown: $out"
grep -qx "retention = 2d" <<<"$out" || fail "duration not shown as 2d"
grep -qx "max-payload = 1MiB" <<<"$out" || fail "default not shown"
out=$(CAIRN_MAX_BATCH=600 "$cairnd" --config "$tmp/cairnd.conf" --check-config 2>/dev/null)
grep -qx "max-batch = 600" <<<"$out" || fail "environment does not override the file"
out=$(CAIRN_MAX_BATCH=600 "$cairnd" --config "$tmp/cairnd.conf" --max-batch 700 --check-config 2>/dev/null)
grep -qx "max-batch = 700" <<<"$out" || fail "flag does not override the environment"
out=$("$cairnd" --store 'postgres://cairn:s3cret@db:5432/cairn?password=s3cret' --check-config 2>&1 || true)
if grep -q s3cret <<<"$out"; then fail "check-config printed a password: $out"; fi
grep -q 'postgres://cairn:\*\*\*@db:5432' <<<"$out" || fail "store not masked: $out"
printf 'listen = %s\nlog-level = loud\n' "$url" >"$tmp/bad.conf"
rc=0; "$cairnd" --config "$tmp/bad.conf" --check-config >/dev/null 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] && grep -q "log-level" "$tmp/err" || fail "bad level: rc $rc, $(cat "$tmp/err")"
printf '# x\nno-such-option = 1\n' >"$tmp/bad.conf"
rc=0; "$cairnd" --config "$tmp/bad.conf" --check-config >/dev/null 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] && grep -q "bad.conf:2: unknown option 'no-such-option'" "$tmp/err" ||
	fail "unknown key: rc $rc, $(cat "$tmp/err")"
rc=0; "$cairnd" --config "$tmp/none.conf" --check-config >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "a missing config file gave $rc"
ok "--check-config: order, defaults, masking, exit 2 on bad files"

# ---- JSON logs at debug level: requests, but no payloads or tokens -------
port2=$(free_port)
echo "TOKEN-SECRET-1" >"$tmp/tokens"
"$cairnd" --listen "tcp://127.0.0.1:$port2" --store "sqlite:$tmp/j.db" \
	--log-format json --log-level debug --token-file "$tmp/tokens" 2>"$tmp/json.log" &
j=$!
pids+=($j)
J() { "$cairn" --server "tcp://127.0.0.1:$port2" --token TOKEN-SECRET-1 "$@"; }
for _ in $(seq 100); do J ping >/dev/null 2>&1 && break; sleep 0.1; done
J enqueue jq --payload PAYLOAD-SECRET-2 >/dev/null || fail "enqueue with a token"
J lease jq >/dev/null
kill -TERM $j
wait $j || fail "cairnd (json) did not exit 0"
python3 - "$tmp/json.log" <<'EOF' || fail "JSON log: $(head -5 "$tmp/json.log")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines]  # every line is one JSON object
assert all(set(r) == {"time", "level", "msg"} for r in recs)
msgs = [r["msg"] for r in recs]
assert any(m.startswith("cairnd ") and "durability full" in m for m in msgs), msgs
assert any(m.startswith("request Enqueue: OK in ") for m in msgs), msgs
assert any(m.startswith("request Lease: OK in ") for m in msgs), msgs
text = open(sys.argv[1]).read()
assert "PAYLOAD-SECRET" not in text and "TOKEN-SECRET" not in text
EOF
ok "JSON logs: one object per line, requests at debug, no payload or token"

kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "cairnd did not exit 0 on SIGTERM"
echo "ops_cli_test: $pass passed, 0 failed"
