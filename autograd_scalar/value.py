"""Value: a real number that remembers how it was computed.

Each operation on Values makes a new node holding its result (``data``), its
inputs (``children``), the row of the op table that made it (``op`` names it), and
the local derivatives d out / d child as floats, computed once by the row's rule.
``backward()`` multiplies those along every path from the output (the chain rule)
in one generic loop; no node carries a closure.

Every node, leaf or op result, has its fields set by :func:`_fill`, and is made by
:func:`new_node` under the current mode (or, in the usual mode, by ``_unary`` and
``_binary``, which write that case out). Interpreted, Value's operators and methods
are each written out as one function from their row by :func:`written_out`, which
sets the same fields (it checks that it sets every field of the class). This file is plain
Python; ``value.pxd`` beside it gives Cython the static types to compile it (``pip
install`` does where a C compiler is found, and falls back to this source where not;
both run the same tests). A Value
never refers to a node made after it, so Values cannot form reference cycles: the
compiled class leaves them out of the cyclic garbage collector.
"""

from __future__ import annotations

import math
import numbers as number_kinds
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Union

import numpy as np

from . import ops
from .mode import AnomalyError, Mode, current_mode, get_mode

try:
    import cython
except ImportError:  # interpreted without Cython installed: the decorators do nothing
    from . import purepython as cython
from .ops import ABS, ADD, DIV, MUL, NEG, POW, SUB, Op, evaluate, is_real, local_derivatives

Number = Union[int, float, np.integer, np.floating]
Operand = Union["Value", Number]


def as_float(x: object, what: str = "Value") -> float:
    """``x`` as a float if it is a real number (bools and complex numbers are not).

    A finite number beyond float range is an OverflowError, whether an int (which
    ``float`` refuses) or a NumPy ``longdouble`` (which ``float`` would turn into inf).
    """
    if type(x) is float:
        return x
    if is_real(x):
        try:
            number = float(x)
        except OverflowError:
            digits = int(int(x).bit_length() * math.log10(2)) + 1
            raise OverflowError(f"{what} expects a real number within float range (up to "
                                f"about 1.8e308), got an integer of {digits} digits") from None
        if math.isinf(number) and isinstance(x, np.floating) and np.isfinite(x):
            raise OverflowError(f"{what} expects a real number within float range (up to "
                                f"about 1.8e308), got {x!r}"[:300])
        return number
    exact = isinstance(x, number_kinds.Number) and not isinstance(x, (bool, complex))
    hint = "; convert it with float() first" if exact else ""  # a Fraction, a Decimal
    raise TypeError((f"{what} expects a real number (int, float or NumPy scalar), "
                     f"got {type(x).__name__}: {x!r}")[:300] + hint)


def _method(row: Op) -> Callable[[Value], Value]:
    """The method of Value for the one-input ``row``: ``x.tanh()`` is ``tanh(x)``, a new node.

    Value's methods are made here, one per row marked ``method`` in the table (a
    compiled Value is an extension type, which takes its methods in its class body
    only; a test holds the two lists equal).
    """
    def method(self: Value) -> Value:
        return _unary(row, self)

    method.__name__ = row.name
    method.__qualname__ = f"Value.{row.name}"
    method.__doc__ = f"{row.name}(x) as a new node; {row.formula}."
    return method


