"""Conversions between the structs of cairn.h and the binding's values.

Everything here copies: a Python value never points into memory that the
library owns, so the library's free functions can run right after.
"""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _lib
from .models import (
    STATE_CODES,
    STATES_BY_CODE,
    State,
    Task,
    TaskSpec,
    duration_ms,
    instant,
    instant_ms,
    seconds,
    to_bytes,
)

if TYPE_CHECKING:
    from .client import Client


def cstr(s: Optional[str]) -> Optional[bytes]:
    """Returns s as UTF-8 for a char * argument; None stays NULL."""
    return s.encode("utf-8") if s is not None else None


def text(b: Optional[bytes]) -> str:
    """Returns a C string from the library as str ("" for NULL)."""
    return b.decode("utf-8", "replace") if b else ""


def buf(ptr: Any, n: int) -> bytes:
    """Returns a copy of the n bytes at ptr."""
    return ctypes.string_at(ptr, n) if n else b""


def state(code: int) -> Union[State, int]:
    """Returns the State for a cairn_state number."""
    # An unknown state from a newer server passes through as its number.
    return STATES_BY_CODE.get(code, code)


def state_code(name: Union[State, str, None]) -> int:
    """Returns the cairn_state number for a state filter (None: any)."""
    if name is None or name == "any" or name == "":
        return 0
    try:
        return STATE_CODES[State(name)]
    except ValueError:
        raise ValueError(
            f"unknown state {name!r} (one of {', '.join(s.value for s in State)})"
        ) from None


def encode_spec(spec: TaskSpec, out: _lib.TaskSpec) -> None:
    """Fills the C struct out from spec; out keeps the bytes it points at."""
    payload = to_bytes(spec.payload)
    out.queue = spec.queue.encode("utf-8")
    out.payload = payload
    out.payload_len = len(payload)
    out.priority = spec.priority
    out.delay_ms = duration_ms(spec.delay, "delay")
    out.run_at_ms = instant_ms(spec.run_at, "run_at")
    out.max_attempts = spec.max_attempts
    out.heartbeat_timeout_ms = duration_ms(spec.heartbeat_timeout, "heartbeat_timeout")
    out.start_to_close_timeout_ms = duration_ms(
        spec.start_to_close_timeout, "start_to_close_timeout"
    )
    out.idempotency_key = spec.key.encode("utf-8") if spec.key is not None else None
    out.retry_initial_backoff_ms = duration_ms(spec.retry_initial, "retry_initial")
    out.retry_multiplier = float(spec.retry_multiplier or 0.0)
    out.retry_max_backoff_ms = duration_ms(spec.retry_max, "retry_max")


def task_from_c(p: Any, client: "Client") -> Task:
    """Copies the cairn_task at p into a Task (the caller frees the C one);
    a leased task keeps client, for its heartbeat, complete and fail."""
    t = p.contents
    token = t.lease_token
    return Task(
        id=t.id,
        queue=text(t.queue),
        payload=buf(t.payload, t.payload_len),
        priority=t.priority,
        state=state(t.state),
        run_at=instant(t.run_at_ms),
        attempt=t.attempt,
        max_attempts=t.max_attempts,
        retry_initial=seconds(t.retry_initial_backoff_ms),
        retry_multiplier=t.retry_multiplier,
        retry_max=seconds(t.retry_max_backoff_ms),
        heartbeat_timeout=seconds(t.heartbeat_timeout_ms),
        start_to_close_timeout=seconds(t.start_to_close_timeout_ms),
        key=text(t.idempotency_key) or None,
        details=buf(t.details, t.details_len),
        result=buf(t.result, t.result_len),
        last_error=text(t.last_error),
        cancel_requested=bool(t.cancel_requested),
        worker_id=text(t.worker_id),
        lease_deadline=instant(t.lease_deadline_ms),
        created_at=instant(t.created_at_ms),
        updated_at=instant(t.updated_at_ms),
        finished_at=instant(t.finished_at_ms),
        lease_token=token.decode("utf-8") if token is not None else None,
        _client=client if token is not None else None,
    )
