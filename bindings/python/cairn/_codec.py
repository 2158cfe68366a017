"""How workflow values travel: arguments and results as JSON, bytes as they are.

A workflow's or activity's arguments become one payload: no argument is an
empty payload, one argument is that value, several are a JSON array. A
value is bytes as it is (bytes, bytearray, memoryview), nothing (None) as
empty, anything else as compact JSON. Reading back is the reverse: empty is
None, valid UTF-8 JSON is its value, anything else stays bytes.

The same value always encodes to the same bytes, which matters: replay
compares the hash of a step's, activity's or child's input with the one
recorded. And a workflow sees values only after a round trip through
this encoding (a tuple comes back as a list), the first time as on replay,
so that replay cannot tell them apart.
"""
from __future__ import annotations

import inspect
import json
from typing import Any, Callable, Sequence

_BYTES = (bytes, bytearray, memoryview)


def encode(value: Any) -> bytes:
    """Returns the payload of one value; TypeError for what JSON cannot hold."""
    if value is None:
        return b""
    if isinstance(value, _BYTES):
        return bytes(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON: {e}") from None


def encode_args(args: Sequence[Any]) -> bytes:
    """Returns the payload of a call's positional arguments."""
    if not args:
        return b""
    if len(args) == 1:
        return encode(args[0])
    if any(isinstance(a, _BYTES) for a in args):
        raise TypeError("bytes pass through as the only argument; "
                        "several arguments travel as a JSON array")
    return encode(list(args))


def decode(data: bytes) -> Any:
    """Returns the value of a payload: None, a JSON value, or the bytes."""
    if not data:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return bytes(data)


def _spreads(fn: Callable[..., Any], skip: int) -> tuple[bool, int]:
    """Says whether fn's payload is spread over its positional parameters
    (it requires two or more, or takes *args), and how many it takes."""
    try:
        params = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):  # a builtin without a signature
        return False, 1
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    star = any(p.kind == p.VAR_POSITIONAL for p in params)
    return len(required) >= 2 or star, len(positional)


def call(fn: Callable[..., Any], data: bytes, *first: Any) -> Any:
    """Calls fn(*first, ...) with the payload data as its arguments.

    A function that requires two or more positional arguments (or takes
    *args) gets a JSON array spread over them; one that takes one gets the
    value; one that takes none is called without (its payload must then be
    empty).
    """
    spread, n = _spreads(fn, len(first))
    value = decode(data)
    if spread:
        if not isinstance(value, list):
            raise TypeError(f"{_name(fn)} takes several arguments: "
                            f"its payload must be a JSON array, not {data[:64]!r}")
        return fn(*first, *value)
    if n == 0:
        if data:
            raise TypeError(f"{_name(fn)} takes no argument, "
                            f"but its payload is {data[:64]!r}")
        return fn(*first)
    return fn(*first, value)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
