"""Per-queue settings through the Python client: set, read back, a paused
queue that leases nothing, and bad settings refused."""
from __future__ import annotations

import pytest

import cairn


def test_queue_settings(client: cairn.Client, queue: str) -> None:
    with pytest.raises(cairn.NotFound):
        client.queue_set(queue, paused=True)
    s = client.queue_set(queue, create=True, max_active=2, rate=(5, 1.0))
    assert s["max_active"] == 2
    assert s["rate"] == (5, 1.0, 5)
    client.queue_set(queue, paused=True)
    client.enqueue(queue, b"x")
    assert client.lease(queue) == []
    got = client.queue_get(queue)
    assert got["paused"] and got["max_active"] == 2
    client.queue_set(queue, paused=False)
    assert len(client.lease(queue)) == 1
    with pytest.raises(cairn.InvalidArgument):
        client.queue_set(queue, max_active=5_000_000)
    assert client.queue_get(queue)["max_active"] == 2
