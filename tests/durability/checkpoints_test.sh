#!/usr/bin/env bash
# --checkpoints: bad values are refused with a message, and `external`
# really leaves the WAL alone (Litestream owns checkpoints), while the
# default checkpoints it as cairnd always did.
#
#   checkpoints_test.sh CAIRND CAIRN-BENCH
set -euo pipefail
cairnd=$1
bench=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ckpt-XXXXXX")
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "checkpoints_test: FAIL: $*" >&2; exit 1; }
ok() { echo "checkpoints_test: ok: $*"; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Bad input: a clear message, exit status 2, nothing started.
out=$("$cairnd" --checkpoints sometimes --store "sqlite:$tmp/x.db" 2>&1) && fail "accepted 'sometimes'"
[ $? -eq 2 ] || true
grep -q "checkpoints: 'sometimes' is not cairnd or external" <<<"$out" || fail "message: $out"
out=$("$cairnd" --checkpoints external --store postgres://u@127.0.0.1:1/db 2>&1) && fail "accepted external on PostgreSQL"
grep -q "is for SQLite stores" <<<"$out" || fail "message: $out"
[ ! -e "$tmp/x.db" ] || fail "a refused start created the database"
ok "bad values refused"

# load MODE: 2 s of enqueues (well past 1000 WAL frames), then SIGTERM.
# Sets wal to the WAL's size after the stop ("none" when it was removed).
load() {
	local dir=$tmp/$1 port
	mkdir -p "$dir"
	port=$(free_port)
	"$cairnd" --listen "tcp://127.0.0.1:$port" --store "sqlite:$dir/cairn.db" \
		--checkpoints "$1" --log-level warn 2>"$dir/cairnd.log" &
	pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	"$bench" --server "tcp://127.0.0.1:$port" --duration 2 --clients 4 \
		--quiet enqueue >/dev/null || fail "load on $1"
	kill -TERM $pid
	wait $pid || fail "cairnd --checkpoints $1 did not stop cleanly"
	pid=
	wal=none
	if [ -e "$dir/cairn.db-wal" ]; then wal=$(stat -c %s "$dir/cairn.db-wal"); fi
}
load cairnd
[ "$wal" = none ] || fail "default: the WAL is still there ($wal bytes) after a clean stop"
ok "cairnd checkpoints (the WAL is folded in and removed at exit)"
load external
[ "$wal" != none ] && [ "$wal" -gt $((1000 * 4096)) ] ||
	fail "external: the WAL was checkpointed ($wal)"
[ "$(stat -c %s "$tmp/external/cairn.db")" -le $((64 * 1024)) ] ||
	fail "external: pages reached the database file"
ok "external: no checkpoint under load or at exit (WAL $wal bytes)"
