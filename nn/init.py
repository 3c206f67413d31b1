"""Weight initialisation schemes, reproducible from a seed.

- ``"uniform"``: w ~ U(-1, 1), micrograd's choice.
- ``"glorot"`` (Glorot and Bengio 2010): w ~ U(-a, a) with a = sqrt(6 / (fan_in +
  fan_out)), so Var(w) = a^2 / 3 = 2 / (fan_in + fan_out) keeps the variance of
  activations and of gradients roughly constant through tanh and sigmoid layers.
- ``"he"`` (He et al. 2015): w ~ N(0, 2 / fan_in), which keeps the variance of
  activations constant through relu layers (relu halves the second moment).

Biases start at zero in every scheme. A seed is an int, ``None`` (fresh entropy)
or a ``numpy.random.Generator``; a model passes one Generator to each of its
neurons in turn, so the same seed always gives the same weights.
"""

from __future__ import annotations

import math
from typing import Union

import numpy as np

Seed = Union[int, np.random.Generator, None]

SCHEMES = ("uniform", "glorot", "he")
"""The valid values of ``init``."""


def generator(seed: Seed) -> np.random.Generator:
    """A NumPy Generator from an int seed, ``None`` or an existing Generator (kept as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
                        and seed >= 0):
        return np.random.default_rng(seed)
    raise ValueError(f"seed must be a non-negative int, None or a numpy.random.Generator, "
                     f"got {seed!r}")


def check_scheme(init: str) -> str:
    """``init`` if it names a scheme; ValueError listing the valid names otherwise."""
    if init not in SCHEMES:
        valid = ", ".join(repr(s) for s in SCHEMES)
        raise ValueError(f"unknown init {init!r}; expected one of {valid}")
    return init


def limit(init: str, fan_in: int, fan_out: int) -> float:
    """The bound a of U(-a, a) for the uniform schemes, or the std of the normal one."""
    check_scheme(init)
    if init == "uniform":
        return 1.0
    if init == "glorot":
        return math.sqrt(6.0 / (fan_in + fan_out))
    return math.sqrt(2.0 / fan_in)


def weights(init: str, fan_in: int, fan_out: int, seed: Seed = None) -> np.ndarray:
    """``fan_in`` weights of one neuron drawn by scheme ``init``.

    ``fan_in`` is the number of the neuron's inputs and ``fan_out`` the number of
    neurons in its layer (it matters only to ``"glorot"``).
    """
    for name, n in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    a = limit(init, fan_in, fan_out)
    rng = generator(seed)
    if init == "he":
        return rng.normal(0.0, a, size=fan_in)
    return rng.uniform(-a, a, size=fan_in)
