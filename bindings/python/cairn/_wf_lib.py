"""The workflow half of libcairn's C API, declared for ctypes.

This module mirrors ``client/cairn_workflow.h`` as :mod:`cairn._lib`
mirrors ``cairn.h``: the same fields in the same order with the same C
types, and a prototype for every function the binding calls. The
prototypes are declared on the first call of :func:`lib`, on the library
that :func:`cairn._lib.lib` loaded.
"""
from __future__ import annotations

import ctypes
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)

from . import _lib

# The return codes of the workflow commands, beside cairn_status.
SUSPEND = 1000
NONDETERMINISM = 1001

# cairn_wf_kind
KIND_STEP, KIND_ACTIVITY, KIND_TIMER, KIND_SIGNAL, KIND_CHILD, KIND_MARKER = range(1, 7)
# cairn_wf_status
ENTRY_PENDING, ENTRY_COMPLETED, ENTRY_FAILED, ENTRY_TIMED_OUT, ENTRY_CANCELED = range(1, 6)


class Run(Structure):
    """``cairn_workflow_run``; freed with cairn_workflow_run_free."""

    _fields_ = [
        ("run_id", c_uint64),
        ("workflow_id", c_char_p),
        ("type", c_char_p),
        ("queue", c_char_p),
        ("input", POINTER(c_uint8)),
        ("input_len", c_size_t),
        ("state", c_int),
        ("result", POINTER(c_uint8)),
        ("result_len", c_size_t),
        ("error", c_char_p),
        ("cancel_requested", c_bool),
        ("stuck", c_bool),
        ("stuck_reason", c_char_p),
        ("log_length", c_uint32),
        ("task_attempt", c_uint32),
        ("leased", c_bool),
        ("worker_id", c_char_p),
        ("lease_deadline_ms", c_int64),
        ("parent_run_id", c_uint64),
        ("parent_seq", c_uint32),
        ("created_at_ms", c_int64),
        ("updated_at_ms", c_int64),
        ("finished_at_ms", c_int64),
        ("runnable", c_bool),
        ("resolved_count", c_uint64),
    ]


class Entry(Structure):
    """``cairn_wf_entry``; arrays freed with cairn_wf_entries_free."""

    _fields_ = [
        ("seq", c_uint32),
        ("kind", c_int),
        ("name", c_char_p),
        ("input_hash", c_uint64),
        ("input", POINTER(c_uint8)),
        ("input_len", c_size_t),
        ("status", c_int),
        ("result", POINTER(c_uint8)),
        ("result_len", c_size_t),
        ("error", c_char_p),
        ("created_at_ms", c_int64),
        ("resolved_at_ms", c_int64),
        ("resolved_order", c_uint64),
        ("task_id", c_uint64),
        ("child_run_id", c_uint64),
        ("fire_at_ms", c_int64),
        ("attempts", c_uint32),
        ("queue", c_char_p),
    ]


class Filter(Structure):
    """``cairn_workflow_filter``."""

    _fields_ = [
        ("type", c_char_p),
        ("state", c_int),
        ("queue", c_char_p),
        ("stuck", c_bool),
    ]


class Outcome(Structure):
    """``cairn_wf_outcome``: points into the turn's memory, copied at once."""

    _fields_ = [
        ("status", c_int),
        ("result", POINTER(c_uint8)),
        ("result_len", c_size_t),
        ("error", c_char_p),
    ]


class ActivityOptions(Structure):
    """``cairn_wf_activity_options``."""

    _fields_ = [
        ("queue", c_char_p),
        ("priority", c_int32),
        ("max_attempts", c_uint32),
        ("retry_initial_backoff_ms", c_int64),
        ("retry_multiplier", c_double),
        ("retry_max_backoff_ms", c_int64),
        ("heartbeat_timeout_ms", c_int64),
        ("start_to_close_timeout_ms", c_int64),
    ]


class ChildOptions(Structure):
    """``cairn_wf_child_options``."""

    _fields_ = [("workflow_id", c_char_p), ("queue", c_char_p)]


class WorkerOptions(Structure):
    """``cairn_wf_worker_options``."""

    _fields_ = [
        ("queues", POINTER(c_char_p)),
        ("nqueues", c_size_t),
        ("concurrency", c_uint),
        ("poll_wait_ms", c_int64),
        ("lease_timeout_ms", c_int64),
        ("heartbeat_ms", c_int64),
        ("worker_id", c_char_p),
        ("cache_runs", c_uint),
        ("no_cache", c_bool),
    ]


class WorkerStats(Structure):
    """``cairn_wf_worker_stats``."""

    _fields_ = [
        (name, c_uint64)
        for name in (
            "turns",
            "leases_full",
            "leases_delta",
            "entries_leased",
            "history_loads",
            "advances",
            "task_failures",
            "nondeterminism",
            "leases_lost",
        )
    ]


RunP = POINTER(Run)
EntryP = POINTER(Entry)
# cairn_wf_fn and cairn_wf_step_fn: (ctx, input, input_len, arg) -> status.
WF_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p)
STEP_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p)

