"""compile: trace a per-example function once, then run it on whole batches with NumPy.

``tape = compile(fn, *example)`` calls ``fn`` once on placeholder Values holding the
``example``'s numbers (one list of Values per argument, or one Value for a scalar
argument) and records the graph it builds. The graph's leaves are of two kinds:

- placeholders: a fresh column per example of the batch (the inputs, the targets);
- shared leaves: every other leaf the graph reached, such as the model's parameters
  (and constants). Their ``.data`` is read at every run, so parameter updates are
  seen, and their gradient is summed over the batch.

The interior nodes are levelled by depth (1 + the largest depth of their children)
and grouped by op within a level. A run keeps one array of shape (nodes, batch) and
makes one vectorized call per group, for the forward and for the backward alike:
the group's row's ``vector`` forward on the gathered children, then the row's own
``derivatives`` rule on the same arrays (the op table stays the only definition of
every op, ``Function`` rows included), times the upstream gradient, scattered back
onto the children. ``dot`` and ``sum`` nodes of equal length form one group.

Three shapes of group take a shorter road to the same numbers. Nodes made from
shared leaves only (an L2 term) are grouped apart and run once per batch, on one
column, their gradient being the upstream gradient summed over the batch. A ``dot``
group that is a dense layer (shared weights, the same inputs for every node) is the
``dot`` row's forward and rule as matrix products: W @ X, then U @ X^T for the
weights and W^T @ U for the inputs. A ``sum`` read through one gather is one sum
over a stacked array. The shared leaves are laid out in the order the groups read
them, so a layer's weights and biases are runs of rows, read as views.

What a trace cannot capture: anything that depends on ``.data`` in Python. A branch
(``if x.data > 0``) is taken as it was for the traced example, and a number computed
from ``.data`` (``Value(max(v.data for v in vs))``) is frozen as a constant. Ops
themselves (``relu``, ``abs``, ``logsumexp``'s shift) act per example correctly.
Out-of-domain inputs give IEEE results (``log(-1)`` is NaN) instead of errors.
:meth:`Tape.check` runs ``fn`` eagerly on every row of a batch and raises
:class:`TraceMismatchError` if the tape disagrees, so checking the first batch
catches a trace that does not generalize.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from .backward import gradients
from .functions import sum as value_sum
from .mode import is_grad_enabled
from .ops import Op
from .tape_groups import Group, TraceError, make_group
from .tape_layout import Layout, SharedArrays
from .threads import blas_threads
from .value import REAL_TYPES, Value

_grad = operator.attrgetter("grad")

__all__ = ["Tape", "TapeGradients", "TraceError", "TraceMismatchError", "compile"]


class TraceMismatchError(AssertionError):
    """The tape disagrees with the eager graph on some example (see :meth:`Tape.check`)."""


@dataclass(frozen=True)
class TapeGradients:
    """What :meth:`Tape.gradients` returns.

    ``outputs``: (n,) or (n, k), as :meth:`Tape.forward`. ``shared``: for every shared
    leaf, d(sum over the batch of seed * outputs) / d leaf. ``inputs``: for each
    argument, the gradient with respect to its placeholders, (n, width) or (n,).
    """

    outputs: np.ndarray
    shared: dict[Value, float]
    inputs: tuple[np.ndarray, ...]


class Tape:
    """A traced per-example function, run on batches (see the module docstring).

    ``threads``: how many threads BLAS may use during a run (1 by default, None
    for no limit; see :mod:`autograd_scalar.threads`).
    """

    threads: int | None = 1

    def __init__(self, fn: Callable[..., Any], example: Sequence[Any],
                 parameters: Sequence[Value] = ()) -> None:
        if not is_grad_enabled():
            raise TraceError("compile needs gradient tracking; it was called inside no_grad()")
        self.fn = fn
        self.widths: tuple[int | None, ...] = tuple(_width(x, i) for i, x in enumerate(example))
        numbers = np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in example])
        placeholders, arguments = _arguments(self.widths, numbers.tolist())
        result = fn(*arguments)
        self.single = isinstance(result, Value)
        outputs = [result] if self.single else _output_list(result)
        self._last_wrt: tuple[tuple[Value, ...], np.ndarray] | None = None
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None
        self._trace(placeholders, outputs, _parameter_list(parameters))
        self._validate(example)

    # -- tracing ------------------------------------------------------------

    def _trace(self, placeholders: list[Value], outputs: list[Value],
               parameters: list[Value]) -> None:
        index: dict[Value, int] = {p: i for i, p in enumerate(placeholders)}
        interior, inner = _interior_order(outputs)
        leaves: dict[Value, None] = dict.fromkeys(parameters)
        for node in interior:
            leaves.update(dict.fromkeys(node.children))
        leaves.update((o, None) for o in outputs if not o.children)
        # the parameters as given, then the other shared leaves in the order the ops
        # first read them: a dense layer's weights are then one run of rows (or, as a
        # model lists them, each neuron's weights then its bias: a strided run)
        shared = [leaf for leaf in leaves if not leaf.children and leaf not in index]
        depth: dict[Value, int] = {}
        constant: set[Value] = set(shared)
        levels: dict[tuple[int, int, int, bool], tuple[Op, list[Value]]] = {}
        for node in interior:
            level = 1 + max([depth[c] for c in inner[node]], default=0)
            depth[node] = level
            row = node.row
            assert row is not None
            same_for_all = constant.issuperset(node.children)
            if same_for_all:
                constant.add(node)
            key = (level, id(row), len(node.children), same_for_all)
            if key not in levels:
                levels[key] = (row, [])
            levels[key][1].append(node)
        ordered = sorted(levels, key=lambda k: k[0])
        for p in parameters:
            if p in index or p in depth:
                raise TraceError(f"compile: parameter {p.label or p!r} is computed or an "
                                 "input in the traced function; parameters must be leaves")
        for node in shared:
            index[node] = len(index)
        first_shared = len(placeholders)
        first_interior = first_shared + len(shared)
        invariant = np.zeros(first_interior + len(interior), dtype=bool)
        invariant[first_shared:first_interior] = True
        layout = Layout(first_shared, first_interior, first_interior + len(interior))
        groups: list[Group] = []
        for key in ordered:
            row, nodes = levels[key]
            start = len(index)
            for node in nodes:
                index[node] = len(index)
            children = [tuple(map(index.__getitem__, node.children)) for node in nodes]
            for i, kids in enumerate(children):
                invariant[start + i] = invariant[list(kids)].all()
            groups.append(make_group(row, slice(start, len(index)), children, layout,
                                     invariant))
        self.placeholders = tuple(placeholders)
        self.shared: tuple[Value, ...] = tuple(shared)
        self.parameter_count = len(parameters)
        self.arrays = SharedArrays(shared)
        for group in groups:
            if group.matrix is not None:
                group.matrix.bind(self.arrays)
        self.layout = layout
        self.size = len(index)
        self.groups = tuple(groups)
        self.levels = max((k[0] for k in levels), default=0)
        self.outputs = np.array([index[o] for o in outputs], dtype=np.intp)
        self._traced_outputs = np.array([o.data for o in outputs])
        self._shared_outputs = layout.is_shared(self.outputs)
        self._output_read = layout.reader(self.outputs, one_column=False)
        self._output_rows = layout.row(self.outputs[~self._shared_outputs])
        self._full = any(group.reads_invariant_in_full for group in groups) or bool(
            invariant[self.outputs].any())

    def _validate(self, example: Sequence[Any]) -> None:
        """Run the tape on two copies of the example: every row must work on arrays."""
        batch = [np.stack([np.asarray(x, dtype=np.float64)] * 2) for x in example]
        values, inputs = self._forward(self._columns(batch))
        self._backward(values, inputs, np.ones((len(self.outputs), 2)), True)
        found = self._output_values(values)[:, 0]
        if not _close(found, self._traced_outputs, 1e-9, self._magnitude(values)):
            raise TraceError(f"compile: the batched forward gives {found.tolist()} on the traced "
                             f"example, the eager graph gave {self._traced_outputs.tolist()}; "
                             "some row's vector forward disagrees with its float forward")

    # -- running ------------------------------------------------------------

    def _columns(self, batches: Sequence[Any]) -> list[np.ndarray]:
        """The batches checked, as one (n, width) array per argument."""
        if len(batches) != len(self.widths):
            raise TypeError(f"the tape takes {len(self.widths)} batch argument(s) (one per "
                            f"argument of the traced function), got {len(batches)}")
        parts = []
        n = None
        for i, (batch, width) in enumerate(zip(batches, self.widths)):
            try:
                array = np.asarray(batch, dtype=np.float64)
            except (TypeError, ValueError) as error:
                raise TypeError(f"batch argument {i} must be an array of real numbers: "
                                f"{error}") from None
            expected = "(n,)" if width is None else f"(n, {width})"
            if array.ndim != (1 if width is None else 2) or (width is not None
                                                              and array.shape[1] != width):
                raise ValueError(f"batch argument {i} must have shape {expected} as traced, "
                                 f"got {array.shape}")
            if array.shape[0] == 0:
                raise ValueError(f"batch argument {i} is empty; pass at least one example")
            if n is None:
                n = array.shape[0]
            elif array.shape[0] != n:
                raise ValueError(f"batch argument {i} has {array.shape[0]} rows, argument 0 "
                                 f"has {n}; every argument needs one row per example")
            parts.append(array.reshape(n, -1))
        return parts

    def _forward(self, columns: list[np.ndarray], pull: bool = True
                 ) -> tuple[np.ndarray, list[Any]]:
        """The value of every node for every example, and each group's gathered inputs.

        ``pull`` first copies the shared leaves' ``.data`` into ``self.arrays``;
        without it the tape reads the arrays as they are (compiled training).
        """
        n = len(columns[0])
        values = self._buffer(n, 0)
        start = 0
        for part in columns:  # the placeholders' rows, argument by argument
            values[start:start + part.shape[1]] = part.T
            start += part.shape[1]
        arrays = self.arrays
        if pull:
            arrays.pull()
        inputs = []
        full = self._full
        with np.errstate(all="ignore"):
            for group in self.groups:
                gathered = group.gather(values, arrays)
                inputs.append(gathered)
                group.forward(gathered, values, arrays, full)
        return values, inputs

    def _backward(self, values: np.ndarray, inputs: list[Any], seed: np.ndarray,
                  with_inputs: bool) -> np.ndarray:
        """Per-example gradients of every node; the shared leaves' batch sums go to
        ``self.arrays.grad`` (set to zero first)."""
        grads = self._buffer(values.shape[1], 1)
        grads.fill(0.0)
        shared_grads = self.arrays.grad
        shared_grads.fill(0.0)
        shared = self._shared_outputs
        np.add.at(grads, self._output_rows, seed[~shared])
        if shared.any():  # an output that is a parameter itself: its seed, batch-summed
            np.add.at(shared_grads, self.outputs[shared] - self.layout.first_shared,
                      seed[shared].sum(axis=1))
        arrays = self.arrays
        with np.errstate(all="ignore"):
            for group, gathered in zip(reversed(self.groups), reversed(inputs)):
                group.backward(gathered, values, grads, arrays, with_inputs)
        return grads

    def _output_values(self, values: np.ndarray) -> np.ndarray:
        """The outputs' rows (outputs, n) of a run."""
        return self._output_read(values, self.arrays.data)

    def _magnitude(self, values: np.ndarray) -> float:
        return max(_magnitude(values), _magnitude(self.arrays.data))

    def backward_arrays(self, *batches: Any, reduction: str = "mean"
                        ) -> tuple[float, np.ndarray]:
        """The reduced first output, its gradient in ``self.arrays.grad``, and all outputs.

        The fast path of compiled training: the shared leaves are read from
        ``self.arrays.data`` as they are (no Value is read) and d(reduced output 0)
        / d leaf is written to ``self.arrays.grad`` (no Value is written; the
        caller syncs with ``self.arrays.push``). The other outputs (a model's raw
        outputs traced beside its loss) are returned too, as (n, k), for free.
        """
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        columns = self._columns(batches)
        n = len(columns[0])
        seeds = np.zeros((len(self.outputs), n))
        seeds[0] = 1.0 / n if reduction == "mean" else 1.0
        with blas_threads(self.threads):
            values, inputs = self._forward(columns, pull=False)
            self._backward(values, inputs, seeds, False)
        outputs = self._output_values(values)
        losses = outputs[0]
        return float(losses.mean() if reduction == "mean" else losses.sum()), outputs.T.copy()

    def forward(self, *batches: Any) -> np.ndarray:
        """The outputs for every example: (n,) for one output Value, (n, k) for k."""
        with blas_threads(self.threads):
            values, _ = self._forward(self._columns(batches))
        return self._shape(self._output_values(values))

    __call__ = forward

    def gradients(self, *batches: Any, seed: Any = None) -> TapeGradients:
        """Outputs and the gradients of sum(seed * outputs); seed defaults to ones."""
        columns = self._columns(batches)
        n = len(columns[0])
        if seed is None:
            seeds = np.ones((len(self.outputs), n))
        else:
            seeds = np.asarray(seed, dtype=np.float64)
            wanted = (n,) if self.single else (n, len(self.outputs))
            if seeds.shape != wanted:
                raise ValueError(f"seed must have the outputs' shape {wanted}, got {seeds.shape}")
            seeds = seeds.reshape(n, -1).T
        with blas_threads(self.threads):
            values, inputs = self._forward(columns)
            grads = self._backward(values, inputs, seeds, True)
        shared = dict(zip(self.shared, self.arrays.grad.tolist()))
        inputs = []
        start = 0
        for width in self.widths:
            stop = start + (1 if width is None else width)
            block = grads[start:stop].T.copy()
            inputs.append(block[:, 0] if width is None else block)
            start = stop
        return TapeGradients(self._shape(self._output_values(values)), shared, tuple(inputs))

    def backward(self, *batches: Any, reduction: str = "mean",
                 wrt: Sequence[Value] | None = None) -> float:
        """Add d(reduced output)/d leaf to ``leaf.grad``; return the reduced output.

        The traced function must return one Value (a per-example loss); ``reduction``
        is "mean" or "sum" over the batch. ``wrt`` names the leaves to update (default:
        every shared leaf); a leaf the tape does not use gets nothing. Nothing is
        written before everything is computed.
        """
        if not self.single:
            raise TypeError(f"backward needs a function that returns one Value; this one "
                            f"returns {len(self.outputs)}")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        columns = self._columns(batches)
        n = len(columns[0])
        weight = 1.0 / n if reduction == "mean" else 1.0
        with blas_threads(self.threads):
            values, inputs = self._forward(columns)
            self._backward(values, inputs, np.full((len(self.outputs), n), weight), False)
        shared_grads = self.arrays.grad
        if wrt is None:
            leaves, updates = self.shared, shared_grads
        else:
            leaves = tuple(wrt)
            positions = self._positions(leaves)
            updates = np.where(positions >= 0, shared_grads[positions], 0.0)
        try:
            current = np.fromiter(map(_grad, leaves), np.float64, len(leaves))
        except (TypeError, ValueError):
            for leaf, g in zip(leaves, updates.tolist()):
                leaf.grad += g
        else:
            deque(map(setattr, leaves, repeat("grad"), (current + updates).tolist()), maxlen=0)
        losses = self._output_values(values)[0]
        return float(losses.mean() if reduction == "mean" else losses.sum())

    def _buffer(self, n: int, which: int) -> np.ndarray:
        """The values (0) or gradients (1) array for a batch of n, reused run after run.

        A fresh array of this size each run would cost page faults every time; the
        results handed out are copies, so reusing the two arrays is safe. Their rows
        are the placeholders and the interior nodes only (see
        :mod:`autograd_scalar.tape_layout`).
        """
        if self._buffers is None or self._buffers[0].shape[1] != n:
            rows = self.layout.rows
            self._buffers = None  # the old pair is freed before the new one is made
            self._buffers = (np.empty((rows, n)), np.empty((rows, n)))
        return self._buffers[which]

    def _positions(self, leaves: tuple[Value, ...]) -> np.ndarray:
        """Each leaf's place among the shared leaves (-1 if the tape does not use it)."""
        if self._last_wrt is not None and self._last_wrt[0] == leaves:
            return self._last_wrt[1]
        index = {leaf: i for i, leaf in enumerate(self.shared)}
        positions = np.array([index.get(leaf, -1) for leaf in leaves], dtype=np.intp)
        self._last_wrt = (leaves, positions)
        return positions

    def _shape(self, rows: np.ndarray) -> np.ndarray:
        return rows[0].copy() if self.single else rows.T.copy()

    # -- checking -----------------------------------------------------------

    def check(self, *batches: Any, rtol: float = 1e-9) -> None:
        """Compare the tape with the eager graph on every example of a batch.

        Runs the traced function eagerly on each row, and compares its outputs and
        the gradients of the outputs' sum with respect to the shared leaves that the
        eager graphs reach too (the parameters; constants made while tracing are the
        tape's own), to ``rtol`` relative to the largest magnitude.
        Raises :class:`TraceMismatchError` naming the first disagreement, which
        usually means the function branches in Python on ``.data``.
        """
        found = self.gradients(*batches)
        parts = self._columns(batches)
        columns = np.concatenate(parts, axis=1)
        scale = self._magnitude(self._forward(parts)[0])
        outputs = found.outputs.reshape(len(columns), -1)
        totals: dict[Value, float] = {}
        for i, row in enumerate(columns.tolist()):
            result = self.fn(*_arguments(self.widths, row)[1])
            eager = [result] if isinstance(result, Value) else _output_list(result)
            got = [o.data for o in eager]
            if len(got) != outputs.shape[1] or not _close(outputs[i], np.array(got), rtol,
                                                          scale):
                raise TraceMismatchError(
                    f"example {i}: the tape gives outputs {outputs[i].tolist()}, the eager "
                    f"function gives {got}; the function's graph depends on the data "
                    "(a Python branch on .data?), so it cannot be compiled as traced")
            root = eager[0] if len(eager) == 1 else value_sum(eager)  # one backward per row
            for leaf, g in gradients(root).items():
                if leaf in found.shared:
                    totals[leaf] = totals.get(leaf, 0.0) + g
        shared = [leaf for leaf in found.shared if leaf in totals]
        tape_grads = np.array([found.shared[leaf] for leaf in shared])
        eager_grads = np.array([totals.get(leaf, 0.0) for leaf in shared])
        if not _close(tape_grads, eager_grads, rtol):
            worst = int(np.argmax(np.abs(tape_grads - eager_grads)))
            leaf = shared[worst]
            raise TraceMismatchError(
                f"the gradient for leaf {leaf.label or worst!r} is {tape_grads[worst]} on the "
                f"tape and {eager_grads[worst]} eagerly; the function's graph depends on the "
                "data (a Python branch on .data?), so it cannot be compiled as traced")

    def memory(self, n: int) -> int:
        """Bytes of the arrays a run on a batch of ``n`` keeps: the values and gradients
        of every placeholder and op for every example, and the shared arrays."""
        return 8 * (2 * self.layout.rows * n + 2 * len(self.shared))

    def program(self) -> str:
        """The traced program as text: one line per group, in the order it runs.

        Each line gives the level, the row, the number of nodes, the strategy
        ("matrix": a dense layer as matrix products; "sum": one stacked sum;
        "once": made of shared leaves only, run once per batch; "elementwise":
        the row's vector forward and rule) and the index range of its nodes.
        """
        lines = [repr(self)]
        for i, group in enumerate(self.groups):
            lines.append(f"  group {i:3d}: {group.row.name:<10} x{group.size:<6} "
                         f"{group.strategy:<11} nodes {group.nodes.start}..{group.nodes.stop - 1}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Tape({len(self.placeholders)} inputs, {len(self.shared)} shared leaves, "
                f"{self.size - len(self.placeholders) - len(self.shared)} ops in "
                f"{len(self.groups)} groups over {self.levels} levels)")


