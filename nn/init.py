"""Weight initialisation schemes, reproducible from a seed.

- ``"fan_in"`` (the default; PyTorch's rule for ``nn.Linear``): w and b ~ U(-a, a)
  with a = 1 / sqrt(fan_in), so Var(w . x) = fan_in * a^2 / 3 * E[x^2] = E[x^2] / 3
  whatever the width: a wide layer's pre-activations stay of the size of its inputs
  (with U(-1, 1), 784 inputs in [0, 1] give pre-activations of size ~10).
- ``"uniform"``: w ~ U(-1, 1), micrograd's choice (the one that reproduces micrograd).
- ``"glorot"`` (Glorot and Bengio 2010): w ~ U(-a, a) with a = sqrt(6 / (fan_in +
  fan_out)), so Var(w) = a^2 / 3 = 2 / (fan_in + fan_out) keeps the variance of
  activations and of gradients roughly constant through tanh and sigmoid layers.
- ``"he"`` (He et al. 2015): w ~ N(0, 2 / fan_in), which keeps the variance of
  activations constant through relu layers (relu halves the second moment).

Biases start at zero in every scheme but ``"fan_in"``. A seed is an int, ``None``
or a ``numpy.random.Generator``; a model passes one Generator to each of its
neurons in turn, so the same seed always gives the same weights, whatever else
the program draws. ``None`` takes its seed from Python's ``random`` module, so
``random.seed(n)`` makes unseeded models and data sets repeat too (as it does
micrograd's, which draws from ``random``), and an unseeded program still varies.
"""

from __future__ import annotations

import math
import random
from typing import Union

import numpy as np

from autograd_scalar.validate import integer, is_integer

Seed = Union[int, np.random.Generator, None]

SCHEMES = ("fan_in", "uniform", "glorot", "he")
"""The valid values of ``init``; the first is the default."""
DEFAULT = SCHEMES[0]


def generator(seed: Seed) -> np.random.Generator:
    """A NumPy Generator from an int seed, an existing Generator (kept as is), or for
    ``None`` one seeded by Python's ``random`` (so ``random.seed`` governs it)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng(random.getrandbits(128))
    if is_integer(seed) and seed >= 0:
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
    if init == "fan_in":
        return 1.0 / math.sqrt(fan_in)
    if init == "glorot":
        return math.sqrt(6.0 / (fan_in + fan_out))
    return math.sqrt(2.0 / fan_in)


def weights(init: str, fan_in: int, fan_out: int, seed: Seed = None) -> np.ndarray:
    """``fan_in`` weights of one neuron drawn by scheme ``init``.

    ``fan_in`` is the number of the neuron's inputs and ``fan_out`` the number of
    neurons in its layer (it matters only to ``"glorot"``).
    """
    return _draw(init, fan_in, fan_out, seed, fan_in)


def neuron(init: str, fan_in: int, fan_out: int, seed: Seed = None) -> tuple[np.ndarray, float]:
    """One neuron's ``fan_in`` weights and its bias, drawn in that order by ``init``:
    the bias is 0, except for ``"fan_in"``, which draws it like a weight."""
    drawn = _draw(init, fan_in, fan_out, seed, fan_in + (init == "fan_in"))
    return (drawn[:fan_in], float(drawn[fan_in])) if init == "fan_in" else (drawn, 0.0)


def _draw(init: str, fan_in: int, fan_out: int, seed: Seed, count: int) -> np.ndarray:
    """``count`` numbers drawn by ``init`` for a neuron with ``fan_in`` inputs."""
    for name, n in (("fan_in", fan_in), ("fan_out", fan_out)):
        integer(name, n, 1)
    a = limit(init, fan_in, fan_out)
    rng = generator(seed)
    if init == "he":
        return rng.normal(0.0, a, size=count)
    return rng.uniform(-a, a, size=count)
