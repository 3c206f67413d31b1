"""Value: a real number that remembers how it was computed.

Each operation on Values makes a new node holding its result (``data``), its
inputs (``children``), the row of the op table that made it (``op`` names it), and
the local derivatives d out / d child as floats, computed once by the row's rule.
``backward()`` multiplies those along every path from the output (the chain rule)
in one generic loop; no node carries a closure.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from . import ops
from .mode import MODE, AnomalyError
from .ops import Op, evaluate, local_derivatives

REAL_TYPES = (int, float, np.integer, np.floating)
Number = Union[int, float, np.integer, np.floating]
Operand = Union["Value", Number]


def as_float(x: object, what: str = "Value") -> float:
    """``x`` as a float if it is a real number (bools and complex numbers are not)."""
    if isinstance(x, REAL_TYPES) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"{what} expects a real number (int, float or NumPy scalar), "
                    f"got {type(x).__name__}: {x!r}"[:300])


class Value:
    """A scalar node of a computation graph.

    ``Value(data, label="")`` makes a leaf. Arithmetic (``+ - * / **``, unary ``-``,
    ``abs``) and the methods below make new nodes. ``backward()`` fills ``grad``:
    d output / d node for every node the output depends on. ``scope`` names the
    nn module (if any) inside whose call the node was made.
    """

    __slots__ = ("data", "grad", "label", "scope", "children", "_row", "_local", "_users")
    __array_ufunc__ = None  # NumPy scalars defer to Value's reflected operators

    data: float
    grad: Any
    label: str
    scope: str
    children: tuple[Value, ...]
    _row: Op | None
    _local: Any  # a tuple, or one bare float for a one-input node
    _users: int

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = data if type(data) is float else as_float(data)
        self.grad = 0.0
        self.label = label
        self.scope = MODE.scope
        self.children = ()
        self._row = None
        self._local = ()
        self._users = 0

    # -- inspection -----------------------------------------------------------

    @property
    def op(self) -> str:
        """The name of the op that made this node ("" for a leaf)."""
        return "" if self._row is None else self._row.name

    @property
    def row(self) -> Op | None:
        """The op-table row that made this node (None for a leaf)."""
        return self._row

    @property
    def local_grads(self) -> tuple[Any, ...]:
        """d self / d child for each child, as stored at the forward pass."""
        local = self._local
        return (local,) if type(local) is float else tuple(local)

    _op = op  # micrograd's names, for code written against its engine

    @property
    def _prev(self) -> set[Value]:
        return set(self.children)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    # -- arithmetic -----------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        return _binary_reflected(ops.ADD, self, other)

    def __sub__(self, other: Operand) -> Value:
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Number) -> Value:
        return _binary_reflected(ops.SUB, self, other)

    def __mul__(self, other: Operand) -> Value:
        return _binary(ops.MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        return _binary_reflected(ops.MUL, self, other)

    def __truediv__(self, other: Operand) -> Value:
        return _binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Number) -> Value:
        return _binary_reflected(ops.DIV, self, other)

    def __pow__(self, other: Operand) -> Value:
        if type(other) is Value:
            return _binary(ops.POW, self, other)
        if isinstance(other, REAL_TYPES) and not isinstance(other, bool):
            return _unary(ops.power(float(other)), self)
        return NotImplemented

    def __rpow__(self, other: Number) -> Value:
        return _binary_reflected(ops.POW, self, other)

    def __neg__(self) -> Value:
        return _unary(ops.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(ops.ABS, self)

    # -- elementary functions -------------------------------------------------

    def abs(self) -> Value:
        """|x|; d/dx = sign(x)."""
        return _unary(ops.ABS, self)

    def relu(self) -> Value:
        """max(x, 0); d/dx = 1 for x > 0, else 0."""
        return _unary(ops.RELU, self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, else slope * x."""
        return _unary(ops.leaky_relu(as_float(slope, "leaky_relu slope")), self)

    def tanh(self) -> Value:
        """tanh(x); d/dx = 1 - tanh(x)**2."""
        return _unary(ops.TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), stable for any x; d/dx = s (1 - s)."""
        return _unary(ops.SIGMOID, self)

    def softplus(self) -> Value:
        """log(1 + e^x), stable for any x; d/dx = sigmoid(x)."""
        return _unary(ops.SOFTPLUS, self)

    def exp(self) -> Value:
        """e^x; d/dx = e^x."""
        return _unary(ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm, for x > 0; d/dx = 1/x."""
        return _unary(ops.LOG, self)

    def sqrt(self) -> Value:
        """Square root, for x >= 0; d/dx = 1 / (2 sqrt(x))."""
        return _unary(ops.SQRT, self)

    def sin(self) -> Value:
        """sin(x); d/dx = cos(x)."""
        return _unary(ops.SIN, self)

    def cos(self) -> Value:
        """cos(x); d/dx = -sin(x)."""
        return _unary(ops.COS, self)

    # -- gradients ------------------------------------------------------------

    def backward(self, grad: Number = 1.0) -> None:
        """Accumulate d self / d leaf into every leaf's ``grad``.

        Interior nodes get this pass's gradient (not accumulated), so calling
        ``backward()`` twice leaves exactly twice the gradient in every leaf.
        """
        from .backward import backward

        backward(self, grad)

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from this graph."""
        return Value(self.data, self.label)


_new = object.__new__


def _node(data: float, children: tuple[Value, ...], row: Op,
          local: tuple[Any, ...] | float) -> Value:
    """A new node; with gradient tracking off (``no_grad``) it is a leaf."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.scope = MODE.scope
    node._users = 0
    if MODE.grad_enabled:
        node.children = children
        node._row = row
        node._local = local
    else:
        node.children = ()
        node._row = None
        node._local = ()
    if MODE.anomaly:
        check_finite_forward(node, row, children)
    return node


