"""Conventions at edge values (inf and NaN gradients, -0.0, NaN inputs), eager and
compiled alike: both must give the same bits, and PyTorch's answer where it has one."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_scalar as ag
from autograd_scalar import Value


def same(a: float, b: float) -> bool:
    """Equal as IEEE bit patterns go: NaN equals NaN, and 0.0 differs from -0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def same_bits(a, b) -> bool:
    """Arrays equal bit for bit (0.0 differs from -0.0), a NaN equal to any NaN: IEEE 754
    leaves the sign and payload of an operation's NaN open, and NumPy's vector loops
    combine two NaNs in either order."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    nan = np.isnan(a)
    return (a.shape == b.shape and bool((nan == np.isnan(b)).all())
            and a[~nan].tobytes() == b[~nan].tobytes())


def eager_and_compiled(f, x: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """(output, d output / dx) at x, from an eager graph and from a compiled tape."""
    leaf = Value(x)
    out = f(leaf)
    eager = (out.data, ag.grad(out, [leaf])[0])
    found = ag.compile(f, 1.0).gradients(np.array([x]))
    return eager, (float(found.outputs[0]), float(found.inputs[0][0]))


# -- a zero local derivative contributes exactly zero ------------------------------

ZERO_LOCAL = {
    "relu then sqrt": lambda x: x.relu().sqrt(),
    "leaky_relu(0) then sqrt": lambda x: x.leaky_relu(0.0).sqrt(),
    "unselected gather operand": lambda x: ag.gather([(x * x).sqrt() * 0.0 + x.relu().sqrt(),
                                                      x * 2.0], 1) + x.relu().sqrt(),
    "n-ary gather into sqrt(0)": lambda x: ag.gather([x, x * 2.0, (x * x).relu() * 0.0],
                                                     2).sqrt(),
}


@pytest.mark.parametrize("name", ZERO_LOCAL)
@pytest.mark.parametrize("x", [-1.0, -0.0, 0.0])
def test_an_infinite_upstream_gradient_through_a_zero_derivative_gives_zero(name, x) -> None:
    eager, compiled = eager_and_compiled(ZERO_LOCAL[name], x)
    assert not math.isnan(eager[1]), (name, x, eager)
    assert same(eager[0], compiled[0]) and same(eager[1], compiled[1]), (eager, compiled)


def test_relu_of_a_negative_number_into_sqrt_gives_zero_as_pytorch_does() -> None:
    x = Value(-1.0)
    x.relu().sqrt().backward()
    assert same(x.grad, 0.0)


def test_an_infinite_local_derivative_against_a_zero_upstream_stays_nan() -> None:
    """Only the zero *local* derivative is exact: inf * 0 is NaN (PyTorch agrees)."""
    x = Value(0.0)
    y = x.sqrt() * 0.0
    y.backward()
    assert math.isnan(x.grad)


def test_gather_passes_nothing_to_an_unselected_operand_under_create_graph() -> None:
    """d/dx of gather([x * x, x], 1) * inf is inf through x; the unselected x * x adds
    nothing (not 0 * inf = NaN), also when the gradient is built as a graph."""
    x = Value(2.0)
    y = ag.gather([x * x, x], 1) * Value(math.inf)
    (first,) = ag.grad(y, [x], create_graph=True)
    assert first.data == math.inf
    assert ag.grad(y, [x])[0] == math.inf


def test_a_dense_layer_gives_zero_for_zero_inputs_weights_and_dead_units() -> None:
    """The compiled dense step (matrix products) against the eager graph, term by term:
    x_1 = 0 meets an infinite upstream in d/dw, a zero weight in d/dx, and a dead relu
    unit masks an infinite gradient from sqrt."""
    W = [[Value(1.0), Value(0.0)], [Value(-1.0), Value(2.0)], [Value(0.5), Value(0.0)]]
    b = [Value(0.0), Value(0.0), Value(-0.5)]
    params = [w for row in W for w in row] + b

    def f(xs):
        h = [z.relu() for z in ag.linear(W, xs, b)]
        return ag.sum([v.sqrt() for v in h])

    X = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 1.0]])
    tape = ag.compile(f, X[0])
    assert "matrix" in tape.program()
    totals = assert_same_as_eager(tape.gradients(X), f, params, X)
    assert not any(math.isnan(g) for g in totals.values())


def assert_same_as_eager(found, f, params: list[Value], X: np.ndarray) -> dict[Value, float]:
    """A tape's gradients of ``f`` over the rows of ``X`` equal the eager graph's, bit for
    bit: every output, every input gradient, and each shared leaf's gradient summed over
    the rows (returned, per leaf)."""
    totals = dict.fromkeys(params, 0.0)
    for i, row in enumerate(X):
        xs = [Value(v) for v in row]
        out = f(xs)
        assert same(float(found.outputs[i]), out.data), (i, found.outputs[i], out.data)
        grads = ag.grad(out, params + xs)
        for p, g in zip(params, grads):
            totals[p] += g
        for j, g in enumerate(grads[len(params):]):
            assert same(found.inputs[0][i][j], g), (i, j, found.inputs[0][i][j], g)
    for p in params:
        assert same(found.shared.get(p, 0.0), totals[p]), (p, found.shared.get(p), totals[p])
    return totals


# -- -0.0 and NaN: one convention (PyTorch's), eager and compiled alike ------------

NAN = math.nan

# f, x, (output, derivative) as PyTorch 2 gives them in float64
CONVENTIONS = [
    ("relu", lambda x: x.relu(), -0.0, (-0.0, 0.0)),
    ("relu", lambda x: x.relu(), NAN, (NAN, 1.0)),
    ("relu", lambda x: x.relu(), 0.0, (0.0, 0.0)),
    ("abs", lambda x: abs(x), NAN, (NAN, 0.0)),
    ("abs", lambda x: abs(x), -0.0, (0.0, 0.0)),
    ("x ** 0.5", lambda x: x ** 0.5, -0.0, (-0.0, -math.inf)),
    ("x ** 0.5", lambda x: x ** 0.5, 4.0, (2.0, 0.25)),
    ("sqrt", lambda x: x.sqrt(), -0.0, (-0.0, -math.inf)),
    ("x ** 1.5", lambda x: x ** 1.5, -0.0, (0.0, -0.0)),
    ("sum", lambda x: ag.sum([x, x * 1.0, x * 2.0]), -0.0, (0.0, 4.0)),
    ("sum of one", lambda x: ag.sum([x]), -0.0, (0.0, 1.0)),
    ("dot", lambda x: ag.dot([x, x * 2.0], [Value(1.0), Value(3.0)]), -0.0, (0.0, 7.0)),
    ("dot", lambda x: ag.dot([x, x], [x * 2.0, x * 3.0]), -0.0, (0.0, 0.0)),
]


@pytest.mark.parametrize(("name", "f", "x", "expected"), CONVENTIONS,
                         ids=[f"{c[0]}({c[2]})" for c in CONVENTIONS])
def test_edge_values_follow_pytorch_eager_and_compiled(name, f, x, expected) -> None:
    """Outputs to the bit; a zero gradient's sign is not part of the convention (a
    gradient adds up from +0.0: ``.grad += ...``, the tape's zeroed rows)."""
    eager, compiled = eager_and_compiled(f, x)
    for found in (eager, compiled):
        assert same(found[0], expected[0]), (name, x, eager, compiled, expected)
        assert same(found[1] + 0.0, expected[1] + 0.0), (name, x, eager, compiled, expected)


