#!/usr/bin/env bash
# Builds Cairn and runs the whole test suite on a fresh machine: installs
# what is missing, checks the format, builds with -Werror and runs every
# test, then builds with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs every test again.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the -Werror build and its tests only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

bash scripts/setup.sh

echo "== format"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run --Werror $files

jobs=$(nproc)

run_suite() { # name, ctest filter (regex, "" for all), cmake args...
	local name=$1 filter=$2
	shift 2
	echo "== build ($name)"
	cmake -S . -B "build/$name" -DCAIRN_WERROR=ON "$@" >/dev/null
	cmake --build "build/$name" -j"$jobs" >/dev/null
	echo "== test ($name)"
	(cd "build/$name" && ctest --output-on-failure --timeout 600 \
		${filter:+-R "$filter"})
}

run_suite ci "" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ $quick -eq 0 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	run_suite asan "" -DCMAKE_BUILD_TYPE=Debug \
		-DCAIRN_SANITIZE=address,undefined
	# ThreadSanitizer for the server's threads: the engine, nng's
	# callbacks, the HTTP threads of metrics and the dashboard, and the
	# client pool, through the tests that run them.
	export TSAN_OPTIONS=halt_on_error=1:suppressions=$PWD/scripts/tsan.supp
	run_suite tsan "engine_test|e2e_test|badinput_test|cli_test|wf_worker_test|^ops_test|browser_test" \
		-DCMAKE_BUILD_TYPE=Debug -DCAIRN_SANITIZE=thread
fi
echo "== all tests passed"
