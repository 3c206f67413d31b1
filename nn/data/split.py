"""Hold-out splits and standardisation fitted on the training part only.

Standardising maps each feature to (x - mean) / std with the training set's mean
and standard deviation, and applies the same map to every other set: fitting it
on validation or test data would leak their statistics into training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_scalar.validate import is_real

from ..init import Seed, generator

Dataset = tuple[np.ndarray, np.ndarray]


def as_features(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a finite float array of shape (n, d); ValueError otherwise."""
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2-D array of numbers, got {type(X).__name__}"
                         ) from None
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (examples x features), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def split(X: Any, y: Any, fraction: float = 0.2, seed: Seed = None, stratify: bool = False
          ) -> tuple[Dataset, Dataset]:
    """Shuffle, then hold out ``fraction`` of the examples: ``(X_train, y_train), (X_held,
    y_held)``.

    The held-out part has round(fraction * n) examples, at least one, and leaves at
    least one for training. With ``stratify=True`` each class is split on its own in
    that proportion (for classification labels), so both parts keep the class mix: the
    held-out part then has the sum over the classes of round(fraction * n_class), which
    may differ from round(fraction * n) by a few (Python's round halves to even).
    """
    features = as_features(X)
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(f"y must be 1-D with one label per row of X ({len(features)}), got "
                         f"shape {labels.shape}")
    if not is_real(fraction) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number strictly between 0 and 1, got "
                         f"{fraction!r}")
    rng = generator(seed)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)] if stratify \
        else [np.arange(len(labels))]
    held_parts, kept_parts = [], []
    for group in groups:
        order = rng.permutation(group)
        size = round(fraction * len(order))
        held_parts.append(order[:size])
        kept_parts.append(order[size:])
    held = rng.permutation(np.concatenate(held_parts))
    kept = rng.permutation(np.concatenate(kept_parts))
    if len(held) == 0 or len(kept) == 0:
        each = (f", class by class ({len(groups)} classes of {len(labels) / len(groups):.3g} "
                "examples on average, each share rounded)") if stratify else ""
        raise ValueError(f"fraction {fraction} of {len(labels)} examples{each} leaves "
                         f"{len(held)} held out and {len(kept)} for training; both must be "
                         f"non-empty")
    return (features[kept], labels[kept]), (features[held], labels[held])


@dataclass(frozen=True)
class Standardizer:
    """The map x -> (x - mean) / std, per feature; features with std 0 are only centred."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: Any) -> Standardizer:
        """Learn the mean and standard deviation of each column of ``X``."""
        features = as_features(X)
        if len(features) == 0:
            raise ValueError("cannot fit a standardizer to 0 examples")
        std = features.std(axis=0)
        return cls(features.mean(axis=0), np.where(std > 0, std, 1.0))

    def __call__(self, X: Any) -> np.ndarray:
        """``X`` standardised with the fitted statistics."""
        return (self._fitted_width(X, "X") - self.mean) / self.std

    def inverse(self, Z: Any) -> np.ndarray:
        """Undo the map: z * std + mean."""
        return self._fitted_width(Z, "Z") * self.std + self.mean

    def _fitted_width(self, X: Any, name: str) -> np.ndarray:
        """``X`` as features (see :func:`as_features`) with as many columns as fitted."""
        features = as_features(X, name)
        if features.shape[1] != len(self.mean):
            raise ValueError(f"expected {len(self.mean)} features, as fitted, got "
                             f"{features.shape[1]}")
        return features


def standardize(train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Standardise ``train`` with its own statistics and each of ``others`` with the same.

    ``Xtr, Xte = standardize(X_train, X_test)``; use :class:`Standardizer` to keep
    the map for new points.
    """
    scaler = Standardizer.fit(train)
    return tuple(scaler(X) for X in (train, *others))
