#!/usr/bin/env bash
# The Go client's tests: fetches the modules go.sum pins, checks that the
# committed generated code matches cairn.proto, vets, and runs go test
# against a real cairnd.
# usage: go_test.sh  (CAIRND set to the cairnd binary)
set -euo pipefail
cd "$(dirname "$0")/../../bindings/go"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "go_test: Go 1.24 or later is needed" >&2; exit 1; }
go mod download
go mod verify >/dev/null
bash generate.sh --check
test -z "$(gofmt -l .)" || { echo "go_test: not gofmt'd: $(gofmt -l .)" >&2; exit 1; }
go vet ./...
exec go test -count=1 ./...
