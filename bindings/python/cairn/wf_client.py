"""Workflow calls of the client: start, signal, cancel, await, inspect.

:class:`WorkflowCalls` is a base class of :class:`cairn.Client`; its
methods use the client's connection. A run is named by its run id (an
int) or its workflow id (a str); :meth:`WorkflowCalls.start_workflow` and
:meth:`WorkflowCalls.workflow` return a :class:`WorkflowHandle` that
remembers which.
"""
from __future__ import annotations

import ctypes
import time
from ctypes import byref, c_bool, c_int, c_size_t, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from . import _codec as codec
from . import _convert as conv
from . import _wf_lib as wl
from .errors import DeadlineExceeded, Status
from .models import duration_ms, instant
from .registry import type_name, workflow_def
from .wf_errors import WorkflowFailed

RunRef = Union[int, str]

# A server bounds each await (--max-wait, 60 s by default).
_AWAIT_SLICE = 30.0


def _ref(run: RunRef) -> tuple[int, Optional[bytes]]:
    """Returns (run_id, workflow_id) of a run named either way."""
    if isinstance(run, bool) or not isinstance(run, (int, str)):
        raise TypeError(f"a run is an int run id or a str workflow id, not {run!r}")
    return (run, None) if isinstance(run, int) else (0, run.encode("utf-8"))


def _name(fn: Callable[[int], bytes], code: int) -> str:
    return (fn(code) or b"unknown").decode("utf-8")


@dataclass
class WorkflowRun:
    """A run as the server reports it; times are seconds since the epoch."""

    run_id: int
    workflow_id: str
    type: str
    queue: str
    input: bytes
    state: str  # "running", "succeeded", "failed", "canceled", "terminated"
    result: bytes
    error: str
    cancel_requested: bool
    stuck: bool
    stuck_reason: str
    log_length: int
    task_attempt: int
    leased: bool
    worker_id: str
    parent_run_id: int
    parent_seq: int
    created_at: Optional[float]
    updated_at: Optional[float]
    finished_at: Optional[float]

    @property
    def done(self) -> bool:
        return self.state != "running"

    def value(self) -> Any:
        """The result decoded (a JSON value, bytes, or None)."""
        return codec.decode(self.result)


@dataclass
class HistoryEntry:
    """One entry of a run's log (``cairn workflow history`` prints them)."""

    seq: int
    kind: str  # "step", "activity", "timer", "signal", "child", "marker"
    name: str
    status: str  # "pending", "completed", "failed", "timed_out", "canceled"
    input: bytes
    result: bytes
    error: str
    created_at: Optional[float]
    resolved_at: Optional[float]
    task_id: int
    child_run_id: int
    attempts: int
    queue: str

    def value(self) -> Any:
        return codec.decode(self.result)


def _run(p: Any) -> WorkflowRun:
    r = p.contents
    lib = wl.lib()
    return WorkflowRun(
        run_id=r.run_id,
        workflow_id=conv.text(r.workflow_id),
        type=conv.text(r.type),
        queue=conv.text(r.queue),
        input=conv.buf(r.input, r.input_len),
        state=_name(lib.cairn_workflow_state_name, r.state),
        result=conv.buf(r.result, r.result_len),
        error=conv.text(r.error),
        cancel_requested=bool(r.cancel_requested),
        stuck=bool(r.stuck),
        stuck_reason=conv.text(r.stuck_reason),
        log_length=r.log_length,
        task_attempt=r.task_attempt,
        leased=bool(r.leased),
        worker_id=conv.text(r.worker_id),
        parent_run_id=r.parent_run_id,
        parent_seq=r.parent_seq,
        created_at=instant(r.created_at_ms),
        updated_at=instant(r.updated_at_ms),
        finished_at=instant(r.finished_at_ms),
    )


def _entry(e: Any) -> HistoryEntry:
    lib = wl.lib()
    return HistoryEntry(
        seq=e.seq,
        kind=_name(lib.cairn_wf_kind_name, e.kind),
        name=conv.text(e.name),
        status=_name(lib.cairn_wf_status_name, e.status),
        input=conv.buf(e.input, e.input_len),
        result=conv.buf(e.result, e.result_len),
        error=conv.text(e.error),
        created_at=instant(e.created_at_ms),
        resolved_at=instant(e.resolved_at_ms),
        task_id=e.task_id,
        child_run_id=e.child_run_id,
        attempts=e.attempts,
        queue=conv.text(e.queue),
    )