@cython.no_gc
@cython.cclass
class Value:
    """A scalar node of a computation graph.

    ``Value(data, label="")`` makes a leaf. Arithmetic (``+ - * / **``, unary ``-``,
    ``abs``) and the methods below make new nodes. ``backward()`` fills ``grad``:
    d output / d node for every node the output depends on.

    Attributes:
        data: the node's number (a float); assigning it changes a leaf's value for the
            next forward pass, not the nodes already made from it.
        grad: d output / d node after ``backward()``. A leaf's is summed over the calls
            until it is set back to 0.0 (a module's or an optimizer's ``zero_grad()``
            does so); a node computed from others holds the last pass's.
        label: a name for drawings and messages ("" if none).
        children: the nodes this one was computed from (empty for a leaf; read-only).
        scope: the nn module (if any) inside whose call the node was made.
    """

    __slots__ = ("data", "grad", "label", "scope", "children", "_row", "_d0", "_d1", "_local",
                 "_users", "_pending")
    __array_ufunc__ = None  # NumPy scalars defer to Value's reflected operators

    data: float
    grad: float
    label: str
    scope: str
    children: tuple[Value, ...]
    _row: Op | None
    _d0: float  # d self / d children[0], for a node of one or two inputs
    _d1: float  # d self / d children[1], for a node of two inputs
    _local: tuple[Any, ...] | None  # every d self / d child, for a node of three or more
    _users: int
    _pending: Any

    def __init__(self, data: Number, label: str = "") -> None:
        if type(label) is not str:
            hint = ("; Value(data, children, op), micrograd's way of making a node, is an "
                    "op of your own here: a Function (autograd_scalar.Function)"
                    if isinstance(label, (tuple, list, set)) else "")
            raise TypeError(f"Value label must be a str, got {type(label).__name__}{hint}")
        _fill(self, as_float(data), (), None, 0.0, 0.0, None, current_mode().scope)
        self.label = label

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute from Python, counting a write of ``data`` (see
        :func:`data_writes`), and checking ``data`` and ``grad`` (real numbers, as the
        constructor takes them) and ``label`` (a str). The compiled core's own stores
        skip this method; the interpreted class has none (it would slow every store of
        the core), and takes what it is given."""
        if name == "data" or name == "grad":
            if type(value) is not float:
                if not is_real(value):
                    raise TypeError(f"Value.{name} must be a real number (an int, a float or "
                                    f"a NumPy scalar), got {type(value).__name__}")
                value = as_float(value, f"Value.{name}")
            if name == "data":
                note_data_writes()
        elif name == "label" and type(value) is not str:
            raise TypeError(f"Value.label must be a str, got {type(value).__name__}")
        PyObject_GenericSetAttr(self, name, value)  # type: ignore[name-defined]  # noqa: F821

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
        if type(self) is not Value:  # a traced node's: numbers of its example
            _taken_out(self)
        count = len(self.children)
        if count > 2:
            return tuple(self._local or ())
        return (self._d0, self._d1)[:count]

    @property
    def _op(self) -> str:  # micrograd's name, for code written against its engine
        return self.op

    @property
    def _prev(self) -> set[Value]:  # likewise
        return set(self.children)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    @staticmethod
    def __apply_row__(row: Op, args: tuple[Any, ...]) -> Value:
        """How a row of the op table applies itself to operands among which are Values."""
        return apply(row, args)

    # -- arithmetic -----------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        return _binary(ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        return _reflected(ADD, self, other)

    def __sub__(self, other: Operand) -> Value:
        return _binary(SUB, self, other)

    def __rsub__(self, other: Number) -> Value:
        return _reflected(SUB, self, other)

    def __mul__(self, other: Operand) -> Value:
        return _binary(MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        return _reflected(MUL, self, other)

    def __truediv__(self, other: Operand) -> Value:
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: Number) -> Value:
        return _reflected(DIV, self, other)

    def __pow__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _binary(POW, self, other)
        if is_real(other):
            return _unary(ops.power(as_float(other, "** (the exponent)")), self)
        return NotImplemented

    def __rpow__(self, other: Number) -> Value:
        return _reflected(POW, self, other)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(ABS, self)

    def __bool__(self) -> bool:
        """Refused, as ``float()``, ``int()`` and ``<`` are: ``if value:`` would branch on
        the number silently (and Values were always true), while a branch the graph
        cannot see is one to write out, on ``value.data``."""
        raise _refused(self, TypeError(
            f"a Value has no truth value ({self!r}); test its number explicitly, e.g. "
            "`if value.data != 0:` or `if value.data > 0:`"))

    def __float__(self) -> float:
        """Refused, as ``bool`` is: ``float(value)`` (``np.float64(value)``, ``math.exp(value)``)
        would leave the graph with the number; the number is ``value.data``."""
        raise _not_a_number(self, "float")

    def __int__(self) -> int:
        raise _not_a_number(self, "int")

    def __round__(self, ndigits: Any = None) -> Any:
        raise _not_a_number(self, "round")

    def __trunc__(self) -> Any:
        raise _not_a_number(self, "math.trunc")

    def __floor__(self) -> Any:
        raise _not_a_number(self, "math.floor")

    def __ceil__(self) -> Any:
        raise _not_a_number(self, "math.ceil")

    def __hash__(self) -> int:
        """By identity, as ``==`` is: ordering the class (below) drops the hash a compiled
        class inherits. The interpreted class has none of its own (it inherits object's,
        with no call of Python per hash)."""
        return id(self)

    def __lt__(self, other: Any) -> bool:
        """Refused, as ``bool`` is: ``value < 1`` would branch on the number where the
        graph cannot see it (see :func:`_uncomparable`). So are ``<=``, ``>`` and ``>=``."""
        raise _uncomparable(self, "<", other)

    def __le__(self, other: Any) -> bool:
        raise _uncomparable(self, "<=", other)

    def __gt__(self, other: Any) -> bool:
        raise _uncomparable(self, ">", other)

    def __ge__(self, other: Any) -> bool:
        raise _uncomparable(self, ">=", other)

    # -- elementary functions: the table's method rows (ops.METHODS), one each ---

    abs = _method(ops.ABS)
    relu = _method(ops.RELU)
    tanh = _method(ops.TANH)
    sigmoid = _method(ops.SIGMOID)
    softplus = _method(ops.SOFTPLUS)
    exp = _method(ops.EXP)
    log = _method(ops.LOG)
    sqrt = _method(ops.SQRT)
    sin = _method(ops.SIN)
    cos = _method(ops.COS)
    erf = _method(ops.ERF)
    gelu = _method(ops.GELU)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x for x > 0, else slope * x: the row ``ops.leaky_relu(slope)``, one per slope."""
        return _unary(ops.leaky_relu(as_float(slope, "leaky_relu slope")), self)

    # -- gradients ------------------------------------------------------------

    def backward(self, grad: Number = 1.0) -> None:
        """Accumulate d self / d leaf into every leaf's ``grad``.

        Interior nodes get this pass's gradient (not accumulated), so calling
        ``backward()`` twice leaves exactly twice the gradient in every leaf.
        """
        BACKWARD[0](self, grad)

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from this graph."""
        if type(self) is not Value:  # a traced node (see _taken_out)
            _taken_out(self)
        return Value(self.data, self.label)

    def item(self) -> float:
        """``data`` as a Python float, as ``torch.Tensor.item()``: a plain number, no graph."""
        if type(self) is not Value:  # a traced node (see _taken_out)
            _taken_out(self)
        return self.data

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats ``data`` by the float format ``spec``; no spec gives repr."""
        return format(self.data, spec) if spec else repr(self)

    # -- copies ---------------------------------------------------------------

    def __copy__(self) -> Value:
        """A new node with this one's data, grad, label, scope, row, local derivatives and
        the same children (not copies of them)."""
        if type(self) is not Value and not self.children:  # a traced leaf's copy: its number
            _taken_out(self)
        return _copied(self, self.children)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of the whole graph under this node, made iteratively (a chain of 100,000
        nodes needs no recursion): every node keeps its data, grad, label, scope, row and
        local derivatives, and the copies link to each other as the originals do (a
        node used twice is copied once). Rows are shared, not copied: they are read-only."""
        if type(self) is not Value:  # a traced graph's copy: numbers of its example
            _taken_out(self)
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # depth first: a node is copied once its inputs are
            node, inputs_done = stack.pop()
            if id(node) in memo:
                continue
            if inputs_done:
                memo[id(node)] = _copied(node, tuple(memo[id(c)] for c in node.children))
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in node.children if id(child) not in memo)
        return memo[id(self)]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle a leaf by its data, grad, label and scope; refuse an op node clearly.

        An op node's row holds its forward and rule as functions, which pickle cannot
        store by value, and a graph's worth of nested nodes would recurse once per node.
        Save numbers instead (a leaf, ``v.data``, or a model's ``save``, which writes JSON).
        """
        if type(self) is not Value:  # a traced leaf's pickle: its example's number
            _taken_out(self)
        if self._row is not None:
            raise TypeError(
                f"cannot pickle {self!r}, made by {self.op!r}: only a leaf Value (no op) can "
                "be pickled, since an op node's row holds functions; pickle v.detach() or "
                "v.data, or save a model with Module.save (JSON); copy.deepcopy copies a graph")
        return (_leaf, (self.data, self.grad, self.label, self.scope))


