"""The groups of a compiled tape: like nodes of one level, run by one vectorized call.

The tape keeps the value of every per-example node for every example in one
array of shape (rows, n): first the placeholders (per-example inputs), then the
interior nodes, group after group, so each group's nodes are one contiguous run
of rows. The shared leaves (parameters and constants, the same for every
example) live in the 1-D arrays of :class:`~autograd_scalar.tape.layout.SharedArrays`
and are never copied per example (see :mod:`autograd_scalar.tape.layout`).

A group gathers its children position by position: a position whose children are
all shared leaves is gathered as a (k, 1) column that broadcasts against the
batch, so a weight is never copied once per example. The backward multiplies the
row's partial derivatives by the upstream gradient and sends each contribution to
its child: summed over the batch at once for a shared leaf (a 1-D accumulator),
row by row for a per-example node. Contributions to placeholders are skipped
unless the gradients with respect to the inputs are asked for. When each position
sends its contributions to distinct children (the usual case), they go position
by position (a :class:`Route`); otherwise they are stacked and scattered.

A row with a ``stacked`` form (``sum``, ``dot``, ``logsumexp``) whose positions
are all gathered alike is read as one array (operands, k, n): its forward is one
call, its rule one call giving every partial, and the contributions go back by
one planned scatter, however many operands (an L2 term's sum over every weight).
A group with a matrix form keeps it here (``matrix``) and runs as a step of
:mod:`autograd_scalar.tape.dense`; a group with a lookup form (``lookup``, an
``index`` row's, :mod:`autograd_scalar.tape.lookup`) runs it in place of its row's
forward and rule.

As in the eager chain rule (:mod:`autograd_scalar.backward`), a zero partial
derivative contributes exactly zero, even against an infinite or NaN upstream
gradient (where IEEE gives 0 * inf = NaN): see :mod:`autograd_scalar.tape.products`.
The products are computed as usual, and mended only when the upstream gradient is
not all finite.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import Op
from .layout import Layout, Read, SharedArrays, as_rows, distinct
from .lookup import Lookup, Selected, lookup_form
from .matrix import MatrixDot, matrix_dot
from .products import finite, times
from .program import TraceError

_ARRAY = {np.ndarray}
_FLOAT = {float}
_shape = operator.attrgetter("shape")


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
    k contributions are summed first. ``m`` > 1: every per-example target is read
    by exactly m of the nodes (a token's scale read by each of its features); the
    contributions, taken in ``order`` (None: as they are) so that each target's m
    are adjacent, are summed m at a time into the targets in increasing order.
    """

    position: int
    targets: Any
    shared: bool
    uniform: bool
    m: int = 1
    order: Any = None


def _repeated(targets: np.ndarray) -> tuple[Any, int, Any] | None:
    """(distinct targets, m, order) when every target appears exactly m times: ``order``
    sorts the nodes by target, stably (None when they already are); None otherwise."""
    order = np.argsort(targets, kind="stable")
    unique, counts = np.unique(targets[order], return_counts=True)
    if (counts != counts[0]).any():
        return None
    in_order = bool((order == np.arange(len(order))).all())
    return as_rows(unique), int(counts[0]), None if in_order else as_rows(order)


def _routes(children: np.ndarray, layout: Layout, with_inputs: bool
            ) -> tuple[Route, ...] | None:
    """One route per needed position, or None if some position needs the general scatter
    (children met unequally often in one position, a shared leaf met twice in one, or
    shared leaves mixed with other nodes)."""
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
        elif distinct(targets):
            routes.append(Route(position, as_rows(targets), shared, False))
        elif not shared and (repeated := _repeated(targets)) is not None:
            routes.append(Route(position, repeated[0], False, False, repeated[1], repeated[2]))
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
    picked: Any = None  # ``positions`` as a slice when they are a run (else the list)


