#!/usr/bin/env bash
# bench-compare.sh - the same cairn-bench workloads on the SQLite and the
# PostgreSQL backend, side by side with their ratio, and the baseline: a
# plain SKIP LOCKED queue driven by pgbench on the same PostgreSQL database,
# one statement per commit (scripts/pgbench-skip-locked.sql).
#
#   scripts/bench-compare.sh [BUILD_DIR] [--duration S] [--pg URI]
#
# BUILD_DIR (default build/ci) holds tests/cairn-bench and server/cairnd.
# Without --pg a throwaway cluster is started with scripts/pg-test-cluster.sh
# (Debian's postgresql package) and removed at the end. Every connection is
# to 127.0.0.1. Numbers of one run on a shared machine are noisy: compare
# ratios, and run again when one looks off.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/ci
dur=5
pg=""
while [ $# -gt 0 ]; do
	case $1 in
	--duration) dur=$2; shift 2 ;;
	--pg) pg=$2; shift 2 ;;
	*) build=$1; shift ;;
	esac
done
bench=$build/tests/cairn-bench
[ -x "$bench" ] || { echo "no $bench: build first" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "no pgbench (postgresql-client)" >&2; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp" # the cluster runs as the postgres user
cleanup() {
	[ -n "${own_cluster:-}" ] && scripts/pg-test-cluster.sh stop "$tmp/pg" || true
	if [ -f "$tmp/pg/pgdata" ]; then rm -rf "$(cat "$tmp/pg/pgdata")"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "$pg" ]; then
	echo "== starting a throwaway PostgreSQL cluster" >&2
	pg=$(scripts/pg-test-cluster.sh start "$tmp/pg" | tail -1)
	own_cluster=1
fi
# host, port, user and database of the URI, for pgbench and psql.
read -r pghost pgport pguser pgdb < <(/usr/bin/python3 -c '
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
print(p.hostname or "127.0.0.1", p.port or 5432, p.username or "postgres",
      (p.path or "/postgres").lstrip("/"))' "$pg")
psql_() {
	psql -X -q -v ON_ERROR_STOP=1 -h "$pghost" -p "$pgport" -U "$pguser" \
		"$pgdb" "$@"
}

workloads=(
	"lifecycle --clients 64"
	"lifecycle --clients 64 --complete-next"
	"enqueue --clients 16"
	"drain --clients 16 --backlog 10000"
	"batch --clients 8 --batch 100"
)
i=0
for w in "${workloads[@]}"; do
	i=$((i + 1))
	echo "== sqlite: cairn-bench $w" >&2
	# shellcheck disable=SC2086
	"$bench" $w --duration "$dur" --json --quiet >"$tmp/sqlite.$i.json"
	echo "== postgres: cairn-bench $w" >&2
	# shellcheck disable=SC2086
	"$bench" $w --duration "$dur" --store "$pg" --json --quiet \
		>"$tmp/pg.$i.json"
done

echo "== pgbench: scripts/pgbench-skip-locked.sql, 64 clients" >&2
psql_ -f scripts/pgbench-skip-locked-setup.sql >/dev/null 2>&1
PGCONNECT_TIMEOUT=10 pgbench -h "$pghost" -p "$pgport" -U "$pguser" -n \
	-M prepared -c 64 -j 2 -T "$dur" -f scripts/pgbench-skip-locked.sql \
	"$pgdb" >"$tmp/pgbench.txt" 2>&1 || { cat "$tmp/pgbench.txt" >&2; exit 1; }
psql_ -c "DROP TABLE skip_locked_jobs" >/dev/null

/usr/bin/python3 - "$tmp" "${#workloads[@]}" "${workloads[@]}" <<'PY'
import json, re, sys, os
d, n, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print("%-42s %14s %14s %7s" % ("workload (tasks/s)", "sqlite", "postgres", "pg/sq"))
pg_life = pg_batch = None
for i, name in enumerate(names, 1):
    s = json.load(open(os.path.join(d, "sqlite.%d.json" % i)))
    p = json.load(open(os.path.join(d, "pg.%d.json" % i)))
    for r in (s, p):
        if r["errors"]:
            print("  (%s had %d errors: %s)" % (name, r["errors"], r["first_error"]))
    ratio = p["tasks_per_s"] / s["tasks_per_s"] if s["tasks_per_s"] else 0
    print("%-42s %14.0f %14.0f %7.2f" % (name, s["tasks_per_s"], p["tasks_per_s"], ratio))
    if name == "lifecycle --clients 64":
        pg_life = p["tasks_per_s"]
    if name == "batch --clients 8 --batch 100":
        pg_batch = p["tasks_per_s"]
txt = open(os.path.join(d, "pgbench.txt")).read()
m = re.search(r"tps = ([0-9.]+)", txt)
tps = float(m.group(1)) if m else 0
print()
print("pgbench SKIP LOCKED, 64 clients, 3 statements = 3 commits per lifecycle: %.0f lifecycles/s" % tps)
if pg_life and tps:
    print("Cairn on PostgreSQL (lifecycle, 64 clients) / pgbench SKIP LOCKED: %.2f (target >= 2)" % (pg_life / tps))
if pg_batch and tps:
    print("Cairn on PostgreSQL (batch, batches of 100) / pgbench SKIP LOCKED: %.2f (target >= 2)" % (pg_batch / tps))
PY
