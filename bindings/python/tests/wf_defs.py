"""Workflows and activities of the workflow tests, shared by the tests and
the worker processes they start (wf_proc.py).

Side effects that the tests count (a step's or an activity's runs) are
appended as lines to the file named by CAIRN_TEST_TRACE, so that they are
counted across processes, a killed one included.
"""
from __future__ import annotations

import os
import time

import cairn


def trace(what: str) -> None:
    """Appends a line to the trace file (fsync'd: a SIGKILL right after
    must not lose it)."""
    path = os.environ.get("CAIRN_TEST_TRACE")
    if not path:
        return
    with open(path, "a") as f:
        f.write(what + "\n")
        f.flush()
        os.fsync(f.fileno())


def traced(path: str) -> list[str]:
    try:
        with open(path) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


@cairn.activity
def double(x: int) -> int:
    trace(f"double:{x}")
    return 2 * x


@cairn.activity(retry=cairn.RetryPolicy(max_attempts=3, initial=0.05))
def flaky(x: int) -> int:
    """Fails its first attempt, then answers."""
    if cairn.current_task().attempt == 1:
        raise ConnectionError("flaky on purpose")
    return x + 100


@cairn.activity(retry=cairn.RetryPolicy(max_attempts=2, initial=0.05))
def broken(x: int) -> int:
    raise ValueError(f"broken {x}")


@cairn.activity
def add(a: int, b: int) -> int:
    return a + b


@cairn.activity
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "slow done"


def _plan(topic: str) -> list[str]:
    trace("plan")
    return [f"{topic}-1", f"{topic}-2"]


@cairn.workflow
def basic(ctx: cairn.WorkflowContext, topic: str, n: int) -> dict:
    plan = ctx.step(_plan, topic)
    one = ctx.activity(double, n)
    two = ctx.activity(add, one, 1)
    ctx.sleep(0.05)
    return {"plan": plan, "one": one, "two": two, "now": ctx.now() > 0,
            "random": 0 <= ctx.random() < 1, "patched": ctx.patched("v2")}


@cairn.workflow
def fan_out(ctx: cairn.WorkflowContext, xs: list) -> dict:
    hs = [ctx.start_activity(double, x) for x in xs]
    hs.append(ctx.start_activity(flaky, 1))
    results = ctx.wait_all(hs)
    first = ctx.wait_any([ctx.start_activity(slow, 3), ctx.start_activity(double, 21)])
    try:
        ctx.activity(broken, 7)
        failed = None
    except cairn.ActivityError as e:
        failed = e.error
    return {"results": results, "first": [first.name, first.result()], "failed": failed}


@cairn.workflow
def wait_for(ctx: cairn.WorkflowContext, name: str, timeout: float) -> object:
    try:
        return ctx.wait_signal(name, timeout=timeout)
    except cairn.WaitTimeout:
        return {"timed_out": name}


@cairn.workflow
def signals_in_order(ctx: cairn.WorkflowContext) -> list:
    return [ctx.wait_signal("item") for _ in range(3)]


@cairn.workflow
def cancellable(ctx: cairn.WorkflowContext, clean_up: bool) -> str:
    try:
        ctx.wait_signal("never")
    except cairn.WorkflowCancelled:
        if not clean_up:
            raise
        # What the code asks for after the cancel runs normally.
        return f"cleaned up: {ctx.activity(double, 5)}"
    return "not canceled"


@cairn.workflow
def child_square(ctx: cairn.WorkflowContext, x: int) -> int:
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x * x


@cairn.workflow
def parent(ctx: cairn.WorkflowContext, xs: list) -> dict:
    one = ctx.child(child_square, xs[0])
    many = ctx.wait_all([ctx.start_child(child_square, x) for x in xs[1:]])
    try:
        ctx.child(child_square, -1)
        bad = None
    except cairn.ChildWorkflowError as e:
        bad = e.error
    return {"one": one, "many": many, "bad": bad}


def _slow_step() -> str:
    """The step during which the worker is killed: its first run waits
    long; the run's next worker runs it again (it was never recorded)."""
    trace("slow-start")
    time.sleep(float(os.environ.get("CAIRN_TEST_SLOW", "0")))
    trace("slow-end")
    return "slow step done"


def _record(what: str) -> str:
    trace(what)
    return what


@cairn.workflow
def survivor(ctx: cairn.WorkflowContext) -> dict:
    a = ctx.step(_record, "step-1")
    b = ctx.activity(double, 4)
    c = ctx.step(_slow_step)
    go = ctx.wait_signal("go")
    d = ctx.step(_record, "step-2")
    return {"a": a, "b": b, "c": c, "go": go, "d": d}
