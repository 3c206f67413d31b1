"""Loss functions: how far a model's outputs are from the targets, as one Value.

Every loss is an object with three steps, so the eager path and the compiled tape
share one definition:

- ``encode(targets)``: the targets as a float array of shape (n, k), one row per
  example and one column per model output (one-hot rows for cross-entropy, +-1 for
  hinge, the values themselves for mse);
- ``example(output, encoded_row)``: the loss of one example as a Value, written with
  Value arithmetic only (the row may itself hold Values: the compiled tape traces
  ``example`` with placeholders);
- ``loss(outputs, targets, reduction="mean")``: encode, one ``example`` per row,
  then the mean (or the sum) over the examples.

Per example, with z the model's k outputs and t the encoded row:

    mse              (1/k) sum_i (z_i - t_i)^2
    l1               (1/k) sum_i |z_i - t_i|
    bce_with_logits  (1/k) sum_i softplus(z_i) - t_i z_i
    cross_entropy    logsumexp(z) - sum_i t_i z_i        (= -log softmax(z)_c)
    hinge            relu(1 - t z)                        (t = +-1, one output)

``bce_with_logits`` is the binary cross-entropy -[t log s + (1 - t) log(1 - s)] of
s = sigmoid(z), rewritten with softplus(-z) = softplus(z) - z, so it never takes
the log of a sigmoid that has rounded to 0 or 1. ``cross_entropy`` works from
logits through a max-shifted log-sum-exp for the same reason. The mean reduction
of mse, l1 and bce is therefore the mean over all n * k entries, as PyTorch's. The
sum reduction sums the examples' losses, each still the mean over its k outputs: it
is PyTorch's ``reduction="sum"`` divided by k (the same for one output).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_scalar as ag
from autograd_scalar import Value
from autograd_scalar.validate import choice, integer, is_real, real_array

from .metrics import classes_from_outputs

REDUCTIONS = ("mean", "sum")
MAX_CLASSES = 1_000_000
"""The most classes cross-entropy infers from its targets alone (without a model's width)."""


class Loss:
    """A loss: ``encode`` the targets, score one ``example``, reduce over a batch.

    Subclasses set ``name`` and ``classification``, implement ``example``, and may
    override ``encode_array`` (validated targets -> (n, k) floats; by default the targets
    as columns of numbers, as the regression losses take them).
    """

    name = "loss"
    classification = False

    def __repr__(self) -> str:
        return f"nn.losses.{self.name}"

    # -- targets ----------------------------------------------------------------

    def encode(self, targets: Any, width: int | None = None) -> np.ndarray:
        """The targets as a float array (n, k); ``width`` is the number of model outputs.

        ValueError when the targets are empty, not finite, of the wrong shape or
        outside the loss's range, or when they need a different number of outputs.
        """
        array = _numeric_array(targets, self.name)
        if width is not None:
            width = integer("width", width, 1, who=self.name,
                            what="a positive int (the number of model outputs)")
        encoded = self.encode_array(array, width)
        if width is not None and encoded.shape[1] != width:
            raise ValueError(f"{self.name}: the targets have {encoded.shape[1]} column(s) but "
                             f"the model has {width} output(s); they must agree")
        return encoded

    def encode_array(self, targets: np.ndarray, width: int | None) -> np.ndarray:
        return _columns(targets, self.name)

    # -- the loss -----------------------------------------------------------------

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        """The loss of one example: ``output`` a Value or list of Values, one per column."""
        raise NotImplementedError

    def __call__(self, outputs: Sequence[Any], targets: Any, reduction: str = "mean") -> Value:
        """The loss over a batch: ``outputs[j]`` is the model's output for example j."""
        check_reduction(reduction, self.name)
        outputs = _batch_outputs(outputs, self.name)
        encoded = self.encode(targets, width=len(_as_list(outputs[0])))
        return self.reduce(outputs, encoded, reduction)

    def reduce(self, outputs: Sequence[Any], encoded: np.ndarray,
               reduction: str = "mean") -> Value:
        """``example`` for each (output, encoded row), then their mean or sum."""
        check_reduction(reduction, self.name)
        outputs = _batch_outputs(outputs, self.name)
        if len(outputs) != len(encoded):
            raise ValueError(f"{self.name}: got {len(outputs)} outputs but {len(encoded)} "
                             "targets; there must be one target per output")
        total = ag.sum([self.example(o, row) for o, row in zip(outputs, encoded.tolist())])
        return total / len(outputs) if reduction == "mean" else total

    # -- classes, for accuracy ---------------------------------------------------

    def predicted_classes(self, raw: np.ndarray) -> np.ndarray | None:
        """Class indices from raw outputs (n,) or (n, k); None for a regression loss."""
        return None

    def target_classes(self, encoded: np.ndarray) -> np.ndarray | None:
        """Class indices from encoded targets (n, k); None for a regression loss."""
        return None

    # -- helpers for subclasses ----------------------------------------------------

    def _row(self, output: Any, encoded_row: Sequence[Any]) -> tuple[list[Value], list[Any]]:
        zs = _as_list(output)
        ts = list(encoded_row)
        if len(zs) != len(ts):
            raise ValueError(f"{self.name}: the model gave {len(zs)} output(s) but the "
                             f"target row has {len(ts)} entries; they must agree")
        return zs, ts


def _mean(terms: list[Value]) -> Value:
    return terms[0] if len(terms) == 1 else ag.sum(terms) / len(terms)


def _columns(targets: np.ndarray, name: str) -> np.ndarray:
    if targets.ndim == 1:
        return targets.reshape(-1, 1)
    if targets.ndim == 2:
        return targets
    raise ValueError(f"{name}: targets must be 1-D (n,) or 2-D (n, k), "
                     f"got shape {targets.shape}")


class MSE(Loss):
    """Mean squared error, (1/k) sum_i (z_i - t_i)^2 per example; for regression."""

    name = "mse"

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        zs, ts = self._row(output, encoded_row)
        return _mean([(z - t) ** 2 for z, t in zip(zs, ts)])


class L1(Loss):
    """Mean absolute error, (1/k) sum_i |z_i - t_i| per example; robust to outliers."""

    name = "l1"

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        zs, ts = self._row(output, encoded_row)
        return _mean([abs(z - t) for z, t in zip(zs, ts)])


class BCEWithLogits(Loss):
    """Binary cross-entropy of sigmoid(z) against t in [0, 1], from the logit z.

    softplus(z) - t z = -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))], exact and
    finite for every z. Targets are 0/1 labels (or probabilities), (n,) or (n, k).
    """

    name = "bce_with_logits"
    classification = True

    def encode_array(self, targets: np.ndarray, width: int | None) -> np.ndarray:
        columns = _columns(targets, self.name)
        bad = (columns < 0) | (columns > 1)
        if bad.any():
            i, j = (int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"{self.name}: targets must lie in [0, 1], got "
                             f"{float(columns[i, j]):g} (target {i})")
        return columns

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        zs, ts = self._row(output, encoded_row)
        return _mean([z.softplus() - t * z for z, t in zip(zs, ts)])

    def predicted_classes(self, raw: np.ndarray) -> np.ndarray | None:
        return classes_from_outputs(raw, threshold=0.0) if _single(raw) else None

    def target_classes(self, encoded: np.ndarray) -> np.ndarray | None:
        return (encoded[:, 0] > 0.5).astype(np.int64) if encoded.shape[1] == 1 else None


class CrossEntropy(Loss):
    """Softmax cross-entropy from logits with integer class targets.

    For logits z and class c: -log(e^(z_c) / sum_j e^(z_j)) = logsumexp(z) - z_c,
    written logsumexp(z) - sum_j t_j z_j with t the one-hot row of c. Targets are
    class indices 0..K-1 (n,), K = the number of model outputs (at least 2).
    """

    name = "cross_entropy"
    classification = True

    def encode_array(self, targets: np.ndarray, width: int | None) -> np.ndarray:
        if targets.ndim != 1:
            raise ValueError(f"{self.name}: targets must be 1-D class indices (n,), "
                             f"got shape {targets.shape}")
        if (targets != np.round(targets)).any() or (targets < 0).any():
            i = int(np.flatnonzero((targets != np.round(targets)) | (targets < 0))[0])
            raise ValueError(f"{self.name}: targets must be class indices 0, 1, 2, ..., "
                             f"got {float(targets[i]):g} (target {i})")
        largest = targets.max()
        # a float from 2**53 on is no exact integer: shown as the float it is
        shown = f"{largest:g}" if largest >= 2 ** 53 else str(int(largest))
        if width is None and largest >= MAX_CLASSES:
            raise ValueError(f"{self.name}: target class {shown} would need more than "
                             f"{MAX_CLASSES:,} outputs; at most {MAX_CLASSES:,} classes")
        k = int(largest) + 1 if width is None else width
        if k < 2:
            raise ValueError(f"{self.name}: needs at least 2 classes (model outputs), got {k}")
        if largest >= k:
            raise ValueError(f"{self.name}: target class {shown} is out of range "
                             f"for a model with {k} outputs (classes 0..{k - 1})")
        return one_hot(targets.astype(np.int64), k)

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        zs, ts = self._row(output, encoded_row)
        return ag.logsumexp(zs) - ag.dot(ts, zs)

    def predicted_classes(self, raw: np.ndarray) -> np.ndarray | None:
        return classes_from_outputs(raw)

    def target_classes(self, encoded: np.ndarray) -> np.ndarray | None:
        return np.argmax(encoded, axis=1)


class Hinge(Loss):
    """Max-margin (hinge) loss of one score z against a label y = +-1: relu(1 - y z).

    Zero once the example is on the right side with margin 1, as in micrograd's
    demo. Targets are class labels 0/1 (0 -> -1, 1 -> +1) or -1/+1, (n,) or (n, 1).
    """

    name = "hinge"
    classification = True

    def encode_array(self, targets: np.ndarray, width: int | None) -> np.ndarray:
        if width is not None and width != 1:
            raise ValueError(f"{self.name}: needs a model with 1 output (a binary score), "
                             f"but this model has {width} outputs")
        columns = _columns(targets, self.name)
        if columns.shape[1] != 1:
            raise ValueError(f"{self.name}: needs one output per example (a binary score), "
                             f"got targets of shape {targets.shape}")
        labels = set(np.unique(columns).tolist())
        if not (labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}):
            allowed = [0.0, 1.0] if -1.0 not in labels else [-1.0, 1.0]
            i = int(np.flatnonzero(~np.isin(columns[:, 0], allowed))[0])
            raise ValueError(f"{self.name}: targets must be class labels 0/1 or -1/+1, "
                             f"got the values {sorted(labels)[:5]} (target {i} is "
                             f"{float(columns[i, 0]):g})")
        return np.where(columns > 0, 1.0, -1.0)

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        zs, ts = self._row(output, encoded_row)
        return (1 - ts[0] * zs[0]).relu()

    def predicted_classes(self, raw: np.ndarray) -> np.ndarray | None:
        return classes_from_outputs(raw, threshold=0.0) if _single(raw) else None

    def target_classes(self, encoded: np.ndarray) -> np.ndarray | None:
        return (encoded[:, 0] > 0).astype(np.int64)


