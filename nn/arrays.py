"""User arrays turned into float arrays, refusing what a float conversion would hide.

``np.asarray(x, dtype=float)`` drops the imaginary part of complex numbers (with a
warning at most) and parses strings such as ``"1.5"``; either would train a model on
something other than what the user holds. :func:`real_array` refuses both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_REAL = (int, float, np.integer, np.floating, np.bool_)


def real_array(x: Any, what: str) -> np.ndarray:
    """``x`` as a float64 array (``x`` itself if it is one: a copy of a large array would
    cost every call); TypeError naming ``what`` for complex, text or other non-numbers
    (the array is not checked for shape or finiteness here)."""
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be real numbers, got {type(x).__name__}") from error
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(f"{what} must be real numbers, got complex numbers (dtype "
                        f"{array.dtype}); pass the real part (x.real) if that is what you mean")
    if kind == "O":
        bad = next((e for e in array.flat if not isinstance(e, _REAL)), None)
        if bad is not None:
            raise TypeError(f"{what} must be real numbers, got {type(bad).__name__}: "
                            f"{bad!r}"[:200])
    elif kind not in "biuf":
        raise TypeError(f"{what} must be real numbers, got an array of dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def all_finite(array: np.ndarray) -> bool:
    """Whether every number of a float array is finite, in one pass without a mask in the
    usual case: a NaN or an infinity makes the sum non-finite, so a finite sum clears
    them all; only a sum that is not (or that overflowed from finite numbers) builds the
    mask that tells them apart."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is expected
        total = np.add.reduce(array, axis=None)
    return math.isfinite(total) or bool(np.isfinite(array).all())
