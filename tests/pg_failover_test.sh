#!/usr/bin/env bash
# pg_failover_test.sh - docs/POSTGRES.md's high availability, end to end:
# a primary with a synchronous standby (two throwaway clusters of
# scripts/pg-test-cluster.sh), and one cairnd given both hosts with
# target_session_attrs=read-write.
#
# 1. With the standby stopped, an Enqueue gets no answer: the COMMIT waits
#    for the standby, and cairnd answers only after COMMIT.
# 2. The primary is killed (immediate stop) and the standby promoted:
#    cairnd finds the new primary by itself, every task that was
#    acknowledged is there in the state acknowledged, and new work flows.
#
#   pg_failover_test.sh CAIRND CAIRN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/../scripts/pg-test-cluster.sh
cairnd=$1
cairn=$2
PY=/usr/bin/python3

tmp=$(mktemp -d)
chmod 755 "$tmp"
server_pid=""
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	bash "$cluster" stop "$tmp/standby" >/dev/null 2>&1 || true
	bash "$cluster" stop "$tmp/primary" >/dev/null 2>&1 || true
	for c in primary standby; do
		if [ -f "$tmp/$c/pgdata" ]; then
			rm -rf "$(dirname "$(cat "$tmp/$c/pgdata")")"
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "pg_failover_test: $*" >&2
	[ -f "$tmp/cairnd.log" ] && tail -20 "$tmp/cairnd.log" >&2
	exit 1
}

sql() { # cluster, SQL
	psql -X -q -A -t -h 127.0.0.1 -p "$(cat "$tmp/$1/port")" -U postgres \
		cairn_test -c "$2"
}

bash "$cluster" start "$tmp/primary" >/dev/null
bash "$cluster" standby "$tmp/standby" "$tmp/primary" >/dev/null
sql primary "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
sql primary "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 100); do
	[ "$(sql primary "SELECT sync_state FROM pg_stat_replication")" = sync ] &&
		break
	sleep 0.1
done
[ "$(sql primary "SELECT sync_state FROM pg_stat_replication")" = sync ] ||
	fail "the standby did not become synchronous"

port=$($PY -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export CAIRN_SERVER="tcp://127.0.0.1:$port"
store="postgres://postgres@127.0.0.1:$(cat "$tmp/primary/port"),127.0.0.1:$(cat "$tmp/standby/port")/cairn_test?target_session_attrs=read-write"
"$cairnd" --listen "$CAIRN_SERVER" --store "$store" >"$tmp/cairnd.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
	"$cairn" ping >/dev/null 2>&1 && break
	sleep 0.1
done
"$cairn" ping >/dev/null || fail "cairnd did not start"

# Work acknowledged while both are up: 20 tasks, 5 of them completed.
pending=()
for i in $(seq 1 20); do
	id=$("$cairn" --json enqueue ha --payload "task $i" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
		fail "enqueue $i"
	pending+=("$id")
done
done_ids=()
for _ in $(seq 1 5); do
	out=$("$cairn" --json lease ha) || fail "lease"
	read -r id token < <(printf '%s' "$out" | $PY -c '
import json, sys
t = json.load(sys.stdin)[0]
print(t["task"]["id"], t["lease_token"])')
	"$cairn" complete "$id" --token "$token" --result ok >/dev/null ||
		fail "complete $id"
	done_ids+=("$id")
done

# 1. No standby, no answer: the Enqueue waits for a COMMIT that waits.
bash "$cluster" stop "$tmp/standby"
if "$cairn" --timeout 2s enqueue ha --payload unanswered >"$tmp/out" 2>&1; then
	fail "an Enqueue was acknowledged while the synchronous standby was down"
fi
grep -qi "deadline\|time" "$tmp/out" ||
	fail "the Enqueue failed otherwise than by its time limit: $(cat "$tmp/out")"
bash "$cluster" restart "$tmp/standby"
"$cairn" --timeout 30s enqueue ha --payload "standby back" >/dev/null ||
	fail "no Enqueue once the standby was back"

# 2. Failover: the primary dies, the standby is promoted, cairnd finds it.
bash "$cluster" kill "$tmp/primary"
bash "$cluster" promote "$tmp/standby"
ok=0
for _ in $(seq 1 60); do
	if "$cairn" --timeout 2s enqueue ha --payload "after failover" >/dev/null 2>&1; then
		ok=1
		break
	fi
	sleep 0.5
done
[ "$ok" -eq 1 ] || fail "cairnd did not reach the promoted standby in 30 s"
[ "$(sql standby "SELECT pg_is_in_recovery()")" = f ] ||
	fail "the standby was not promoted"

state_of() {
	"$cairn" --json get "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["state"])'
}
for id in "${done_ids[@]}"; do
	[ "$(state_of "$id")" = succeeded ] ||
		fail "task $id was acknowledged completed, is $(state_of "$id")"
done
left=0
for id in "${pending[@]}"; do
	s=$(state_of "$id") || fail "task $id, acknowledged, is gone"
	case $s in
	succeeded) ;;
	pending) left=$((left + 1)) ;;
	*) fail "task $id is $s" ;;
	esac
done
[ "$left" -eq 15 ] || fail "15 acknowledged tasks should wait, $left do"
out=$("$cairn" --json lease ha) || fail "lease after failover"
[ "$(printf '%s' "$out" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "nothing to lease after failover"
echo "pg_failover_test: no acknowledgement without the synchronous" \
	"standby; after failover all 20 acknowledged tasks (5 completed) are" \
	"there and work goes on"
