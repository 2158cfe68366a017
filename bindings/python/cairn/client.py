"""The Cairn client: enqueue, lease, inspect, over libcairn through ctypes."""
from __future__ import annotations

import ctypes
import threading
import time
from contextlib import contextmanager
from ctypes import byref, c_bool, c_int64, c_size_t, c_uint64, c_void_p
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

from . import _lib
from . import _convert as conv
from .errors import (
    CairnError,
    DeadlineExceeded,
    FailedPrecondition,
    LeaseLost,
    NotFound,
    Status,
    Unimplemented,
    error_for,
)
from .wf_client import WorkflowCalls
from .models import (
    EnqueueResult,
    Event,
    Instant,
    Page,
    Payload,
    PingResult,
    QueueStats,
    State,
    Task,
    TaskSpec,
    duration_ms,
    instant,
    seconds,
    to_bytes,
)

DEFAULT_URL = "tcp://127.0.0.1:7420"


class _QueueSettings(ctypes.Structure):
    """``cairn_queue_settings`` of client/cairn.h, field for field."""

    _fields_ = [
        ("queue", ctypes.c_char_p),
        ("paused", c_bool),
        ("max_active", ctypes.c_uint32),
        ("rate_count", ctypes.c_uint32),
        ("rate_interval_ms", c_int64),
        ("rate_burst", ctypes.c_uint32),
        ("max_attempts", ctypes.c_uint32),
        ("retry_initial_backoff_ms", c_int64),
        ("retry_multiplier", ctypes.c_double),
        ("retry_max_backoff_ms", c_int64),
        ("heartbeat_timeout_ms", c_int64),
        ("start_to_close_timeout_ms", c_int64),
        ("updated_at_ms", c_int64),
    ]


# The CAIRN_QUEUE_ bits of cairn_queue_set, by keyword of queue_set.
_QUEUE_FIELDS = {
    "paused": 1 << 0,
    "max_active": 1 << 1,
    "rate": 1 << 2,
    "max_attempts": 1 << 3,
    "heartbeat_timeout": 1 << 5,
    "start_to_close_timeout": 1 << 6,
}
_QUEUE_CREATE = 1 << 16


def _queue_prototypes(lib: Any) -> None:
    """Declares the per-queue calls (once; ctypes keeps them)."""
    if getattr(lib.cairn_queue_get, "argtypes", None):
        return
    sp = ctypes.POINTER(_QueueSettings)
    lib.cairn_queue_set.restype = ctypes.c_int
    lib.cairn_queue_set.argtypes = [c_void_p, sp, ctypes.c_uint, ctypes.POINTER(sp)]
    lib.cairn_queue_get.restype = ctypes.c_int
    lib.cairn_queue_get.argtypes = [c_void_p, ctypes.c_char_p, ctypes.POINTER(sp)]
    lib.cairn_queue_settings_free.restype = None
    lib.cairn_queue_settings_free.argtypes = [sp, c_size_t]


def _queue_dict(p: Any) -> dict[str, Any]:
    """The settings at p as a dict (durations in seconds, 0: none)."""
    s = p.contents
    return {
        "queue": conv.text(s.queue),
        "paused": bool(s.paused),
        "max_active": s.max_active,
        "rate": (s.rate_count, s.rate_interval_ms / 1000.0, s.rate_burst or s.rate_count)
        if s.rate_count
        else None,
        "max_attempts": s.max_attempts,
        "heartbeat_timeout": s.heartbeat_timeout_ms / 1000.0,
        "start_to_close_timeout": s.start_to_close_timeout_ms / 1000.0,
    }


class _ScheduleSpec(ctypes.Structure):
    """``cairn_schedule_spec`` of client/cairn.h, field for field."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("cron", ctypes.c_char_p),
        ("time_zone", ctypes.c_char_p),
        ("task", _lib.TaskSpec),
        ("skip_missed", c_bool),
        ("paused", c_bool),
        ("replace", c_bool),
        ("create_queue", c_bool),
    ]


class _Schedule(ctypes.Structure):
    """``cairn_schedule`` of client/cairn.h, field for field."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("cron", ctypes.c_char_p),
        ("time_zone", ctypes.c_char_p),
        ("queue", ctypes.c_char_p),
        ("payload", c_void_p),
        ("payload_len", c_size_t),
        ("priority", ctypes.c_int32),
        ("max_attempts", ctypes.c_uint32),
        ("skip_missed", c_bool),
        ("paused", c_bool),
        ("next_fire_at_ms", c_int64),
        ("last_fire_at_ms", c_int64),
        ("last_task_id", c_uint64),
        ("created_at_ms", c_int64),
        ("updated_at_ms", c_int64),
    ]


