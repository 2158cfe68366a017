#!/bin/bash
# migrate_test.sh - `cairnd migrate` from SQLite to PostgreSQL and back,
# with work in flight.
#
# Usage: migrate_test.sh CAIRND CAIRN WF_TEST_WORKER
#        (CAIRN_TEST_STORE: the PostgreSQL database, as
#        scripts/pg-test-cluster.sh exec sets it)
#
# A store on SQLite holds tasks in every state, leases that workers hold
# (with long deadlines), a task waiting for its retry, a delayed one, a
# workflow run waiting on its timer and one waiting for a signal, queue
# settings and a cron schedule. Its cairnd is killed (its last commit in
# the WAL alone), the store moves into an empty PostgreSQL schema (the
# source's bytes unchanged), and a
# cairnd on PostgreSQL carries on: the workers complete their tasks with
# their old tokens, the ids go on from where they were, an idempotency key
# still finds its task, the timer fires and the signal is taken. Then the
# same store moves back into a new SQLite file, with a lease and a waiting
# run taken on PostgreSQL, and carries on there. On the way: every refusal
# (a target that holds data, a store that a cairnd has open, an unknown
# scheme, bad usage), the report's digests equal both ways round, and a
# read-only cairnd on the PostgreSQL schema. Exits non-zero at the first
# failed check, saying which.
set -u

