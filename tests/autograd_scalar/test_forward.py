"""Forward mode: jvp, jacfwd, hvp and dual numbers, from the same stored local derivatives.

Every result is checked against reverse mode (grad, jacobian, hessian) and against
central differences on random programs; where PyTorch is installed, also against
``torch.func.jvp`` (the same test, one more reference: nothing is skipped without it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Function, Value, grad, hessian, jacobian, ops
from autograd_scalar.forward import inputs_first
from tests.autograd_scalar.random_programs import (
    BINARY,
    NARY,
    UNARY,
    as_float_function,
    programs,
    run,
)
from tests.autograd_scalar.sample_functions import BadCube, Cube
from tests.finite_differences import close

try:
    import torch
    import torch.func
except ImportError:  # the comparisons with PyTorch run where it is installed
    torch = None

RANDOM_PROGRAMS = 100
"""Random programs per property (the README of the tests quotes the counts)."""


def directional_difference(f, point, v, h=1e-6):
    """(f(x + h v) - f(x - h v)) / 2h: the derivative of f along v, numerically; None where
    it has not settled (halving h moves it beyond :func:`close`'s tolerance: f changes
    faster than the step resolves, as cos of a huge argument does, and no step serves)."""
    def difference(step):
        up = [x + step * c for x, c in zip(point, v)]
        down = [x - step * c for x, c in zip(point, v)]
        return (f(*up) - f(*down)) / (2 * step)

    coarse, fine = difference(h), difference(h / 2)
    settled = all(close(a, b) for a, b in zip(np.atleast_1d(coarse), np.atleast_1d(fine)))
    return coarse if settled else None


def torch_run(steps, inputs):
    """A random program on float64 tensors: the same steps, PyTorch's functions."""
    softplus = torch.nn.functional.softplus
    unary = {**UNARY, "softplus": softplus}
    nary = {"sum": lambda vs: torch.stack(vs).sum(),
            "dot": lambda vs: (torch.stack(vs) * torch.stack(vs[::-1])).sum()}
    results = list(inputs)
    for kind, name, args in steps:
        operands = [results[i] for i in args]
        if kind == "nary":
            results.append(nary[name](operands))
        elif kind == "unary":
            results.append(unary[name](*operands))
        else:
            results.append(BINARY[name](*operands))
    return results[-1]


def torch_jvp(steps, point, v):
    primals = tuple(torch.tensor(x, dtype=torch.float64) for x in point)
    tangents = tuple(torch.tensor(c, dtype=torch.float64) for c in v)
    out, tangent = torch.func.jvp(lambda *xs: torch_run(steps, xs), primals, tangents)
    return float(out), float(tangent)


def test_the_torch_program_table_covers_every_random_op() -> None:
    assert set(NARY) == {"sum", "dot"} and "softplus" in UNARY


tangent_vectors = st.lists(st.floats(-2, 2), min_size=4, max_size=4)


@settings(max_examples=RANDOM_PROGRAMS, deadline=None)
@given(programs(), tangent_vectors)
@example(([("unary", "cos", [0]), ("nary", "dot", [2]), ("nary", "dot", [2, 0, 5]),
           ("nary", "dot", [0, 6, 0]), ("nary", "dot", [7]), ("unary", "cos", [8])],
          [0.0, 0.0, 2.0, 0.0]), [0.0, 0.0, 1.0, 0.0])  # cos of x^16-sized terms: no step
def test_jvp_on_random_programs_matches_reverse_differences_and_torch(program, raw) -> None:
    steps, point = program
    v = raw[:len(point)]
    out, tangent = ag.jvp(lambda *xs: run(steps, list(xs)), point, v)
    leaves = [Value(x) for x in point]
    result = run(steps, leaves)
    reverse = grad(result, leaves)
    assert out == result.data
    assert tangent == pytest.approx(math.fsum(g * c for g, c in zip(reverse, v)),
                                    rel=1e-9, abs=1e-9), (steps, point, v)
    numeric = directional_difference(as_float_function(steps), point, v)
    assert numeric is None or close(tangent, numeric, rtol=1e-4, atol=1e-5), (steps, point, v)
    if torch is not None:
        torch_out, torch_tangent = torch_jvp(steps, point, v)
        assert out == pytest.approx(torch_out, rel=1e-12, abs=1e-12)
        assert tangent == pytest.approx(torch_tangent, rel=1e-9, abs=1e-9), (steps, point, v)


@settings(max_examples=RANDOM_PROGRAMS, deadline=None)
@given(programs(), st.integers(1, 3))
def test_jacfwd_on_random_programs_equals_reverse_jacobian(program, outputs) -> None:
    steps, point = program

    def f(*xs):
        results = list(xs)
        for k in range(len(steps)):
            results.append(run(steps[:k + 1], list(xs)))
        return results[-outputs:]

    forward = ag.jacfwd(f, point)
    reverse = jacobian(f, point)
    assert forward.shape == reverse.shape
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-9)


