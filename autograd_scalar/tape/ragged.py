"""Ragged steps: one level's nodes of a stacked row, of many operand counts, as one stack.

The program groups a level's nodes by row and by operand count, so attention at
position t (a ``logsumexp`` over t + 1 scores, a ``dot`` of t + 1 weights with t + 1
values) makes one group per position: a GPT on names of 16 characters runs 32 small
groups per layer where PyTorch runs two masked products.

A row whose ``stacked`` form declares its neutral operands (``Op.stacked[2]``: -inf
for ``logsumexp``, -0.0 for ``sum``, -0.0 times 0.0 for ``dot``) lets them run as
one step. Every node's operands are gathered into one stack (operands, K, n) padded
at the end of each operand list with the neutral one, by one fancy index into the
values array, whose last rows hold the pads. The row's stacked forward then adds the
pads' terms after the real ones, and adding them changes nothing, to the bit:
x + (-0.0) = x for every x (zeros and infinities included), e^(-inf - m) = 0, and
-0.0 * 0.0 = -0.0. The rule's one call gives every partial; the pads' are never
sent anywhere (their places in the backward plan are -1, which no plan sends to),
so the real operands' gradients are the ones the groups alone would give.

Only groups whose every operand is a per-example node (an input or an op node that
is not made of shared leaves alone) are joined: those read by one gather.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import Op
from .cost import Costs
from .groups import BackwardPlan, array_error, backward_plan, call_rule, send, stacked_contributions
from .layout import Layout, SharedArrays, as_rows
from .products import finite, times
from .program import Program, ProgramGroup


def joinable(group: ProgramGroup, program: Program) -> bool:
    """Whether a program group may join a ragged step: a row with neutral operands, not
    invariant, every operand a per-example node."""
    stacked = group.row.stacked
    if stacked is None or not stacked[2] or group.invariant:
        return False
    children = group.children
    lists = len(stacked[2])
    if children.shape[0] % lists:
        return False
    per_example = (children < program.first_shared) | (children >= program.first_interior)
    return bool(per_example.all() and not program.invariant[children].any())


def ragged_pays(members: Sequence[ProgramGroup], n: int, model: Costs) -> bool:
    """Whether the cost model finds one padded stack of these groups (and the write of
    its pads) cheaper on a batch of n than the groups run apart: it saves their calls
    and pays for the pads' elements (a GPT's softmax over 4 heads pays; its weighted
    sums over 16 features, with twice the operands, do not)."""
    longest = max(group.children.shape[0] for group in members)
    size = sum(group.size for group in members)
    apart = sum(model.grouped(group.size, group.children.shape[0], n, True)
                for group in members)
    return model.grouped(size, longest, n, True) + model.group < apart


@dataclass(frozen=True)
class Ragged:
    """Program groups of one level and one row (``members``), run as one padded stack.

    ``rows``: the nodes' rows, in the stack's order; ``index`` (operands, K): the rows
    the stack reads, the pads' among them; ``pads``: the rows that hold the pads and
    ``numbers`` their values, (lists, 1); ``plans``: the backward's (without and with
    the inputs' gradients) over the padded operands, -1 at the pads.
    """

    row: Op
    members: tuple[int, ...]
    rows: Any
    index: np.ndarray
    pads: slice
    numbers: np.ndarray
    plans: tuple[BackwardPlan, BackwardPlan]
    first: int
    last: int

    strategy = "ragged"

    @property
    def size(self) -> int:
        return int(self.index.shape[1])

    def owned_rows(self, with_inputs: bool) -> list[Any]:
        """Rows this step assigns rather than adds to (none: it always adds)."""
        return []

    def run(self, values: np.ndarray, shared: SharedArrays, full: bool,
            batch: Sequence[np.ndarray], everything: bool = False) -> np.ndarray:
        """Write the pads, gather the stack, write the row's forward; the stack is kept for
        the backward."""
        assert self.row.stacked is not None
        values[self.pads] = self.numbers
        stack = values[self.index]
        result = call_rule(self.row, "forward", self.row.stacked[0], (stack,))
        shape = (self.size, values.shape[1])
        if type(result) is not np.ndarray or result.shape != shape:
            try:
                result = np.broadcast_to(np.asarray(result, dtype=values.dtype), shape)
            except ValueError as error:
                raise array_error(self.row, "forward", error) from error
        values[self.rows] = result
        return stack

    def backward(self, stack: np.ndarray, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        """Add the real operands' contributions to their gradients (the pads' go nowhere)."""
        plan = self.plans[with_inputs]
        if not plan.scatters:
            return
        upstream = grads[self.rows]
        multiply = np.multiply if finite(upstream) else times
        contributions = stacked_contributions(self.row, stack, values[self.rows], upstream,
                                              plan, multiply)
        send(plan, contributions, grads, shared.grad)


def make_ragged(groups: Sequence[int], program: Program, layout: Layout, pad_row: int
                ) -> Ragged:
    """The ragged step of program groups ``groups`` (one level, one row, each
    :func:`joinable`), its pads in the rows from ``pad_row`` on."""
    members = [program.groups[g] for g in groups]
    row = members[0].row
    assert row.stacked is not None
    neutral = row.stacked[2]
    lists = len(neutral)
    longest = max(group.children.shape[0] // lists for group in members)
    size = sum(group.size for group in members)
    children = np.full((lists * longest, size), -1, dtype=np.intp)
    start = 0
    for group in members:
        count = group.children.shape[0] // lists
        for j in range(lists):
            children[j * longest:j * longest + count, start:start + group.size] = \
                group.children[j * count:(j + 1) * count]
        start += group.size
    index = np.repeat(pad_row + np.arange(lists), longest)[:, None].repeat(size, axis=1)
    real = children >= 0
    index[real] = layout.row(children[real])
    nodes = np.concatenate([np.arange(group.nodes.start, group.nodes.stop)
                            for group in members])
    return Ragged(row, tuple(groups), as_rows(layout.row(nodes)), index,
                  slice(pad_row, pad_row + lists),
                  np.array(neutral, dtype=np.float64)[:, None],
                  (backward_plan(children, layout, False, True),
                   backward_plan(children, layout, True, True)),
                  int(nodes.min()), int(nodes.max()))
