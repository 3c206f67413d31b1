"""The lookup form of a tape group: an ``index`` row's group as fancy indexing.

A row declaring ``index`` (``gather``) takes operands v_0, ..., v_{V-1} and an
integer k that selects among them: out = v_k, with d out / d v_i = [i == k] and
d out / d k = 0. A group of k nodes of such a row, each with V values (a table
row ``table[j]``) and an index K_j per example, runs as

    forward     out[j, c] = v[table[j, K[j, c]]]           one fancy index
    backward    grad[table[j, K[j, c]]] += U[j, c]         one scatter

instead of forming the V one-hot partials of every node. The unselected values
get nothing, which is what their zero partial sends in the eager chain rule even
against an infinite or NaN upstream gradient; the index gets nothing too.

Two tables have the form: all values shared leaves (an embedding table's column:
``v`` is the shared data, the backward one ``bincount`` over the table's leaves),
or all values per-example nodes read in every column (a sequence's logits, the
target's picked: ``v`` is the values array at column c). A batch holding an index
that is not an integer from 0 to V - 1 runs the row's own forward and rule
instead, and so gets the row's own error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import Op
from .layout import Layout, Read, distinct


@dataclass(frozen=True)
class Selected:
    """What a lookup forward keeps for its backward: the selected entries of the table
    ``picked`` (k, w), and their columns ``columns`` (1, w) for a per-example table."""

    picked: np.ndarray
    columns: np.ndarray | None


@dataclass(frozen=True)
class Lookup:
    """A group of an ``index`` row as fancy indexing (see the module docstring).

    ``table`` (k, V): shared-leaf positions (``shared``) or per-example rows of each
    node's values; ``local`` (k, V): each entry's place among the table's distinct
    leaves ``leaves`` (shared tables), for the backward's bincount; ``unique``: no
    row appears twice in a per-example table (then ``+=`` is a safe scatter);
    ``input_rows``: for a per-example table holding placeholders (the function's
    inputs), a mask over rows, True at theirs: their gradients are written only when
    asked for (``with_inputs``); ``index``: how to read the indices, (k, n) or (k, 1).
    """

    table: np.ndarray
    shared: bool
    local: np.ndarray | None
    leaves: Any
    unique: bool
    input_rows: np.ndarray | None
    index: Read

    def forward(self, values: np.ndarray, data: np.ndarray, width: int
                ) -> tuple[np.ndarray, Selected] | None:
        """out (k, width) and what the backward keeps; None if some index is not an
        integer from 0 to V - 1. ``width``: the columns computed (1 for an invariant
        group, whose ``values`` are then column 0)."""
        K = self.index(values, data)
        if K.shape[1] != width:
            K = np.broadcast_to(K, (K.shape[0], width))
        selection = K.astype(np.intp)
        if not ((selection == K) & (selection >= 0) & (selection < self.table.shape[1])).all():
            return None
        nodes = np.arange(self.table.shape[0])[:, None]
        if self.shared:
            picked = self.local[nodes, selection]  # type: ignore[index]
            return data[self.leaves][picked], Selected(picked, None)
        rows = self.table[nodes, selection]
        columns = np.arange(width)[None, :]
        return values[rows, columns], Selected(rows, columns)

    def backward(self, selected: Selected, upstream: np.ndarray, grads: np.ndarray,
                 shared_grads: np.ndarray, with_inputs: bool) -> None:
        """Add U to the selected entries: summed over the batch for shared leaves."""
        if self.shared:
            sums = np.bincount(selected.picked.ravel(), upstream.ravel(),
                               minlength=len(self.leaves))
            shared_grads[self.leaves] += sums
            return
        rows, columns = selected.picked, selected.columns
        assert columns is not None  # a per-example table keeps its columns
        if self.input_rows is not None and not with_inputs:
            # placeholders whose gradient is not asked for get nothing (rows are not in
            # node order: a computed node's row may come before an input's)
            wanted = ~self.input_rows[rows]
            if not wanted.all():
                columns = np.broadcast_to(columns, rows.shape)[wanted]
                rows, upstream = rows[wanted], upstream[wanted]
        if self.unique:
            grads[rows, columns] += upstream
        else:
            np.add.at(grads, (rows, columns), upstream)


def lookup_form(row: Op, rows: np.ndarray, invariant: np.ndarray, layout: Layout
                ) -> Lookup | None:
    """The lookup form of a group of an ``index`` row ``rows`` (operands, k), if it has one:
    values all shared leaves, or all per-example nodes none of which is the same for
    every example (see the module docstring)."""
    if not row.index or rows.shape[0] < 2:
        return None
    table = rows[:-1].T
    indices = rows[-1]
    one_column = bool(invariant[indices].all())
    index = layout.reader(indices, one_column)
    if layout.is_shared(table).all():
        leaves, local = np.unique(table - layout.first_shared, return_inverse=True)
        return Lookup(table, True, local.reshape(table.shape), leaves, True, None, index)
    if invariant[table].any():
        return None
    rows = layout.row(table)
    inputs = table < layout.first_shared
    input_rows = None
    if inputs.any():
        input_rows = np.zeros(int(rows.max()) + 1, dtype=bool)
        input_rows[rows[inputs]] = True
    return Lookup(rows, False, None, None, distinct(table), input_rows, index)
