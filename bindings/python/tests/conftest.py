"""Fixtures: a real cairnd on a free loopback port with a temporary store.

ctest sets CAIRND (the server binary) and CAIRN_LIBRARY (libcairn.so);
run by hand, the newest build under the repository's build/ is used.
"""
from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
PKG_ROOT = HERE.parent  # bindings/python, what PYTHONPATH must hold
REPO = PKG_ROOT.parent.parent
sys.path.insert(0, str(PKG_ROOT))

import cairn  # noqa: E402


def _find_cairnd() -> str:
    env = os.environ.get("CAIRND")
    if env:
        if not os.access(env, os.X_OK):
            pytest.exit(f"CAIRND={env}: not an executable file", returncode=2)
        return env
    builds = list(REPO.glob("build/server/cairnd")) + list(REPO.glob("build/*/server/cairnd"))
    found = sorted(
        (p for p in builds if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if not found:
        pytest.exit("set CAIRND to the cairnd binary (or build the tree)", returncode=2)
    return str(found[0])


def free_port() -> int:
    """Returns a loopback TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # Linux: cairnd gets SIGTERM if the test process dies before its
    # teardown ran (a ctest timeout, say), so that no server is left.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """A cairnd child process; ``url`` is where it listens."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        for attempt in range(5):  # another process may take the port first
            self.url = f"tcp://127.0.0.1:{free_port()}"
            log = open(self.workdir / "cairnd.log", "ab")
            self.proc = subprocess.Popen(
                [self.binary, "--listen", self.url,
                 "--store", f"sqlite:{self.workdir / 'cairn.db'}",
                 "--log-level", os.environ.get("CAIRN_TEST_LOG", "warn")],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                # Safe only while this process has no other threads: the
                # session fixture runs first, before any client (and its
                # nng threads) exists; a second attempt goes without.
                preexec_fn=_die_with_parent
                if attempt == 0 and sys.platform.startswith("linux") else None,
            )
            log.close()
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"cairnd did not start; see {self.workdir / 'cairnd.log'}")

    def _wait_ready(self, limit: float = 10.0) -> bool:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with cairn.Client(self.url, timeout=1.0) as c:
                    c.ping()
                return True
            except cairn.CairnError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session", autouse=True)
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The session's cairnd; started before any test makes a client."""
    s = Server(_find_cairnd(), tmp_path_factory.mktemp("cairnd"))
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def client(server: Server) -> Iterator[cairn.Client]:
    with cairn.Client(server.url) as c:
        yield c


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> str:
    """A queue name of this test's own, so that tests never see each
    other's tasks on the shared server."""
    name = re.sub(r"[^A-Za-z0-9_.:-]", "_", request.node.name)
    return f"{name[:100]}.{os.getpid()}.{int(time.monotonic() * 1e6) % 10**9}"


@pytest.fixture
def run_worker():
    """Runs a Worker's run() on a thread; stops and joins it at teardown."""
    started: list[tuple[cairn.Worker, threading.Thread, list]] = []

    def start(worker: cairn.Worker) -> threading.Thread:
        errors: list[BaseException] = []

        def body() -> None:
            try:
                worker.run()
            except BaseException as e:  # reported by the teardown
                errors.append(e)

        t = threading.Thread(target=body, name="test-worker", daemon=True)
        t.start()
        started.append((worker, t, errors))
        return t

    yield start
    for worker, t, errors in started:
        worker.stop()
        t.join(15)
        assert not t.is_alive(), "worker did not stop"
        assert not errors, errors


@pytest.fixture
def children():
    """Popen objects to kill at teardown if a test left them running."""
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
