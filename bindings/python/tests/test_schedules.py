"""Cron schedules through the Python client: add, list, pause and resume,
replace, delete, refusals that change nothing, and a schedule that fires."""
from __future__ import annotations

import functools
import time

import pytest

import cairn


def _names(client: cairn.Client) -> dict[str, dict]:
    return {s["name"]: s for s in client.schedules()}


def test_schedule_lifecycle(client: cairn.Client, queue: str) -> None:
    name = queue  # the queue name is this test's own, so is the schedule's
    with pytest.raises(cairn.InvalidArgument):  # no such queue yet
        client.schedule_add(name, queue, cron="0 9 * * mon-fri")
    assert name not in _names(client)

    s = client.schedule_add(
        name, queue, cron="0 9 * * mon-fri", payload=b"\x00report", tz="Europe/Paris",
        missed="skip", priority=3, max_attempts=4, create_queue=True,
    )
    assert s["name"] == name and s["queue"] == queue
    assert s["cron"] == "0 9 * * mon-fri" and s["tz"] == "Europe/Paris"
    assert s["payload"] == b"\x00report"
    assert (s["priority"], s["max_attempts"], s["missed"]) == (3, 4, "skip")
    assert not s["paused"] and s["next_fire_at"] is not None
    assert s["last_fire_at"] is None and s["last_task_id"] is None
    assert _names(client)[name] == s

    assert client.schedule_pause(name)["paused"]
    assert _names(client)[name]["paused"]
    assert not client.schedule_resume(name)["paused"]
    # A schedule alone does not make its queue known: the adds below say
    # create_queue too, so that each reaches the check it is about.
    add = functools.partial(client.schedule_add, name, queue, create_queue=True)

    with pytest.raises(cairn.AlreadyExists):
        add(cron="@hourly")
    assert _names(client)[name]["cron"] == "0 9 * * mon-fri"
    r = add(cron="@hourly", replace=True)
    assert r["cron"] == "@hourly" and r["tz"] is None and r["missed"] == "fire-once"
    assert _names(client)[name] == r

    with pytest.raises(cairn.InvalidArgument) as bad:
        add(cron="61 * * * *", replace=True)
    assert "minute" in bad.value.message  # the server's words: which field
    with pytest.raises(cairn.InvalidArgument):
        add(cron="@hourly", tz="Mars/Olympus", replace=True)
    assert _names(client)[name] == r  # neither refusal changed it

    client.schedule_delete(name)
    assert name not in _names(client)
    with pytest.raises(cairn.NotFound):
        client.schedule_delete(name)
    with pytest.raises(cairn.NotFound):
        client.schedule_pause(name)
    with pytest.raises(ValueError):
        add(cron="@hourly", missed="never")


def test_schedule_enqueues(client: cairn.Client, queue: str) -> None:
    name = queue
    client.schedule_add(name, queue, cron="@every 1s", payload="tick", create_queue=True)
    try:
        # Ticks are a second apart; the bound is far longer so that a busy
        # machine fails nothing, and the test asserts only what arrived.
        end = time.monotonic() + 60
        tasks: list[cairn.Task] = []
        while len(tasks) < 2 and time.monotonic() < end:
            time.sleep(0.2)
            tasks = client.list(queue).tasks
        assert len(tasks) >= 2, "the schedule enqueued fewer than 2 tasks in 60 s"
        for t in tasks:
            assert t.payload == b"tick"
            assert t.key is not None and t.key.startswith(f"schedule:{name}:")
        assert len({t.key for t in tasks}) == len(tasks)  # one task per tick
        last = _names(client)[name]["last_task_id"]
        assert last in {t.id for t in client.list(queue).tasks}  # read after: it holds it
    finally:
        client.schedule_delete(name)
