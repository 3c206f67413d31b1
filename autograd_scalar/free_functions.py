"""Free functions over Values: n-ary nodes and the table's rows as functions.

``sum``, ``dot`` and ``affine`` make one node each, however many inputs:
d(sum)/dx_i = 1; d(w . x)/dw_i = x_i, d(w . x)/dx_i = w_i; and the affine map
b + w . x (a neuron before its activation) adds d/db = 1. ``linear`` makes a
whole layer's affine nodes, W x + b, at once. The elementwise functions (``exp``,
``tanh``, ``erf``, ...) are the op table's rows themselves, every row marked
``method`` (``ops.METHODS``): each accepts a float, a NumPy array or a Value and
answers in kind. ``gather`` selects one of n Values by an index that is itself
data: d/dv_i = 1 for the selected one, 0 for the others and for the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import ops
from .backward import UNORDERED
from .value import Value, affine_nodes, apply, lift

globals().update(ops.METHODS)
ELEMENTWISE: tuple[str, ...] = tuple(ops.METHODS)
"""The names of the table's one-input rows exported as functions (exp, tanh, erf, ...)."""


def sum(values: Iterable[Any]) -> Value:
    """One ``sum`` node over all of ``values`` (Values or numbers); 0 for none."""
    items = tuple(values)
    if not items:
        return Value(0.0)
    return apply(ops.SUM, items)


def dot(ws: Sequence[Any], xs: Sequence[Any]) -> Value:
    """One ``dot`` node for sum_i ws[i] * xs[i]; the lengths must agree."""
    ws, xs = _pair(ws, xs, "dot")
    if not ws:
        return Value(0.0)
    return apply(ops.DOT, ws + xs)


def affine(ws: Sequence[Any], xs: Sequence[Any], b: Any) -> Value:
    """One ``affine`` node for b + sum_i ws[i] * xs[i]; the lengths must agree.

    It is the pre-activation of a neuron, ``dot(ws, xs) + b`` as one node instead
    of two, added in micrograd's order: from b, then each product in turn (so the
    last bit may differ from ``dot(ws, xs) + b``). There must be at least one input.
    """
    ws, xs = _pair(ws, xs, "affine")
    return _affine_map((ws,), xs, (b,), "affine")[0]


def linear(W: Sequence[Sequence[Any]], xs: Sequence[Any], b: Sequence[Any]) -> list[Value]:
    """The affine map W x + b as one ``affine`` node per row: b[j] + W[j] . xs.

    A layer's pre-activations: ``W`` holds one row of weights per output, each as
    long as ``xs`` (at least one), and ``b`` one bias per row. The xs are checked
    and read once for all rows; numbers among them become constant leaves shared by
    the rows.
    """
    xs, biases, rows = (_sequence(xs, "linear", "xs"), _sequence(b, "linear", "b"),
                        _sequence(W, "linear", "W"))
    try:
        lengths = set(map(len, rows))
    except TypeError:
        rows = tuple(_sequence(row, "linear", f"row {j} of W") for j, row in enumerate(rows))
        lengths = set(map(len, rows))
    if len(biases) != len(rows):
        raise ValueError(f"linear: W has {len(rows)} rows but b has {len(biases)} entries; "
                         "they must have the same length")
    if lengths - {len(xs)}:
        j = next(j for j, ws in enumerate(rows) if len(ws) != len(xs))
        raise ValueError(f"linear: row {j} of W has {len(rows[j])} entries but xs has "
                         f"{len(xs)}; they must have the same length")
    return _affine_map(rows, xs, biases, "linear")


def _affine_map(rows: Sequence[Sequence[Any]], xs: tuple[Any, ...], biases: Sequence[Any],
                name: str) -> list[Value]:
    """The affine nodes of rows whose lengths are checked; numbers in xs lifted once."""
    if not xs and rows:
        raise ValueError(f"{name}: there are no inputs xs; an affine node needs at least one "
                         "(for a bias alone, use the bias itself)")
    return affine_nodes(rows, tuple(lift(x, name) for x in xs), biases)


def _pair(ws: Any, xs: Any, name: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """ws and xs as tuples of the same length, or an error naming ``name``."""
    ws, xs = _sequence(ws, name, "ws"), _sequence(xs, name, "xs")
    if len(ws) != len(xs):
        raise ValueError(f"{name}: ws has {len(ws)} entries but xs has {len(xs)}; "
                         "they must have the same length")
    return ws, xs


def _sequence(items: Any, name: str, what: str) -> tuple[Any, ...]:
    """``items`` as a tuple; TypeError for text, for what is not iterable, and for a set or
    a dict, whose order is not the caller's (which weight meets which input would be
    chance)."""
    if type(items) is tuple:
        return items
    if isinstance(items, UNORDERED):
        raise TypeError(f"{name}: {what} must be a sequence in an order of your own (a list "
                        f"or a tuple), got a {type(items).__name__}, which has no order")
    if type(items) is not list and (isinstance(items, (str, bytes))
                                    or not isinstance(items, Iterable)):
        raise TypeError(f"{name}: {what} must be a sequence, got {type(items).__name__}")
    return tuple(items)


def logsumexp(values: Iterable[Any]) -> Value:
    """One ``logsumexp`` node: log(sum_i e^(v_i)), exact at any magnitude.

    It is evaluated as m + log(sum_i e^(v_i - m)) with m = max_i v_i, so no exponent
    is positive; its derivatives are the softmax, d/dv_i = e^(v_i - out) <= 1.
    """
    items = tuple(values)
    if not items:
        raise ValueError("logsumexp: expected at least one value, got none")
    return apply(ops.LOGSUMEXP, items)


def gather(values: Sequence[Any], index: Any) -> Value:
    """One ``gather`` node: ``values[index]``, with the index an operand of the graph.

    ``index`` (an int, an integral float or a Value holding one) must select one of
    the ``values``, 0 <= index < len(values). The node's derivatives are one-hot:
    d/dv_i = 1 if i == index else 0, and 0 for the index. The selection is data, not
    structure: the same node shape serves every index (a token's embedding row, the
    probability of a target), so a traced program can take the index as an input.
    """
    items = _sequence(values, "gather", "values")
    if not items:
        raise ValueError("gather: expected at least one value to select from, got none")
    return apply(ops.GATHER, (*items, index))