# ---------------------------------------------------------------------------
# The interpreted core's operators, written out per row
# ---------------------------------------------------------------------------

INTERPRETED = __file__.endswith(".py")
"""Whether this module runs as Python source (no compiled core): then the package replaces
the operators and methods below by the ones :func:`written_out` makes (:func:`write_out`)."""

if INTERPRETED:
    del Value.__setattr__  # writes are not counted: see data_writes
    del Value.__hash__  # object's own, the same identity (see Value.__hash__)

_DATA_WRITES = 0


def _not_a_number(value: Value, kind: str) -> TypeError:
    """The error for ``float(value)``, ``int(value)`` or ``round(value)``: a number made from
    a Value leaves the graph (its gradient stops there), so it is read explicitly."""
    number = {"int": "an int", "float": "a float"}.get(kind, "a number")
    return _refused(value, TypeError(
        f"{kind}() of a Value ({value!r}): a Value is a node of a graph, not {number}; its "
        "number is value.data (a number taken from it leaves the graph), and math on it is "
        "the Value's own (value.exp(), value.log(), ...)"[:400]))


def _uncomparable(value: Value, operator: str, other: Any) -> TypeError:
    """The error for ``value <operator> other``: an order is a branch, which the graph does
    not record (the result would not depend on it), so it is written on the numbers.
    ``==`` stays identity, so that Values can be dict keys and set members."""
    right = "other.data" if isinstance(other, Value) else repr(other)[:40]
    return _refused(value, TypeError(
        f"Values are not ordered ({value!r} {operator} {right}): a comparison is a branch "
        f"the graph cannot see; compare the numbers, e.g. `value.data {operator} {right}`"))


