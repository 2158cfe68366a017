#!/usr/bin/env bash
# `cmake --install` of the build into a temporary prefix, then programs
# built against the installed libcairn only (not the build tree): through
# pkg-config, shared and static, and through CMake's find_package. They
# run against the installed cairnd, using the worker helper, so that its
# symbols are checked to be exported too.
# usage: install_test.sh BUILD_DIR CAIRND [SANITIZERS]
set -euo pipefail
build=$1
# A sanitizer build's library needs its runtime in the program too.
san=${3:+-fsanitize=$3}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
pass=0
ok() { echo "install_test: ok: $*"; pass=$((pass + 1)); }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
	{ cat "$tmp/install.log"; fail "cmake --install"; }
pc=$(find "$prefix" -name cairn.pc)
for f in bin/cairnd bin/cairn include/cairn.h lib/systemd/system/cairnd.service \
	share/doc/cairn/cairnd.conf; do
	[ -e "$prefix/$f" ] || fail "$f is not installed"
done
[ -n "$pc" ] || fail "cairn.pc is not installed"
libdir=$(dirname "$(dirname "$pc")")
for f in libcairn.so libcairn.a cmake/cairn/cairnConfig.cmake; do
	[ -e "$libdir/$f" ] || fail "$libdir/$f is not installed"
done
ok "files installed"

# A program that enqueues a task and works it with the worker helper.
cat >"$tmp/hello.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <cairn.h>

static void
handler(cairn_job *job, const cairn_task *t, void *arg)
{
	(void) arg;
	cairn_job_complete(job, t->payload, t->payload_len);
}

int
main(int argc, char **argv)
{
	const char *q = "installed";
	cairn_task_spec s = { .queue = q, .payload = "hi", .payload_len = 2 };
	cairn_worker_options o = { .queues = &q, .nqueues = 1, .max_tasks = 1 };
	cairn_enqueue_result r;
	cairn_client *c;
	cairn_worker *w;
	cairn_task *t;
	int rv;

	if (argc < 2 || cairn_client_open(&c, argv[1], NULL, NULL, 0) != 0 ||
	    cairn_enqueue(c, &s, 1, &r) != 0 ||
	    cairn_worker_new(&w, c, &o, handler, NULL) != 0 ||
	    cairn_worker_run(w) != 0 || cairn_get(c, r.id, &t) != 0) {
		fprintf(stderr, "hello: failed\n");
		return (1);
	}
	rv = t->state == CAIRN_SUCCEEDED && t->result_len == 2 ? 0 : 1;
	printf("task %llu %s\n", (unsigned long long) r.id,
	    cairn_state_name(t->state));
	cairn_task_free(t);
	cairn_worker_free(w);
	cairn_client_close(c);
	return (rv);
}
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=tcp://127.0.0.1:$port
"$prefix/bin/cairnd" --listen "$url" --store "sqlite:$tmp/db" --log-level warn &
pid=$!
for i in $(seq 100); do
	"$prefix/bin/cairn" --server "$url" ping >/dev/null 2>&1 && break
	sleep 0.1
done

export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046
cc $san -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs cairn) ||
	fail "building against the shared library through pkg-config"
LD_LIBRARY_PATH=$libdir "$tmp/hello" "$url" || fail "the shared-linked program"
if ldd "$tmp/hello" | grep -q "$build"; then fail "linked the build tree"; fi
ok "pkg-config, shared"

# shellcheck disable=SC2046
cc $san -o "$tmp/hello_static" "$tmp/hello.c" \
	$(pkg-config --cflags cairn) "$libdir/libcairn.a" \
	$(pkg-config --static --libs-only-other --libs-only-l cairn | sed 's/-lcairn//') ||
	fail "building against the static library through pkg-config --static"
if ldd "$tmp/hello_static" | grep -q libcairn; then fail "static program loads libcairn.so"; fi
"$tmp/hello_static" "$url" || fail "the static program"
ok "pkg-config, static"

mkdir -p "$tmp/cm"
cp "$tmp/hello.c" "$tmp/cm/"
cat >"$tmp/cm/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(hello C)
find_package(cairn CONFIG REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE cairn::cairn)
EOF
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_FLAGS="$san" >/dev/null ||
	fail "find_package(cairn)"
cmake --build "$tmp/cm/build" >/dev/null || fail "building with cairn::cairn"
LD_LIBRARY_PATH=$libdir "$tmp/cm/build/hello" "$url" || fail "the CMake-built program"
ok "find_package(cairn)"

kill -TERM $pid
wait $pid || fail "installed cairnd did not stop cleanly"
pid=
echo "install_test: $pass passed, 0 failed"
