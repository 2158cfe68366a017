#!/usr/bin/env bash
# bench-peers.sh - Cairn beside the job queues users would pick instead, on
# this machine, in one run, each with its durable settings, the same task
# lifecycle (enqueue, reserve/lease, delete/complete, one job per request,
# 100-byte payloads) and the same numbers of clients:
#
#   Cairn        cairn-bench lifecycle (single-task rpcs) and batch
#                (--batch 100), SQLite, --durability full (the default)
#   beanstalkd   -f0: fsync after every write to its binlog
#   Redis        appendonly yes, appendfsync always: a list queue (LPUSH,
#                BLMOVE to a processing list, LREM)
#   BullMQ       on that Redis (npm, tests/bench/peers/package-lock.json)
#   graphile-worker  on PostgreSQL (npm, same lockfile), as it comes and
#                with its batching options (localQueue, completeJobBatchDelay)
#   pgbench      the SKIP LOCKED queue of scripts/pgbench-skip-locked.sql
#                on the same PostgreSQL (fsync=on, synchronous_commit=on)
#
# Every server is started here, fresh for each run, on 127.0.0.1 only, and
# stopped at the end; every run lasts --duration seconds. It prints one
# table with Cairn's ratio to each peer, and exits non-zero when a run
# failed or did nothing.
#
#   scripts/bench-peers.sh [BUILD_DIR] [--duration S] [--clients "16 64"]
#                          [--quick] [--work DIR] [--out DIR]
#
# BUILD_DIR (default build/ci) holds tests/cairn-bench. --quick: one
# second per run (what CI runs: it checks that every row is there, never
# the figures). --work: where the npm packages are installed (npm ci;
# default BUILD_DIR/bench-peers). --out: keep each run's JSON there.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

build=build/ci
dur=5
client_counts="16 64"
work=""
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--duration) dur=$2; shift 2 ;;
	--clients) client_counts=$2; shift 2 ;;
	--quick) dur=1; shift ;;
	--work) work=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,29p' "$0"; exit 0 ;;
	*) build=$1; shift ;;
	esac
done
die() {
	echo "bench-peers: $*" >&2
	exit 1
}
bench=$build/tests/cairn-bench
[ -x "$bench" ] || die "no $bench: build first"
for p in beanstalkd redis-server redis-cli node npm pgbench psql; do
	command -v "$p" >/dev/null || die "no $p: run scripts/setup.sh"
done
work=${work:-$build/bench-peers}

tmp=$(mktemp -d)
chmod 755 "$tmp" # the PostgreSQL cluster runs as the postgres user
[ -n "$out" ] || out=$tmp/out
mkdir -p "$out" "$work"
server_pid=""
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
cleanup() {
	stop_server
	scripts/pg-test-cluster.sh stop "$tmp/pg" >/dev/null 2>&1 || true
	if [ -f "$tmp/pg/pgdata" ]; then rm -rf "$(dirname "$(cat "$tmp/pg/pgdata")")"; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The load generators' packages, from the lockfile only.
cp tests/bench/peers/package.json tests/bench/peers/package-lock.json \
	tests/bench/peers/load.mjs "$work"/
lock_sum=$(sha256sum tests/bench/peers/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$work/.installed" 2>/dev/null)" != "$lock_sum" ]; then
	echo "== npm ci in $work" >&2
	(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >&2)
	echo "$lock_sum" >"$work/.installed"
fi

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens there, 10 s at most.
wait_port() {
	for _ in $(seq 100); do
		(echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on port $1"
}

start_beanstalkd() {
	local port dir=$tmp/beanstalkd.$RANDOM
	port=$(free_port)
	mkdir -p "$dir"
	beanstalkd -l 127.0.0.1 -p "$port" -b "$dir" -f0 &
	server_pid=$!
	wait_port "$port"
	url=tcp://127.0.0.1:$port
}

start_redis() {
	local port dir=$tmp/redis.$RANDOM
	port=$(free_port)
	mkdir -p "$dir"
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
		--appendonly yes --appendfsync always --save '' \
		--logfile "$dir/log" &
	server_pid=$!
	wait_port "$port"
	until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
	url=redis://127.0.0.1:$port
}

echo "== starting a throwaway PostgreSQL cluster" >&2
pg=$(scripts/pg-test-cluster.sh start "$tmp/pg" | tail -1)
read -r pghost pgport < <(/usr/bin/python3 -c '
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1]); print(p.hostname, p.port)' "$pg")
psql_() {
	psql -X -q -v ON_ERROR_STOP=1 -h "$pghost" -p "$pgport" -U postgres "$@"
}
db_n=0
# new_db: a database of its own for each run of graphile-worker.
new_db() {
	db_n=$((db_n + 1))
	psql_ -d postgres -c "CREATE DATABASE peers_$db_n" >/dev/null
	url=postgres://postgres@$pghost:$pgport/peers_$db_n
}

# run NAME CLIENTS: one system at one number of clients, into $out.
run() {
	local name=$1 c=$2 f=$out/$1.$2.json
	echo "== $name, $c clients" >&2
	# What the last run left dirty in the page cache is written back
	# now, not during this run's fsyncs.
	sync
	case $name in
	cairn-single)
		"$bench" lifecycle --clients "$c" --duration "$dur" --json \
			--quiet >"$f" || true
		;;
	cairn-batch)
		"$bench" batch --clients "$c" --batch 100 --duration "$dur" \
			--json --quiet >"$f" || true
		;;
	pgbench)
		psql_ -d cairn_test -f scripts/pgbench-skip-locked-setup.sql \
			>/dev/null 2>&1
		PGCONNECT_TIMEOUT=10 timeout $((dur + 60)) pgbench -h "$pghost" \
			-p "$pgport" -U postgres -n -M prepared -c "$c" -j 2 \
			-T "$dur" -f scripts/pgbench-skip-locked.sql cairn_test \
			>"$f.txt" 2>&1 || true
		;;
	*)
		case $name in
		beanstalkd) start_beanstalkd ;;
		redis | bullmq) start_redis ;;
		graphile-worker*) new_db ;;
		esac
		(cd "$work" && timeout $((dur + 60)) node load.mjs "$name" \
			--url "$url" --clients "$c" --duration "$dur") >"$f" || true
		stop_server
		;;
	esac
}