def note_data_writes() -> None:
    """Count a change of some Values' ``data`` made outside the node factory: a store
    from Python (``Value.__setattr__``), or a pass of :mod:`autograd_scalar.mirror`."""
    global _DATA_WRITES
    _DATA_WRITES += 1


def data_writes() -> int | None:
    """How many times any existing Value's ``data`` was changed in this process, as far
    as the count goes; None in the interpreted core, which does not count.

    Two equal readings mean that no Value's ``data`` changed in between: compiled
    training's arrays (:class:`autograd_scalar.tape.layout.SharedArrays`) then need
    not read 100,000 parameters again to know that they still hold their numbers.
    Not counted: a store through the slot's descriptor itself
    (``Value.__dict__["data"].__set__``), and ``__init__`` called again on a live
    node; no code of the package does either to a node it did not just create.
    (``object.__setattr__(v, "data", x)``, which would pass the count by, is refused
    by Python for a class with its own ``__setattr__``.)
    """
    return None if INTERPRETED else _DATA_WRITES

_OPERATORS = (("__add__", ops.ADD, False), ("__radd__", ops.ADD, True),
              ("__sub__", ops.SUB, False), ("__rsub__", ops.SUB, True),
              ("__mul__", ops.MUL, False), ("__rmul__", ops.MUL, True),
              ("__truediv__", ops.DIV, False), ("__rtruediv__", ops.DIV, True))
