"""Exceptions raised by the Cairn binding, one class per status code.

Every failed call raises a subclass of :class:`CairnError` that carries the
status code (gRPC's numbering, as on the wire and in ``cairn.h``) and the
server's or the library's message. Catch the base class for "anything went
wrong", or a subclass for one case::

    try:
        task.complete(b"done")
    except cairn.LeaseLost:
        pass  # another attempt owns the task now; drop the work
"""
from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Status codes, numbered as gRPC's and as ``cairn_status``."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class CairnError(Exception):
    """A call failed. ``code`` is the :class:`Status`, ``message`` says why."""

    def __init__(self, code: int, message: str = "") -> None:
        try:
            code = Status(code)
        except ValueError:
            pass  # a code from a newer server stays a plain int
        super().__init__(code, message)
        self.code = code
        self.message = message

    @property
    def status(self) -> str:
        """The code's name, such as ``"NOT_FOUND"``."""
        return self.code.name if isinstance(self.code, Status) else str(self.code)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}" if self.message else self.status

    def __reduce__(self):  # keeps the (code, message) signature on pickling
        return (self.__class__, (self.code, self.message))


class Cancelled(CairnError):
    """The call was cancelled."""


class Unknown(CairnError):
    """An error the server could not classify."""


class InvalidArgument(CairnError):
    """A field breaks a rule (a queue name, a negative duration, a limit)."""


class DeadlineExceeded(CairnError):
    """The call's time ran out, or the server could not be reached in time."""


class NotFound(CairnError):
    """No task has that id."""


class AlreadyExists(CairnError):
    """The thing to create exists already."""


class PermissionDenied(CairnError):
    """The caller may not do this."""


class ResourceExhausted(CairnError):
    """A message or batch over the server's limit, or the disk is full."""


class FailedPrecondition(CairnError):
    """The task is in the wrong state for the call."""


class LeaseLost(FailedPrecondition):
    """The lease is gone (deadline passed, canceled, or a newer attempt).

    Stop working on the task: its next attempt may already run elsewhere,
    and this attempt's outcome can no longer be recorded.
    """


class Aborted(CairnError):
    """The call was aborted, typically by a conflict; retry it."""


class OutOfRange(CairnError):
    """A value is outside its valid range."""


class Unimplemented(CairnError):
    """The server does not know the method."""


class Internal(CairnError):
    """A bug or an unexpected condition in the server or the library."""


class Unavailable(CairnError):
    """The server is unreachable, stopping, or its store is failing.

    The outcome of a change is then unknown; retrying it is safe.
    """


class DataLoss(CairnError):
    """Unrecoverable data loss or corruption."""


class Unauthenticated(CairnError):
    """The auth token is missing or wrong."""


_BY_CODE: dict[int, type[CairnError]] = {
    Status.CANCELLED: Cancelled,
    Status.UNKNOWN: Unknown,
    Status.INVALID_ARGUMENT: InvalidArgument,
    Status.DEADLINE_EXCEEDED: DeadlineExceeded,
    Status.NOT_FOUND: NotFound,
    Status.ALREADY_EXISTS: AlreadyExists,
    Status.PERMISSION_DENIED: PermissionDenied,
    Status.RESOURCE_EXHAUSTED: ResourceExhausted,
    Status.FAILED_PRECONDITION: FailedPrecondition,
    Status.ABORTED: Aborted,
    Status.OUT_OF_RANGE: OutOfRange,
    Status.UNIMPLEMENTED: Unimplemented,
    Status.INTERNAL: Internal,
    Status.UNAVAILABLE: Unavailable,
    Status.DATA_LOSS: DataLoss,
    Status.UNAUTHENTICATED: Unauthenticated,
}

# The prefix of FAILED_PRECONDITION messages that mean a lost lease
# (proto/README.md, "A lost lease looks like this").
_LEASE_LOST_PREFIX = "lease lost"


def error_for(code: int, message: str) -> CairnError:
    """Returns the exception for a failed call's status code and message."""
    if code == Status.FAILED_PRECONDITION and message.startswith(_LEASE_LOST_PREFIX):
        return LeaseLost(code, message)
    return _BY_CODE.get(code, CairnError)(code, message)