def compile(fn: Callable[..., Any], *example: Any, parameters: Sequence[Value] = ()) -> Tape:
    """Trace ``fn`` on one example and return a :class:`Tape` that runs it on batches.

    Each argument of ``example`` is a 1-D sequence of numbers (``fn`` gets a list of
    Values) or one number (``fn`` gets a Value); ``fn`` returns a Value or a list of
    Values. Then ``tape.forward(*batches)``, ``tape.gradients(*batches)`` and
    ``tape.backward(*batches, reduction="mean")`` take one array per argument, with
    one row per example::

        tape = compile(lambda x, t: loss.example(model(x), t), X[0], T[0])
        batch_loss = tape.backward(X, T)     # adds to every parameter's .grad

    ``parameters`` (leaves, e.g. an optimizer's) are laid out first in
    ``tape.arrays``, in the order given, so that ``tape.arrays.data[:len(parameters)]``
    and ``tape.arrays.grad[:len(parameters)]`` line up with that list (see
    :meth:`Tape.backward_arrays`).
    """
    if not callable(fn):
        raise TypeError(f"compile expects a function, got {type(fn).__name__}")
    if not example:
        raise TypeError("compile needs an example: one value per argument of the function")
    return Tape(fn, example, parameters)


# ---------------------------------------------------------------------------

