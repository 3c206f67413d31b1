"""gradcheck and gradgradcheck: catching wrong derivatives and saying where they are."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import (
    Function,
    GradcheckError,
    Value,
    gradcheck,
    gradgradcheck,
    no_grad,
    ops,
)
from tests.autograd_scalar.sample_functions import (
    BadCube,
    DoubledSin,
    Slightly,
    TinyWrong,
    Versine,
)


class MathSin(Function):
    """sin with a rule written with math.cos: right on floats, refused on Values."""

    @staticmethod
    def forward(x):
        return math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (math.cos(x),)


class DataSin(Function):
    """sin with a rule that is right on floats but leaves the graph (reads .data)."""

    @staticmethod
    def forward(x):
        return math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (math.cos(getattr(x, "data", x)),)


class TableSin(Function):
    """The same rule written with a table row, so it differentiates again."""

    @staticmethod
    def forward(x):
        return math.sin(x)

    @staticmethod
    def derivatives(x, out):
        return (ops.COS(x),)


def planted(x, y):
    return (BadCube.apply(x) * y).tanh() + y.exp()


def smooth(x, y, z):
    return (x * y).sin() * z.exp() + (x * x + y * y + 1).log() / (z * z + 1) + TableSin.apply(z)


reals = st.floats(-2, 2, allow_nan=False)


@given(reals, reals, reals)
def test_correct_derivatives_pass_at_random_points(a, b, c) -> None:
    assert gradcheck(smooth, [a, b, c]) is True
    assert gradgradcheck(smooth, [a, b, c]) is True


def _error(call) -> GradcheckError:
    with pytest.raises(GradcheckError) as caught:
        call()
    return caught.value


def test_a_wrong_rule_is_caught_and_its_node_named() -> None:
    error = _error(lambda: gradcheck(planted, [Value(0.7, "x"), Value(-0.3, "y")]))
    assert isinstance(error, AssertionError)
    x, y = 0.7, -0.3
    sech2 = 1 - math.tanh(x ** 3 * y) ** 2
    right_dx, wrong_dx = sech2 * 3 * x * x * y, sech2 * 3 * x * y
    right_dy = sech2 * x ** 3 + math.exp(y)
    dx, dy = error.report.entries
    assert (dx.name, dy.name) == ("d/dx", "d/dy")
    assert dx.analytic == pytest.approx(wrong_dx, rel=1e-12)
    assert dx.numeric == pytest.approx(right_dx, rel=1e-7) and not dx.ok and not dx.kink
    assert dy.analytic == pytest.approx(right_dy) and dy.ok
    assert dx.abs_error == pytest.approx(abs(wrong_dx - right_dx), rel=1e-6)
    assert dx.rel_error == pytest.approx(abs(wrong_dx - right_dx) / abs(right_dx), rel=1e-6)
    lines = str(error).splitlines()
    assert lines[0] == "gradcheck of planted at (x=0.7, y=-0.3): 1 of 2 derivatives disagree"
    assert lines[3].split() == ["derivative", "analytic", "numeric", "abs", "error", "rel",
                                "error"]
    assert lines[4].split()[0] == "d/dx" and lines[4].endswith("<-- wrong")
    assert float(lines[4].split()[1]) == pytest.approx(wrong_dx, rel=1e-7)
    assert float(lines[4].split()[2]) == pytest.approx(right_dx, rel=1e-7)
    assert lines[5].split()[0] == "d/dy" and "<--" not in lines[5]
    where = lines[lines.index("where:") + 1:]
    assert where[0].startswith("check_graph: 1 of 5 op nodes disagree with finite")
    bad_row = next(line for line in where if "BadCube" in line)
    assert bad_row.split()[3:6] == ["0", "0.7", f"{3 * 0.7:.8g}"] and "<-- wrong" in bad_row


def test_raise_exception_false_returns_false() -> None:
    assert gradcheck(planted, [0.7, -0.3], raise_exception=False) is False
    assert gradgradcheck(lambda x: DataSin.apply(x) * x, [0.3], raise_exception=False) is False


def test_no_grad_of_the_callers_values_changes() -> None:
    w = Value(1.5, "w")
    x = Value(0.4, "x")
    w.grad, x.grad = 0.25, -3.0

    def f(v):
        return (v * w).tanh() * BadCube.apply(w)

    assert gradcheck(f, [x]) is True
    assert gradgradcheck(f, [x]) is True
    _error(lambda: gradcheck(lambda v: BadCube.apply(v) * w, [x]))
    assert (w.grad, x.grad) == (0.25, -3.0)


def test_the_gradient_lost_outside_the_graph_is_explained() -> None:
    error = _error(lambda: gradcheck(lambda x: Value(x.data ** 2) + x, [1.5]))
    (entry,) = error.report.entries
    assert entry.analytic == 1.0 and entry.numeric == pytest.approx(4.0)
    assert "the gradient is lost outside the graph: does f use .data" in str(error)


@pytest.mark.parametrize(("f", "point", "analytic", "finer"), [
    (lambda x: (x * 1e5).sin(), [0.3], -59642.953, "-59642.94"),
    (lambda x: (x * x + 1e-300).sqrt(), [1e-7], 1.0, "1 at eps=1e-08"),
])
def test_inaccurate_differences_blame_the_step_not_the_graph(f, point, analytic,
                                                             finer) -> None:
    """The difference at eps curves away from the slope (the third derivative times h**2
    is large, or h > |x| on a function bent at 0); at a step 100 times smaller it agrees.
    The message says so, suggests a smaller eps or a Taylor test, and blames no .data."""
    error = _error(lambda: gradcheck(f, point))
    message = str(error)
    (entry,) = error.report.entries
    assert entry.analytic == pytest.approx(analytic, rel=1e-7)
    assert "the central differences change with the step" in message
    assert finer in message and "which agrees with the analytic" in message
    assert "smaller eps (eps=1e-08)" in message and "Taylor test" in message
    assert ".data" not in message
    assert gradcheck(f, point, eps=1e-8)


def test_differences_that_worsen_as_the_step_shrinks_ask_for_a_larger_eps() -> None:
    """The differences' error was always read as the step's h^2 truncation, so the advice
    was a smaller eps: for a forward that cancels, whose rounding over h grows as the
    step shrinks, that moved away from the slope (-0.0054 at 1e-8 against -8.3e-5); a
    larger eps passes. check_graph's reason for leaving the node unchecked says so too."""
    message = str(_error(lambda: gradcheck(lambda x: Versine.apply(x), [1e-3])))
    assert "the central differences get worse as the step shrinks" in message
    assert "try a larger eps (eps=0.0001" in message
    assert "smaller eps" not in message and "h^2" not in message
    assert "f's values round worse than a few ulps near 0.001" in message
    assert gradcheck(lambda x: Versine.apply(x), [1e-3], eps=1e-4)