"""Value's two-operand operators: (method, row, reflected)."""


RuleReader = Callable[[Op, Sequence[str], str], Union[tuple[list[str], list[str]], None]]
"""``read(row, operands, out)``: the row's rule as code over those names, as statements
and one expression per partial derivative; None where it cannot be written so."""


def written_out(name: str, row: Op, reflected: bool = False, read_rule: RuleReader | None = None
                ) -> Callable[..., Any]:
    """The method ``name`` of Value for ``row``, as one Python function: the interpreted
    core's form of ``_unary`` / ``_binary`` / ``_reflected``.

    An interpreted call costs more than the arithmetic, so the usual case (the plain
    mode; the other operand a Value, a float or an int) is written out in one frame:
    a number operand's constant leaf, the domain check, the forward from the row's
    scalar ``template`` (``{0} * {1}`` becomes ``a * b``), the row's rule and
    :func:`_fill`'s assignments. ``read_rule`` gives the rule as code over ``a``, ``b``
    and ``out`` (multiplication's is ``d0 = b``, ``d1 = a``), written in place of a
    call of the rule; where it gives None, or there is none, the code calls it. It
    gives the numbers and errors the general way gives
    (a template equals its row's scalar forward), and anything else (another operand
    type, another mode, a forward or rule that raises where IEEE gives inf or NaN, an
    int beyond float range) goes that way. The compiled core keeps its typed
    ``_unary`` and ``_binary``: the C compiler inlines them.
    """
    unary = row.arity == 1
    operands = ("a",) if unary else ("a", "b")
    template = row.template[0]
    forward = (template.format(*operands) if isinstance(template, str) and template
               else f"row.scalar({', '.join(operands)})")
    slow = "_unary(row, self)" if unary else (
        "_reflected(row, self, other)" if reflected else "_binary(row, self, other)")
    first, second = ("other", "self") if reflected else ("self", "other")
    lines = ["mode = get_mode()", "if not mode.plain:", f"    return {slow}"]
    if not unary:  # a number operand: its constant leaf, as lift makes it
        leaf = ["try:", "    number = float(other)", "except OverflowError:", f"    return {slow}",
                "other = new(Value)", *_assignments("other", data="number", children="()",
                                                    _row="None", _d0="0.0", _d1="0.0")]
        not_number = "kind is not float and kind is not int"
        lines += ["kind = type(other)", *(  # number <op> Value: only a number comes here
            [f"if {not_number}:", f"    return {slow}", *leaf] if reflected else
            ["if kind is not Value:", f"    if {not_number}:", f"        return {slow}",
             *_indent(leaf)])]
    lines += [f"a = {first}.data", *([] if unary else [f"b = {second}.data"])]
    if row.check is not None:
        lines += [f"error = row.check({', '.join(operands)})", "if error is not None:",
                  "    raise error"]
    rule = None if read_rule is None else read_rule(row, operands, "out")
    if rule is None:
        partials = ["d0 = row.derivatives(a, out)[0]"] if unary else [
            "d0, d1 = row.derivatives(a, b, out)"]
    else:
        statements, expressions = rule
        partials = [*statements, *(f"d{i} = {expression}"
                                   for i, expression in enumerate(expressions))]
    lines += ["try:", f"    out = {forward}", *_indent(partials),
              "except (ArithmeticError, ValueError):", f"    return {slow}",
              "node = new(Value)",
              *_assignments("node", data="out", children="(self,)" if unary else
                            f"({first}, {second})", _row="row", _d0="d0",
                            _d1="0.0" if unary else "d1"),
              "return node"]
    signature = "self" if unary else "self, other"
    source = "\n".join([f"def _written({signature}):", *_indent(lines)])
    names = {**math.__dict__, **globals(), "row": row, "new": Value.__new__}
    exec(compile(source, f"<Value.{name}>", "exec"), names)
    method = names["_written"]
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = getattr(Value, name).__doc__
    return method


