"""The Worker: handlers, results, retries, heartbeats, concurrency, stop."""
from __future__ import annotations

import collections
import threading
import time

import pytest

import cairn


def make_worker(client: cairn.Client, **kw) -> cairn.Worker:
    kw.setdefault("poll_wait", 0.5)
    return cairn.Worker(client, **kw)


def test_results_of_every_type(client, queue, run_worker) -> None:
    w = make_worker(client)
    results = {b"bytes": b"\x00raw", b"str": "text", b"none": None, b"json": {"a": [1, 2]}}

    @w.handler(queue)
    def handle(task: cairn.Task):
        return results[task.payload]

    ids = {p: client.enqueue(queue, p).id for p in results}
    run_worker(w)
    got = {p: client.await_result(i, 10) for p, i in ids.items()}
    assert all(t.state == "succeeded" for t in got.values())
    assert got[b"bytes"].result == b"\x00raw"
    assert got[b"str"].result == b"text"
    assert got[b"none"].result == b""
    assert got[b"json"].result == b'{"a": [1, 2]}'


def test_exception_becomes_a_retry(client, queue, run_worker) -> None:
    w = make_worker(client)
    attempts: list[int] = []

    @w.handler(queue)
    def flaky(task: cairn.Task) -> str:
        attempts.append(task.attempt)
        if task.attempt == 1:
            raise ConnectionError("upstream said 503")
        return "ok on attempt %d" % task.attempt

    rid = client.enqueue(queue, b"", retry_initial=0.05).id
    run_worker(w)
    done = client.await_result(rid, 10)
    assert done.state == "succeeded" and done.attempt == 2
    assert done.result == b"ok on attempt 2"
    assert attempts == [1, 2]
    failed = [e for e in client.history(rid) if e.kind == "failed"]
    assert len(failed) == 1 and "ConnectionError: upstream said 503" in failed[0].message


def test_non_retryable(client, queue, run_worker) -> None:
    w = make_worker(client)

    @w.handler(queue)
    def bad(task: cairn.Task) -> None:
        raise cairn.NonRetryable("malformed payload")

    rid = client.enqueue(queue, b"{").id
    run_worker(w)
    done = client.await_result(rid, 10)
    assert done.state == "failed" and done.attempt == 1
    assert done.last_error == "malformed payload"


def test_heartbeats_keep_a_long_task(client, queue, run_worker) -> None:
    """lease_timeout 0.3 s, a handler of 0.9 s: the lease holds on its own."""
    w = make_worker(client, lease_timeout=0.3)
    seen: list[tuple[int, bool]] = []

    @w.handler(queue)
    def slow(task: cairn.Task) -> str:
        time.sleep(0.9)
        seen.append((task.attempt, task.lease_lost))
        return "finished"

    rid = client.enqueue(queue, b"", retry_initial=0.01).id
    run_worker(w)
    done = client.await_result(rid, 10)
    assert done.state == "succeeded" and done.attempt == 1
    assert seen == [(1, False)]
    kinds = [e.kind for e in client.history(rid)]
    assert "expired" not in kinds
    assert kinds.count("heartbeat") >= 2


def test_handler_sees_details_and_cancel(client, queue, run_worker) -> None:
    w = make_worker(client, lease_timeout=0.3)
    started = threading.Event()
    details_seen: list[bytes] = []

    @w.handler(queue)
    def cancellable(task: cairn.Task) -> None:
        details_seen.append(task.details)
        task.heartbeat(b"step 1")
        started.set()
        end = time.monotonic() + 10
        while not task.cancel_requested and time.monotonic() < end:
            time.sleep(0.02)
        raise RuntimeError("canceled at step 1")

    rid = client.enqueue(queue, b"").id
    run_worker(w)
    assert started.wait(10)
    assert client.cancel(rid) == "active"
    done = client.await_result(rid, 10)
    assert done.state == "canceled" and done.details == b"step 1"
    assert details_seen == [b""]


