"""The values the binding passes in and out: states, specs, tasks, stats.

Units follow Python's conventions rather than the wire's: durations are
seconds (floats) and instants are seconds since the Unix epoch, like
``time.time()``. The C library's milliseconds are converted at the
boundary, in :mod:`cairn.client`.
"""
from __future__ import annotations

import datetime
import enum
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

if TYPE_CHECKING:
    from .client import Client

Payload = Union[bytes, bytearray, memoryview, str]
"""What may be sent as a payload, result or heartbeat details: bytes are
sent as they are, a str as UTF-8."""

Instant = Union[float, int, datetime.datetime]
"""An absolute time: seconds since the Unix epoch, or a datetime (a naive
one is taken as local time)."""


class State(str, enum.Enum):
    """A task's state. Members compare equal to their names: ``"pending"``."""

    PENDING = "pending"
    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        """True for the states a task never leaves on its own."""
        return self in (State.SUCCEEDED, State.FAILED, State.CANCELED)

    def __str__(self) -> str:
        return self.value


# cairn_state's numbers, as in cairn.h; 0 is "any" (filters only).
STATE_CODES: dict[State, int] = {
    State.PENDING: 1,
    State.ACTIVE: 2,
    State.SUCCEEDED: 3,
    State.FAILED: 4,
    State.CANCELED: 5,
}
STATES_BY_CODE: dict[int, State] = {v: k for k, v in STATE_CODES.items()}