def _assignments(node: str, **given: str) -> list[str]:
    """Statements setting every field of the new Value ``node``: the ``given`` ones,
    and the rest as :func:`_fill` starts them."""
    fields = {"grad": "0.0", "label": '""', "scope": "mode.scope", "_local": "None",
              "_users": "0", "_pending": "None", **given}
    assert set(fields) == set(Value.__slots__), "a new node must get every field once"
    return [f"{node}.{field} = {value}" for field, value in fields.items()]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _copied(node: Value, children: tuple[Value, ...]) -> Value:
    """A new node like ``node`` (data, grad, label, scope, row, local derivatives) on
    ``children``."""
    copy = _fill(Value.__new__(Value), data_of(node), children, node._row, node._d0, node._d1,
                 node._local if len(children) > 2 else None, node.scope)
    copy.grad = node.grad
    copy.label = node.label
    return copy


def _leaf(data: float, grad: float, label: str, scope: str) -> Value:
    """A leaf from pickled fields (see ``Value.__reduce__``)."""
    node = _fill(Value.__new__(Value), data, (), None, 0.0, 0.0, None, scope)
    node.grad = grad
    node.label = label
    return node


BACKWARD: list[Callable[[Value, Any], None]] = []
"""The backward pass, put here by :mod:`autograd_scalar.backward` when it is imported (it
builds on this module, so this module does not import it)."""


# ---------------------------------------------------------------------------
# The node factory
# ---------------------------------------------------------------------------

def _fill(node: Value, data: float, children: tuple[Value, ...], row: Op | None,
          d0: float, d1: float, local: Any, scope: str) -> Value:
    """Set every field of a new node (:func:`written_out` inlines the same assignments).

    A node of one or two inputs (nearly all of them) keeps d node / d child as two
    unboxed floats, ``d0`` and ``d1`` (0.0 where there is no such child), so that it
    allocates no tuple and no float objects beside itself; a node of more inputs
    keeps the tuple in ``local`` (None otherwise). ``_users`` and ``_pending`` are
    the backward pass's scratch (see :mod:`autograd_scalar.backward`).
    """
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.scope = scope
    node.children = children
    node._row = row
    node._d0 = d0
    node._d1 = d1
    node._local = local
    node._users = 0
    node._pending = None
    return node


def new_node(data: float, children: tuple[Value, ...], row: Op | None, local: Any) -> Value:
    """A new node under the current mode (``Value(...)`` fills itself the same way).

    ``local`` holds d node / d child for each child. With gradient tracking off
    (``no_grad``) the node is a leaf; under ``detect_anomaly`` a NaN or infinite
    result raises, naming the op. While :func:`autograd_scalar.compile` traces a
    function, an op node is made by the trace (``mode.tracing.new_node()``), so that
    the trace sees its ``.data`` read.
    """
    return _made(get_mode(), data, children, row, local)


def _taken_out(node: Value) -> None:
    """Tell a trace in progress (:func:`autograd_scalar.compile`) that the caller takes
    ``node``'s numbers out of the graph (a copy, a detached leaf, its local derivatives):
    frozen at the traced example if ``node`` is one of its Values, so the trace refuses
    the function. (Callers ask only for a node of a subclass, as traced nodes are: a
    plain Value skips the lookup.)"""
    reads = current_mode().tracing
    if reads is not None:
        reads.numbers_from(node)


def _refused(node: Value, error: TypeError) -> TypeError:
    """``error``, for a number asked of ``node`` that a Value refuses (``int(v)``, ``v > 0``,
    ``bool(v)``); a trace in progress is told where, so that if the error ends it, it
    names the place as a read of the data (the function would branch on the number)."""
    if type(node) is not Value:
        reads = current_mode().tracing
        if reads is not None:
            reads.refusing(node, error)
    return error