def test_concurrency(client, queue, run_worker) -> None:
    n, concurrency = 40, 4
    w = make_worker(client, concurrency=concurrency)
    runs: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()
    running = 0
    peak = 0

    @w.handler(queue)
    def work(task: cairn.Task) -> bytes:
        nonlocal running, peak
        with lock:
            runs[task.id] += 1
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return task.payload

    specs = [{"queue": queue, "payload": str(i)} for i in range(n)]
    ids = [r.id for r in client.enqueue_many(specs)]
    run_worker(w)
    for i in ids:
        assert client.await_result(i, 20).state == "succeeded"
    assert runs == {i: 1 for i in ids}
    assert peak == concurrency
    (s,) = client.stats(queue)
    assert s.succeeded == n and s.pending == s.active == 0
    assert w.completed == n and w.failed == 0


def test_stop_finishes_running_and_leases_no_more(client, queue) -> None:
    # With every handler thread busy, the poller is not in a Lease call;
    # stop() then means no Lease at all. (A long-poll already waiting at
    # stop() may still deliver tasks, which then run: see Worker.run.)
    w = make_worker(client, concurrency=1)
    started = threading.Event()

    @w.handler(queue)
    def slow(task: cairn.Task) -> str:
        started.set()
        time.sleep(0.5)
        return "finished"

    first = client.enqueue(queue, b"first").id
    runner = threading.Thread(target=w.run)
    runner.start()
    try:
        assert started.wait(10)
        w.stop()
        # Enqueued after stop(): must stay pending.
        later = client.enqueue(queue, b"later").id
        runner.join(10)
        assert not runner.is_alive()
    finally:
        w.stop()
        runner.join(10)
    assert client.get(first).state == "succeeded"
    t = client.get(later)
    assert t.state == "pending" and t.attempt == 0
    with pytest.raises(RuntimeError):
        w.run()


def test_stop_when_idle_is_prompt(client, queue) -> None:
    w = cairn.Worker(client, poll_wait=1.0)
    w.register(queue, lambda task: None)
    runner = threading.Thread(target=w.run)
    runner.start()
    time.sleep(0.2)
    start = time.monotonic()
    w.stop()
    runner.join(10)
    assert not runner.is_alive()
    assert time.monotonic() - start < 3


def test_worker_with_url_owns_its_client(server, queue) -> None:
    w = cairn.Worker(server.url, concurrency=1, poll_wait=0.5)
    got = threading.Event()

    @w.handler(queue)
    def once(task: cairn.Task) -> str:
        got.set()
        w.stop()
        return "bye"

    with cairn.Client(server.url) as c:
        rid = c.enqueue(queue, b"").id
        w.run()  # on the main thread: installs and restores signal handlers
        assert got.is_set()
        assert c.await_result(rid, 5).result == b"bye"


def test_fatal_lease_error_is_raised(client) -> None:
    w = make_worker(client)
    w.register("not a valid queue", lambda task: None)
    with pytest.raises(cairn.InvalidArgument):
        w.run()


def test_registration_rules(client, queue) -> None:
    w = make_worker(client)
    with pytest.raises(ValueError):
        w.run()  # no handlers
    with pytest.raises(TypeError):
        w.register(queue, "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cairn.Worker(client, concurrency=0)


def test_heartbeats_of_several_tasks(client, queue, run_worker) -> None:
    """Three long tasks at once: their heartbeats go out together."""
    w = make_worker(client, concurrency=3, lease_timeout=0.3)

    @w.handler(queue)
    def slow(task: cairn.Task) -> None:
        time.sleep(0.9)

    ids = [r.id for r in client.enqueue_many([{"queue": queue}] * 3)]
    run_worker(w)
    for i in ids:
        done = client.await_result(i, 10)
        assert done.state == "succeeded" and done.attempt == 1
        assert "expired" not in [e.kind for e in client.history(i)]


def test_lost_lease_is_noticed_and_outcome_dropped(client, queue, run_worker) -> None:
    """start_to_close bounds an attempt even while it heartbeats: the
    heartbeater learns the lease is gone, and the result is not sent."""
    w = make_worker(client)
    seen: list[bool] = []
    returned = threading.Event()

    @w.handler(queue)
    def overrun(task: cairn.Task) -> str:
        end = time.monotonic() + 5
        while not task.lease_lost and time.monotonic() < end:
            time.sleep(0.02)
        seen.append(task.lease_lost)
        returned.set()
        return "too late"

    rid = client.enqueue(queue, b"", start_to_close_timeout=0.3, max_attempts=1).id
    run_worker(w)
    assert returned.wait(10)
    done = client.await_result(rid, 10)
    assert seen == [True]
    assert done.state == "failed" and done.result == b""
    assert w.completed == 0
