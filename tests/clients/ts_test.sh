#!/usr/bin/env bash
# The TypeScript client's tests: installs its npm packages from the
# lockfile (npm ci), checks that the generated code matches cairn.proto,
# builds it with tsc and runs node's test runner against a real cairnd.
# usage: ts_test.sh  (CAIRND set to the cairnd binary)
set -euo pipefail
cd "$(dirname "$0")/../../bindings/typescript"
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "ts_test: Node.js 20 or later and npm are needed" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
# The committed generated code must be what protoc-gen-es makes of the
# proto today.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
	--es_out="$tmp" --es_opt=target=ts,import_extension=js \
	-I ../../proto cairn.proto
if ! cmp -s "$tmp/cairn_pb.ts" src/gen/cairn_pb.ts; then
	echo "ts_test: bindings/typescript/src/gen/cairn_pb.ts does not match" \
		"proto/cairn.proto: run 'npm run generate' there and commit it" >&2
	exit 1
fi
rm -rf dist
npx tsc -p .
exec node --test dist/test/