mse = MSE()
l1 = L1()
bce_with_logits = BCEWithLogits()
cross_entropy = CrossEntropy()
hinge = Hinge()

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (mse, l1, bce_with_logits,
                                                         cross_entropy, hinge)}


def get(name: str | Loss) -> Loss:
    """The loss called ``name`` (``"mse"``, ``"l1"``, ``"bce_with_logits"``,
    ``"cross_entropy"``, ``"hinge"``); a Loss is returned as it is."""
    if isinstance(name, Loss):
        return name
    if isinstance(name, str) and name in LOSSES:
        return LOSSES[name]
    raise ValueError(f"unknown loss {name!r}; expected a Loss or one of {sorted(LOSSES)}")


def check_reduction(reduction: object, name: str) -> None:
    """ValueError unless ``reduction`` is "mean" or "sum"."""
    choice("reduction", reduction, REDUCTIONS, who=name)


def one_hot(classes: np.ndarray, k: int) -> np.ndarray:
    """Rows e_c (n, k) for the class indices ``classes``: n * k floats, never k * k."""
    rows = np.zeros((len(classes), k))
    rows[np.arange(len(classes)), classes] = 1.0
    return rows


def _single(raw: np.ndarray) -> bool:
    return raw.ndim == 1 or raw.shape[1] == 1


