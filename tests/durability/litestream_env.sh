#!/usr/bin/env bash
# Installs Litestream and the S3-compatible test server from PyPI into a
# virtualenv, pinned by requirements-litestream.txt (versions and hashes):
#
#   litestream_env.sh VENV [PYTHON]
#
# PYTHON (default /usr/bin/python3, Debian's, with python3-venv from
# scripts/setup.sh) makes the virtualenv. Quick when VENV already holds
# this requirements file's packages; a lock lets two builds share VENV.
# Only the tests use it: cairnd itself downloads nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req=$here/requirements-litestream.txt
venv=$1
python=${2:-/usr/bin/python3}
want=$(sha256sum "$req" | cut -d' ' -f1)

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ] &&
	"$venv/bin/litestream" version >/dev/null 2>&1; then
	exit 0
fi
echo "litestream_env: installing into $venv" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
	--no-input --require-hashes --no-deps -r "$req"
"$venv/bin/litestream" version >&2
echo "$want" >"$venv/.requirements.sha256"
