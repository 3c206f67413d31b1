"""Every row of the op table: derivative rule against central differences of its forward.

Each row is checked three ways, on hypothesis-drawn points inside its domain:
the local derivatives a Value stores (and backward uses), the second derivative
that create_graph builds from the same rule, and the rule and forward on NumPy
arrays against the same rule and forward on floats.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_scalar import Value, grad, ops
from tests.finite_differences import close, partial
from tests.finite_differences import gradient as moving_gradient

real = st.floats(-5, 5, allow_nan=False)
positive = st.floats(0.05, 5)
away_from_zero = real.filter(lambda x: abs(x) > 1e-3)

# row -> strategy for its operands (inside the domain, away from kinks)
DOMAINS = {
    ops.ADD: st.tuples(real, real),
    ops.SUB: st.tuples(real, real),
    ops.MUL: st.tuples(real, real),
    ops.DIV: st.tuples(real, st.floats(0.2, 5) | st.floats(-5, -0.2)),
    ops.NEG: st.tuples(real),
    ops.POW: st.tuples(st.floats(0.1, 3), st.floats(-2, 2)),
    ops.ABS: st.tuples(away_from_zero),
    ops.RELU: st.tuples(away_from_zero),
    ops.EXP: st.tuples(real),
    ops.LOG: st.tuples(positive),
    ops.SQRT: st.tuples(positive),
    ops.SIN: st.tuples(real),
    ops.COS: st.tuples(real),
    ops.TANH: st.tuples(real),
    ops.ERF: st.tuples(real),
    ops.ERFC: st.tuples(real),
    ops.GELU: st.tuples(real),
    ops.SIGMOID: st.tuples(real),
    ops.SOFTPLUS: st.tuples(real),
    ops.power(2.0): st.tuples(real),
    ops.power(3.0): st.tuples(real),
    ops.power(-1.0): st.tuples(away_from_zero),
    ops.power(0.5): st.tuples(positive),
    ops.power(-1.5): st.tuples(positive),
    ops.leaky_relu(0.01): st.tuples(away_from_zero),
    ops.leaky_relu(0.3): st.tuples(away_from_zero),
    ops.SUM: st.lists(real, min_size=1, max_size=6).map(tuple),
    ops.LOGSUMEXP: st.lists(real, min_size=1, max_size=6).map(tuple),
    ops.DOT: st.integers(1, 4).flatmap(lambda n: st.lists(real, min_size=2 * n,
                                                         max_size=2 * n).map(tuple)),
}
DOMAINS[ops.AFFINE] = st.integers(1, 4).flatmap(
    lambda n: st.lists(real, min_size=2 * n + 1, max_size=2 * n + 1).map(tuple))
# five values and an index among them (a fixed count, so a batch shares its arity)
DOMAINS[ops.GATHER] = st.tuples(*[real] * 5, st.integers(0, 4).map(float))
SMOOTH = [row for row in DOMAINS if row not in (ops.SUM, ops.DOT, ops.AFFINE, ops.GATHER)]
# rows whose second derivative is zero or undefined at kinks are covered by the first test
TWICE_DIFFERENTIABLE = [row for row in SMOOTH
                        if row.name not in ("abs", "relu", "-", "+", "neg")
                        and not row.name.startswith("leaky_relu")]


def forward(row: ops.Op):
    def f(*xs: float) -> float:
        return ops.evaluate(row, tuple(xs))

    f.row = row  # type: ignore[attr-defined]
    return f


def gradient(f, xs):
    """Central differences in every operand; an index operand (last, of an index row) is
    held fixed, its derivative 0 by definition (the forward is flat between integers)."""
    row = getattr(f, "row", None)
    if row is not None and row.index:
        held = xs[-1]
        return [*moving_gradient(lambda *moved: f(*moved, held), xs[:-1]), 0.0]
    return moving_gradient(f, xs)


def test_every_fixed_row_has_a_domain_here() -> None:
    untested = {row.name for row in ops.TABLE} - {row.name for row in DOMAINS}
    assert untested <= {"step", "sign"}  # their derivative is 0: checked below


@pytest.mark.parametrize("row", list(DOMAINS), ids=lambda row: row.name)
@given(data=st.data())
def test_stored_local_derivatives_match_central_differences(row: ops.Op, data) -> None:
    xs = data.draw(DOMAINS[row])
    leaves = [Value(x) for x in xs]
    out = row(*leaves)
    assert out.op == row.name
    assert out.children == tuple(leaves)
    numeric = gradient(forward(row), xs)
    for analytic, expected in zip(out.local_grads, numeric, strict=True):
        assert close(float(analytic), expected), (row.name, xs, out.local_grads, numeric)


@pytest.mark.parametrize("row", TWICE_DIFFERENTIABLE, ids=lambda row: row.name)
@given(data=st.data())
def test_second_derivative_from_the_same_rule(row: ops.Op, data) -> None:
    xs = data.draw(DOMAINS[row])

    def first_derivative(*point: float) -> float:
        leaves = [Value(p) for p in point]
        return grad(row(*leaves), leaves[0])[0]

    leaves = [Value(x) for x in xs]
    (g,) = grad(row(*leaves), leaves[:1], create_graph=True)
    second = grad(g, leaves)
    numeric = gradient(first_derivative, xs)
    for analytic, expected in zip(second, numeric, strict=True):
        assert close(analytic, expected, rtol=1e-3, atol=1e-5), (row.name, xs)


@pytest.mark.parametrize("row", list(DOMAINS), ids=lambda row: row.name)
@given(data=st.data())
def test_rows_agree_on_floats_and_arrays(row: ops.Op, data) -> None:
    batch = [data.draw(DOMAINS[row]) for _ in range(3)]
    arity = min(len(xs) for xs in batch)
    batch = [xs[:arity] for xs in batch]
    if (row is ops.DOT and arity % 2) or (row is ops.AFFINE and not arity % 2):
        batch = [xs[:-1] for xs in batch]
        arity -= 1
    columns = [np.array([xs[i] for xs in batch]) for i in range(arity)]
    outs = row(*columns)
    partials = row.derivatives(*columns, outs)
    for k, xs in enumerate(batch):
        out = ops.evaluate(row, tuple(xs))
        assert math.isclose(outs[k], out, rel_tol=1e-12, abs_tol=1e-12)
        for on_array, on_float in zip(partials, row.derivatives(*xs, out), strict=True):
            assert math.isclose(np.broadcast_to(on_array, outs.shape)[k], on_float,
                                rel_tol=1e-12, abs_tol=1e-12)


# the names a rule's text may use, beside its variables (on floats)
STATED = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos,
          "pi": math.pi, "sign": lambda x: float((x > 0) - (x < 0)),
          "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)),
          "Phi": lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0))),
          "phi": lambda x: math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)}
HUGE_POWER = ops.power(2.0 ** 53)  # its rule is written apart (p - 1 is not a float)
TEXT_DOMAINS = {**DOMAINS, ops.STEP: st.tuples(away_from_zero),
                ops.SIGN: st.tuples(away_from_zero),
                HUGE_POWER: st.sampled_from([(1.0,), (-1.0,), (0.5,), (-0.25,)])}


def stated_partials(row: ops.Op) -> dict[str, str]:
    """A row's rule in words as {variable: Python expression}: "d/dx = 1/y, d/dy = -out/y"
    gives {"x": "1/y", "y": "-out/y"}; a remark in parentheses after one is dropped."""
    parts = re.split(r"(?:^|, )d/d(\w+) = ", row.formula)[1:]
    stated = {}
    for variable, text in zip(parts[::2], parts[1::2]):
        while True:
            try:
                compile(text, row.formula, "eval")
                break
            except SyntaxError:
                assert " (" in text, f"{row.name}: cannot read {text!r} in {row.formula!r}"
                text = text[:text.rindex(" (")]
        stated[variable] = text
    return stated


def operand_names(row: ops.Op, count: int) -> list[tuple[str, dict[str, float]]]:
    """Each operand's variable in the rule text, with the names its partial may read."""
    if row.arity is not None:
        return [("xy"[j], {}) for j in range(count)]
    if row.index:
        return [*[("v_i", {"i": i}) for i in range(count - 1)], ("k", {})]
    if not row.bilinear:
        return [("x_i", {"i": i}) for i in range(count)]
    n = (count - row.bias) // 2
    return [*[("w_i", {"i": i}) for i in range(n)], *[("x_i", {"i": i}) for i in range(n)],
            *[("b", {})] * row.bias]


