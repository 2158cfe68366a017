#!/usr/bin/env bash
# smoke_test.sh - runs every cairn-bench workload for about a second on a
# tiny backlog and checks that each printed sane JSON: the right workload,
# work done, no errors, latencies in order. It never judges a timing.
# usage: smoke_test.sh CAIRN_BENCH CAIRND [on-test-store]
# With on-test-store, the cairnd started runs on the store named by
# CAIRN_TEST_STORE (the PostgreSQL test cluster), not on a fresh SQLite.
set -euo pipefail
bench=$1
cairnd=$2
store=()
if [ "${3:-}" = on-test-store ]; then
	[ -n "${CAIRN_TEST_STORE:-}" ] || { echo "bench_smoke: no CAIRN_TEST_STORE" >&2; exit 1; }
	store=(--store "$CAIRN_TEST_STORE")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "bench_smoke: $*" >&2
	exit 1
}

# check FILE WORKLOAD RPC...: the JSON of one run, and the rpcs it made.
check() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
path, workload, rpcs = sys.argv[1], sys.argv[2], sys.argv[3:]
r = json.load(open(path))
def need(ok, what):
    if not ok:
        sys.exit("bench_smoke: %s: %s\n%s" % (workload, what, json.dumps(r, indent=1)))
need(r["workload"] == workload, "wrong workload")
need(r["errors"] == 0, "errors: %s" % r["first_error"])
need(r["tasks"] > 0 and r["requests"] > 0, "no work done")
need(r["elapsed_s"] > 0, "no elapsed time")
for name in rpcs:
    h = r["rpcs"].get(name)
    need(h is not None and h["count"] > 0, "no %s latencies" % name)
    need(0 < h["p50_us"] <= h["p99_us"] <= h["p999_us"] <= h["max_us"] * 1.02,
         "%s percentiles out of order" % name)
if workload == "workflow":
    w = r["workflow"]
    need(w["activities"] >= r["tasks"] * w["activities_per_run"],
         "fewer activities than the runs need")
    need(w["turns"] >= r["tasks"] and w["task_failures"] == 0,
         "turns or failed workflow tasks")
s = r["server_stats"]
need(s["requests_per_commit"] is None or s["requests_per_commit"] > 0,
     "requests per commit")
# What the server spent per unit: read from /proc for the cairnd it
# started (CPU and writes), and fsyncs where the counting library was
# preloaded (not in a sanitizer build). A durable store on SQLite writes
# and syncs for every lifecycle; on PostgreSQL the writes are the
# database's, not cairnd's.
for k in ("wchar_per_task", "write_bytes_per_task", "write_calls_per_task",
          "fsyncs_per_task", "cpu_us_per_task"):
    need(k in s, "no %s" % k)
if workload != "fsync":
    need(s["cpu_us_per_task"] is not None and s["cpu_us_per_task"] > 0,
         "no server CPU per task")
    need(s["wchar_per_task"] is not None, "no server writes")
on_sqlite = (r["store"] or "").startswith("sqlite:")
# --pages (null without libcairn-pages.so: a sanitizer build, or not
# SQLite): the log took pages, and the task table is among their owners.
p = r.get("pages")
if p is not None:
    need(on_sqlite, "pages counted on a store that is not SQLite")
    need(p["log_per_task"] > 0 and p["owners"].get("tasks", 0) > 0,
         "no pages of the task table: %s" % p)
if on_sqlite and workload in ("lifecycle", "batch", "heartbeat"):
    need(s["wchar_per_task"] > 0, "a durable %s wrote nothing" % workload)
    need(s["fsyncs_per_task"] is None or s["fsyncs_per_task"] > 0,
         "a durable %s was never synced" % workload)
PY
}

run() { # workload, rpcs..., then -- and cairn-bench options
	local w=$1
	shift
	local rpcs=()
	while [ "$1" != "--" ]; do
		rpcs+=("$1")
		shift
	done
	shift
	TMPDIR=$tmp "$bench" "$w" --cairnd "$cairnd" --json --quiet \
		--duration 1 "${store[@]}" "$@" >"$tmp/$w.json" ||
		fail "$w exited with $? ($(cat "$tmp/$w.json"))"
	check "$tmp/$w.json" "$w" "${rpcs[@]}"
	echo "bench_smoke: $w ok"
}

run ping Ping -- --clients 2
run enqueue Enqueue -- --clients 2 --batch 3
run drain Lease Complete -- --clients 2 --backlog 50
run lifecycle Enqueue Lease Complete -- --clients 3
run lifecycle Enqueue Lease Complete -- --clients 3 --complete-next
run lifecycle Enqueue Lease Complete -- --clients 3 --pages
run batch Enqueue Lease CompleteBatch -- --clients 3 --batch 10
run heartbeat Heartbeat -- --clients 2 --payload 20000
run fsync fdatasync -- --fsync-dir "$tmp"
run workflow StartWorkflow start-to-result Lease Complete -- --clients 4
run workflow StartWorkflow start-to-result Lease Complete -- --clients 4 \
	--activities 5 --parallel --no-cache
[ -z "$(ls "$tmp" | grep -v json)" ] || fail "left files behind: $(ls "$tmp")"
echo "bench_smoke: 11 passed, 0 failed"