def _as_list(output: Any) -> list[Value]:
    """A model output (a Value, a number or a sequence of them) as a list of Values."""
    if isinstance(output, Value) or is_real(output):
        return [output if isinstance(output, Value) else Value(output)]
    if isinstance(output, (list, tuple)) and output:
        return [o if isinstance(o, Value) else Value(o) for o in output]
    raise TypeError(f"a model output must be a Value or a non-empty list of Values, "
                    f"got {type(output).__name__}")


def _batch_outputs(outputs: Any, name: str) -> list[Any]:
    if isinstance(outputs, Value) or not isinstance(outputs, (list, tuple)):
        raise TypeError(f"{name}: outputs must be a list with one model output per example, "
                        f"got {type(outputs).__name__}")
    if not outputs:
        raise ValueError(f"{name}: got no outputs; a batch needs at least one example")
    return list(outputs)


def _numeric_array(targets: Any, name: str) -> np.ndarray:
    array = real_array(targets, f"{name}: targets")
    if array is targets:  # the encoding may be a view of it: never of the caller's array
        array = array.copy()
    if array.size == 0 or array.ndim == 0:
        raise ValueError(f"{name}: targets must be a non-empty (n,) or (n, k) array, "
                         f"got shape {array.shape}")
    if not np.isfinite(array).all():
        rows = array.reshape(len(array), -1)
        i = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        value = float(rows[i][~np.isfinite(rows[i])][0])
        raise ValueError(f"{name}: targets must be finite, got {value} (target {i})")
    return array
