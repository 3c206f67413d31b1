"""Value: construction, operators with numbers on either side, and bad input."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import autograd_scalar as ag
from autograd_scalar import Value
from tests.autograd_scalar.depth import no_recursion_depth


@pytest.mark.parametrize("number", [3, 3.0, np.float64(3), np.float32(3), np.int64(3),
                                    np.int8(3)])
def test_real_numbers_of_every_kind_make_a_leaf(number) -> None:
    v = Value(number, label="x")
    assert type(v.data) is float and v.data == 3.0
    assert (v.grad, v.label, v.op, v.children) == (0.0, "x", "", ())


@pytest.mark.parametrize("bad", ["abc", None, [1], (1.0,), 1 + 2j, np.complex128(1), True,
                                 np.array([1.0]), {"x": 1}])
def test_anything_else_is_a_type_error_naming_the_type(bad) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("exact", [Fraction(1, 3), Decimal("0.1")])
def test_an_exact_number_is_refused_with_how_to_pass_it(exact) -> None:
    """A Fraction or Decimal would lose its exactness as a float: the caller decides."""
    with pytest.raises(TypeError, match=r"got (Fraction|Decimal): .*; convert it with "
                                        r"float\(\) first$"):
        Value(exact)
    assert Value(float(exact)).data == float(exact)
    with pytest.raises(TypeError, match="Value expects a real number") as caught:
        Value(1 + 2j)
    assert "float()" not in str(caught.value)


def test_a_label_must_be_text() -> None:
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("left, right", [(Value(3.0), 2.0), (3.0, Value(2.0)),
                                         (Value(3.0), Value(2.0)), (np.float64(3), Value(2.0)),
                                         (Value(3.0), np.int64(2)), (3, Value(2.0))])
def test_operators_take_numbers_on_either_side(left, right) -> None:
    results = {
        "+": (left + right, 5.0), "-": (left - right, 1.0), "*": (left * right, 6.0),
        "/": (left / right, 1.5), "**": (left ** right, 9.0),
    }
    for symbol, (result, expected) in results.items():
        assert isinstance(result, Value), symbol
        assert result.data == pytest.approx(expected), symbol


def test_numpy_scalar_on_the_left_gives_a_value_not_an_array() -> None:
    product = np.float64(2) * Value(3)
    assert isinstance(product, Value) and product.data == 6.0
    assert isinstance(np.int32(1) - Value(3), Value)


def test_unary_operators_and_methods() -> None:
    x = Value(-0.5)
    assert (-x).data == 0.5 and (+x) is x
    assert abs(x).data == 0.5 and x.abs().op == "abs"
    expected = {
        "relu": 0.0, "tanh": math.tanh(-0.5), "sigmoid": 1 / (1 + math.exp(0.5)),
        "exp": math.exp(-0.5), "sin": math.sin(-0.5), "cos": math.cos(-0.5),
        "softplus": math.log1p(math.exp(-0.5)),
    }
    for name, value in expected.items():
        node = getattr(x, name)()
        assert node.op == name and node.children == (x,)
        assert node.data == pytest.approx(value, rel=1e-15)
    assert x.leaky_relu(0.2).data == pytest.approx(-0.1)
    assert Value(4.0).sqrt().data == 2.0 and Value(math.e).log().data == pytest.approx(1.0)


def test_the_methods_of_value_are_the_tables_method_rows() -> None:
    """Each row marked ``method`` is a method of Value making a node of that row, with the
    row's rule for its docstring; Value has no other such method."""
    made = {name for name, attr in vars(Value).items()
            if (getattr(attr, "__doc__", None) or "").startswith(f"{name}(x) as a new node")}
    assert made == set(ag.ops.METHODS)
    for name, row in ag.ops.METHODS.items():
        method = getattr(Value, name)
        assert row.formula in method.__doc__ and method.__name__ == name
        assert getattr(Value(0.5), name)().row is row


def test_unsupported_operand_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        Value(1.0) + "a"  # type: ignore[operator]
    with pytest.raises(TypeError):
        [1.0] * Value(2.0)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Value(1.0) ** None  # type: ignore[operator]
    with pytest.raises(TypeError, match="leaky_relu slope"):
        Value(1.0).leaky_relu("0.1")  # type: ignore[arg-type]


