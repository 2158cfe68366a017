"""The ``ctx`` of a workflow: its commands, replayed over the run's log.

The Python SDK drives the C SDK of libcairn (``cairn_wf_*``) rather than
replaying the log again in Python: the matching of commands against the
log, the log conventions (marker names, input hashes), the checkpoints of
steps, heartbeats and the cache of logs are then the C worker's, the same
for a run whatever language its code is in.

A workflow function runs once per turn from its start. Each command asks
the C context for its outcome: recorded ones come back at once, and a
command whose outcome is not there yet raises :class:`_Suspend`, which
unwinds the function to the worker; the turn's new commands are then sent
and the function runs again, from the start, once the outcome is
recorded. A workflow author never sees this (``_Suspend`` derives from
BaseException, so that ``except Exception`` does not catch it), except
that code outside commands runs once per turn: keep it deterministic and
free of side effects, or make it a step.
"""
from __future__ import annotations

import ctypes
import os
import traceback
from ctypes import byref, c_bool, c_int64, c_uint32, c_uint64
from typing import Any, Callable, Optional, Sequence, Union

from . import _codec as codec
from . import _wf_lib as wl
from .models import duration_ms
from .registry import RetryPolicy, Retry, activity_def, type_name
from .wf_errors import (
    ActivityError,
    ChildWorkflowError,
    NondeterminismError,
    StepError,
    WaitTimeout,
    WorkflowCancelled,
)
from .worker import error_text

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_OK = 0
_CANCELLED = 1  # cairn_status: a step interrupted by a BaseException