# What schedule_add's ``missed`` says, as cairn_schedule_spec.skip_missed.
_MISSED = {"fire-once": False, "skip": True}


def _schedule_prototypes(lib: Any) -> None:
    """Declares the schedule calls (once; ctypes keeps them)."""
    if getattr(lib.cairn_schedule_add, "argtypes", None):
        return
    sp = ctypes.POINTER(_Schedule)
    lib.cairn_schedule_add.restype = ctypes.c_int
    lib.cairn_schedule_add.argtypes = [c_void_p, ctypes.POINTER(_ScheduleSpec), ctypes.POINTER(sp)]
    lib.cairn_schedule_list.restype = ctypes.c_int
    lib.cairn_schedule_list.argtypes = [
        c_void_p, ctypes.POINTER(ctypes.POINTER(sp)), ctypes.POINTER(c_size_t)
    ]
    lib.cairn_schedule_pause.restype = ctypes.c_int
    lib.cairn_schedule_pause.argtypes = [c_void_p, ctypes.c_char_p, c_bool, ctypes.POINTER(sp)]
    lib.cairn_schedule_delete.restype = ctypes.c_int
    lib.cairn_schedule_delete.argtypes = [c_void_p, ctypes.c_char_p]
    lib.cairn_schedule_free.restype = None
    lib.cairn_schedule_free.argtypes = [sp]
    lib.cairn_schedules_free.restype = None
    lib.cairn_schedules_free.argtypes = [ctypes.POINTER(sp), c_size_t]


def _schedule_dict(p: Any) -> dict[str, Any]:
    """The schedule at p as a dict (instants in epoch seconds, None: unset)."""
    s = p.contents
    return {
        "name": conv.text(s.name),
        "cron": conv.text(s.cron),
        "tz": conv.text(s.time_zone) or None,  # None: UTC, as schedule_add takes it
        "queue": conv.text(s.queue),
        "payload": conv.buf(s.payload, s.payload_len),
        "priority": s.priority,
        "max_attempts": s.max_attempts,
        "missed": "skip" if s.skip_missed else "fire-once",
        "paused": bool(s.paused),
        "next_fire_at": instant(s.next_fire_at_ms),
        "last_fire_at": instant(s.last_fire_at_ms),
        "last_task_id": s.last_task_id or None,
        "created_at": instant(s.created_at_ms),
        "updated_at": instant(s.updated_at_ms),
    }


# Await is a long-poll that the server bounds (--max-wait, 60 s by
# default); longer waits are made of several calls of at most this long.
_AWAIT_SLICE = 30.0


