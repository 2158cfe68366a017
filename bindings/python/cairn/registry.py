"""``@cairn.workflow`` and ``@cairn.activity``: names and defaults of functions.

The decorators return the function itself, unchanged (it can still be
called directly, in a test say), with a definition attached that the
workers, ``ctx.activity``, ``ctx.child`` and ``Client.start_workflow``
read: the name the server knows it by and its defaults. They also keep
every decorated function in a registry by name, so that a worker can be
given all of them at once (:func:`workflows`, :func:`activities`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar, Union, overload

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_WORKFLOW_QUEUE = "workflows"  # CAIRN_WF_DEFAULT_QUEUE


@dataclass(frozen=True)
class RetryPolicy:
    """How an activity's task is retried; None and 0 take the server's
    defaults (25 attempts, 1 s doubling up to 5 min).

    ``max_attempts`` counts the first attempt: 1 means no retry. The
    backoff before attempt n+1 is ``initial * multiplier ** (n - 1)``
    seconds, capped at ``maximum``.
    """

    max_attempts: int = 0
    initial: Optional[float] = None
    multiplier: Optional[float] = None
    maximum: Optional[float] = None


Retry = Union[RetryPolicy, int, None]


@dataclass(frozen=True)
class WorkflowDef:
    """What ``@cairn.workflow`` attaches: the type's name and its queue."""

    name: str
    fn: Callable[..., Any]
    queue: str = DEFAULT_WORKFLOW_QUEUE


@dataclass(frozen=True)
class ActivityDef:
    """What ``@cairn.activity`` attaches: the name, the queue of its tasks
    (default the name) and the defaults of ``ctx.activity``."""

    name: str
    fn: Callable[..., Any]
    queue: str
    retry: Retry = None
    timeout: Optional[float] = None
    heartbeat_timeout: Optional[float] = None


_workflows: dict[str, WorkflowDef] = {}
_activities: dict[str, ActivityDef] = {}

_ATTR_WF = "__cairn_workflow__"
_ATTR_ACT = "__cairn_activity__"


@overload
def workflow(fn: F) -> F: ...
@overload
def workflow(*, name: Optional[str] = None, queue: str = DEFAULT_WORKFLOW_QUEUE
             ) -> Callable[[F], F]: ...


def workflow(fn: Optional[F] = None, *, name: Optional[str] = None,
             queue: str = DEFAULT_WORKFLOW_QUEUE) -> Any:
    """Declares a workflow: ``fn(ctx, *args)``. Bare (``@cairn.workflow``)
    or with options: ``name`` (the run's type; default the function's
    name) and ``queue`` (where its runs wait for a workflow worker;
    default ``"workflows"``)."""

    def decorate(f: F) -> F:
        d = WorkflowDef(name or f.__name__, f, queue)
        setattr(f, _ATTR_WF, d)
        _workflows[d.name] = d
        return f

    return decorate(fn) if fn is not None else decorate


@overload
def activity(fn: F) -> F: ...
@overload
def activity(*, name: Optional[str] = None, queue: Optional[str] = None,
             retry: Retry = None, timeout: Optional[float] = None,
             heartbeat_timeout: Optional[float] = None) -> Callable[[F], F]: ...


def activity(fn: Optional[F] = None, *, name: Optional[str] = None,
             queue: Optional[str] = None, retry: Retry = None,
             timeout: Optional[float] = None,
             heartbeat_timeout: Optional[float] = None) -> Any:
    """Declares an activity: a function that a task worker runs as a task
    on ``queue`` (default its ``name``, default the function's name).
    ``retry`` (a :class:`RetryPolicy`, or an int of attempts), ``timeout``
    (seconds an attempt may take) and ``heartbeat_timeout`` are the
    defaults of ``ctx.activity`` for it."""

    def decorate(f: F) -> F:
        n = name or f.__name__
        d = ActivityDef(n, f, queue or n, retry, timeout, heartbeat_timeout)
        setattr(f, _ATTR_ACT, d)
        _activities[d.name] = d
        return f

    return decorate(fn) if fn is not None else decorate


def workflow_def(fn: Any) -> WorkflowDef:
    """Returns the definition of a workflow function (undecorated: its
    name and the default queue)."""
    d = getattr(fn, _ATTR_WF, None)
    if d is not None:
        return d
    if not callable(fn):
        raise TypeError(f"not a workflow: {fn!r}")
    return WorkflowDef(fn.__name__, fn)


def activity_def(fn: Any) -> ActivityDef:
    """Returns the definition of an activity function (undecorated: its
    name, as its queue too)."""
    d = getattr(fn, _ATTR_ACT, None)
    if d is not None:
        return d
    if not callable(fn):
        raise TypeError(f"not an activity: {fn!r}")
    return ActivityDef(fn.__name__, fn, fn.__name__)


def type_name(workflow_or_name: Any) -> str:
    """Returns a workflow's type: the name given, or the function's."""
    if isinstance(workflow_or_name, str):
        return workflow_or_name
    return workflow_def(workflow_or_name).name


def workflows() -> list[Callable[..., Any]]:
    """Every function decorated with ``@cairn.workflow`` so far."""
    return [d.fn for d in _workflows.values()]


def activities() -> list[Callable[..., Any]]:
    """Every function decorated with ``@cairn.activity`` so far."""
    return [d.fn for d in _activities.values()]
