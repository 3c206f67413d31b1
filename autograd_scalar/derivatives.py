"""Whole matrices of derivatives of a function of several inputs, and the reading of a point.

``jacobian(f, point)``, J[k][i] = d f_k / d x_i, takes one reverse pass per output;
``hessian(f, point)``, H[i][j] = d^2 f / dx_i dx_j, one more reverse pass per entry of
the gradient from ``grad(..., create_graph=True)``. The checks of a point, a function
and its outputs (:func:`checked_point`, :func:`call`, :func:`outputs_of`)
are shared with forward mode and the derivative checkers.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backward import UNORDERED, grad
from .mode import is_grad_enabled
from .ops import is_real
from .value import Value, as_float


def as_items(sequence: Any, who: str, what: str, example: str) -> list[Any]:
    """The items of ``sequence``, a one-dimensional sequence with one entry per input;
    TypeError for a single number, a Value or a string (``example`` shows the fix: a
    single one wrapped in a list) and for a set or a dict (no order to match f's
    arguments with), ValueError for an array of more dimensions."""
    if isinstance(sequence, (Value, str, bytes)) or is_real(sequence):
        raise TypeError(f"{who}: {what} must be a sequence of numbers, one per input, got "
                        f"{type(sequence).__name__}; wrap a single one in a list: [{example}]")
    if isinstance(sequence, UNORDERED):
        raise TypeError(f"{who}: {what} must be a list, tuple or 1-D array, in the order of "
                        f"f's arguments, got a {type(sequence).__name__}, which has no order")
    if isinstance(sequence, np.ndarray) and sequence.ndim != 1:
        raise ValueError(f"{who}: {what} must be one-dimensional, got an array of shape "
                         f"{sequence.shape}")
    try:
        return list(sequence)
    except TypeError:
        raise TypeError(f"{who}: {what} must be a sequence of numbers, "
                        f"got {type(sequence).__name__}") from None


def as_point(point: Any, who: str) -> list[float]:
    """``point`` as a non-empty list of finite floats (Values give their data)."""
    items = as_items(point, who, "the point", "x")
    if not items:
        raise ValueError(f"{who}: the point is empty; expected at least one number")
    values = []
    for i, item in enumerate(items):
        x = item.data if isinstance(item, Value) else item
        if not is_real(x):
            raise TypeError(f"{who}: input {i} must be a real number or a Value, "
                            f"got {type(item).__name__}: {item!r}"[:200])
        try:
            number = as_float(x, f"{who}: input {i}")
        except OverflowError as error:  # an int past 1.8e308: as a finite number would be
            raise ValueError(str(error)) from None
        if not math.isfinite(number):
            raise ValueError(f"{who}: input {i} is {number}; expected a finite number")
        values.append(number)
    return values


def checked_point(f: Any, point: Any, who: str) -> list[float]:
    """What every derivative tool checks first, naming ``who``: ``f`` callable (and
    gradient tracking on, :func:`check_callable`), ``point`` a non-empty sequence of
    finite numbers (:func:`as_point`, which it returns), and ``f`` able to take one
    argument per number (:func:`check_arity`)."""
    check_callable(f, who)
    found = as_point(point, who)
    check_arity(f, len(found), who)
    return found


def check_callable(f: Any, who: str) -> None:
    """A TypeError unless ``f`` can be called; a RuntimeError inside ``no_grad()``."""
    if not callable(f):
        raise TypeError(f"{who}: f must be a function of Values, got {type(f).__name__}")
    if not is_grad_enabled():
        raise RuntimeError(f"{who} needs gradient tracking; it was called inside no_grad()")


def check_arity(f: Callable[..., Any], n: int, who: str) -> None:
    """A TypeError when f's signature shows that it cannot take ``n`` inputs, one
    positional argument each. A function with ``*args``, or one whose signature cannot be
    read, is left to the call itself; so is a TypeError raised inside f."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return
    positional = [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                      inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    most = len(positional)
    least = sum(p.default is inspect.Parameter.empty for p in positional)
    if least <= n <= most:
        return
    takes = f"{most}" if least == most else f"{least} to {most}"
    raise TypeError(f"{who}: f takes {takes} argument{'' if most == 1 else 's'}, got {n} "
                    f"input{'' if n == 1 else 's'}; expected one input per argument")


def call(f: Callable[..., Any], xs: Sequence[Value], who: str) -> Value:
    """``f(*xs)``, which must be a Value (a plain number is lifted to a constant)."""
    out = f(*xs)
    if isinstance(out, Value):
        return out
    if is_real(out):
        return Value(out)
    got = type(out).__name__
    if isinstance(out, (list, tuple)):
        got += f" of length {len(out)}; use jacobian for a function with several outputs"
    raise TypeError(f"{who}: f must return a Value (one number), got {got}")


def leaves(point: Sequence[float], like: Any = None) -> list[Value]:
    """One fresh leaf per coordinate, labelled like the caller's Values if it gave any."""
    labels = [getattr(item, "label", "") for item in like] if like is not None else []
    return [Value(x, labels[i] if i < len(labels) else "") for i, x in enumerate(point)]


def outputs_of(who: str, result: Any) -> tuple[list[Value], bool]:
    """f's result as a list of Values, and whether it was a single Value."""
    if isinstance(result, Value) or is_real(result):
        return [result if isinstance(result, Value) else Value(result)], True
    if not isinstance(result, (list, tuple)) or not result:
        raise TypeError(f"{who}: f must return a Value or a non-empty list or tuple of "
                        f"Values, got {type(result).__name__}")
    found = []
    for k, out in enumerate(result):
        if is_real(out):
            out = Value(out)
        elif not isinstance(out, Value):
            raise TypeError(f"{who}: output {k} of f is a {type(out).__name__}, "
                            "expected a Value")
        found.append(out)
    return found, False


def jacobian(f: Callable[..., Any], point: Sequence[float]) -> np.ndarray:
    """J[k][i] = d f_k / d x_i at ``point``, as an array of shape (outputs, inputs).

    ``f`` takes one Value per coordinate and returns a sequence of Values (numbers
    count as constant outputs); a single Value is one output, a 1 x n matrix.
    """
    xs = leaves(checked_point(f, point, "jacobian"))
    outputs, _ = outputs_of("jacobian", f(*xs))
    return np.array([grad(out, xs) for out in outputs], dtype=np.float64)


def hessian(f: Callable[..., Any], point: Sequence[float]) -> np.ndarray:
    """H[i][j] = d^2 f / dx_i dx_j at ``point``, as an (n, n) array.

    Mixed partials of a twice continuously differentiable f agree (H is
    symmetric); nothing symmetrises the result, so a rule whose own derivative is
    wrong shows as an asymmetric H. The two orders are different graphs, so where an
    intermediate overflows (1/x at a subnormal x) one entry can be inf or NaN while
    its mirror is finite: IEEE arithmetic, reported as computed.
    """
    xs = leaves(checked_point(f, point, "hessian"))
    out = call(f, xs, "hessian")
    first = grad(out, xs, create_graph=True)
    return np.array([grad(g, xs) for g in first], dtype=np.float64)
