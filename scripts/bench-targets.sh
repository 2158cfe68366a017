#!/usr/bin/env bash
# bench-targets.sh - runs the workloads behind each performance target of
# docs/BENCHMARKS.md on SQLite, in one go, and prints each target with its
# measured ratio. Numbers from one run on a shared machine are noisy: look
# at the ratios, and run again when one looks off.
#
#   scripts/bench-targets.sh [BUILD_DIR] [--duration S] [--big N] [--out DIR]
#
# BUILD_DIR (default build/ci) holds tests/cairn-bench and server/cairnd.
# --big N is the large backlog of the scaling target (default 1000000);
# --out DIR keeps every run's JSON there (default: a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/ci
dur=5
big=1000000
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--duration) dur=$2; shift 2 ;;
	--big) big=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) build=$1; shift ;;
	esac
done
bench=$build/tests/cairn-bench
[ -x "$bench" ] || { echo "no $bench: build first" >&2; exit 1; }
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

run() { # name, cairn-bench arguments...
	local name=$1
	shift
	echo "== $name: cairn-bench $*" >&2
	"$bench" "$@" --json --quiet >"$out/$name.json"
}

run fsync fsync --duration "$dur"
run ping1 ping --clients 1 --duration "$dur"
run enqueue1 enqueue --clients 1 --duration "$dur"
run ping64 ping --clients 64 --duration "$dur"
run lifecycle64 lifecycle --clients 64 --duration "$dur"
run lifecycle64next lifecycle --clients 64 --duration "$dur" --complete-next
run batch batch --clients 8 --batch 100 --duration "$dur"
run drain10k drain --clients 16 --backlog 10000 --duration "$dur"
run drainbig drain --clients 16 --backlog "$big" --duration "$dur"

/usr/bin/python3 - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
r = {n[:-5]: json.load(open(os.path.join(d, n))) for n in os.listdir(d) if n.endswith(".json")}
def p50(name, rpc): return r[name]["rpcs"][rpc]["p50_us"]
def tps(name): return r[name]["tasks_per_s"]
rows = []
ceiling = tps("ping64") / 3
rows.append(("lifecycles/s, 64 clients, single-task rpcs >= 0.9 x ping/3",
             "%.0f vs %.0f" % (tps("lifecycle64"), ceiling), tps("lifecycle64") / ceiling, 0.9))
rows.append(("  the same with Complete leasing the next task",
             "%.0f vs %.0f" % (tps("lifecycle64next"), ceiling), tps("lifecycle64next") / ceiling, 0.9))
floor = 2 * (p50("fsync", "fdatasync") + p50("ping1", "Ping"))
rows.append(("1 client Enqueue p50 <= 2 x (fdatasync p50 + ping p50)",
             "%.0f us vs %.0f us" % (p50("enqueue1", "Enqueue"), floor),
             floor / p50("enqueue1", "Enqueue"), 1.0))
rows.append(("batch lifecycles/s >= 50,000",
             "%.0f" % tps("batch"), tps("batch") / 50000, 1.0))
rows.append(("drain of %d vs of 10,000 >= 0.9" % r["drainbig"]["backlog"],
             "%.0f vs %.0f" % (tps("drainbig"), tps("drain10k")),
             tps("drainbig") / tps("drain10k"), 0.9))
rss = r["drainbig"]["server_stats"]["rss_after_fill_mib"]
rows.append(("RSS with %d pending < 64 MiB" % r["drainbig"]["backlog"],
             "%.1f MiB (peak %.1f)" % (rss, r["drainbig"]["server_stats"]["rss_peak_mib"]),
             64 / rss, 1.0))
print("%-62s %-24s %7s  %s" % ("target", "measured", "ratio", ""))
for name, meas, ratio, need in rows:
    print("%-62s %-24s %7.2f  %s" % (name, meas, ratio, "met" if ratio >= need else "MISSED"))
print()
print("%-16s %10s %12s %9s %9s %10s %8s" % ("run", "tasks/s", "requests/s", "p50 us", "p99 us", "req/commit", "CPU us/r"))
for n in sorted(r):
    x = r[n]
    h = max(x["rpcs"].values(), key=lambda v: v["count"])
    s = x["server_stats"]
    rpc = s["requests_per_commit"]
    cpu = s.get("cpu_us_per_request")
    print("%-16s %10.0f %12.0f %9.1f %9.1f %10s %8s" % (n, x["tasks_per_s"], x["requests_per_s"],
          h["p50_us"], h["p99_us"], "%.1f" % rpc if rpc else "-", "%.1f" % cpu if cpu else "-"))
PY