@pytest.mark.parametrize("make, error, words", [
    (lambda: Value(0.0).log(), ValueError, ["log", "x > 0", "0.0"]),
    (lambda: Value(-1.0).log(), ValueError, ["log", "-1.0"]),
    (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt", "x >= 0", "-4.0"]),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, ["**-1", "0.0"]),
    (lambda: 0 ** Value(-1.0), ValueError, ["**", "base > 0"]),
    (lambda: Value(1.0) / 0, ZeroDivisionError, ["/", "non-zero", "0.0"]),
    (lambda: 1 / Value(0.0), ZeroDivisionError, ["/", "0.0"]),
    (lambda: Value(-8.0) ** (1 / 3), ValueError, ["base >= 0", "-8.0"]),
    (lambda: Value(-2.0) ** Value(2.0), ValueError, ["base > 0", "-2.0"]),
    (lambda: ag.dot([Value(1.0)], [1.0, 2.0]), ValueError, ["dot", "1", "2"]),
    (lambda: ag.logsumexp([]), ValueError, ["logsumexp"]),
])
def test_domain_errors_name_the_op_and_the_value(make, error, words) -> None:
    with pytest.raises(error) as caught:
        make()
    for word in words:
        assert word in str(caught.value)


def test_integer_powers_of_negative_numbers_work() -> None:
    x = Value(-2.0)
    assert (x ** 3).data == -8.0 and (x ** 2).data == 4.0 and (x ** -1).data == -0.5


@pytest.mark.parametrize("make", [lambda x: Value(x), lambda x: Value(1.0) * x,
                                  lambda x: Value(2.0) ** x, lambda x: x - Value(1.0)])
@pytest.mark.parametrize("huge, shown", [(10 ** 400, "an integer of 401 digits"),
                                         (-(10 ** 309), "an integer of 310 digits"),
                                         (np.longdouble("1e4000"), "1e+4000"),
                                         (np.longdouble("-1e400"), "-1e+400")])
def test_a_number_beyond_float_range_is_refused_not_made_infinite(make, huge, shown) -> None:
    if isinstance(huge, np.longdouble) and not np.isfinite(huge):
        pytest.skip("long double is no wider than a float on this machine")
    with pytest.raises(OverflowError, match=r"expects a real number within float range "
                                            rf"\(up to about 1.8e308\), got .*{re.escape(shown)}"):
        make(huge)


def test_infinite_and_tiny_long_doubles_are_kept_as_ieee_says() -> None:
    assert Value(np.longdouble("inf")).data == math.inf
    assert Value(np.longdouble("1e-4000")).data == 0.0
    assert Value(np.longdouble("1e300")).data == 1e300


def test_nan_passes_through_ops_without_a_domain_error() -> None:
    assert math.isnan(Value(float("nan")).log().data)
    assert math.isnan(Value(float("nan")).sqrt().data)


def test_overflow_gives_ieee_infinity_like_numpy() -> None:
    assert Value(1000.0).exp().data == math.inf
    assert (Value(1e200) * 1e200).data == math.inf
    assert Value(0.0).sqrt().local_grads == (math.inf,)


def test_stable_sigmoid_softplus_and_logsumexp_at_a_thousand() -> None:
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(-1000.0).sigmoid().local_grads == (0.0,)
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-1000.0).softplus().data == 0.0
    a, b = Value(1000.0), Value(1000.0)
    lse = ag.logsumexp([a, b])
    assert lse.data == pytest.approx(1000.0 + math.log(2), rel=1e-15)
    lse.backward()
    assert a.grad == pytest.approx(0.5) and b.grad == pytest.approx(0.5)
    low = ag.logsumexp([Value(-1000.0), Value(-1001.0)])
    assert low.data == pytest.approx(-1000.0 + math.log1p(math.exp(-1.0)), rel=1e-15)


