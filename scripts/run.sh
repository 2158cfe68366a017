#!/usr/bin/env bash
# Builds Cairn and starts cairnd on the embedded SQLite default
# (./cairn.db, tcp://127.0.0.1:7420). Extra arguments go to cairnd.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null

bin=$PWD/build/release
cat <<MSG
cairnd is starting on tcp://127.0.0.1:7420 with the store sqlite:cairn.db.
In another terminal:

  export PATH=$bin/client/cli:\$PATH
  cairn enqueue emails --payload 'hello'      # prints the task id
  cairn lease emails                          # prints id, attempt, token
  cairn complete ID --token TOKEN --result ok
  cairn get ID

Stop the server with Ctrl-C.
MSG
exec "$bin/server/cairnd" "$@"
