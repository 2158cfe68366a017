"""The Client API against a real cairnd: every call and its options."""
from __future__ import annotations

import datetime
import threading
import time

import pytest

import cairn


def test_ping(client: cairn.Client) -> None:
    p = client.ping()
    assert p.version
    assert abs(p.server_time - time.time()) < 60
    assert p.round_trip >= 0


def test_enqueue_and_get(client: cairn.Client, queue: str) -> None:
    r = client.enqueue(
        queue,
        b"\x00bin\xff",
        priority=7,
        delay=30,
        max_attempts=3,
        heartbeat_timeout=12.5,
        start_to_close_timeout=90,
        retry_initial=0.25,
        retry_multiplier=3,
        retry_max=10,
    )
    assert r.created and r.id > 0
    t = client.get(r.id)
    assert t.id == r.id and t.queue == queue
    assert t.payload == b"\x00bin\xff"
    assert t.state == cairn.State.PENDING == "pending"
    assert t.priority == 7 and t.max_attempts == 3 and t.attempt == 0
    assert t.heartbeat_timeout == 12.5 and t.start_to_close_timeout == 90
    assert (t.retry_initial, t.retry_multiplier, t.retry_max) == (0.25, 3, 10)
    assert t.run_at == pytest.approx(t.created_at + 30, abs=0.5)
    assert t.key is None and t.lease_token is None and t.finished_at is None
    with pytest.raises(ValueError):
        t.complete()  # not leased


def test_enqueue_str_payload_and_run_at(client: cairn.Client, queue: str) -> None:
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    t = client.get(client.enqueue(queue, "héllo", run_at=when).id)
    assert t.payload == "héllo".encode() and t.text == "héllo"
    assert t.run_at == pytest.approx(when.timestamp(), abs=0.01)
    t = client.get(client.enqueue(queue, None, run_at=time.time() + 60).id)
    assert t.payload == b"" and t.run_at > time.time() + 50


def test_idempotency_key(client: cairn.Client, queue: str) -> None:
    a = client.enqueue(queue, b"1", key="order-42")
    b = client.enqueue(queue, b"2", key="order-42")
    assert a.created and not b.created and a.id == b.id
    assert client.get(a.id).key == "order-42"
    assert client.get(a.id).payload == b"1"


def test_enqueue_many(client: cairn.Client, queue: str) -> None:
    results = client.enqueue_many(
        [
            {"queue": queue, "payload": b"a", "priority": 1},
            cairn.TaskSpec(queue, "b", key="kb"),
            cairn.TaskSpec(queue, "c", key="kb"),
        ]
    )
    assert [r.created for r in results] == [True, True, False]
    assert results[1].id == results[2].id
    assert client.enqueue_many([]) == []
    with pytest.raises(TypeError):
        client.enqueue_many([{"queue": queue, "nonsense": 1}])


def test_enqueue_many_is_atomic(client: cairn.Client, queue: str) -> None:
    with pytest.raises(cairn.InvalidArgument) as e:
        client.enqueue_many([{"queue": queue, "payload": "ok"}, {"queue": "no spaces"}])
    assert "tasks[1].queue" in e.value.message
    assert len(client.list(queue)) == 0


def test_lease_order_and_fields(client: cairn.Client, queue: str) -> None:
    low = client.enqueue(queue, b"low", priority=1).id
    high = client.enqueue(queue, b"high", priority=9).id
    tasks = client.lease(queue, max=5, worker_id="pytest-w", lease_timeout=30)
    assert [t.id for t in tasks] == [high, low]
    t = tasks[0]
    assert t.state == "active" and t.attempt == 1
    assert t.lease_token and t.worker_id == "pytest-w"
    assert t.lease_deadline == pytest.approx(time.time() + 30, abs=5)
    assert client.lease(queue) == []


def test_lease_several_queues(client: cairn.Client, queue: str) -> None:
    a = client.enqueue(queue + "a", b"").id
    b = client.enqueue(queue + "b", b"").id
    got = client.lease([queue + "a", queue + "b"], max=10)
    assert sorted(t.id for t in got) == sorted([a, b])