class _TurnEnded(BaseException):
    """The context is poisoned (suspended, a lost lease, a bad argument):
    the function must return ``code`` now."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Suspend(_TurnEnded):
    """What the code waits for has no outcome yet."""


class _Nondeterminism(NondeterminismError, _TurnEnded):
    pass


def _caller() -> str:
    """Returns "file:line in function" of the workflow code that made the
    current command: the innermost frame outside this package."""
    for frame in reversed(traceback.extract_stack()):
        if os.path.dirname(os.path.abspath(frame.filename)) != _PKG_DIR:
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "?"


class Handle:
    """A command started without waiting (``ctx.start_activity``,
    ``start_child``, ``start_timer``, ``start_signal``): wait for it with
    :meth:`result`, ``ctx.wait_all`` or ``ctx.wait_any``."""

    def __init__(self, ctx: "WorkflowContext", seq: int, kind: int, name: str,
                 timeout: Optional[float] = None) -> None:
        self._ctx = ctx
        self.seq = seq
        self.kind = kind
        self.name = name
        self._timeout = timeout

    def result(self) -> Any:
        """Waits for the command and returns its result, or raises what
        its outcome says (:class:`cairn.ActivityError`, ...)."""
        out = wl.Outcome()
        self._ctx._check(self._ctx._lib.cairn_wf_wait(self._ctx._ptr(), self.seq, byref(out)))
        return self._ctx._outcome(out, self)

    def __repr__(self) -> str:
        return f"<cairn.Handle seq {self.seq} {self.name!r}>"


class WorkflowContext:
    """What a workflow function gets as ``ctx``; valid during its call.

    Arguments and results are JSON values (bytes pass through), see
    :mod:`cairn._codec`. Durations are seconds.
    """

    def __init__(self, ptr: int) -> None:
        self._lib = wl.lib()
        self._p: Optional[int] = ptr

    # -- plumbing --------------------------------------------------------

    def _ptr(self) -> int:
        if self._p is None:
            raise RuntimeError("the workflow context is used after its workflow returned")
        return self._p

    def _close(self) -> None:
        self._p = None

    def _check(self, rv: int) -> None:
        """Raises what ends the turn for a command's return code."""
        if rv == _OK:
            return
        msg = (self._lib.cairn_wf_errmsg(self._ptr()) or b"").decode("utf-8", "replace")
        if rv == wl.SUSPEND:
            raise _Suspend(rv, msg)
        if rv == wl.NONDETERMINISM:
            raise _Nondeterminism(wl.NONDETERMINISM, f"{msg} (the code: {_caller()})")
        raise _TurnEnded(rv, msg)

    def _outcome(self, out: wl.Outcome, h: Handle) -> Any:
        """Returns a command's result, or raises its failure (copies
        everything: out points into the turn's memory)."""
        if out.status == wl.ENTRY_COMPLETED:
            return codec.decode(ctypes.string_at(out.result, out.result_len)
                                if out.result_len else b"")
        error = (out.error or b"").decode("utf-8", "replace")
        if out.status == wl.ENTRY_TIMED_OUT:
            raise WaitTimeout(h.name, h._timeout)
        canceled = out.status == wl.ENTRY_CANCELED
        if canceled and (self.cancel_requested or h.kind in (wl.KIND_TIMER, wl.KIND_SIGNAL)):
            raise WorkflowCancelled(error or "the run was canceled")
        status = "canceled" if canceled else "failed"
        if h.kind == wl.KIND_ACTIVITY:
            raise ActivityError(h.name, error, status)
        if h.kind == wl.KIND_CHILD:
            raise ChildWorkflowError(h.name, error, status)
        if h.kind == wl.KIND_STEP:
            raise StepError(h.name, error)
        raise WorkflowCancelled(error)

    def _start(self, call: Callable[[Any], int], kind: int, name: str,
               timeout: Optional[float] = None) -> Handle:
        seq = c_uint32()
        self._check(call(byref(seq)))
        return Handle(self, seq.value, kind, name, timeout)

    # -- about the run -------------------------------------------------

    @property
    def run_id(self) -> int:
        return int(self._lib.cairn_wf_run_id(self._ptr()))

    @property
    def workflow_id(self) -> str:
        return self._lib.cairn_wf_workflow_id(self._ptr()).decode("utf-8")

    @property
    def type(self) -> str:
        return self._lib.cairn_wf_type(self._ptr()).decode("utf-8")

    @property
    def attempt(self) -> int:
        """The turn's attempt (1, 2... after failed turns)."""
        return int(self._lib.cairn_wf_attempt(self._ptr()))

    @property
    def is_replaying(self) -> bool:
        """True while the code is before the end of the log: what it does
        now was done before (print or log only when False)."""
        return bool(self._lib.cairn_wf_is_replaying(self._ptr()))

    @property
    def cancel_requested(self) -> bool:
        """True once someone asked the run to cancel."""
        return bool(self._lib.cairn_wf_cancel_requested(self._ptr()))

    # -- activities ----------------------------------------------------

    def start_activity(self, fn_or_name: Union[str, Callable[..., Any]], *args: Any,
                       queue: Optional[str] = None, retry: Retry = None,
                       timeout: Optional[float] = None,
                       heartbeat_timeout: Optional[float] = None,
                       priority: int = 0) -> Handle:
        """Starts an activity (a task on ``queue``, default the
        activity's) with args as its payload, and returns its handle.

        ``retry`` is a :class:`cairn.RetryPolicy` or a number of attempts;
        ``timeout`` the seconds one attempt may take; ``heartbeat_timeout``
        how long an attempt may go without a heartbeat. An ``@activity``
        function brings its own defaults of them.
        """
        if isinstance(fn_or_name, str):
            name, d = fn_or_name, None
        else:
            d = activity_def(fn_or_name)
            name = d.name
        retry = retry if retry is not None else (d.retry if d else None)
        if isinstance(retry, int) and not isinstance(retry, bool):
            retry = RetryPolicy(max_attempts=retry)
        timeout = timeout if timeout is not None else (d.timeout if d else None)
        hb = heartbeat_timeout if heartbeat_timeout is not None else (
            d.heartbeat_timeout if d else None)
        opts = wl.ActivityOptions(
            queue=(queue or (d.queue if d else name)).encode("utf-8"),
            priority=priority,
            heartbeat_timeout_ms=duration_ms(hb, "heartbeat_timeout"),
            start_to_close_timeout_ms=duration_ms(timeout, "timeout"),
        )
        if isinstance(retry, RetryPolicy):
            opts.max_attempts = retry.max_attempts
            opts.retry_initial_backoff_ms = duration_ms(retry.initial, "retry.initial")
            opts.retry_multiplier = float(retry.multiplier or 0.0)
            opts.retry_max_backoff_ms = duration_ms(retry.maximum, "retry.maximum")
        elif retry is not None:
            raise TypeError(f"retry must be a RetryPolicy or an int, not {retry!r}")
        data = codec.encode_args(args)
        return self._start(
            lambda seq: self._lib.cairn_wf_start_activity(
                self._ptr(), name.encode("utf-8"), data, len(data), byref(opts), seq),
            wl.KIND_ACTIVITY, name)

    def activity(self, fn_or_name: Union[str, Callable[..., Any]], *args: Any,
                 **options: Any) -> Any:
        """Runs an activity and returns its result; raises
        :class:`cairn.ActivityError` when it failed for good. Options as
        :meth:`start_activity`."""
        return self.start_activity(fn_or_name, *args, **options).result()

    def wait_all(self, handles: Sequence[Handle], return_exceptions: bool = False) -> list[Any]:
        """Waits until every handle has its outcome; returns their results
        in order. The first failure (in order) is raised, or, with
        ``return_exceptions``, returned in its place."""
        hs = list(handles)
        if not hs:
            return []
        seqs = (c_uint32 * len(hs))(*(h.seq for h in hs))
        outs = (wl.Outcome * len(hs))()
        self._check(self._lib.cairn_wf_wait_all(self._ptr(), seqs, len(hs), outs))
        results: list[Any] = []
        for h, out in zip(hs, outs):
            try:
                results.append(self._outcome(out, h))
            except Exception as e:
                if not return_exceptions:
                    raise
                results.append(e)
        return results

    def wait_any(self, handles: Sequence[Handle]) -> Handle:
        """Waits until one handle has its outcome and returns the one that
        got it first (as the server recorded it, so that replay chooses
        the same); its ``result()`` is then at hand."""
        hs = list(handles)
        if not hs:
            raise ValueError("wait_any needs at least one handle")
        seqs = (c_uint32 * len(hs))(*(h.seq for h in hs))
        which = c_uint32()
        self._check(self._lib.cairn_wf_wait_any(self._ptr(), seqs, len(hs), byref(which), None))
        return next(h for h in hs if h.seq == which.value)

    # -- steps and recorded values -------------------------------------

    def step(self, fn: Callable[..., Any], *args: Any, name: Optional[str] = None) -> Any:
        """Runs fn(*args) here, in the workflow worker, the first time,
        and records its result (or the error it raised) before going on;
        on replay returns the recorded result (raises
        :class:`cairn.StepError`) without running fn.

        A step runs at least once: a crash between its end and its record
        runs it again. Its name (default fn's) and arguments are checked
        on replay.
        """
        step_name = name or getattr(fn, "__name__", "step")
        data = codec.encode_args(args)
        interrupted: list[BaseException] = []

        def run(sctx: int, _in: int, _n: int, _arg: int) -> int:
            try:
                value = fn(*args)
                result = codec.encode(value)
            except Exception as e:
                return self._lib.cairn_wf_step_fail(sctx, error_text(e).encode("utf-8"))
            except BaseException as e:  # not an outcome: record nothing
                interrupted.append(e)
                return _CANCELLED
            return self._lib.cairn_wf_step_result(sctx, result, len(result))

        out = wl.Outcome()
        rv = self._lib.cairn_wf_step(self._ptr(), step_name.encode("utf-8"), wl.STEP_FN(run),
                                     data, len(data), None, byref(out))
        if interrupted:
            raise interrupted[0]
        self._check(rv)
        return self._outcome(out, Handle(self, 0, wl.KIND_STEP, step_name))

    def now(self) -> float:
        """The time (seconds since the epoch, like time.time()), recorded
        the first time so that replay sees the same instant."""
        ms = c_int64()
        self._check(self._lib.cairn_wf_now(self._ptr(), byref(ms)))
        return ms.value / 1000.0

    def random(self) -> float:
        """A random float in [0, 1), recorded like :meth:`now`."""
        bits = c_uint64()
        self._check(self._lib.cairn_wf_random(self._ptr(), byref(bits)))
        return (bits.value >> 11) * (1.0 / (1 << 53))

    def patched(self, change_id: str) -> bool:
        """Whether this run takes the new path of change ``change_id``:
        True for runs that reach here with the new code, False for runs
        whose log the code before the change made."""
        yes = c_bool()
        self._check(self._lib.cairn_wf_patched(self._ptr(), change_id.encode("utf-8"), byref(yes)))
        return bool(yes.value)

    # -- timers, signals, children ---------------------------------------

    def start_timer(self, seconds: float, name: str = "") -> Handle:
        """Starts a durable timer; its result is None when it fires."""
        ms = duration_ms(seconds, "seconds")
        return self._start(
            lambda seq: self._lib.cairn_wf_start_timer(self._ptr(), name.encode("utf-8"), ms, seq),
            wl.KIND_TIMER, name)

    def sleep(self, seconds: float) -> None:
        """Waits ``seconds`` on a durable timer: a worker that dies
        meanwhile does not restart it. Raises
        :class:`cairn.WorkflowCancelled` if the run is canceled first."""
        ms = duration_ms(seconds, "seconds")
        h = self._start(lambda seq: self._lib.cairn_wf_start_timer(self._ptr(), None, ms, seq),
                        wl.KIND_TIMER, "")
        h.result()

    def start_signal(self, name: str, timeout: Optional[float] = None) -> Handle:
        """Starts waiting for the signal ``name``; see :meth:`wait_signal`."""
        ms = duration_ms(timeout, "timeout")
        return self._start(
            lambda seq: self._lib.cairn_wf_start_signal(self._ptr(), name.encode("utf-8"), ms, seq),
            wl.KIND_SIGNAL, name, timeout)

    def wait_signal(self, name: str, timeout: Optional[float] = None) -> Any:
        """Waits for the signal ``name`` and returns its payload (a JSON
        value, or bytes). One sent before the wait was kept for it.
        Raises :class:`cairn.WaitTimeout` after ``timeout`` seconds (None:
        waits for ever)."""
        return self.start_signal(name, timeout).result()

    def start_child(self, workflow: Union[str, Callable[..., Any]], *args: Any,
                    id: Optional[str] = None, queue: Optional[str] = None) -> Handle:
        """Starts a child run of ``workflow`` (a function or a type name)
        with args as input; ``id`` defaults to "<this workflow_id>/<seq>",
        ``queue`` to this run's."""
        tname = type_name(workflow)
        data = codec.encode_args(args)
        opts = wl.ChildOptions(workflow_id=id.encode("utf-8") if id else None,
                               queue=queue.encode("utf-8") if queue else None)
        return self._start(
            lambda seq: self._lib.cairn_wf_start_child(
                self._ptr(), tname.encode("utf-8"), data, len(data), byref(opts), seq),
            wl.KIND_CHILD, tname)

    def child(self, workflow: Union[str, Callable[..., Any]], *args: Any,
              id: Optional[str] = None, queue: Optional[str] = None) -> Any:
        """Runs a child run and returns its result; raises
        :class:`cairn.ChildWorkflowError` if it failed, was terminated or
        canceled."""
        return self.start_child(workflow, *args, id=id, queue=queue).result()
