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
from .registry import RetryPolicy, activities, activity, workflow, workflows
from .wf_client import HistoryEntry, WorkflowHandle, WorkflowRun
from .wf_context import Handle, WorkflowContext
from .wf_errors import (
    ActivityError,
    ChildWorkflowError,
    NondeterminismError,
    StepError,
    WaitTimeout,
    WorkflowCancelled,
    WorkflowError,
    WorkflowFailed,
)
from .wf_worker import Worker, current_task
from .worker import NonRetryable

__all__ = [
    "ActivityError",
    "ChildWorkflowError",
    "Handle",
    "HistoryEntry",
    "NondeterminismError",
    "RetryPolicy",
    "StepError",
    "WaitTimeout",
    "WorkflowCancelled",
    "WorkflowContext",
    "WorkflowError",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowRun",
    "activities",
    "activity",
    "current_task",
    "workflow",
    "workflows",
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