def to_bytes(value: Optional[Payload], what: str = "payload") -> bytes:
    """Returns value as bytes: bytes-like as is, str as UTF-8, None as b""."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")


def result_bytes(value: Any) -> bytes:
    """Returns a handler's result as bytes: bytes and str as by to_bytes,
    None as b"", any other value as its JSON text."""
    if value is None or isinstance(value, (bytes, bytearray, memoryview, str)):
        return to_bytes(value, "result")
    return json.dumps(value).encode("utf-8")


def duration_ms(seconds: Optional[float], what: str) -> int:
    """Returns seconds as whole milliseconds; None is 0 (the default).

    A positive duration below a millisecond becomes 1 ms, not 0, so that it
    never turns into "use the default". Negative values pass through: the
    server refuses them with a message naming the field.
    """
    if seconds is None:
        return 0
    if isinstance(seconds, datetime.timedelta):
        seconds = seconds.total_seconds()
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise TypeError(f"{what} must be a number of seconds, not {type(seconds).__name__}")
    if not math.isfinite(seconds):
        raise ValueError(f"{what} must be finite, not {seconds}")
    ms = int(round(seconds * 1000))
    if ms == 0 and seconds > 0:
        ms = 1
    return ms


def instant_ms(when: Optional[Instant], what: str) -> int:
    """Returns an absolute time as milliseconds since the epoch; None is 0."""
    if when is None:
        return 0
    if isinstance(when, datetime.datetime):
        when = when.timestamp()
    return duration_ms(when, what)


def seconds(ms: int) -> float:
    """Returns milliseconds as seconds."""
    return ms / 1000.0


def instant(ms: int) -> Optional[float]:
    """Returns milliseconds since the epoch as seconds; 0 (unset) is None."""
    return ms / 1000.0 if ms else None


@dataclass
class TaskSpec:
    """A task to enqueue; see :meth:`cairn.Client.enqueue` for the fields.

    Zero and None fields take the server's defaults.
    """

    queue: str
    payload: Optional[Payload] = b""
    priority: int = 0
    delay: float = 0.0
    run_at: Optional[Instant] = None
    key: Optional[str] = None
    max_attempts: int = 0
    heartbeat_timeout: Optional[float] = None
    start_to_close_timeout: Optional[float] = None
    retry_initial: Optional[float] = None
    retry_multiplier: Optional[float] = None
    retry_max: Optional[float] = None


@dataclass(frozen=True)
class EnqueueResult:
    """The outcome of one enqueued task.

    ``created`` is False when a task with the same idempotency key existed;
    ``id`` is then that task's id.
    """

    id: int
    created: bool


@dataclass(eq=False)
class Task:
    """A task as the server reported it.

    The fields mirror ``cairn_task`` in seconds: ``run_at``,
    ``created_at``, ``updated_at``, ``finished_at`` and ``lease_deadline``
    are seconds since the epoch (None when unset); ``heartbeat_timeout``,
    ``start_to_close_timeout``, ``retry_initial`` and ``retry_max`` are
    durations in seconds; ``key`` is the idempotency key (None if none).

    A task returned by :meth:`Client.lease` carries its ``lease_token`` and
    can be heartbeated, completed or failed through its methods. Inside a
    :class:`cairn.Worker`, ``cancel_requested`` and ``lease_deadline`` are
    kept up to date by the automatic heartbeats, and ``lease_lost`` turns
    True when the worker learns that the lease is gone.
    """

    id: int
    queue: str
    payload: bytes
    priority: int
    state: State
    run_at: Optional[float]
    attempt: int
    max_attempts: int
    retry_initial: float
    retry_multiplier: float
    retry_max: float
    heartbeat_timeout: float
    start_to_close_timeout: float
    key: Optional[str]
    details: bytes
    result: bytes
    last_error: str
    cancel_requested: bool
    worker_id: str
    lease_deadline: Optional[float]
    created_at: Optional[float]
    updated_at: Optional[float]
    finished_at: Optional[float]
    lease_token: Optional[str] = None
    lease_lost: bool = False
    _client: Optional["Client"] = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"<cairn.Task {self.id} {self.queue!r} {self.state} "
            f"attempt {self.attempt}/{self.max_attempts}, {len(self.payload)} bytes>"
        )

    def _leased(self) -> "Client":
        if self.lease_token is None or self._client is None:
            raise ValueError(f"task {self.id} was not leased by this process")
        return self._client

    def heartbeat(self, details: Optional[Payload] = None) -> bool:
        """Extends the lease and returns whether cancellation was requested.

        ``details`` (bytes or str), when given, is kept on the task; a later
        attempt sees it as ``task.details``, so that it can resume. Raises
        :class:`cairn.LeaseLost` when the lease is gone.
        """
        return self._leased()._heartbeat(self, details)

    def complete(self, result: Any = b"") -> None:
        """Marks the task SUCCEEDED with ``result``.

        bytes and str are stored as they are (str as UTF-8), None as empty,
        any other value as its JSON text. Raises :class:`cairn.LeaseLost`
        when the lease is gone. Repeating a completion that took effect is
        not an error.
        """
        self._leased()._complete(self, result_bytes(result))

    def complete_next(
        self,
        result: Any = b"",
        *,
        worker_id: Optional[str] = None,
        lease_timeout: Optional[float] = None,
    ) -> Optional["Task"]:
        """Completes the task like :meth:`complete` and, in the same request
        and commit, leases the next due task of the same queue.

        Returns that task (leased, to run next) or None when none was due
        (or the library or server predates the call). A worker's loop then
        costs one round trip per task.
        """
        return self._leased()._complete_next(
            self, result_bytes(result), worker_id, lease_timeout
        )

    def fail(
        self,
        error: str,
        retryable: bool = True,
        retry_delay: Optional[float] = None,
    ) -> State:
        """Fails this attempt and returns the task's new state.

        The task is PENDING again after its backoff (or after
        ``retry_delay`` seconds) if ``retryable`` and attempts remain, else
        FAILED; a task whose cancellation was requested ends CANCELED.
        Raises :class:`cairn.LeaseLost` when the lease is gone.
        """
        return self._leased()._fail(self, error, retryable, retry_delay)

    @property
    def text(self) -> str:
        """The payload decoded as UTF-8."""
        return self.payload.decode("utf-8")

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


@dataclass(frozen=True)
class Page:
    """One page of :meth:`Client.list`: ``tasks`` and the ``next_after``
    to pass as ``after`` for the next page (0 on the last page).

    A Page iterates over, and has the length of, its tasks.
    """

    tasks: list[Task]
    next_after: int

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True)
class QueueStats:
    """Counts of one queue's tasks per state.

    ``due`` counts PENDING tasks whose run_at has come;
    ``oldest_due_age`` is how long the oldest of them has waited (seconds).
    """

    queue: str
    pending: int
    active: int
    succeeded: int
    failed: int
    canceled: int
    due: int
    oldest_due_age: float


@dataclass(frozen=True)
class Event:
    """One entry of a task's history (``kind``: "enqueued", "leased",
    "heartbeat", "expired", "failed", "retried", "completed",
    "cancel_requested", "canceled")."""

    at: float
    kind: str
    attempt: int
    worker_id: str
    message: str


@dataclass(frozen=True)
class PingResult:
    """The server's clock (seconds since the epoch) and version, and the
    round trip's duration in seconds."""

    server_time: float
    version: str
    round_trip: float