def test_at_a_huge_point_the_advice_is_an_eps_that_works() -> None:
    """At x = 1e12 the relative steps (1e6, then 1e4) span many periods of sin; the
    advice names the smallest eps there is, and at it the check passes."""
    message = str(_error(lambda: gradcheck(lambda x: x.sin(), [1e12])))
    assert "still differs from the analytic" in message and ".data" not in message
    suggested = re.search(r"try a smaller eps, down to (\S+) ", message)
    assert suggested is not None
    assert gradcheck(lambda x: x.sin(), [1e12], eps=float(suggested.group(1)))


def test_where_floats_cannot_resolve_f_gradcheck_says_so_and_blames_no_rule() -> None:
    """At 1e13 no step floats allow settles sin's slope: gradcheck fails (its difference
    is noise) but names the node check_graph could not check, not a wrong rule or .data."""
    message = str(_error(lambda: gradcheck(lambda x: x.sin() * 2, [1e13])))
    assert "cannot check every node" in message and "not checked: #1 sin" in message
    assert "<-- wrong" not in message.split("where:")[1]
    assert "lost outside the graph" not in message and "a smaller |x|" in message


def test_a_jump_from_a_branch_on_data_is_named_a_jump_not_an_inaccurate_step() -> None:
    """The difference across a jump J is J / 2h: it grows 100 times when the step shrinks
    100 times. The message blamed the step's h^2 error and suggested a smaller eps."""
    def jump(x):
        return x * x if x.data > 1.0 else x * x + 1.0

    message = str(_error(lambda: gradcheck(jump, [1.0 + 1e-8])))
    assert "grow as 1/h" in message and "f jumps within the step" in message
    assert "smaller eps" not in message and "h^2" not in message


