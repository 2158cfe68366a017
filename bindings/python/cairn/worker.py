"""Workers: lease tasks, run handlers in threads, heartbeat, report.

A :class:`Worker` owns three kinds of threads:

- one *poller*, which long-polls ``Lease`` for as many tasks as there are
  idle handler threads, and never leases more than it can start at once;
- ``concurrency`` *handler threads*, each running one task's handler at a
  time and then completing or failing the task; a completion also leases
  the queue's next due task in the same request, which the same thread
  runs next, so that a busy queue costs one round trip per task;
- one *heartbeater*, which heartbeats every running task when a third of
  its lease's remaining time has passed (the tasks due together in one
  request), so that a long handler keeps its lease without doing anything.

The thread that calls :meth:`Worker.run` only waits, so that SIGINT and
SIGTERM reach it at once (Python runs signal handlers on the main thread,
and only between bytecodes: never while it is blocked in a C call).
"""
from __future__ import annotations

import logging
import math
import queue as _queue
import signal
import threading
import time
from typing import Any, Callable, Optional, TypeVar, Union

from .client import DEFAULT_URL, Client
from .errors import (
    CairnError,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    LeaseLost,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)
from .models import Task, result_bytes

log = logging.getLogger("cairn.worker")

Handler = Callable[[Task], Any]
H = TypeVar("H", bound=Handler)

# Errors after which leasing again cannot help: run() stops and raises.
_FATAL = (InvalidArgument, Unauthenticated, PermissionDenied, Unimplemented, FailedPrecondition)

# Heartbeats closer together than this would only load the server.
_MIN_BEAT = 0.01
# How often, at most, a failed Complete or Fail is tried again.
_REPORT_TRIES = 4
# The longest pause between Lease calls while the server is unreachable.
_MAX_BACKOFF = 5.0


class NonRetryable(Exception):
    """Raise from a handler to fail the task for good, without retries.

    The exception's text becomes the task's ``last_error``.
    """


def error_text(e: BaseException) -> str:
    """Returns the text a failed task records for exception e."""
    if isinstance(e, NonRetryable):
        return str(e) or "NonRetryable"
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class _Heartbeater(threading.Thread):
    """Heartbeats running tasks, each when a third of its lease remains.

    ``offset`` is the server's clock minus ours (seconds), so that the
    remaining time of a lease is measured against the server's deadline.
    """

    def __init__(self, client: Client, offset: float) -> None:
        super().__init__(name="cairn-heartbeat", daemon=True)
        self._client = client
        self._offset = offset
        self._cv = threading.Condition()
        self._due: dict[int, tuple[float, Task]] = {}  # id -> (monotonic, task)
        self._stopped = False

    def _next(self, task: Task) -> float:
        """Returns the monotonic time of task's next heartbeat."""
        if task.lease_deadline is not None:
            left = task.lease_deadline - (time.time() + self._offset)
        else:
            left = task.heartbeat_timeout or 3.0
        return time.monotonic() + max(left / 3.0, _MIN_BEAT)

    def add(self, task: Task) -> None:
        """Starts heartbeating task."""
        with self._cv:
            self._due[task.id] = (self._next(task), task)
            self._cv.notify()

    def remove(self, task: Task) -> None:
        """Stops heartbeating task; a heartbeat in flight is ignored."""
        with self._cv:
            self._due.pop(task.id, None)

    def stop(self) -> None:
        """Makes run() return; heartbeats in flight finish first."""
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def _take_due(self) -> Optional[list[Task]]:
        """Waits until some tasks are due and returns them (None: stop).

        The taken tasks stay registered but are not due again until their
        heartbeat is done and they are rescheduled.
        """
        with self._cv:
            while not self._stopped:
                now = time.monotonic()
                ready = [t for when, t in self._due.values() if when <= now]
                if ready:
                    for t in ready:
                        self._due[t.id] = (math.inf, t)
                    return ready
                nxt = min((w for w, _ in self._due.values() if w != math.inf), default=None)
                self._cv.wait(None if nxt is None else nxt - now)
            return None

    def run(self) -> None:
        while (ready := self._take_due()) is not None:
            self._beat(ready)

    def _beat(self, tasks: list[Task]) -> None:
        """Heartbeats tasks (in one request when the server can) and
        schedules their next heartbeats."""
        try:
            errors = self._client.heartbeat_many(tasks)
        except CairnError as e:
            # The server may be back before the leases end: try again
            # soon, still a third of what remains.
            log.warning("heartbeat of %d task(s) failed: %s", len(tasks), e)
            errors = [None] * len(tasks)
        with self._cv:
            for task, err in zip(tasks, errors):
                if task.id not in self._due:
                    continue  # finished meanwhile (a lost lease is then moot)
                if isinstance(err, (LeaseLost, NotFound)):
                    del self._due[task.id]
                    task.lease_lost = True
                    log.warning("task %d: %s", task.id, err.message)
                else:
                    self._due[task.id] = (self._next(task), task)
            self._cv.notify()