def _constant(x: Number) -> Value:
    """A constant leaf for a number met as an operand (already checked to be real)."""
    node = _new(Value)
    node.data = x if type(x) is float else float(x)
    node.grad = 0.0
    node.label = ""
    node.scope = MODE.scope
    node.children = ()
    node._row = None
    node._local = ()
    node._users = 0
    return node


def _unary(row: Op, x: Value) -> Value:
    """The node ``row(x)``: the hot path of every method, with ``_node`` written inline.

    _unary and _binary repeat _node's assignments on purpose: one call fewer per
    node is a measured tenth of an MLP step. Under no_grad or detect_anomaly they
    go through _node itself. A one-input node keeps its one local derivative as a
    bare float, not in a tuple (unless it is some other number, say a NumPy scalar
    from a ``data`` set by hand): an object fewer to allocate and collect per node.
    ``local_grads`` and backward read either form.
    """
    a = x.data
    if row.check is not None:
        error = row.check(a)
        if error is not None:
            raise error
    try:
        out = row.scalar(a)
    except (ArithmeticError, ValueError):
        out = evaluate(row, (a,))
    if not MODE.grad_enabled:
        return _node(out, (), row, ())
    try:
        local: Any = row.derivatives(a, out)
    except (ArithmeticError, ValueError):
        local = local_derivatives(row, (a,), out)
    if type(local[0]) is float:
        local = local[0]
    if MODE.anomaly:
        return _node(out, (x,), row, local)
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node.scope = MODE.scope
    node.children = (x,)
    node._row = row
    node._local = local
    node._users = 0
    return node


def _binary(row: Op, x: Value, other: Operand) -> Value:
    """The node ``row(x, other)``, numbers lifted to constants (see :func:`_unary`)."""
    if type(other) is not Value:
        if not isinstance(other, REAL_TYPES) or isinstance(other, bool):
            return NotImplemented
        other = _constant(other)
    a = x.data
    b = other.data
    if row.check is not None:
        error = row.check(a, b)
        if error is not None:
            raise error
    try:
        out = row.scalar(a, b)
    except (ArithmeticError, ValueError):
        out = evaluate(row, (a, b))
    if not MODE.grad_enabled:
        return _node(out, (), row, ())
    try:
        local = row.derivatives(a, b, out)
    except (ArithmeticError, ValueError):
        local = local_derivatives(row, (a, b), out)
    if MODE.anomaly:
        return _node(out, (x, other), row, local)
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node.label = ""
    node.scope = MODE.scope
    node.children = (x, other)
    node._row = row
    node._local = local
    node._users = 0
    return node


def _binary_reflected(row: Op, x: Value, other: Number) -> Value:
    if not isinstance(other, REAL_TYPES) or isinstance(other, bool):
        return NotImplemented
    return _binary(row, _constant(other), x)


