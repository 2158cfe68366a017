#!/usr/bin/env bash
# peers_test.sh - scripts/bench-peers.sh works end to end in its --quick
# form: every server starts, every load generator completes lifecycles,
# and the table has a row for every system at both numbers of clients and
# the two lines of the targets. It never judges a figure.
# usage: peers_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
out=$(bash "$src/scripts/bench-peers.sh" "$build" --quick \
	--work "$build/bench-peers") || {
	echo "$out"
	echo "peers_test: bench-peers.sh failed" >&2
	exit 1
}
echo "$out"
fail() {
	echo "peers_test: $*" >&2
	exit 1
}
rows=0
for c in 16 64; do
	for s in "Cairn, single-task rpcs" "Cairn, batch rpcs" "beanstalkd -f0" \
		"Redis, appendfsync always" "BullMQ on that Redis" \
		"graphile-worker (PostgreSQL)" "graphile-worker, localQueue" \
		"pgbench SKIP LOCKED"; do
		echo "$out" | grep -Eq "^$c +${s//(/\\(}.* [0-9]+ +[0-9.]+ +[0-9.]+$" ||
			fail "no row for $s at $c clients"
		rows=$((rows + 1))
	done
done
echo "$out" | grep -q "^At 64 clients, Cairn's batch path ahead of every peer: " ||
	fail "no batch target line"
echo "$out" | grep -q "^At 64 clients, Cairn's single-task rpcs ahead of all but raw Redis: " ||
	fail "no single-task target line"
echo "peers_test: $rows passed, 0 failed"