def test_a_wrong_rule_beside_a_kink_is_named_though_the_kink_explains_the_failure() -> None:
    """relu(x) + DoubledSin(x) at 0: the failing entry is at relu's kink, and gradcheck
    said only that; check_graph, run anyway, names the wrong rule beside it."""
    error = _error(lambda: gradcheck(lambda x: x.relu() + DoubledSin.apply(x), [0.0]))
    (entry,) = error.report.entries
    assert entry.kink
    wrong = [line for line in error.report.where if "<-- wrong" in line]
    assert len(wrong) == 1 and "DoubledSin" in wrong[0]


def test_a_rule_giving_nan_at_a_smooth_point_is_named_by_gradcheck() -> None:
    class NanRule(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def derivatives(x, out):
            return (math.nan,)

    error = _error(lambda: gradcheck(lambda x: NanRule.apply(x) + x, [1.0]))
    message = str(error)
    assert "lost outside the graph" not in message
    assert "NanRule: its rule gives nan (NaN or inf) for input 0 = 1" in message
    assert "slope 2" in message


@pytest.mark.parametrize(("f", "point", "op"), [
    (lambda x: x.relu() * 3, [0.0], "relu"),
    (lambda x: x.leaky_relu(0.1) + x, [0.0], "leaky_relu(0.1)"),
    (lambda x: ops.STEP(x) + x, [0.0], "step"),
    (lambda x: (x * 1000).relu(), [1e-7], "relu"),
    (lambda x: abs(x - 2e-7) * 2, [0.0], "abs"),
])
def test_an_input_at_a_kink_is_reported_as_a_kink(f, point, op) -> None:
    error = _error(lambda: gradcheck(f, point))
    (entry,) = error.report.entries
    assert entry.kink.startswith(f"at a kink: {op} node #")
    assert str(error).splitlines()[4].endswith("<-- kink")
    assert "cannot be checked there: move the point" in str(error)
    assert "where:" not in str(error)


def test_a_kink_that_does_not_depend_on_the_failing_input_is_not_blamed() -> None:
    error = _error(lambda: gradcheck(lambda x, y: BadCube.apply(x) + y.relu(), [0.5, 0.0]))
    dx, dy = error.report.entries
    assert not dx.ok and dx.kink == ""
    assert not dy.ok and dy.kink.startswith("at a kink: relu node")
    assert "BadCube" in str(error)


@pytest.mark.parametrize("dead", [
    lambda x: (x * 0.0).relu(),          # a unit whose weight is 0: its input never moves
    lambda x: abs(x * 0.0),
    lambda x: x.relu() * 0.0,            # its input crosses the kink, its output counts 0
])
def test_a_kink_that_leaves_f_smooth_is_not_blamed_for_a_wrong_rule(dead) -> None:
    """relu(0 * x) beside a wrong rule was marked "<-- kink" with "move the point", at
    every point, and taylorcheck said f had no derivative there, naming no rule: f is
    smooth (the same f with a right rule passes both). A kink now counts only where
    taking its node straight changes f's values across the step."""
    def f(x):
        return dead(x) + BadCube.apply(x + 2.0)

    for point in (0.0, 1.0):
        error = _error(lambda at=point: gradcheck(f, [at]))
        (entry,) = error.report.entries
        assert entry.kink == "" and str(error).splitlines()[4].endswith("<-- wrong")
        assert "BadCube" in str(error) and "move the point" not in str(error)
        with pytest.raises(ag.TaylorError) as caught:
            ag.taylorcheck(f, [point])
        rows = [line for line in str(caught.value).splitlines() if line.startswith("d/dx")]
        assert rows and not any("at a kink" in row for row in rows), rows
        assert "BadCube" in str(caught.value)
    assert gradcheck(lambda x: dead(x) + (x + 2.0) ** 3, [0.0])


@pytest.mark.parametrize("x", [0.0, 3e-7])
def test_a_kink_that_leaves_f_flat_still_reaches_its_second_derivatives(x) -> None:
    """relu(x) * w at w = 0 is flat in x, but d2f/dw dx = step(x) jumps at the kink the
    step straddles: gradgradcheck differences the gradient, which the kink reaches, so
    the entry is a kink, not a wrong relu rule."""
    report = ag.gradcheck_report(lambda x, w: x.relu() * w, [x, 0.0], order=2)
    failing = [entry for entry in report.entries if not entry.ok]
    assert failing and all(entry.kink.startswith("at a kink: relu node") for entry in failing)


def test_a_kink_the_step_cannot_reach_is_not_blamed_for_a_wrong_rule() -> None:
    """relu(1e-9 x) at x = 0.5 is 5e-10 from its kink: fewer than the step h = 1e-6 in
    the numbers of x, but a step of h in x moves it by 1e-15 only. The kink is measured
    in its input's units, so the wrong rule beside it is the one named."""
    error = _error(lambda: gradcheck(lambda x: BadCube.apply(x) + (x * 1e-9).relu(), [0.5]))
    (entry,) = error.report.entries
    assert entry.kink == ""
    assert "BadCube" in str(error) and "<-- wrong" in str(error)


def test_second_derivatives_of_a_rule_that_leaves_the_graph_are_caught() -> None:
    error = _error(lambda: gradgradcheck(lambda x: DataSin.apply(x) * x, [0.3]))
    (entry,) = error.report.entries
    x = 0.3
    assert entry.name == "d2/dx[0]dx[0]"
    assert entry.numeric == pytest.approx(2 * math.cos(x) - x * math.sin(x), rel=1e-6)
    assert entry.analytic == pytest.approx(2 * math.cos(x), rel=1e-12)
    assert "DataSin node #1: d(partial 0)/d(input 0) is 0 by grad" in str(error)
    assert gradcheck(lambda x: DataSin.apply(x) * x, [0.3])
    assert gradgradcheck(lambda x: TableSin.apply(x) * x, [0.3])


def test_a_rule_written_with_math_functions_is_named_when_differentiated_again() -> None:
    assert gradcheck(lambda x: MathSin.apply(x) * x, [0.3])
    with pytest.raises(TypeError) as caught:
        gradgradcheck(lambda x: MathSin.apply(x) * x, [0.3])
    assert "MathSin" in str(caught.value) and "not math's" in str(caught.value)


def test_gradgradcheck_reports_every_entry_of_the_hessian() -> None:
    class Product(Function):
        """x * y whose rule for y reads x.data: a constant to create_graph."""

        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def derivatives(x, y, out):
            return (y, getattr(x, "data", x))

    error = _error(lambda: gradgradcheck(lambda x, y: Product.apply(x, y), [1.5, 2.0]))
    names = [e.name for e in error.report.entries]
    assert names == ["d2/dx[0]dx[0]", "d2/dx[0]dx[1]", "d2/dx[1]dx[0]", "d2/dx[1]dx[1]"]
    assert [e.ok for e in error.report.entries] == [True, True, False, True]
    assert [e.analytic for e in error.report.entries] == [0.0, 1.0, 0.0, 0.0]
    assert error.report.entries[2].numeric == pytest.approx(1.0, rel=1e-8)
    assert "Product node #2: d(partial 1)/d(input 0) is 0 by grad" in str(error)


def test_gradgradcheck_kink() -> None:
    error = _error(lambda: gradgradcheck(lambda x: x.relu() ** 2, [0.0]))
    assert error.report.entries[0].kink.startswith("at a kink: relu")


def test_tolerances_decide() -> None:
    assert not gradcheck(Slightly.apply, [1.0], raise_exception=False)
    assert gradcheck(Slightly.apply, [1.0], rtol=1e-2)
    assert gradcheck(Slightly.apply, [1.0], atol=0.011, rtol=0.0)


def test_many_inputs_show_only_the_failing_rows() -> None:
    def f(*xs):
        return ag.sum(xs[:7]) + BadCube.apply(xs[7]) + ag.sum(xs[8:])

    error = _error(lambda: gradcheck(f, [0.1 * i for i in range(30)]))
    text = str(error)
    assert "1 of 30 derivatives disagree" in text and "(29 agreeing entries not shown)" in text
    assert "d/dx[7]" in text and "d/dx[6] " not in text


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: gradcheck(3, [1.0]), TypeError, r"gradcheck: f must be a function of Values"),
    (lambda: gradcheck(ag.exp, 1.0), TypeError, r"the point must be a sequence"),
    (lambda: gradcheck(ag.exp, []), ValueError, r"gradcheck: the point is empty"),
    (lambda: gradcheck(ag.exp, "1"), TypeError, r"the point must be a sequence"),
    (lambda: gradcheck(ag.exp, [None]), TypeError, r"input 0 must be a real number"),
    (lambda: gradcheck(ag.exp, [math.inf]), ValueError, r"input 0 is inf; expected a finite"),
    (lambda: gradcheck(ag.exp, [1.0], eps=0), ValueError, r"eps must be finite and > 0"),
    (lambda: gradcheck(ag.exp, [1.0], atol=-1), ValueError, r"atol must be finite and >= 0"),
    (lambda: gradcheck(ag.exp, [1.0], rtol=math.nan), ValueError, r"rtol must be finite"),
    (lambda: gradgradcheck(ag.exp, [1.0], eps="1"), TypeError, r"eps must be a real number"),
    (lambda: gradcheck(lambda x: x * x, [1.0], eps=1e-320), ValueError,
     r"gradcheck: eps must be at least 1.43e-14, got 1e-320: .* lost in the rounding"),
    (lambda: gradgradcheck(lambda x: x * x, [1e9], eps=1e-15), ValueError,
     r"gradgradcheck: eps must be at least 1.43e-14, got 1e-15"),
    (lambda: ag.check_graph(Value(1.0) * 2, eps=1e-16), ValueError,
     r"check_graph: eps must be at least 1.43e-14"),
    (lambda: gradcheck(lambda x: [x, x], [1.0]), TypeError,
     r"gradcheck: f must return a Value .*use jacobian"),
    (lambda: gradcheck(lambda x: "x", [1.0]), TypeError, r"f must return a Value"),
    (lambda: gradcheck(lambda x: x.log(), [1e-7]), ValueError,
     r"gradcheck: f failed at x\[0\] - eps: log: expected x > 0"),
    (lambda: gradgradcheck(lambda x: x.log(), [0.0]), ValueError,
     r"gradgradcheck: f failed: log: expected x > 0"),
    (lambda: gradcheck(lambda x: (x * 1000).exp(), [1.0]), ValueError,
     r"gradcheck: f is inf; expected a finite value"),
])
def test_bad_arguments_are_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(("check", "f", "inputs", "message"), [
    (gradcheck, lambda x, y: x * y, [1.0], "gradcheck: f takes 2 arguments, got 1 input"),
    (gradgradcheck, lambda x: x, [1.0, 2.0], "gradgradcheck: f takes 1 argument, got 2 inputs"),
    (gradcheck, lambda x, y=2.0: x * y, [1.0, 2.0, 3.0],
     "gradcheck: f takes 1 to 2 arguments, got 3 inputs"),
])
def test_the_number_of_inputs_must_fit_f(check, f, inputs, message) -> None:
    with pytest.raises(TypeError, match=re.escape(message + "; expected one input per argument")):
        check(f, inputs, modes=("fwd", "rev"))