def test_lease_long_poll(client: cairn.Client, queue: str) -> None:
    start = time.monotonic()
    assert client.lease(queue, wait=0.3) == []
    assert 0.25 <= time.monotonic() - start < 5

    # A long-poll is woken by an enqueue from another thread.
    timer = threading.Timer(0.3, lambda: client.enqueue(queue, b"late"))
    timer.start()
    try:
        start = time.monotonic()
        got = client.lease(queue, wait=10)
        assert [t.payload for t in got] == [b"late"]
        assert time.monotonic() - start < 5
    finally:
        timer.join()


def test_heartbeat_complete(client: cairn.Client, queue: str) -> None:
    client.enqueue(queue, b"job")
    (t,) = client.lease(queue, lease_timeout=5)
    first = t.lease_deadline
    time.sleep(0.05)
    assert t.heartbeat("50%") is False
    assert t.lease_deadline > first
    assert t.details == b"50%"
    t.complete({"answer": 42})
    t.complete({"answer": 42})  # repeating one that took effect is fine
    done = client.get(t.id)
    assert done.state == "succeeded" and done.details == b"50%"
    assert done.result == b'{"answer": 42}'
    assert done.finished_at is not None


def test_complete_bytes_and_empty(client: cairn.Client, queue: str) -> None:
    client.enqueue_many([{"queue": queue}, {"queue": queue}])
    a, b = client.lease(queue, max=2)
    a.complete(b"\x01\x02")
    b.complete()
    assert client.get(a.id).result == b"\x01\x02"
    assert client.get(b.id).result == b""


def test_fail_retry_and_non_retryable(client: cairn.Client, queue: str) -> None:
    rid = client.enqueue(queue, b"", retry_initial=30).id
    (t,) = client.lease(queue)
    assert t.fail("flaky", retry_delay=0.1) == "pending"
    assert client.get(rid).last_error == "flaky"
    (t,) = client.lease(queue, wait=5)
    assert t.id == rid and t.attempt == 2
    assert t.fail("broken", retryable=False) == "failed"
    failed = client.get(rid)
    assert failed.state == "failed" and failed.last_error == "broken"

    again = client.retry(rid)
    assert again.state == "pending"
    (t,) = client.lease(queue, wait=5)
    assert t.id == rid
    t.complete()


def test_fail_uses_up_attempts(client: cairn.Client, queue: str) -> None:
    rid = client.enqueue(queue, b"", max_attempts=1).id
    (t,) = client.lease(queue)
    assert t.fail("once") == "failed"
    assert client.await_result(rid, 1).state == "failed"


def test_release(client: cairn.Client, queue: str) -> None:
    tid = client.enqueue(queue, "x").id
    [t] = client.lease(queue, release_on_disconnect=True)
    assert client.release(t, reason="deploy") == "pending"
    [again] = client.lease(queue)
    assert again.id == tid and again.attempt == 1
    released = [e for e in client.history(tid) if e.kind == "released"]
    assert [e.message for e in released] == ["deploy"]
    assert client.release(again, count_attempt=True) == "pending"
    assert client.get(tid).attempt == 1


def test_cancel(client: cairn.Client, queue: str) -> None:
    pending = client.enqueue(queue, b"", delay=60).id
    assert client.cancel(pending) == "canceled"
    assert client.get(pending).state == cairn.State.CANCELED

    active = client.enqueue(queue, b"").id
    (t,) = client.lease(queue)
    assert client.cancel(active) == "active"
    assert t.heartbeat() is True and t.cancel_requested
    assert t.fail("stopping on request") == "canceled"
    assert client.get(active).state == "canceled"
    assert client.retry(active).state == "pending"


def test_list_pages_and_filter(client: cairn.Client, queue: str) -> None:
    specs = [{"queue": queue, "payload": str(i)} for i in range(7)]
    ids = [r.id for r in client.enqueue_many(specs)]
    client.cancel(ids[0])
    page = client.list(queue, limit=3)
    assert [t.id for t in page] == ids[:3] and page.next_after == ids[2]
    page2 = client.list(queue, limit=3, after=page.next_after)
    assert [t.id for t in page2.tasks] == ids[3:6]
    assert [t.id for t in client.iter_tasks(queue, page_size=2)] == ids
    assert [t.id for t in client.list(queue, state="canceled")] == [ids[0]]
    assert [t.id for t in client.iter_tasks(queue, cairn.State.PENDING, 4)] == ids[1:]
    assert client.list(queue, state="any", limit=100).next_after == 0
    with pytest.raises(ValueError):
        client.list(queue, state="sleeping")