# Byte arguments are declared c_char_p, as in _lib: the same ABI as
# const void *, and a bytes object passes its buffer, NUL bytes included.
_c = c_void_p  # cairn_client *, cairn_wf_ctx *, cairn_wf_worker *
_PROTOTYPES = {
    "cairn_workflow_state_name": (c_char_p, [c_int]),
    "cairn_wf_kind_name": (c_char_p, [c_int]),
    "cairn_wf_status_name": (c_char_p, [c_int]),
    "cairn_workflow_run_free": (None, [RunP]),
    "cairn_workflow_runs_free": (None, [POINTER(RunP), c_size_t]),
    "cairn_wf_entries_free": (None, [EntryP, c_size_t]),
    # client calls
    "cairn_workflow_start": (
        c_int,
        [_c, c_char_p, c_char_p, c_char_p, c_char_p, c_size_t,
         POINTER(c_uint64), POINTER(c_void_p), POINTER(c_bool)],
    ),
    "cairn_workflow_signal": (
        c_int,
        [_c, c_uint64, c_char_p, c_char_p, c_char_p, c_size_t,
         POINTER(c_uint64), POINTER(c_uint32)],
    ),
    "cairn_workflow_cancel": (c_int, [_c, c_uint64, c_char_p, c_char_p, POINTER(c_int)]),
    "cairn_workflow_terminate": (c_int, [_c, c_uint64, c_char_p, c_char_p, POINTER(c_int)]),
    "cairn_workflow_get": (c_int, [_c, c_uint64, c_char_p, POINTER(RunP)]),
    "cairn_workflow_list": (
        c_int,
        [_c, POINTER(Filter), c_uint32, c_uint64, POINTER(POINTER(RunP)),
         POINTER(c_size_t), POINTER(c_uint64)],
    ),
    "cairn_workflow_history": (
        c_int,
        [_c, c_uint64, c_char_p, c_uint32, c_uint32, POINTER(RunP),
         POINTER(EntryP), POINTER(c_size_t), POINTER(c_uint32)],
    ),
    "cairn_workflow_await": (
        c_int, [_c, c_uint64, c_char_p, c_int64, POINTER(RunP), POINTER(c_bool)]
    ),
    # the SDK's commands
    "cairn_wf_activity": (
        c_int,
        [_c, c_char_p, c_char_p, c_size_t, POINTER(ActivityOptions), POINTER(Outcome)],
    ),
    "cairn_wf_start_activity": (
        c_int,
        [_c, c_char_p, c_char_p, c_size_t, POINTER(ActivityOptions), POINTER(c_uint32)],
    ),
    "cairn_wf_wait": (c_int, [_c, c_uint32, POINTER(Outcome)]),
    "cairn_wf_wait_all": (c_int, [_c, POINTER(c_uint32), c_size_t, POINTER(Outcome)]),
    "cairn_wf_wait_any": (
        c_int, [_c, POINTER(c_uint32), c_size_t, POINTER(c_uint32), POINTER(Outcome)]
    ),
    "cairn_wf_step_result": (c_int, [_c, c_char_p, c_size_t]),
    "cairn_wf_step_fail": (c_int, [_c, c_char_p]),
    "cairn_wf_step": (
        c_int, [_c, c_char_p, STEP_FN, c_char_p, c_size_t, c_void_p, POINTER(Outcome)]
    ),
    "cairn_wf_start_timer": (c_int, [_c, c_char_p, c_int64, POINTER(c_uint32)]),
    "cairn_wf_start_signal": (c_int, [_c, c_char_p, c_int64, POINTER(c_uint32)]),
    "cairn_wf_start_child": (
        c_int,
        [_c, c_char_p, c_char_p, c_size_t, POINTER(ChildOptions), POINTER(c_uint32)],
    ),
    "cairn_wf_now": (c_int, [_c, POINTER(c_int64)]),
    "cairn_wf_random": (c_int, [_c, POINTER(c_uint64)]),
    "cairn_wf_patched": (c_int, [_c, c_char_p, POINTER(c_bool)]),
    "cairn_wf_succeed": (c_int, [_c, c_char_p, c_size_t]),
    "cairn_wf_fail": (c_int, [_c, c_char_p]),
    "cairn_wf_cancelled": (c_int, [_c, c_char_p]),
    "cairn_wf_run_id": (c_uint64, [_c]),
    "cairn_wf_workflow_id": (c_char_p, [_c]),
    "cairn_wf_type": (c_char_p, [_c]),
    "cairn_wf_attempt": (c_uint32, [_c]),
    "cairn_wf_is_replaying": (c_bool, [_c]),
    "cairn_wf_cancel_requested": (c_bool, [_c]),
    "cairn_wf_errmsg": (c_char_p, [_c]),
    # the worker
    "cairn_wf_worker_new": (c_int, [POINTER(c_void_p), _c, POINTER(WorkerOptions)]),
    "cairn_wf_worker_register": (c_int, [_c, c_char_p, WF_FN, c_void_p]),
    "cairn_wf_worker_run": (c_int, [_c]),
    "cairn_wf_worker_stop": (None, [_c]),
    "cairn_wf_worker_get_stats": (None, [_c, POINTER(WorkerStats)]),
    "cairn_wf_worker_free": (None, [_c]),
}

_lock = threading.Lock()
_done = False


def lib() -> ctypes.CDLL:
    """Returns libcairn with the workflow prototypes declared.

    Raises :class:`cairn.LibraryNotFound` when libcairn cannot be loaded,
    and AttributeError when it is older than workflows.
    """
    global _done
    dll = _lib.lib()
    if _done:
        return dll
    with _lock:
        if not _done:
            for name, (restype, argtypes) in _PROTOTYPES.items():
                fn = getattr(dll, name)
                fn.restype = restype
                fn.argtypes = argtypes
            _done = True
    return dll
