#!/usr/bin/env bash
# Builds Cairn and starts cairnd on the embedded SQLite default
# (./cairn.db, tcp://127.0.0.1:7420) with its dashboard and metrics on
# http://127.0.0.1:7421 (unless --http is given). Extra arguments go to
# cairnd.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null

bin=$PWD/build/release
# The dashboard and /metrics on loopback, unless the arguments say where.
http=(--http 127.0.0.1:7421)
for a in "$@"; do
	case $a in --http | --http=*) http=() ;; esac
done
[ -n "${CAIRN_HTTP:-}" ] && http=()
cat <<MSG
cairnd is starting on tcp://127.0.0.1:7420 with the store sqlite:cairn.db.
MSG
if [ ${#http[@]} -gt 0 ]; then
	echo "Dashboard: http://127.0.0.1:7421/ui/ (metrics: http://127.0.0.1:7421/metrics)"
fi
cat <<MSG
In another terminal:

  export PATH=$bin/client/cli:\$PATH
  cairn enqueue emails --payload 'hello'      # prints the task id
  cairn lease emails                          # prints id, attempt, token
  cairn complete ID --token TOKEN --result ok
  cairn get ID

or run the Python example and watch its queue on the dashboard:

  PYTHONPATH=bindings/python python3 bindings/python/examples/worker.py &
  PYTHONPATH=bindings/python python3 bindings/python/examples/producer.py

Stop the server with Ctrl-C.
MSG
exec "$bin/server/cairnd" "${http[@]}" "$@"
