"""Data sets and helpers: seeded toy problems, real digits, splits and standardisation.

Classification sets return ``(X, y)``: X a float array (n, d), y int class indices.
"""

from .real import digits, mnist_5k
from .rumelhart1986 import family_trees, symmetry
from .split import Standardizer, split, standardize
from .synthetic import blobs, circles, moons, spirals, xor

__all__ = [
           "Standardizer",
           "blobs",
           "circles",
           "digits",
           "family_trees",
           "mnist_5k",
           "moons",
           "spirals",
           "split",
           "standardize",
           "symmetry",
           "xor",
]
