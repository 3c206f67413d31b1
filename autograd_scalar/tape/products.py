"""Local derivative times upstream gradient, as the eager chain rule multiplies them.

In the eager chain rule (:mod:`autograd_scalar.backward`) a zero partial derivative
contributes exactly zero, even against an infinite or NaN upstream gradient (where
IEEE gives 0 * inf = NaN). The tape's steps compute their products as usual, and
mend them with :func:`times` only when the upstream gradient is not all
:func:`finite`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def finite(upstream: np.ndarray) -> bool:
    """Whether every upstream gradient is finite (a sum is cheaper than a mask; an
    overflowing sum of finite numbers only sends the product to the careful path)."""
    return math.isfinite(np.add.reduce(upstream, axis=None))


def times(partial: Any, upstream: Any) -> Any:
    """partial * upstream, elementwise, with exactly 0.0 where the partial is 0 and the
    product NaN (0 * inf, 0 * NaN): a zero local derivative passes nothing back.

    Call it where the upstream gradient is not all :func:`finite`; elsewhere the
    plain product is the same. The condition is the eager loop's, so both agree
    to the bit (a zero partial against a finite upstream keeps IEEE's signed zero).
    """
    product = np.multiply(partial, upstream)
    return np.where(np.isnan(product) & (np.asarray(partial) == 0), 0.0, product)