@pytest.mark.parametrize("row", [[0.0, math.inf, NAN], [NAN, math.inf, 0.0],
                                 [math.inf, 1.0, NAN], [-math.inf, NAN]])
@pytest.mark.parametrize("strategy", ["scalar", "grouped", "vector"])
def test_logsumexp_of_an_infinity_and_a_nan_is_nan_in_any_order_and_strategy(
        row, strategy) -> None:
    """Python's max skipped a NaN after the first operand, so [0, inf, nan] gave inf
    eagerly (and scalar) while NumPy, PyTorch and the grouped tape gave NaN, and a
    trace at such a row was refused."""
    xs = [Value(v) for v in row]
    out = ag.logsumexp(xs)
    assert math.isnan(out.data)
    assert all(math.isnan(g) for g in ag.grad(out, xs))
    tape = ag.compile(ag.logsumexp, row)
    tape.strategy = strategy
    found = tape.gradients(np.array([row]))
    assert math.isnan(found.outputs[0]) and np.isnan(found.inputs[0]).all()


def test_sums_of_negative_zeros_in_a_batch_are_positive_zero() -> None:
    """The stacked forms (one NumPy reduction for a group) start from +0.0, as ``sum``."""
    for f in (lambda xs: ag.sum(xs), lambda xs: ag.dot(xs, xs[::-1])):
        for n in (1, 2, 5, 40):
            assert same(f([Value(-0.0)] * n).data, 0.0)
            out = ag.compile(f, [1.0] * n).forward(np.full((3, n), -0.0))
            assert all(same(float(v), 0.0) for v in np.ravel(out))


# -- x ** y with a Value exponent at y = 0 -------------------------------------------