@settings(max_examples=RANDOM_PROGRAMS, deadline=None)
@given(programs(), tangent_vectors)
def test_hvp_on_random_programs_equals_hessian_times_v_and_differences(program, raw) -> None:
    steps, point = program
    v = raw[:len(point)]

    def f(*xs):
        return run(steps, list(xs))

    found = ag.hvp(f, point, v)
    expected = hessian(f, point) @ np.array(v)
    np.testing.assert_allclose(found, expected, rtol=1e-8, atol=1e-8)

    def gradient(*xs):
        leaves = [Value(x) for x in xs]
        return np.array(grad(run(steps, leaves), leaves))

    numeric = directional_difference(gradient, point, v)
    for a, n in zip(found, [] if numeric is None else numeric):
        assert close(a, n, rtol=1e-4, atol=1e-4), (steps, point, v)


def test_jvp_of_a_known_function() -> None:
    out, tangent = ag.jvp(lambda x, y: x * y.sin(), [2.0, 1.0], [1.0, 0.5])
    assert out == 2.0 * math.sin(1.0)
    assert tangent == pytest.approx(math.sin(1.0) + 2.0 * math.cos(1.0) * 0.5, rel=1e-15)


def test_jvp_of_several_outputs_gives_lists() -> None:
    outs, tangents = ag.jvp(lambda r, t: [r * t.cos(), r * t.sin(), 3.0], [2.0, 0.0],
                            [0.0, 1.0])
    assert outs == [2.0, 0.0, 3.0]
    assert tangents == [0.0, 2.0, 0.0]


def test_jvp_takes_values_and_numpy_numbers_as_primals() -> None:
    out, tangent = ag.jvp(lambda x: x ** 3, [Value(2.0, "x")], [np.float32(1.0)])
    assert (out, tangent) == (8.0, 12.0)
    out, tangent = ag.jvp(lambda x: x ** 3, np.array([2.0]), np.array([0.5]))
    assert tangent == 6.0


def test_jacfwd_of_polar_coordinates() -> None:
    found = ag.jacfwd(lambda r, t: [r * t.cos(), r * t.sin()], [2.0, 0.0])
    assert found.tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert ag.jacfwd(lambda x, y: x * y, [3.0, 4.0]).tolist() == [[4.0, 3.0]]


def test_hvp_of_rosenbrock_is_the_hessian_column() -> None:
    def rosenbrock(x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    assert ag.hvp(rosenbrock, [1.0, 1.0], [1.0, 0.0]).tolist() == [802.0, -400.0]
    assert ag.hvp(rosenbrock, [1.0, 1.0], [0.0, 1.0]).tolist() == [-400.0, 200.0]


def test_a_function_of_yours_works_in_forward_mode_with_its_one_rule() -> None:
    out, tangent = ag.jvp(lambda x: Cube.apply(x), [2.0], [1.0])
    assert (out, tangent) == (8.0, 12.0)
    # a wrong rule is wrong the same way in both modes: one rule serves both
    _, wrong = ag.jvp(lambda x: BadCube.apply(x), [2.0], [1.0])
    leaf = Value(2.0)
    assert wrong == grad(BadCube.apply(leaf), [leaf])[0] == 6.0


def test_a_zero_tangent_is_never_multiplied() -> None:
    # sqrt's derivative at 0 is infinite; an input held still contributes 0, not nan
    out, tangent = ag.jvp(lambda x, y: x.sqrt() + y, [0.0, 1.0], [0.0, 1.0])
    assert (out, tangent) == (1.0, 1.0)


def test_tangents_on_a_built_graph_and_interior_seeds() -> None:
    x, y = Value(1.5), Value(-0.5)
    h = x * y
    out = h.tanh() + x
    t_out, t_h = ag.tangents([out, h], {x: 1.0})
    assert t_h == -0.5
    assert t_out == pytest.approx((1 - math.tanh(-0.75) ** 2) * -0.5 + 1.0, rel=1e-15)
    # seeding an interior node treats it as an input, as grad(out, [h]) does
    (seeded,) = ag.tangents(out, {h: 1.0})
    assert seeded == grad(out, [h])[0]


def test_inputs_first_visits_each_node_after_its_inputs_without_recursion() -> None:
    x = Value(0.1)
    y = x
    for _ in range(20_000):  # deeper than Python's recursion limit
        y = y * 1.0001
    order = inputs_first([y])
    position = {id(node): k for k, node in enumerate(order)}
    assert len(order) == 40_001 and order[-1] is y
    for node in order:
        assert all(position[id(c)] < position[id(node)] for c in node.children)
    (rate,) = ag.tangents(y, {x: 1.0})
    assert rate == pytest.approx(1.0001 ** 20_000, rel=1e-9)


# -- dual numbers -----------------------------------------------------------

def test_dual_numbers_carry_the_tangent() -> None:
    with ag.forward_ad():
        x = ag.dual(2.0, 1.0, label="x")
        y = x * x.sin()
        assert x.label == "x"
        assert ag.tangent(y) == pytest.approx(math.sin(2.0) + 2.0 * math.cos(2.0), rel=1e-15)
        z = y.exp()  # built after the first question: only the new nodes are visited
        assert ag.tangent(z) == pytest.approx(math.exp(y.data) * ag.tangent(y), rel=1e-15)
        assert ag.tangent(Value(3.0)) == 0.0
        assert ag.tangent(x) == 1.0


def test_dual_of_a_parameter_seeds_the_leaf_itself_and_reseeding_recomputes() -> None:
    w = Value(3.0)
    with ag.forward_ad() as level:
        assert level.dual(w, 1.0) is w
        y = w * w
        assert ag.tangent(y) == 6.0
        ag.dual(w, 2.0)
        assert ag.tangent(y) == 12.0


def test_forward_ad_blocks_nest_and_forget() -> None:
    with ag.forward_ad():
        x = ag.dual(1.0, 1.0)
        with ag.forward_ad():
            y = ag.dual(2.0, 1.0)
            product = x * y
            assert ag.tangent(product) == 1.0  # only y moves in the inner block
        assert ag.tangent(product) == 2.0      # only x moves in the outer one
    with pytest.raises(RuntimeError, match="no forward_ad"):
        ag.tangent(product)


def test_the_graph_of_duals_still_runs_backward() -> None:
    with ag.forward_ad():
        x = ag.dual(0.5, 1.0)
        y = x.tanh()
        y.backward()
        assert x.grad == ag.tangent(y) == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15)


