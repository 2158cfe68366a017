#!/usr/bin/env bash
# The dashboard's browser tests (dashboard.test.mjs), for ctest:
#   run.sh WORKDIR CAIRND CAIRN ORDER_WORKFLOW
# Installs playwright-core from package-lock.json (npm ci) into WORKDIR,
# a folder of the build, and runs the tests with node's test runner in
# Debian's Chromium (scripts/setup.sh installs it). Nothing is downloaded
# but the npm package: playwright-core never fetches a browser of its own.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
work=$1
export CAIRND=$2 CAIRN=$3 ORDER_WORKFLOW=$4
mkdir -p "$work"
cp "$src"/package.json "$src"/package-lock.json "$src"/*.mjs "$work"/
cd "$work"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 dashboard.test.mjs
