"""Loading libcairn and declaring its C API for ctypes.

This module mirrors ``client/cairn.h``: every struct here has the same
fields, in the same order and with the same C types, as its counterpart in
the header, and every function has its prototype declared, so that ctypes
checks argument types and never guesses a return type.

Where the library comes from, first match wins:

1. the environment variable ``CAIRN_LIBRARY``: the path of the shared
   library (an error if it does not exist, so that a typo never silently
   loads another copy);
2. a build of this source tree: ``build/release/client/`` (what
   ``scripts/run.sh`` builds), ``build/client/``, then the other
   ``build/*/client/`` folders under the repository root, newest first,
   except sanitizer builds (``asan``, ``tsan``: a folder name with "san");
3. the system's loader: ``ctypes.util.find_library("cairn")``, which finds
   an installed ``libcairn.so`` (``ldconfig``, ``LD_LIBRARY_PATH``).

The library is loaded on first use, not at import, so that ``import
cairn`` works (for type hints and documentation) where it is not built.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

ENV_VAR = "CAIRN_LIBRARY"

_SONAMES = ("libcairn.dylib",) if sys.platform == "darwin" else ("libcairn.so",)

# cairn_state (an enum) and cairn_status (returned as int).
c_state = c_int


class TaskSpec(Structure):
    """``cairn_task_spec``."""

    _fields_ = [
        ("queue", c_char_p),
        # const void *: c_char_p has the same ABI and, when a bytes object
        # is assigned, keeps it alive in the struct and points at its
        # buffer (NUL bytes included; the length is payload_len).
        ("payload", c_char_p),
        ("payload_len", c_size_t),
        ("priority", c_int32),
        ("delay_ms", c_int64),
        ("run_at_ms", c_int64),
        ("max_attempts", c_uint32),
        ("heartbeat_timeout_ms", c_int64),
        ("start_to_close_timeout_ms", c_int64),
        ("idempotency_key", c_char_p),
        ("retry_initial_backoff_ms", c_int64),
        ("retry_multiplier", c_double),
        ("retry_max_backoff_ms", c_int64),
    ]


class EnqueueResult(Structure):
    """``cairn_enqueue_result``."""

    _fields_ = [("id", c_uint64), ("created", c_bool)]


class Task(Structure):
    """``cairn_task``; owned by the library, freed with cairn_task_free."""

    _fields_ = [
        ("id", c_uint64),
        ("queue", c_char_p),
        ("payload", POINTER(c_uint8)),
        ("payload_len", c_size_t),
        ("priority", c_int32),
        ("state", c_state),
        ("run_at_ms", c_int64),
        ("attempt", c_uint32),
        ("max_attempts", c_uint32),
        ("retry_initial_backoff_ms", c_int64),
        ("retry_multiplier", c_double),
        ("retry_max_backoff_ms", c_int64),
        ("heartbeat_timeout_ms", c_int64),
        ("start_to_close_timeout_ms", c_int64),
        ("idempotency_key", c_char_p),
        ("details", POINTER(c_uint8)),
        ("details_len", c_size_t),
        ("result", POINTER(c_uint8)),
        ("result_len", c_size_t),
        ("last_error", c_char_p),
        ("cancel_requested", c_bool),
        ("worker_id", c_char_p),
        ("lease_deadline_ms", c_int64),
        ("created_at_ms", c_int64),
        ("updated_at_ms", c_int64),
        ("finished_at_ms", c_int64),
        ("lease_token", c_char_p),
    ]


class ClientOptions(Structure):
    """``cairn_client_options``."""

    _fields_ = [
        ("token", c_char_p),
        ("timeout_ms", c_int64),
        ("lazy_connect", c_bool),
        ("tls_ca_file", c_char_p),
        ("tls_cert_file", c_char_p),
        ("tls_key_file", c_char_p),
        ("tls_server_name", c_char_p),
    ]


class LeaseOptions(Structure):
    """``cairn_lease_options``."""

    _fields_ = [
        ("max_tasks", c_uint32),
        ("wait_ms", c_int64),
        ("worker_id", c_char_p),
        ("lease_timeout_ms", c_int64),
        ("release_on_disconnect", c_bool),
    ]


class QueueStats(Structure):
    """``cairn_queue_stats``."""

    _fields_ = [
        ("queue", c_char_p),
        ("pending", c_uint64),
        ("active", c_uint64),
        ("succeeded", c_uint64),
        ("failed", c_uint64),
        ("canceled", c_uint64),
        ("due", c_uint64),
        ("oldest_due_age_ms", c_int64),
    ]


class Event(Structure):
    """``cairn_event``."""

    _fields_ = [
        ("at_ms", c_int64),
        ("kind", c_char_p),
        ("attempt", c_uint32),
        ("worker_id", c_char_p),
        ("message", c_char_p),
    ]


class Completion(Structure):
    """``cairn_completion``."""

    _fields_ = [
        ("id", c_uint64),
        ("lease_token", c_char_p),
        ("result", c_char_p),
        ("result_len", c_size_t),
    ]


class HeartbeatItem(Structure):
    """``cairn_heartbeat_item``: inputs, then the per-task outcome."""

    _fields_ = [
        ("id", c_uint64),
        ("lease_token", c_char_p),
        ("details", c_char_p),
        ("details_len", c_size_t),
        ("status", c_int),
        ("cancel_requested", c_bool),
        ("deadline_ms", c_int64),
    ]


TaskP = POINTER(Task)
TaskPP = POINTER(TaskP)

# name: (restype, argtypes), exactly as in cairn.h.
_PROTOTYPES = {
    "cairn_strerror": (c_char_p, [c_int]),
    "cairn_state_name": (c_char_p, [c_state]),
    "cairn_client_open": (
        c_int,
        [POINTER(c_void_p), c_char_p, POINTER(ClientOptions), c_char_p, c_size_t],
    ),
    "cairn_client_close": (None, [c_void_p]),
    "cairn_client_errmsg": (c_char_p, [c_void_p]),
    "cairn_client_set_timeout": (None, [c_void_p, c_int64]),
    "cairn_task_free": (None, [TaskP]),
    "cairn_tasks_free": (None, [TaskPP, c_size_t]),
    "cairn_free": (None, [c_void_p]),
    "cairn_enqueue": (
        c_int,
        [c_void_p, POINTER(TaskSpec), c_size_t, POINTER(EnqueueResult)],
    ),
    "cairn_lease": (
        c_int,
        [
            c_void_p,
            POINTER(c_char_p),
            c_size_t,
            POINTER(LeaseOptions),
            POINTER(TaskPP),
            POINTER(c_size_t),
        ],
    ),
    "cairn_heartbeat": (
        c_int,
        [
            c_void_p,
            c_uint64,
            c_char_p,
            c_char_p,
            c_size_t,
            POINTER(c_bool),
            POINTER(c_int64),
        ],
    ),
    "cairn_complete": (
        c_int,
        [c_void_p, c_uint64, c_char_p, c_char_p, c_size_t],
    ),
    "cairn_fail": (
        c_int,
        [
            c_void_p,
            c_uint64,
            c_char_p,
            c_char_p,
            c_bool,
            c_int64,
            POINTER(c_state),
            POINTER(c_int64),
        ],
    ),
    "cairn_release": (
        c_int,
        [c_void_p, c_uint64, c_char_p, c_char_p, c_bool, POINTER(c_state)],
    ),
    "cairn_cancel": (c_int, [c_void_p, c_uint64, POINTER(c_state)]),
    "cairn_retry": (c_int, [c_void_p, c_uint64, POINTER(TaskP)]),
    "cairn_get": (c_int, [c_void_p, c_uint64, POINTER(TaskP)]),
    "cairn_list": (
        c_int,
        [
            c_void_p,
            c_char_p,
            c_state,
            c_uint32,
            c_uint64,
            POINTER(TaskPP),
            POINTER(c_size_t),
            POINTER(c_uint64),
        ],
    ),
    "cairn_stats": (
        c_int,
        [c_void_p, c_char_p, POINTER(POINTER(QueueStats)), POINTER(c_size_t)],
    ),
    "cairn_stats_free": (None, [POINTER(QueueStats), c_size_t]),
    "cairn_await": (
        c_int,
        [c_void_p, c_uint64, c_int64, POINTER(TaskP), POINTER(c_bool)],
    ),
    "cairn_history": (
        c_int,
        [c_void_p, c_uint64, POINTER(POINTER(Event)), POINTER(c_size_t)],
    ),
    "cairn_events_free": (None, [POINTER(Event), c_size_t]),
    "cairn_ping": (c_int, [c_void_p, POINTER(c_int64), POINTER(c_void_p)]),
}

# Calls that a libcairn older than this binding may lack: declared when
# present, and the binding falls back to the single calls when not.
_OPTIONAL_PROTOTYPES = {
    "cairn_complete_batch": (
        c_int,
        [c_void_p, POINTER(Completion), c_size_t, POINTER(c_int)],
    ),
    "cairn_heartbeat_batch": (c_int, [c_void_p, POINTER(HeartbeatItem), c_size_t]),
    "cairn_complete_next": (
        c_int,
        [
            c_void_p,
            c_uint64,
            c_char_p,
            c_char_p,
            c_size_t,
            POINTER(LeaseOptions),
            POINTER(TaskP),
        ],
    ),
}


class LibraryNotFound(OSError):
    """libcairn could not be found or loaded; the message says where we looked."""


def _repo_root() -> Path:
    # bindings/python/cairn/_lib.py -> the repository root.
    return Path(__file__).resolve().parents[3]


def _build_candidates() -> list[Path]:
    """Returns libcairn files of builds of this tree, the preferred first:
    build/release (scripts/run.sh's), build itself, then the other
    build/* folders, the newest first. Sanitizer builds (a folder name
    with "san" in it) are skipped: their library cannot be loaded into an
    uninstrumented python."""
    build = _repo_root() / "build"
    dirs = [build / "release", build]
    others = [d for d in build.glob("*") if d.is_dir() and d not in dirs and "san" not in d.name]
    dirs += sorted(others, key=lambda d: d.stat().st_mtime, reverse=True)
    return [d / "client" / n for d in dirs for n in _SONAMES if (d / "client" / n).is_file()]


def find_library() -> str:
    """Returns the path (or loader name) of the libcairn that will be loaded.

    Raises LibraryNotFound when there is none; see the module's docstring
    for the order of the search.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        if not os.path.isfile(env):
            raise LibraryNotFound(f"{ENV_VAR}={env}: no such file")
        return env
    builds = _build_candidates()
    if builds:
        return str(builds[0])
    name = ctypes.util.find_library("cairn")
    if name:
        return name
    raise LibraryNotFound(
        f"libcairn not found: set {ENV_VAR} to the path of libcairn.so, "
        f"build this tree (cmake -S {_repo_root()} -B build/release), "
        "or install the library where the system's loader finds it"
    )


_lock = threading.Lock()
_lib: ctypes.CDLL | None = None


def has(name: str) -> bool:
    """True if the loaded libcairn exports the function name."""
    return hasattr(lib(), name)


def lib() -> ctypes.CDLL:
    """Returns the loaded libcairn with every prototype declared.

    The library is loaded once per process, on the first call. ctypes.CDLL
    releases the GIL during every call, so that threads blocked in a
    long-poll do not stop the others.
    """
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = find_library()
            try:
                dll = ctypes.CDLL(path)
            except OSError as e:
                raise LibraryNotFound(f"cannot load {path}: {e}") from e
            for name, (restype, argtypes) in _PROTOTYPES.items():
                fn = getattr(dll, name)
                fn.restype = restype
                fn.argtypes = argtypes
            for name, (restype, argtypes) in _OPTIONAL_PROTOTYPES.items():
                fn = getattr(dll, name, None)
                if fn is not None:
                    fn.restype = restype
                    fn.argtypes = argtypes
            _lib = dll
    return _lib
