"""Verifying a compiled tape: its rows on arrays at the trace, its runs against the eager graph.

:func:`check_rows` runs, when a program is traced, every row it uses on arrays:
the row's vector forward on the traced numbers of all its nodes at once, against
the numbers the float forward gave, and its rule on the same arrays, which must
give one partial per operand (a rule written with ``math`` or ``float`` cannot).
So a row that cannot run batched is a :class:`TraceError` at ``compile``, naming
the row, whichever strategy later runs it.

:func:`check` runs the traced function eagerly on each row of a batch
(:func:`eager_run`) and compares its outputs, the gradients of the outputs' sum
with respect to each example's inputs, and those with respect to the parameters and
the other shared leaves the eager graphs reach too, with what the tape gives. The
eager run may be made before the trace (:class:`EagerRun`, ``Tape.eager_reference``):
the eager graphs and the trace's then never live at once, and the trace reuses their
memory. The two sum in
different orders (a matrix product against the eager left-to-right sum), so they
are compared relative to the magnitude of what was summed (:func:`close`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backward import users_first
from ..free_functions import sum as value_sum
from ..mirror import read_grad, write_grad
from ..ops import Op
from ..value import Value
from .groups import array_error, call_rule
from .program import Program, TraceError, make_arguments, output_list


def check_rows(program: Program, rtol: float = 1e-9) -> None:
    """Raise :class:`TraceError` if a row of the program fails on arrays or its vector
    forward disagrees with its float forward on the traced numbers (see the module
    docstring); each (row, operand count) is run once, on all its nodes as two columns."""
    numbers = program.numbers
    by_row: dict[tuple[Op, int], list[Any]] = {}
    for group in program.groups:
        by_row.setdefault((group.row, group.children.shape[0]), []).append(group)
    with np.errstate(all="ignore"):
        for (row, arity), groups in by_row.items():
            children = np.concatenate([group.children for group in groups], axis=1)
            nodes = np.concatenate([np.arange(group.nodes.start, group.nodes.stop)
                                    for group in groups])
            k = len(nodes)
            operands = [np.repeat(numbers[position][:, None], 2, axis=1)
                        for position in children]
            expected = numbers[nodes]
            result = call_rule(row, "forward", row.vector, operands, running=False)
            try:
                found = np.broadcast_to(np.asarray(result, dtype=np.float64), (k, 2))
            except (TypeError, ValueError) as error:
                raise array_error(row, "forward", error) from error
            scale = max(magnitude(expected), *(magnitude(x) for x in operands))
            if not close(found[:, 0], expected, rtol, scale):
                worst = int(np.argmax(np.abs(found[:, 0] - expected)))
                raise TraceError(
                    f"compile: op {row.name!r} gives {found[worst, 0]!r} on arrays where it "
                    f"gave {expected[worst]!r} on floats, at operands "
                    f"{[float(x[worst, 0]) for x in operands]}; its vector forward must "
                    "compute what its float forward does")
            partials = call_rule(row, "derivatives", row.derivatives, (*operands, found),
                                 running=False)
            if not isinstance(partials, (tuple, list)) or len(partials) != arity:
                raise array_error(row, "derivatives", ValueError(
                    f"it returned {partials!r:.80} instead of {arity} partial derivatives"))
            for partial in partials:
                try:
                    np.broadcast_to(np.asarray(partial, dtype=np.float64), (k, 2))
                except (TypeError, ValueError) as error:
                    raise array_error(row, "derivatives", error) from error


class TraceMismatchError(AssertionError):
    """The tape disagrees with the eager graph on some example (see :meth:`Tape.check`)."""


@dataclass(frozen=True)
class EagerRun:
    """The eager graph of a function on every row of a batch: ``columns`` (n, inputs),
    each row's ``outputs``, and ``grads``, d(sum over the rows of the outputs' sum) / d
    leaf for each of ``leaves``; ``reached``: which of the leaves after the first
    ``compared`` (the parameters) the graphs reached; ``inputs`` (n, inputs), d(the
    row's outputs' sum) / d each of its inputs."""

    columns: np.ndarray
    outputs: list[list[float]]
    leaves: tuple[Value, ...]
    grads: np.ndarray
    reached: set[Value]
    inputs: np.ndarray

    def serves(self, columns: np.ndarray, shared: tuple[Value, ...], parameter_count: int
               ) -> bool:
        """Whether this run stands for a tape's: the same rows, and the tape's shared
        leaves are its leaves, all parameters (no other leaf whose reach would count)."""
        return (len(shared) == parameter_count == len(self.leaves)
                and all(map(operator.is_, shared, self.leaves))
                and np.array_equal(columns, self.columns))


def eager_run(fn: Callable[..., Any], widths: Sequence[int | None], columns: np.ndarray,
              leaves: Sequence[Value], parameter_count: int | None = None) -> EagerRun:
    """Run ``fn`` eagerly on each row of ``columns`` (n, inputs) (see :class:`EagerRun`).

    The gradients are accumulated row by row into the leaves' own ``.grad`` by
    ``backward()`` (one eager graph alive at a time, no dictionary of every leaf's
    gradient), then read, and every ``.grad`` is put back as it was, whatever happens.
    The leaves after the first ``parameter_count`` are looked for in each graph.
    """
    leaves = tuple(leaves)
    count = len(leaves) if parameter_count is None else parameter_count
    saved = np.empty(len(leaves))
    read_grad(leaves, saved)
    extra = set(leaves[count:])
    reached: set[Value] = set()
    outputs = []
    inputs = np.empty(columns.shape)
    try:
        zeros = np.zeros(len(leaves))
        write_grad(leaves, zeros)
        del zeros  # nothing of the leaves' size beside ``saved`` while the graphs live
        for k, row in enumerate(columns.tolist()):
            placeholders, arguments = make_arguments(widths, row)
            result = fn(*arguments)
            eager = [result] if isinstance(result, Value) else output_list(result)
            outputs.append([o.data for o in eager])
            root = eager[0] if len(eager) == 1 else value_sum(eager)  # one backward per row
            del result, eager
            if extra:
                reached |= extra.intersection(users_first(root))
            root.backward()
            inputs[k] = [leaf.grad for leaf in placeholders]
            del root, arguments  # the graph goes before the next row's is made
        grads = np.empty(len(leaves))
        read_grad(leaves, grads)
    finally:
        write_grad(leaves, saved)
    return EagerRun(columns, outputs, leaves, grads, reached, inputs)


def check(fn: Callable[..., Any], widths: Sequence[int | None], columns: np.ndarray,
          outputs: np.ndarray, input_grads: np.ndarray, shared: tuple[Value, ...],
          shared_grads: np.ndarray, parameter_count: int, scale: float, rtol: float,
          reference: EagerRun | None = None, dtype: Any = np.float64) -> None:
    """Raise :class:`TraceMismatchError` at the first disagreement of the tape's
    ``outputs`` (n, k), gradients ``input_grads`` (n, inputs) of each example's outputs'
    sum with respect to its inputs, and gradients ``shared_grads`` of its ``shared``
    leaves with the eager graph of ``fn`` on each row of ``columns`` (n, inputs);
    ``scale`` is the magnitude of the tape's run. (A branch on the data can leave the
    outputs and the parameters' gradients alike and change only the inputs': a
    ``detach()`` taken on one side of it.)

    The eager graph is run by :func:`eager_run`, unless ``reference`` is one made
    before the tape (:meth:`EagerRun.serves`). The first ``parameter_count`` shared
    leaves (the parameters) are all compared: one that a branch left out on one side
    has a zero gradient there. The others are compared where the eager graphs reach
    them too (constants made while tracing are the tape's own). ``dtype`` is the tape's:
    in float32, a result that is not finite where the eager one is, is said to be
    float32's range, not a graph that depends on the data.
    """
    if reference is None or not reference.serves(columns, shared, parameter_count):
        reference = eager_run(fn, widths, columns, shared, parameter_count)
    edge = scale if scale > EDGE else None
    for i, got in enumerate(reference.outputs):
        if len(got) != outputs.shape[1] or not close(outputs[i], np.array(got), rtol, scale):
            raise TraceMismatchError(
                f"example {i}: the tape gives outputs {outputs[i].tolist()}, the eager "
                f"function gives {got}; " + _cause(dtype, outputs[i], got, edge))
    found = np.asarray(input_grads, dtype=np.float64)
    size = max(magnitude(reference.inputs), scale)  # summed in other orders, as outputs
    for i, expected in enumerate(reference.inputs):
        if not close(found[i], expected, rtol, size):
            j = int(np.argmax(_disagreement(found[i], expected)))
            raise TraceMismatchError(
                f"example {i}: the gradient with respect to input {j} is {found[i, j]} on "
                f"the tape and {expected[j]} eagerly; "
                + _cause(dtype, found[i, j:j + 1], [expected[j]], edge))
    compared = np.ones(len(shared), dtype=bool)
    compared[parameter_count:] = [leaf in reference.reached
                                  for leaf in shared[parameter_count:]]
    leaves = np.flatnonzero(compared)
    tape_grads = np.asarray(shared_grads, dtype=np.float64)[leaves]
    eager_grads = reference.grads[leaves]
    if not close(tape_grads, eager_grads, rtol):
        worst = int(np.argmax(_disagreement(tape_grads, eager_grads)))
        leaf = shared[int(leaves[worst])]
        raise TraceMismatchError(
            f"the gradient for leaf {leaf.label or worst!r} is {tape_grads[worst]} on the "
            f"tape and {eager_grads[worst]} eagerly; "
            + _cause(dtype, tape_grads[worst:worst + 1], [eager_grads[worst]], edge))


def _disagreement(found: Any, expected: Any) -> np.ndarray:
    """|found - expected| entry by entry: 0 where they agree exactly (equal infinities,
    two NaNs), inf where only one is NaN; so that the largest names a real difference
    (inf - inf is NaN, which argmax would take for the largest)."""
    found, expected = np.asarray(found, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        difference = np.abs(found - expected)
    difference[(found == expected) | (np.isnan(found) & np.isnan(expected))] = 0.0
    difference[np.isnan(difference)] = np.inf
    return difference


EDGE = 1e300
"""A run whose numbers reach past this is at the end of float64's range: sums in other
orders there overflow, or round by more than any tolerance, differently."""


def _cause(dtype: Any, found: Any, expected: Any, edge: float | None = None) -> str:
    """Why a tape's numbers differ from the eager ones: float32's range, where the tape
    in float32 is not finite and eager float64 is; a run at the end of float64's range
    (``edge``, its largest finite magnitude, when it passes EDGE); an inf or NaN on
    either side, which the order of the sums decides (not the data); else a graph that
    depends on the data."""
    finite = bool(np.isfinite(found).all()), bool(np.isfinite(expected).all())
    if np.dtype(dtype) != np.float64 and not finite[0] and finite[1]:
        return (f"most likely a value of this computation is beyond "
                f"{np.dtype(dtype).name}'s range (about {float(np.finfo(dtype).max):.1e}) "
                "where float64 holds it: run it in float64 (dtype='float64', the default) "
                "to see")
    if edge is not None:
        return (f"the run's numbers reach the end of float range (up to {edge:.1e}), "
                "where sums in another order (a matrix product's, the eager "
                "graph's left to right) overflow or round differently: scale the data or "
                "the model down; if they still differ, the graph depends on the data (a "
                "Python branch on .data?)")
    if not any(finite):  # inf against NaN, or -inf: one side's order of the sums
        return ("a value is not finite: where an infinite derivative meets a zero gradient, "
                "or sums overflow, the tape's order of the sums (over the batch, then "
                "through the graph) and the eager graph's can end in inf on one side and "
                "NaN or another number on the other; find where it arises with "
                "autograd_scalar.detect_anomaly(), eagerly")
    return ("the function's graph depends on the data (a Python branch on .data?), or it "
            "reads a number that changed since the trace or is random (a global, a closure, "
            "random.gauss: the tape keeps the traced one), so it cannot be compiled as "
            "traced")


def close(found: np.ndarray, expected: np.ndarray, rtol: float, scale: float = 0.0) -> bool:
    """Equal to ``rtol`` relative to the largest of ``expected`` and ``scale``.

    ``scale`` is the magnitude of the values the results were summed from: two
    orders of addition (a dense layer's matrix product, the eager left-to-right
    sum) differ by rounding relative to those, which cancellation can make large
    relative to the result itself. Where ``expected`` is inf or NaN, ``found`` must be
    the same; the finite entries are compared to the largest finite one (an infinite
    loss beside them had made every entry compare exactly, so that one rounding in
    another output read as a graph that depends on the data).
    """
    finite = np.isfinite(expected)
    if not finite.all():
        found, expected = np.broadcast_arrays(np.asarray(found), np.asarray(expected))
        if not np.array_equal(found[~finite], expected[~finite], equal_nan=True):
            return False
        found, expected = found[finite], expected[finite]
    scale = max(float(np.max(np.abs(expected), initial=0.0)), scale)
    if not math.isfinite(scale):
        return bool(np.array_equal(found, expected, equal_nan=True))
    return bool(np.allclose(found, expected, rtol=rtol, atol=rtol * scale, equal_nan=True))


def magnitude(values: np.ndarray) -> float:
    """The largest finite |value| in ``values`` (0 if there is none)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max(initial=0.0))