def test_functions_of_any_number_and_their_own_type_errors_are_left_alone() -> None:
    assert gradcheck(lambda *xs: ag.sum(xs), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="not callable"):
        gradcheck(lambda x, y: x(y), [1.0, 2.0])


def test_inputs_may_be_a_numpy_row_or_a_generator() -> None:
    assert gradcheck(smooth, np.array([0.1, -0.4, 0.8]))
    assert gradgradcheck(smooth, (x for x in [0.1, -0.4, 0.8]))


def test_no_grad_is_an_error() -> None:
    with no_grad(), pytest.raises(RuntimeError, match=r"gradcheck needs gradient tracking"):
        gradcheck(ag.exp, [1.0])


@pytest.mark.parametrize(("x", "shown"), [(0.7, "0.7"), (0.99999999995, "0.99999999995"),
                                          (1 - 5e-13, "0.9999999999995"), (1e-7, "1e-07")])
def test_the_header_shows_the_point_with_the_digits_it_needs(x, shown) -> None:
    """Six digits showed 0.99999999995 as 1, next to a domain edge at 1."""
    report = ag.gradcheck_report(lambda v: v * v, [x])
    assert str(report).splitlines()[0] == (f"gradcheck of <lambda> at (x[0]={shown}): "
                                           "all 1 derivatives agree")