class WorkflowHandle:
    """A run, named by ``run_id`` (or its ``workflow_id`` when made from
    one), through a client. ``created`` is False when ``start_workflow``
    found a run with that workflow id already."""

    def __init__(self, client: "WorkflowCalls", run_id: int, workflow_id: str,
                 created: bool = True) -> None:
        self.client = client
        self.run_id = run_id
        self.workflow_id = workflow_id
        self.created = created

    @property
    def _ref(self) -> RunRef:
        return self.run_id if self.run_id else self.workflow_id

    def signal(self, name: str, payload: Any = None) -> int:
        """Sends the signal ``name`` (payload: JSON, or bytes); returns the
        seq of the wait it completed, 0 when the run keeps it for a later
        wait."""
        return self.client.signal_workflow(self._ref, name, payload)

    def cancel(self, reason: str = "") -> str:
        """Asks the run to wind down; returns its state ("running" while
        it does)."""
        return self.client.cancel_workflow(self._ref, reason)

    def terminate(self, reason: str = "") -> str:
        """Ends the run at once as terminated."""
        return self.client.terminate_workflow(self._ref, reason)

    def describe(self) -> WorkflowRun:
        """The run as it is now."""
        return self.client.get_workflow(self._ref)

    def result(self, timeout: Optional[float] = None) -> Any:
        """Waits for the run's end and returns its result (decoded).

        Raises :class:`cairn.WorkflowFailed` if it failed, was canceled or
        terminated, and :class:`cairn.DeadlineExceeded` if it is still
        running after ``timeout`` seconds (None: waits for ever).
        """
        run = self.client.await_workflow(self._ref, timeout)
        if run.state != "succeeded":
            raise WorkflowFailed(run)
        return run.value()

    def history(self) -> list[HistoryEntry]:
        """The run's log, every entry with its input."""
        return self.client.workflow_history(self._ref)

    def __repr__(self) -> str:
        return f"<cairn.WorkflowHandle run {self.run_id} {self.workflow_id!r}>"


