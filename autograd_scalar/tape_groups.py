"""The groups of a compiled tape: like nodes of one level, run by one vectorized call.

The tape keeps the value of every per-example node for every example in one
array of shape (rows, n): first the placeholders (per-example inputs), then the
interior nodes, group after group, so each group's nodes are one contiguous run
of rows. The shared leaves (parameters and constants, the same for every
example) live in the 1-D arrays of :class:`~autograd_scalar.tape_layout.SharedArrays`
and are never copied per example (see :mod:`autograd_scalar.tape_layout`).

A group gathers its children position by position: a position whose children are
all shared leaves is gathered as a (k, 1) column that broadcasts against the
batch, so a weight is never copied once per example. The backward multiplies the
row's partial derivatives by the upstream gradient and sends each contribution to
its child: summed over the batch at once for a shared leaf (a 1-D accumulator),
row by row for a per-example node. Contributions to placeholders are skipped
unless the gradients with respect to the inputs are asked for. When each position
sends its contributions to distinct children (the usual case), they go position
by position (a :class:`Route`); otherwise they are stacked and scattered.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ops import SUM, Op
from .tape_layout import Layout, Read, SharedArrays, as_rows, strided, strided_view

_ARRAY = {np.ndarray}
_FLOAT = {float}
_shape = operator.attrgetter("shape")


class TraceError(TypeError):
    """The function cannot be compiled (bad example, bad output, a row that needs floats)."""


@dataclass(frozen=True)
class Scatter:
    """``grads[targets] += the contributions' rows `entries`, summed m at a time``.

    The entries are sorted by target and every target here gets exactly ``m`` of
    them, so one reshape and one sum over the middle axis add them up.
    """

    targets: Any
    entries: Any
    m: int


@dataclass(frozen=True)
class Route:
    """Where the contributions of one input position go, when they go to one place each.

    ``targets`` are rows of the per-example gradients, or (``shared``) places in
    the shared leaves' batch sums; ``uniform``: all k nodes read one child, so the
    k contributions are summed first.
    """

    position: int
    targets: Any
    shared: bool
    uniform: bool


def _routes(children: np.ndarray, layout: Layout, with_inputs: bool
            ) -> tuple[Route, ...] | None:
    """One route per needed position, or None if some position needs the general scatter
    (a child met twice in one position, or shared leaves mixed with other nodes)."""
    lowest = 0 if with_inputs else layout.first_shared
    routes = []
    for position, kids in enumerate(children):
        needed = kids >= lowest
        if not needed.any():
            continue
        leaf = layout.is_shared(kids)
        uniform = bool((kids == kids[0]).all())
        if leaf.all():
            targets = kids - layout.first_shared
            shared = True
        elif needed.all() and not leaf.any():
            targets = layout.row(kids)
            shared = False
        else:
            return None
        if uniform:
            first = int(targets[0])
            routes.append(Route(position, first if shared else slice(first, first + 1),
                                shared, True))
        elif len(np.unique(targets)) == len(targets):
            routes.append(Route(position, as_rows(targets), shared, False))
        else:
            return None
    return tuple(routes)


@dataclass(frozen=True)
class BackwardPlan:
    """Which partials a group needs, and where their contributions go."""

    positions: list[int] | None
    shared_entries: Any
    shared_targets: Any
    scatters: tuple[Scatter, ...]
    shared_unique: bool
    routes: tuple[Route, ...] | None


def _plan(children: np.ndarray, layout: Layout, with_inputs: bool) -> BackwardPlan:
    arity = children.shape[0]
    lowest = 0 if with_inputs else layout.first_shared
    needed = (children >= lowest).any(axis=1)
    positions = np.flatnonzero(needed)
    kept = children[positions].ravel()
    entries = np.arange(len(kept))
    is_shared = layout.is_shared(kept)
    is_example = (kept >= lowest) & ~is_shared
    shared_entries = entries[is_shared]
    scatters = []
    example_entries = entries[is_example]
    routes = _routes(children, layout, with_inputs)
    if len(example_entries) and routes is None:
        targets_all = layout.row(kept[example_entries])
        order = np.argsort(targets_all, kind="stable")
        targets, starts, counts = np.unique(targets_all[order], return_index=True,
                                            return_counts=True)
        for m in np.unique(counts).tolist():
            chosen = counts == m
            rows = (starts[chosen][:, None] + np.arange(m)[None, :]).ravel()
            scatters.append(Scatter(as_rows(targets[chosen]),
                                    as_rows(example_entries[order[rows]]), m))
    shared_targets = kept[shared_entries] - layout.first_shared
    unique = len(np.unique(shared_targets)) == len(shared_targets)
    return BackwardPlan(
        None if len(positions) == arity else positions.tolist(),
        as_rows(shared_entries) if len(shared_entries) else None,
        (as_rows(shared_targets) if unique else shared_targets) if len(shared_entries)
        else None,
        tuple(scatters), unique, routes)


@dataclass(frozen=True)
class Gather:
    """Input positions gathered alike: each position's children read as (k|1, n|1).

    ``reads[j]`` reads position ``positions[j]``; ``stacked`` reads them all at
    once as (positions, k|1, n|1), for a stacked sum.
    """

    positions: list[int]
    reads: tuple[Read, ...]
    stacked: Read
    shape: tuple[int, int]

    def take(self, values: np.ndarray, shared: np.ndarray) -> np.ndarray:
        read = self.stacked(values, shared)
        return read.reshape(*self.shape, read.shape[1])

    def pieces(self, values: np.ndarray, shared: np.ndarray) -> tuple[np.ndarray, ...]:
        """One array per position: views when a position reads a run of rows."""
        return tuple(read(values, shared) for read in self.reads)


def _gather(positions: np.ndarray, rows: np.ndarray, uniform: bool, shared: bool,
            layout: Layout) -> Gather:
    chosen = rows[positions][:, :1] if uniform else rows[positions]
    reads = tuple(layout.reader(run, shared) for run in chosen)
    return Gather(positions.tolist(), reads, layout.reader(chosen.ravel(), shared),
                  chosen.shape)


@dataclass
class MatrixDot:
    """A group of a bilinear row (``dot``, ``affine``, ``*``) that is a dense layer:
    ``out = W @ X (+ b)``.

    Every node's ws are shared leaves (node j's i-th weight is shared leaf
    ``weights[j, i]``), all k nodes read the same per-example xs (rows ``inputs``,
    distinct), and the b of a row with a bias is a shared leaf too (``biases[j]``).
    The forward b_j + sum_i w_ji x_i is then one matrix product, and the rule
    d/dw_i = x_i, d/dx_i = w_i, d/db = 1 gives, against the upstream gradient U
    (k, n), the batch-summed weight gradients U @ X^T, the input gradients
    W^T @ U, and the bias gradients U summed over the batch. W and its gradient
    are read and written through views of the shared arrays when the weights are
    laid out with fixed strides (a layer's neurons one after another).
    """

    weights: np.ndarray
    inputs: Any
    input_keep: tuple[Any, Any]
    biases: np.ndarray | None = None
    views: dict[str, Any] = field(default_factory=dict)

    def bind(self, shared: SharedArrays) -> None:
        """Views (or index arrays) of W, b and their gradients in the shared arrays."""
        self.views = {}
        for name, indices in (("W", self.weights), ("b", self.biases)):
            if indices is None:
                continue
            block = indices if indices.ndim == 2 else indices[:, None]
            layout = strided(block)
            if layout is not None:
                value = strided_view(shared.data, layout, block.shape)
                grad = strided_view(shared.grad, layout, block.shape)
                if indices.ndim == 1:
                    value, grad = value[:, 0], grad[:, 0]
                self.views[name] = (value, grad, None)
            else:
                unique = len(np.unique(indices)) == indices.size
                self.views[name] = (None, None, (indices, unique))

    def read(self, name: str, shared: SharedArrays) -> np.ndarray:
        value, _, fancy = self.views[name]
        return value if fancy is None else shared.data[fancy[0]]

    def add_grad(self, name: str, shared: SharedArrays, contribution: np.ndarray) -> None:
        _, grad, fancy = self.views[name]
        if fancy is None:
            grad += contribution
        elif fancy[1]:
            shared.grad[fancy[0]] += contribution
        else:
            np.add.at(shared.grad, fancy[0], contribution)


@dataclass(frozen=True)
class Group:
    """Nodes of one level made by one row (and, for n-ary rows, of one length).

    ``rows`` are the nodes' rows in the per-example arrays. ``invariant`` groups
    read only shared leaves and nodes made from them (an L2 term): they run once,
    on one column, not once per example, and their gradient is the upstream
    gradient summed over the batch first.
    """

    row: Op
    nodes: slice
    rows: slice
    children: np.ndarray
    gathers: tuple[Gather, ...]
    order: list[int] | None
    plans: tuple[BackwardPlan, BackwardPlan]
    invariant: bool
    reads_invariant_in_full: bool
    summed: bool
    matrix: MatrixDot | None

    @property
    def size(self) -> int:
        return self.nodes.stop - self.nodes.start

    @property
    def strategy(self) -> str:
        """How the group runs: "matrix", "sum", "once" (invariant) or "elementwise"."""
        if self.matrix is not None:
            return "matrix"
        if self.summed:
            return "sum"
        return "once" if self.invariant else "elementwise"

    def gather(self, values: np.ndarray, shared: SharedArrays) -> Any:
        """The children's values, one array per input position.

        (k, n) in general; (k, 1) where all are the same in every column (shared
        leaves and what is made of them only) and (1, n) where all k nodes use the
        same child. A ``sum`` read through one gather is one stacked array, a
        dense ``dot`` the pair (W, X).
        """
        if self.matrix is not None:
            return self.matrix.read("W", shared), values[self.matrix.inputs]
        data = shared.data
        if len(self.gathers) == 1:
            if self.summed:
                return self.gathers[0].take(values, data)
            return self.gathers[0].pieces(values, data)
        parts = [part for gather in self.gathers for part in gather.pieces(values, data)]
        return parts if self.order is None else [parts[i] for i in self.order]

    def forward(self, inputs: Any, values: np.ndarray, shared: SharedArrays,
                full: bool) -> None:
        """Write the row's vector forward on the gathered inputs into ``values``.

        An invariant group fills column 0 only, unless some later group or an
        output reads its rows in full.
        """
        n = values.shape[1]
        if self.matrix is not None:
            out = values[self.rows]
            np.matmul(inputs[0], inputs[1], out=out)
            if self.matrix.biases is not None:
                out += self.matrix.read("b", shared)[:, None]
            return
        if self.summed:
            result = inputs.sum(axis=0)
        else:
            result = _call(self.row, "forward", self.row.vector, inputs)
        width = 1 if self.invariant else n
        shape = (self.size, width)
        if type(result) is not np.ndarray or result.shape != shape:
            try:
                result = np.broadcast_to(np.asarray(result, dtype=np.float64), shape)
            except ValueError as error:
                raise _array_error(self.row, "forward", error) from error
        if self.invariant and not full:
            values[self.rows, :1] = result
        else:
            values[self.rows] = result

    def backward(self, inputs: Any, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        """Add this group's contributions to its children's gradients."""
        if self.matrix is not None:
            self._backward_matrix(inputs, grads, shared, with_inputs)
            return
        shared_grads = shared.grad
        plan = self.plans[with_inputs]
        if plan.shared_entries is None and not plan.scatters and not plan.routes:
            return
        upstream = grads[self.rows]
        if self.invariant:
            upstream = upstream.sum(axis=1, keepdims=True)
            grads = grads[:, :1]
        n = upstream.shape[1]
        if self.summed:
            arity = len(inputs)
            if plan.routes is not None:
                try:
                    _follow(plan.routes, [1.0] * arity, upstream, grads, shared_grads)
                except (TypeError, ValueError) as error:
                    raise _array_error(self.row, "derivatives", error) from error
                return
            contributions = np.broadcast_to(upstream, (arity, *upstream.shape))
            if plan.positions is not None:
                contributions = contributions[plan.positions]
            contributions = contributions.reshape(-1, n)
        else:
            out = values[self.rows, :1] if self.invariant else values[self.rows]
            result = _call(self.row, "derivatives", self.row.derivatives, (*inputs, out))
            if not isinstance(result, (tuple, list)) or len(result) != len(inputs):
                raise _array_error(self.row, "derivatives", ValueError(
                    f"it returned {result!r:.80} instead of {len(inputs)} partial derivatives"))
            if plan.routes is not None:
                try:
                    _follow(plan.routes, result, upstream, grads, shared_grads)
                except (TypeError, ValueError) as error:
                    raise _array_error(self.row, "derivatives", error) from error
                return
            picked = result if plan.positions is None else [result[j] for j in plan.positions]
            partials = _stack(self.row, picked, (self.size, n))
            contributions = np.multiply(partials, upstream).reshape(-1, n)
        if plan.shared_targets is not None:
            sums = contributions[plan.shared_entries].sum(axis=1)
            if plan.shared_unique:
                shared_grads[plan.shared_targets] += sums
            else:
                shared_grads += np.bincount(plan.shared_targets, sums,
                                            minlength=len(shared_grads))
        for scatter in plan.scatters:
            part = contributions[scatter.entries]
            if scatter.m > 1:
                part = part.reshape(-1, scatter.m, n).sum(axis=1)
            grads[scatter.targets] += part

    def _backward_matrix(self, inputs: tuple[np.ndarray, np.ndarray], grads: np.ndarray,
                         shared: SharedArrays, with_inputs: bool) -> None:
        matrix = self.matrix
        assert matrix is not None
        W, X = inputs
        upstream = grads[self.rows]
        matrix.add_grad("W", shared, upstream @ X.T)
        if matrix.biases is not None:
            matrix.add_grad("b", shared, upstream.sum(axis=1))
        keep = matrix.input_keep[with_inputs]
        if keep is None:
            return
        input_grads = W.T @ upstream
        if isinstance(keep, tuple):
            positions, rows = keep
            grads[rows] += input_grads[positions]
        else:
            grads[matrix.inputs] += input_grads


def _follow(routes: tuple[Route, ...], partials: Sequence[Any], upstream: np.ndarray,
            grads: np.ndarray, shared_grads: np.ndarray) -> None:
    """Add partial * upstream along each route (summed over the batch for shared leaves)."""
    shape = upstream.shape
    for route in routes:
        partial = partials[route.position]
        contribution = upstream if type(partial) is float and partial == 1.0 else (
            partial * upstream)
        if type(contribution) is not np.ndarray or contribution.shape != shape:
            contribution = np.broadcast_to(contribution, shape)
        if route.shared:
            if route.uniform:
                shared_grads[route.targets] += contribution.sum()
            else:
                shared_grads[route.targets] += contribution.sum(axis=1)
        elif route.uniform:
            grads[route.targets] += contribution.sum(axis=0, keepdims=True)
        else:
            grads[route.targets] += contribution


def _matrix_dot(row: Op, rows: np.ndarray, shared: np.ndarray, uniform: np.ndarray,
                invariant: np.ndarray, layout: Layout) -> MatrixDot | None:
    """The dense-layer form of a group of a bilinear row, if it has one
    (see :class:`MatrixDot`).

    The row's own layout decides: ``row.bilinear`` (out = sum_i ws[i] * xs[i]),
    ``row.split`` into as many ws as xs, and ``row.bias`` for a last operand b.
    """
    if not row.bilinear:
        return None
    ws, xs, bias = row.split(range(rows.shape[0]))
    m = len(ws)
    if m == 0 or len(xs) != m or 2 * m + (bias is not None) != rows.shape[0]:
        return None
    biases = None
    if bias is not None:
        biases, rows = rows[bias], rows[:2 * m]
        if not layout.is_shared(biases).all():
            return None
    for w, x in ((slice(0, m), slice(m, 2 * m)), (slice(m, 2 * m), slice(0, m))):
        weights, inputs = rows[w], rows[x]
        if not (shared[w].all() and uniform[x].all() and layout.is_shared(weights).all()):
            continue
        children = inputs[:, 0]
        if invariant[children].any() or len(np.unique(children)) != m:
            continue
        keep: list[Any] = []
        for with_inputs in (False, True):
            needed = children >= (0 if with_inputs else layout.first_shared)
            if needed.all():
                keep.append(True)
            elif needed.any():
                positions = np.flatnonzero(needed)
                keep.append((positions, layout.row(children[positions])))
            else:
                keep.append(None)
        return MatrixDot(weights.T - layout.first_shared, as_rows(layout.row(children)),
                         (keep[0], keep[1]),
                         None if biases is None else biases - layout.first_shared)
    return None


def make_group(row: Op, nodes: slice, children: list[tuple[int, ...]], layout: Layout,
               invariant: np.ndarray) -> Group:
    """Plan a group: how to gather its inputs and where its gradients go.

    ``invariant[r]`` tells whether index r is the same for every example (a shared
    leaf, or a node computed from shared leaves only, such as an L2 term).
    """
    rows = np.array(children, dtype=np.intp).T.copy()
    shared = invariant[rows].all(axis=1)
    uniform = (rows == rows[:, :1]).all(axis=1)
    group_invariant = bool(shared.all())
    matrix = None if group_invariant else _matrix_dot(row, rows, shared, uniform, invariant,
                                                      layout)
    if matrix is not None:  # a dense layer needs no per-position reads or routes
        nothing = BackwardPlan(None, None, None, (), True, ())
        return Group(row, nodes, layout.row(nodes), rows, (), None, (nothing, nothing),
                     False, False, False, matrix)
    gathers = []
    for is_uniform in (False, True):
        for is_shared in (False, True):
            chosen = np.flatnonzero((uniform == is_uniform) & (shared == is_shared))
            if len(chosen):
                gathers.append(_gather(chosen, rows, is_uniform, is_shared, layout))
    sequence = [position for gather in gathers for position in gather.positions]
    order = None
    if sequence != sorted(sequence):
        order = [0] * len(sequence)
        for place, position in enumerate(sequence):
            order[position] = place
    plans = (_plan(rows, layout, False), _plan(rows, layout, True))
    interior_invariant = invariant & (np.arange(len(invariant)) >= layout.first_interior)
    reads_in_full = bool(interior_invariant[rows[~shared]].any())
    # the stacked sum: forward inputs.sum(axis=0), every partial 1. No row field says
    # "out = sum of the operands" yet, so this one still names its row.
    summed = row is SUM and len(gathers) == 1
    return Group(row, nodes, layout.row(nodes), rows, tuple(gathers), order, plans,
                 group_invariant, reads_in_full, summed, None)


def _call(row: Op, what: str, rule: Callable[..., Any], arguments: Sequence[Any]) -> Any:
    try:
        return rule(*arguments)
    except Exception as error:
        raise _array_error(row, what, error) from error


def _stack(row: Op, partials: Sequence[Any], shape: tuple[int, int]) -> np.ndarray:
    """The partials as one array that broadcasts to (len, k, n).

    Partials of one shape ((k, n), or (k, 1) and (1, n) from broadcast inputs) and
    plain floats (constant partials such as sum's 1.0) are stacked in one call;
    mixed ones are written into a full array.
    """
    if len(partials) == 1 and type(partials[0]) is np.ndarray and partials[0].ndim == 2:
        return partials[0][None]
    types = set(map(type, partials))
    if types == _ARRAY and len(set(map(_shape, partials))) == 1 and partials[0].ndim == 2:
        return np.concatenate(partials).reshape(len(partials), *partials[0].shape)
    if types == _FLOAT:
        return np.array(partials).reshape(len(partials), 1, 1)
    stacked = np.empty((len(partials), *shape))
    try:
        for j, partial in enumerate(partials):
            stacked[j] = partial
    except (TypeError, ValueError) as error:
        raise _array_error(row, "derivatives", error) from error
    return stacked


def _array_error(row: Op, what: str, error: Exception) -> TraceError:
    return TraceError(
        f"compile: the {what} of op {row.name!r} cannot run on NumPy arrays ({error}); "
        "write it with arithmetic and autograd_scalar's functions (exp, log, ...) "
        "instead of math.* or float(...), so that it works on floats and arrays alike")
