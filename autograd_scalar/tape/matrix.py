"""The matrix form of a tape group: a bilinear row's group as matrix products.

A group of ``dot`` or ``affine`` nodes (any row declaring ``bilinear``, and
``bias`` for a last operand b) has a matrix form when every node's ws are shared
leaves and the nodes fall into P runs, one per input vector: node j = t k' + r
(t < P, r < k') reads the t-th vector x_t of m per-example nodes, with the r-th
row of one weight matrix W (k', m) (and bias b_r), the same for every t. P = 1 is
a dense layer; P > 1 is one linear map applied to several vectors, as a sequence
model applies its per-position maps to every position. With X_t (m, n) the t-th
vector over the batch of n, the forward

    Z_t = W @ X_t (+ b)                     one batched product over the P vectors

and the rule d/dw_i = x_i, d/dx_i = w_i, d/db = 1 give, against the upstream
gradient U_t (k', n) of each run,

    dW  = sum_t U_t @ X_t^T                 one product over the P n columns
    dX_t = W^T @ U_t                        one batched product
    db  = sum_t sum_n U_t

All P m inputs must be distinct per-example nodes: a vector read twice, or two
vectors sharing an entry, would need their gradients added together, and such a
group runs elementwise instead (:mod:`autograd_scalar.tape.groups`). A W of one entry
(``x * 0.5``: a constant is a shared leaf) is no matrix form either: its product is
the multiplication itself, and a dense step, which always runs grouped, would cut the
straight-line code around it in two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ops import Op
from .layout import Layout, SharedArrays, add_at, as_rows, distinct, strided, strided_view
from .products import times


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
        else:
            add_at(shared.grad, self.indices, contribution, self.unique)


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
    """A group of a bilinear row (``dot``, ``affine``, ``*``) with a matrix form:
    ``Z_t = W @ X_t (+ b)`` for each of its P input vectors (see the module docstring).

    Every node's ws are shared leaves: node t k' + r's i-th weight is shared leaf
    ``weights[r, i]``, whatever t, and its bias (for a row with a bias) ``biases[r]``.
    Its xs are the t-th vector, rows ``inputs`` hold the P vectors one after the other
    (P m rows, distinct) and ``sources`` their indices. ``vectors`` is P (1: a dense
    layer). ``input_grads[with_inputs]`` says which input gradients a backward writes
    (:class:`InputGrads`, positions among the P m inputs).

    The products below take and give the per-example arrays as the tape keeps them,
    2-D: Z and U (P k', n), X and dX (P m, n).
    """

    weights: np.ndarray
    inputs: Any
    input_grads: tuple[InputGrads, InputGrads]
    biases: np.ndarray | None = None
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    vectors: int = 1
    W: Block | None = field(default=None, repr=False)
    b: Block | None = field(default=None, repr=False)
    summed: bool = True
    """Whether a node adds its products (``dot``, ``affine``), or is one product (``*``)."""
    _span: slice | None = field(default=None, repr=False)

    @property
    def width(self) -> int:
        """k', the nodes per input vector (each input is read by that many nodes)."""
        return int(self.weights.shape[0])

    @property
    def multiply_adds(self) -> int:
        """Multiply-adds of the forward per example: P k' m."""
        return self.vectors * int(self.weights.size)

    def bind(self, shared: SharedArrays) -> None:
        """W and b as blocks of the shared arrays (views where the layout allows), and the
        run of the shared arrays they fill together, if they do."""
        self.W = Block(self.weights, shared)
        self.b = None if self.biases is None else Block(self.biases, shared)
        parts = [self.weights.ravel()] + ([] if self.biases is None else [self.biases.ravel()])
        low = min(int(part.min()) for part in parts)
        high = max(int(part.max()) for part in parts) + 1
        self._span = None
        if high - low == sum(len(part) for part in parts):  # as many indices as the run holds:
            covered = np.zeros(high - low, dtype=bool)       # they fill it if none repeats
            for part in parts:
                covered[part - low] = True
            if covered.all():
                self._span = slice(low, high)

    def read(self, name: str, shared: SharedArrays) -> np.ndarray:
        """The current W or b, (k', m) or (k',)."""
        block = self.W if name == "W" else self.b
        if block is None:
            raise KeyError(f"the matrix form has no {name!r}")
        return block.read(shared)

    def _split(self, array: np.ndarray) -> np.ndarray:
        """(P r, n) as (P, r, n): a view of the tape's contiguous rows."""
        return array.reshape(self.vectors, -1, array.shape[-1])

    def forward(self, W: np.ndarray, X: np.ndarray, out: np.ndarray) -> None:
        """out = Z, each Z_t = W @ X_t: one batched product."""
        if self.vectors == 1:
            np.matmul(W, X, out=out)
        else:
            _into(out, np.matmul(W, self._split(X), out=_view(self._split, out)))

    def add_bias(self, Z: np.ndarray, column: np.ndarray) -> None:
        """Z_t += b for every t, with b as a column (k', 1)."""
        if self.vectors == 1:
            Z += column
        else:
            _into(Z, np.add(self._split(Z), column, out=_view(self._split, Z)))

    def in_eager_order(self, Z: np.ndarray, W: np.ndarray, X: np.ndarray,
                       b: np.ndarray | None, points: tuple[float, ...],
                       shared: SharedArrays) -> None:
        """Z's entries that the summation order could put on the other side of 0 or of a
        kink at one of ``points`` (or give another zero's sign), added again as the eager
        graph adds them: b + w_0 x_0 + w_1 x_1 + ... left to right (from +0.0 without a
        bias; a ``*`` row's single product as it is).

        A product adds in its own order (blocked, with fused multiply-adds), and eagerly
        z is added from b. Each sum of the m + 1 terms is within gamma S of the exact one,
        gamma = (m + 2) u / (1 - (m + 2) u) with u the unit roundoff and S the sum of the
        terms' magnitudes (the product's sum, then its bias, rounds m + 2 times at most), so
        the two differ by at most 2 gamma S, and for the entries of column n

            S <= |[W b]|_F |[x_n; 1]|                          (Cauchy-Schwarz)

        (the norms taken with scaling, so that squares past float range or below it
        bound them still). An entry further than that from each point is on the same side
        of it both ways and is left as the product gave it; the others (exact ties, as
        quantised data and hand-set weights make: 0 is always a point, the kink of relu,
        abs and leaky_relu and the edge of sqrt's and log's domains, which a reader of Z
        further on may have) are added again, a chunk at a time. A column of zeros takes
        b, or the zero whose sign the eager sum gives, at once. Float64 only; a column
        with an inf or NaN (or a W with one) is left as the product gave it."""
        if Z.dtype != np.float64 or not Z.size:
            return
        m = W.shape[1]
        scale = 2.0 * (m + 2) * UNIT / (1 - (m + 2) * UNIT) * self.weight_norm(shared, W, b)
        # the run's arrays ignore floating-point errors (see Tape._execute): an overflow
        # here is an inf bound, an inf or NaN operand a NaN one. One bound for every
        # column first: usually nothing is near
        whole = scale * math.sqrt(_squares(X) + 1.0)
        others = [point for point in points if point != 0.0] if points else points
        if math.isfinite(whole) and not _distance(Z, 0.0) <= whole and (not others or all(
                not _distance(Z, point) <= whole for point in others)):
            return
        bound = scale * _column_norms(X)
        near = np.abs(Z) <= bound  # NaN bounds (a column with an inf or NaN) compare False
        for point in others:
            near |= np.abs(Z - point) <= bound
        if not near.any():
            return
        empty = np.count_nonzero(X, axis=0) == 0
        if empty.any():
            near &= ~self._zero_columns(Z, W, X, b, empty)
        rows, columns = np.nonzero(near)
        vectors, r = np.divmod(rows, self.width)
        X3 = self._split(X)
        every = np.arange(m)[None, :]
        chunk = max(1, CHUNK_TERMS // (m + 1))
        for first in range(0, len(rows), chunk):
            part = slice(first, first + chunk)
            terms = W[r[part]] * X3[vectors[part, None], every, columns[part, None]]
            if not self.summed:  # a '*' node: its one product
                Z[rows[part], columns[part]] = terms[:, 0]
                continue
            start = np.zeros(len(terms)) if b is None else b.reshape(-1)[r[part]]
            Z[rows[part], columns[part]] = np.add.accumulate(
                np.column_stack((start, terms)), axis=1)[:, -1]

    def _zero_columns(self, Z: np.ndarray, W: np.ndarray, X: np.ndarray,
                      b: np.ndarray | None, empty: np.ndarray) -> np.ndarray:
        """Z's columns whose inputs are all +0.0, as the eager sum gives them: b where b is
        not 0; else -0.0 where the sum starts from a -0.0 bias and every product is -0.0
        (every weight negative), +0.0 otherwise; a '*' node's product w * 0.0. Returns the
        columns so set (those with a -0.0 input are left to the entry by entry sums)."""
        done = empty & ~np.signbit(X).any(axis=0)
        if not done.any():
            return np.zeros(Z.shape[1], dtype=bool)
        negative = np.signbit(W).all(axis=1)  # every product w * (+0.0) is -0.0
        if not self.summed:
            column = np.where(negative, -0.0, 0.0)
        elif b is None:
            column = np.zeros(len(W))
        else:
            bias = b.reshape(-1)
            column = np.where(bias != 0.0, bias,
                              np.where(np.signbit(bias) & negative, -0.0, 0.0))
        Z[:, done] = np.tile(column, self.vectors)[:, None]
        return done

    def weight_norm(self, shared: SharedArrays, W: np.ndarray, b: np.ndarray | None
                    ) -> float:
        """|[W b]|_F: one pass over the shared arrays where W and b fill a run of them (a
        layer's neurons, each its weights and bias), else over each; scaled where the
        squares leave float range (inf or NaN for an operand that is not finite)."""
        if self._span is not None:
            return _norm(shared.data[self._span])
        return math.hypot(_norm(W), 0.0 if b is None else _norm(b))

    def weight_product(self, U: np.ndarray, X: np.ndarray, out: np.ndarray | None = None
                       ) -> np.ndarray:
        """dW = sum_t U_t @ X_t^T (k', m): one product over the P n columns."""
        if self.vectors == 1:
            return np.matmul(U, X.T, out=out)
        n = U.shape[1]
        u = self._split(U).transpose(1, 0, 2).reshape(self.width, -1)
        x = self._split(X).transpose(1, 0, 2).reshape(-1, self.vectors * n)
        return np.matmul(u, x.T, out=out)

    def bias_product(self, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """db = sum_t sum_n U_t (k',)."""
        if self.vectors == 1:
            return np.add.reduce(U, 1, out=out)
        return np.add.reduce(self._split(U).sum(axis=0), 1, out=out)

    def input_product(self, W: np.ndarray, U: np.ndarray, out: np.ndarray | None = None
                      ) -> np.ndarray:
        """dX, each dX_t = W^T @ U_t: one batched product, (P m, n)."""
        if self.vectors == 1:
            return np.matmul(W.T, U, out=out)
        if out is None:
            return np.matmul(W.T, self._split(U)).reshape(-1, U.shape[1])
        _into(out, np.matmul(W.T, self._split(U), out=_view(self._split, out)))
        return out

    def careful_weight_product(self, U: np.ndarray, X: np.ndarray) -> np.ndarray:
        """dW as :meth:`weight_product`, term by term, a zero x giving 0 against an
        infinite or NaN U (:func:`~autograd_scalar.tape.products.times`)."""
        terms = times(self._split(X)[:, None, :, :], self._split(U)[:, :, None, :])
        return terms.sum(axis=(0, 3))

    def careful_input_product(self, W: np.ndarray, U: np.ndarray) -> np.ndarray:
        """dX as :meth:`input_product`, term by term, a zero w giving 0."""
        terms = times(W[None, :, :, None], self._split(U)[:, :, None, :])
        return terms.sum(axis=1).reshape(-1, U.shape[1])


UNIT = float(np.finfo(np.float64).eps) / 2
"""The unit roundoff of float64, u = 2^-53."""


CHUNK_TERMS = 1 << 20
"""The most terms :meth:`MatrixDot.in_eager_order` holds at once (8 MiB of them)."""

SQUARES_RANGE = (2.0 ** -960, 2.0 ** 960)
"""Sums of squares inside which the norm from them is exact to rounding: below, squares of
small numbers may have lost their digits; above, near overflow."""


NEAR_BLOCK = 1 << 16
"""The most entries of Z whose distances :func:`_distance` holds at once (512 KiB)."""


def _distance(Z: np.ndarray, point: float) -> float:
    """min |Z - point| (NaN if Z holds one), a block of rows at a time: a batch of 1,024
    examples' distances would otherwise be a temporary as large as Z."""
    step = max(1, NEAR_BLOCK // max(Z.shape[1], 1))
    if step >= len(Z):
        return float(np.abs(Z - point).min() if point else np.abs(Z).min())
    return min(float(np.abs(Z[k:k + step] - point).min()) for k in range(0, len(Z), step))


def _squares(array: np.ndarray) -> float:
    """|A|_F^2 in one pass, read in the array's memory order (a copy only of an array
    that is not contiguous either way round)."""
    if not array.flags.c_contiguous and array.T.flags.c_contiguous:
        array = array.T
    return float(np.vdot(array, array))


def _norm(array: np.ndarray) -> float:
    """|A|_F, from one pass over the squares (a copy only of an array that is not
    contiguous either way round); scaled by the largest magnitude where the sum of the
    squares leaves :data:`SQUARES_RANGE` but the array is finite."""
    squares = _squares(array)
    if SQUARES_RANGE[0] <= squares <= SQUARES_RANGE[1] or (squares == 0.0 and not array.any()):
        return math.sqrt(squares)
    top = float(np.max(np.abs(array), initial=0.0))
    if not math.isfinite(top) or top == 0.0:
        return top if top == top else math.nan
    scaled = array / top
    return top * math.sqrt(float(np.vdot(scaled, scaled)))


def _column_norms(X: np.ndarray) -> np.ndarray:
    """|[x_n; 1]| for each column n of X (m, n), scaled where the squares leave
    :data:`SQUARES_RANGE` (NaN or inf for a column with a NaN or an inf)."""
    norms = np.sqrt(np.einsum("ij,ij->j", X, X) + 1.0)
    for n in np.flatnonzero(~(norms <= math.sqrt(SQUARES_RANGE[1]))):
        norms[n] = math.hypot(_norm(np.ascontiguousarray(X[:, n])), 1.0)
    return norms


def _view(split: Any, array: np.ndarray) -> np.ndarray | None:
    """``split(array)`` when it is a view to write into, else None (a fresh result)."""
    shaped = split(array)
    return shaped if np.may_share_memory(shaped, array) else None


def _into(target: np.ndarray, result: np.ndarray) -> None:
    """Copy a (P, r, n) result into the 2-D target unless it was written in place."""
    if not np.may_share_memory(result, target):
        target[...] = result.reshape(target.shape)


def _vectors(weights: np.ndarray, inputs: np.ndarray) -> int | None:
    """P when the group's nodes fall into runs of k' = k / P nodes, run t reading one
    vector of xs and the same k' rows of weights as every other run (see the module
    docstring); None otherwise. ``weights`` and ``inputs`` are (m, k) indices."""
    m, k = inputs.shape
    same = (inputs == inputs[:, :1]).all(axis=0)
    width = k if same.all() else int(np.argmin(same))
    if k % width:
        return None
    vectors = k // width
    xs = inputs.reshape(m, vectors, width)
    ws = weights.reshape(m, vectors, width)
    if not ((xs == xs[:, :, :1]).all() and (ws == ws[:, :1, :]).all()):
        return None
    return vectors


def matrix_dot(row: Op, rows: np.ndarray, shared: np.ndarray, uniform: np.ndarray,
               invariant: np.ndarray, layout: Layout) -> MatrixDot | None:
    """The matrix form of a group of a bilinear row, if it has one
    (see :class:`MatrixDot`).

    The row's own layout decides: ``row.bilinear`` (out = sum_i ws[i] * xs[i]),
    ``row.split`` into as many ws as xs, and ``row.bias`` for a last operand b.
    ``shared[p]``: operand p is a shared leaf (or made of them) for every node;
    ``uniform[p]``: every node reads one node at operand p (P = 1 then).
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
        if not (shared[w].all() and layout.is_shared(weights).all()):
            continue
        vectors = 1 if uniform[x].all() else _vectors(weights, inputs)
        if vectors is None:
            continue
        width = rows.shape[1] // vectors
        if width * m < 2:
            return None  # W has one entry (see the module docstring)
        if biases is not None and vectors > 1:
            runs = biases.reshape(vectors, width)
            if not (runs == runs[:1]).all():
                continue
        children = inputs[:, ::width].T.ravel()  # vector after vector
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
        first = layout.first_shared
        return MatrixDot(weights[:, :width].T - first, as_rows(layout.row(children)),
                         (wanted[0], wanted[1]),
                         None if biases is None else biases[:width] - first, children, vectors,
                         summed=row.arity is None)
    return None
