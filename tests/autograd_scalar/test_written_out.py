"""The interpreted core's written-out operators give what the general path gives.

``value.written_out`` writes each operator and method of Value as one Python function
from its row (template, check, rule); the general path, ``value._node``, evaluates the
row through ``ops.evaluate``. Both must make the same node, to the bit, and raise the
same errors. The written-out functions replace Value's methods only where the core
runs interpreted, so these tests run in the interpreted pass of the suite
(``AUTOGRAD_SCALAR_PURE_PYTHON=1``); compiled, Value's methods are the typed
``_unary`` / ``_binary`` themselves, and the same comparison runs in
``test_value``'s and ``test_edge_values``' tests of the operators.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, ops
from autograd_scalar import value as value_module
from autograd_scalar.validate import in_engine

pytestmark = pytest.mark.skipif(ag.compiled(), reason="the compiled core keeps its typed "
                                "_unary and _binary; this runs in the interpreted pass")

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, -1e300, 1e308, math.inf, -math.inf, math.nan]
numbers = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True))


def fields(node: Value) -> tuple[object, ...]:
    """What a node is made of, with floats as their bit patterns (NaN equal to NaN)."""
    def bits(x: float) -> object:
        return "nan" if x != x else (x, math.copysign(1.0, x))
    return (bits(node.data), node.op, tuple(map(id, node.children)), bits(node._d0),
            bits(node._d1), node._local, node.grad, node.label, node.scope)


def outcome(make: Callable[..., Value], *arguments: object) -> object:
    """The fields of the node ``make(*arguments)``, or the error's type and message."""
    try:
        return fields(make(*arguments))
    except (ArithmeticError, ValueError, TypeError) as error:
        return type(error), str(error)


def test_every_operator_and_method_is_written_out() -> None:
    written = {name for name, _, _ in value_module.WRITTEN_OUT}
    assert written >= {"__add__", "__rmul__", "__truediv__", "__neg__", *ops.METHODS}
    for name in written:
        code = getattr(Value, name).__code__
        assert code.co_filename == f"<Value.{name}>", name
        assert in_engine(code.co_filename)  # a trace counts no read of the engine's own
        assert "derivatives" not in code.co_names, name  # the rule inlined, not called


@settings(max_examples=150, deadline=None)
@given(a=numbers, b=numbers)
def test_binary_operators_make_the_general_paths_node(a: float, b: float) -> None:
    for name, row, reflected in value_module._OPERATORS:
        x, y = Value(a), Value(b)
        if reflected:  # number <op> Value
            ours = outcome(getattr(y, name), a)
            general = outcome(value_module._node, row, (Value(a), y), (a, b))
            # the lifted constant is a new leaf on each side: compare all but the children
            assert _without_children(ours) == _without_children(general), (name, a, b)
        else:
            ours = outcome(getattr(x, name), y)
            general = outcome(value_module._node, row, (x, y), (a, b))
            assert ours == general, (name, a, b)


@settings(max_examples=100, deadline=None)
@given(a=numbers, b=st.one_of(numbers, st.integers(-10**6, 10**6)))
def test_number_operands_become_the_general_paths_constant(a: float, b: float) -> None:
    for name, row, reflected in value_module._OPERATORS:
        x = Value(a)
        ours = outcome(getattr(x, name), b)  # x <op> b, or b <op> x when reflected
        pair = (Value(float(b)), x) if reflected else (x, Value(float(b)))
        general = outcome(value_module._node, row, pair, tuple(p.data for p in pair))
        assert _without_children(ours) == _without_children(general), (name, a, b)


def test_an_int_beyond_float_range_is_refused_as_lift_refuses_it() -> None:
    x = Value(2.0)
    for name, _, _ in value_module._OPERATORS:
        with pytest.raises(OverflowError, match="within float range"):
            getattr(x, name)(10**400)


@settings(max_examples=150, deadline=None)
@given(a=numbers)
def test_methods_make_the_general_paths_node(a: float) -> None:
    for name, row, _ in value_module.WRITTEN_OUT:
        if row.arity != 1:
            continue
        x = Value(a)
        ours = outcome(getattr(x, name))
        general = outcome(value_module._node, row, (x,), (a,))
        assert ours == general, (name, a)


def test_other_modes_and_operands_take_the_general_path() -> None:
    x = Value(3.0)
    with ag.no_grad():
        assert (x * x).children == ()  # no_grad: a leaf, as _binary makes it
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match=r"\*"):
        Value(1e308) * Value(10.0)  # inf: detect_anomaly's check, on the general path
    assert (x * 2).children[1].data == 2.0  # an int operand becomes a constant leaf
    assert x.__mul__("2") is NotImplemented  # not a number: Python tries the other side


def _without_children(found: object) -> object:
    return found if not isinstance(found, tuple) or len(found) != 9 else (
        *found[:2], *found[3:])
