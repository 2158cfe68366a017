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

run_suite() { # name, cmake args...
	local name=$1
	shift
	echo "== build ($name)"
	cmake -S . -B "build/$name" -DCAIRN_WERROR=ON "$@" >/dev/null
	cmake --build "build/$name" -j"$jobs" >/dev/null
	echo "== test ($name)"
	(cd "build/$name" && ctest --output-on-failure --timeout 600)
}

run_suite ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ $quick -eq 0 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	run_suite asan -DCMAKE_BUILD_TYPE=Debug \
		-DCAIRN_SANITIZE=address,undefined
fi
echo "== all tests passed"