class Worker:
    """Runs handlers for the tasks of one or more queues.

    ``client_or_url`` is a :class:`cairn.Client` (the worker uses it and
    leaves it open) or a URL (the worker opens a client, with ``token``,
    and closes it when :meth:`run` returns). ``concurrency`` handlers run
    at once, each in its own thread. ``lease_timeout`` (seconds) overrides
    the tasks' heartbeat timeout; ``poll_wait`` (seconds) is how long one
    Lease long-poll waits, which bounds how long an idle worker takes to
    stop. ``worker_id`` appears in the tasks' history (default host:pid).

    Register handlers, then call :meth:`run`::

        worker = cairn.Worker("tcp://127.0.0.1:7420", concurrency=8)

        @worker.handler("emails")
        def send(task: cairn.Task) -> str:
            ...                      # task.payload, task.attempt, ...
            return "sent"            # the task's result

        worker.run()                 # until SIGINT, SIGTERM or stop()

    A handler's return value completes the task: bytes and str as they
    are, None as empty, anything else as JSON. An exception fails the
    attempt with its text, and the task is retried under its policy;
    raise :class:`cairn.NonRetryable` to fail it for good. While a
    handler runs, the worker heartbeats for it; ``task.cancel_requested``
    turns True when someone cancels the task (the handler should then
    stop, by raising), and ``task.lease_lost`` when the lease is gone.
    """

    def __init__(
        self,
        client_or_url: Union[Client, str] = DEFAULT_URL,
        concurrency: int = 4,
        *,
        token: Optional[str] = None,
        worker_id: Optional[str] = None,
        lease_timeout: Optional[float] = None,
        poll_wait: float = 2.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if isinstance(client_or_url, Client):
            self._client: Optional[Client] = client_or_url
            self._url = client_or_url.url
        else:
            self._client = None
            self._url = client_or_url
        self._token = token
        self.concurrency = concurrency
        self.worker_id = worker_id
        self.lease_timeout = lease_timeout
        self.poll_wait = poll_wait
        self._handlers: dict[str, Handler] = {}
        self._stop = threading.Event()
        self._cv = threading.Condition()
        self._idle = concurrency  # handler threads without a task
        self._started = False
        self._error: Optional[BaseException] = None
        self.completed = 0
        """Tasks this worker completed."""
        self.failed = 0
        """Attempts this worker failed (handler exceptions)."""

    # -- registration --------------------------------------------------

    def register(self, queue: str, fn: Handler) -> None:
        """Runs fn(task) for the tasks of queue."""
        if not callable(fn):
            raise TypeError(f"handler for {queue!r} is not callable")
        if self._started:
            raise RuntimeError("register handlers before run()")
        self._handlers[queue] = fn

    def handler(self, queue: str) -> Callable[[H], H]:
        """A decorator that registers the function as queue's handler."""

        def decorate(fn: H) -> H:
            self.register(queue, fn)
            return fn

        return decorate

    # -- running -------------------------------------------------------

    def stop(self) -> None:
        """Asks run() to return: no more leases, running handlers finish.

        Returns at once; safe to call from any thread or a signal handler.
        """
        self._stop.set()
        with self._cv:
            self._cv.notify_all()

    @property
    def stopping(self) -> bool:
        """True once stop() was called (or a signal asked for it)."""
        return self._stop.is_set()

    def run(self, handle_signals: bool = True) -> None:
        """Leases and runs tasks until stop(), SIGINT or SIGTERM.

        On stop, it leases no more tasks, lets running handlers finish and
        report, then returns. A Lease long-poll already waiting when stop()
        is called (at most ``poll_wait``) may still deliver tasks: they run
        too, since handing them back would cost each an attempt.

        With ``handle_signals`` (and when called on the main thread),
        SIGINT and SIGTERM ask for that stop; the previous signal handlers
        are back as soon as the first signal arrives, so a second Ctrl-C
        raises KeyboardInterrupt and abandons running handlers (their
        tasks are retried when the leases end).

        Raises what made leasing impossible (a bad queue name, a refused
        token, ...). A Worker runs once.
        """
        if not self._handlers:
            raise ValueError("no handlers registered")
        if self._started:
            raise RuntimeError("a Worker runs once")
        self._started = True
        own = self._client is None
        client = self._client if not own else Client(self._url, token=self._token)
        restore = self._install_signals() if handle_signals else None
        forced = True
        try:
            self._serve(client)
            forced = False
        finally:
            if restore is not None:
                restore()
            # After a forced exit, handler threads may still call through
            # the client, which must stay open for them.
            if own and not forced:
                client.close()
        if self._error is not None:
            raise self._error

    def _serve(self, client: Client) -> None:
        heart = _Heartbeater(client, self._clock_offset(client))
        work: _queue.SimpleQueue[Optional[Task]] = _queue.SimpleQueue()
        handlers = [
            threading.Thread(
                target=self._handler_loop,
                args=(work, heart),
                name=f"cairn-handler-{i}",
                daemon=True,
            )
            for i in range(self.concurrency)
        ]
        poller = threading.Thread(
            target=self._poll_loop, args=(client, work, heart), name="cairn-poller", daemon=True
        )
        heart.start()
        for t in handlers:
            t.start()
        poller.start()
        try:
            poller.join()  # interruptible: signal handlers run meanwhile
            for _ in handlers:
                work.put(None)
            for t in handlers:
                t.join()
        finally:
            heart.stop()
        heart.join()

    def _clock_offset(self, client: Client) -> float:
        """Returns the server's clock minus ours, in seconds (0 if unknown)."""
        try:
            before = time.time()
            p = client.ping()
            return p.server_time - (before + time.time()) / 2
        except CairnError as e:
            log.warning("ping failed (%s); assuming the server's clock is ours", e)
            return 0.0

    def _install_signals(self) -> Optional[Callable[[], None]]:
        """Makes SIGINT and SIGTERM call stop(); returns the undo function
        (None when not on the main thread, where Python allows it)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for s, h in previous.items():
                signal.signal(s, h if h is not None else signal.SIG_DFL)

        def on_signal(signum: int, frame: Any) -> None:
            log.info("%s: stopping after the running tasks", signal.Signals(signum).name)
            restore()
            self.stop()

        for s in previous:
            signal.signal(s, on_signal)
        return restore

    def _poll_loop(self, client: Client, work: "_queue.SimpleQueue[Optional[Task]]",
                   heart: _Heartbeater) -> None:
        queues = list(self._handlers)
        backoff = 0.0
        while True:
            with self._cv:
                while self._idle == 0 and not self._stop.is_set():
                    self._cv.wait()
                if self._stop.is_set():
                    return
                room = self._idle
            try:
                tasks = client.lease(
                    queues,
                    max=room,
                    wait=self.poll_wait,
                    worker_id=self.worker_id,
                    lease_timeout=self.lease_timeout,
                    release_on_disconnect=True,
                )
            except _FATAL as e:
                log.error("lease failed, stopping: %s", e)
                self._error = e
                self._stop.set()
                return
            except CairnError as e:
                backoff = min(max(backoff * 2, 0.1), _MAX_BACKOFF)
                log.warning("lease failed (%s); again in %.1f s", e, backoff)
                self._stop.wait(backoff)
                continue
            backoff = 0.0
            # Tasks leased by a poll that began before stop() still run:
            # handing them back would cost them an attempt.
            if tasks and self._stop.is_set():
                log.info("%d task(s) arrived while stopping; running them", len(tasks))
            for task in tasks:
                with self._cv:
                    self._idle -= 1
                heart.add(task)
                work.put(task)

    def _handler_loop(self, work: "_queue.SimpleQueue[Optional[Task]]",
                      heart: _Heartbeater) -> None:
        while (task := work.get()) is not None:
            # A completion may hand this thread the queue's next task.
            while task is not None:
                try:
                    task = self._run_one(task, heart)
                except BaseException:  # never lose a handler thread
                    log.exception("task %d: worker error", task.id)
                    task = None
            with self._cv:
                self._idle += 1
                self._cv.notify_all()

    def _run_one(self, task: Task, heart: _Heartbeater) -> Optional[Task]:
        """Runs task's handler and reports the outcome; returns the next
        task to run on this thread, if the completion leased one."""
        fn = self._handlers[task.queue]
        try:
            try:
                result = result_bytes(fn(task))
            finally:
                heart.remove(task)
        except Exception as e:
            text, retryable = error_text(e), not isinstance(e, NonRetryable)
            log.info("task %d attempt %d failed: %s", task.id, task.attempt, text,
                     exc_info=log.isEnabledFor(logging.DEBUG))
            if self._report(task, lambda: task.fail(text, retryable=retryable)):
                with self._cv:
                    self.failed += 1
            return None
        nxt = self._complete_and_lease(task, result)
        if nxt is not None:
            heart.add(nxt)
        return nxt

    def _complete_and_lease(self, task: Task, result: bytes) -> Optional[Task]:
        """Completes task; unless stopping, leases the queue's next task in
        the same request (one round trip per task on a busy queue)."""
        if not self._stop.is_set() and not task.lease_lost:
            try:
                nxt = task.complete_next(
                    result, worker_id=self.worker_id, lease_timeout=self.lease_timeout
                )
                with self._cv:
                    self.completed += 1
                return nxt
            except LeaseLost as e:
                log.warning("task %d: %s; outcome dropped", task.id, e.message)
                return None
            except CairnError as e:
                # Whether it took is unknown: a plain Complete is safe to
                # repeat, where another complete_next could lease a task
                # whose reply is lost again.
                log.warning("task %d: complete failed (%s); trying again", task.id, e)
        if self._report(task, lambda: task.complete(result)):
            with self._cv:
                self.completed += 1
        return None

    def _report(self, task: Task, call: Callable[[], Any]) -> bool:
        """Makes the Complete or Fail call, retrying while the server is
        unreachable (both are safe to repeat). Returns True if it took."""
        if task.lease_lost:
            log.warning("task %d: lease lost while running; outcome dropped", task.id)
            return False
        delay = 0.2
        for attempt in range(_REPORT_TRIES):
            try:
                call()
                return True
            except LeaseLost as e:
                log.warning("task %d: %s; outcome dropped", task.id, e.message)
                return False
            except (Unavailable, DeadlineExceeded) as e:
                if attempt + 1 == _REPORT_TRIES:
                    log.error("task %d: cannot report (%s); the lease will expire", task.id, e)
                    return False
                time.sleep(delay)
                delay *= 2
            except CairnError as e:
                log.error("task %d: cannot report: %s", task.id, e)
                return False
        return False
