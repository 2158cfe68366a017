#!/usr/bin/env bash
# What the Docker image does, done here: no Docker engine runs on this
# machine, so the steps of docker/Dockerfile (scripts/docker-build-steps.sh)
# run as the image would run them: the build stage's build from the
# sources into a DESTDIR, the runtime's shared libraries against the
# packages the runtime stage installs, and the container's start command
# with its health check against the real cairnd. Also checks that the
# Dockerfile, compose.yaml, litestream.yml and the systemd unit agree with
# the script and with each other.
# usage: docker_steps_test.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
steps=$src/scripts/docker-build-steps.sh
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
# Debian's Python, which has python3-yaml (scripts/setup.sh).
py=/usr/bin/python3
[ -x "$py" ] || py=python3
fail() { echo "docker_steps_test: FAIL: $*" >&2; exit 1; }
ok() { echo "docker_steps_test: ok: $*"; pass=$((pass + 1)); }

# 1. The Dockerfile runs only steps that the script has, and the script's
# steps are the ones the Dockerfile uses.
used=$(grep -v '^ *#' "$src/docker/Dockerfile" |
	grep -o 'docker-build-steps.sh[", ]*[a-z-]*' |
	sed 's/.*[ "]\([a-z-]*\)$/\1/' | grep -v '^sh$' | sort -u)
for s in $used; do
	grep -q "^$s)" "$steps" || fail "Dockerfile uses step '$s' the script lacks"
done
for s in build-deps build runtime-deps add-user start healthcheck; do
	grep -qw "$s" <<<"$used" || fail "Dockerfile does not use step '$s'"
done
grep -q '^FROM debian:12 AS build' "$src/docker/Dockerfile" || fail "build stage is not debian:12"
grep -q '^FROM debian:12-slim' "$src/docker/Dockerfile" || fail "runtime is not debian:12-slim"
grep -q '^USER cairn' "$src/docker/Dockerfile" || fail "the image does not run as a non-root user"
grep -q '^VOLUME /var/lib/cairn' "$src/docker/Dockerfile" || fail "no volume for the database"
grep -q '^HEALTHCHECK' "$src/docker/Dockerfile" || fail "no HEALTHCHECK"
ok "Dockerfile and script agree"

# 2. The build stage's packages are installable names, installed here.
for p in $(bash "$steps" build-deps); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		fail "build-deps: $p is not installed here (scripts/setup.sh)"
done
ok "build-deps installed"

# 3. The build stage, as the image runs it.
start=$(date +%s)
bash "$steps" build "$src" "$tmp/out" "$tmp/build" >"$tmp/build.log" 2>&1 ||
	{ tail -30 "$tmp/build.log"; fail "the build step failed"; }
bin=$tmp/out/usr/local/bin
for f in "$bin/cairnd" "$bin/cairn" "$tmp/out/usr/local/lib/systemd/system/cairnd.service"; do
	[ -e "$f" ] || fail "the build step did not install $f"
done
ok "build step in $(($(date +%s) - start)) s"

# 4. Every shared library the binaries link (their NEEDED entries; apt
# brings what those need) comes from a package of the runtime stage, or
# from libc, which debian:12-slim has.
runtime=" $(bash "$steps" runtime-deps) libc6 libgcc-s1 "
libs=$(for b in "$bin/cairnd" "$bin/cairn"; do
	for n in $(readelf -d "$b" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
		ldd "$b" | awk -v n="$n" '$1 == n && $3 ~ /^\// {print $3}'
	done
done | sort -u)
[ -n "$libs" ] || fail "found no shared libraries in the binaries"
for lib in $libs; do
	pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
		dpkg -S "${lib/#\/lib\//\/usr\/lib\/}" 2>/dev/null || true)
	pkg=${pkg%%:*}
	[ -n "$pkg" ] || fail "no package owns $lib"
	[[ "$runtime" == *" $pkg "* ]] || fail "$lib comes from $pkg, not in runtime-deps"
done
ok "runtime-deps cover the binaries' libraries"

