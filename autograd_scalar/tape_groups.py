"""The groups of a compiled tape: like nodes of one level, run by one vectorized call.

The tape keeps the value of every node for every example in one array of shape
(nodes, n): first the placeholders (per-example inputs), then the shared leaves
(parameters and constants, the same in every column), then the interior nodes,
group after group, so each group's nodes are one contiguous run of rows.

A group gathers its children position by position: a position whose children are
all shared leaves is gathered as a (k, 1) column that broadcasts against the
batch, so a weight is never copied once per example. The backward multiplies the
row's partial derivatives by the upstream gradient and sends each contribution to
its child: summed over the batch at once for a shared leaf (a 1-D accumulator),
row by row for a per-example node. Contributions to placeholders are skipped
unless the gradients with respect to the inputs are asked for.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .ops import Op

_ARRAY = {np.ndarray}
_FLOAT = {float}
_shape = operator.attrgetter("shape")


class TraceError(TypeError):
    """The function cannot be compiled (bad example, bad output, a row that needs floats)."""


def _as_rows(indices: np.ndarray) -> Any:
    """A slice when the indices are a contiguous increasing run (no fancy-index copy)."""
    n = len(indices)
    if n and indices[0] >= 0 and np.array_equal(indices, np.arange(indices[0], indices[0] + n)):
        return slice(int(indices[0]), int(indices[0]) + n)
    return indices


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
class BackwardPlan:
    """Which partials a group needs, and where their contributions go."""

    positions: list[int] | None
    shared_entries: Any
    shared_targets: Any
    scatters: tuple[Scatter, ...]


def _plan(children: np.ndarray, first_shared: int, first_interior: int,
          with_inputs: bool) -> BackwardPlan:
    arity = children.shape[0]
    lowest = 0 if with_inputs else first_shared
    needed = (children >= lowest).any(axis=1)
    positions = np.flatnonzero(needed)
    kept = children[positions].ravel()
    entries = np.arange(len(kept))
    is_shared = (kept >= first_shared) & (kept < first_interior)
    is_example = (kept >= lowest) & ~is_shared
    shared_entries = entries[is_shared]
    scatters = []
    example_entries = entries[is_example]
    if len(example_entries):
        targets_all = kept[example_entries]
        order = np.argsort(targets_all, kind="stable")
        targets, starts, counts = np.unique(targets_all[order], return_index=True,
                                            return_counts=True)
        for m in np.unique(counts).tolist():
            chosen = counts == m
            rows = (starts[chosen][:, None] + np.arange(m)[None, :]).ravel()
            scatters.append(Scatter(_as_rows(targets[chosen]),
                                    _as_rows(example_entries[order[rows]]), m))
    return BackwardPlan(
        None if len(positions) == arity else positions.tolist(),
        _as_rows(shared_entries) if len(shared_entries) else None,
        kept[shared_entries] - first_shared if len(shared_entries) else None,
        tuple(scatters))


@dataclass(frozen=True)
class Gather:
    """Input positions gathered alike: ``values[rows]`` then cut to (k|1, n|1)."""

    positions: list[int]
    rows: np.ndarray
    uniform: bool
    shared: bool

    def take(self, values: np.ndarray) -> np.ndarray:
        rows = self.rows[:, :1] if self.uniform else self.rows
        return values[rows, :1] if self.shared else values[rows]


@dataclass(frozen=True)
class Group:
    """Nodes of one level made by one row (and, for n-ary rows, of one length)."""

    row: Op
    nodes: slice
    children: np.ndarray
    gathers: tuple[Gather, ...]
    order: list[int] | None
    plans: tuple[BackwardPlan, BackwardPlan]
    first_shared: int
    first_interior: int

    @property
    def reads_shared_in_full(self) -> bool:
        """Whether some input position mixes shared leaves with per-example nodes."""
        return any(not g.shared and bool(((g.rows >= self.first_shared)
                                          & (g.rows < self.first_interior)).any())
                   for g in self.gathers)

    @property
    def size(self) -> int:
        return self.nodes.stop - self.nodes.start

    def gather(self, values: np.ndarray) -> Sequence[np.ndarray]:
        """The children's values, one array per input position.

        (k, n) in general; (k, 1) where all are the same in every column (shared
        leaves and what is made of them only) and (1, n) where all k nodes use the
        same child.
        """
        if len(self.gathers) == 1:
            return tuple(self.gathers[0].take(values))
        parts = [part for gather in self.gathers for part in gather.take(values)]
        return parts if self.order is None else [parts[i] for i in self.order]

    def forward(self, inputs: Sequence[np.ndarray], n: int) -> np.ndarray:
        """The row's vector forward on the gathered inputs, as (k, n)."""
        shape = (self.size, n)
        result = _call(self.row, "forward", self.row.vector, inputs)
        if type(result) is np.ndarray and result.shape == shape:
            return result
        try:
            return np.broadcast_to(np.asarray(result, dtype=np.float64), shape)
        except ValueError as error:
            raise _array_error(self.row, "forward", error) from error

    def backward(self, inputs: Sequence[np.ndarray], values: np.ndarray, grads: np.ndarray,
                 shared_grads: np.ndarray, with_inputs: bool) -> None:
        """Add this group's contributions to its children's gradients."""
        plan = self.plans[with_inputs]
        if plan.shared_entries is None and not plan.scatters:
            return
        n = values.shape[1]
        result = _call(self.row, "derivatives", self.row.derivatives,
                       (*inputs, values[self.nodes]))
        if not isinstance(result, (tuple, list)) or len(result) != len(inputs):
            raise _array_error(self.row, "derivatives", ValueError(
                f"it returned {result!r:.80} instead of {len(inputs)} partial derivatives"))
        picked = result if plan.positions is None else [result[j] for j in plan.positions]
        partials = _stack(self.row, picked, (self.size, n))
        contributions = np.multiply(partials, grads[self.nodes]).reshape(-1, n)
        if plan.shared_targets is not None:
            sums = contributions[plan.shared_entries].sum(axis=1)
            shared_grads += np.bincount(plan.shared_targets, sums,
                                        minlength=len(shared_grads))
        for scatter in plan.scatters:
            part = contributions[scatter.entries]
            if scatter.m > 1:
                part = part.reshape(-1, scatter.m, n).sum(axis=1)
            grads[scatter.targets] += part


def make_group(row: Op, nodes: slice, children: list[tuple[int, ...]], first_shared: int,
               first_interior: int, invariant: np.ndarray) -> Group:
    """Plan a group: how to gather its inputs and where its gradients go.

    ``invariant[r]`` tells whether row r is the same for every example (a shared
    leaf, or a node computed from shared leaves only, such as an L2 term).
    """
    rows = np.array(children, dtype=np.intp).T.copy()
    shared = invariant[rows].all(axis=1)
    uniform = (rows == rows[:, :1]).all(axis=1)
    gathers = []
    for is_uniform in (False, True):
        for is_shared in (False, True):
            chosen = np.flatnonzero((uniform == is_uniform) & (shared == is_shared))
            if len(chosen):
                gathers.append(Gather(chosen.tolist(), rows[chosen], is_uniform, is_shared))
    sequence = [position for gather in gathers for position in gather.positions]
    order = None
    if sequence != sorted(sequence):
        order = [0] * len(sequence)
        for place, position in enumerate(sequence):
            order[position] = place
    plans = (_plan(rows, first_shared, first_interior, False),
             _plan(rows, first_shared, first_interior, True))
    return Group(row, nodes, rows, tuple(gathers), order, plans, first_shared, first_interior)


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