def backward_plan(children: np.ndarray, layout: Layout, with_inputs: bool, scatter: bool
          ) -> BackwardPlan:
    """The plan; ``scatter`` plans the stacked scatter even where routes would do, and
    no routes (a stacked row's partials are one array: one scatter beats a route per
    position)."""
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
    routes = () if scatter else _routes(children, layout, with_inputs)
    if len(example_entries) and (routes is None or scatter):
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
    unique = distinct(shared_targets)
    return BackwardPlan(
        None if len(positions) == arity else positions.tolist(),
        as_rows(shared_entries) if len(shared_entries) else None,
        (as_rows(shared_targets) if unique else shared_targets) if len(shared_entries)
        else None,
        tuple(scatters), unique, routes,
        None if len(positions) == arity else as_rows(positions))


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
    stacked: tuple[Callable[[Any], Any], Callable[[Any, Any], Any], tuple[float, ...]] | None
    matrix: MatrixDot | None
    lookup: Lookup | None = None

    @property
    def size(self) -> int:
        return self.nodes.stop - self.nodes.start

    @property
    def strategy(self) -> str:
        """How the group runs: "matrix" (a dense layer, see :mod:`autograd_scalar.tape.dense`),
        "lookup" (an ``index`` row as fancy indexing, see :mod:`autograd_scalar.tape.lookup`),
        "stacked" (the row's ``stacked`` form on one stacked array), "once"
        (invariant) or "elementwise" (the row's vector forward and rule)."""
        if self.matrix is not None:
            return "matrix"
        if self.lookup is not None:
            return "lookup"
        if self.stacked:
            return "stacked"
        return "once" if self.invariant else "elementwise"

    def gather(self, values: np.ndarray, shared: SharedArrays) -> Any:
        """The children's values, one array per input position.

        (k, n) in general; (k, 1) where all are the same in every column (shared
        leaves and what is made of them only) and (1, n) where all k nodes use the
        same child. A row with a ``stacked`` form read through one gather gets one
        stacked array (operands, k|1, n|1).
        """
        data = shared.data
        if len(self.gathers) == 1:
            if self.stacked:
                return self.gathers[0].take(values, data)
            return self.gathers[0].pieces(values, data)
        parts = [part for gather in self.gathers for part in gather.pieces(values, data)]
        return parts if self.order is None else [parts[i] for i in self.order]

    def owned_rows(self, with_inputs: bool) -> list[Any]:
        """Rows this group assigns rather than adds to (none: it always adds)."""
        return []

    def run(self, values: np.ndarray, shared: SharedArrays, full: bool,
            batch: Sequence[np.ndarray], everything: bool = False) -> Any:
        """Gather, then forward; the gathered inputs are kept for the backward
        (``everything``: a group always writes all its nodes' values). A group with
        a lookup form keeps its selection instead, unless some index is out of range:
        the row's own forward then runs (and raises)."""
        if self.lookup is not None:
            found = self.lookup.forward(values, shared.data, 1 if self.invariant else
                                        values.shape[1])
            if found is not None:
                self._write(found[0], values, full)
                return found[1]
        inputs = self.gather(values, shared)
        self.forward(inputs, values, shared, full)
        return inputs

    def forward(self, inputs: Any, values: np.ndarray, shared: SharedArrays,
                full: bool) -> None:
        """Write the row's vector forward on the gathered inputs into ``values``.

        An invariant group fills column 0 only, unless some later group or an
        output reads its rows in full.
        """
        n = values.shape[1]
        if self.stacked:
            result = call_rule(self.row, "forward", self.stacked[0], (inputs,))
        else:
            result = call_rule(self.row, "forward", self.row.vector, inputs)
        width = 1 if self.invariant else n
        shape = (self.size, width)
        if type(result) is not np.ndarray or result.shape != shape:
            try:
                result = np.broadcast_to(np.asarray(result, dtype=np.float64), shape)
            except ValueError as error:
                raise array_error(self.row, "forward", error) from error
        self._write(result, values, full)

    def _write(self, result: np.ndarray, values: np.ndarray, full: bool) -> None:
        """values[rows] = result (k, n), or (k, 1) for an invariant group: column 0
        only, unless some later group or an output reads its rows in full."""
        if self.invariant and not full:
            values[self.rows, :1] = result
        else:
            values[self.rows] = result

    def backward(self, inputs: Any, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        """Add this group's contributions to its children's gradients."""
        shared_grads = shared.grad
        plan = self.plans[with_inputs]
        if plan.shared_entries is None and not plan.scatters and not plan.routes:
            return
        upstream = grads[self.rows]
        if self.invariant:
            upstream = np.add.reduce(upstream, axis=1, keepdims=True)
            grads = grads[:, :1]
        if type(inputs) is Selected:
            self.lookup.backward(inputs, upstream, grads, shared_grads,  # type: ignore[union-attr]
                                 with_inputs)
            return
        n = upstream.shape[1]
        out = values[self.rows, :1] if self.invariant else values[self.rows]
        multiply = np.multiply if finite(upstream) else times
        if self.stacked:
            contributions = stacked_contributions(self.row, inputs, out, upstream, plan,
                                                  multiply)
        else:
            result = call_rule(self.row, "derivatives", self.row.derivatives, (*inputs, out))
            if not isinstance(result, (tuple, list)) or len(result) != len(inputs):
                raise array_error(self.row, "derivatives", ValueError(
                    f"it returned {result!r:.80} instead of {len(inputs)} partial derivatives"))
            if plan.routes is not None:
                try:
                    _follow(plan.routes, result, upstream, grads, shared_grads, multiply)
                except (TypeError, ValueError) as error:
                    raise array_error(self.row, "derivatives", error) from error
                return
            picked = result if plan.positions is None else [result[j] for j in plan.positions]
            partials = _stack(self.row, picked, (self.size, n))
            contributions = multiply(partials, upstream).reshape(-1, n)
        send(plan, contributions, grads, shared_grads)


def stacked_contributions(row: Op, stack: np.ndarray, out: np.ndarray, upstream: np.ndarray,
                          plan: BackwardPlan, multiply: Callable[[Any, Any], Any]
                          ) -> np.ndarray:
    """A stacked row's partials (its rule's one call on ``stack``, (arity, k|1, n|1))
    times the upstream gradient (k, n): the needed positions' contributions as rows."""
    assert row.stacked is not None
    arity = len(stack)
    k, n = upstream.shape
    partials = call_rule(row, "derivatives", row.stacked[1], (stack, out))
    if type(partials) is np.ndarray and partials.shape == (arity, k, n):
        if plan.picked is not None:  # only the needed positions' partials
            partials = partials[plan.picked]
        return multiply(partials, upstream).reshape(-1, n)
    try:
        contributions = np.broadcast_to(multiply(partials, upstream), (arity, k, n))
    except ValueError as error:
        raise array_error(row, "derivatives", error) from error
    if plan.picked is not None:
        contributions = contributions[plan.picked]
    return contributions.reshape(-1, n)


def send(plan: BackwardPlan, contributions: np.ndarray, grads: np.ndarray,
         shared_grads: np.ndarray) -> None:
    """Add the contributions (rows, n) where ``plan`` says: summed over the batch into the
    shared leaves' gradients, and scattered onto the per-example gradient rows."""
    if plan.shared_targets is not None:
        sums = np.add.reduce(contributions[plan.shared_entries], axis=1)
        if plan.shared_unique:
            shared_grads[plan.shared_targets] += sums
        else:
            shared_grads += np.bincount(plan.shared_targets, sums, minlength=len(shared_grads))
    for scatter in plan.scatters:
        part = contributions[scatter.entries]
        if scatter.m > 1:
            part = np.add.reduce(part.reshape(-1, scatter.m, part.shape[1]), axis=1)
        grads[scatter.targets] += part


def _follow(routes: tuple[Route, ...], partials: Sequence[Any], upstream: np.ndarray,
            grads: np.ndarray, shared_grads: np.ndarray,
            multiply: Callable[[Any, Any], Any] = np.multiply) -> None:
    """Add partial * upstream along each route (summed over the batch for shared leaves);
    ``multiply`` is :func:`times` when the upstream gradient is not all finite."""
    shape = upstream.shape
    for route in routes:
        partial = partials[route.position]
        contribution = upstream if type(partial) is float and partial == 1.0 else (
            multiply(partial, upstream))
        if type(contribution) is not np.ndarray or contribution.shape != shape:
            contribution = np.broadcast_to(contribution, shape)
        if route.shared:
            if route.uniform:
                shared_grads[route.targets] += np.add.reduce(contribution, axis=None)
            else:
                shared_grads[route.targets] += np.add.reduce(contribution, axis=1)
        elif route.uniform:
            grads[route.targets] += np.add.reduce(contribution, axis=0, keepdims=True)
        elif route.m > 1:
            if route.order is not None:
                contribution = contribution[route.order]
            grads[route.targets] += np.add.reduce(
                contribution.reshape(-1, route.m, shape[1]), axis=1)
        else:
            grads[route.targets] += contribution


def make_group(row: Op, nodes: slice, rows: np.ndarray, layout: Layout,
               invariant: np.ndarray) -> Group:
    """Plan a group: how to gather its inputs ``rows`` (operands, k) and where its
    gradients go.

    ``invariant[r]`` tells whether index r is the same for every example (a shared
    leaf, or a node computed from shared leaves only, such as an L2 term).
    """
    shared, uniform = _read_kinds(rows, invariant)
    group_invariant = bool(shared.all())
    matrix = None if group_invariant else matrix_dot(row, rows, shared, uniform, invariant,
                                                      layout)
    if matrix is not None:  # a dense layer needs no per-position reads or routes
        nothing = BackwardPlan(None, None, None, (), True, ())
        return Group(row, nodes, layout.row(nodes), rows, (), None, (nothing, nothing),
                     False, False, None, matrix)
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
    stacked = row.stacked if len(gathers) == 1 else None  # one gather: runs_stacked
    plans = (backward_plan(rows, layout, False, stacked is not None),
             backward_plan(rows, layout, True, stacked is not None))
    interior_invariant = invariant & (np.arange(len(invariant)) >= layout.first_interior)
    reads_in_full = bool(interior_invariant[rows[~shared]].any())
    return Group(row, nodes, layout.row(nodes), rows, tuple(gathers), order, plans,
                 group_invariant, reads_in_full, stacked, None,
                 lookup_form(row, rows, invariant, layout))


def _read_kinds(rows: np.ndarray, invariant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per operand position: whether it reads only invariant indices (shared leaves and
    what is made of them), and whether every node reads the same index there."""
    return invariant[rows].all(axis=1), (rows == rows[:, :1]).all(axis=1)


def runs_stacked(row: Op, rows: np.ndarray, invariant: np.ndarray) -> bool:
    """Whether a group of ``row`` over operands ``rows`` runs through the row's stacked
    form: the row has one and every position is read alike (one gather in
    :func:`make_group`), as the cost model needs to know before any group is made."""
    if row.stacked is None:
        return False
    shared, uniform = _read_kinds(rows, invariant)
    return bool((shared == shared[0]).all() and (uniform == uniform[0]).all())


def call_rule(row: Op, what: str, rule: Callable[..., Any], arguments: Sequence[Any],
              running: bool = True) -> Any:
    """``rule(*arguments)`` of ``row`` on arrays whose last axis is the batch's examples.

    Its errors: the rule cannot run on arrays (:func:`array_error`), found as the trace
    checks each row (``running`` False); or, once it has run on the traced example, a
    ValueError or ArithmeticError raised at a run is a number of the batch outside the
    op's domain (an index out of range, a custom op's log of -1): a ValueError naming
    the first example that raises alone."""
    try:
        return rule(*arguments)
    except Exception as error:
        if running and isinstance(error, (ValueError, ArithmeticError)):
            if what == "forward":  # as the eager graph retries it: 1 / 0 is inf there
                found = _in_ieee(rule, arguments)
                if found is not None:
                    return found
            example = _first_failing(rule, arguments)
            where = "" if example is None else f"at example {example} of the batch, "
            said = str(error)
            named = said if said.startswith(f"{row.name}:") else f"{row.name}: {said}"
            refused = ValueError(f"{named} ({where}in its {what}; the traced example was "
                                 "inside the op's domain)")
            refused.batch_example = example  # type: ignore[attr-defined]  # for callers
            raise refused from error
        raise array_error(row, what, error) from error


def _in_ieee(rule: Callable[..., Any], arguments: Sequence[Any]) -> Any:
    """``rule`` (a Function's forward, element by element) on the arguments' numbers as
    NumPy scalars, where 1 / 0 is inf and not an exception, as the eager graph's
    :func:`~autograd_scalar.ops.ieee` retries it; None if it still raises there (a
    number outside the op's domain, which the caller names)."""
    as_numpy = np.frompyfunc(np.float64, 1, 1)
    try:
        with np.errstate(all="ignore"):
            return rule(*(as_numpy(a) if isinstance(a, np.ndarray) else np.float64(a)
                          for a in arguments))
    except (ValueError, ArithmeticError):
        return None


def _first_failing(rule: Callable[..., Any], arguments: Sequence[Any]) -> int | None:
    """The first example (index along the arrays' last axis) on which ``rule`` raises,
    or None if the arrays disagree on their examples or none is found: by bisection,
    running the rule on the first half of the examples left, about log2(n) calls on
    halves of the arrays (an example raises alone as in any range that holds it)."""
    widths = {a.shape[-1] for a in arguments if isinstance(a, np.ndarray) and a.ndim >= 2}
    widths.discard(1)
    if len(widths) != 1:
        return None
    n = widths.pop()

    def raises(start: int, stop: int) -> bool:
        try:
            rule(*(a[..., start:stop] if isinstance(a, np.ndarray) and a.ndim >= 2
                   and a.shape[-1] == n else a for a in arguments))
        except Exception:
            return True
        return False

    start, stop = 0, n  # a range that raises, as the whole batch did
    while stop - start > 1:
        middle = (start + stop) // 2
        if raises(start, middle):
            stop = middle
        else:
            start = middle
    return start if raises(start, stop) else None


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
        raise array_error(row, "derivatives", error) from error
    return stacked


def array_error(row: Op, what: str, error: Exception) -> TraceError:
    return TraceError(
        f"compile: the {what} of op {row.name!r} cannot run on NumPy arrays ({error}); "
        "write it with arithmetic and autograd_scalar's functions (exp, log, ...) "
        "instead of math.* or float(...), so that it works on floats and arrays alike")
