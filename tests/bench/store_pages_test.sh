#!/usr/bin/env bash
# store_pages_test.sh - store-bench's count of what a lifecycle writes
# makes sense: on SQLite the log takes at least the payload's pages for
# each task (it is written at least once) and the task table is among
# the owners named; on PostgreSQL (with CAIRN_TEST_STORE) the cluster's
# log grew. It judges counts, never a timing.
# usage: store_pages_test.sh STORE_BENCH [on-test-store]
set -euo pipefail
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "store_pages_test: $*" >&2
	exit 1
}
if [ "${2:-}" = on-test-store ]; then
	[ -n "${CAIRN_TEST_STORE:-}" ] || fail "no CAIRN_TEST_STORE"
	out=$("$bench" --store "$CAIRN_TEST_STORE" --batch 2 --rounds 5)
	echo "$out"
	records=$(echo "$out" | sed -n 's/.*per lifecycle: \([0-9.]*\) WAL records.*/\1/p')
	[ -n "$records" ] || fail "no WAL records line"
	awk -v r="$records" 'BEGIN { exit !(r >= 1) }' || fail "$records WAL records per lifecycle"
	echo "store_pages_test: 1 passed, 0 failed"
	exit 0
fi
out=$(TMPDIR=$tmp "$bench" --batch 2 --rounds 10 --payload 40000 --pages)
echo "$out"
pages=$(echo "$out" | sed -n 's/.*per lifecycle: \([0-9.]*\) pages to the log.*/\1/p')
[ -n "$pages" ] || fail "no pages line"
# 40,000 bytes are ten 4 KiB pages of overflow at least.
awk -v p="$pages" 'BEGIN { exit !(p >= 10) }' || fail "$pages pages per lifecycle: fewer than the payload's"
echo "$out" | grep -Eq '^  tasks +[0-9.]+$' || fail "the tasks table is not among the owners"
[ -z "$(ls "$tmp")" ] || fail "left files behind: $(ls "$tmp")"
echo "store_pages_test: 1 passed, 0 failed"
