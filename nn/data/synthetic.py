"""Seeded two-dimensional toy data sets for classification.

Each returns ``(X, y)``: X a float array of shape (n, d), y an int array of
class indices 0..K-1. ``noise`` is the standard deviation of Gaussian noise
added to every coordinate; ``seed`` (int, None or a NumPy Generator) makes the
draw reproducible. The points are shuffled, except in ``xor``, which cycles
through its four patterns so that any prefix is balanced.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_scalar.validate import integer, is_integer, real, real_array

from ..init import Seed, generator

Dataset = tuple[np.ndarray, np.ndarray]


def check_count(name: str, n: Any, least: int) -> int:
    """``n`` if it is an int >= ``least``; ValueError naming ``name`` otherwise."""
    return integer(name, n, least, what=f"an int >= {least}")


LARGEST_SCALE = 1e300
"""The largest noise, spread or number of turns: far beyond any use, and small enough that
no point overflows (a noise of 1e308 drew -inf, 1e308 turns gave NaN points)."""


def check_scale(name: str, x: Any, positive: bool = False) -> float:
    """``x`` as a float if it is a real number from 0 (excluded if ``positive``) to
    ``LARGEST_SCALE``."""
    return real(name, x, 0, LARGEST_SCALE, low_open=positive)


def finish(points: np.ndarray, labels: np.ndarray, noise: float, rng: np.random.Generator,
           shuffle: bool = True) -> Dataset:
    """Add noise, then shuffle points and labels together."""
    X = points + rng.normal(0.0, noise, size=points.shape) if noise > 0 else points.copy()
    y = labels.astype(np.int64)
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return X.astype(np.float64), y


def moons(n: int = 100, noise: float = 0.1, seed: Seed = None) -> Dataset:
    """Two interleaving half circles.

    Class 0: (cos t, sin t) for t in [0, pi]; class 1: (1 - cos t, 1/2 - sin t),
    the same arc turned over and shifted; n // 2 points on the first arc and the
    rest on the second, evenly spaced in t (the layout of scikit-learn's make_moons).
    """
    n = check_count("n", n, 2)
    noise = check_scale("noise", noise)
    rng = generator(seed)
    first = n // 2
    t0, t1 = np.linspace(0, math.pi, first), np.linspace(0, math.pi, n - first)
    points = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                             np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])])
    labels = np.repeat([0, 1], [first, n - first])
    return finish(points, labels, noise, rng)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: Seed = None
            ) -> Dataset:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < f < 1)."""
    n = check_count("n", n, 2)
    noise = check_scale("noise", noise)
    if not check_scale("factor", factor, positive=True) < 1:
        raise ValueError(f"factor must be a number in (0, 1), got {factor!r}")
    rng = generator(seed)
    first = n // 2
    t0 = np.linspace(0, 2 * math.pi, first, endpoint=False)
    t1 = np.linspace(0, 2 * math.pi, n - first, endpoint=False)
    points = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                             factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    labels = np.repeat([0, 1], [first, n - first])
    return finish(points, labels, noise, rng)


def spirals(n: int = 100, classes: int = 2, noise: float = 0.05, turns: float = 1.0,
            seed: Seed = None) -> Dataset:
    """``classes`` interleaved spiral arms around the origin.

    Arm k holds points at radius r in (0, 1] and angle 2 pi (turns * r + k / classes):
    each arm winds ``turns`` times and the arms are evenly rotated. Arms get n // classes
    points, the first n % classes arms one more.
    """
    classes = check_count("classes", classes, 2)
    n = check_count("n", n, classes)
    noise = check_scale("noise", noise)
    turns = check_scale("turns", turns, positive=True)
    rng = generator(seed)
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    parts, labels = [], []
    for k, m in enumerate(sizes):
        r = np.arange(1, m + 1) / m
        angle = 2 * math.pi * (turns * r + k / classes)
        parts.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
        labels.append(np.full(m, k))
    return finish(np.concatenate(parts), np.concatenate(labels), noise, rng)


def xor(n: int = 100, noise: float = 0.1, seed: Seed = None) -> Dataset:
    """The XOR problem: the patterns (0,0), (0,1), (1,0), (1,1) with labels a XOR b.

    Point i is pattern i % 4, so ``xor(4, noise=0)`` is the exact truth table.
    """
    n = check_count("n", n, 4)
    noise = check_scale("noise", noise)
    rng = generator(seed)
    patterns = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    index = np.arange(n) % 4
    labels = np.array([0, 1, 1, 0])[index]
    return finish(patterns[index], labels, noise, rng, shuffle=False)


def blobs(n: int = 300, centers: int | np.ndarray = 3, dim: int = 2, std: float = 1.0,
          seed: Seed = None) -> Dataset:
    """Gaussian blobs: class k is N(center_k, std^2 I); the n points are split among the K
    classes as evenly as can be (n // K or n // K + 1 each) and shuffled.

    ``centers`` is a number K of centers drawn uniformly from [-10, 10]^dim, or a
    (K, dim) array of centers (then ``dim`` is taken from it).
    """
    if is_integer(centers):
        k = check_count("centers", centers, 1)
        dim = check_count("dim", dim, 1)
    else:
        middles = center_array(centers)
        k = len(middles)
    n = check_count("n", n, k)
    std = check_scale("std", std)
    rng = generator(seed)  # drawn from only once every argument is checked
    if is_integer(centers):
        middles = rng.uniform(-10.0, 10.0, size=(k, dim))
    labels = np.arange(n) % k
    return finish(middles[labels], labels, std, rng)


def center_array(centers: Any) -> np.ndarray:
    """``centers`` as a (K, dim) float array of finite numbers of at most
    ``LARGEST_SCALE``; TypeError for text or complex numbers, ValueError otherwise."""
    try:
        middles = real_array(centers, "centers")
    except ValueError:  # rows of several lengths
        middles = np.empty((0, 0))
    if middles.ndim != 2 or middles.size == 0 or not np.isfinite(middles).all() \
            or (np.abs(middles) > LARGEST_SCALE).any():
        raise ValueError(f"centers must be a positive int or a (K, dim) array of finite "
                         f"numbers, got {centers!r}"[:300])
    return middles