def test_sum_and_dot_make_one_node_each() -> None:
    xs = [Value(float(i)) for i in range(5)]
    total = ag.sum(xs)
    assert total.op == "sum" and total.children == tuple(xs) and total.data == 10.0
    ws = [Value(2.0)] * 5
    product = ag.dot(ws, xs)
    assert product.op == "dot" and len(product.children) == 10 and product.data == 20.0
    assert ag.sum([]).data == 0.0 and ag.dot([], []).data == 0.0
    mixed = ag.dot([1.0, Value(2.0)], [Value(3.0), 4])
    assert mixed.data == 11.0


def test_a_star_import_keeps_pythons_sum_abs_and_compile() -> None:
    """``from autograd_scalar import *`` in a notebook must not turn ``sum`` of floats into
    a Value; the engine's versions stay reachable by the module's name."""
    import builtins

    import autograd_scalar

    names: dict[str, object] = {}
    exec("from autograd_scalar import *", names)
    assert {"Value", "exp", "logsumexp", "gradcheck"} <= set(names)
    shadowing = {n for n in names if not n.startswith("_") and hasattr(builtins, n)}
    assert shadowing == set(), shadowing
    assert isinstance(autograd_scalar.sum([Value(1.0), 2.0]), Value)
    assert autograd_scalar.abs(Value(-2.0)).data == 2.0
    assert set(autograd_scalar.BUILTIN_NAMES) == {"abs", "compile", "sum"}


def test_affine_is_one_node_adding_in_micrograds_order() -> None:
    ws = [Value(0.1), Value(-0.7), Value(0.3)]
    xs = [Value(1.9), Value(0.2), Value(-4.4)]
    b = Value(0.05)
    node = ag.affine(ws, xs, b)
    assert node.op == "affine" and node.children == (*ws, *xs, b)
    expected = b.data
    for w, x in zip(ws, xs):
        expected += w.data * x.data
    assert node.data == expected
    assert node.local_grads == (*(x.data for x in xs), *(w.data for w in ws), 1.0)
    node.backward()
    assert [w.grad for w in ws] == [x.data for x in xs] and b.grad == 1.0
    assert ag.affine([2.0, Value(3.0)], [Value(1.0), 4], 0.5).data == 14.5


def test_affine_and_dot_take_the_generic_path_under_no_grad_and_anomaly() -> None:
    ws, xs, b = [Value(2.0)], [Value(3.0)], Value(1.0)
    with ag.no_grad():
        assert ag.affine(ws, xs, b).children == () and ag.dot(ws, xs).children == ()
    with ag.detect_anomaly():
        node = ag.affine(ws, xs, b)
        assert node.data == 7.0 and node.local_grads == (3.0, 2.0, 1.0)
        with pytest.raises(ag.AnomalyError, match="affine returned inf"):
            ag.affine([Value(1e308)], [Value(10.0)], b)


@pytest.mark.parametrize("call, message", [
    (lambda: ag.affine([Value(1.0)], [], Value(0.0)), "ws has 1 entries but xs has 0"),
    (lambda: ag.dot([1.0, 2.0], [1.0]), "ws has 2 entries but xs has 1"),
    (lambda: ag.dot([1.0], 2.0), "dot: xs must be a sequence, got float"),
    (lambda: ag.affine([Value(1.0)], [Value(1.0)], "b"), "expects a real number"),
    (lambda: ag.affine([], [], Value(1.0)), "affine: there are no inputs xs"),
    (lambda: ag.affine([Value(1.0)], [Value(2.0)], None), "an operand expects a real number"),
    (lambda: ag.ops.AFFINE(Value(1.0), Value(2.0)), r"affine: expected operands ws \+ xs \+ "),
    (lambda: ag.ops.DOT(Value(1.0), Value(2.0), Value(3.0)), "dot: expected operands ws"),
])
def test_affine_and_dot_refuse_mismatched_operands(call, message) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_repr() -> None:
    assert repr(Value(2.5, label="w")) == "Value(data=2.5, grad=0.0, label='w')"
    assert repr(Value(1.0)) == "Value(data=1.0, grad=0.0)"