systems=(cairn-single cairn-batch beanstalkd redis bullmq graphile-worker
	graphile-worker-batched pgbench)
load=$(cut -d' ' -f1-3 /proc/loadavg)
for c in $client_counts; do
	for s in "${systems[@]}"; do
		run "$s" "$c"
	done
done

/usr/bin/python3 - "$out" "$dur" "$load" "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$client_counts" "${systems[@]}" <<'PY'
import json, os, re, sys
d, dur, load0, load1, counts = sys.argv[1:6]
systems = sys.argv[6:]
label = {
    "cairn-single": "Cairn, single-task rpcs (SQLite, full)",
    "cairn-batch": "Cairn, batch rpcs (--batch 100)",
    "beanstalkd": "beanstalkd -f0",
    "redis": "Redis, appendfsync always (lists)",
    "bullmq": "BullMQ on that Redis",
    "graphile-worker": "graphile-worker (PostgreSQL)",
    "graphile-worker-batched": "graphile-worker, localQueue + batched completes",
    "pgbench": "pgbench SKIP LOCKED (PostgreSQL)",
}

def rate(name, c):
    base = os.path.join(d, "%s.%s.json" % (name, c))
    try:
        if name == "pgbench":
            m = re.search(r"tps = ([0-9.]+)", open(base + ".txt").read())
            return float(m.group(1)) if m else None
        r = json.load(open(base))
        if r.get("errors"):
            print("  (%s, %s clients: %s errors: %s)" % (name, c, r["errors"], r.get("first_error")))
            return None
        v = r.get("tasks_per_s", r.get("lifecycles_per_s"))
        return v if v else None
    except (OSError, ValueError):
        return None

ok = True
print("Lifecycles/s (enqueue, lease, complete; 100 B payloads), %s s per run; "
      "load average %s before, %s after" % (dur, load0, load1))
print("%-8s %-50s %13s %12s %12s" % ("clients", "system", "lifecycles/s",
                                     "single / it", "batch / it"))
peers_64 = {}
for c in counts.split():
    single, batch = rate("cairn-single", c), rate("cairn-batch", c)
    for s in systems:
        v = rate(s, c)
        if v is None:
            ok = False
            print("%-8s %-50s %13s" % (c, label[s], "FAILED"))
            continue
        rs = "%.2f" % (single / v) if single else "-"
        rb = "%.2f" % (batch / v) if batch else "-"
        print("%-8s %-50s %13.0f %12s %12s" % (c, label[s], v, rs, rb))
        if not s.startswith("cairn"):
            peers_64[(c, s)] = v
if "64" in counts.split():
    single, batch = rate("cairn-single", "64"), rate("cairn-batch", "64")
    peers = {s: v for (c, s), v in peers_64.items() if c == "64"}
    if batch and peers:
        worst = min(peers, key=lambda s: batch / peers[s])
        print("\nAt 64 clients, Cairn's batch path ahead of every peer: %s "
              "(lowest ratio %.2f, to %s)" % ("yes" if batch > max(peers.values()) else "no",
                                              batch / peers[worst], label[worst]))
    rest = {s: v for s, v in peers.items() if s != "redis"}
    if single and rest:
        worst = min(rest, key=lambda s: single / rest[s])
        print("At 64 clients, Cairn's single-task rpcs ahead of all but raw Redis: %s "
              "(lowest ratio %.2f, to %s)" % ("yes" if single > max(rest.values()) else "no",
                                              single / rest[worst], label[worst]))
sys.exit(0 if ok else 1)
PY
