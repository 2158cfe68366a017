"""Exceptions of workflows: what a workflow sees, and what a client sees.

Inside a workflow, a command whose outcome is not a result raises a
:class:`WorkflowError`: an activity, step or child that failed, a signal
wait that timed out, a cancel of the run. The workflow may catch them (and
try something else) or let them end the run: an uncaught
:class:`WorkflowCancelled` ends it as canceled, any other exception as failed.

:class:`NondeterminismError` is not one of them. It derives from
BaseException, like the internal signal that suspends a workflow, so that
``except Exception`` in workflow code does not swallow it; catching it
anyway changes nothing, since the turn is over for the library.
"""
from __future__ import annotations

from typing import Any, Optional


class WorkflowError(Exception):
    """An outcome of a command that is not a result (base class)."""


class ActivityError(WorkflowError):
    """An activity failed: its task failed for good (retries spent, or
    :class:`cairn.NonRetryable`) or was canceled. ``error`` is the task's
    last error."""

    def __init__(self, name: str, error: str, status: str = "failed") -> None:
        super().__init__(f'activity "{name}" {status}: {error}')
        self.name = name
        self.error = error
        self.status = status


class StepError(WorkflowError):
    """A step's function raised; its error was recorded as the step's
    outcome and every replay raises it again."""

    def __init__(self, name: str, error: str) -> None:
        super().__init__(f'step "{name}" failed: {error}')
        self.name = name
        self.error = error


class ChildWorkflowError(WorkflowError):
    """A child run failed, was terminated or was canceled."""

    def __init__(self, name: str, error: str, status: str = "failed") -> None:
        super().__init__(f'child "{name}" {status}: {error}')
        self.name = name
        self.error = error
        self.status = status


class WaitTimeout(WorkflowError, TimeoutError):
    """A signal wait's timeout came before the signal."""

    def __init__(self, name: str, timeout: Optional[float]) -> None:
        super().__init__(f'no signal "{name}" within {timeout} s')
        self.name = name
        self.timeout = timeout


class WorkflowCancelled(WorkflowError):
    """The run was asked to cancel: the wait that raised it ended
    canceled. Uncaught, it ends the run as canceled; caught, the workflow
    may clean up (its later commands run normally) and finish as it
    likes."""


class NondeterminismError(BaseException):
    """The workflow asked for something else than its log records at that
    place: the message names the seq, what the code asked for and what
    the log holds, and where in the code. The run is marked stuck, not
    failed, until a worker whose code replays the log cleanly takes it."""


class WorkflowFailed(Exception):
    """A run ended without a result (client side): ``state`` is
    ``"failed"``, ``"canceled"`` or ``"terminated"``, ``error`` its error,
    ``run`` the :class:`cairn.WorkflowRun`."""

    def __init__(self, run: Any) -> None:
        super().__init__(f"workflow {run.workflow_id} (run {run.run_id}) {run.state}: {run.error}")
        self.run = run
        self.state = run.state
        self.error = run.error