@pytest.mark.parametrize("row", list(TEXT_DOMAINS), ids=lambda row: row.name)
@given(data=st.data())
def test_every_rule_in_words_states_the_rule_in_code(row: ops.Op, data) -> None:
    """The formula drawings and reports show is the derivative the row computes."""
    xs = data.draw(TEXT_DOMAINS[row])
    out = ops.evaluate(row, xs)
    computed = ops.local_derivatives(row, xs, out)
    stated = stated_partials(row)
    names = operand_names(row, len(xs))
    assert set(stated) == {variable for variable, _ in names}, row.formula
    for j, (variable, where) in enumerate(names):
        scope = {**STATED, "out": out, **dict(zip("xy", xs))}
        if row.arity is None:
            if row.bilinear:
                n = (len(xs) - row.bias) // 2
                i = where.get("i", 0)
                scope.update(w_i=xs[i], x_i=xs[n + i], b=xs[-1])
            else:
                scope.update(x_i=xs[j], v_i=xs[j], k=xs[-1])
            scope.update(where)
        expected = eval(stated[variable], scope)
        assert math.isclose(float(computed[j]), expected, rel_tol=1e-9, abs_tol=1e-12), (
            row.name, row.formula, xs, j)


@pytest.mark.parametrize("row", [ops.STEP, ops.SIGN])
@given(x=away_from_zero)
def test_step_and_sign_are_flat_away_from_zero(row: ops.Op, x: float) -> None:
    node = row(Value(x))
    assert node.local_grads == (0.0,)
    assert partial(forward(row), [x], 0) == 0.0
    assert node.data == (1.0 if x > 0 else (0.0 if row is ops.STEP else -1.0))


