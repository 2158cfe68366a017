"""Status codes become exceptions with the server's or library's message."""
from __future__ import annotations

import pickle
import threading
import time

import pytest

import cairn
from cairn.errors import error_for

from conftest import free_port


def test_not_found(client: cairn.Client) -> None:
    with pytest.raises(cairn.NotFound) as e:
        client.get(987654321)
    assert e.value.code == cairn.Status.NOT_FOUND == 5
    assert "987654321" in e.value.message
    assert str(e.value).startswith("NOT_FOUND: ")
    for call in (client.cancel, client.retry, client.history):
        with pytest.raises(cairn.NotFound):
            call(987654321)


def test_invalid_arguments(client: cairn.Client, queue: str) -> None:
    with pytest.raises(cairn.InvalidArgument, match="invalid queue name"):
        client.enqueue("spaces are not allowed", b"")
    with pytest.raises(cairn.InvalidArgument, match="delay_ms"):
        client.enqueue(queue, b"", delay=-1)
    with pytest.raises(cairn.InvalidArgument, match="multiplier"):
        client.enqueue(queue, b"", retry_multiplier=0.5)
    with pytest.raises(cairn.InvalidArgument):
        client.get(0)
    with pytest.raises(cairn.InvalidArgument):
        client.lease([])
    with pytest.raises(TypeError):
        client.enqueue(queue, 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.enqueue(queue, b"", delay=float("nan"))


def test_payload_over_limit(client: cairn.Client, queue: str) -> None:
    with pytest.raises(cairn.InvalidArgument, match="exceeds the limit"):
        client.enqueue(queue, b"x" * (1024 * 1024 + 1))


def test_lease_lost(client: cairn.Client, queue: str) -> None:
    rid = client.enqueue(queue, b"", retry_initial=0.01).id
    (t,) = client.lease(queue, lease_timeout=0.2)
    time.sleep(0.5)
    with pytest.raises(cairn.LeaseLost) as e:
        t.heartbeat()
    assert e.value.message.startswith("lease lost")
    assert isinstance(e.value, cairn.FailedPrecondition)
    assert e.value.code == cairn.Status.FAILED_PRECONDITION
    with pytest.raises(cairn.LeaseLost):
        t.complete(b"too late")
    with pytest.raises(cairn.LeaseLost):
        t.fail("too late")
    # The expired attempt counts as failed; the next one gets a new token,
    # and the stale one cannot touch it.
    (t2,) = client.lease(queue, wait=5)
    assert t2.id == rid and t2.attempt == 2 and t2.lease_token != t.lease_token
    with pytest.raises(cairn.LeaseLost):
        t.complete()
    t2.complete()
    assert "expired" in [e.kind for e in client.history(rid)]


def test_wrong_state_is_failed_precondition_not_lease_lost() -> None:
    e = error_for(9, "task 3 is not FAILED or CANCELED")
    assert type(e) is cairn.FailedPrecondition
    assert type(error_for(9, "lease lost: heartbeat timeout")) is cairn.LeaseLost


def test_every_code_has_a_class() -> None:
    names = {
        1: cairn.Cancelled, 2: cairn.Unknown, 3: cairn.InvalidArgument,
        4: cairn.DeadlineExceeded, 5: cairn.NotFound, 6: cairn.AlreadyExists,
        7: cairn.PermissionDenied, 8: cairn.ResourceExhausted,
        9: cairn.FailedPrecondition, 10: cairn.Aborted, 11: cairn.OutOfRange,
        12: cairn.Unimplemented, 13: cairn.Internal, 14: cairn.Unavailable,
        15: cairn.DataLoss, 16: cairn.Unauthenticated,
    }
    for code, cls in names.items():
        e = error_for(code, "why")
        assert type(e) is cls and e.code == code and e.message == "why"
        assert e.status == cairn.Status(code).name
    unknown = error_for(99, "from the future")
    assert type(unknown) is cairn.CairnError and unknown.code == 99
    copy = pickle.loads(pickle.dumps(cairn.LeaseLost(9, "lease lost: x")))
    assert type(copy) is cairn.LeaseLost and copy.message == "lease lost: x"


def test_unreachable_server() -> None:
    url = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(cairn.Unavailable):
        cairn.Client(url, timeout=0.5)
    # A lazy client opens, and its calls time out instead.
    with cairn.Client(url, timeout=0.3, lazy_connect=True) as c:
        start = time.monotonic()
        with pytest.raises((cairn.DeadlineExceeded, cairn.Unavailable)):
            c.ping()
        assert time.monotonic() - start < 5


def test_bad_url() -> None:
    with pytest.raises(cairn.CairnError):
        cairn.Client("nonsense://where")


def test_messages_are_per_thread(client: cairn.Client, queue: str) -> None:
    """Each thread reads its own failure's message, never another's."""
    barrier = threading.Barrier(2)
    seen: dict[str, str] = {}

    def fail(kind: str) -> None:
        barrier.wait()
        for _ in range(50):
            try:
                if kind == "notfound":
                    client.get(123456789)
                else:
                    client.enqueue("bad queue", b"")
            except cairn.CairnError as e:
                if kind in seen and seen[kind] != e.message:
                    seen[kind] = "MIXED"
                seen.setdefault(kind, e.message)

    threads = [threading.Thread(target=fail, args=(k,)) for k in ("notfound", "invalid")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "123456789" in seen["notfound"]
    assert "queue" in seen["invalid"]


def test_library_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from cairn import _lib

    monkeypatch.setenv("CAIRN_LIBRARY", str(tmp_path / "missing.so"))
    with pytest.raises(cairn.LibraryNotFound, match="missing.so"):
        _lib.find_library()
    fake = tmp_path / "libcairn.so"
    fake.write_bytes(b"")
    monkeypatch.setenv("CAIRN_LIBRARY", str(fake))
    assert cairn.find_library() == str(fake)