def _interior_order(outputs: list[Value]) -> tuple[list[Value], dict[Value, list[Value]]]:
    """The op nodes the outputs depend on, each after its children, and each node's
    op children.

    Only op nodes are pushed on the stack: the leaves (a layer's many weights)
    are skipped by one test each, so a graph of few ops over many parameters is
    ordered in time proportional to its edges, with a small constant.
    """
    order: list[Value] = []
    inner: dict[Value, list[Value]] = {}
    stack: list[tuple[Value, bool]] = [(o, False) for o in reversed(outputs) if o.children]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in inner:
            continue
        kids = [c for c in node.children if c.children]
        inner[node] = kids
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(kids) if c not in inner)
    return order, inner


def _parameter_list(parameters: Sequence[Value]) -> list[Value]:
    found = list(parameters)
    for i, p in enumerate(found):
        if not isinstance(p, Value):
            raise TypeError(f"compile: parameters[{i}] must be a Value, got {type(p).__name__}")
        if p.children:
            raise TraceError(f"compile: parameters[{i}] ({p.label or p.op!r}) is not a leaf; "
                             "parameters must be leaves")
    if len(set(found)) != len(found):
        raise ValueError("compile: a parameter is listed twice; list each once")
    return found


def _width(x: Any, i: int) -> int | None:
    if isinstance(x, REAL_TYPES) and not isinstance(x, bool):
        return None
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1:
        raise TraceError(f"compile: example argument {i} must be a number or a 1-D sequence "
                         f"of numbers, got {type(x).__name__}: {x!r}"[:300])
    return int(array.shape[0])


def _arguments(widths: Sequence[int | None], numbers: list[float]
               ) -> tuple[list[Value], list[Any]]:
    """Fresh leaves for one example, and the arguments they make (a Value or a list each)."""
    leaves = [Value(x) for x in numbers]
    for i, leaf in enumerate(leaves):
        leaf.label = f"in[{i}]"
    arguments: list[Any] = []
    start = 0
    for width in widths:
        if width is None:
            arguments.append(leaves[start])
            start += 1
        else:
            arguments.append(leaves[start:start + width])
            start += width
    return leaves, arguments


def _output_list(result: Any) -> list[Value]:
    if isinstance(result, (list, tuple)) and result and all(isinstance(o, Value)
                                                            for o in result):
        return list(result)
    raise TraceError(f"compile: the function must return a Value or a non-empty list of "
                     f"Values, got {type(result).__name__}: {result!r}"[:300])


def _close(found: np.ndarray, expected: np.ndarray, rtol: float, scale: float = 0.0) -> bool:
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


def _magnitude(values: np.ndarray) -> float:
    """The largest finite |value| of any node on any example (0 if there is none)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max(initial=0.0))
