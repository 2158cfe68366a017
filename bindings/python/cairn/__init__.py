"""Cairn: a Python client and worker for the Cairn job-queue server.

The binding calls the C client library, libcairn, through ctypes; see
:mod:`cairn._lib` (or the README) for how the library is found. Quick
start::

    import cairn

    with cairn.Client("tcp://127.0.0.1:7420") as c:
        task_id = c.enqueue("emails", b"hello").id

    worker = cairn.Worker("tcp://127.0.0.1:7420")

    @worker.handler("emails")
    def send(task):
        return b"sent " + task.payload

    worker.run()
"""
from ._lib import LibraryNotFound, find_library
from .client import DEFAULT_URL, Client
from .errors import (
    Aborted,
    AlreadyExists,
    CairnError,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    LeaseLost,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Status,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from .models import EnqueueResult, Event, Page, PingResult, QueueStats, State, Task, TaskSpec
from .worker import NonRetryable, Worker

__all__ = [
    "DEFAULT_URL",
    "Aborted",
    "AlreadyExists",
    "CairnError",
    "Cancelled",
    "Client",
    "DataLoss",
    "DeadlineExceeded",
    "EnqueueResult",
    "Event",
    "FailedPrecondition",
    "Internal",
    "InvalidArgument",
    "LeaseLost",
    "LibraryNotFound",
    "NonRetryable",
    "NotFound",
    "OutOfRange",
    "Page",
    "PermissionDenied",
    "PingResult",
    "QueueStats",
    "ResourceExhausted",
    "State",
    "Status",
    "Task",
    "TaskSpec",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
    "Worker",
    "find_library",
]
