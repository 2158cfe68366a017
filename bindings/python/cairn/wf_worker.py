"""A worker for workflows and activities, beside the task handlers.

:class:`Worker` is :class:`cairn.worker.Worker` (task handlers) with two
more kinds of work:

- **workflows**, replayed by libcairn's C workflow worker
  (``cairn_wf_worker_*``) on a thread of its own: it long-polls the
  workflow queues, calls the Python function of each leased run through a
  ctypes callback, heartbeats while a turn runs, and advances the run;
- **activities**, which are task handlers on the activity's queue that
  decode the task's payload into arguments and encode the return value.

Either may be left out: a worker of workflows only, of activities only,
or both in one process.
"""
from __future__ import annotations

import ctypes
import logging
import threading
from ctypes import byref, c_char_p, c_void_p
from typing import Any, Callable, Optional, Sequence, Union

from . import _codec as codec
from . import _wf_lib as wl
from .client import DEFAULT_URL, Client
from .errors import error_for
from .models import Task, duration_ms
from .registry import DEFAULT_WORKFLOW_QUEUE, activity_def, workflow_def
from .wf_context import WorkflowContext, _Nondeterminism, _TurnEnded
from .wf_errors import WorkflowCancelled
from .worker import Worker as TaskWorker
from .worker import error_text

log = logging.getLogger("cairn.workflow")

_INTERNAL = 13  # cairn_status: fails the turn, not the run

_current = threading.local()


def current_task() -> Optional[Task]:
    """The task whose activity runs on this thread (None elsewhere): for
    its ``attempt``, ``heartbeat()`` or ``cancel_requested``."""
    return getattr(_current, "task", None)


def _activity_handler(fn: Callable[..., Any]) -> Callable[[Task], bytes]:
    """Returns the task handler that runs activity fn on a task."""

    def handle(task: Task) -> bytes:
        _current.task = task
        try:
            return codec.encode(codec.call(fn, task.payload))
        finally:
            _current.task = None

    return handle


def _turn(fn: Callable[..., Any], ptr: int, data: bytes) -> int:
    """Runs one turn of workflow fn over the context ptr; returns what the
    C workflow function returns."""
    ctx = WorkflowContext(ptr)
    lib = wl.lib()
    try:
        try:
            value = codec.call(fn, data, ctx)
            result = codec.encode(value)
        except _Nondeterminism as e:
            log.error("run %d (%s): %s", ctx.run_id, ctx.type, e)
            return e.code
        except _TurnEnded as e:
            return e.code
        except WorkflowCancelled as e:
            return lib.cairn_wf_cancelled(ptr, str(e).encode("utf-8"))
        except Exception as e:
            log.info("run %d (%s) failed: %s", ctx.run_id, ctx.type, error_text(e),
                     exc_info=True)
            return lib.cairn_wf_fail(ptr, error_text(e).encode("utf-8"))
        return lib.cairn_wf_succeed(ptr, result, len(result))
    except BaseException:  # a bug or an interrupt: fail the turn, never the run
        log.exception("run %d (%s): turn failed", ctx.run_id, ctx.type)
        return _INTERNAL
    finally:
        ctx._close()


