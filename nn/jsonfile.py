"""Reading a JSON file that may be damaged or hostile: every problem is one ValueError.

Python's ``json`` module accepts things a model file never holds and fails on others
with errors of the wrong kind: a duplicate key silently keeps the last value,
``1e999`` becomes infinity, a 400-digit integer becomes a number no float can hold
(an OverflowError later), ``NaN`` is accepted, deep nesting is a RecursionError, and
a device such as ``/dev/zero`` is read until memory runs out. :func:`read_json`
refuses each of these with a ValueError that names the file and the problem:

- only a regular file is read (a FIFO, device or directory is refused before any
  read), and at most ``max_bytes`` of it (checked from its size first);
- the text must be UTF-8;
- every number must be finite and within float range (|x| <= 1.8e308);
  ``NaN``, ``Infinity`` and ``-Infinity`` are refused;
- no object may repeat a key;
- arrays and objects nest at most ``max_depth`` deep.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
from typing import Any

MAX_BYTES = 256 * 2**20
"""The largest file :func:`read_json` reads by default: 256 MiB (a saved model with about
five million parameters)."""
MAX_DEPTH = 64
"""How deeply arrays and objects may nest by default (a saved model needs a few levels)."""

PathLike = str | os.PathLike[str]


class FileTooLarge(ValueError):
    """A file over the ``max_bytes`` limit: refused unread, whatever it holds."""


def read_json(path: PathLike, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in the regular file ``path``, read strictly (see the module's doc).

    FileNotFoundError and PermissionError are raised as ``open`` raises them;
    anything wrong with what the path holds is a ValueError starting with ``path``.
    """
    where = os.fspath(path)
    text = _read_text(where, max_bytes)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_float=_finite_float,
                           parse_int=_float_range_int, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON ({error})") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested deeper than Python's parser can follow; "
                         f"at most {max_depth} levels are allowed") from None
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    depth = nesting_depth(value)
    if depth > max_depth:
        raise ValueError(f"{where}: JSON nested {depth} levels deep; at most {max_depth} "
                         "levels are allowed")
    return value


def _read_text(where: str, max_bytes: int) -> str:
    """At most ``max_bytes`` of the regular file ``where``, decoded as UTF-8."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait
    descriptor = os.open(where, flags)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{where}: not a regular file (a device, FIFO, socket or "
                             "directory); a saved model is a regular file")
        if status.st_size > max_bytes:
            raise FileTooLarge(f"{where}: {status.st_size:,} bytes, more than the limit of "
                             f"{max_bytes:,} bytes (pass max_bytes= to raise it)")
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as stream:
        # read(n) allocates n bytes up front: ask for the size the file has, and for
        # the rest of the limit only if it grew meanwhile
        raw = stream.read(min(status.st_size, max_bytes) + 1)
        if len(raw) > status.st_size:
            raw += stream.read(max_bytes + 1 - len(raw))
    if len(raw) > max_bytes:
        raise FileTooLarge(f"{where}: more than the limit of {max_bytes:,} bytes (the file "
                         "grew while being read)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: not UTF-8 text ({error})") from None


def nesting_depth(value: Any) -> int:
    """How many arrays and objects deep ``value`` nests (a number or string is 0 deep),
    found without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item
                         if isinstance(child, (dict, list)))
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key!r} in one JSON object"[:200])
        found[key] = value
    return found


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is beyond float range (|x| <= "
                         f"{sys.float_info.max:.3g})")
    return value


def _float_range_int(text: str) -> int:
    if len(text) > 320:  # more digits than any float can hold; int() would not even parse it
        raise ValueError(f"the integer {text[:20]}... ({len(text)} digits) is beyond float "
                         "range")
    value = int(text)
    if abs(value) > sys.float_info.max:
        raise ValueError(f"the integer {text[:20]}... is beyond float range (|x| <= "
                         f"{sys.float_info.max:.3g})")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not allowed (only finite numbers)")
