"""Verifying a compiled tape against the eager graph, example by example.

:func:`check` runs the traced function eagerly on each row of a batch and
compares its outputs, and the gradients of the outputs' sum with respect to the
shared leaves the eager graphs reach too, with what the tape gives. The two
sum in different orders (a matrix product against the eager left-to-right sum),
so they are compared relative to the magnitude of what was summed (:func:`close`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backward import gradients
from .functions import sum as value_sum
from .tape_program import make_arguments, output_list
from .value import Value


class TraceMismatchError(AssertionError):
    """The tape disagrees with the eager graph on some example (see :func:`check`)."""


def check(fn: Callable[..., Any], widths: Sequence[int | None], columns: np.ndarray,
          outputs: np.ndarray, shared: Sequence[Value], shared_grads: np.ndarray,
          scale: float, rtol: float) -> None:
    """Raise :class:`TraceMismatchError` at the first disagreement of the tape's
    ``outputs`` (n, k) and gradients ``shared_grads`` of its ``shared`` leaves with the
    eager graph of ``fn`` on each row of ``columns`` (n, inputs); ``scale`` is the
    magnitude of the tape's run.

    One eager graph lives at a time, and the eager gradients are summed into an array
    beside ``shared`` (the leaves found by identity, :class:`_Positions`), not into a
    dictionary: a large model's parameters would otherwise be held several times over.
    """
    positions = _Positions(shared)
    totals = np.zeros(len(shared))
    reached = np.zeros(len(shared), dtype=bool)
    for i, row in enumerate(columns.tolist()):
        result = fn(*make_arguments(widths, row)[1])
        eager = [result] if isinstance(result, Value) else output_list(result)
        got = [o.data for o in eager]
        if len(got) != outputs.shape[1] or not close(outputs[i], np.array(got), rtol, scale):
            raise TraceMismatchError(
                f"example {i}: the tape gives outputs {outputs[i].tolist()}, the eager "
                f"function gives {got}; the function's graph depends on the data "
                "(a Python branch on .data?), so it cannot be compiled as traced")
        root = eager[0] if len(eager) == 1 else value_sum(eager)  # one backward per row
        del result, eager
        found = gradients(root)
        del root  # the graph goes before the next row's is made
        places, kept = positions.of(found)
        np.add.at(totals, places, np.fromiter(found.values(), np.float64, len(found))[kept])
        reached[places] = True
        del found
    leaves = np.flatnonzero(reached)
    tape_grads = np.asarray(shared_grads, dtype=np.float64)[leaves]
    eager_grads = totals[leaves]
    if not close(tape_grads, eager_grads, rtol):
        with np.errstate(invalid="ignore"):  # inf - inf: the NaN is not the worst
            worst = int(np.argmax(np.abs(tape_grads - eager_grads)))
        leaf = shared[int(leaves[worst])]
        raise TraceMismatchError(
            f"the gradient for leaf {leaf.label or worst!r} is {tape_grads[worst]} on the "
            f"tape and {eager_grads[worst]} eagerly; the function's graph depends on the "
            "data (a Python branch on .data?), so it cannot be compiled as traced")


class _Positions:
    """Where each of a tape's shared leaves is, found by identity: their ``id``s sorted."""

    def __init__(self, leaves: Sequence[Value]) -> None:
        ids = np.fromiter(map(id, leaves), np.intp, len(leaves))
        self.order = np.argsort(ids, kind="stable")
        self.ids = ids[self.order]

    def of(self, gradients: dict[Value, float]) -> tuple[np.ndarray, np.ndarray]:
        """For the keys of ``gradients`` (leaves of an eager graph) that are shared leaves:
        their positions, and which keys they are (a mask over the keys in order)."""
        wanted = np.fromiter(map(id, gradients), np.intp, len(gradients))
        if not len(self.ids):
            return np.zeros(0, dtype=np.intp), np.zeros(len(wanted), dtype=bool)
        places = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        kept = self.ids[places] == wanted
        return self.order[places[kept]], kept


def close(found: np.ndarray, expected: np.ndarray, rtol: float, scale: float = 0.0) -> bool:
    """Equal to ``rtol`` relative to the largest of ``expected`` and ``scale``.

    ``scale`` is the magnitude of the values the results were summed from: two
    orders of addition (a dense layer's matrix product, the eager left-to-right
    sum) differ by rounding relative to those, which cancellation can make large
    relative to the result itself.
    """
    scale = max(float(np.max(np.abs(expected), initial=0.0)), scale)
    if not math.isfinite(scale):
        return bool(np.array_equal(found, expected, equal_nan=True))
    return bool(np.allclose(found, expected, rtol=rtol, atol=rtol * scale, equal_nan=True))


def magnitude(values: np.ndarray) -> float:
    """The largest finite |value| in ``values`` (0 if there is none)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max(initial=0.0))
