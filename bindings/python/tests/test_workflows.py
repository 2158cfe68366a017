"""Python workflows against a real cairnd: replay, parallel activities,
signals, cancel, children, non-determinism, and a worker killed mid-run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import cairn
import wf_defs
from conftest import HERE, PKG_ROOT
from test_processes import GUARD, expect
from wf_defs import traced


@pytest.fixture
def trace(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "trace")
    monkeypatch.setenv("CAIRN_TEST_TRACE", path)
    return path


def worker(server, queue: str, **kw) -> cairn.Worker:
    kw.setdefault("poll_wait", 0.5)
    return cairn.Worker(server.url, workflow_queues=[queue], **kw)


def test_replay_is_invisible(server, client, queue, run_worker, trace) -> None:
    run_worker(worker(server, queue, workflows=[wf_defs.basic],
                      activities=[wf_defs.double, wf_defs.add]))
    h = client.start_workflow(wf_defs.basic, "news", 20, queue=queue)
    assert h.created and h.run_id > 0
    assert h.result(timeout=30) == {"plan": ["news-1", "news-2"], "one": 40, "two": 41,
                                    "now": True, "random": True, "patched": True}
    # The function ran once per turn, the step and activities once.
    assert traced(trace).count("plan") == 1
    assert traced(trace).count("double:20") == 1
    kinds = [(e.kind, e.name, e.status) for e in h.history()]
    assert kinds == [("step", "_plan", "completed"), ("activity", "double", "completed"),
                     ("activity", "add", "completed"), ("timer", "", "completed"),
                     ("marker", "now", "completed"), ("marker", "random", "completed"),
                     ("marker", "patch:v2", "completed")]
    hist = h.history()
    assert hist[0].input == b'"news"' and hist[0].value() == ["news-1", "news-2"]
    assert hist[2].input == b"[40,1]"  # several arguments travel as an array
    run = client.get_workflow(h.run_id)
    assert run.state == "succeeded" and run.type == "basic" and run.queue == queue
    # Starting again with the same workflow id gives the same run.
    again = client.start_workflow(wf_defs.basic, "news", 20, queue=queue, id=run.workflow_id)
    assert not again.created and again.run_id == h.run_id


def test_parallel_activities_in_workers_apart(server, client, queue, run_worker) -> None:
    # Workflows in one worker, activities in another.
    run_worker(worker(server, queue, workflows=[wf_defs.fan_out]))
    run_worker(cairn.Worker(server.url, concurrency=8, poll_wait=0.5,
                            activities=[wf_defs.double, wf_defs.flaky, wf_defs.broken,
                                        wf_defs.slow]))
    h = client.start_workflow(wf_defs.fan_out, [1, 2, 3], queue=queue)
    out = h.result(timeout=60)
    assert out["results"] == [2, 4, 6, 101]
    assert out["first"] == ["double", 42]
    assert out["failed"] == "ValueError: broken 7"
    hist = h.history()
    flaky = next(e for e in hist if e.name == "flaky")
    assert flaky.attempts == 2  # retried once, then answered
    broken = next(e for e in hist if e.name == "broken")
    assert broken.status == "failed" and broken.attempts == 2
    # The slow one lost the race; the run's end canceled its task.
    slow = next(e for e in hist if e.name == "slow")
    assert slow.status in ("pending", "canceled")


def test_signal_sent_before_the_wait_is_kept(server, client, queue, run_worker) -> None:
    h = client.start_workflow(wf_defs.signals_in_order, queue=queue)
    for i in range(3):
        assert h.signal("item", {"n": i}) == 0  # no wait yet: kept
    run_worker(worker(server, queue, workflows=[wf_defs.signals_in_order]))
    assert h.result(timeout=30) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_signal_delivered_and_timeout(server, client, queue, run_worker) -> None:
    run_worker(worker(server, queue, workflows=[wf_defs.wait_for]))
    waiting = client.start_workflow(wf_defs.wait_for, "approve", 600, queue=queue)
    _wait_log(client, waiting.run_id, 1)
    # Bytes pass through, as the signal's payload and as the run's result.
    assert waiting.signal("approve", b"\x00raw") == 1  # completed seq 1
    assert waiting.result(timeout=30) == b"\x00raw"
    hist = waiting.history()
    assert hist[0].kind == "signal" and hist[0].result == b"\x00raw"
    json_one = client.start_workflow(wf_defs.wait_for, "approve", 600, queue=queue)
    json_one.signal("approve", {"by": "ana", "ok": True})
    assert json_one.result(timeout=30) == {"by": "ana", "ok": True}
    late = client.start_workflow(wf_defs.wait_for, "nobody", 0.2, queue=queue)
    assert late.result(timeout=30) == {"timed_out": "nobody"}
    assert late.history()[0].status == "timed_out"


def test_cancel(server, client, queue, run_worker) -> None:
    run_worker(worker(server, queue, workflows=[wf_defs.cancellable],
                      activities=[wf_defs.double]))
    plain = client.start_workflow(wf_defs.cancellable, False, queue=queue)
    tidy = client.start_workflow(wf_defs.cancellable, True, queue=queue)
    for h in (plain, tidy):
        _wait_log(client, h.run_id, 1)
        assert h.cancel("enough") == "running"
    with pytest.raises(cairn.WorkflowFailed) as e:
        plain.result(timeout=30)
    assert e.value.state == "canceled"
    assert tidy.result(timeout=30) == "cleaned up: 10"
    assert [x.status for x in tidy.history()] == ["canceled", "completed"]


def test_children(server, client, queue, run_worker) -> None:
    run_worker(worker(server, queue, workflows=[wf_defs.parent, wf_defs.child_square]))
    h = client.start_workflow(wf_defs.parent, [2, 3, 4], queue=queue, id=f"parent-{queue}")
    out = h.result(timeout=60)
    assert out["one"] == 4 and out["many"] == [9, 16]
    assert out["bad"].endswith("failed: ValueError: negative: -1"), out["bad"]
    children = [e for e in h.history() if e.kind == "child"]
    assert len(children) == 4 and all(e.child_run_id for e in children)
    kid = client.get_workflow(children[0].child_run_id)
    assert kid.parent_run_id == h.run_id and kid.workflow_id == f"parent-{queue}/1"
    failed = client.get_workflow(children[3].child_run_id)
    assert failed.state == "failed"


def test_exception_fails_the_run(server, client, queue, run_worker) -> None:
    run_worker(worker(server, queue, workflows=[wf_defs.child_square]))
    h = client.start_workflow(wf_defs.child_square, -5, queue=queue)
    with pytest.raises(cairn.WorkflowFailed) as e:
        h.result(timeout=30)
    assert e.value.state == "failed" and e.value.error == "ValueError: negative: -5"


def _wait_log(client: cairn.Client, run_id: int, n: int, timeout: float = 30) -> None:
    """Waits until the run's log has n entries."""
    end = time.monotonic() + timeout
    while client.get_workflow(run_id).log_length < n:
        assert time.monotonic() < end, f"run {run_id} did not reach {n} entries"
        time.sleep(0.05)


