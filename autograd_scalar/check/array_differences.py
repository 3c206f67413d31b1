"""Central differences of an n-ary row for all of its inputs at once, on NumPy arrays.

For a node F(x_1, ..., x_n) with many inputs (a ``sum``, ``dot`` or ``affine``
over thousands of operands) the differences d F / d x_j ~ (F(x + h_j e_j) -
F(x - h_j e_j)) / 2h_j are taken with the row's vector forward and the kernel of
:mod:`autograd_scalar.check.differences`, never one float evaluation at a time.

A bilinear row (``row.bilinear``: F = sum_i w_i x_i (+ b)) changes, when one
operand moves, by the change of that operand's own term only:

    F(.., w_j + h, ..) - F(.., w_j - h, ..) = G(w_j + h, x_j) - G(w_j - h, x_j)

where G(w, x) is the same row's forward on the single pair (w, x) (and b = 0).
So each operand is differenced on its own pair, all pairs in one vector call:
linear in n. The bias, if any, is differenced on the whole forward (once).

A separable row (``row.separable``: F = sum_j F(x_j), as ``sum``) is likewise
differenced on each operand alone, F(x_j + h) - F(x_j - h), all in one vector call.

Any other n-ary row is differenced on the whole forward at every moved point:
its operands as a matrix whose columns are the point moved along one coordinate,
in chunks of columns. That is n forward evaluations of n operands each, O(n**2),
the price of knowing nothing about the row but its forward.

:func:`column_differences` does the same for many nodes of one row at once (all
of a graph's ``tanh`` nodes, all its ``affine`` nodes of 33 operands): their
operands as the columns of a matrix, each operand row moved in turn (or, for a
separable or bilinear row, each term on its own), one vector call per moved row
for all the nodes together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..ops import Op
from .differences import central, step

_CELLS = 4_000_000
"""Matrix cells per chunk of moved points for a row differenced on its whole forward."""


def vector_differences(row: Op, xs: Sequence[float], eps: float) -> list[tuple[float, float]]:
    """(slope, noise) of the row at xs along each input, at the steps step(x_j, eps): for a
    separable or bilinear row by :func:`column_differences` on xs as one column."""
    point = np.asarray(xs, dtype=np.float64)
    if row.separable:
        slopes, noise = column_differences(row, point[:, None], eps)
    elif row.bilinear:
        try:
            slopes, noise = _bilinear_columns(row, point[:, None], step(point, eps)[:, None])
        except (ArithmeticError, TypeError, ValueError):
            return _whole_differences(row, point, eps)  # it cannot take one pair: whole
    else:
        return _whole_differences(row, point, eps)
    return list(zip(slopes[:, 0].tolist(), noise[:, 0].tolist()))


def _whole_differences(row: Op, point: np.ndarray, eps: float) -> list[tuple[float, float]]:
    """Every operand moved in turn but an index operand (held fixed: it selects)."""
    n = len(point) - row.index
    h = step(point, eps)
    chunk = max(1, _CELLS // n)
    result: list[tuple[float, float]] = []
    for start in range(0, n, chunk):
        js = np.arange(start, min(n, start + chunk))
        columns = np.arange(len(js))

        def forward(moved: np.ndarray, js: np.ndarray = js, columns: np.ndarray = columns
                    ) -> Any:
            operands = np.repeat(point[:, None], len(js), axis=1)
            operands[js, columns] = moved
            with np.errstate(all="ignore"):
                return row.vector(*operands)

        slopes, noise = central(forward, point[js], h[js])
        result.extend(zip(np.asarray(slopes).tolist(), np.asarray(noise).tolist()))
    return result


def column_differences(row: Op, point: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(slopes, noise) of the row along each operand but an index one, at many points.

    ``point`` has one column per node, its operands in rows (shape (n, nodes)); the
    results have one row per moved operand (n, or n - 1 for an index row) and one
    column per node. Steps are step(x, eps) at each operand. What the vector forward
    raises propagates (the caller then checks the nodes one by one).
    """
    h = step(point, eps)
    if row.arity is None and row.separable:
        def term(moved: np.ndarray) -> Any:
            return row.vector(moved)

        with np.errstate(all="ignore"):
            slopes, noise = central(term, point, h)
        return _shaped(slopes, point.shape), _shaped(noise, point.shape)
    if row.arity is None and row.bilinear:
        try:
            return _bilinear_columns(row, point, h)
        except (ArithmeticError, TypeError, ValueError):
            pass  # a vector forward that cannot take the pairs: difference it whole
    moved = len(point) - row.index
    slopes = np.empty((moved, point.shape[1]))
    noise = np.empty_like(slopes)
    operands = list(point)
    for j in range(moved):
        slopes[j], noise[j] = _along(row, operands, j, h[j])
    return slopes, noise


def _along(row: Op, operands: list[np.ndarray], j: int, h: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The whole forward differenced along operand j at every column."""
    def forward(moved: np.ndarray) -> Any:
        return row.vector(*operands[:j], moved, *operands[j + 1:])

    with np.errstate(all="ignore"):
        slopes, noise = central(forward, operands[j], h)
    size = operands[j].shape
    return _shaped(slopes, size), _shaped(noise, size)


def _bilinear_columns(row: Op, point: np.ndarray, h: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    ws, xs, b = row.split(range(len(point)))
    if len(ws) != len(xs) or not len(ws):
        raise ValueError(f"{row.name}: operands do not split into as many ws as xs")
    n = len(ws)
    w, x = point[:n], point[n:2 * n]
    tail = (np.zeros_like(w),) if b is not None else ()

    def pair(w: np.ndarray, x: np.ndarray) -> Any:
        return row.vector(w, x, *tail)

    with np.errstate(all="ignore"):
        w_slopes, w_noise = central(lambda moved: pair(moved, x), w, h[:n])
        x_slopes, x_noise = central(lambda moved: pair(w, moved), x, h[n:2 * n])
    parts = [(_shaped(w_slopes, w.shape), _shaped(w_noise, w.shape)),
             (_shaped(x_slopes, x.shape), _shaped(x_noise, x.shape))]
    if b is not None:
        slope, noise = _along(row, list(point), b, h[b])
        parts.append((slope[None], noise[None]))
    return (np.concatenate([slopes for slopes, _ in parts]),
            np.concatenate([noise for _, noise in parts]))


def _shaped(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A vector forward's result as a float64 array of ``shape`` (a ValueError if it
    cannot be)."""
    return np.broadcast_to(np.asarray(values, dtype=np.float64), shape)