def test_replace_copies_a_row_with_changed_fields_and_refuses_unknown_ones() -> None:
    variant = ops.TANH.replace(name="my_tanh", kinks=(0.5,))
    assert (variant.name, variant.kinks, variant.formula) == ("my_tanh", (0.5,), ops.TANH.formula)
    # smooth stays only where the function does: a kink, a new forward or rule drop it
    assert not variant.smooth and ops.TANH.replace(name="t2").smooth
    assert not ops.TANH.replace(scalar=ops.RELU.scalar, vector=ops.RELU.vector).smooth
    assert ops.RELU.replace(smooth=True, kinks=()).smooth
    assert variant(Value(0.3)).data == math.tanh(0.3) and ops.TANH.name == "tanh"
    with pytest.raises(TypeError, match="no field colour"):
        ops.TANH.replace(colour="red")


ANALYTIC = [row for row in DOMAINS if row.smooth]
"""The rows the tape lets read a matrix product in the product's own summation order."""
anywhere = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300]) | real


@pytest.mark.parametrize("row", ANALYTIC, ids=lambda row: row.name)
@given(data=st.data())
def test_a_smooth_row_has_no_kink_edge_or_pole(row: ops.Op, data) -> None:
    """``smooth`` rows are defined at every real operand (0 and its neighbours included),
    and their partials do not jump: at operands moved by rounding they are as close as the
    moves (relu, abs, a division, sqrt or log would each fail one of these)."""
    count = len(data.draw(DOMAINS[row]))
    xs = tuple(data.draw(st.lists(anywhere, min_size=count, max_size=count)))
    assert not row.kinks and (row.check is None or row.check(*xs) is None), (row.name, xs)
    here = ops.local_derivatives(row, xs, ops.evaluate(row, xs))
    for step in (1e-9, -1e-9):
        moved = tuple(x + step for x in xs)
        there = ops.local_derivatives(row, moved, ops.evaluate(row, moved))
        for a, b in zip(here, there, strict=True):
            assert math.isfinite(float(a)) and close(float(a), float(b), atol=1e-6), (
                row.name, xs, here, there)


def test_the_rows_with_a_kink_edge_or_pole_are_not_smooth() -> None:
    assert {ops.power(2.0).name, ops.power(3.0).name} <= {row.name for row in ANALYTIC}
    for row in (ops.RELU, ops.ABS, ops.STEP, ops.SIGN, ops.DIV, ops.LOG, ops.SQRT, ops.POW,
                ops.leaky_relu(0.1), ops.power(-1.0), ops.power(0.5), ops.power(1.5),
                ops.power(math.nan), ops.power(2.0 ** 60), ops.GATHER):
        assert not row.smooth, row.name
