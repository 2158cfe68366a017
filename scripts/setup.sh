#!/usr/bin/env bash
# Installs what building and testing Cairn needs, from Debian's packages.
# Idempotent and quick when everything is there: it asks dpkg first and
# runs apt-get only for what is missing (as root, or through sudo).
set -euo pipefail

packages=(
	build-essential cmake pkg-config
	libnng-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev
	libpq-dev libcmocka-dev
	# the time zones of cron schedules (cairnd reads them at run time)
	tzdata
	# tests: a PostgreSQL server to start under a temporary directory,
	# a pooler in front of it, the hand-made call of proto/README.md, and
	# Python bindings
	postgresql pgbouncer nng-utils protobuf-compiler python3 python3-pytest
	# tests: the generator of proto/testdata/ (the TypeScript and Go
	# clients' own packages come from npm and Go's module proxy, in
	# tests/clients/)
	python3-protobuf
	# tests: sanitizer and fuzzer runtimes, Prometheus's format checker
	clang libclang-rt-14-dev prometheus
	clang-format sqlite3 openssl procps
	# tests of operations: HTTP checks, compose.yaml, ELF dependencies
	curl python3-yaml binutils
	# tests: the virtualenv for Litestream and its S3-compatible test
	# server, both from PyPI (tests/durability/litestream_env.sh)
	python3-venv
	# tests of the dashboard: a browser for playwright-core to drive
	chromium
	# scripts/bench-peers.sh: the queues Cairn is measured beside (BullMQ
	# and graphile-worker come from npm, tests/bench/peers/)
	beanstalkd redis-server redis-tools
)
# ... and node with npm to install playwright-core from its lockfile
# (tests/browser/). A machine whose node came with its own npm keeps it.
if ! command -v npm >/dev/null; then
	packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		sudo="sudo"
	else
		echo "setup: run as root, or install: ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The postgresql package creates and starts a default cluster; the tests
# start their own under a temporary directory and do not need it.