def _made(mode: Mode, data: float, children: tuple[Value, ...], row: Op | None,
          local: Any) -> Value:
    """:func:`new_node` under a mode the caller has already looked up."""
    if not mode.grad_enabled:
        if mode.tracing is not None:  # a number made from a traced Value: frozen by a trace
            for child in children:
                mode.tracing.numbers_from(child)
        children, row, local = (), None, ()
    tracing = mode.tracing
    node = Value.__new__(Value) if tracing is None or not children else tracing.new_node()
    count = len(children)
    if count > 2:
        _fill(node, data, children, row, 0.0, 0.0, local, mode.scope)
    else:
        _fill(node, data, children, row, local[0] if count else 0.0,
              local[1] if count == 2 else 0.0, None, mode.scope)
    if mode.anomaly and not math.isfinite(data):
        if row is None:  # a number given to an op, lifted to a constant leaf
            raise AnomalyError(f"detect_anomaly: the number {data} was given to an op (it "
                               "became a constant of the graph)", node)
        raise AnomalyError(f"detect_anomaly: {row.name} returned {data} from operands "
                           f"{', '.join(map(describe, children))}", node)
    return node


def _node(row: Op, children: tuple[Value, ...], xs: tuple[float, ...]) -> Value:
    """The node ``row(*children)``, from the row's forward and rule on their data ``xs``."""
    out = evaluate(row, xs)
    mode = current_mode()
    if not mode.grad_enabled:
        return _made(mode, out, children, None, ())
    return _made(mode, out, children, row, local_derivatives(row, xs, out))


def _unary(row: Op, x: Value) -> Value:
    """The node ``row(x)``.

    In the usual mode this is :func:`_node` written out for one input: the domain
    check, the forward and the rule called directly, with no tuple of the data (the
    interpreted core spends more on calls than on arithmetic). A forward or rule
    that raises where IEEE gives inf or NaN goes the general way (``evaluate``).
    """
    mode = get_mode()
    if not mode.plain:
        return _node(row, (x,), (x.data,))
    a = x.data
    check = row.check
    if check is not None:
        error = check(a)
        if error is not None:
            raise error
    try:
        out = row.scalar(a)
        d0 = row.derivatives(a, out)[0]
    except (ArithmeticError, ValueError):
        return _node(row, (x,), (a,))
    return _fill(Value.__new__(Value), out, (x,), row, d0, 0.0, None, mode.scope)


def _binary(row: Op, x: Value, other: Any) -> Value:
    """The node ``row(x, other)``; a number ``other`` becomes a constant leaf."""
    if type(other) is not Value:
        other = _operand(other, row.name)
        if other is None:
            return NotImplemented
    y = other  # typed Value in value.pxd: the compiled core reads its field directly
    mode = get_mode()
    if not mode.plain:
        return _node(row, (x, y), (x.data, y.data))
    a = x.data  # as in _unary: _node written out for two inputs
    b = y.data
    check = row.check
    if check is not None:
        error = check(a, b)
        if error is not None:
            raise error
    try:
        out = row.scalar(a, b)
        d0, d1 = row.derivatives(a, b, out)
    except (ArithmeticError, ValueError):
        return _node(row, (x, y), (a, b))
    return _fill(Value.__new__(Value), out, (x, y), row, d0, d1, None, mode.scope)


def _reflected(row: Op, x: Value, other: Any) -> Value:
    """The node ``row(other, x)`` for ``other <op> x`` (``2 - x``)."""
    lifted = _operand(other, row.name)
    if lifted is None:
        return NotImplemented
    return _binary(row, lifted, x)