def test_stats(client: cairn.Client, queue: str) -> None:
    client.enqueue_many([{"queue": queue}, {"queue": queue}, {"queue": queue, "delay": 60}])
    (t,) = client.lease(queue)
    t.complete()
    (s,) = client.stats(queue)
    counts = (s.queue, s.pending, s.active, s.succeeded, s.failed, s.canceled)
    assert counts == (queue, 2, 0, 1, 0, 0)
    assert s.due == 1 and s.oldest_due_age >= 0
    assert queue in {x.queue for x in client.stats()}


def test_await_result(client: cairn.Client, queue: str) -> None:
    rid = client.enqueue(queue, b"x").id
    start = time.monotonic()
    with pytest.raises(cairn.DeadlineExceeded):
        client.await_result(rid, 0.3)
    assert time.monotonic() - start >= 0.25

    def finish() -> None:
        (t,) = client.lease(queue)
        t.complete(b"done")

    timer = threading.Timer(0.2, finish)
    timer.start()
    try:
        done = client.await_result(rid, timeout=10)
    finally:
        timer.join()
    assert done.state == "succeeded" and done.result == b"done"


def test_history(client: cairn.Client, queue: str) -> None:
    rid = client.enqueue(queue, b"").id
    (t,) = client.lease(queue, worker_id="hist-worker", lease_timeout=10)
    t.heartbeat()
    t.complete()
    events = client.history(rid)
    assert [e.kind for e in events] == ["enqueued", "leased", "heartbeat", "completed"]
    assert events[1].attempt == 1 and events[1].worker_id == "hist-worker"
    assert all(e.at > 0 for e in events)
    assert events == sorted(events, key=lambda e: e.at)


def test_threads_share_a_client(client: cairn.Client, queue: str) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def produce() -> None:
        for _ in range(20):
            r = client.enqueue(queue, b"")
            with lock:
                ids.append(r.id)

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(ids)) == 80
    assert (client.stats(queue)[0].pending) == 80


def test_close(server) -> None:
    c = cairn.Client(server.url)
    with c:
        c.ping()
    assert c.closed
    c.close()  # twice is fine
    with pytest.raises(cairn.FailedPrecondition):
        c.ping()


def test_close_waits_for_a_long_poll(server, queue: str) -> None:
    c = cairn.Client(server.url)
    polling = threading.Thread(target=lambda: c.lease(queue, wait=0.5))
    polling.start()
    time.sleep(0.1)
    start = time.monotonic()
    c.close()
    assert time.monotonic() - start >= 0.2
    polling.join()


def test_timeout_setting(server) -> None:
    with cairn.Client(server.url, timeout=2.5) as c:
        assert c.timeout == 2.5
        c.timeout = 5
        assert c.timeout == 5
        with pytest.raises(ValueError):
            c.timeout = 0


def test_complete_next(client: cairn.Client, queue: str) -> None:
    a, b = (r.id for r in client.enqueue_many([{"queue": queue, "payload": "a"},
                                                {"queue": queue, "payload": "b"}]))
    (t,) = client.lease(queue, worker_id="loop", lease_timeout=30)
    nxt = t.complete_next(b"done a", worker_id="loop", lease_timeout=30)
    assert client.get(a).state == "succeeded"
    assert nxt is not None and nxt.id == b and nxt.state == "active"
    assert nxt.lease_token and nxt.attempt == 1 and nxt.worker_id == "loop"
    assert nxt.complete_next("done b") is None  # nothing else due
    assert client.get(b).result == b"done b"


def test_heartbeat_many(client: cairn.Client, queue: str) -> None:
    client.enqueue_many([{"queue": queue}] * 3)
    tasks = client.lease(queue, max=3, lease_timeout=5)
    tasks[2].complete()  # its lease is over: refused, the others go on
    before = [t.lease_deadline for t in tasks]
    time.sleep(0.02)
    client.cancel(tasks[1].id)
    errors = client.heartbeat_many(tasks)
    assert errors[0] is None and errors[1] is None
    assert isinstance(errors[2], cairn.LeaseLost)
    assert tasks[0].lease_deadline > before[0]
    assert tasks[1].cancel_requested and not tasks[0].cancel_requested