CAIRND=${1:?usage: migrate_test.sh CAIRND CAIRN WF_TEST_WORKER}
CAIRN=${2:?usage: migrate_test.sh CAIRND CAIRN WF_TEST_WORKER}
WORKER=${3:?usage: migrate_test.sh CAIRND CAIRN WF_TEST_WORKER}
PGURI=${CAIRN_TEST_STORE:?CAIRN_TEST_STORE: a postgres:// URI}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-migrate-test.XXXXXX")
PIDS=()
cleanup() {
	stop_all
	rm -rf "$TMP"
}
trap cleanup EXIT

CHECKS=0
fail() {
	echo "migrate_test: FAIL: $*" >&2
	[ -s "$TMP/err" ] && echo "migrate_test: stderr was: $(cat "$TMP/err")" >&2
	for f in "$TMP"/*.log; do
		[ -s "$f" ] || continue
		echo "migrate_test: last lines of $(basename "$f"):" >&2
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
jget() { # EXPR: prints EXPR of the JSON in OUT
	printf '%s' "$OUT" | "$PY" -c "import json, sys; d = json.load(sys.stdin); print($1)"
}
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$PGURI" -c "$1" >/dev/null 2>&1; }

# migrate ARGS...: runs cairnd migrate; sets OUT, ERR and RC.
migrate() {
	OUT=$("$CAIRND" migrate "$@" 2>"$TMP/err")
	RC=$?
	ERR=$(cat "$TMP/err")
}
# refused WHAT ARGS...: cairnd migrate exits 1 with one line that says
# WHAT.
refused() {
	local what=$1
	shift
	migrate "$@"
	[ "$RC" -eq 1 ] || fail "migrate $*: exit $RC, expected 1 ($OUT)"
	[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "migrate $*: not one line: $ERR"
	contains "$ERR" "$what" "migrate $*"
}

# start NAME ARGS...: cairnd on a free port (PID in LAST, URL in
# CAIRN_SERVER), answering.
start() {
	local name=$1 port
	shift
	port=$(free_port)
	"$CAIRND" --listen "tcp://127.0.0.1:$port" "$@" >"$TMP/$name.log" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
	export CAIRN_SERVER="tcp://127.0.0.1:$port"
	for _ in $(seq 1 100); do
		"$CAIRN" ping >/dev/null 2>&1 && return
		kill -0 "$LAST" 2>/dev/null || fail "$name exited"
		sleep 0.1
	done
	fail "$name did not answer ping within 10 s"
}
# stop_all: SIGTERM to every process started, the last started first:
# the workers end their long-polls before their cairnd stops.
stop_all() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill "${PIDS[$i]}" 2>/dev/null
		wait "${PIDS[$i]}" 2>/dev/null
	done
	PIDS=()
}
# workers: the workflow worker (order's timer: TIMER ms) and the task
# workers of the activities, on CAIRN_SERVER.
workers() {
	"$WORKER" "$CAIRN_SERVER" --timer "$1" >>"$TMP/worker.log" 2>&1 &
	PIDS+=($!)
	"$CAIRN" work reserve,charge,ship --wait 500ms -- cat >>"$TMP/tasks.log" 2>&1 &
	PIDS+=($!)
}
# wait_pending RUN KIND: until RUN's history has a pending entry of KIND.
wait_pending() {
	for _ in $(seq 1 300); do
		run workflow history "$1" --json
		if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | "$PY" -c "import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(e['kind'] == '$2' and e['status'] == 'pending' for e in d['entries']) else 1)"; then
			ok
			return
		fi
		sleep 0.1
	done
	fail "run $1 never waited on a $2: $OUT"
}
unset CAIRN_TOKEN
for s in mig_a mig_b mig_in_use mig_foreign; do
	psql_q "DROP SCHEMA IF EXISTS $s CASCADE" || fail "psql: cannot reach $PGURI"
done

# ---- usage and schemes ---------------------------------------------------------

migrate --help
[ "$RC" -eq 0 ] || fail "migrate --help: exit $RC"
contains "$OUT" "Usage: cairnd migrate --from URI --to URI" "migrate --help"
migrate --from sqlite:x.db
[ "$RC" -eq 2 ] || fail "migrate without --to: exit $RC, expected 2"
contains "$ERR" "--from and --to are required" "migrate without --to"
run migrate --from "sqlite:$TMP/x.db" --to "$PGURI"
[ "$RC" -eq 2 ] || fail "cairn migrate: exit $RC, expected 2"
contains "$ERR" "cairnd migrate --from URI --to URI" "cairn migrate"
refused "unknown store scheme in 'mysql://h/db'" --from mysql://h/db --to sqlite:"$TMP/x.db"
refused "unknown store scheme in 'file:$TMP/x.db'" --from "$PGURI" --to "file:$TMP/x.db"
refused "source sqlite:$TMP/missing.db" --from "sqlite:$TMP/missing.db" --to "$PGURI" --to-schema mig_a
[ ! -e "$TMP/missing.db" ] || fail "migrate created its missing source"
ok

# ---- a store on SQLite with work in flight ---------------------------------------

DB="$TMP/first.db"
start sqlite --store "sqlite:$DB"
expect_ok enqueue work --payload a
A=$OUT
expect_ok enqueue work --payload b
expect_ok enqueue work --payload "c	with a tab and a \\ backslash" --key key-c
C=$OUT
expect_ok enqueue work --payload d
expect_ok enqueue later --payload l --delay 1h
LATER=$OUT
expect_ok enqueue flaky --payload f --max-attempts 5
FLAKY=$OUT
# Queue settings: a limit, a fractional default, a paused queue.
expect_ok queue set work --max-active 50 --retry-multiplier 1.5
expect_ok queue set held --create --pause --rate 10/1m
expect_ok queue list --json
BEFORE_QUEUES=$OUT
# A cron schedule, whose next tick must not move.
expect_ok schedule add nightly --cron '0 3 * * *' --tz Europe/Paris --queue work --payload n
expect_ok schedule list --json
BEFORE_SCHEDULES=$OUT
expect_ok lease work --max 2 --lease-time 10m --worker w1 --json
L1=$(jget 'd[0]["task"]["id"]')
T1=$(jget 'd[0]["lease_token"]')
L2=$(jget 'd[1]["task"]["id"]')
T2=$(jget 'd[1]["lease_token"]')
expect_ok lease flaky --json
TF=$(jget 'd[0]["lease_token"]')
expect_ok fail "$FLAKY" --token "$TF" --error boom --retry-delay 1h
expect_ok lease work --json
L3=$(jget 'd[0]["task"]["id"]')
T3=$(jget 'd[0]["lease_token"]')
expect_ok complete "$L3" --token "$T3" --result r3

# order's timer: 8 s, so that it is pending when it moves (were it not, it
# would have fired before, and its run go on the same)
workers 8000
expect_ok workflow start order --id move-order --input o1
expect_ok workflow start approval --id move-appr --input a1
wait_pending move-order timer
wait_pending move-appr signal
# A signal that no wait has taken stays in the run's inbox.
expect_ok workflow signal move-order extra --payload kept
contains "$OUT" "kept in the inbox" "a signal for later"
stop_all

# The same store, by task: what must come through.
start sqlite-again --store "sqlite:$DB"
expect_ok enqueue crash --payload last-before-the-crash
CRASH=$OUT
expect_ok list work --all --limit 100 --json
BEFORE_WORK=$OUT
expect_ok workflow history move-order --json
# The log, without the timer's status: it fires at fire_at_ms, wherever
# the run is by then.
ORDER_LOG='[(e["seq"], e["kind"], e["name"], e["input"], e["fire_at_ms"], e["result"], e["kind"] == "timer" or e["status"]) for e in d["entries"]]'
BEFORE_ORDER=$(jget "$ORDER_LOG")
printf '%s' "$OUT" | "$PY" -c 'import json, sys
e = json.load(sys.stdin)["entries"][-1]
assert e["kind"] == "timer" and e["fire_at_ms"] > 0' || fail "no timer in the log: $OUT"
ok
# A store that a cairnd has open is refused, and nothing is written.
refused "is open in another process" --from "sqlite:$DB" --to "$PGURI" --to-schema mig_in_use
psql_q "SELECT 1 FROM mig_in_use.tasks" && fail "a refused migration made the target's schema"
ok
# It stops as in a crash: its last commit is in the WAL alone, which the
# copy reads without checkpointing it.
kill -9 "$LAST"
wait "$LAST" 2>/dev/null
stop_all
[ -s "$DB-wal" ] || fail "no WAL after the crash"
ok
SOURCE_SUM=$(cat "$DB" "$DB-wal" | sha256sum)

# ---- SQLite -> PostgreSQL ---------------------------------------------------------

migrate --from "sqlite:$DB" --to "$PGURI" --to-schema mig_a
[ "$RC" -eq 0 ] || fail "migrate to PostgreSQL: exit $RC: $ERR"
ok
REPORT1=$OUT
contains "$REPORT1" "copied sqlite:$DB into $PGURI, and checked" "the report"
[ "$(cat "$DB" "$DB-wal" | sha256sum)" = "$SOURCE_SUM" ] || fail "the copy changed its source"
ok
# Its counts are the source's, table by table.
for t in tasks events requests wf_runs wf_entries wf_inbox queues schedules; do
	n=$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM " + sys.argv[2]).fetchone()[0])' "$DB" "$t")
	printf '%s\n' "$REPORT1" | awk -v t="$t" -v n="$n" '$1 == t && $2 == n { f = 1 } END { exit !f }' ||
		fail "the report does not count $n rows in $t: $REPORT1"
	[ "$n" -gt 0 ] || [ "$t" = requests ] || fail "the source has no $t to copy"
	ok
done
# Someone else's database or schema is not written, not even Cairn's
# tables: a SQLite file with a table of its own, a schema with one.
"$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("create table accounts (x)"); c.commit()' "$TMP/foreign.db"
FOREIGN_SUM=$(sha256sum "$TMP/foreign.db")
refused "table accounts is not one of Cairn's" --from "sqlite:$DB" --to "sqlite:$TMP/foreign.db"
[ "$(sha256sum "$TMP/foreign.db")" = "$FOREIGN_SUM" ] || fail "the foreign file changed"
ok
psql_q "CREATE SCHEMA mig_foreign; CREATE TABLE mig_foreign.accounts (x int)" || fail "psql: cannot make a schema"
refused "table accounts is not one of Cairn's" --from "sqlite:$DB" --to "$PGURI" --to-schema mig_foreign
psql_q "SELECT 1 FROM mig_foreign.tasks" && fail "Cairn's tables were made in a foreign schema"
ok
# Again into the same schema: it holds data now.
refused "holds data (table tasks is not empty)" --from "sqlite:$DB" --to "$PGURI" --to-schema mig_a
# Writing the source: refused (above); the target while a cairnd uses it:
start pg --store "$PGURI" --pg-schema mig_a
refused "is in use by a running cairnd" --from "$PGURI" --from-schema mig_a --to "sqlite:$TMP/never.db"
refused "is in use by a running cairnd" --from "sqlite:$DB" --to "$PGURI" --to-schema mig_a

# The tasks as they were, leases included.
expect_ok list work --all --limit 100 --json
[ "$OUT" = "$BEFORE_WORK" ] || fail "the tasks differ on PostgreSQL: $OUT vs $BEFORE_WORK"
ok
expect_ok get "$L1" --json
pyjson "assert d['state'] == 'active' and d['worker_id'] == 'w1'" "a lease moved"
expect_ok queue list --json
[ "$OUT" = "$BEFORE_QUEUES" ] || fail "the queue settings differ on PostgreSQL: $OUT vs $BEFORE_QUEUES"
ok
expect_ok schedule list --json
[ "$OUT" = "$BEFORE_SCHEDULES" ] || fail "the schedules differ on PostgreSQL: $OUT vs $BEFORE_SCHEDULES"
ok
expect_ok get "$CRASH" --json
pyjson 'assert d["payload"] == "last-before-the-crash"' "the commit in the WAL moved"
expect_ok get "$FLAKY" --json
pyjson 'assert d["state"] == "pending" and d["attempt"] == 1 and d["last_error"] == "boom"' "a retry moved"
# Workers finish what they held, with their old tokens.
expect_ok heartbeat "$L1" --token "$T1" --json
expect_ok complete "$L1" --token "$T1" --result done-on-pg
expect_ok complete "$L2" --token "$T2" --result done-on-pg
expect_ok get "$L2" --json
pyjson 'assert d["state"] == "succeeded" and d["result"] == "done-on-pg"' "completed on PostgreSQL"
# Ids go on after the last one; a key still finds its task; the delayed
# task is still delayed.
expect_ok enqueue work --payload e
E=$OUT
[ "$E" -gt "$FLAKY" ] || fail "a new id ($E) is not past the old ones"
ok
expect_ok enqueue work --payload other --key key-c
[ "$OUT" = "$C (existing)" ] || fail "the idempotency key found $OUT, not $C"
ok
expect_ok get "$LATER" --json
pyjson 'assert d["state"] == "pending"' "the delayed task"
expect_ok lease later
[ -z "$OUT" ] || fail "the delayed task became due on PostgreSQL: $OUT"
ok
expect_ok history "$L1" --json
pyjson 'k = [e["kind"] for e in d["events"]]
assert k[0] == "enqueued" and k[-1] == "completed", k' "the history moved"

# The workflows carry on: the timer was moved as it was, the signal wait
# takes its signal.
expect_ok workflow history move-order --json
[ "$(jget "$ORDER_LOG")" = "$BEFORE_ORDER" ] ||
	fail "the order's log differs on PostgreSQL: $OUT"
ok
workers 100
expect_ok workflow signal move-appr approve --payload yes
expect_ok workflow await move-appr --wait 30s --json
pyjson 'assert d["run"]["state"] == "succeeded" and d["run"]["result"] == "approved:yes", d' "a signal after the move"
expect_ok workflow await move-order --wait 30s --json
pyjson 'assert d["run"]["state"] == "succeeded", d' "the order after the move"

# Work in flight for the way back: a lease held, a run waiting.
expect_ok lease work --lease-time 10m --worker w2 --json
L4=$(jget 'd[0]["task"]["id"]')
T4=$(jget 'd[0]["lease_token"]')
expect_ok workflow start approval --id back-appr --input a2
wait_pending back-appr signal
stop_all

# While a migration holds a schema, a cairnd does not start on it: here a
# session of psql holds the lock as cairnd migrate does.
PGAPPNAME=cairn-lock-holder psql -X -q "$PGURI" -c "SELECT pg_advisory_lock(hashtextextended('cairn.serve.' || 'mig_a', 0)); SELECT pg_sleep(20)" >/dev/null 2>&1 &
HOLDER=$!
for _ in $(seq 1 100); do
	n=$(psql -X -A -t "$PGURI" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND granted" 2>/dev/null)
	[ "$n" = 1 ] && break
	sleep 0.1
done
[ "$n" = 1 ] || fail "psql did not take the lock"
"$CAIRND" --listen "tcp://127.0.0.1:$(free_port)" --store "$PGURI" --pg-schema mig_a >"$TMP/blocked.log" 2>&1
[ $? -ne 0 ] || fail "cairnd started on a schema being migrated"
contains "$(cat "$TMP/blocked.log")" "schema mig_a is being migrated" "cairnd during a migration"
# The server would hold the lock until the sleep ends: end the session.
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cairn-lock-holder'"
wait "$HOLDER" 2>/dev/null

# A read-only cairnd on the schema.
start pg-ro --store "$PGURI" --pg-schema mig_a --read-only
expect_ok get "$L4" --json
pyjson 'assert d["state"] == "active"' "read-only on PostgreSQL"
run enqueue work --payload never
contains "$ERR" "FAILED_PRECONDITION" "a write on a read-only PostgreSQL cairnd"
stop_all

# ---- PostgreSQL -> SQLite ----------------------------------------------------------

BACK="$TMP/back.db"
migrate --from "$PGURI" --from-schema mig_a --to "sqlite:$BACK"
[ "$RC" -eq 0 ] || fail "migrate to SQLite: exit $RC: $ERR"
ok
[ ! -e "$BACK-wal" ] || [ ! -s "$BACK-wal" ] || fail "the new SQLite file needs its WAL"
ok
refused "holds data (table tasks is not empty)" --from "$PGURI" --from-schema mig_a --to "sqlite:$BACK"
# Both ways round, the same rows give the same digests.
migrate --from "sqlite:$BACK" --to "$PGURI" --to-schema mig_b
[ "$RC" -eq 0 ] || fail "migrate to a second schema: exit $RC: $ERR"
ok
REPORT_B=$OUT
migrate --from "sqlite:$BACK" --to "sqlite:$TMP/third.db"
[ "$RC" -eq 0 ] || fail "migrate SQLite to SQLite: exit $RC: $ERR"
ok
[ "$(printf '%s\n' "$OUT" | tail -n +2)" = "$(printf '%s\n' "$REPORT_B" | tail -n +2)" ] ||
	fail "the digests differ between the copies: $OUT vs $REPORT_B"
ok

start back --store "sqlite:$BACK"
expect_ok complete "$L4" --token "$T4" --result done-on-sqlite
expect_ok get "$L4" --json
pyjson 'assert d["state"] == "succeeded" and d["result"] == "done-on-sqlite"' "completed back on SQLite"
expect_ok get "$L1" --json
pyjson 'assert d["state"] == "succeeded" and d["result"] == "done-on-pg"' "what was done on PostgreSQL"
expect_ok queue list --json
[ "$OUT" = "$BEFORE_QUEUES" ] || fail "the queue settings differ back on SQLite: $OUT vs $BEFORE_QUEUES"
ok
expect_ok schedule list --json
[ "$OUT" = "$BEFORE_SCHEDULES" ] || fail "the schedules differ back on SQLite: $OUT vs $BEFORE_SCHEDULES"
ok
expect_ok enqueue work --payload f
[ "$OUT" -gt "$E" ] || fail "a new id on SQLite ($OUT) is not past PostgreSQL's ($E)"
ok
workers 100
expect_ok workflow signal back-appr approve --payload again
expect_ok workflow await back-appr --wait 30s --json
pyjson 'assert d["run"]["state"] == "succeeded" and d["run"]["result"] == "approved:again", d' "a run back on SQLite"
expect_ok workflow get move-order --json
pyjson 'assert d["state"] == "succeeded"' "a finished run back on SQLite"
stop_all

echo "migrate_test: $CHECKS checks passed"