def _operand(x: Any, what: str) -> Value | None:
    """An operand met beside a Value: itself if a Value (or subclass), a constant
    leaf if a real number, else None (the operator then returns NotImplemented).

    NumPy's arrays and its other scalars (bools, complex numbers) defer to Value
    (``__array_ufunc__ = None``), so nothing else would take them up: NumPy's own
    message would then be about ufuncs or concatenation. They are refused here."""
    if type(x) is float or isinstance(x, Value) or is_real(x):  # float: the usual constant
        return lift(x, what)
    if isinstance(x, np.ndarray):
        raise TypeError(f"{what}: a Value combines with real numbers and Values, got a NumPy "
                        f"array of shape {x.shape} (a Value holds one number: apply the op "
                        "to each number, or take float(a) of an array of one)")
    if isinstance(x, np.generic):
        raise TypeError(f"{what}: a Value combines with real numbers and Values, got NumPy's "
                        f"{type(x).__name__}, which is not one")
    return None


def lift(x: object, what: str) -> Value:
    """``x`` itself if it is a Value, else a constant leaf; TypeError for non-numbers.

    ``what`` names the op (or role) in the error message.
    """
    if isinstance(x, Value):
        return x
    if type(x) is not float:  # a float needs no conversion (nor this message)
        x = as_float(x, f"{what}: an operand")
    return new_node(x, (), None, ())


def apply(row: Op, args: Iterable[Any]) -> Value:
    """Make the node ``row(*args)``: the generic path, for any arity (numbers are lifted)."""
    name = row.name
    children = tuple([lift(a, name) for a in args])
    if row.arity is not None and len(children) != row.arity:
        raise TypeError(f"{name} takes {row.arity} operand(s), got {len(children)}")
    return _node(row, children, numbers(children))


def affine_nodes(rows: Iterable[Sequence[Any]], xs: tuple[Value, ...],
                 biases: Iterable[Any]) -> list[Value]:
    """The ``affine`` nodes b_j + rows[j] . xs, one per row: a layer's pre-activations.

    Each is the node ``apply(ops.AFFINE, rows[j] + xs + (b_j,))``, made from the
    row's own forward and rule (``ops.affine_forward``, ``ops.affine_partials``)
    with the xs read once for all rows. The xs must be Values and the lengths agree.
    """
    xd = numbers(xs)
    nodes = []
    for ws, b in zip(rows, biases):
        children = (*(lift(w, "affine") for w in ws), *xs, lift(b, "affine"))
        wd = numbers(children[:len(xd)])
        out = ops.affine_forward(wd, xd, data_of(children[-1]))
        nodes.append(new_node(out, children, ops.AFFINE, ops.affine_partials(wd, xd)))
    return nodes


def data_of(node: Value) -> float:
    """``node.data``, read by the compiled core from the node's field (``value.pxd``
    types it) rather than by attribute: the engine's own read, which a trace does not
    count (see :mod:`autograd_scalar.tape.program`)."""
    return node.data


def numbers(nodes: Iterable[Value]) -> tuple[float, ...]:
    """Each node's ``data``, as :func:`data_of` reads it (a loop, not a comprehension,
    so that ``value.pxd`` can type the node)."""
    found = []
    for node in nodes:
        found.append(node.data)
    return tuple(found)


def describe(node: Value) -> str:
    """A short name for a node in messages: its label, or its op and data."""
    if node.label:
        return f"{node.label!r} ({node.data:.6g})"
    kind = node.op or "leaf"
    return f"{kind} node ({node.data:.6g})"


WRITTEN_OUT = (*_OPERATORS, ("__neg__", ops.NEG, False),
               *((name, row, False) for name, row in ops.METHODS.items()))
"""Every method :func:`written_out` writes in the interpreted core: (method, row, reflected)."""


def write_out(read_rule: RuleReader | None = None) -> None:
    """Give Value the interpreted core's operators and methods: one :func:`written_out`
    function per entry of :data:`WRITTEN_OUT`, each rule read as code by ``read_rule``.

    The package calls it once it has loaded the tape, whose reader
    (:func:`autograd_scalar.tape.rules.scalar_rule`) runs the rules on Values; until
    then Value's operators are the ones its class body defines, which give the same
    nodes more slowly.
    """
    for name, row, reflected in WRITTEN_OUT:
        setattr(Value, name, written_out(name, row, reflected, read_rule))
