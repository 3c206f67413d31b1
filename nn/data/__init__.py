"""Data sets and helpers: seeded toy problems, real digits, names, splits and standardisation.

Classification sets return ``(X, y)``: X a float array (n, d), y int class indices.
``names()`` is makemore's list of names, for character-level models.
"""

from .names import names
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
           "names",
           "spirals",
           "split",
           "standardize",
           "symmetry",
           "xor",
]
