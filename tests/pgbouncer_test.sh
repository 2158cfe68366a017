#!/usr/bin/env bash
# pgbouncer_test.sh - cairnd through PgBouncer in session mode, the pooling
# mode that docs/POSTGRES.md asks for: the CLI's end-to-end session
# (cli_test.sh) runs with its store behind a PgBouncer started here on a
# free loopback port, in front of the test cluster, and PgBouncer's own
# counters must show that the session's transactions went through it.
#
#   pgbouncer_test.sh CAIRND CAIRN
#
# CAIRN_TEST_STORE names the test cluster (scripts/pg-test-cluster.sh exec).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cairnd=$1
cairn=$2

fail() {
	echo "pgbouncer_test: $*" >&2
	[ -f "${tmp:-}/pgbouncer.log" ] && tail -20 "$tmp/pgbouncer.log" >&2
	exit 1
}
[ -n "${CAIRN_TEST_STORE:-}" ] || fail "no CAIRN_TEST_STORE"
command -v pgbouncer >/dev/null || PATH=$PATH:/usr/sbin
command -v pgbouncer >/dev/null ||
	fail "no pgbouncer (scripts/setup.sh installs Debian's package)"

read -r host pgport user db < <(/usr/bin/python3 -c '
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
print(p.hostname or "127.0.0.1", p.port or 5432, p.username or "postgres",
      (p.path or "/postgres").lstrip("/"))' "$CAIRN_TEST_STORE")
port=$(/usr/bin/python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
	if [ -f "$tmp/pgbouncer.pid" ]; then
		kill "$(cat "$tmp/pgbouncer.pid")" 2>/dev/null || true
		sleep 0.2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/pgbouncer.ini" <<EOF
[databases]
$db = host=$host port=$pgport dbname=$db

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $tmp/userlist.txt
admin_users = $user
pool_mode = session
max_client_conn = 200
default_pool_size = 50
logfile = $tmp/pgbouncer.log
pidfile = $tmp/pgbouncer.pid
EOF
printf '"%s" ""\n' "$user" >"$tmp/userlist.txt"

# PgBouncer refuses to run as root: as root, it runs as postgres.
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$tmp"
	runuser -u postgres -- pgbouncer -d "$tmp/pgbouncer.ini"
else
	pgbouncer -d "$tmp/pgbouncer.ini"
fi
psql_() { # database, psql arguments...
	local d=$1
	shift
	psql -X -q -A -t -h 127.0.0.1 -p "$port" -U "$user" "$d" "$@"
}
up=0
for _ in $(seq 1 100); do
	if psql_ "$db" -c "SELECT 1" >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
[ "$up" -eq 1 ] || fail "PgBouncer did not answer on 127.0.0.1:$port"

CAIRN_TEST_STORE="postgres://$user@127.0.0.1:$port/$db" \
	CAIRN_PG_SCHEMA=pgbouncer_test \
	bash "$here/cli_test.sh" "$cairnd" "$cairn" ||
	fail "the CLI session failed through PgBouncer"

# SHOW STATS: database, total_xact_count, ...
xacts=$(psql_ pgbouncer -F ' ' -c "SHOW STATS" |
	awk -v db="$db" '$1 == db { print $2 }')
[ -n "$xacts" ] && [ "$xacts" -gt 20 ] ||
	fail "PgBouncer saw ${xacts:-no} transactions of $db"
echo "pgbouncer_test: the CLI session passed through PgBouncer" \
	"(session mode, $xacts transactions)"