class _ExpOff(Function):
    """exp with a rule 0.05% too large: within rtol = 1e-3 at its own node."""

    @staticmethod
    def forward(x):
        return math.exp(x)

    @staticmethod
    def derivatives(x, out):
        return (out * (1 + 5e-4),)


@pytest.mark.parametrize(("f", "x", "node"), [
    (lambda x: TinyWrong.apply(x) * 1e12, 0.7, "TinyWrong"),  # scaled up afterwards
    (lambda x: _ExpOff.apply(x) - x.exp() + 0.1 * x, 2.0, "_ExpOff"),  # large terms cancel
])
def test_a_rule_wrong_by_less_than_the_tolerances_at_its_node_is_still_named(f, x, node) -> None:
    """The gradient is off by 100% and 3.7%; at the node, the error is under atol or rtol.
    The search for the node goes on with atol = 0 and tighter rtol, and says so."""
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [x])
    where = "\n".join(caught.value.report.where)
    assert f"#1    {node}" in where and "<-- wrong" in where and ".data" not in where
    assert "atol=0" in where


def test_when_no_node_is_wrong_the_message_says_how_closely_it_looked() -> None:
    def leaks(x):
        return x * Value(x.data)  # half the gradient is lost through .data

    with pytest.raises(GradcheckError) as caught:
        gradcheck(leaks, [1.5])
    assert "also with atol=0 and rtol down to 1e-08" in str(caught.value)
    assert "does f use .data" in str(caught.value)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck, ag.taylorcheck])
