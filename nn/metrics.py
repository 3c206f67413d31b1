"""Classification metrics: class decisions from raw outputs, accuracy, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_scalar.validate import is_integer


def classes_from_outputs(raw: Any, threshold: float = 0.0) -> np.ndarray:
    """Predicted class indices from raw model outputs.

    One output per example (shape (n,) or (n, 1)) is a binary score: class 1 where
    it exceeds ``threshold`` (0 for logits and hinge scores), else class 0. Several
    outputs (n, k) are per-class scores: the class with the largest.
    """
    array = np.asarray(raw, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 1:
        return (array > threshold).astype(np.int64)
    if array.ndim == 2 and array.shape[1] > 1:
        return np.argmax(array, axis=1)
    raise ValueError(f"raw outputs must have shape (n,) or (n, k), got {array.shape}")


LARGEST_CLASS = 2 ** 53
"""Class indices must be below this: every integer up to it is exact in float64 and in
int64 (2 ** 63 and above wrapped to negative indices: 1e20 and 1e20 + 1e5 compared
equal)."""

MAX_CONFUSION_CLASSES = 10_000
"""The most classes a confusion matrix is made for (K x K counts: 800 MB at 10,000)."""


def class_indices(values: Any, what: str) -> np.ndarray:
    """Class indices as int64: integers, integral floats, or booleans (False 0, True 1).

    TypeError for text, complex numbers or other objects; ValueError for a shape other
    than (n,) with n >= 1, or an index that is not a whole number from 0 to
    ``LARGEST_CLASS`` - 1."""
    try:
        array = np.asarray(values)
    except ValueError:  # rows of several lengths
        raise ValueError(f"{what} must be a 1-D array of class indices, one number per "
                         "example; its entries have several lengths") from None
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    if array.ndim != 1 or array.size == 0:
        hint = (" (for a model's raw outputs (n, k), take the classes first: "
                "scores.argmax(axis=1))" if what == "y_pred" and array.ndim == 2
                and array.shape[1] > 1 and array.size else "")
        raise ValueError(f"{what} must be a non-empty 1-D array of class indices, "
                         f"got shape {array.shape}{hint}")
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{what} must hold integer class indices, got dtype {array.dtype}")
    whole = np.isfinite(array) & (array == np.round(array))
    if not whole.all():
        raise ValueError(f"{what} must hold integer class indices, got "
                         f"{array[~whole][0].item()!r} (for a model's raw outputs, take the "
                         "classes first: scores > 0 for one output, scores.argmax(axis=1) "
                         "for several)")
    if (array < 0).any():
        raise ValueError(f"{what} must hold class indices >= 0, got {array[array < 0][0]}")
    if (array >= LARGEST_CLASS).any():
        raise ValueError(f"{what} must hold class indices below 2**53, got "
                         f"{array[array >= LARGEST_CLASS][0].item()!r}")
    return array.astype(np.int64)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    true = class_indices(y_true, "y_true")
    pred = class_indices(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}; "
                         "they must have the same length")
    return true, pred


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of examples whose predicted class equals the true class."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(true == pred))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of examples of true class i predicted as class j (rows: truth).

    ``num_classes`` fixes the size K (default: the largest label seen, plus one), at most
    ``MAX_CONFUSION_CLASSES``.
    """
    true, pred = _pair(y_true, y_pred)
    seen = int(max(true.max(), pred.max())) + 1
    if num_classes is None:
        num_classes = seen
    elif not is_integer(num_classes) or num_classes < seen:
        raise ValueError(f"num_classes must be an int >= {seen} (the largest label plus one), "
                         f"got {num_classes!r}")
    if num_classes > MAX_CONFUSION_CLASSES:
        raise ValueError(f"a confusion matrix of {num_classes:,} classes would hold "
                         f"{num_classes:,}^2 counts; at most {MAX_CONFUSION_CLASSES:,} classes "
                         "(the largest label seen plus one, or num_classes)")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (true, pred), 1)
    return matrix