def lift(x: object, op_name: str) -> Value:
    """``x`` itself if it is a Value, else a constant leaf; TypeError for non-numbers."""
    if type(x) is Value:
        return x
    return Value(as_float(x, f"{op_name}: an operand"))


_ONLY_VALUES = {Value}
_data = operator.attrgetter("data")


def apply(row: Op, args: Iterable[Any]) -> Value:
    """Make the node ``row(*args)``: the generic path, for any arity (numbers are lifted)."""
    children = tuple(args)
    if set(map(type, children)) != _ONLY_VALUES:
        children = tuple(lift(a, row.name) for a in children)
    if row.arity is not None and len(children) != row.arity:
        raise TypeError(f"{row.name} takes {row.arity} operand(s), got {len(children)}")
    xs = tuple(map(_data, children))
    out = evaluate(row, xs)
    local = local_derivatives(row, xs, out) if MODE.grad_enabled else ()
    return _node(out, children, row, local)


def dot_node(ws: tuple[Any, ...], xs: tuple[Any, ...]) -> Value:
    """The ``dot`` node of ws . xs (equal lengths, at least one), made directly.

    The same node as ``apply(ops.DOT, ws + xs)``, from the row's own forward and
    rule (``ops.dot_forward``, ``ops.dot_partials``) on the two halves, without the
    generic path's packing and unpacking of every operand. Numbers among the
    operands, ``no_grad`` and ``detect_anomaly`` take the generic path.
    """
    children = (*ws, *xs)
    wd = _data_of_values(ws)
    xd = _data_of_values(xs)
    if wd is None or xd is None or not MODE.grad_enabled or MODE.anomaly:
        return apply(ops.DOT, children)
    return _made(ops.dot_forward(wd, xd), children, ops.DOT, ops.dot_partials(wd, xd))


def affine_nodes(rows: Iterable[Sequence[Any]], xs: tuple[Any, ...],
                 biases: Iterable[Any]) -> list[Value]:
    """The ``affine`` nodes b_j + rows[j] . xs, one per row: a layer's pre-activations.

    Each is the same node as ``apply(ops.AFFINE, rows[j] + xs + (b_j,))``, made from
    the row's own forward and rule (``ops.affine_forward``, ``ops.affine_partials``),
    with the xs checked and read once for all rows: a layer makes one per neuron
    per example. Numbers among the operands, ``no_grad`` and ``detect_anomaly``
    take the generic path. The lengths must already agree.
    """
    xd = _data_of_values(xs)
    if xd is None or not MODE.grad_enabled or MODE.anomaly:
        return [apply(ops.AFFINE, (*ws, *xs, b)) for ws, b in zip(rows, biases)]
    nodes = []
    for ws, b in zip(rows, biases):
        children = (*ws, *xs, b)
        wd = _data_of_values(ws)
        if wd is None or type(b) is not Value:
            nodes.append(apply(ops.AFFINE, children))
            continue
        nodes.append(_made(ops.affine_forward(wd, xd, b.data), children, ops.AFFINE,
                           ops.affine_partials(wd, xd)))
    return nodes


def _data_of_values(values: Sequence[Any]) -> tuple[float, ...] | None:
    """The data of ``values`` if every one is a Value (checked as it is read), else None."""
    data = [v.data for v in values if type(v) is Value]
    return tuple(data) if len(data) == len(values) else None


def _made(data: float, children: tuple[Value, ...], row: Op, local: tuple[Any, ...]) -> Value:
    """A new node with gradient tracking on and no anomaly check (the n-ary fast paths)."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.scope = MODE.scope
    node.children = children
    node._row = row
    node._local = local
    node._users = 0
    return node


def describe(node: Value) -> str:
    """A short name for a node in messages: its label, or its op and data."""
    if node.label:
        return f"{node.label!r} ({node.data:.6g})"
    kind = node.op or "leaf"
    return f"{kind} node ({node.data:.6g})"


def check_finite_forward(node: Value, row: Op, children: tuple[Value, ...]) -> None:
    """Under detect_anomaly: raise if an op made NaN or infinity."""
    if math.isfinite(node.data):
        return
    operands = ", ".join(describe(c) for c in children)
    raise AnomalyError(f"detect_anomaly: {row.name} returned {node.data} "
                       f"from operands {operands}", node)
