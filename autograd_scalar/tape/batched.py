"""Batched products: a level's dots over per-example operands as one matrix product each way.

Attention makes dots whose two operand lists are both per-example nodes: the scores
q_t . k_s of each head, and the weighted sums sum_s w_ts v_s of each feature. Grouped,
they are many small stacked groups (one per position, for the weighted sums); they
are the entries of matrix products, which PyTorch runs as one batched product.

The nodes of such a level fall into blocks: in block b, node (p, q) is
``dot(A[p, :m_p], B[:m_p, q])``, row p of a (P, S) matrix A of nodes as far as its
length m_p, and the same first m_p entries of column q of an (S, Q) matrix B. Each
node's first operand list names its row (nodes with the same list share it); the
first operand of its second list names its column, whose nodes' lists must be
prefixes of the longest. A step takes a level's blocks of one shape (P, S, Q), with
P, Q >= 2 and at least half of each grid's entries nodes, and runs, for a batch of
n as (n, blocks, P, S) @ (n, blocks, S, Q)::

    forward    C = A B
    backward   dA = dC B^T,  dB = A^T dC       (dC = 0 where (p, q) is no node)

An entry of A past a row's length (or of B past a column's) reads a pad row that
holds 0.0; dA's entries there are dropped.

The products add the same terms as the dots, in another order (to rounding, as a
dense layer's are). A pad's 0 times an entry of B that is infinite or NaN would give
NaN where the dot has no such term, so the forward runs the products only when A
and B are all finite, and the member groups as they run alone otherwise; the
backward likewise takes the groups' careful path (a zero partial passes nothing,
:func:`~autograd_scalar.tape.products.times`) when dC is not all finite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import DOT
from .groups import Group
from .layout import Layout, SharedArrays, add_at, as_rows, distinct
from .products import finite
from .program import Program, ProgramGroup
from .ragged import joinable

SMALLEST_FILL = 0.5
"""The least share of a block's P x Q entries that must be nodes, and of A's P x S
entries that must be operands rather than pads (attention's causal scores, and its
weights, fill (T + 1) / 2T of theirs)."""


@dataclass(frozen=True)
class Blocks:
    """A level's dots as blocks of one shape (see the module docstring), as indices.

    ``a`` (blocks, P, S) and ``b`` (blocks, S, Q): the operands, -1 where a pad is read;
    ``nodes`` (blocks, P, Q): each entry's node, -1 where there is none.
    """

    members: tuple[int, ...]
    a: np.ndarray
    b: np.ndarray
    nodes: np.ndarray


def find_blocks(groups: Sequence[int], program: Program) -> Blocks | None:
    """The blocks that ``groups`` (program groups of one level of ``dot`` nodes, each
    :func:`may_be_products`) form, for the groups whose every node lies in a block of
    the commonest shape; None if no group's do.

    A block must be a matrix product worth the name: P, Q >= 2, and at least
    ``SMALLEST_FILL`` of its P x Q entries nodes and of A's P x S entries operands."""
    rows: dict[tuple[int, ...], int] = {}  # an A row, by its operands
    columns: dict[int, tuple[int, ...]] = {}  # a B column, by its first operand: its longest
    entries: dict[int, list[tuple[int, int, int]]] = {}  # group -> (node, row, column)
    seconds: list[tuple[int, ...]] = []
    for g in groups:
        group = program.groups[g]
        m = group.children.shape[0] // 2
        found = entries[g] = []
        for j, operands in enumerate(group.children.T.tolist()):
            a, b = tuple(operands[:m]), tuple(operands[m:])
            row = rows.setdefault(a, len(rows))
            if len(b) > len(columns.get(b[0], ())):
                columns[b[0]] = b
            seconds.append(b)
            found.append((group.nodes.start + j, row, b[0]))
    if any(columns[b[0]][:len(b)] != b for b in seconds):
        return None  # some node's second list is no column's prefix
    pairs = {(row, column) for found in entries.values() for _, row, column in found}
    if len(pairs) < len(seconds):
        return None  # two nodes compute the same entry
    lengths = {row: len(a) for a, row in rows.items()}
    blocks = _connected(entries, len(rows))
    shapes: dict[int, tuple[int, int, int]] = {}
    for key, (block_rows, block_columns, nodes) in blocks.items():
        P, Q = len(block_rows), len(block_columns)
        S = max(len(columns[c]) for c in block_columns)
        if (P >= 2 and Q >= 2 and len(nodes) >= SMALLEST_FILL * P * Q
                and sum(lengths[r] for r in block_rows) >= SMALLEST_FILL * P * S):
            shapes[key] = (P, S, Q)
    if not shapes:
        return None
    counts: dict[tuple[int, int, int], int] = {}
    for shape in shapes.values():
        counts[shape] = counts.get(shape, 0) + 1
    shape = max(counts, key=lambda s: (counts[s], s))
    chosen = {key for key, found in shapes.items() if found == shape}
    block_of = {node: key for key, (_, _, nodes) in blocks.items() for node in nodes}
    owner = {node: g for g, found in entries.items() for node, _, _ in found}
    taken = set(groups)
    while True:  # the groups wholly in chosen blocks, and the blocks wholly of them
        kept = {g for g in taken if all(block_of[node] in chosen for node, _, _ in entries[g])}
        still = {key for key in chosen if all(owner[node] in kept for node in blocks[key][2])}
        if kept == taken and still == chosen:
            break
        taken, chosen = kept, still
    if not taken or not chosen:
        return None
    return _indices(sorted(taken), [blocks[key] for key in sorted(chosen)], rows, columns,
                    entries, shape)


