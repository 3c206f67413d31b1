"""The dense-layer form of a tape group: a bilinear row's group as matrix products.

A group of ``dot`` or ``affine`` nodes (any row declaring ``bilinear``, and
``bias`` for a last operand b) is a dense layer when every node's ws are shared
leaves and all nodes read the same per-example xs: then the forward
out_j = b_j + sum_i w_ji x_i is W @ X (+ b) for the whole batch, and the rule
d/dw_i = x_i, d/dx_i = w_i, d/db = 1 is, against the upstream gradient U (k, n),
U @ X^T for the weights, W^T @ U for the inputs and U summed over the batch for b.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops import Op
from .layout import Layout, SharedArrays, as_rows, distinct, strided, strided_view


class Block:
    """A (k, m) block (or (k,) column) of the shared leaves, as the matrix form reads it.

    ``value`` and ``grad`` are views of the shared arrays when the indices have
    fixed strides (a layer's neurons one after another), else None and the block
    is read and written by fancy indexing (``unique``: no index repeats, so ``+=``
    is safe without ``np.add.at``).
    """

    __slots__ = ("indices", "value", "grad", "unique")

    def __init__(self, indices: np.ndarray, shared: SharedArrays) -> None:
        self.indices = indices
        block = indices if indices.ndim == 2 else indices[:, None]
        layout = strided(block)
        self.value: np.ndarray | None = None
        self.grad: np.ndarray | None = None
        self.unique = distinct(indices)  # a view of a block whose indices repeat would alias
        if layout is not None and self.unique:
            value = strided_view(shared.data, layout, block.shape)
            grad = strided_view(shared.grad, layout, block.shape)
            self.value, self.grad = (value[:, 0], grad[:, 0]) if indices.ndim == 1 else (
                value, grad)

    def read(self, shared: SharedArrays) -> np.ndarray:
        return self.value if self.value is not None else shared.data[self.indices]

    def add(self, shared: SharedArrays, contribution: np.ndarray) -> None:
        if self.grad is not None:
            self.grad += contribution
        elif self.unique:
            shared.grad[self.indices] += contribution
        else:
            np.add.at(shared.grad, self.indices, contribution)


@dataclass(frozen=True)
class InputGrads:
    """Which input gradients of a dense layer a backward pass writes.

    ``every``: all of them (rows ``inputs`` of the per-example gradients). Otherwise
    those at ``positions`` among the inputs, into ``rows``; with no positions, none
    (every input is a placeholder whose gradient is not asked for).
    """

    every: bool
    positions: np.ndarray | None = None
    rows: np.ndarray | None = None

    @property
    def none(self) -> bool:
        return not self.every and self.positions is None


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
    W^T @ U, and the bias gradients U summed over the batch. ``input_grads[with_inputs]``
    says which input gradients a backward writes (:class:`InputGrads`). ``sources``:
    the xs' indices.
    """

    weights: np.ndarray
    inputs: Any
    input_grads: tuple[InputGrads, InputGrads]
    biases: np.ndarray | None = None
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    W: Block | None = field(default=None, repr=False)
    b: Block | None = field(default=None, repr=False)

    def bind(self, shared: SharedArrays) -> None:
        """W and b as blocks of the shared arrays (views where the layout allows)."""
        self.W = Block(self.weights, shared)
        self.b = None if self.biases is None else Block(self.biases, shared)

    def read(self, name: str, shared: SharedArrays) -> np.ndarray:
        """The current W or b, (k, m) or (k,)."""
        block = self.W if name == "W" else self.b
        if block is None:
            raise KeyError(f"the matrix form has no {name!r}")
        return block.read(shared)


def matrix_dot(row: Op, rows: np.ndarray, shared: np.ndarray, uniform: np.ndarray,
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
        if invariant[children].any() or not distinct(children):
            continue
        wanted = []
        for with_inputs in (False, True):
            needed = children >= (0 if with_inputs else layout.first_shared)
            if needed.all():
                wanted.append(InputGrads(every=True))
            elif needed.any():
                positions = np.flatnonzero(needed)
                wanted.append(InputGrads(False, positions, layout.row(children[positions])))
            else:
                wanted.append(InputGrads(every=False))
        return MatrixDot(weights.T - layout.first_shared, as_rows(layout.row(children)),
                         (wanted[0], wanted[1]),
                         None if biases is None else biases - layout.first_shared, children)
    return None
