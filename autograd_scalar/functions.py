"""Free functions over Values: n-ary nodes and the table's rows as functions.

``sum`` and ``dot`` make one node each, however many inputs: d(sum)/dx_i = 1 and
d(w . x)/dw_i = x_i, d(w . x)/dx_i = w_i. The elementwise functions (``exp``,
``tanh``, ...) are the op table's rows themselves: each accepts a float, a NumPy
array or a Value and answers in kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import ops
from .value import Value, apply, dot_node

exp = ops.EXP
log = ops.LOG
sqrt = ops.SQRT
sin = ops.SIN
cos = ops.COS
tanh = ops.TANH
sigmoid = ops.SIGMOID
softplus = ops.SOFTPLUS
relu = ops.RELU


def sum(values: Iterable[Any]) -> Value:
    """One ``sum`` node over all of ``values`` (Values or numbers); 0 for none."""
    items = tuple(values)
    if not items:
        return Value(0.0)
    return apply(ops.SUM, items)


def dot(ws: Sequence[Any], xs: Sequence[Any]) -> Value:
    """One ``dot`` node for sum_i ws[i] * xs[i]; the lengths must agree."""
    ws, xs = tuple(ws), tuple(xs)
    if len(ws) != len(xs):
        raise ValueError(f"dot: ws has {len(ws)} entries but xs has {len(xs)}; "
                         "they must have the same length")
    if not ws:
        return Value(0.0)
    return dot_node(ws, xs)


def logsumexp(values: Iterable[Any]) -> Value:
    """One ``logsumexp`` node: log(sum_i e^(v_i)), exact at any magnitude.

    It is evaluated as m + log(sum_i e^(v_i - m)) with m = max_i v_i, so no exponent
    is positive; its derivatives are the softmax, d/dv_i = e^(v_i - out) <= 1.
    """
    items = tuple(values)
    if not items:
        raise ValueError("logsumexp: expected at least one value, got none")
    return apply(ops.LOGSUMEXP, items)