def test_nondeterminism_marks_the_run_stuck(server, client, queue, run_worker, caplog) -> None:
    name = f"nd.{os.getpid()}.{queue[-6:]}"

    def old(ctx):
        ctx.activity(wf_defs.double, 1)
        return ctx.wait_signal("go")

    def new(ctx):  # the same type, now asking for a step first
        ctx.step(lambda: "surprise", name="surprise")
        ctx.activity(wf_defs.double, 1)
        return ctx.wait_signal("go")

    def swallows(ctx):  # catching Exception does not hide the error
        try:
            ctx.step(lambda: "swallowed", name="swallowed")
        except Exception:
            pass
        return "went on"

    first = worker(server, queue, activities=[wf_defs.double])
    first.register_workflow(old, name=name)
    run_worker(first)
    h = client.start_workflow(name, queue=queue)
    _wait_log(client, h.run_id, 2)
    first.stop()
    time.sleep(1.0)  # let the worker's long-poll end

    for code, step in ((new, "surprise"), (swallows, "swallowed")):
        w = worker(server, queue)
        w.register_workflow(code, name=name)
        t = run_worker(w)
        if code is new:
            h.signal("go", "now")
        end = time.monotonic() + 30
        while f'step "{step}"' not in (run := client.get_workflow(h.run_id)).stuck_reason:
            assert time.monotonic() < end, "the run was not marked stuck"
            time.sleep(0.05)
        assert run.state == "running"
        assert "non-determinism at seq 1" in run.stuck_reason, run.stuck_reason
        assert run.stuck and 'activity "double"' in run.stuck_reason
        w.stop()
        t.join(15)
        assert w.workflow_stats()["nondeterminism"] >= 1
    # The worker's log also names the line of the code that diverged.
    said = [r.getMessage() for r in caplog.records if r.name == "cairn.workflow"]
    assert any("non-determinism at seq 1" in m and "test_workflows.py:" in m and " in new" in m
               for m in said), said
    # The right code takes it again and finishes it; nothing was rewritten.
    fixed = worker(server, queue)
    fixed.register_workflow(old, name=name)
    run_worker(fixed)
    assert h.result(timeout=60) == "now"
    assert [e.kind for e in h.history()] == ["activity", "signal"]


def test_worker_killed_mid_run(server, client, queue, children, trace) -> None:
    """A worker SIGKILLed in the middle of a step: the next worker finishes
    the run from its log, and what was recorded is not done again."""
    env = dict(os.environ, PYTHONPATH=f"{PKG_ROOT}{os.pathsep}{HERE}", PYTHONUNBUFFERED="1",
               CAIRN_TEST_PARENT=str(os.getpid()), CAIRN_TEST_TRACE=trace)

    def spawn(slow: float) -> tuple[subprocess.Popen, object]:
        import queue as _q
        import threading

        proc = subprocess.Popen(
            [sys.executable, "-c", GUARD, str(HERE / "wf_proc.py"), server.url, queue, "2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(env, CAIRN_TEST_SLOW=str(slow)), text=True)
        children.append(proc)
        lines: _q.Queue[str] = _q.Queue()
        threading.Thread(target=lambda: [lines.put(l.rstrip("\n")) for l in proc.stdout],
                         daemon=True).start()
        return proc, lines

    h = client.start_workflow(wf_defs.survivor, queue=queue)
    doomed, lines = spawn(slow=600)
    expect(lines, "ready")
    end = time.monotonic() + 30
    while "slow-start" not in traced(trace):
        assert time.monotonic() < end, f"the slow step did not start: {traced(trace)}"
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    assert [e.kind for e in h.history()] == ["step", "activity"]  # the slow step: never recorded

    rescuer, lines = spawn(slow=0)
    expect(lines, "ready")
    _wait_log(client, h.run_id, 4)  # the slow step again, then the signal wait
    h.signal("go", True)
    assert h.result(timeout=60) == {"a": "step-1", "b": 8, "c": "slow step done", "go": True,
                                    "d": "step-2"}
    done = traced(trace)
    assert done.count("step-1") == 1 and done.count("double:4") == 1
    assert done.count("slow-start") == 2 and done.count("slow-end") == 1
    assert done.count("step-2") == 1
    rescuer.send_signal(signal.SIGTERM)
    assert rescuer.wait(15) == 0
    expect(lines, "stopped")
