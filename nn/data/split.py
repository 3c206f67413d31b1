"""Hold-out splits and standardisation fitted on the training part only.

Standardising maps each feature to (x - mean) / std with the training set's mean
and standard deviation, and applies the same map to every other set: fitting it
on validation or test data would leak their statistics into training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_scalar.validate import all_finite, flag, is_real, real_array

from ..init import Seed, generator

Dataset = tuple[np.ndarray, np.ndarray]


def as_features(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a finite float array of shape (n, d): TypeError unless real numbers
    (complex numbers and text are refused, not converted), ValueError otherwise."""
    array = real_array(X, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (examples x features), got shape {array.shape}")
    if not all_finite(array):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def split(X: Any, y: Any, fraction: float = 0.2, seed: Seed = None, stratify: bool = False
          ) -> tuple[Dataset, Dataset]:
    """Shuffle, then hold out ``fraction`` of the examples: ``(X_train, y_train), (X_held,
    y_held)``.

    The held-out part has round(fraction * n) examples, and the training part the rest;
    ValueError if either would be empty. With ``stratify=True`` each class is split on
    its own in that proportion (for classification labels, which must then be sortable
    and not NaN), so both parts keep the class mix: the held-out part then has the sum
    over the classes of round(fraction * n_class), which may differ from
    round(fraction * n) by a few (Python's round halves to even). Everything is checked
    before the first number is drawn from ``seed`` (a Generator passed in is left as it
    was by a call that fails).
    """
    features = as_features(X)
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(f"y must be 1-D with one label per row of X ({len(features)}), got "
                         f"shape {labels.shape}")
    if not is_real(fraction) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number strictly between 0 and 1, got "
                         f"{fraction!r}")
    flag("stratify", stratify, who="split")
    groups = _classes(labels) if stratify else [np.arange(len(labels))]
    sizes = [round(fraction * len(group)) for group in groups]
    held_count = sum(sizes)
    if held_count == 0 or held_count == len(labels):
        each = (f", class by class ({len(groups)} classes of {len(labels) / len(groups):.3g} "
                "examples on average, each share rounded)") if stratify else ""
        raise ValueError(f"fraction {fraction} of {len(labels)} examples{each} leaves "
                         f"{held_count} held out and {len(labels) - held_count} for training; "
                         "both must be non-empty")
    rng = generator(seed)
    held_parts, kept_parts = [], []
    for group, size in zip(groups, sizes):
        order = rng.permutation(group)
        held_parts.append(order[:size])
        kept_parts.append(order[size:])
    held = rng.permutation(np.concatenate(held_parts))
    kept = rng.permutation(np.concatenate(kept_parts))
    return (features[kept], labels[kept]), (features[held], labels[held])


def _classes(labels: np.ndarray) -> list[np.ndarray]:
    """The example indices of each class, in the classes' sorted order; ValueError for a
    NaN label (it equals no class, so its examples would be dropped) or labels that
    cannot be sorted."""
    if labels.dtype.kind in "fc" and np.isnan(labels).any():
        raise ValueError(f"y has a NaN label (example {int(np.flatnonzero(np.isnan(labels))[0])}"
                         "); stratify=True needs a class for every example")
    try:
        classes, inverse = np.unique(labels, return_inverse=True)
    except TypeError as error:
        raise ValueError(f"stratify=True needs labels that can be sorted; y's cannot "
                         f"({error})") from None
    return [np.flatnonzero(inverse == k) for k in range(len(classes))]


@dataclass(frozen=True)
class Standardizer:
    """The map x -> (x - mean) / std, per feature, with the statistics of training data
    (:meth:`fit`); a feature that does not vary there has std 1, so it is only centred.

    Made directly, its statistics are checked: one finite mean and one std per feature,
    every std finite and > 0 with 1 / std finite (a subnormal std, 1e-320, would make
    every scaled input infinite); ValueError otherwise. They are kept as read-only float64
    arrays of its own: a Standardizer is frozen, and a new one is made to change them.
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        # copies: the caller's arrays may change after the check
        mean = np.array(real_array(self.mean, "the scaler's mean"))
        std = np.array(real_array(self.std, "the scaler's std"))
        if mean.ndim != 1 or mean.shape != std.shape:
            raise ValueError("the scaler needs one mean and one std per feature, got shapes "
                             f"{mean.shape} and {std.shape}")
        if not np.isfinite(mean).all():
            raise ValueError(f"the scaler's mean must be finite, got {mean.tolist()}"[:300])
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            inverse = 1.0 / std
        if not (np.isfinite(std).all() and (std > 0).all() and np.isfinite(inverse).all()):
            raise ValueError("the scaler's std must be finite and > 0 with 1 / std finite (a "
                             f"subnormal std makes every scaled input infinite), got "
                             f"{std.tolist()}"[:300])
        mean.flags.writeable = std.flags.writeable = False  # frozen all the way down
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles are made by the constructor, so they are checked and their
        arrays read-only too (a copy of the fields would come back writable)."""
        return (Standardizer, (self.mean, self.std))

    @classmethod
    def fit(cls, X: Any) -> Standardizer:
        """Learn the mean and standard deviation of each column of ``X``
        (``column_statistics``); ValueError for a column whose spread is too small to
        divide by (1 / std overflows: values near 1e-308 and below)."""
        features = as_features(X)
        if len(features) == 0:
            raise ValueError("cannot fit a standardizer to 0 examples")
        mean, std = column_statistics(features)
        with np.errstate(divide="ignore", over="ignore"):
            tiny = ~np.isfinite(1.0 / std)
        if tiny.any():
            j = int(np.flatnonzero(tiny)[0])
            raise ValueError(f"feature {j} of X varies by {std[j]:.3g}, too little to divide "
                             "by (1 / std overflows); scale it up first")
        return cls(mean, std)

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


def column_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation (of the population, as NumPy's ``std``),
    a column that does not vary getting std 1.

    Each column is first scaled by the power of two just above its largest |x|, which
    is exact in binary: the statistics are NumPy's to the bit wherever those do not
    overflow or underflow, and stay finite where they would (the squares of 1e200 are
    inf, so [1e200, -1e200] had std inf; the mean of [1e308, 1e308] was inf). A column
    varies when its std exceeds n eps |mean| (scikit-learn's bound): below that the
    spread is the rounding of the mean itself, as for n copies of 0.1, whose mean is not
    0.1 in binary and whose std was 1.4e-17, blowing a new point at 0.2 up to 7e15.
    """
    _, exponent = np.frexp(np.abs(features).max(axis=0))
    scaled = np.ldexp(features, -exponent)
    mean, std = scaled.mean(axis=0), scaled.std(axis=0)
    varies = std > len(features) * np.finfo(np.float64).eps * np.abs(mean)
    return np.ldexp(mean, exponent), np.where(varies, np.ldexp(std, exponent), 1.0)


def standardize(train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Standardise ``train`` with its own statistics and each of ``others`` with the same.

    ``Xtr, Xte = standardize(X_train, X_test)``; use :class:`Standardizer` to keep
    the map for new points.
    """
    scaler = Standardizer.fit(train)
    return tuple(scaler(X) for X in (train, *others))