class WorkflowCalls:
    """The workflow methods of :class:`cairn.Client`."""

    # Provided by Client.
    _using: Callable[..., Any]
    _check: Callable[..., None]

    def start_workflow(self, workflow: Union[str, Callable[..., Any]], *args: Any,
                       id: Optional[str] = None, queue: Optional[str] = None) -> WorkflowHandle:
        """Starts a run of ``workflow`` (a function or a type name) with
        args as input, on ``queue`` (default the workflow's, "workflows").

        ``id`` is the workflow id (default: the server picks one). A run
        that has that id already is not started again: its handle comes
        back with ``created`` False.
        """
        tname = type_name(workflow)
        if queue is None and not isinstance(workflow, str):
            queue = workflow_def(workflow).queue
        data = codec.encode_args(args)
        lib = wl.lib()
        run_id, wfid, created = c_uint64(), c_void_p(), c_bool()
        with self._using() as h:
            rv = lib.cairn_workflow_start(
                h, conv.cstr(id), tname.encode("utf-8"), conv.cstr(queue), data, len(data),
                byref(run_id), byref(wfid), byref(created))
            self._check(rv, h)
        try:
            text = conv.text(ctypes.string_at(wfid.value)) if wfid.value else ""
        finally:
            lib.cairn_free(wfid)
        return WorkflowHandle(self, run_id.value, text, bool(created.value))

    def workflow(self, run: RunRef) -> WorkflowHandle:
        """A handle of an existing run, by run id (int) or workflow id."""
        run_id, wfid = _ref(run)
        return WorkflowHandle(self, run_id, wfid.decode("utf-8") if wfid else "")

    def signal_workflow(self, run: RunRef, name: str, payload: Any = None) -> int:
        """Sends a signal; see :meth:`WorkflowHandle.signal`."""
        run_id, wfid = _ref(run)
        data = codec.encode(payload)
        out_id, seq = c_uint64(), c_uint32()
        with self._using() as h:
            rv = wl.lib().cairn_workflow_signal(h, run_id, wfid, name.encode("utf-8"), data,
                                                len(data), byref(out_id), byref(seq))
            self._check(rv, h)
        return seq.value

    def _end(self, call: Any, run: RunRef, reason: str) -> str:
        run_id, wfid = _ref(run)
        state = c_int()
        with self._using() as h:
            self._check(call(h, run_id, wfid, reason.encode("utf-8"), byref(state)), h)
        return _name(wl.lib().cairn_workflow_state_name, state.value)

    def cancel_workflow(self, run: RunRef, reason: str = "") -> str:
        """Asks a run to wind down; see :meth:`WorkflowHandle.cancel`."""
        return self._end(wl.lib().cairn_workflow_cancel, run, reason)

    def terminate_workflow(self, run: RunRef, reason: str = "") -> str:
        """Ends a run at once as terminated."""
        return self._end(wl.lib().cairn_workflow_terminate, run, reason)

    def get_workflow(self, run: RunRef) -> WorkflowRun:
        """The run; raises :class:`cairn.NotFound` for an unknown one."""
        run_id, wfid = _ref(run)
        p = wl.RunP()
        lib = wl.lib()
        with self._using() as h:
            self._check(lib.cairn_workflow_get(h, run_id, wfid, byref(p)), h)
        try:
            return _run(p)
        finally:
            lib.cairn_workflow_run_free(p)

    def list_workflows(self, type: Optional[str] = None, state: Optional[str] = None,
                       queue: Optional[str] = None, stuck: bool = False, limit: int = 100,
                       after: int = 0) -> tuple[list[WorkflowRun], int]:
        """One page of runs with run_id > ``after``, in run_id order:
        (runs, next_after), next_after 0 on the last page."""
        lib = wl.lib()
        code = 0
        if state:
            names = {_name(lib.cairn_workflow_state_name, c): c for c in (1, 3, 4, 5, 6)}
            if state not in names:
                raise ValueError(f"unknown state {state!r} (one of {', '.join(names)})")
            code = names[state]
        f = wl.Filter(type=conv.cstr(type), state=code, queue=conv.cstr(queue), stuck=stuck)
        v = ctypes.POINTER(wl.RunP)()
        n, nxt = c_size_t(), c_uint64()
        with self._using() as h:
            rv = lib.cairn_workflow_list(h, byref(f), limit, after, byref(v), byref(n), byref(nxt))
            self._check(rv, h)
        try:
            return [_run(v[i]) for i in range(n.value)], nxt.value
        finally:
            lib.cairn_workflow_runs_free(v, n.value)

    def workflow_history(self, run: RunRef) -> list[HistoryEntry]:
        """Every entry of a run's log, with inputs (all pages)."""
        run_id, wfid = _ref(run)
        lib = wl.lib()
        out: list[HistoryEntry] = []
        after = 0
        while True:
            v, n, nxt = wl.EntryP(), c_size_t(), c_uint32()
            with self._using() as h:
                rv = lib.cairn_workflow_history(h, run_id, wfid, after, 0, None, byref(v),
                                                byref(n), byref(nxt))
                self._check(rv, h)
            try:
                out.extend(_entry(v[i]) for i in range(n.value))
            finally:
                lib.cairn_wf_entries_free(v, n.value)
            if not nxt.value:
                return out
            after = nxt.value

    def await_workflow(self, run: RunRef, timeout: Optional[float] = None) -> WorkflowRun:
        """Waits until the run ends and returns it, whatever its state;
        raises :class:`cairn.DeadlineExceeded` if it still runs after
        ``timeout`` seconds (None: waits for ever)."""
        run_id, wfid = _ref(run)
        lib = wl.lib()
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _AWAIT_SLICE if end is None else min(_AWAIT_SLICE, end - time.monotonic())
            p, done = wl.RunP(), c_bool()
            with self._using() as h:
                rv = lib.cairn_workflow_await(h, run_id, wfid, max(0, duration_ms(left, "timeout")),
                                              byref(p), byref(done))
                self._check(rv, h)
            try:
                r = _run(p)
            finally:
                lib.cairn_workflow_run_free(p)
            if done.value:
                return r
            if end is not None and time.monotonic() >= end:
                raise DeadlineExceeded(Status.DEADLINE_EXCEEDED,
                                       f"workflow {r.workflow_id} is still {r.state} "
                                       f"after {timeout} s")