def test_math_functions_refuse_values_instead_of_silently_dropping_the_graph() -> None:
    with pytest.raises(TypeError):
        math.cos(Value(1.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        float(Value(1.0))  # type: ignore[arg-type]


def test_table_rows_work_as_functions_on_floats_arrays_and_values() -> None:
    assert ag.tanh(0.5) == math.tanh(0.5)
    assert np.allclose(ag.exp(np.array([0.0, 1.0])), [1.0, math.e])
    node = ag.sin(Value(0.5))
    assert isinstance(node, Value) and node.op == "sin"


def test_nodes_are_hashable_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert len({a, b, a}) == 2


def test_linear_makes_one_affine_node_per_row_sharing_the_inputs() -> None:
    W = [[Value(0.5), Value(-1.0)], [2.0, Value(0.25)], [Value(1.5), Value(-0.5)]]
    b = [Value(0.1), -2.0, Value(3.0)]
    nodes = ag.linear(W, [1.5, Value(-2.0)], b)
    expected = [ag.affine(ws, [1.5, -2.0], bias).data for ws, bias in zip(W, b)]
    assert [n.data for n in nodes] == expected
    assert all(n.op == "affine" and len(n.children) == 5 for n in nodes)
    constant = nodes[0].children[2]                 # the number 1.5, lifted once for all rows
    assert constant.data == 1.5 and all(n.children[2] is constant for n in nodes)
    assert ag.linear([], [Value(1.0)], []) == []
    with pytest.raises(ValueError, match="linear: there are no inputs xs"):
        ag.linear([[], []], [], [1, Value(2.0)])


@pytest.mark.parametrize("call, error, message", [
    (lambda: ag.linear([[1.0]], [1.0], [0.0, 1.0]), ValueError, "W has 1 rows but b has 2"),
    (lambda: ag.linear([[1.0], [1.0, 2.0]], [1.0], [0, 0]), ValueError,
     r"row 1 of W has 2 entries but xs has 1"),
    (lambda: ag.linear([1.0, 2.0], [1.0], [0, 0]), TypeError, "row 0 of W must be a sequence"),
    (lambda: ag.affine(2.0, [1.0], 0), TypeError, "affine: ws must be a sequence, got float"),
    (lambda: ag.linear([[1.0]], 1.0, [0]), TypeError, "xs must be a sequence, got float"),
    (lambda: ag.linear([[1.0]], [1.0], 0.5), TypeError, "b must be a sequence, got float"),
    (lambda: ag.linear([["w"]], [1.0], [0]), TypeError, "expects a real number"),
])
def test_linear_refuses_bad_shapes_and_operands(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_scopes_join_and_the_current_one_is_readable() -> None:
    assert ag.current_scope() == ""
    with ag.scope("layers.1") as outer:
        assert ag.current_scope() == outer == "layers.1"
        with ag.scope("neurons.3") as inner:
            assert inner == ag.joined_scope(outer, "neurons.3") == "layers.1.neurons.3"
            assert Value(1.0).scope == inner
    assert ag.current_scope() == "" and ag.joined_scope("", "b") == "b"


@pytest.mark.parametrize("row", [ag.ops.STEP, ag.ops.SIGN, ag.ops.SIN, ag.ops.COS,
                                 ag.ops.SIGMOID, ag.ops.EXP])
@pytest.mark.parametrize("x", [-2.5, 0.0, 0.75, 1000.0, float("nan")])
def test_rows_as_plain_functions_answer_as_the_rows(row, x) -> None:
    function = ag.ops.plain_function(row)
    for given in (x, np.array([x, -x]), Value(x)):
        # on arrays a plain function leaves NumPy's error state to its caller (the tape
        # ignores floating-point errors for a whole run); the results are the row's
        with np.errstate(all="ignore"):
            mine = function(given)
        theirs = row(given)
        if isinstance(given, Value):
            assert mine.op == theirs.op == row.name
            mine, theirs = mine.data, theirs.data
        np.testing.assert_array_equal(mine, theirs)


def test_a_one_input_node_lists_its_local_derivative_like_any_other() -> None:
    x = Value(0.5)
    node = x.tanh()
    assert node.local_grads == (1.0 - node.data ** 2,)
    assert (x * 2.0).local_grads == (2.0, 0.5)


@pytest.mark.parametrize("make", [lambda v: v ** 2, lambda v: v.relu(), lambda v: abs(v),
                                  lambda v: v.tanh() * v.exp()])
def test_data_set_to_a_numpy_scalar_still_differentiates(make) -> None:
    x = Value(2.0)
    x.data = np.float64(2.0)
    y = make(x)
    reference = Value(2.0)
    z = make(reference)
    y.backward()
    z.backward()
    assert y.data == z.data and x.grad == reference.grad
    assert ag.grad(make(x), x) == [reference.grad]


def test_a_value_formats_its_data_and_item_gives_a_plain_float() -> None:
    loss = Value(2.0) * Value(1.23456789)
    assert f"{loss:.4f}" == "2.4691"
    assert f"{loss:>10.2e}" == "  2.47e+00"
    assert f"{loss}" == repr(loss) == str(loss)
    assert type(loss.item()) is float and loss.item() == loss.data
    with pytest.raises(ValueError):
        f"{loss:d}"


@pytest.mark.parametrize("convert", [float, int, round, math.cos, lambda v: v < 1,
                                     lambda v: v >= Value(0.0)])
def test_conversions_that_would_drop_the_graph_are_refused(convert) -> None:
    """float(v), round(v), math.cos(v) and comparisons are refused on purpose: they
    would turn a node into a plain number silently and cut it out of the graph."""
    with pytest.raises(TypeError):
        convert(Value(0.5))


@pytest.mark.parametrize("test", [bool, lambda v: not v, lambda v: v or 1.0,
                                  lambda v: 1 if v else 0, lambda v: any([v])])
@pytest.mark.parametrize("number", [0.0, 1.0])
def test_a_value_has_no_truth_value(test, number) -> None:
    """Like float() and comparisons: Value(0.0) used to be true, so `if loss:` and
    `value or default` silently took the wrong branch."""
    with pytest.raises(TypeError, match=r"a Value has no truth value \(Value\(data="
                                        r".*\); test its number explicitly, e\.g\. "
                                        r"`if value\.data != 0:`"):
        test(Value(number))


@pytest.mark.parametrize("compare, shown", [
    (lambda v: v < 1, "value.data < 1"),
    (lambda v: 1 <= v, "value.data >= 1"),  # noqa: SIM300 (the reflected operator)
    (lambda v: v > Value(2.0), "value.data > other.data"),
    (lambda v: np.float64(1.5) > v, "value.data < np.float64(1.5)"),
    (lambda v: max([v, Value(2.0)]), "value.data > other.data"),
    (lambda v: sorted([v, v]), "value.data < other.data")])
def test_values_are_not_ordered_and_the_error_says_what_to_compare(compare, shown) -> None:
    """An order is a branch the graph does not record; the error was Python's bare
    "'<' not supported", which did not say why or what to write instead."""
    with pytest.raises(TypeError, match=r"Values are not ordered \(Value\(data=.*"
                                        rf"compare the numbers, e\.g\. `{re.escape(shown)}"):
        compare(Value(0.5))


@pytest.mark.parametrize(("convert", "kind", "number"), [
    (float, "float", "a float"), (int, "int", "an int"), (np.float64, "float", "a float"),
    (math.exp, "float", "a float"), (lambda v: np.array([v], dtype=float), "float", "a float"),
    (round, "round", "a number"), (lambda v: round(v, 2), "round", "a number"),
    (math.trunc, "math\\.trunc", "a number"), (math.floor, "math\\.floor", "a number"),
    (math.ceil, "math\\.ceil", "a number")])
def test_a_value_is_not_a_number_and_the_error_says_where_its_number_is(
        convert, kind, number) -> None:
    """float(v) gave Python's "must be a string or a real number, not 'Value'" (inside a
    trace, 'TracedValue'), and round(v) "type Value doesn't define __round__ method":
    neither said that v.data is the number."""
    with pytest.raises(TypeError, match=rf"{kind}\(\) of a Value \(Value\(data=1\.5.*\): a "
                                        rf"Value is a node of a graph, not {number}; "
                                        r"its number is value\.data"):
        convert(Value(1.5))


def test_values_stay_equal_and_hashed_by_identity() -> None:
    """Ordering the class must keep == and hash as identity: Values are dict keys."""
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b and (a == 1.0) is False and a != 1.0
    assert {a: "a", b: "b"}[b] == "b" and len({a, b, a}) == 2


def test_grad_returns_what_readme_says() -> None:
    """A list, one entry per input in order (a list of one for a single Value); floats
    scaled by grad_output; 0.0 for an unused input; no .grad written anywhere."""
    x, y, unused = Value(3.0), Value(-2.0), Value(5.0)
    out = x * x * y
    result = ag.grad(out, [y, unused, x], grad_output=2.0)
    assert result == [18.0, 0.0, -24.0] and all(type(g) is float for g in result)
    assert ag.grad(out, x) == [-12.0]
    assert (x.grad, y.grad, unused.grad, out.grad) == (0.0, 0.0, 0.0, 0.0)
    (second,) = ag.grad(out, [x], create_graph=True)
    assert isinstance(second, Value) and second.data == -12.0


def test_a_value_seed_gives_numbers_unless_the_graph_is_asked_for() -> None:
    """A Value grad_output without create_graph gave Values whose graph held only the
    seed: differentiated again in x they gave 0 instead of -sin(x) v."""
    x, v = Value(1.0), Value(2.0)
    (first,) = ag.grad(x.sin(), [x], grad_output=v)
    assert type(first) is float and first == math.cos(1.0) * 2.0
    (again,) = ag.grad(x.sin(), [x], grad_output=v, create_graph=True)
    assert ag.grad(again, [x, v]) == [pytest.approx(-math.sin(1.0) * 2.0),
                                      pytest.approx(math.cos(1.0))]


HUGE_EXPONENTS = [2.0 ** 53, 2.0 ** 53 + 2, 2.0 ** 60, 1e20, 1e300, -(2.0 ** 54), -1e20]
NEAR_ONE = [-1.0, 1.0, -(1 - 2.0 ** -53), -(1 + 2.0 ** -52), 1 - 2.0 ** -53, -0.5, -2.0, 0.0]


def huge_power_derivative(x: float, n: float) -> float:
    """n * x**(n-1) in closed form, with n - 1 an exact Python int: its parity gives the
    sign, a logarithm the size."""
    whole = int(n) - 1
    if x == 0:
        return 0.0 if whole > 0 else math.nan
    sign = -1.0 if x < 0 and whole % 2 else 1.0
    exponent = whole * math.log(abs(x))
    size = math.inf if exponent > 709.7 else math.exp(exponent)
    return n * sign * size


@pytest.mark.parametrize("n", HUGE_EXPONENTS)
@pytest.mark.parametrize("x", NEAR_ONE)
def test_huge_even_powers_of_negative_numbers_have_the_derivatives_sign(x: float,
                                                                         n: float) -> None:
    if x == 0 and n < 0:
        return  # outside the domain (refused, as for any negative power)
    expected = huge_power_derivative(x, n)
    leaf = Value(x)
    (leaf ** n).backward()
    graph = ag.grad(leaf ** n, leaf, create_graph=True)[0].data
    tape = ag.compile(lambda xs: xs[0] ** n, [x])
    compiled = tape.gradients(np.array([[x]])).inputs[0][0, 0]
    for got in (leaf.grad, graph, compiled):
        assert got == pytest.approx(expected, rel=1e-12)
        assert math.copysign(1.0, got) == math.copysign(1.0, expected) or expected == 0


def test_huge_powers_have_the_closed_forms_second_derivative() -> None:
    n = 2.0 ** 60  # d2/dx2 x**n = n (n-1) x**(n-2): positive at x = -1
    x = Value(-1.0)
    first = ag.grad(x ** n, x, create_graph=True)[0]
    assert first.data == -n
    assert ag.grad(first, x)[0] == pytest.approx(n * (n - 1))


def test_deepcopy_copies_a_long_graph_without_recursion_keeping_everything() -> None:
    import copy

    x = Value(0.5, label="x")
    v = x
    for _ in range(no_recursion_depth(100_000)):  # 50,000 when interpreted: see depth.py
        v = (v * 1.0).tanh() if v.data < 0 else v * 0.999 + 0.0
    y = ag.sum([v, x * x, x.exp()])  # an n-ary node; x is a child four times
    y.label = "y"
    y.backward()
    copied = copy.deepcopy(y)
    old, new = ag.topological_order(y), ag.topological_order(copied)
    assert len(old) == len(new) and not set(map(id, old)) & set(map(id, new))
    place = {id(node): i for nodes in (old, new) for i, node in enumerate(nodes)}
    for a, b in zip(old, new):
        assert (a.data, a.grad, a.label, a.op, a.local_grads, a.row) == (
            b.data, b.grad, b.label, b.op, b.local_grads, b.row)
        assert [place[id(c)] for c in a.children] == [place[id(c)] for c in b.children]
    leaf = new[0]
    assert leaf.label == "x" and sum(c is leaf for n in new for c in n.children) == 4
    assert ag.grad(copied, [leaf]) == ag.grad(y, [x])
    shallow = copy.copy(y)
    assert shallow is not y and shallow.children == y.children and shallow.grad == y.grad


def test_a_leaf_pickles_and_an_op_node_is_refused_clearly() -> None:
    import pickle

    x = Value(1.5, label="x")
    x.grad = 2.0
    back = pickle.loads(pickle.dumps(x))
    assert (back.data, back.grad, back.label, back.op) == (1.5, 2.0, "x", "")
    with pytest.raises(TypeError, match=r"cannot pickle Value\(data=3.0.*made by '\*': only a "
                                        r"leaf Value .* copy.deepcopy copies a graph"):
        pickle.dumps(x * 2)


@pytest.mark.parametrize("name, bad", [("data", "3"), ("data", True), ("data", None),
                                       ("grad", [1.0]), ("label", 3)])
def test_a_wrong_type_set_on_a_value_is_refused_by_the_compiled_core(name, bad) -> None:
    """The interpreted core takes what it is given (a check on every store would slow
    every op); compiled, the message names the attribute and what it takes."""
    v = Value(1.0)
    if ag.compiled():
        with pytest.raises(TypeError, match=f"Value.{name} must be a"):
            setattr(v, name, bad)
        assert (v.data, v.grad, v.label) == (1.0, 0.0, "")
    else:
        setattr(v, name, bad)
        assert getattr(v, name) == bad


def test_micrograds_way_of_making_a_node_points_to_function() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="micrograd's way of making a node, is an op of your "
                                        "own here: a Function"):
        Value(math.exp(x.data), (x,))  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [lambda: ag.exp(np.zeros(2), np.zeros(2)),
                                  lambda: ag.exp(1.0, 2.0), lambda: ag.exp()])
def test_a_row_called_with_the_wrong_count_names_itself(call) -> None:
    """np.exp(x, y) wrote its answer into y, the caller's array."""
    with pytest.raises(TypeError, match=r"exp takes 1 operand\(s\), got"):
        call()


@pytest.mark.parametrize("call", [lambda v: ag.dot([1.0, 0.0], {v, Value(2.0)}),
                                  lambda v: ag.linear([[1.0, 0.0]], {v, Value(2.0)}, [0.0]),
                                  lambda v: ag.gather({v, Value(2.0)}, 0)])
def test_a_set_where_order_matters_is_refused(call) -> None:
    """Which weight met which input depended on hash order, which differs between cores."""
    with pytest.raises(TypeError, match="got a set, which has no order"):
        call(Value(1.0))


@pytest.mark.parametrize("call, what", [
    (lambda v: np.array(1.0) + v, "a NumPy array of shape ()"),
    (lambda v: v * np.array([1.0, 2.0]), "a NumPy array of shape (2,)"),
    (lambda v: v * np.bool_(True), "got NumPy's bool"),
    (lambda v: np.complex128(1) - v, "got NumPy's complex128"),
])
def test_a_numpy_array_or_non_real_scalar_beside_a_value_is_named(call, what) -> None:
    """NumPy's own messages spoke of concatenation or of ufuncs."""
    with pytest.raises(TypeError, match=re.escape(what)) as caught:
        call(Value(1.0))
    assert "a Value combines with real numbers and Values" in str(caught.value)
