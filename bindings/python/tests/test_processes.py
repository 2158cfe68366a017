"""Worker processes: SIGTERM and SIGINT, and the examples as documented."""
from __future__ import annotations

import os
import queue as _queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import HERE, PKG_ROOT


# Runs the script argv[1] as __main__, after asking Linux to SIGTERM this
# process when the test process dies, so that a killed test run (a ctest
# timeout) leaves no worker behind. Done after exec, unlike preexec_fn,
# which is unsafe in a process with threads.
GUARD = """
import ctypes, os, runpy, signal, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(os.environ["CAIRN_TEST_PARENT"]):
        sys.exit("parent already gone")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def spawn(children: list, *argv: str) -> tuple[subprocess.Popen, "_queue.Queue[str]"]:
    """Starts a Python script as a child; returns it and a queue of its
    stdout lines."""
    env = dict(os.environ, PYTHONPATH=str(PKG_ROOT), PYTHONUNBUFFERED="1",
               CAIRN_TEST_PARENT=str(os.getpid()))
    proc = subprocess.Popen(
        [sys.executable, "-c", GUARD, *argv], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, text=True,
    )
    children.append(proc)
    lines: _queue.Queue[str] = _queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def expect(lines: "_queue.Queue[str]", prefix: str, timeout: float = 10) -> str:
    """Returns the first line starting with prefix; fails after timeout."""
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=end - time.monotonic())
        except _queue.Empty:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
    pytest.fail(f"no line starting with {prefix!r} in {timeout} s; got {seen}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(server, client, queue, children, signum) -> None:
    ids = [r.id for r in client.enqueue_many([{"queue": queue} for _ in range(3)])]
    proc, lines = spawn(children, str(HERE / "worker_proc.py"), server.url, queue, "1.0")
    running = int(expect(lines, "started ").split()[1])
    start = time.monotonic()
    proc.send_signal(signum)
    assert proc.wait(10) == 0
    assert time.monotonic() - start >= 0.5  # it let the handler finish
    expect(lines, "stopped")
    assert client.get(running).state == "succeeded"
    for i in ids:
        if i != running:
            t = client.get(i)
            assert t.state == "pending" and t.attempt == 0


def test_second_sigint_forces_exit(server, client, queue, children) -> None:
    rid = client.enqueue(queue, b"").id
    proc, lines = spawn(children, str(HERE / "worker_proc.py"), server.url, queue, "30")
    expect(lines, "started ")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) != 0
    assert time.monotonic() - start < 5
    assert client.get(rid).state == "active"  # until its lease ends


def test_examples(server, children) -> None:
    examples = PKG_ROOT / "examples"
    q = f"emails.{os.getpid()}"
    worker, wlines = spawn(
        children, str(examples / "worker.py"), "--url", server.url, "--queue", q
    )
    expect(wlines, "worker: waiting for tasks")
    producer = subprocess.run(
        [sys.executable, str(examples / "producer.py"), "--url", server.url, "--queue", q,
         "--count", "4", "--timeout", "20"],
        env=dict(os.environ, PYTHONPATH=str(PKG_ROOT)), capture_output=True, text=True, timeout=40,
    )
    assert producer.returncode == 0, producer.stdout + producer.stderr
    done = [l for l in producer.stdout.splitlines() if " succeeded after " in l]
    assert len(done) == 4, producer.stdout
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    expect(wlines, "worker: stopped")
