"""How much work a call does, counted instead of timed.

A wall-clock limit fails on a loaded machine and lets a regression through on a fast
one; the number of lines of Python a call runs in the project's own packages
(``autograd_scalar`` and ``nn``) is the same on every machine and under any load.

A pass that takes time a*n + b on an input of size n runs about twice the lines on
2n as on n; one with a quadratic part c*n^2 runs about four times as many, since

    (a*2n + c*(2n)^2 + b) / (a*n + c*n^2 + b)  ->  4  as c*n grows against a.

So ``growth(count, n) = count(2n) / count(n)`` stays below ``LINEAR_GROWTH`` for a
linear pass and goes above it for a quadratic one, once n is large enough for the
quadratic part to show (each test checks its n against its regression). Work done in
compiled code (the Cython core, NumPy, the json module) is not counted; the passes
these tests guard are Python.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import autograd_scalar
import nn

PACKAGES = tuple(str(Path(str(package.__file__)).resolve().parent) + "/"
                 for package in (autograd_scalar, nn))

LINEAR_GROWTH = 2.5
"""The most ``growth`` a linear pass shows: 2 plus room for n log n parts and constants."""


def lines_run(action: Callable[[], Any]) -> int:
    """The lines of Python run in the project's packages while ``action()`` runs
    (in this thread; the previous trace function, e.g. coverage's, is put back after)."""
    count = 0

    def in_frame(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return in_frame

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return in_frame if frame.f_code.co_filename.startswith(PACKAGES) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        action()
    finally:
        sys.settrace(previous)
    return count


def growth(count: Callable[[int], int], n: int) -> float:
    """count(2n) / count(n): about 2 for work linear in n, about 4 for quadratic."""
    return count(2 * n) / count(n)
