#!/bin/bash
# pg-test-cluster.sh - a throwaway PostgreSQL cluster for Cairn's tests.
#
#   pg-test-cluster.sh start DIR      initdb (if needed) and start a cluster
#                                     under DIR on a free loopback port;
#                                     print its URI and write it to DIR/uri
#   pg-test-cluster.sh stop DIR       pg_ctl stop -m fast
#   pg-test-cluster.sh kill DIR       pg_ctl stop -m immediate (a crash)
#   pg-test-cluster.sh restart DIR    start it again on the same port
#   pg-test-cluster.sh exec DIR CMD.. run CMD with CAIRN_TEST_STORE=<uri>
#   pg-test-cluster.sh standby DIR PRIMARY_DIR
#                                     a streaming standby of the cluster
#                                     running in PRIMARY_DIR (pg_basebackup),
#                                     started under DIR on a free port
#   pg-test-cluster.sh promote DIR    make the standby in DIR a primary
#
# It installs nothing: PostgreSQL's server binaries must be under
# /usr/lib/postgresql/*/bin (Debian's postgresql package); the newest is
# used. Run as root, the cluster runs as the postgres user (initdb refuses
# root). Only 127.0.0.1 is listened on, with trust authentication: never
# point this at anything but a test.
set -euo pipefail

die() {
	echo "pg-test-cluster: $*" >&2
	exit 1
}

[ $# -ge 2 ] ||
	die "usage: $0 start|stop|kill|restart|exec|standby|promote DIR [ARGS...]"
cmd=$1
dir=$2
shift 2

pgbin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
	[ -x "$d/pg_ctl" ] && pgbin=$d
done

# as_pg runs a command as the cluster's owner.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# The data and socket directories live in DIR unless the postgres user
# cannot reach DIR (a root-only parent such as /root); then in a private
# directory under /tmp whose data directory DIR/pgdata remembers.
datadir() {
	if [ -f "$dir/pgdata" ]; then
		cat "$dir/pgdata"
	else
		echo "$dir/data"
	fi
}

sockdir() {
	echo "$(dirname "$(datadir)")/sock"
}

logfile() {
	echo "$(dirname "$(datadir)")/log"
}

port_free() {
	! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# do_init readies DIR for a new data directory: a cluster left running
# there is stopped and its files removed.
do_init() {
	local data
	[ -n "$pgbin" ] || die "no /usr/lib/postgresql/*/bin/pg_ctl (install \
Debian's postgresql package)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# A cluster still running there (a test that was interrupted) is
	# stopped before its files go.
	if [ -f "$(datadir)/postmaster.pid" ]; then
		as_pg "$pgbin/pg_ctl" -D "$(datadir)" -m immediate -w stop \
			>/dev/null 2>&1 || true
	fi
	rm -rf "$dir/data" "$dir/sock" "$dir/uri" "$dir/port" "$dir/log"
	if [ -f "$dir/pgdata" ]; then
		old=$(dirname "$(cat "$dir/pgdata")")
		case $old in /tmp/cairn-pg.*) rm -rf "$old" ;; esac
		rm -f "$dir/pgdata"
	fi
	data=$dir/data
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "no postgres user"
		chown postgres: "$dir"
		if ! runuser -u postgres -- test -w "$dir"; then
			base=$(mktemp -d /tmp/cairn-pg.XXXXXX)
			chown postgres: "$base"
			data=$base/data
			echo "$data" >"$dir/pgdata"
		fi
	fi
}

do_initdb() {
	do_init
	as_pg "$pgbin/initdb" -D "$(datadir)" -U postgres --auth=trust \
		-E UTF8 --no-sync --locale=C >"$dir/initdb.log" 2>&1 ||
		die "initdb failed: see $dir/initdb.log"
}

# do_start starts the cluster on port $1, or on a free port when $1 is
# empty, trying again on another port when one was taken meanwhile.
do_start() {
	local want=$1 data port sock opts tries=0
	data=$(datadir)
	sock=$(sockdir)
	as_pg mkdir -p "$sock"
	# A unix socket path is limited to about 107 bytes: beyond that,
	# TCP only.
	[ ${#sock} -lt 90 ] || sock=""
	while :; do
		tries=$((tries + 1))
		[ $tries -le 20 ] || die "no free port found"
		if [ -n "$want" ]; then
			port=$want
		else
			# Below Linux's ephemeral range (32768 and up), where
			# the tests' own client connections take their local
			# ports: a port free to connect to may still be one
			# of those, and then PostgreSQL cannot bind it.
			port=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
			port_free "$port" || continue
		fi
		opts="-c listen_addresses=127.0.0.1 -c port=$port"
		opts="$opts -c unix_socket_directories='$sock'"
		opts="$opts -c max_connections=200 -c fsync=on"
		opts="$opts -c synchronous_commit=on"
		if as_pg "$pgbin/pg_ctl" -D "$data" -l "$(logfile)" -w -t 60 \
			-o "$opts" start >/dev/null; then
			break
		fi
		# Only a port taken meanwhile is worth another try.
		if [ -n "$want" ] || { port_free "$port" &&
			! grep -q "Address already in use" "$(logfile)"; }; then
			tail -n 20 "$(logfile)" >&2 || true
			die "cannot start on port $port: see $(logfile)"
		fi
	done
	echo "$port" >"$dir/port"
}

uri() {
	echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/cairn_test"
}

case $cmd in
start)
	do_initdb
	do_start ""
	as_pg "$pgbin/psql" -X -q -h 127.0.0.1 -p "$(cat "$dir/port")" \
		-U postgres -d postgres -c "CREATE DATABASE cairn_test" ||
		die "cannot create the database"
	uri >"$dir/uri"
	cat "$dir/uri"
	;;
restart)
	dir=$(cd "$dir" && pwd)
	do_start "$(cat "$dir/port")"
	;;
stop | kill)
	dir=$(cd "$dir" 2>/dev/null && pwd) || exit 0
	[ -n "$pgbin" ] || exit 0
	mode=fast
	[ "$cmd" = kill ] && mode=immediate
	data=$(datadir)
	if [ -f "$data/postmaster.pid" ]; then
		as_pg "$pgbin/pg_ctl" -D "$data" -m "$mode" -w stop >/dev/null
	fi
	;;
standby)
	[ $# -eq 1 ] || die "standby needs the primary's DIR"
	primary=$(cd "$1" && pwd) || die "no primary in $1"
	[ -f "$primary/port" ] || die "$primary: no cluster was started there"
	do_init
	# A copy of the primary that streams from it (-R: standby.signal
	# and primary_conninfo), its settings given again at start.
	as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$(cat "$primary/port")" \
		-U postgres -D "$(datadir)" -R -X stream -c fast --no-sync \
		>"$dir/basebackup.log" 2>&1 ||
		die "pg_basebackup failed: see $dir/basebackup.log"
	do_start ""
	uri >"$dir/uri"
	cat "$dir/uri"
	;;
promote)
	dir=$(cd "$dir" && pwd)
	as_pg "$pgbin/pg_ctl" -D "$(datadir)" -w -t 60 promote >/dev/null ||
		die "cannot promote: see $(logfile)"
	;;
exec)
	[ -f "$dir/uri" ] || die "$dir/uri: no cluster was started there"
	[ $# -gt 0 ] || die "exec needs a command"
	CAIRN_TEST_STORE=$(cat "$dir/uri")
	export CAIRN_TEST_STORE
	exec "$@"
	;;
*)
	die "unknown command $cmd"
	;;
esac