@pytest.mark.parametrize("base", [NAN, 5e-324, 2.0, 1e300])
def test_the_base_derivative_of_x_to_the_zero_is_zero_as_in_pytorch(base) -> None:
    """d/dx x**y = y x**(y-1) is 0 at y = 0 even where x**-1 is inf or NaN; d/dy stays
    out * log(x) (NaN at a NaN base, as in PyTorch). Eager and compiled agree."""
    def f(xy):
        return xy[0] ** xy[1]

    x, y = Value(base), Value(0.0)
    eager = ag.grad(x ** y, [x, y])
    found = ag.compile(f, [1.0, 1.0]).gradients(np.array([[base, 0.0]])).inputs[0][0]
    assert eager[0] == 0.0 and found[0] == 0.0
    expected = math.log(base) if base == base else NAN
    assert same(eager[1], expected) and same(float(found[1]), expected)


def test_the_zero_exponent_keeps_the_mixed_second_derivative() -> None:
    """At y = 0 and a normal x the rule is still y * x**(y-1): d/dy of d/dx is 1/x."""
    H = ag.hessian(lambda x, y: x ** y, [2.0, 0.0])
    assert H[0][1] == H[1][0] == 0.5
    assert H[0][0] == 0.0


def test_a_subnormal_base_overflows_in_one_order_only_as_documented() -> None:
    H = ag.hessian(lambda x, y: x ** y, [5e-324, 0.5])
    assert math.isfinite(H[0][1]) and H[1][0] == math.inf
    assert H[0][1] == pytest.approx(5e-324 ** -0.5 * (1 + 0.5 * math.log(5e-324)), rel=1e-12)


def test_the_dense_relu_step_keeps_the_rows_edge_values() -> None:
    """The fused relu of a dense step (relu in place, its mask written into Z's gradient
    rows) against the eager graph on every edge value: relu(nan) is nan with slope 1,
    inf and -inf, and units whose sum is exactly 0 or -0.0."""
    W = [[Value(1.0), Value(0.0)], [Value(-1.0), Value(0.0)], [Value(0.5), Value(-0.5)]]
    b = [Value(0.0), Value(0.0), Value(0.0)]

    def f(xs):
        return ag.sum([z.relu() for z in ag.linear(W, xs, b)])

    X = np.array([[NAN, 1.0], [math.inf, 2.0], [-math.inf, 0.5], [0.0, 0.0], [-0.0, -0.0],
                  [-3.0, 4.0], [2.0, 2.0], [5e-324, 0.0]])
    tape = ag.compile(f, X[0])
    assert "affine+relu" in tape.program()
    found = tape.gradients(X)
    for i, row in enumerate(X):
        xs = [Value(v) for v in row]
        out = f(xs)
        grads = ag.grad(out, xs)
        assert same(found.outputs[i], out.data), (row, found.outputs[i], out.data)
        for j, g in enumerate(grads):
            assert same(found.inputs[0][i][j], g), (row, j, found.inputs[0][i][j], g)


@pytest.mark.parametrize(("x", "exact"), [
    (-5.0, -1.4332578593959695e-06), (-8.0, -4.976768459417427e-15),
    (-10.0, -7.619853024160526e-23), (2.0, 1.9544997361036416),
])
def test_gelu_keeps_its_relative_accuracy_for_negative_inputs(x, exact) -> None:
    """x/2 (1 + erf(x/sqrt 2)) cancels for x < 0 (2% off at -8, -0.0 at -10); with erfc
    the forward is within a few ulps of x Phi(x) (mpmath, 50 digits)."""
    assert Value(x).gelu().data == pytest.approx(exact, rel=1e-14, abs=0)


@pytest.mark.parametrize(("x", "exact"), [
    (-5.0, -7.146946001792295e-06), (-8.0, -3.979607261086796e-14),
    (-10.0, -7.618400096464814e-22), (-20.0, -1.1014360483133464e-86),
    (3.0, 1.011945647204184),
])
def test_the_derivative_of_gelu_keeps_its_relative_accuracy_for_negative_inputs(x, exact) -> None:
    """Phi(x) + x phi(x) with Phi as (1 + erf(x/sqrt 2))/2 cancelled below about -7 (0.1%
    off at -8, 0 at -10); with erfc it is within a few ulps of mpmath's (50 digits)."""
    node = Value(x)
    node.gelu().backward()
    assert node.grad == pytest.approx(exact, rel=1e-14, abs=0)


@pytest.mark.parametrize("x", [-4.0, -5.0, -6.0, -8.0, -10.0])
def test_the_checkers_pass_gelu_where_its_forward_used_to_cancel(x) -> None:
    """The Taylor test failed gelu at -4 and -5 and blamed its rule at -6: the forward's
    cancellation was noise far above its rounding bound."""
    assert ag.taylorcheck(lambda v: v.gelu(), [x]) and ag.check_graph(Value(x).gelu()).ok

