"""nn.formula: values against math, gradients against central differences, and the whitelist."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autograd_scalar import Value, ops
from nn.formula import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, FormulaError, parse_formula, parse_point
from tests import finite_differences as fd


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


# Each formula beside the same function written with the math module only.
REFERENCES = [
    ("x * y + 1", lambda x, y: x * y + 1),
    ("x / y - y / x", lambda x, y: x / y - y / x),
    ("x ** 2 + 3 * y ** 3", lambda x, y: x**2 + 3 * y**3),
    ("x ** y", lambda x, y: x**y),
    ("2 ** x * y", lambda x, y: 2**x * y),
    ("-x + +y", lambda x, y: -x + y),
    ("exp(x) * log(y)", lambda x, y: math.exp(x) * math.log(y)),
    ("sqrt(x * y) + sin(x) * cos(y)", lambda x, y: math.sqrt(x * y) + math.sin(x) * math.cos(y)),
    ("tanh(x * y + 0.5)", lambda x, y: math.tanh(x * y + 0.5)),
    ("sigmoid(x - 2 * y)", lambda x, y: _sigmoid(x - 2 * y)),
    ("softplus(x - y) + relu(y - 0.1)",
     lambda x, y: math.log1p(math.exp(x - y)) + max(y - 0.1, 0.0)),
    ("abs(x - 3) * leaky_relu(y - 2.7, 0.1)",
     lambda x, y: abs(x - 3) * (y - 2.7 if y > 2.7 else 0.1 * (y - 2.7))),
    ("sum(x, y, x * y, 1)", lambda x, y: x + y + x * y + 1),
    ("dot([x, y, 2], [y, 3, x])", lambda x, y: x * y + y * 3 + 2 * x),
    ("affine([x, 2], [y, x], x * y)", lambda x, y: x * y + x * y + 2 * x),
    ("logsumexp(x, y, 0)", lambda x, y: math.log(math.exp(x) + math.exp(y) + 1)),
    ("x ** (1/2) / y ** -1", lambda x, y: math.sqrt(x) * y),
]

points = st.tuples(st.floats(0.2, 2.5), st.floats(0.2, 2.5))


@pytest.mark.parametrize(("text", "reference"), REFERENCES, ids=[t for t, _ in REFERENCES])
@given(point=points)
def test_value_and_gradient_match_math_and_central_differences(text, reference, point):
    formula = parse_formula(text)
    assert formula.variables == ("x", "y")
    out, leaves = formula.build(dict(zip(("x", "y"), point)))
    assert math.isclose(out.data, reference(*point), rel_tol=1e-12, abs_tol=1e-12)
    out.backward()
    numeric = fd.gradient(reference, point)
    for name, expected in zip(("x", "y"), numeric):
        assert fd.close(leaves[name].grad, expected), (name, leaves[name].grad, expected)


def test_variables_in_order_of_first_use_and_each_is_one_leaf():
    formula = parse_formula("b * a + a * c + b")
    assert formula.variables == ("b", "a", "c")
    out, leaves = formula.build({"a": 2.0, "b": 3.0, "c": 5.0})
    out.backward()
    # d/da (ba + ac + b) = b + c, d/db = a + 1, d/dc = a
    assert (leaves["a"].grad, leaves["b"].grad, leaves["c"].grad) == (8.0, 3.0, 2.0)
    assert [leaf.label for leaf in leaves.values()] == ["b", "a", "c"]


def test_the_graph_uses_the_op_table_rows_python_would():
    out, leaves = parse_formula("x ** 2 + exp(x)").build({"x": 1.0})
    square, exp = out.children
    assert out.op == "+"
    assert square.op == "**2" and square.children == (leaves["x"],)
    assert exp.op == "exp" and exp.children == (leaves["x"],)
    out, _ = parse_formula("sum(x, y, z)").build({"x": 1.0, "y": 2.0, "z": 3.0})
    assert out.op == "sum" and len(out.children) == 3
    out, _ = parse_formula("logsumexp(x, y, 0)").build({"x": 1.0, "y": 2.0})
    assert out.op == "logsumexp" and len(out.children) == 3


def _gelu(t: float) -> float:
    return 0.5 * t * (1.0 + math.erf(t / math.sqrt(2.0)))


@pytest.mark.parametrize(("text", "reference", "row"), [
    ("erf(x)", math.erf, ops.ERF), ("gelu(x)", _gelu, ops.GELU),
    ("erf(2 * x) - gelu(-x)", lambda t: math.erf(2 * t) - _gelu(-t), ops.SUB),
], ids=["erf", "gelu", "erf-gelu"])
@given(x=st.floats(-3.0, 3.0))
def test_erf_and_gelu_come_from_the_table_and_match_math(text, reference, row, x):
    out, leaves = parse_formula(text).build({"x": x})
    assert out.row is row
    assert math.isclose(out.data, reference(x), rel_tol=1e-12, abs_tol=1e-12)
    out.backward()
    assert fd.close(leaves["x"].grad, fd.gradient(reference, [x])[0])


def test_every_named_row_of_the_table_is_a_formula_function():
    named = {row.name: row for row in ops.TABLE
             if row.name in {*ops.METHODS, "sum", "logsumexp", "dot", "affine"}}
    assert set(FUNCTIONS) == {*named, "leaky_relu"}
    assert {"erf", "gelu", "sum", "logsumexp", "dot", "affine"} <= set(named)
    for name, row in named.items():
        if row.arity == 1:
            out, leaves = parse_formula(f"{name}(x)").build({"x": 0.7})
            assert out.row is row and out.children == (leaves["x"],)
            assert out.data == row(0.7)


def test_constant_parts_are_folded_into_one_leaf():
    out, _ = parse_formula("x * (2 ** 3 - exp(0))").build({"x": 2.0})
    assert out.op == "*"
    constant = out.children[1]
    assert constant.op == "" and constant.data == 7.0
    assert out.data == 14.0


def test_calling_a_formula_with_values_in_variable_order():
    formula = parse_formula("y - x")
    assert formula.variables == ("y", "x")
    out = formula(Value(5.0), Value(1.0))
    assert out.data == 4.0
    with pytest.raises(FormulaError, match="2 variable"):
        formula(Value(1.0))


def test_a_formula_without_variables_is_a_constant_value():
    out, leaves = parse_formula("exp(0) + 1").build({})
    assert out.data == 2.0 and leaves == {}


@pytest.mark.parametrize(("text", "problem"), [
    ("__import__('os')", "unknown function __import__"),
    ("__import__('os').system('true')", "attribute access"),
    ("x.__class__", "attribute access (.__class__) is not allowed"),
    ("x.__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("(lambda: 1)()", "a lambda is not allowed"),
    ("[x for x in y]", "a comprehension is not allowed"),
    ("sum(x for x in y)", "a generator expression"),
    ("x[0]", "a subscript"),
    ("'a' * 10", "a string is not a number"),
    ("b'a'", "a string is not a number"),
    ("f'{x}'", "an f-string"),
    ("open('/etc/passwd')", "unknown function open"),
    ("eval('1')", "unknown function eval"),
    ("exp(x, y)", "exp takes 1 argument, got 2"),
    ("gelu()", "gelu takes 1 argument, got 0"),
    ("logsumexp()", "logsumexp needs at least one argument"),
    ("exp", "exp is a function"),
    ("leaky_relu(x, slope=0.2)", "positional arguments only"),
    ("leaky_relu(x, y)", "slope of leaky_relu must be a number"),
    ("dot(x, y)", "dot takes two lists"),
    ("dot([x, y], [1])", "equal length, got 2 and 1"),
    ("affine([x], [y])", "affine takes two lists of equal length and a bias"),
    ("affine([x], [], 1)", "equal length, got 1 and 0"),
    ("sum()", "sum needs at least one argument"),
    ("(x + 1)(2)", "may be called, not x + 1"),
    ("x // 2", "the operator // is not allowed"),
    ("x % 2", "the operator % is not allowed"),
    ("~x", "the operator ~ is not allowed"),
    ("not x", "the operator not is not allowed"),
    ("x < y", "a comparison"),
    ("x and y", "and/or"),
    ("x if y else 1", "a conditional expression"),
    ("(y := 2)", "assignment"),
    ("x, y", "a tuple"),
    ("{x: 1}", "a dictionary"),
    ("True + x", "True is not a number"),
    ("None", "None is not a number"),
    ("1j * x", "1j is not a number"),
    ("x +", "not a formula"),
    ("import os", "not a formula"),
    ("x = 1", "not a formula"),
    ("", "empty"),
    ("   ", "empty"),
])
def test_anything_outside_the_whitelist_is_named(text, problem):
    with pytest.raises(FormulaError, match=re.escape(problem)):
        parse_formula(text)


@pytest.mark.parametrize("text, message", [
    ("x + y +", "column 8: not a formula: unexpected end of formula"),
    ("x*", "column 3: not a formula: unexpected end of formula"),
    ("  é * ", "column 6: not a formula: unexpected end of formula"),
    ("x + (y", "column 5: not a formula: '(' was never closed"),
    ("sum(x, y", "column 4: not a formula: '(' was never closed"),
])
def test_a_formula_that_stops_short_is_reported_where_it_ends(text, message):
    with pytest.raises(FormulaError) as raised:
        parse_formula(text)
    assert str(raised.value) == message


def test_huge_exponents_fail_fast_instead_of_computing():
    with pytest.raises(FormulaError, match="overflows to inf"):
        parse_formula("9 ** 9 ** 9 * x")
    with pytest.raises(FormulaError, match="too large for a float"):
        parse_formula("1" + "0" * 400 + " * x")
    with pytest.raises(FormulaError, match="the number 1e400 is too large"):
        parse_formula("1e400 * x")
    with pytest.raises(FormulaError, match="overflows to inf"):
        parse_formula("exp(1000) + x")


def test_oversized_and_deeply_nested_input_is_refused():
    with pytest.raises(FormulaError, match=f"at most {MAX_LENGTH}"):
        parse_formula("x" * (MAX_LENGTH + 1))
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse_formula("-" * (MAX_DEPTH + 5) + "x")
    with pytest.raises(FormulaError, match="sum\\(a, b, c"):
        parse_formula("+".join(["x"] * (MAX_DEPTH + 5)))
    with pytest.raises(FormulaError):
        parse_formula("(" * 300 + "x" + ")" * 300)
    assert parse_formula("-" * (MAX_DEPTH - 5) + "x").variables == ("x",)


def test_constant_errors_are_found_at_parse_time():
    with pytest.raises(FormulaError, match=r"non-zero divisor.*\(in 1 / 0\)"):
        parse_formula("x + 1 / 0")
    with pytest.raises(FormulaError, match="log: expected x > 0"):
        parse_formula("log(-1) * x")
    with pytest.raises(FormulaError, match="base >= 0"):
        parse_formula("(-8) ** (1/3) + x")


def test_domain_errors_at_a_point_name_the_op_and_the_subformula():
    formula = parse_formula("x + log(y)")
    with pytest.raises(FormulaError, match=r"log: expected x > 0, got -1.0 \(in log\(y\)\)"):
        formula.build({"x": 1.0, "y": -1.0})
    with pytest.raises(FormulaError, match="non-zero divisor"):
        parse_formula("1 / x").build({"x": 0.0})


def test_build_wants_every_variable_and_nothing_else():
    formula = parse_formula("x * y")
    with pytest.raises(FormulaError, match=r"unbound variable.* y"):
        formula.build({"x": 1.0})
    with pytest.raises(FormulaError, match="z given a value but not used"):
        formula.build({"x": 1.0, "y": 2.0, "z": 3.0})


def test_parse_point_reads_names_and_numbers():
    assert parse_point("x=1,y=-2.5e-3") == {"x": 1.0, "y": -0.0025}
    assert parse_point(" x = 1 , y= 2 ") == {"x": 1.0, "y": 2.0}
    assert parse_point(["x=1", "y=2,z=3"]) == {"x": 1.0, "y": 2.0, "z": 3.0}


@pytest.mark.parametrize(("spec", "problem"), [
    ("x", "'x' in --at has no value"),
    ("x=", "x in --at has no value"),
    ("=1", "has no name"),
    ("1x=2", "'1x' in --at is not a variable name"),
    ("x=1,x=2", "x is given twice"),
    ("x=abc", "'abc' is not a number"),
    ("x=nan", "finite number"),
    ("x=inf", "finite number"),
    ("x=1,,y=2", "empty entry"),
    ("", "empty entry"),
])
def test_parse_point_errors_name_the_problem(spec, problem):
    with pytest.raises(FormulaError, match=problem):
        parse_point(spec)
    with pytest.raises(FormulaError, match="twice"):
        parse_point(["x=1", "x=2"])


# Random formulas: each drawn as its text and, independently, as a Python function on floats.
_UNARY = {
    "exp": math.exp, "sin": math.sin, "cos": math.cos, "tanh": math.tanh,
    "sigmoid": _sigmoid, "softplus": lambda t: math.log1p(math.exp(t)),
}


def _leaf():
    variables = st.sampled_from([("x", lambda x, y: x), ("y", lambda x, y: y)])
    constants = st.floats(0.5, 2.0).map(lambda c: (repr(c), lambda x, y, c=c: c))
    return variables | constants


def _extend(children):
    def unary(name, a):
        text, f = a
        g = _UNARY[name]
        return f"{name}({text})", lambda x, y: g(f(x, y))

    def binary(op, a, b):
        (ta, fa), (tb, fb) = a, b
        if op == "+":
            return f"({ta}) + ({tb})", lambda x, y: fa(x, y) + fb(x, y)
        if op == "-":
            return f"({ta}) - ({tb})", lambda x, y: fa(x, y) - fb(x, y)
        if op == "*":
            return f"({ta}) * ({tb})", lambda x, y: fa(x, y) * fb(x, y)
        return f"({ta}) / (1 + ({tb}) ** 2)", lambda x, y: fa(x, y) / (1 + fb(x, y) ** 2)

    return (st.builds(unary, st.sampled_from(sorted(_UNARY)), children)
            | st.builds(binary, st.sampled_from("+-*/"), children, children))


formulas = st.recursive(_leaf(), _extend, max_leaves=8)


@given(formula=formulas, point=points)
@example(formula=("cos(exp(exp((x) + (x))))", lambda x, y: math.cos(math.exp(math.exp(x + x)))),
         point=(2.0, 1.0))  # cos of 5e23: no finite difference resolves it
def test_random_formulas_match_their_python_twin(formula, point):
    text, reference = formula
    try:
        expected = reference(*point)
    except OverflowError:
        return
    parsed = parse_formula(text)
    inputs = {name: value for name, value in zip(("x", "y"), point) if name in parsed.variables}
    out, leaves = parsed.build(inputs)
    assert math.isclose(out.data, expected, rel_tol=1e-12, abs_tol=1e-12), text
    if abs(expected) > 1e6:
        return
    out.backward()
    for i, name in enumerate(("x", "y")):
        numeric = fd.settled_partial(reference, list(point), i)
        if name in leaves and numeric is not None:
            assert fd.close(leaves[name].grad, numeric, rtol=1e-3, atol=1e-5), (text, name)


_FORMULA_ALPHABET = st.sampled_from(list("xy0123456789.e+-*/()[],:'\"_ ") + list(FUNCTIONS)
                                    + ["**", "lambda", "__import__", ".__class__", "\n"])


@pytest.mark.parametrize("text", ["(x\n+1)(2)", "(1/\n0) + x", "(log(\n-1)) * x"])
def test_messages_quote_a_formula_on_one_line(text):
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert "\n" not in str(caught.value)


@given(text=st.text(max_size=300) | st.lists(_FORMULA_ALPHABET, max_size=60).map("".join))
def test_any_text_is_a_formula_or_one_formula_error(text):
    try:
        formula = parse_formula(text)
    except FormulaError as error:
        assert "\n" not in str(error).strip()
        return
    try:
        out, _ = formula.build({name: 0.5 for name in formula.variables})
    except FormulaError:
        return
    assert isinstance(out, Value)


@given(text=st.text(max_size=100))
def test_any_point_text_is_a_point_or_one_formula_error(text):
    try:
        point = parse_point(text)
    except FormulaError:
        return
    assert all(name.isidentifier() and math.isfinite(v) for name, v in point.items())


@pytest.mark.parametrize("bad", ["1.5", b"1", None, True, 1j])
def test_a_value_that_is_not_a_real_number_is_refused_by_build(bad):
    with pytest.raises(TypeError, match="the value of x must be a real number"):
        parse_formula("x * 2").build({"x": bad})
    with pytest.raises(TypeError):
        parse_formula("x * 2")(bad)


def test_the_nesting_limit_is_exactly_max_depth_operators_or_calls():
    """README: more than MAX_DEPTH levels are refused, each operator or call one level."""
    for make in (lambda n: "-" * n + "x", lambda n: "+".join(["x"] * (n + 1)),
                 lambda n: "sin(" * n + "x" + ")" * n, lambda n: "x**" * n + "x",
                 lambda n: "sum(" * n + "x" + ")" * n):
        assert parse_formula(make(MAX_DEPTH)).variables == ("x",)
        with pytest.raises(FormulaError, match=f"more than {MAX_DEPTH} levels"):
            parse_formula(make(MAX_DEPTH + 1))
    assert parse_formula("(" * 150 + "x" + ")" * 150).variables == ("x",)
    assert parse_formula("dot([" + ", ".join(["x"] * 200) + "], [" + ", ".join(["1"] * 200)
                         + "])").variables == ("x",)


@pytest.mark.parametrize(("text", "point", "first"), [
    ("exp(x) * y + 1", {"x": 1000.0, "y": 0.0}, ("exp(x)", math.inf)),
    ("x * y + exp(x)", {"x": 1000.0, "y": 1e308}, ("x * y", math.inf)),
    ("log(exp(x) - exp(x))", {"x": 800.0}, ("exp(x)", math.inf)),
    ("tanh(x) + x ** 2", {"x": 3.0}, None),
])
def test_first_not_finite_names_the_innermost_leftmost_term(text, point, first):
    assert parse_formula(text).first_not_finite(point) == first
    out, _ = parse_formula(text).build(point)
    assert math.isfinite(out.data) == (first is None)
