#!/usr/bin/env bash
# bench-payloads.sh - what a task costs the server as its payload grows,
# and the targets of docs/BENCHMARKS.md that are ratios of such costs, in
# one run: cairn-bench lifecycle (16 clients) with payloads of 100 B,
# 10 KB, 100 KB and 1 MB, and heartbeat with 100 B and 1 MB, each with the
# server's bytes written, write calls, fsyncs and CPU per lifecycle (or
# heartbeat) from /proc; ping, lifecycle and batch at 64 clients for the
# throughput targets; and store-bench's pages per lifecycle for each
# payload (one task per commit, as the single-task rpcs).
#
#   scripts/bench-payloads.sh [BUILD_DIR] [--duration S] [--quick] [--out DIR]
#
# BUILD_DIR (default build/ci) holds tests/cairn-bench and
# tests/store-bench. --quick: half a second per run and few store-bench
# rounds (what CI runs: every run works and the table is whole; no figure
# is judged). --out DIR keeps every run's output there.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/ci
dur=5
rounds=300
out=""
while [ $# -gt 0 ]; do
	case $1 in
	--duration) dur=$2; shift 2 ;;
	--quick) dur=0.5; rounds=10; shift ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) build=$1; shift ;;
	esac
done
bench=$build/tests/cairn-bench
sbench=$build/tests/store-bench
[ -x "$bench" ] && [ -x "$sbench" ] || {
	echo "no $bench or $sbench: build first" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$out" ] || out=$tmp/out
mkdir -p "$out"

run() { # name, cairn-bench arguments...
	local name=$1
	shift
	echo "== $name: cairn-bench $*" >&2
	# The last run's dirty pages are written back now, not in this run.
	sync
	"$bench" "$@" --duration "$dur" --json --quiet >"$out/$name.json"
}

payloads="100 10000 100000 1000000"
for p in $payloads; do
	run "lifecycle.$p" lifecycle --clients 16 --payload "$p"
done
for p in 100 1000000; do
	run "heartbeat.$p" heartbeat --clients 16 --payload "$p"
done
run ping64 ping --clients 64
run lifecycle64 lifecycle --clients 64
run batch64 batch --clients 64 --batch 100
for p in $payloads; do
	echo "== store-bench --batch 1 --payload $p" >&2
	sync
	TMPDIR=$tmp "$sbench" --batch 1 --rounds "$rounds" --payload "$p" \
		>"$out/store.$p.txt"
done

/usr/bin/python3 - "$out" "$payloads" "$dur" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, os, re, sys
d, payloads, dur, load = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
def j(name):
    r = json.load(open(os.path.join(d, name + ".json")))
    if r["errors"]:
        sys.exit("%s: %d errors: %s" % (name, r["errors"], r["first_error"]))
    if not r["tasks"]:
        sys.exit("%s: no work done" % name)
    return r
def num(v, fmt="%.0f"):
    return fmt % v if v is not None else "-"
def store(p):
    t = open(os.path.join(d, "store.%s.txt" % p)).read()
    m = re.search(r"per lifecycle: ([0-9.]+) pages to the log \(([0-9.]+) per commit, ([0-9]+) B", t)
    if not m:
        sys.exit("store-bench, payload %s: no pages line" % p)
    return float(m.group(1)), float(m.group(2)), float(m.group(3))

print("Per lifecycle (16 clients) and per heartbeat, server-side, %s s per run; "
      "load average %s at the end" % (dur, load))
print("%-22s %10s %12s %12s %9s %8s %8s %10s %10s" % (
    "workload", "per s", "wchar B", "to disk B", "x payload", "writes", "fsyncs",
    "CPU us", "log pages"))
rows = {}
for kind in ("lifecycle", "heartbeat"):
    for p in payloads:
        name = "%s.%s" % (kind, p)
        if not os.path.exists(os.path.join(d, name + ".json")):
            continue
        r = j(name)
        s = r["server_stats"]
        rows[name] = s
        pages = "%.1f" % store(p)[0] if kind == "lifecycle" else ""
        print("%-22s %10.0f %12s %12s %9s %8s %8s %10s %10s" % (
            "%s %s B" % (kind, p), r["tasks_per_s"], num(s["wchar_per_task"]),
            num(s["write_bytes_per_task"]),
            num(s["wchar_per_task"] / int(p), "%.2f") if s["wchar_per_task"] else "-",
            num(s["write_calls_per_task"], "%.1f"), num(s["fsyncs_per_task"], "%.3f"),
            num(s["cpu_us_per_task"]), pages))
print()
print("store-bench, one task per commit (--batch 1): pages to the log per lifecycle, per commit, bytes")
for p in payloads:
    a, b, c = store(p)
    print("  payload %8s B: %7.1f pages, %5.1f per commit, %9.0f B (%.2f x the payload)" % (p, a, b, c, c / int(p)))
print()
w100 = rows["lifecycle.100"]["wchar_per_task"]
w100k = rows["lifecycle.100000"]["wchar_per_task"]
h100 = rows["heartbeat.100"]["wchar_per_task"]
h1m = rows["heartbeat.1000000"]["wchar_per_task"]
ping, life, batch = j("ping64")["tasks_per_s"], j("lifecycle64")["tasks_per_s"], j("batch64")["tasks_per_s"]
targets = [
    ("bytes per lifecycle, 100 B payload <= 8 KB", "%.0f B" % w100, 8192 / w100),
    ("bytes per lifecycle, 100 KB payload <= 1.3 x payload", "%.2f x" % (w100k / 100000), 1.3 * 100000 / w100k),
    ("heartbeat bytes, 1 MB vs 100 B payload within 1.2 x", "%.0f vs %.0f B" % (h1m, h100),
     1.2 / max(h1m / h100, h100 / h1m) if h100 and h1m else 0),
    ("lifecycles/s at 64 clients >= 0.8 x ping/3", "%.0f vs %.0f" % (life, ping / 3), life / (0.8 * ping / 3)),
    ("batch lifecycles/s (64 clients, --batch 100) >= 60,000", "%.0f" % batch, batch / 60000),
]
print("%-56s %-22s %12s" % ("target (wchar bytes; ratio >= 1 means met)", "measured", "ratio"))
for name, meas, ratio in targets:
    print("%-56s %-22s %12.2f  %s" % (name, meas, ratio, "met" if ratio >= 1 else "missed"))
PY