@settings(max_examples=RANDOM_PROGRAMS, deadline=None)
@given(programs(), tangent_vectors)
def test_dual_numbers_equal_jvp_on_random_programs(program, raw) -> None:
    steps, point = program
    v = raw[:len(point)]
    with ag.forward_ad():
        xs = [ag.dual(x, c) for x, c in zip(point, v)]
        found = ag.tangent(run(steps, xs))
    assert found == ag.jvp(lambda *xs: run(steps, list(xs)), point, v)[1]


# -- errors -------------------------------------------------------------------

def test_jvp_refuses_mismatched_tangents_by_count() -> None:
    with pytest.raises(ValueError, match=r"jvp: 1 tangents for 2 input\(s\); expected one"):
        ag.jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])


@pytest.mark.parametrize(("tangents", "error", "message"), [
    ("ab", TypeError, "tangents must be a sequence of numbers"),
    (1.0, TypeError, r"wrap a single one in a list: \[t\]"),
    ([Value(1.0)], TypeError, r"tangents\[0\] must be a real number, got Value"),
    (["x"], TypeError, r"tangents\[0\] must be a real number, got str"),
    ([math.nan], ValueError, r"tangents\[0\] is nan; expected a finite number"),
    (np.ones((1, 1)), ValueError, r"one-dimensional, got an array of shape \(1, 1\)"),
])
def test_jvp_refuses_bad_tangents(tangents, error, message) -> None:
    with pytest.raises(error, match=message):
        ag.jvp(lambda x: x * 2, [1.0], tangents)


