#!/usr/bin/env bash
# run_fuzz.sh SRC BUILD SECONDS - builds the libFuzzer target fuzz_rpc with
# clang (AddressSanitizer + UndefinedBehaviorSanitizer) in BUILD, writes
# the seed corpus (real requests of every rpc), and fuzzes the whole
# request path for SECONDS, starting from the seeds, the corpus kept in
# BUILD/corpus and every input that once failed (tests/fuzz/regressions).
# A crash leaves BUILD/crash-*: copy it into tests/fuzz/regressions, where
# fuzz_replay runs it in every test suite from then on.
# Exit 77 (skipped) when clang or its libFuzzer runtime is missing.
set -euo pipefail
src=$1 build=$2 secs=$3
mkdir -p "$build"
if ! command -v clang >/dev/null; then
	echo "run_fuzz: no clang; skipped"
	exit 77
fi
probe=$build/probe.c
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{ (void) d; return (int) (n & 0); }' >"$probe"
if ! clang -fsanitize=fuzzer "$probe" -o "$build/probe" 2>/dev/null; then
	echo "run_fuzz: clang has no libFuzzer runtime (libclang-rt-dev); skipped"
	exit 77
fi
echo "== build (clang, libFuzzer, address+undefined)"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_FUZZ=ON -DCAIRN_POSTGRES=OFF \
	-DCAIRN_SANITIZE=fuzzer-no-link,address,undefined >/dev/null
cmake --build "$build" --target fuzz_rpc fuzz_seeds -j"$(nproc)" >/dev/null
mkdir -p "$build/corpus"
"$build/tests/fuzz_seeds" --seeds "$build/seeds"
echo "== fuzz for $secs s"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
./tests/fuzz_rpc -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=4096 -print_final_stats=1 -artifact_prefix="$build/" \
	corpus seeds "$src/tests/fuzz/regressions" 2>&1 |
	grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)' | tail -25
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	echo "run_fuzz: FAILED; inputs: $(ls "$build"/crash-* "$build"/leak-* \
		"$build"/timeout-* 2>/dev/null)"
fi
exit "$status"