# 5. The container's start command and health check, on loopback, with the
# data directory the image's volume would be.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CAIRN_DATA=$tmp/data CAIRND=$bin/cairnd
export CAIRN_LISTEN=tcp://127.0.0.1:$port CAIRN_HTTP=127.0.0.1:$hport
mkdir -p "$CAIRN_DATA"
bash "$steps" start --log-level warn &
pid=$!
for i in $(seq 100); do
	bash "$steps" healthcheck 2>/dev/null && break
	sleep 0.1
done
bash "$steps" healthcheck || fail "healthcheck did not pass"
[ -f "$CAIRN_DATA/cairn.db" ] || fail "start did not put the database in the data directory"
[ -d "$CAIRN_DATA/backups" ] || fail "start did not make the backup directory"
id=$("$bin/cairn" --server "$CAIRN_LISTEN" enqueue docker --payload hi)
"$bin/cairn" --server "$CAIRN_LISTEN" backup image.db >/dev/null ||
	fail "backup into the image's backup directory failed"
[ -f "$CAIRN_DATA/backups/image.db" ] || fail "the backup is not in \$CAIRN_DATA/backups"
kill -TERM $pid
wait $pid || fail "cairnd did not exit 0 on SIGTERM (docker stop)"
pid=
if bash "$steps" healthcheck 2>/dev/null; then fail "healthcheck passes with cairnd stopped"; fi
ok "start, healthcheck, task $id, backup, stop"

# 6. compose.yaml: both profiles, the services of each, one image built
# from docker/Dockerfile; litestream.yml watches the database cairnd uses.
"$py" - "$src/docker" <<'EOF' || fail "compose.yaml or litestream.yml"
import sys, yaml
d = sys.argv[1]
c = yaml.safe_load(open(d + "/compose.yaml"))
prof = {}
for name, s in c["services"].items():
    for p in s.get("profiles", []):
        prof.setdefault(p, set()).add(name)
assert prof["sqlite"] == {"cairnd", "litestream"}, prof
assert prof["postgres"] == {"postgres", "cairnd-a", "cairnd-b"}, prof
for n in ("cairnd", "cairnd-a", "cairnd-b"):
    s = c["services"][n]
    assert s["build"]["dockerfile"] == "docker/Dockerfile", n
    for p in s["ports"]:
        assert p.startswith("127.0.0.1:"), p
    store = s["environment"]["CAIRN_STORE"]
    assert store.startswith("sqlite:" if n == "cairnd" else "postgres://")
l = yaml.safe_load(open(d + "/litestream.yml"))
env = c["services"]["cairnd"]["environment"]
path = env["CAIRN_STORE"][len("sqlite:"):]
ls = c["services"]["litestream"]
# litestream.yml takes its paths from the environment (the same file
# serves the lost-disk test); compose must give Litestream cairnd's file,
# and cairnd must leave checkpoints to it.
assert l["dbs"][0]["path"] == "${CAIRN_DB}", l
assert ls["environment"]["CAIRN_DB"] == path, (ls, path)
assert ls["environment"]["LITESTREAM_REPLICA_URL"], ls
assert env["CAIRN_CHECKPOINTS"] == "external", env
for p in ls["ports"]:
    assert p.startswith("127.0.0.1:"), p
vol = [v for v in ls["volumes"] if v.startswith("cairn-data:")]
assert vol == ["cairn-data:/var/lib/cairn"], vol
EOF
ok "compose.yaml profiles and litestream.yml"

# 7. The systemd unit parses (systemd-analyze, when there is one).
if command -v systemd-analyze >/dev/null; then
	unit=$tmp/out/usr/local/lib/systemd/system/cairnd.service
	out=$(systemd-analyze verify "$unit" 2>&1 || true)
	# This machine may lack the cairn user or a running systemd; only
	# complaints about the unit's own syntax count.
	if grep -E "Unknown (key|section)|Failed to parse|Invalid" <<<"$out"; then
		fail "cairnd.service: $out"
	fi
	grep -q "ExecStart=/usr/local/bin/cairnd" "$unit" || fail "unit runs another cairnd"
	ok "systemd unit"
fi
echo "docker_steps_test: $pass passed, 0 failed"