def test_raise_exception_must_be_a_flag(check) -> None:
    calls = []

    def f(x):
        calls.append(x)
        return x * x

    with pytest.raises(TypeError, match=r"raise_exception must be True or False, got 'no'"):
        check(f, [1.0], raise_exception="no")
    assert calls == []  # refused before any work


@pytest.mark.parametrize(("x", "any_eps"), [(1e-7, True), (1e-154, False)])
def test_a_step_across_a_pole_at_zero_is_named_with_whether_an_eps_can_help(x, any_eps) -> None:
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda v: 1 / v, [x])
    message = str(caught.value)
    assert f"x[0] +- h spans 0 (|x[0]| = {x:.3g} < h = 1e-06)" in message
    assert ("try a smaller eps" in message) == any_eps
    assert ("no eps makes the step smaller than that |x|" in message) != any_eps


class _NaiveSoftplus(Function):
    """log(1 + e^x), the textbook formula, which rounds worse than differences allow for;
    its rule sigmoid(x) is right."""

    @staticmethod
    def forward(x):
        return math.log(1.0 + math.exp(x))

    @staticmethod
    def derivatives(x, out):
        return (1.0 / (1.0 + math.exp(-x)),)


@pytest.mark.parametrize("x", [-12.0, -30.0])
def test_the_tighter_search_names_no_right_rule_that_cannot_explain_the_error(x) -> None:
    """At atol=0 and rtol 1e-7 the right rule disagrees with the staircase its forward
    makes; a node counts only if its error carried to the output explains the check's."""
    def f(v):  # the real fault: half the gradient of v*v is lost through .data
        return _NaiveSoftplus.apply(v) + v * Value(v.data)

    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [x])
    where = "\n".join(caught.value.report.where)
    assert "<-- wrong" not in where and "does f use .data" in where


def test_a_declared_kink_elsewhere_does_not_hide_the_cause() -> None:
    def f(x, y):
        return x * Value(x.data) + (y - 1.0).relu()  # relu at 0 is innocent

    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [1.5, 1.0])
    assert "does f use .data" in "\n".join(caught.value.report.where)


def test_only_a_failing_input_off_zero_is_said_to_span_it() -> None:
    """x needs a smaller eps; y = 0 takes no part in that and spans no pole."""
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x, y: (3e7 * x).sin() + y * y, [1.0, 0.0])
    message = str(caught.value)
    assert "spans 0" not in message and "try a smaller eps" in message
    assert gradcheck(lambda x, y: (3e7 * x).sin() + y * y, [1.0, 0.0], eps=1e-10)
