#!/usr/bin/env bash
# Every command that docker/Dockerfile runs, in one place, so that the test
# suite (tests/docker_steps_test.sh) runs the very same steps on a machine
# without a Docker engine. The Dockerfile calls it as:
#
#   docker-build-steps.sh build-deps            packages of the build stage
#   docker-build-steps.sh build SRC DESTDIR [BUILDDIR]
#                                               configure, build, install
#                                               into DESTDIR/usr/local
#   docker-build-steps.sh runtime-deps          packages of the runtime image
#   docker-build-steps.sh add-user              the non-root user and its
#                                               data directory (image only)
#   docker-build-steps.sh start [FLAGS...]      the container's command
#   docker-build-steps.sh healthcheck           HEALTHCHECK: GET /healthz
set -euo pipefail

data=${CAIRN_DATA:-/var/lib/cairn}

case "${1:-}" in
build-deps)
	echo build-essential cmake pkg-config libnng-dev libprotobuf-c-dev \
		protobuf-c-compiler libsqlite3-dev libpq-dev
	;;
runtime-deps)
	# The shared libraries cairnd and cairn link, curl for the health
	# check, and the time zones of schedules (cairn schedule --tz). Keep
	# in step with `ldd` (the test checks it).
	echo libnng1 libprotobuf-c1 libsqlite3-0 libpq5 libmbedtls14 \
		libmbedx509-1 libmbedcrypto7 curl ca-certificates tzdata
	;;
build)
	src=${2:?build SRC DESTDIR [BUILDDIR]}
	dest=${3:?build SRC DESTDIR [BUILDDIR]}
	bdir=${4:-$(mktemp -d)}
	cmake -S "$src" -B "$bdir" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX=/usr/local -DCAIRN_TESTS=OFF
	cmake --build "$bdir" -j"$(nproc)"
	DESTDIR=$dest cmake --install "$bdir"
	;;
add-user)
	useradd --system --uid 10001 --user-group --home-dir "$data" \
		--shell /usr/sbin/nologin cairn
	install -d -o cairn -g cairn -m 750 "$data" "$data/backups"
	;;
start)
	shift
	# Defaults for a container; any CAIRN_* variable or flag wins.
	export CAIRN_LISTEN=${CAIRN_LISTEN:-tcp://0.0.0.0:7420}
	export CAIRN_HTTP=${CAIRN_HTTP:-0.0.0.0:7421}
	export CAIRN_STORE=${CAIRN_STORE:-sqlite:$data/cairn.db}
	export CAIRN_BACKUP_DIR=${CAIRN_BACKUP_DIR:-$data/backups}
	mkdir -p "$CAIRN_BACKUP_DIR"
	exec "${CAIRND:-cairnd}" "$@"
	;;
healthcheck)
	addr=${CAIRN_HTTP:-0.0.0.0:7421}
	addr=${addr#http://}
	port=${addr##*:}
	host=${addr%:*}
	case "$host" in 0.0.0.0 | "" | "[::]") host=127.0.0.1 ;; esac
	exec curl -fsS --max-time 3 -o /dev/null "http://$host:$port/healthz"
	;;
*)
	sed -n '2,14p' "$0" >&2
	exit 2
	;;
esac
