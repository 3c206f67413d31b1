"""The steps a compiled tape runs: its groups, with each dense layer fused into one step.

A group with a matrix form (see :mod:`autograd_scalar.tape.matrix`) followed by
a group of a one-input row over exactly its nodes, in order (the layer's
activation), run as one :class:`Dense` step::

    forward    Z = W @ X + b            one matrix product and one addition
               H = act(Z)               the activation row's vector forward
    backward   U = act'(Z, H) * dH      the activation row's own rule, once
               dW = U @ X^T, db = sum_n U, dX = W^T @ U

(for one matrix over P input vectors, each product the batched one of
:class:`~autograd_scalar.tape.matrix.MatrixDot`, dW summed over the vectors).

A zero local derivative contributes exactly zero (see
:func:`~autograd_scalar.tape.products.times`): when the upstream gradient is not all
finite, act'(Z) = 0 masks it, and the products with X (d/dw) and W (d/dx) leave
out each term whose factor is 0, as the eager chain rule does edge by edge.

A relu activation runs in place, in arrays kept per batch size: H = relu(Z) by
``np.maximum(0, Z, out=H)`` where that keeps relu's edge values (checked once per
dtype by :func:`maximum_is_relu`: relu(-0.0) = -0.0, relu(NaN) = NaN; else the
row's own vector forward), and U = relu'(Z) dH as dH times the mask not (Z <= 0)
(relu'(x) = 0 for x <= 0, else 1, so relu'(NaN) = 1), the same products the
row's rule gives. A finite dH then makes U finite, so one finiteness test serves
both; a dH with an inf or NaN takes the careful path. When only the relu reads Z
(:meth:`Dense.in_place`), Z is computed in H's own rows and relu applied there,
and on the finite path U overwrites dH (the careful path makes U anew): H <= 0
exactly where Z <= 0 (relu keeps -0.0 and NaN), so the mask and relu's rule read H
for Z, and Z's rows, set apart by the layout, are not allocated at all (a run that
writes every node's value still writes them).

Every other group is its own step. A step writes its gradients by assignment
instead of ``+=`` where it is the only one to write them (it alone reads those
nodes or leaves): a layer's weight gradient goes straight into the shared
arrays, its input gradient into the previous layer's rows, with no temporary
and no zeroing first (:func:`alone` says what it alone writes; the runner,
:mod:`autograd_scalar.tape.run`, finds each dense layer's activation and which
rows still need zeroing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..ops import RELU
from .groups import Group, array_error, call_rule, finite, times
from .layout import Layout, SharedArrays
from .matrix import InputGrads, MatrixDot


class Dense:
    """A dense layer's affine group, and its activation group if it has one, as one step.

    ``alone``: what only this step reads or writes, decided by :func:`alone`: ``z``
    (only the activation reads Z, so its gradient is the activation's contribution
    alone), ``W``, ``b`` (no other group uses these leaves: their gradients are
    assigned, into ``weight_grad`` and ``bias_grad``, views of the shared arrays) and
    ``x`` (no other group reads the inputs X, and all their gradients are wanted).
    ``external`` = (argument, start, stop) when X is a run of one argument's
    columns: X is then read from the batch itself, set by the tape. ``eager_order``:
    whether Z's entries near a kink are added again in the eager order
    (:meth:`~autograd_scalar.tape.matrix.MatrixDot.in_eager_order`); False where only
    smooth rows read Z, directly or through each other (as a network's last layer is
    read by its loss: :func:`~autograd_scalar.tape.run.order_matters`).
    """

    strategy = "matrix"

    def __init__(self, affine: Group, activation: Group | None, alone: Alone,
                 eager_order: bool = True) -> None:
        matrix = affine.matrix
        assert matrix is not None
        self.affine = affine
        self.activation = activation
        self.matrix: MatrixDot = matrix
        self.zrows = affine.rows
        self.hrows = activation.rows if activation is not None else None
        self.alone = alone
        self.external: tuple[int, int, int] | None = None
        W, b = matrix.W, matrix.b
        assert W is not None
        # views of the shared arrays, fixed for the tape's life (fancy-indexed blocks are
        # read at each run instead)
        self._W = W.value
        self._b = None if b is None or b.value is None else b.value[:, None]
        self.weight_grad = W.grad if alone.W else None
        self.bias_grad = b.grad if b is not None and alone.b else None
        self._values: np.ndarray | None = None
        self._grads: np.ndarray | None = None
        self._mask: np.ndarray = np.empty(0, dtype=bool)  # relu's, for the bound batch
        self.relu = activation is not None and activation.row is RELU
        self.eager_order = eager_order

    @property
    def groups(self) -> tuple[Group, ...]:
        return (self.affine,) if self.activation is None else (self.affine, self.activation)

    def in_place(self, dtype: Any) -> bool:
        """Whether relu runs in place, Z computed in H's rows and never written in its own:
        a relu that alone reads Z, where ``np.maximum`` is relu (unless a run writes
        every node's value)."""
        return self.relu and self.alone.z and maximum_is_relu(np.dtype(dtype))

    def _bind(self, values: np.ndarray, grads: np.ndarray | None) -> None:
        """Views of this step's rows in the run's arrays, made again only when the tape
        makes new arrays (a new batch size)."""
        if values is not self._values:
            inputs = self.matrix.inputs
            self._values = values
            self._Z = _rows(values, self.zrows)  # None where Z's rows are left out
            self._H = None if self.hrows is None else values[self.hrows]
            self._X = values[inputs] if isinstance(inputs, slice) and self.external is None \
                else None  # external inputs have no rows in the array
            if self.relu:  # relu's mask, kept for this batch size
                self._mask = np.empty(values[self.hrows].shape, dtype=bool)
        if grads is not None and grads is not self._grads:
            self._grads = grads
            self._gZ = _rows(grads, self.zrows)
            self._gH = None if self.hrows is None else grads[self.hrows]

    def unbind(self) -> None:
        """Drop the views of the run's arrays (and relu's mask), so that arrays the tape
        lets go of are freed; the next run binds its own."""
        self._values = self._grads = None
        self._Z = self._H = self._X = self._gZ = self._gH = None
        self._mask = np.empty(0, dtype=bool)

    def _pre_activations(self, in_place: bool) -> np.ndarray:
        """Where Z is: its own rows, or H's when relu runs in place."""
        rows = self._H if in_place else self._Z
        assert rows is not None
        return rows

    def run(self, values: np.ndarray, shared: SharedArrays, full: bool,
            batch: Sequence[np.ndarray], everything: bool = False) -> Any:
        self._bind(values, None)
        W = self._W if self._W is not None else self.matrix.read("W", shared)
        external = self.external
        if external is not None:  # (n, d) as the batch gives it: U @ X^T is then row-major
            argument, start, stop = external
            X = batch[argument][:, start:stop].T
        else:
            X = self._X if self._X is not None else values[self.matrix.inputs]
        in_place = not everything and self.in_place(values.dtype)
        Z = self._pre_activations(in_place)
        matrix = self.matrix
        matrix.forward(W, X, Z)
        b = self._b
        if b is None and matrix.b is not None:
            b = matrix.read("b", shared)[:, None]
        if b is not None:
            matrix.add_bias(Z, b)
        activation = self.activation
        if self.eager_order:
            matrix.in_eager_order(Z, W, X, b,
                                  () if activation is None else activation.row.kinks, shared)
        if self.relu and maximum_is_relu(Z.dtype):
            np.maximum(0.0, Z, out=self._H)
        elif activation is not None:
            row = activation.row
            H = call_rule(row, "forward", row.vector, (Z,))
            if type(H) is not np.ndarray or H.shape != Z.shape:
                try:
                    H = np.broadcast_to(np.asarray(H, dtype=np.float64), Z.shape)
                except ValueError as error:
                    raise array_error(row, "forward", error) from error
            self._H[...] = H  # type: ignore[index]
        return W, X, in_place

    def backward(self, saved: Any, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        self._bind(values, grads)
        W, X, in_place = saved
        activation = self.activation
        checked = False  # whether U is known to be finite
        # relu'(Z) read from H = relu(Z) when Z was not kept: H <= 0 exactly where Z <= 0
        Z = self._pre_activations(in_place)
        if activation is None:
            U = self._gZ
        elif self.relu and self._gH is not None and finite(self._gH):
            mask, gH = self._mask, self._gH
            np.less_equal(Z, 0.0, out=mask)
            np.logical_not(mask, out=mask)
            if self.alone.z:  # U is Z's gradient: written into its rows, or over dH's
                U = np.multiply(gH, mask, out=gH if in_place else self._gZ)
                checked = True
            else:
                U = np.multiply(gH, mask, dtype=Z.dtype)
                U += self._gZ
        else:
            row = activation.row
            result = call_rule(row, "derivatives", row.derivatives, (Z, self._H))
            if not isinstance(result, (tuple, list)) or len(result) != 1:
                raise array_error(row, "derivatives", ValueError(
                    f"it returned {result!r:.80} instead of 1 partial derivative"))
            assert self._gH is not None
            gH = self._gH
            # in the tape's dtype: a rule may answer float64 (relu's step), and a float64 U
            # would turn the float32 products below into slow mixed-type ones
            if finite(gH):
                U = np.multiply(result[0], gH, dtype=Z.dtype)
            else:
                U = np.asarray(times(result[0], gH), dtype=Z.dtype)
            if type(U) is not np.ndarray or U.shape != Z.shape:
                try:
                    U = np.broadcast_to(U, Z.shape)
                except ValueError as error:
                    raise array_error(row, "derivatives", error) from error
            if not self.alone.z:
                U = U + self._gZ
        matrix = self.matrix
        if not checked and not finite(U):
            self._backward_not_finite(U, W, X, grads, shared, with_inputs)
            return
        if self.weight_grad is not None:
            matrix.weight_product(U, X, out=self.weight_grad)
        else:
            matrix.W.add(shared, matrix.weight_product(U, X))  # type: ignore[union-attr]
        self._bias_backward(U, shared)
        wanted = matrix.input_grads[with_inputs]
        if wanted.none:
            return
        if wanted.every and self.alone.x:
            matrix.input_product(W, U, out=grads[matrix.inputs])
            return
        _add_input_grads(matrix.input_product(W, U), wanted, matrix.inputs, grads)

    def _bias_backward(self, U: np.ndarray, shared: SharedArrays) -> None:
        """db = U summed over the batch (and the P vectors): assigned where this step alone
        has b, else added. A sum has no zero local derivative, so one path serves any U."""
        matrix = self.matrix
        if self.bias_grad is not None:
            matrix.bias_product(U, out=self.bias_grad)
        elif matrix.b is not None:
            matrix.b.add(shared, matrix.bias_product(U))

    def _backward_not_finite(self, U: np.ndarray, W: np.ndarray, X: np.ndarray,
                             grads: np.ndarray, shared: SharedArrays,
                             with_inputs: bool) -> None:
        """The backward for an upstream gradient U with an inf or NaN: term by term.

        dW[j, i] = sum_n U[j, n] X[i, n] and dX[i, n] = sum_j W[j, i] U[j, n], each
        term a local derivative (X for the weights, W for the inputs) times U, with
        a zero local derivative giving 0, not NaN (:func:`times`). Slower than the
        matrix products (it forms every term), and only run when U is not finite.
        """
        matrix = self.matrix
        dW = matrix.careful_weight_product(U, X)
        if self.weight_grad is not None:
            self.weight_grad[...] = dW
        else:
            matrix.W.add(shared, dW)  # type: ignore[union-attr]
        self._bias_backward(U, shared)
        wanted = matrix.input_grads[with_inputs]
        if wanted.none:
            return
        input_grads = matrix.careful_input_product(W, U)
        if wanted.every and self.alone.x:
            grads[matrix.inputs] = input_grads
        else:
            _add_input_grads(input_grads, wanted, matrix.inputs, grads)

    def owned_rows(self, with_inputs: bool) -> list[Any]:
        """Rows of the per-example gradients this step assigns before anyone reads them
        (or, Z's when only the activation reads Z, that no one else reads)."""
        owned = [self.zrows] if self.alone.z else []
        if self.alone.x and self.matrix.input_grads[with_inputs].every:
            owned.append(self.matrix.inputs)
        return owned


def _rows(array: np.ndarray, rows: Any) -> Any:
    """``array[rows]`` for a run of rows, or None if the array leaves them out."""
    if isinstance(rows, slice) and rows.stop > len(array):
        return None
    return array[rows]


_MAXIMUM_IS_RELU: dict[np.dtype[Any], bool] = {}


def maximum_is_relu(dtype: np.dtype[Any]) -> bool:
    """Whether ``np.maximum(0, x)`` gives relu(x) = (0 if x < 0 else x) to the bit in
    this dtype: NumPy does not say which of two equal zeros maximum returns (relu
    keeps -0.0) and SIMD and scalar loops may differ, so it is tried once, at every
    position of arrays longer than any vector register, on each edge value."""
    found = _MAXIMUM_IS_RELU.get(dtype)
    if found is None:
        edges = np.array([-0.0, 0.0, np.nan, -np.nan, -np.inf, np.inf, -1.5, 2.5, -5e-324,
                          5e-324], dtype=dtype)
        found = True
        for length in (1, 3, 7, 17, 67):
            for edge in edges:
                x = np.full(length, 1.0, dtype=dtype)
                for position in range(length):
                    x[position] = edge
                    want = np.where(x < 0, 0.0, x).astype(dtype)
                    got = np.maximum(0.0, x, out=np.empty_like(x))
                    found = found and want.tobytes() == got.tobytes()
                    x[position] = 1.0
        _MAXIMUM_IS_RELU[dtype] = found
    return found


def _add_input_grads(input_grads: np.ndarray, wanted: InputGrads, inputs: Any,
                     grads: np.ndarray) -> None:
    """Add the wanted rows of a layer's input gradients W^T U to the per-example ones."""
    if wanted.positions is not None:
        grads[wanted.rows] += input_grads[wanted.positions]
    else:
        grads[inputs] += input_grads


class Alone(NamedTuple):
    """What only one dense step reads or writes (see :class:`Dense`)."""

    z: bool
    W: bool
    b: bool
    x: bool


def alone(group: Group, activation: Group | None, reads: np.ndarray, layout: Layout
          ) -> Alone:
    """What only this dense step reads or writes (see :class:`Dense`)."""
    matrix = group.matrix
    assert matrix is not None
    nodes = np.arange(group.nodes.start, group.nodes.stop)
    first = layout.first_shared
    vectors = matrix.vectors  # each weight and bias is read once per input vector
    return Alone(
        z=activation is not None and bool((reads[nodes] == 1).all()),
        W=bool((reads[matrix.weights + first] == vectors).all()),
        b=matrix.biases is not None and bool((reads[matrix.biases + first] == vectors).all()),
        x=isinstance(matrix.inputs, slice) and bool((reads[matrix.sources] == matrix.width).all()))