def _connected(entries: dict[int, list[tuple[int, int, int]]], count: int
               ) -> dict[int, tuple[list[int], list[int], list[int]]]:
    """The blocks: rows and columns joined by the nodes that read them (union-find);
    block -> (its rows, its columns, its nodes), each in order of first appearance."""
    parent = list(range(count))
    column_slot: dict[int, int] = {}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for found in entries.values():
        for _, row, column in found:
            slot = column_slot.get(column)
            if slot is None:
                slot = column_slot[column] = len(parent)
                parent.append(slot)
            a, b = root(row), root(slot)
            if a != b:
                parent[b] = a
    blocks: dict[int, tuple[list[int], list[int], list[int]]] = {}
    seen_rows: set[int] = set()
    seen_columns: set[int] = set()
    for found in entries.values():
        for node, row, column in found:
            block = blocks.setdefault(root(row), ([], [], []))
            if row not in seen_rows:
                seen_rows.add(row)
                block[0].append(row)
            if column not in seen_columns:
                seen_columns.add(column)
                block[1].append(column)
            block[2].append(node)
    return blocks


def _indices(members: list[int], chosen: list[tuple[list[int], list[int], list[int]]],
             rows: dict[tuple[int, ...], int], columns: dict[int, tuple[int, ...]],
             entries: dict[int, list[tuple[int, int, int]]], shape: tuple[int, int, int]
             ) -> Blocks:
    P, S, Q = shape
    operands = {row: a for a, row in rows.items()}
    where = {node: (row, column) for g in members for node, row, column in entries[g]}
    a = np.full((len(chosen), P, S), -1, dtype=np.intp)
    b = np.full((len(chosen), S, Q), -1, dtype=np.intp)
    nodes = np.full((len(chosen), P, Q), -1, dtype=np.intp)
    for i, (block_rows, block_columns, block_nodes) in enumerate(chosen):
        place_row = {row: p for p, row in enumerate(block_rows)}
        place_column = {column: q for q, column in enumerate(block_columns)}
        for row, p in place_row.items():
            a[i, p, :len(operands[row])] = operands[row]
        for column, q in place_column.items():
            b[i, :len(columns[column]), q] = columns[column]
        for node in block_nodes:
            row, column = where[node]
            nodes[i, place_row[row], place_column[column]] = node
    return Blocks(tuple(members), a, b, nodes)