def test_jvp_refuses_bad_primals_and_outputs() -> None:
    with pytest.raises(TypeError, match="jvp: input 0 must be a real number"):
        ag.jvp(lambda x: x, ["1"], [1.0])
    with pytest.raises(TypeError, match="jvp: f must be a function"):
        ag.jvp(3, [1.0], [1.0])
    with pytest.raises(TypeError, match="jvp: f must return a Value or a non-empty list"):
        ag.jvp(lambda x: "x", [1.0], [1.0])
    with pytest.raises(TypeError, match="jvp: output 1 of f is a str, expected a Value"):
        ag.jvp(lambda x: [x, "y"], [1.0], [1.0])
    with ag.no_grad(), pytest.raises(RuntimeError, match="jvp needs gradient tracking"):
        ag.jvp(lambda x: x, [1.0], [1.0])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ag.jvp(lambda x, y: x * y, [1.0], [1.0]), "jvp: f takes 2 arguments, got 1 input"),
    (lambda: ag.jacfwd(lambda x: x, [1.0, 2.0]), "jacfwd: f takes 1 argument, got 2 inputs"),
    (lambda: ag.hvp(lambda x, y: x * y, [1.0], [1.0]), "hvp: f takes 2 arguments, got 1 input"),
])
def test_the_number_of_inputs_must_fit_f(call, message) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_hvp_and_jacfwd_refuse_bad_inputs() -> None:
    with pytest.raises(TypeError, match="hvp: f must return one Value, got a list of 2"):
        ag.hvp(lambda x: [x, x], [1.0], [1.0])
    with pytest.raises(ValueError, match=r"hvp: 2 v for 1 input\(s\)"):
        ag.hvp(lambda x: x * x, [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="jacfwd: the point is empty"):
        ag.jacfwd(lambda: Value(1.0), [])


def test_tangents_refuses_bad_seeds_and_outputs() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="tangents: seeds must be a dict"):
        ag.tangents(x, [x])
    with pytest.raises(TypeError, match="tangents: a seed's key is a float, expected a Value"):
        ag.tangents(x, {1.0: 1.0})
    with pytest.raises(TypeError, match="tangents: output 1 is a float, expected a Value"):
        ag.tangents([x, 2.0], {x: 1.0})
    with pytest.raises(TypeError, match=r"tangents: outputs must be .* got a set, which has no"):
        ag.tangents({x, 2 * x}, {x: 1.0})  # the answers would come in the set's order
    with pytest.raises(TypeError, match=r"the tangent of .* must be a real number, got str"):
        ag.tangents(x, {x: "1"})


def test_dual_and_tangent_refuse_misuse() -> None:
    with pytest.raises(RuntimeError, match=r"dual: no forward_ad\(\) block is open"):
        ag.dual(1.0, 1.0)
    with ag.forward_ad() as level:
        x = ag.dual(1.0, 1.0)
        with pytest.raises(ValueError, match=r"dual: .* is the result of an op \(\*\)"):
            ag.dual(x * 2, 1.0)
        with pytest.raises(TypeError, match="dual: x must be a real number or a leaf Value"):
            ag.dual("1", 1.0)
        with pytest.raises(TypeError, match="dual: the tangent must be a real number"):
            ag.dual(1.0, None)
        with pytest.raises(TypeError, match="tangent expects a Value, got float"):
            ag.tangent(1.0)
    with pytest.raises(RuntimeError, match=r"this forward_ad\(\) block has ended"):
        level.tangent(x)


def test_check_modes_names_the_modes() -> None:
    from autograd_scalar.forward import check_modes

    assert check_modes("fwd", "who") == ("fwd",)
    assert check_modes(["rev", "fwd", "rev"], "who") == ("rev", "fwd")
    with pytest.raises(ValueError, match="who: unknown mode 'forward'; expected 'fwd'"):
        check_modes(("forward",), "who")
    with pytest.raises(ValueError, match="who: modes is empty"):
        check_modes((), "who")
    with pytest.raises(TypeError, match="who: modes must be a sequence"):
        check_modes(3, "who")


def test_rows_of_the_table_need_no_forward_rule() -> None:
    """Every one-input method row: jvp along 1 equals its stored derivative."""
    for name, row in sorted(ops.METHODS.items()):
        x = 0.7
        _, tangent = ag.jvp(lambda v, row=row: row(v), [x], [1.0])
        leaf = Value(x)
        assert tangent == grad(row(leaf), [leaf])[0], name


class Tiny(Function):
    """A row whose rule reads .data: right on floats, which is all forward mode needs."""

    @staticmethod
    def forward(x):
        return math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (math.cos(getattr(x, "data", x)),)


def test_hvp_needs_rules_that_run_on_values_as_hessian_does() -> None:
    # forward mode itself reads stored floats, so a rule written with math works ...
    assert ag.jvp(lambda x: Tiny.apply(x), [0.3], [1.0])[1] == math.cos(0.3)
    # ... while forward-over-reverse differentiates the gradient graph: the rule's
    # .data read makes the second derivative 0 there, exactly as hessian sees it
    assert ag.hvp(lambda x: Tiny.apply(x), [0.3], [1.0])[0] == hessian(
        lambda x: Tiny.apply(x), [0.3])[0][0]


def test_seeds_that_no_output_uses_are_named_not_answered_with_zeros() -> None:
    """A seed made anew for the call (x * x, not the node the output used) gave tangent 0
    without a word; seeds of which at least one is reached still pass."""
    x, y = Value(0.5), Value(2.0)
    out = (x * x).sin()
    with pytest.raises(ValueError, match="tangents: no seeded Value is in the outputs' graph"):
        ag.tangents([out], {x * x: 1.0})
    assert ag.tangents([out], {x: 1.0, y: 1.0}) == [pytest.approx(math.cos(0.25))]
    assert ag.tangents([x], {x: 2.0}) == [2.0]
