"""Higher order: grad(create_graph=True) to the third derivative, hessian and jacobian."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, grad, hessian, jacobian, no_grad
from tests.finite_differences import close, gradient


def derivatives_up_to_3(f, x0):
    """f(x0), f'(x0), f''(x0), f'''(x0) by three nested grad(create_graph=True) calls."""
    x = Value(x0)
    y = f(x)
    (d1,) = grad(y, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    return y.data, d1.data, d2.data, d3


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


# (f on Values, point, [f, f', f'', f'''] in closed form at the point)
CLOSED_FORMS = {
    "x**3": (lambda x: x ** 3, 1.7, lambda t: [t ** 3, 3 * t ** 2, 6 * t, 6.0]),
    "x**-2": (lambda x: x ** -2, 0.8, lambda t: [t ** -2, -2 * t ** -3, 6 * t ** -4,
                                                 -24 * t ** -5]),
    "x**2.5": (lambda x: x ** 2.5, 1.3, lambda t: [t ** 2.5, 2.5 * t ** 1.5,
                                                  3.75 * t ** 0.5, 1.875 * t ** -0.5]),
    "exp": (lambda x: x.exp(), 0.4, lambda t: [math.exp(t)] * 4),
    "log": (lambda x: x.log(), 1.9, lambda t: [math.log(t), 1 / t, -1 / t ** 2, 2 / t ** 3]),
    "sqrt": (lambda x: x.sqrt(), 2.2, lambda t: [t ** 0.5, 0.5 * t ** -0.5,
                                                -0.25 * t ** -1.5, 0.375 * t ** -2.5]),
    "sin": (lambda x: x.sin(), 0.9, lambda t: [math.sin(t), math.cos(t), -math.sin(t),
                                               -math.cos(t)]),
    "cos": (lambda x: x.cos(), 0.9, lambda t: [math.cos(t), -math.sin(t), -math.cos(t),
                                               math.sin(t)]),
    "tanh": (lambda x: x.tanh(), 0.6, lambda t: [
        math.tanh(t), 1 - math.tanh(t) ** 2, -2 * math.tanh(t) * (1 - math.tanh(t) ** 2),
        -2 * (1 - math.tanh(t) ** 2) * (1 - 3 * math.tanh(t) ** 2)]),
    "sigmoid": (lambda x: x.sigmoid(), -0.7, lambda t: [
        _sigmoid(t), _sigmoid(t) * (1 - _sigmoid(t)),
        _sigmoid(t) * (1 - _sigmoid(t)) * (1 - 2 * _sigmoid(t)),
        _sigmoid(t) * (1 - _sigmoid(t)) * (1 - 6 * _sigmoid(t) + 6 * _sigmoid(t) ** 2)]),
    "softplus": (lambda x: x.softplus(), 0.3, lambda t: [
        math.log1p(math.exp(t)), _sigmoid(t), _sigmoid(t) * (1 - _sigmoid(t)),
        _sigmoid(t) * (1 - _sigmoid(t)) * (1 - 2 * _sigmoid(t))]),
    "1/x": (lambda x: 1 / x, -1.5, lambda t: [1 / t, -1 / t ** 2, 2 / t ** 3, -6 / t ** 4]),
    "2**x": (lambda x: 2 ** x, 0.5, lambda t: [2 ** t * math.log(2) ** k for k in range(4)]),
    "x**x": (lambda x: x ** x, 1.4, lambda t: [
        t ** t, t ** t * (math.log(t) + 1), t ** t * ((math.log(t) + 1) ** 2 + 1 / t),
        t ** t * ((math.log(t) + 1) ** 3 + 3 * (math.log(t) + 1) / t - 1 / t ** 2)]),
    "abs**3": (lambda x: abs(x) ** 3, -1.2, lambda t: [abs(t) ** 3, 3 * t * abs(t),
                                                      6 * abs(t), 6 * math.copysign(1, t)]),
    "relu**3": (lambda x: x.relu() ** 3, 0.8, lambda t: [t ** 3, 3 * t ** 2, 6 * t, 6.0]),
    "leaky_relu**2": (lambda x: x.leaky_relu(0.1) ** 2, -2.0, lambda t: [
        0.01 * t ** 2, 0.02 * t, 0.02, 0.0]),
    "exp(sin)": (lambda x: x.sin().exp(), 0.5, lambda t: [
        math.exp(math.sin(t)), math.cos(t) * math.exp(math.sin(t)),
        (math.cos(t) ** 2 - math.sin(t)) * math.exp(math.sin(t)),
        (math.cos(t) ** 3 - 3 * math.sin(t) * math.cos(t) - math.cos(t))
        * math.exp(math.sin(t))]),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_first_second_third_derivatives_match_closed_forms(name) -> None:
    f, x0, expected = CLOSED_FORMS[name]
    assert derivatives_up_to_3(f, x0) == pytest.approx(expected(x0), rel=1e-10, abs=1e-12)


def test_mixed_partials_of_a_product_of_three() -> None:
    x, y, z = Value(1.5), Value(-2.0), Value(0.5)
    f = x * x * y * z.exp()
    gx, gy, gz = grad(f, [x, y, z], create_graph=True)
    assert gx.data == pytest.approx(2 * 1.5 * -2.0 * math.exp(0.5))
    assert grad(gx, [x, y, z]) == pytest.approx([2 * -2.0 * math.exp(0.5),
                                                  2 * 1.5 * math.exp(0.5),
                                                  2 * 1.5 * -2.0 * math.exp(0.5)])
    e = math.exp(0.5)
    assert (gy.data, gz.data) == pytest.approx((2.25 * e, 2.25 * -2.0 * e))
    assert grad(gz, [x, y, z]) == pytest.approx([2 * 1.5 * -2.0 * e, 2.25 * e, -4.5 * e])
    (gxy,) = grad(gx, [y], create_graph=True)
    assert grad(gxy, [x, y, z]) == pytest.approx([2 * math.exp(0.5), 0.0,
                                                  3.0 * math.exp(0.5)])


def test_create_graph_leaves_grad_alone_and_gives_values() -> None:
    x = Value(0.3)
    y = x.tanh() * x
    (d1,) = grad(y, [x], create_graph=True)
    assert isinstance(d1, Value) and x.grad == 0.0 and y.grad == 0.0
    d1.backward()
    t = math.tanh(0.3)
    assert x.grad == pytest.approx(2 * (1 - t * t) - 2 * 0.3 * t * (1 - t * t))


def test_n_ary_rows_differentiate_twice() -> None:
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    d = ag.dot([a, b], [b, c])
    assert [grad(g, [a, b, c]) for g in grad(d, [a, b, c], create_graph=True)] == [
        [0, 1, 0], [1, 0, 1], [0, 1, 0]]
    s = ag.logsumexp([a, b, c])
    p = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    rows = [grad(g, [a, b, c]) for g in grad(s, [a, b, c], create_graph=True)]
    assert np.allclose(rows, np.diag(p) - np.outer(p, p), atol=1e-12)


smooth = st.floats(-2, 2, allow_nan=False)


def _mix(x, y, z):
    return (x * y).sin() * z.exp() + (x * x + y * y + 1).log() / (z * z + 1) + (x - z).tanh()


@given(smooth, smooth, smooth)
def test_hessian_matches_finite_differences_of_the_gradient(a, b, c) -> None:
    h = hessian(_mix, [a, b, c])
    for i in range(3):
        def partial(x, y, z, i=i):
            xs = [Value(x), Value(y), Value(z)]
            return grad(_mix(*xs), xs)[i]
        numeric = gradient(partial, [a, b, c])
        assert all(close(h[i][j], numeric[j], rtol=1e-4, atol=1e-5) for j in range(3))
    assert np.allclose(h, h.T, atol=1e-12)


@given(smooth, smooth)
def test_third_derivatives_match_finite_differences_of_the_second(a, b) -> None:
    def second(x, y):
        xs = [Value(x), Value(y)]
        (gx, _) = grad(xs[0].sin() * xs[1].exp() + xs[0] * xs[1] ** 3, xs, create_graph=True)
        return grad(gx, xs)[1]

    xs = [Value(a), Value(b)]
    (gx, _) = grad(xs[0].sin() * xs[1].exp() + xs[0] * xs[1] ** 3, xs, create_graph=True)
    (gxy,) = grad(gx, [xs[1]], create_graph=True)
    analytic = grad(gxy, xs)
    assert analytic == pytest.approx([-math.sin(a) * math.exp(b), math.cos(a) * math.exp(b)
                                      + 6 * b], rel=1e-9, abs=1e-9)
    numeric = gradient(second, [a, b])
    assert all(close(u, v, rtol=1e-4, atol=1e-5) for u, v in zip(analytic, numeric))


UNARY = [lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: a.sin(), lambda a: a.cos(),
         lambda a: (a * a + 1).log(), lambda a: a.softplus(), lambda a: (a * a + 1).sqrt(),
         lambda a: a.exp() * 0.5, lambda a: a ** 3, lambda a: 1 / (a * a + 2)]
BINARY = [lambda a, b: a * b, lambda a, b: a + b, lambda a, b: a - b,
          lambda a, b: a / (b * b + 1), lambda a, b: (a * a + 1) ** b.tanh(),
          lambda a, b: ag.dot([a, b], [b, a]), lambda a, b: ag.logsumexp([a, b])]


@st.composite
def programs(draw):
    """A random straight-line program over 2 or 3 inputs, as a list of steps."""
    n = draw(st.integers(2, 3))
    steps = []
    for k in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            steps.append((draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n + k - 1))))
        else:
            steps.append((draw(st.integers(0, len(BINARY) - 1)), draw(st.integers(0, n + k - 1)),
                          draw(st.integers(0, n + k - 1))))
    point = draw(st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=n, max_size=n))
    return steps, point


def run(steps, xs):
    values = list(xs)
    for step in steps:
        if len(step) == 2:
            values.append(UNARY[step[0]](values[step[1]]))
        else:
            values.append(BINARY[step[0]](values[step[1]], values[step[2]]))
    return ag.sum(values[len(xs):])


@given(programs())
def test_hessians_of_random_programs_match_finite_differences(program) -> None:
    steps, point = program
    h = hessian(lambda *xs: run(steps, xs), point)
    for i in range(len(point)):
        def partial(*coords, i=i):
            xs = [Value(c) for c in coords]
            return grad(run(steps, xs), xs)[i]
        numeric = gradient(partial, point)
        assert all(close(h[i][j], numeric[j], rtol=1e-4, atol=1e-5)
                   for j in range(len(point))), (h, numeric)


def test_hessian_of_a_quadratic_form_is_its_symmetric_matrix() -> None:
    a = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0], [1.5, 0.0, -4.0]])

    def quadratic(*xs):
        return ag.sum(a[i, j] * xs[i] * xs[j] for i in range(3) for j in range(3))

    assert np.allclose(hessian(quadratic, [0.3, -1.0, 2.0]), a + a.T)


def test_hessian_of_rosenbrock_in_closed_form() -> None:
    def rosenbrock(x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    x, y = -1.2, 1.0
    h = hessian(rosenbrock, np.array([x, y]))
    assert isinstance(h, np.ndarray) and h.dtype == np.float64 and h.shape == (2, 2)
    assert np.allclose(h, [[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200]])


def test_jacobian_of_polar_to_cartesian() -> None:
    def polar(r, t):
        return [r * t.cos(), r * t.sin(), 1.0]

    r, t = 2.0, 0.7
    j = jacobian(polar, [r, t])
    assert j.shape == (3, 2)
    assert np.allclose(j, [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)],
                           [0.0, 0.0]])


@given(smooth, smooth)
def test_jacobian_rows_match_finite_differences(a, b) -> None:
    def f(x, y):
        return [(x * y).tanh(), x.exp() - y, (x * x + y * y + 1).sqrt()]

    j = jacobian(f, [a, b])
    for k in range(3):
        numeric = gradient(lambda p, q, k=k: f(Value(p), Value(q))[k].data, [a, b])
        assert all(close(j[k][i], numeric[i]) for i in range(2))


def test_a_single_output_is_a_one_row_jacobian_and_inputs_keep_their_grad() -> None:
    w = Value(3.0)
    w.grad = 7.0
    j = jacobian(lambda x: x * w, [2.0])
    assert j.tolist() == [[3.0]] and w.grad == 7.0
    h = hessian(lambda x: x * x * w, [Value(2.0)])
    assert h.tolist() == [[6.0]] and w.grad == 7.0


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: hessian(lambda x: x, 1.0), TypeError, r"hessian: the point must be a sequence"),
    (lambda: hessian(lambda x: x, []), ValueError, r"hessian: the point is empty"),
    (lambda: hessian(lambda x: x, ["a"]), TypeError, r"hessian: input 0 must be a real"),
    (lambda: hessian(lambda x: x, [True]), TypeError, r"hessian: input 0 must be a real"),
    (lambda: hessian(lambda x: x, [math.nan]), ValueError, r"input 0 is nan; expected a fin"),
    (lambda: hessian(lambda x: x, np.ones((2, 2))), ValueError, r"one-dimensional"),
    (lambda: hessian(lambda x: x, "ab"), TypeError, r"the point must be a sequence"),
    (lambda: hessian(3.0, [1.0]), TypeError, r"hessian: f must be a function of Values"),
    (lambda: hessian(lambda x: [x, x], [1.0]), TypeError,
     r"hessian: f must return a Value .*got list of length 2; use jacobian"),
    (lambda: hessian(lambda x: "x", [1.0]), TypeError, r"f must return a Value"),
    (lambda: jacobian(lambda x: x, Value(1.0)), TypeError, r"jacobian: the point must be"),
    (lambda: jacobian(lambda x: [], [1.0]), TypeError, r"non-empty list or tuple"),
    (lambda: jacobian(lambda x: None, [1.0]), TypeError, r"got NoneType"),
    (lambda: jacobian(lambda x: [x, "y"], [1.0]), TypeError, r"output 1 of f is a str"),
    (lambda: hessian(lambda x, y: x, [1.0]), TypeError,
     r"hessian: f takes 2 arguments, got 1 input; expected one input per argument"),
    (lambda: jacobian(lambda x: [x], [1.0, 2.0]), TypeError,
     r"jacobian: f takes 1 argument, got 2 inputs"),
    # a set or a dict has no order of its own to match f's arguments with
    (lambda: jacobian(lambda x, y: [x * y], {3.0, 1.0}), TypeError,
     r"jacobian: the point must be a list, tuple or 1-D array, in the order of f's "
     r"arguments, got a set, which has no order"),
    (lambda: ag.jvp(lambda x, y: x * y, {"x": 1.0, "y": 2.0}, [1.0, 0.0]), TypeError,
     r"jvp: the point .*got a dict, which has no order"),
    (lambda: ag.gradcheck(lambda x, y: x * y, frozenset([1.0, 2.0])), TypeError,
     r"gradcheck: the point .*got a frozenset, which has no order"),
    (lambda: ag.gradcheck(lambda x: x * x, np.array(1.0)), ValueError,
     r"gradcheck: the point must be one-dimensional, got an array of shape \(\)"),
    (lambda: ag.taylorcheck(lambda x: x * x, np.array([[1.0, 2.0]])), ValueError,
     r"taylorcheck: the point must be one-dimensional, got an array of shape \(1, 2\)"),
    (lambda: ag.grad(Value(1.0) * 2, 3.0), TypeError,
     r"grad: inputs must be a Value or a list or tuple of Values, got float"),
    (lambda: ag.grad(Value(1.0) * 2, {Value(1.0)}), TypeError,
     r"grad: inputs .*got a set, which has no order"),
    # an int past float range is as far from a finite point as inf, named, not an OverflowError
    (lambda: ag.gradcheck(lambda x: x * x, [10**400]), ValueError,
     r"gradcheck: input 0 expects a real number within float range .* of 401 digits"),
    (lambda: hessian(lambda x: x * x, [1.0, 10**400]), ValueError,
     r"hessian: input 1 expects a real number within float range"),
    (lambda: ag.jvp(lambda x: x * x, [1.0], [10**400]), ValueError,
     r"jvp: tangents\[0\] is inf; expected a finite number"),
    (lambda: ag.taylorcheck(lambda x: x * x, [1.0], directions=[[-10**400]]), ValueError,
     r"taylorcheck: direction 0: direction\[0\] is -inf; expected a finite number"),
])
def test_bad_arguments_are_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_no_grad_is_an_error_not_a_silent_zero() -> None:
    with no_grad(), pytest.raises(RuntimeError, match=r"hessian needs gradient tracking"):
        hessian(lambda x: x * x, [1.0])
    with no_grad(), pytest.raises(RuntimeError, match=r"jacobian needs gradient tracking"):
        jacobian(lambda x: [x * x], [1.0])


@pytest.mark.parametrize("lead", [5.0, 12.0, 20.0, 30.0])
def test_logsumexp_higher_derivatives_stay_accurate_at_a_dominant_input(lead) -> None:
    """d^k/dx^k logsumexp(x, 0, -1) at x = lead against closed forms in q = 1 - p, which
    is computed without cancellation: p q, p q (1 - 2p) = p q (q - p)."""
    x = Value(lead)
    y = ag.logsumexp([x, Value(0.0), Value(-1.0)])
    (d1,) = ag.grad(y, [x], create_graph=True)
    (d2,) = ag.grad(d1, [x], create_graph=True)
    (d3,) = ag.grad(d2, [x])
    others = math.exp(-lead) + math.exp(-1.0 - lead)
    q = others / (1.0 + others)
    p = 1.0 / (1.0 + others)
    assert d1.data == pytest.approx(p, rel=1e-15, abs=0)
    assert d2.data == pytest.approx(p * q, rel=4e-15, abs=0)
    assert d3 == pytest.approx(p * q * (q - p), rel=4e-15, abs=0)