class Batched:
    """The step of :class:`Blocks`: their products, or the member groups as they run
    alone where an operand or an upstream gradient is not finite (see the module
    docstring). ``pad``: the row that holds 0.0, read for A's and B's missing entries."""

    strategy = "batched"
    row = DOT

    def __init__(self, blocks: Blocks, groups: Sequence[Group], layout: Layout,
                 pad: int) -> None:
        self.members = blocks.members
        self.groups = tuple(groups)
        self.pad = pad
        self.a, self.b = (_Operands(indices, layout, pad) for indices in (blocks.a, blocks.b))
        flat_nodes = blocks.nodes.ravel()
        self.present = np.flatnonzero(flat_nodes >= 0)
        self.full = len(self.present) == len(flat_nodes)
        self.rows = as_rows(layout.row(flat_nodes[self.present]))
        self.shape = blocks.nodes.shape
        self.first = int(flat_nodes[self.present].min())
        self.last = int(flat_nodes[self.present].max())

    @property
    def size(self) -> int:
        return len(self.present)

    def owned_rows(self, with_inputs: bool) -> list[Any]:
        """Rows this step assigns rather than adds to (none: it always adds)."""
        return []

    def run(self, values: np.ndarray, shared: SharedArrays, full: bool,
            batch: Sequence[np.ndarray], everything: bool = False) -> Any:
        """C = A B into the nodes' rows, keeping (A, B) for the backward; or, with an
        operand not finite, the member groups' runs, kept as a list."""
        values[self.pad] = 0.0
        n = values.shape[1]
        A = _batch_first(values, self.a.index)
        B = _batch_first(values, self.b.index)
        if not (finite(A) and finite(B)):
            return [group.run(values, shared, full, batch, everything) for group in self.groups]
        C = np.matmul(A, B).reshape(n, -1)
        values[self.rows] = (C if self.full else C[:, self.present]).T
        return A, B

    def backward(self, kept: Any, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        """dA = dC B^T and dB = A^T dC added to the operands' gradients; the member
        groups' backward where the forward ran them, or dC is not all finite."""
        if type(kept) is list:
            for group, inputs in zip(self.groups, kept):
                group.backward(inputs, values, grads, shared, with_inputs)
            return
        upstream = grads[self.rows]
        if not finite(upstream):
            for group in self.groups:
                group.backward(group.gather(values, shared), values, grads, shared, with_inputs)
            return
        A, B = kept
        n = upstream.shape[1]
        if self.full:
            dC = np.ascontiguousarray(upstream.T).reshape(n, *self.shape)
        else:
            dC = np.zeros((n, self.shape[0] * self.shape[1] * self.shape[2]), values.dtype)
            dC[:, self.present] = upstream.T
            dC = dC.reshape(n, *self.shape)
        self.a.add(grads, np.matmul(dC, B.swapaxes(-1, -2)))
        self.b.add(grads, np.matmul(A.swapaxes(-1, -2), dC))


def _batch_first(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index] with the batch as the first axis: (n, *index.shape), contiguous."""
    gathered = values[index.ravel()]  # (entries, n)
    return np.ascontiguousarray(gathered.T).reshape(values.shape[1], *index.shape)


class _Operands:
    """One side's operand indices (blocks, rows, columns), -1 where a pad is read: the rows
    to gather (``index``, the pad's row there) and where their gradients go."""

    def __init__(self, indices: np.ndarray, layout: Layout, pad: int) -> None:
        self.index = np.where(indices >= 0, layout.row(np.maximum(indices, 0)), pad)
        flat = indices.ravel()
        self.real = np.flatnonzero(flat >= 0)
        self.every = len(self.real) == len(flat)
        self.targets = layout.row(flat[self.real])
        self.unique = distinct(self.targets)

    def add(self, grads: np.ndarray, partials: np.ndarray) -> None:
        """Add the gradients (n, *index.shape) of this side's real entries to their rows."""
        flat = partials.reshape(len(partials), -1)
        add_at(grads, self.targets, (flat if self.every else flat[:, self.real]).T,
               self.unique)


def may_be_products(group: ProgramGroup, program: Program) -> bool:
    """Whether a program group's nodes may be entries of batched products: ``dot`` nodes
    of at least one pair, whose operands are all per-example nodes
    (:func:`~autograd_scalar.tape.ragged.joinable`)."""
    return group.row is DOT and group.children.shape[0] >= 2 and joinable(group, program)