class Client(WorkflowCalls):
    """A connection to a Cairn server.

    ``url`` is ``tcp://host:port``, ``ipc:///path`` or ``tls+tcp://...``;
    ``token`` is sent with every request when the server requires one;
    ``timeout`` bounds each call in seconds (long-polls add their wait).
    Unless ``lazy_connect`` is set, the constructor raises
    :class:`cairn.Unavailable` when the server cannot be reached; after
    that the connection is kept up in the background.

    For ``tls+tcp://`` URLs, the server's certificate is always verified:
    ``tls_ca_file`` names the CAs to trust (PEM; default the system's),
    ``tls_cert_file`` and ``tls_key_file`` a client certificate for servers
    that require one, ``tls_server_name`` the name the server's certificate
    must carry (default the URL's host).

    A Client is thread-safe: any number of threads may call through one.
    Use it as a context manager, or call :meth:`close`::

        with cairn.Client() as c:
            r = c.enqueue("emails", b"hello")
            task = c.await_result(r.id, timeout=30)

    Every failed call raises a :class:`cairn.CairnError` subclass with the
    server's message.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: Optional[str] = None,
        timeout: float = 10.0,
        lazy_connect: bool = False,
        *,
        tls_ca_file: Optional[str] = None,
        tls_cert_file: Optional[str] = None,
        tls_key_file: Optional[str] = None,
        tls_server_name: Optional[str] = None,
    ) -> None:
        self.url = url
        self._lib = _lib.lib()
        self._cv = threading.Condition()
        self._calls = 0
        self._handle: Optional[c_void_p] = None
        opts = _lib.ClientOptions(
            token=conv.cstr(token),
            timeout_ms=duration_ms(timeout, "timeout"),
            lazy_connect=lazy_connect,
            tls_ca_file=conv.cstr(tls_ca_file),
            tls_cert_file=conv.cstr(tls_cert_file),
            tls_key_file=conv.cstr(tls_key_file),
            tls_server_name=conv.cstr(tls_server_name),
        )
        handle = c_void_p()
        err = ctypes.create_string_buffer(1024)
        rv = self._lib.cairn_client_open(
            byref(handle), url.encode("utf-8"), byref(opts), err, len(err)
        )
        if rv != Status.OK:
            raise error_for(rv, conv.text(err.value))
        self._handle = handle
        self._timeout = timeout
        self._batch_ok = True  # until a server answers UNIMPLEMENTED

    # -- lifetime ------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; calls after this raise FailedPrecondition.

        Waits for calls in progress on other threads (a long-poll included)
        to return first, as libcairn requires. Closing twice is harmless.
        """
        with self._cv:
            handle, self._handle = self._handle, None
            while self._calls > 0:
                self._cv.wait()
        if handle is not None:
            self._lib.cairn_client_close(handle)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle is None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A forgotten close still frees the handle (and nng's threads) once
        # the object is collected; no call can be running then.
        try:
            if self._handle is not None and self._calls == 0:
                self._lib.cairn_client_close(self._handle)
                self._handle = None
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<cairn.Client {self.url}{' closed' if self.closed else ''}>"

    @property
    def timeout(self) -> float:
        """The per-call timeout in seconds; may be set."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        ms = duration_ms(value, "timeout")
        if ms <= 0:
            raise ValueError(f"timeout must be positive, not {value}")
        with self._using() as h:
            self._lib.cairn_client_set_timeout(h, ms)
        self._timeout = value

    @contextmanager
    def _using(self) -> Iterator[c_void_p]:
        """Yields the handle and keeps close() waiting until the block ends."""
        with self._cv:
            if self._handle is None:
                raise FailedPrecondition(Status.FAILED_PRECONDITION, "the client is closed")
            self._calls += 1
            handle = self._handle
        try:
            yield handle
        finally:
            with self._cv:
                self._calls -= 1
                if self._calls == 0:
                    self._cv.notify_all()

    def _lib_has(self, name: str) -> bool:
        return hasattr(self._lib, name)

    def _check(self, rv: int, handle: c_void_p) -> None:
        """Raises the exception for rv. The message is per thread, so this
        runs on the thread of the failed call, right after it."""
        if rv != Status.OK:
            raise error_for(rv, conv.text(self._lib.cairn_client_errmsg(handle)))

    def _tasks(self, v: Any, n: int) -> list[Task]:
        """Copies and frees an array of n tasks from the library."""
        try:
            return [conv.task_from_c(v[i], self) for i in range(n)]
        finally:
            self._lib.cairn_tasks_free(v, n)

    def _one_task(self, p: Any) -> Task:
        """Copies and frees one task from the library."""
        try:
            return conv.task_from_c(p, self)
        finally:
            self._lib.cairn_task_free(p)

    # -- producers -----------------------------------------------------

    def enqueue(
        self,
        queue: str,
        payload: Optional[Payload] = b"",
        *,
        priority: int = 0,
        delay: float = 0.0,
        run_at: Optional[Instant] = None,
        key: Optional[str] = None,
        max_attempts: int = 0,
        heartbeat_timeout: Optional[float] = None,
        start_to_close_timeout: Optional[float] = None,
        retry_initial: Optional[float] = None,
        retry_multiplier: Optional[float] = None,
        retry_max: Optional[float] = None,
    ) -> EnqueueResult:
        """Enqueues one task and returns its id.

        - ``payload``: bytes, or str sent as UTF-8.
        - ``priority``: higher runs first.
        - ``delay`` (seconds) or ``run_at`` (epoch seconds or a datetime;
          wins over delay): not before then.
        - ``key``: an idempotency key. While a task with it exists in the
          queue, enqueueing again returns that task's id with
          ``created=False``.
        - ``max_attempts``: attempts before the task FAILS (0: the
          server's default, 25).
        - ``heartbeat_timeout``: seconds a lease lasts without a heartbeat;
          ``start_to_close_timeout``: seconds one attempt may take at most.
        - ``retry_initial``, ``retry_multiplier``, ``retry_max``: the
          backoff between attempts (seconds; initial * multiplier **
          (attempt - 1), capped at retry_max).

        None and zero take the server's defaults.
        """
        spec = TaskSpec(
            queue,
            payload,
            priority=priority,
            delay=delay,
            run_at=run_at,
            key=key,
            max_attempts=max_attempts,
            heartbeat_timeout=heartbeat_timeout,
            start_to_close_timeout=start_to_close_timeout,
            retry_initial=retry_initial,
            retry_multiplier=retry_multiplier,
            retry_max=retry_max,
        )
        return self.enqueue_many([spec])[0]

    def enqueue_many(
        self, specs: Iterable[Union[TaskSpec, Mapping[str, Any]]]
    ) -> list[EnqueueResult]:
        """Enqueues several tasks atomically (all or none), in one request.

        Each item is a :class:`TaskSpec` or a dict of its fields (``queue``
        and the keyword arguments of :meth:`enqueue`). Returns one result
        per task, in order. A batch larger than the server's limit (1000 by
        default) is refused as a whole, never split, which would break its
        atomicity.
        """
        items = [s if isinstance(s, TaskSpec) else TaskSpec(**s) for s in specs]
        if not items:
            return []
        arr = (_lib.TaskSpec * len(items))()
        for spec, out in zip(items, arr):
            conv.encode_spec(spec, out)
        results = (_lib.EnqueueResult * len(items))()
        with self._using() as h:
            self._check(self._lib.cairn_enqueue(h, arr, len(items), results), h)
        return [EnqueueResult(r.id, bool(r.created)) for r in results]

    # -- workers -------------------------------------------------------

    def lease(
        self,
        queues: Union[str, Sequence[str]],
        max: int = 1,
        wait: float = 0.0,
        worker_id: Optional[str] = None,
        lease_timeout: Optional[float] = None,
        release_on_disconnect: bool = False,
    ) -> list[Task]:
        """Leases up to ``max`` due tasks from one queue or several.

        With ``wait`` (seconds), a lease that finds nothing waits until a
        task is due or the wait ends (the server caps it, 60 s by default),
        then returns an empty list. ``worker_id`` appears in the tasks'
        history (default host:pid). ``lease_timeout`` (seconds) overrides
        the tasks' heartbeat timeout for this lease. With
        ``release_on_disconnect`` the leases are bound to this client's
        connection: when it closes, the server releases them after its
        grace period unless a heartbeat comes first (workers set it).

        Each returned task must be heartbeated before its
        ``lease_deadline``, then completed or failed.
        """
        names = [queues] if isinstance(queues, str) else list(queues)
        qv = (ctypes.c_char_p * len(names))(*(q.encode("utf-8") for q in names))
        opts = _lib.LeaseOptions(
            max_tasks=max,
            wait_ms=duration_ms(wait, "wait"),
            worker_id=worker_id.encode("utf-8") if worker_id is not None else None,
            lease_timeout_ms=duration_ms(lease_timeout, "lease_timeout"),
            release_on_disconnect=release_on_disconnect,
        )
        v = _lib.TaskPP()
        n = c_size_t()
        with self._using() as h:
            rv = self._lib.cairn_lease(h, qv, len(names), byref(opts), byref(v), byref(n))
            self._check(rv, h)
        return self._tasks(v, n.value)

    def _heartbeat(self, task: Task, details: Optional[Payload]) -> bool:
        data = to_bytes(details, "details") if details is not None else None
        cancel = c_bool()
        deadline = c_int64()
        with self._using() as h:
            rv = self._lib.cairn_heartbeat(
                h,
                task.id,
                task.lease_token.encode("utf-8"),
                data,
                len(data) if data else 0,
                byref(cancel),
                byref(deadline),
            )
            self._check(rv, h)
        task.lease_deadline = instant(deadline.value)
        if cancel.value:
            task.cancel_requested = True
        if data:
            task.details = data
        return task.cancel_requested

    def _complete(self, task: Task, result: bytes) -> None:
        with self._using() as h:
            rv = self._lib.cairn_complete(
                h, task.id, task.lease_token.encode("utf-8"), result, len(result)
            )
            self._check(rv, h)
        task.state = State.SUCCEEDED
        task.result = result

    def _complete_next(
        self,
        task: Task,
        result: bytes,
        worker_id: Optional[str],
        lease_timeout: Optional[float],
    ) -> Optional[Task]:
        if not self._lib_has("cairn_complete_next"):
            self._complete(task, result)
            return None
        opts = _lib.LeaseOptions(
            max_tasks=1,
            worker_id=conv.cstr(worker_id),
            lease_timeout_ms=duration_ms(lease_timeout, "lease_timeout"),
        )
        nxt = _lib.TaskP()
        with self._using() as h:
            rv = self._lib.cairn_complete_next(
                h, task.id, task.lease_token.encode("utf-8"), result, len(result),
                byref(opts), byref(nxt),
            )
            self._check(rv, h)
        task.state = State.SUCCEEDED
        task.result = result
        return self._one_task(nxt) if nxt else None

    def heartbeat_many(self, tasks: Sequence[Task]) -> list[Optional[CairnError]]:
        """Heartbeats several leased tasks in one request (with a libcairn
        and server that have HeartbeatBatch; one by one otherwise).

        Returns, per task, None when its lease was extended (its
        ``lease_deadline`` and ``cancel_requested`` are updated) or the
        error for that task, typically :class:`cairn.LeaseLost`. Raises
        when the request failed as a whole.
        """
        if len(tasks) > 1 and self._batch_ok and self._lib_has("cairn_heartbeat_batch"):
            try:
                return self._heartbeat_batch(tasks)
            except Unimplemented:
                self._batch_ok = False  # an older server
        out: list[Optional[CairnError]] = []
        for t in tasks:
            try:
                self._heartbeat(t, None)
                out.append(None)
            except (LeaseLost, NotFound) as e:
                out.append(e)
        return out

    def _heartbeat_batch(self, tasks: Sequence[Task]) -> list[Optional[CairnError]]:
        items = (_lib.HeartbeatItem * len(tasks))()
        for t, it in zip(tasks, items):
            it.id = t.id
            it.lease_token = t.lease_token.encode("utf-8")
        with self._using() as h:
            self._check(self._lib.cairn_heartbeat_batch(h, items, len(tasks)), h)
            first = conv.text(self._lib.cairn_client_errmsg(h))
        out: list[Optional[CairnError]] = []
        for t, it in zip(tasks, items):
            if it.status == Status.OK:
                t.lease_deadline = instant(it.deadline_ms)
                t.cancel_requested = t.cancel_requested or bool(it.cancel_requested)
                out.append(None)
            else:
                # The library keeps the message of the first refusal only.
                msg = first if not any(out) and first else "lease lost (in a batch)"
                if it.status == Status.FAILED_PRECONDITION and not msg.startswith("lease lost"):
                    msg = "lease lost: " + msg
                out.append(error_for(it.status, msg))
        return out

    def _fail(
        self, task: Task, error: str, retryable: bool, retry_delay: Optional[float]
    ) -> State:
        new_state = ctypes.c_int()
        run_at = c_int64()
        with self._using() as h:
            rv = self._lib.cairn_fail(
                h,
                task.id,
                task.lease_token.encode("utf-8"),
                str(error).encode("utf-8", "replace"),
                retryable,
                duration_ms(retry_delay, "retry_delay"),
                byref(new_state),
                byref(run_at),
            )
            self._check(rv, h)
        task.state = conv.state(new_state.value)
        task.last_error = str(error)
        if run_at.value:
            task.run_at = instant(run_at.value)
        return task.state

    def release(
        self, task: Task, reason: Optional[str] = None, count_attempt: bool = False
    ) -> State:
        """Gives the lease of ``task`` back without running it: PENDING and
        due at once, the attempt not counted (with ``count_attempt``, a
        retryable failure under the retry policy). Returns the new state."""
        new_state = ctypes.c_int()
        with self._using() as h:
            rv = self._lib.cairn_release(
                h,
                task.id,
                task.lease_token.encode("utf-8"),
                reason.encode("utf-8", "replace") if reason is not None else None,
                count_attempt,
                byref(new_state),
            )
            self._check(rv, h)
        task.state = conv.state(new_state.value)
        return task.state

    # -- inspection and control ------------------------------------------

    def get(self, id: int) -> Task:
        """Returns task ``id``; raises :class:`cairn.NotFound` if none."""
        p = _lib.TaskP()
        with self._using() as h:
            self._check(self._lib.cairn_get(h, id, byref(p)), h)
        return self._one_task(p)

    def list(
        self,
        queue: str,
        state: Union[State, str, None] = None,
        limit: int = 100,
        after: int = 0,
    ) -> Page:
        """Returns one page of a queue's tasks with id > ``after``, in id
        order, optionally only those in ``state`` ("pending", ...).

        Pass the page's ``next_after`` as ``after`` for the next page; it is
        0 on the last one. :meth:`iter_tasks` walks all pages for you.
        """
        v = _lib.TaskPP()
        n = c_size_t()
        nxt = c_uint64()
        code = conv.state_code(state)
        with self._using() as h:
            rv = self._lib.cairn_list(
                h, queue.encode("utf-8"), code, limit, after, byref(v), byref(n), byref(nxt)
            )
            self._check(rv, h)
        return Page(self._tasks(v, n.value), nxt.value)

    def iter_tasks(
        self, queue: str, state: Union[State, str, None] = None, page_size: int = 100
    ) -> Iterator[Task]:
        """Yields every task of a queue (optionally in one state), one page
        of ``page_size`` at a time."""
        after = 0
        while True:
            page = self.list(queue, state, limit=page_size, after=after)
            yield from page.tasks
            if not page.next_after:
                return
            after = page.next_after

    def stats(self, queue: Optional[str] = None) -> list[QueueStats]:
        """Returns the counts per state of one queue, or of every queue."""
        v = ctypes.POINTER(_lib.QueueStats)()
        n = c_size_t()
        name = queue.encode("utf-8") if queue else None
        with self._using() as h:
            self._check(self._lib.cairn_stats(h, name, byref(v), byref(n)), h)
        try:
            return [
                QueueStats(
                    queue=conv.text(s.queue),
                    pending=s.pending,
                    active=s.active,
                    succeeded=s.succeeded,
                    failed=s.failed,
                    canceled=s.canceled,
                    due=s.due,
                    oldest_due_age=seconds(s.oldest_due_age_ms),
                )
                for s in (v[i] for i in range(n.value))
            ]
        finally:
            self._lib.cairn_stats_free(v, n.value)

    def queue_set(self, queue: str, *, create: bool = False, **settings: Any) -> dict[str, Any]:
        """Changes the settings of ``queue`` named as keywords, the others
        keeping theirs: ``paused`` (bool), ``max_active`` (0: no limit),
        ``rate`` (``(count, interval_seconds)`` or ``(count, interval,
        burst)``; ``None``: no rate limit), ``max_attempts``,
        ``heartbeat_timeout`` and ``start_to_close_timeout`` (seconds; 0:
        the server's default). ``create`` configures a queue that has no
        tasks yet. Returns all of them after the change, as a dict."""
        s = _QueueSettings(queue=queue.encode("utf-8"))
        fields = _QUEUE_CREATE if create else 0
        for key, value in settings.items():
            if key not in _QUEUE_FIELDS:
                raise TypeError(f"queue_set() got an unknown setting {key!r}")
            fields |= _QUEUE_FIELDS[key]
            if key == "rate":
                if value:
                    s.rate_count = int(value[0])
                    s.rate_interval_ms = duration_ms(value[1], "rate interval")
                    s.rate_burst = int(value[2]) if len(value) > 2 else 0
            elif key in ("heartbeat_timeout", "start_to_close_timeout"):
                setattr(s, key + "_ms", duration_ms(value, key))
            else:
                setattr(s, key, value)
        out = ctypes.POINTER(_QueueSettings)()
        _queue_prototypes(self._lib)
        with self._using() as h:
            self._check(self._lib.cairn_queue_set(h, byref(s), fields, byref(out)), h)
        try:
            return _queue_dict(out)
        finally:
            self._lib.cairn_queue_settings_free(out, 1)

    def queue_get(self, queue: str) -> dict[str, Any]:
        """Returns the settings of ``queue`` as :meth:`queue_set` does."""
        out = ctypes.POINTER(_QueueSettings)()
        _queue_prototypes(self._lib)
        with self._using() as h:
            self._check(self._lib.cairn_queue_get(h, queue.encode("utf-8"), byref(out)), h)
        try:
            return _queue_dict(out)
        finally:
            self._lib.cairn_queue_settings_free(out, 1)

    def schedule_add(
        self,
        name: str,
        queue: str,
        *,
        cron: str,
        payload: Optional[Payload] = b"",
        tz: Optional[str] = None,
        missed: str = "fire-once",
        paused: bool = False,
        replace: bool = False,
        create_queue: bool = False,
        priority: int = 0,
        max_attempts: int = 0,
        heartbeat_timeout: Optional[float] = None,
        start_to_close_timeout: Optional[float] = None,
        retry_initial: Optional[float] = None,
        retry_multiplier: Optional[float] = None,
        retry_max: Optional[float] = None,
    ) -> dict[str, Any]:
        """Adds cron schedule ``name``: each tick enqueues one task of
        ``queue`` with ``payload`` and the task keywords of
        :meth:`enqueue`, exactly once (key ``schedule:NAME:<tick>``).

        ``cron`` is 5 fields (``"0 9 * * mon-fri"``), ``@hourly``,
        ``@daily``, ``@weekly``, ``@monthly``, ``@yearly`` or ``"@every
        30s"``; ``tz`` an IANA time zone (None: UTC). ``missed``:
        ``"fire-once"`` fires the latest missed tick once, ``"skip"`` none.
        ``replace`` replaces a schedule of that name (else
        :class:`cairn.AlreadyExists`); ``create_queue`` allows a queue that
        has no tasks or settings yet (else :class:`cairn.InvalidArgument`,
        a typing error more often than not). Bad cron text or time zone
        raises :class:`cairn.InvalidArgument` and changes nothing. Returns
        the schedule as stored, as a dict."""
        if missed not in _MISSED:
            raise ValueError(f"missed must be 'fire-once' or 'skip', not {missed!r}")
        spec = _ScheduleSpec(
            name=name.encode("utf-8"),
            cron=cron.encode("utf-8"),
            time_zone=tz.encode("utf-8") if tz else None,
            skip_missed=_MISSED[missed],
            paused=paused,
            replace=replace,
            create_queue=create_queue,
        )
        task = TaskSpec(
            queue,
            payload,
            priority=priority,
            max_attempts=max_attempts,
            heartbeat_timeout=heartbeat_timeout,
            start_to_close_timeout=start_to_close_timeout,
            retry_initial=retry_initial,
            retry_multiplier=retry_multiplier,
            retry_max=retry_max,
        )
        conv.encode_spec(task, spec.task)
        out = ctypes.POINTER(_Schedule)()
        _schedule_prototypes(self._lib)
        with self._using() as h:
            self._check(self._lib.cairn_schedule_add(h, byref(spec), byref(out)), h)
        try:
            return _schedule_dict(out)
        finally:
            self._lib.cairn_schedule_free(out)

    def schedules(self) -> list[dict[str, Any]]:
        """Returns every schedule, by name, as :meth:`schedule_add` does."""
        v = ctypes.POINTER(ctypes.POINTER(_Schedule))()
        n = c_size_t()
        _schedule_prototypes(self._lib)
        with self._using() as h:
            self._check(self._lib.cairn_schedule_list(h, byref(v), byref(n)), h)
        try:
            return [_schedule_dict(v[i]) for i in range(n.value)]
        finally:
            self._lib.cairn_schedules_free(v, n.value)

    def _schedule_pause(self, name: str, paused: bool) -> dict[str, Any]:
        out = ctypes.POINTER(_Schedule)()
        _schedule_prototypes(self._lib)
        with self._using() as h:
            rv = self._lib.cairn_schedule_pause(h, name.encode("utf-8"), paused, byref(out))
            self._check(rv, h)
        try:
            return _schedule_dict(out)
        finally:
            self._lib.cairn_schedule_free(out)

    def schedule_pause(self, name: str) -> dict[str, Any]:
        """Pauses schedule ``name`` (its ticks enqueue nothing) and returns
        it; :class:`cairn.NotFound` when there is none."""
        return self._schedule_pause(name, True)

    def schedule_resume(self, name: str) -> dict[str, Any]:
        """Resumes schedule ``name`` and returns it; it waits for its next
        tick (the ticks missed while paused do not fire)."""
        return self._schedule_pause(name, False)

    def schedule_delete(self, name: str) -> None:
        """Deletes schedule ``name``; the tasks it enqueued stay.
        :class:`cairn.NotFound` when there is none."""
        _schedule_prototypes(self._lib)
        with self._using() as h:
            self._check(self._lib.cairn_schedule_delete(h, name.encode("utf-8")), h)

    def cancel(self, id: int) -> State:
        """Cancels task ``id``: a PENDING one becomes CANCELED at once, an
        ACTIVE one is flagged and its worker learns it on its next
        heartbeat. Returns the state: ``"canceled"`` or ``"active"``."""
        new_state = ctypes.c_int()
        with self._using() as h:
            self._check(self._lib.cairn_cancel(h, id, byref(new_state)), h)
        return conv.state(new_state.value)

    def retry(self, id: int) -> Task:
        """Puts a FAILED or CANCELED task back to PENDING with a fresh
        attempt budget, and returns it."""
        p = _lib.TaskP()
        with self._using() as h:
            self._check(self._lib.cairn_retry(h, id, byref(p)), h)
        return self._one_task(p)

    def await_result(self, id: int, timeout: Optional[float] = None) -> Task:
        """Waits until task ``id`` is terminal and returns it.

        The outcome is in ``task.state`` ("succeeded", "failed",
        "canceled"), ``task.result`` and ``task.last_error``. With
        ``timeout`` (seconds; None waits for ever), raises
        :class:`cairn.DeadlineExceeded` if the task is still running then.
        """
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _AWAIT_SLICE if end is None else min(_AWAIT_SLICE, end - time.monotonic())
            p = _lib.TaskP()
            done = c_bool()
            with self._using() as h:
                rv = self._lib.cairn_await(
                    h, id, max(0, duration_ms(left, "timeout")), byref(p), byref(done)
                )
                self._check(rv, h)
            task = self._one_task(p)
            if done.value:
                return task
            if end is not None and time.monotonic() >= end:
                raise DeadlineExceeded(
                    Status.DEADLINE_EXCEEDED,
                    f"task {id} is still {task.state} after {timeout} s",
                )

    def history(self, id: int) -> list[Event]:
        """Returns the events of task ``id``, oldest first."""
        v = ctypes.POINTER(_lib.Event)()
        n = c_size_t()
        with self._using() as h:
            self._check(self._lib.cairn_history(h, id, byref(v), byref(n)), h)
        try:
            return [
                Event(
                    at=seconds(e.at_ms),
                    kind=conv.text(e.kind),
                    attempt=e.attempt,
                    worker_id=conv.text(e.worker_id),
                    message=conv.text(e.message),
                )
                for e in (v[i] for i in range(n.value))
            ]
        finally:
            self._lib.cairn_events_free(v, n.value)

    def ping(self) -> PingResult:
        """Makes a round trip that touches no storage; returns the server's
        clock and version and the round trip's duration."""
        server_ms = c_int64()
        version = c_void_p()
        with self._using() as h:
            start = time.monotonic()
            rv = self._lib.cairn_ping(h, byref(server_ms), byref(version))
            took = time.monotonic() - start
            self._check(rv, h)
        try:
            text = conv.text(ctypes.string_at(version)) if version.value else ""
        finally:
            self._lib.cairn_free(version)
        return PingResult(seconds(server_ms.value), text, took)