class Worker(TaskWorker):
    """Runs workflows, activities and task handlers.

    Beside :class:`cairn.worker.Worker`'s arguments (``concurrency`` is
    the number of task handler threads, for activities too):

    - ``workflows``: workflow functions (``@cairn.workflow``) to run;
    - ``activities``: activity functions (``@cairn.activity``) to do;
    - ``workflow_queues``: the queues whose runs it leases (default the
      queues of its workflows);
    - ``workflow_concurrency``: turns at once (default 4).

    ::

        worker = cairn.Worker(url, workflows=[agent], activities=[search])
        worker.run()       # until SIGINT, SIGTERM or stop()

    :meth:`stop` (and SIGINT, SIGTERM) stops both kinds of work: no more
    leases, and the turns and handlers in progress finish first.
    """

    def __init__(
        self,
        client_or_url: Union[Client, str] = DEFAULT_URL,
        concurrency: int = 4,
        *,
        workflows: Sequence[Callable[..., Any]] = (),
        activities: Sequence[Callable[..., Any]] = (),
        workflow_queues: Optional[Sequence[str]] = None,
        workflow_concurrency: int = 4,
        **options: Any,
    ) -> None:
        super().__init__(client_or_url, concurrency, **options)
        self._workflows: dict[str, Callable[..., Any]] = {}
        self._wf_queues = list(workflow_queues) if workflow_queues else []
        self._wf_queues_given = bool(workflow_queues)
        self.workflow_concurrency = workflow_concurrency
        self._wf_lock = threading.Lock()
        self._wf: Optional[c_void_p] = None  # the C worker while it runs
        self._wf_error: Optional[BaseException] = None
        self._wf_stats: Optional[dict[str, int]] = None
        self._callbacks: list[Any] = []  # kept alive while C may call them
        for w in workflows:
            self.register_workflow(w)
        for a in activities:
            self.register_activity(a)

    # -- registration --------------------------------------------------

    def register_workflow(self, fn: Callable[..., Any], name: Optional[str] = None) -> None:
        """Runs fn for the runs of its type (``name``, default its
        ``@workflow`` name); its queue is leased too unless the worker
        was given ``workflow_queues``."""
        d = workflow_def(fn)
        if self._started:
            raise RuntimeError("register workflows before run()")
        self._workflows[name or d.name] = fn
        if not self._wf_queues_given and d.queue not in self._wf_queues:
            self._wf_queues.append(d.queue)

    def register_activity(self, fn: Callable[..., Any], queue: Optional[str] = None) -> None:
        """Does the tasks of activity fn on ``queue`` (default its
        ``@activity`` queue): the payload becomes its arguments, its
        return value the result; an exception fails the attempt, to be
        retried under the activity's policy."""
        self.register(queue or activity_def(fn).queue, _activity_handler(fn))

    # -- running -------------------------------------------------------

    def stop(self) -> None:
        """Asks run() to return: no more leases of tasks or runs; handlers
        and turns in progress finish. Safe from any thread or a signal
        handler."""
        super().stop()
        with self._wf_lock:
            if self._wf is not None:
                wl.lib().cairn_wf_worker_stop(self._wf)

    def workflow_stats(self) -> Optional[dict[str, int]]:
        """The C workflow worker's counters (turns, leases, advances,
        task_failures, nondeterminism...), once run() has returned."""
        return self._wf_stats

    def run(self, handle_signals: bool = True) -> None:
        """Runs until stop(), SIGINT or SIGTERM; see
        :meth:`cairn.worker.Worker.run`. Raises what made leasing
        impossible."""
        if not self._workflows:
            return super().run(handle_signals)
        wf = threading.Thread(target=self._wf_main, name="cairn-workflows", daemon=True)
        if self._handlers:
            wf.start()
            try:
                super().run(handle_signals)
            finally:
                self.stop()
                wf.join()
        else:
            if self._started:
                raise RuntimeError("a Worker runs once")
            self._started = True
            restore = self._install_signals() if handle_signals else None
            try:
                wf.start()
                while wf.is_alive():
                    wf.join(0.2)  # interruptible: signal handlers run meanwhile
            finally:
                if restore is not None:
                    restore()
                self.stop()
                wf.join()
        if self._wf_error is not None:
            raise self._wf_error

    def _wf_main(self) -> None:
        """The workflow thread: runs the C workflow worker until stop()."""
        own = self._client is None
        try:
            client = self._client if not own else Client(self._url, token=self._token)
        except BaseException as e:
            self._wf_error = e
            super().stop()
            return
        try:
            with client._using() as h:
                self._wf_run(h)
        except BaseException as e:
            self._wf_error = e
            super().stop()  # the task side stops too
        finally:
            if own:
                client.close()

    def _wf_run(self, handle: c_void_p) -> None:
        lib = wl.lib()
        queues = (c_char_p * len(self._wf_queues))(*(q.encode("utf-8") for q in self._wf_queues))
        wid = self.worker_id.encode("utf-8") if self.worker_id else None
        opts = wl.WorkerOptions(
            queues=queues,
            nqueues=len(self._wf_queues),
            concurrency=self.workflow_concurrency,
            poll_wait_ms=duration_ms(self.poll_wait, "poll_wait"),
            lease_timeout_ms=duration_ms(self.lease_timeout, "lease_timeout"),
            worker_id=wid,
        )
        w = c_void_p()
        rv = lib.cairn_wf_worker_new(byref(w), handle, byref(opts))
        if rv != 0:
            raise error_for(rv, "cannot make the workflow worker")
        try:
            for name, fn in self._workflows.items():
                cb = wl.WF_FN(self._callback(fn))
                self._callbacks.append(cb)
                rv = lib.cairn_wf_worker_register(w, name.encode("utf-8"), cb, None)
                if rv != 0:
                    raise error_for(rv, f"cannot register workflow {name!r}")
            with self._wf_lock:
                if self.stopping:
                    return
                self._wf = w
            rv = lib.cairn_wf_worker_run(w)
            with self._wf_lock:
                self._wf = None
            stats = wl.WorkerStats()
            lib.cairn_wf_worker_get_stats(w, byref(stats))
            self._wf_stats = {k: getattr(stats, k) for k, _ in wl.WorkerStats._fields_}
            if rv != 0:
                raise error_for(rv, lib.cairn_client_errmsg(handle).decode("utf-8", "replace"))
        finally:
            with self._wf_lock:
                self._wf = None
            lib.cairn_wf_worker_free(w)

    @staticmethod
    def _callback(fn: Callable[..., Any]) -> Callable[[int, int, int, int], int]:
        def call(ptr: int, data: int, n: int, _arg: int) -> int:
            raw = ctypes.string_at(data, n) if n else b""
            return _turn(fn, ptr, raw)

        return call
