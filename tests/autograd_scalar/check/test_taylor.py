"""The Taylor-remainder test: right where a fixed step is wrong, and wrong rules at order 1."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import (
    Function,
    GradcheckError,
    TaylorError,
    Value,
    gradcheck,
    ops,
    taylor_report,
    taylor_test,
    taylorcheck,
)
from autograd_scalar.check.taylor import LADDER, observed_order
from tests.autograd_scalar.random_programs import BINARY, NARY, UNARY, programs
from tests.autograd_scalar.sample_functions import BadCube, TinySin, TinyWrong, Versine


def steep(x):
    return (x * 1e5).sin()


def test_a_steep_function_fails_fixed_eps_wrongly_and_passes_the_taylor_test() -> None:
    # eps = 1e-6 spans a tenth of a radian of sin(1e5 x): the difference is off by 0.17 %
    with pytest.raises(GradcheckError, match="1 of 1 derivatives disagree"):
        gradcheck(steep, [1.0])
    assert taylorcheck(steep, [1.0], modes=("fwd", "rev"))
    report = taylor_report(steep, [1.0])
    (row,) = report.rows
    assert row.analytic == pytest.approx(1e5 * math.cos(1e5), rel=1e-9)
    assert not row.central_ok and row.ok
    assert row.taylor.order == pytest.approx(2.0, abs=0.1)


def _versine_times(factor: float) -> Any:
    """Versine whose rule is ``factor`` times the right one."""

    class Scaled(Versine):
        @staticmethod
        def derivatives(x, out):
            return (factor * (x * ops.SIN(x) - 2 * (1 - ops.COS(x))) / x ** 3,)

    return lambda v: Scaled.apply(v)


@pytest.mark.parametrize("x", [0.1, 1e-2, 1e-3])
def test_a_function_whose_forward_cancels_passes_and_a_wrong_rule_in_it_fails(x) -> None:
    """(1 - cos x) / x^2 in a Function rounds to about 90 units at 0.1 (1e4 at 0.01), far
    beyond the Wilkinson bound of one library call: its R(h) flattened at that noise,
    read as order 0.17 with a kink, a .data leak or "a smaller |x|" as the causes. The
    noise the smallest steps measure is now the bound, and the row passes only where
    that noise still resolves the derivative to the tolerance: a rule off by more than
    the tolerance fails at every x here (0.1% off, where its error exceeds atol)."""
    assert taylorcheck(_versine_times(1.0), [x])
    noise = taylor_test(_versine_times(1.0), [x], [1.0])
    assert noise.order >= 1.75 and noise.noise > 10 * 2.0 ** -52 * abs(noise.derivative)
    tolerance = 1e-5 + 1e-3 * abs(noise.derivative)
    for factor in (1.001, 1.5, 0.0, -1.0):
        error = abs(factor - 1) * abs(noise.derivative)
        if error > tolerance:
            with pytest.raises(TaylorError):
                taylorcheck(_versine_times(factor), [x])


def test_where_f_rounds_too_coarsely_the_row_cannot_pass() -> None:
    """At 1e-4 the forward's noise (8e-9) hides any error in the derivative below 8e-5,
    coarser than the tolerance: a derivative of 0 or of the wrong sign passed there,
    with order 1.97. The row now fails, saying the test cannot judge it."""
    for factor in (1.0, 0.0, -1.0):
        with pytest.raises(TaylorError, match="the test cannot judge it here") as caught:
            taylorcheck(_versine_times(factor), [1e-4])
        assert "check_graph" not in str(caught.value)     # no node is blamed for f's noise


class _Cube(Function):
    """x^3 with its rule 1e-6 too large: the signal h e fades into rounding at the smallest
    steps, where it must not be taken for noise."""

    @staticmethod
    def forward(x):
        return x * x * x

    @staticmethod
    def derivatives(x, out):
        return (3 * x * x + 1e-6,)


def test_a_wrong_rule_fading_into_rounding_is_not_taken_for_noise() -> None:
    with pytest.raises(TaylorError, match=r"order (0\.9|1\.0)\d"):
        taylorcheck(lambda v: _Cube.apply(v), [0.3])


def test_a_tiny_wrong_derivative_passes_fixed_atol_and_fails_the_taylor_test() -> None:
    def f(x):
        return TinyWrong.apply(x)

    assert gradcheck(f, [0.7])  # |2e-12 - 1e-12| cos(0.7) is far below atol = 1e-5
    with pytest.raises(TaylorError) as caught:
        taylorcheck(f, [0.7])
    (row,) = caught.value.report.rows
    assert row.central_ok and not row.ok
    assert row.taylor.order == pytest.approx(1.0, abs=0.05)
    assert row.taylor.estimate == pytest.approx(1e-12 * math.cos(0.7), rel=1e-3)
    assert "the remainder points to 7.649" in str(caught.value)
    assert "TinyWrong" in str(caught.value)  # check_graph names the node
    assert taylorcheck(lambda x: TinySin.apply(x), [0.7])
    assert taylor_report(lambda x: TinySin.apply(x), [0.7]).rows[0].taylor.order == \
        pytest.approx(2.0, abs=0.1)


def test_a_planted_wrong_rule_shows_order_one_and_the_right_slope() -> None:
    with pytest.raises(TaylorError) as caught:
        taylorcheck(lambda x, y: BadCube.apply(x) * y, [1.5, 2.0], modes=("fwd", "rev"))
    report = caught.value.report
    bad = [row for row in report.rows if not row.ok]
    assert [(row.name, row.mode) for row in bad] == [("d/dx[0]", "fwd"), ("d/dx[0]", "rev")]
    for row in bad:
        assert row.taylor.order == pytest.approx(1.0, abs=0.05)
        assert row.taylor.estimate == pytest.approx(3 * 1.5 ** 2 * 2.0, rel=1e-3)
    assert any("BadCube" in line for line in report.where)


def test_the_report_shows_both_tests_side_by_side() -> None:
    text = str(taylor_report(steep, [1.0]))
    header = next(line for line in text.splitlines() if line.startswith("  derivative"))
    assert header.split() == ["derivative", "mode", "analytic", "numeric", "central",
                              "Taylor", "order", "Taylor"]
    row = text.splitlines()[-1].split()
    assert row[0] == "d/dx[0]" and row[4:] == ["wrong", "1.99", "ok"]
    assert text.startswith("taylorcheck of steep at (x[0]=1): all 1 derivatives pass")


def test_near_a_kink_the_smallest_steps_decide_and_at_it_the_kink_is_named() -> None:
    def f(x):
        return (x * 3).relu()

    report = taylor_report(f, [1e-7])  # within eps of relu's kink: central straddles it
    assert not report.rows[0].central_ok and report.ok
    with pytest.raises(TaylorError, match=r"at a kink: relu node #\d .*move the point"):
        taylorcheck(f, [0.0])


def test_a_direction_through_a_kink_is_named_a_kink_too() -> None:
    """abs at 0 along v = -1: the row of that direction says kink, as d/dx's does, and no
    rule is blamed."""
    with pytest.raises(TaylorError) as caught:
        taylorcheck(lambda x: abs(x), [0.0], directions=[[-1.0]])
    rows = {row.name: row for row in caught.value.report.rows}
    assert rows["along v0"].kink.startswith("at a kink: abs node #")
    assert rows["d/dx[0]"].kink.startswith("at a kink: abs node #")
    assert "the derivative is off" not in str(caught.value)


@pytest.mark.parametrize(("f", "x"), [
    (lambda x: 1 / x, 1e-14), (lambda x: x.log(), 1e-20), (lambda x: x ** -2, 1e-13),
])
def test_right_derivatives_pass_at_points_far_below_one(f, x) -> None:
    """With s = max(1, |x|) every step reaches past x = 1e-14, where 1/x is another
    function; measured again with s = |x|, the right derivative shows order 2."""
    report = taylor_report(f, [x])
    assert report.ok, str(report)
    assert report.rows[0].taylor.steps[0] == pytest.approx(0.1 * x)


@pytest.mark.parametrize(("x", "said"), [
    (1e12, "or f changes faster than this test's smallest step (0.1 here, 1e-13 s)"),
    (1e14, "not checked: #1 sin: its forward's differences do not settle at 1e+14"),
])
def test_sin_far_from_zero_fails_with_why_and_no_rule_blamed(x, said) -> None:
    """The ladder's smallest step, 1e-13 |x|, spans radians of sin there: the test fails,
    and what is printed under it says that no rule is wrong and what to do."""
    report = taylor_report(lambda v: v.sin(), [x])
    assert not report.ok
    where = "\n".join(report.where)
    assert said in where and "<-- wrong" not in where and "a smaller |x|" in where


def test_a_slope_below_float_range_is_said_to_be_so_not_called_off() -> None:
    """1/x at 1e300 has slope -1e-600, a 0 in floats: the remainder shrinks as h. The
    report said "the remainder points to 0, not 0"; now it says why, and blames nothing."""
    report = taylor_report(lambda x: 1 / x, [1e300])
    text = str(report)
    assert "below float64's range" in text and "no rule is wrong" in text
    assert "points to 0, not 0" not in text and not report.where


def test_a_wrong_derivative_still_fails_far_below_one() -> None:
    """The second ladder counts only where it passes above rounding: a rule off by 10%
    at x = 1e-14 fails both."""
    class Off(ag.Function):
        @staticmethod
        def forward(x):
            return 1 / x

        @staticmethod
        def derivatives(x, out):
            return (-1.1 / (x * x),)

    with pytest.raises(TaylorError, match=r"the derivative is off"):
        taylorcheck(lambda x: Off.apply(x), [1e-14])


def test_an_infinite_derivative_is_named_not_a_domain_failure() -> None:
    """sqrt at 0: f is defined on the side the steps go, its slope is not finite."""
    with pytest.raises(TaylorError, match=r"the derivative is inf: f has no finite slope "
                                          r"here in float64, at a singular point"):
        taylorcheck(lambda x: x.sqrt(), [0.0])


@pytest.mark.parametrize("x", [705.0, 709.0])
def test_exp_near_the_top_of_float_range_passes(x) -> None:
    """The rounding bound multiplied exp(709)'s slope, 8e307, by 709 before the unit
    roundoff, and came out inf: every step was "unjudgeable"."""
    assert taylorcheck(lambda v: v.exp(), [x])


def test_a_slope_past_float_range_is_named_so_with_no_advice_to_shrink_x() -> None:
    with pytest.raises(TaylorError) as caught:  # exp(707.6) is finite; 53 times it is not
        taylorcheck(lambda v: (v * v).exp(), [26.6])
    message = str(caught.value)
    assert "past float64's range" in message and "the infinite slope is f's own" in message
    assert "smaller |x|" not in message


def test_a_linear_function_is_at_rounding_level() -> None:
    report = taylor_report(lambda x, y: 3 * x - y + 1, [0.25, 4.0])
    assert report.ok
    assert all(row.taylor.at_rounding and row.taylor.summary() == "rounding"
               for row in report.rows)


def test_directions_and_steps_along_them() -> None:
    report = taylor_report(lambda x, y: x * y.exp(), [0.5, -1.0], directions=[[1.0, 2.0]])
    along = report.rows[-1]
    assert along.name == "along v0"
    expected = math.exp(-1.0) + 2 * 0.5 * math.exp(-1.0)
    assert along.analytic == pytest.approx(expected, rel=1e-14)
    assert along.taylor.order == pytest.approx(2.0, abs=0.1) and along.central_ok


def test_taylor_test_gives_the_ladder() -> None:
    result = taylor_test(lambda x: x.exp(), [0.0], [1.0], mode="fwd")
    assert result.steps == LADDER  # s = 1 at x = 0
    assert result.derivative == 1.0 and result.ok
    k = result.used[-1]
    assert result.remainders[k] == pytest.approx(result.steps[k] ** 2 / 2, rel=1e-3)
    # the ladder scales with x: at x = 1e6 the first step is 1e5
    assert taylor_test(lambda x: x * x, [1e6], [1.0]).steps[0] == pytest.approx(1e5)


def test_steps_outside_the_domain_are_left_out() -> None:
    result = taylor_test(lambda x: x.log(), [1e-3], [-1.0])  # x - h < 0 for h >= 1e-3
    assert math.isnan(result.remainders[0])
    assert result.ok and result.order == pytest.approx(2.0, abs=0.1)


def test_observed_order_on_known_remainders() -> None:
    h = np.array(LADDER)
    flat = [1e-30] * len(h)
    assert observed_order(h, 3 * h ** 2, flat)[0] == pytest.approx(2.0)
    assert observed_order(h, -0.5 * h, flat)[0] == pytest.approx(1.0)
    # a dip where two terms cancel (sign change) is not read as the order
    dip = 1e-2 * h ** 2 - h ** 3
    assert observed_order(h, dip, flat)[0] == pytest.approx(2.0, abs=0.05)
    # everything at rounding level: no order
    order, used = observed_order(h, [1e-31] * len(h), flat)
    assert math.isnan(order) and used == ()
    # R collapses to rounding below some step (a kink at distance 1e-5): no order either
    kinked = np.where(h > 1e-5, h - 1e-5, 0.0)
    assert observed_order(h, kinked, flat) == (pytest.approx(math.nan, nan_ok=True), ())


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"directions": [[1.0]]}, ValueError, r"direction 0: 1 direction for 2 input\(s\)"),
    ({"directions": [[0.0, 0.0]]}, ValueError, "the direction is all zeros"),
    ({"directions": "xy"}, TypeError, "directions must be a list of vectors"),
    ({"directions": [[1.0, "a"]]}, TypeError, r"direction\[1\] must be a real number"),
    ({"modes": ("backward",)}, ValueError, "taylorcheck: unknown mode 'backward'"),
    ({"eps": 0.0}, ValueError, "taylorcheck: eps must be finite and > 0"),
])
def test_bad_arguments_are_named(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        taylorcheck(lambda x, y: x * y, [1.0, 2.0], **kwargs)


def test_bad_points_and_functions_are_named() -> None:
    with pytest.raises(ValueError, match="taylorcheck: f failed at the point"):
        taylorcheck(lambda x: x.log(), [-1.0])
    with pytest.raises(TypeError, match="taylor_test: the point must be a sequence"):
        taylor_test(lambda x: x, 1.0, [1.0])
    with pytest.raises(ValueError, match=r"taylor_test: 2 direction for 1 input\(s\)"):
        taylor_test(lambda x: x, [1.0], [1.0, 1.0])
    with pytest.raises(TypeError, match="taylorcheck: f must be a function"):
        taylorcheck(None, [1.0])
    with pytest.raises(TypeError, match="taylorcheck: f takes 2 arguments, got 1 input"):
        taylorcheck(lambda x, y: x * y, [1.0])
    with pytest.raises(TypeError, match="taylor_test: f takes 1 argument, got 2 inputs"):
        taylor_test(lambda x: x, [1.0, 2.0], [1.0, 1.0])


def test_raise_exception_false_returns_the_verdict() -> None:
    assert taylorcheck(lambda x: BadCube.apply(x), [1.5], raise_exception=False) is False


@settings(max_examples=100, deadline=None)
@given(programs())
def test_random_programs_pass_the_taylor_test_in_both_modes(program) -> None:
    from tests.autograd_scalar.random_programs import run

    steps, point = program
    report = taylor_report(lambda *xs: run(steps, list(xs)), point, modes=("fwd", "rev"))
    # never called wrong; a saturated f may leave the order unsettled (see below)
    assert all(row.ok or row.unresolved.startswith("R's slope was still rising")
               for row in report.rows), str(report)


_SATURATED = [('unary', 'cos', [0])] * 5 + [('binary', '*', [0, 0]), ('unary', 'neg', [9])]
"""The start of two programs Hypothesis found: cos(x0)^5 ... into exp_tanh, saturated:
f is 1 to within 1e-11 and its slope is 1e-12."""


_SATURATED_TAILS = [
    [('unary', 'cos', [0]), ('nary', 'dot', [9, 2, 9, 10]), ('unary', 'exp_tanh', [12]),
     ('unary', 'cos', [0]), ('unary', 'cos', [13])],
    [('binary', '*', [0, 9]), ('nary', 'dot', [10, 11, 2, 9]), ('unary', 'exp_tanh', [12]),
     ('unary', 'cos', [0]), ('unary', 'cos', [13])],
]


@pytest.mark.parametrize("tail", _SATURATED_TAILS)
def test_a_saturated_function_whose_order_is_still_rising_is_not_judged(tail) -> None:
    """R stands above rounding at three steps only, where its slope rises 1.2, 1.5: its
    h^2 is still bent by higher terms when R meets f's rounding. A right derivative was
    called wrong there ("order 1.54"); the test now says that it cannot judge, and why."""
    from tests.autograd_scalar.random_programs import run

    point = [1.59375, 0.0, -0.25, 0.0]
    report = taylor_report(lambda *xs: run(_SATURATED + tail, list(xs)), point)
    row = report.rows[0]
    assert not row.ok and row.unresolved.startswith("R's slope was still rising (1.")
    assert "derivative is off" not in str(report)


def _tanh_scaled(scale: float) -> type[Function]:
    class ScaledTanh(Function):
        """tanh, its rule ``scale`` times the right one."""

        @staticmethod
        def forward(x):
            return math.tanh(x)

        @staticmethod
        def derivatives(x, out):
            return ((1 - out * out) * scale,)

    return ScaledTanh


@pytest.mark.parametrize(("x", "shift", "scale", "verdict"), [
    (150.0, 134.1, 1.0, "cannot judge"), (150.0, 134.1, 0.95, "cannot judge"),
    (60.0, 45.5, 1.0, "ok"), (60.0, 45.5, 1.05, "wrong"), (150.0, 134.1, 1.3, "wrong"),
])
def test_a_rising_order_is_never_read_as_a_pass(x, shift, scale, verdict) -> None:
    """Saturated tanh's R rises in slope as a right derivative's h^2 shows through, and
    as a wrong one's error, of the other sign, cancels the curvature: a rule 5% low read
    slopes 1.07, 1.25, 1.64, 2.18. Neither passes; a slope that falls past the run (a
    rule 5% high: 1.66, then 1.61, 1.35) is still wrong."""
    Tanh = _tanh_scaled(scale)
    row = taylor_report(lambda t: Tanh.apply(t - shift), [x]).rows[0]
    found = "ok" if row.ok else "cannot judge" if row.unresolved else "wrong"
    assert found == verdict, (row.taylor.order, row.unresolved)


def planted(error):
    class Off(Function):
        """The identity with a rule off by ``error``."""

        @staticmethod
        def forward(x):
            return x

        @staticmethod
        def derivatives(x, out):
            return (1.0 + error,)

    return Off


@settings(max_examples=100, deadline=None)
@given(programs(), st.sampled_from([1e-1, 1e-3, 1e-5]), st.data())
def test_whatever_gradcheck_catches_in_random_programs_the_taylor_test_catches(
        program, error, data) -> None:
    steps, point = program
    where = data.draw(st.integers(0, len(steps) - 1))
    off = planted(error)

    def f(*xs):
        results = list(xs)
        for k, (kind, name, args) in enumerate(steps):
            operands = [results[i] for i in args]
            if kind == "nary":
                value = NARY[name](operands)
            else:
                value = (UNARY if kind == "unary" else BINARY)[name](*operands)
            results.append(off.apply(value) if k == where else value)
        return results[-1]

    central = gradcheck(f, point, raise_exception=False)
    taylor = taylorcheck(f, point, raise_exception=False)
    if not central:
        assert not taylor, (steps, point, where, error)


def test_the_taylor_test_is_exported() -> None:
    assert ag.taylorcheck is taylorcheck and ag.TaylorError is TaylorError


class _HalfWrongSin(Function):
    """sin with a derivative twice too large."""

    @staticmethod
    def forward(x: float) -> float:
        return math.sin(x)

    @staticmethod
    def derivatives(x: float, out: float) -> tuple[Any]:
        return (2 * ops.COS(x),)


class _WrongSqrt(Function):
    """sqrt with a derivative twice too large."""

    domain = staticmethod(lambda x: x >= 0)

    @staticmethod
    def forward(x: float) -> float:
        return math.sqrt(x)

    @staticmethod
    def derivatives(x: float, out: float) -> tuple[Any]:
        return (1.0 / out,)


def test_a_constant_with_an_infinite_slope_beside_f_hides_no_wrong_rule() -> None:
    """sqrt(0)'s local derivative is inf: inf * 0 made the rounding bound NaN at every
    step, no step was judged, and that counted as 'at rounding level', a pass."""
    with pytest.raises(TaylorError, match="1 of 1 derivatives fail"):
        taylorcheck(lambda x: _HalfWrongSin.apply(x) + Value(0.0).sqrt(), [0.7])
    result = taylor_test(lambda x: _HalfWrongSin.apply(x) + Value(0.0).sqrt(), [0.7], [1.0])
    assert all(math.isfinite(b) for b in result.bounds)
    assert not result.ok and result.order == pytest.approx(1.0, abs=0.05)


def test_a_few_steps_inside_the_domain_judge_nothing() -> None:
    """1 - 5e-13 from sqrt's edge, only 2 steps of the ladder are inside: both stood 100
    times above rounding, and the wrong rule passed as 'at rounding level'."""
    f = lambda x: _WrongSqrt.apply(1 - x)  # noqa: E731
    result = taylor_test(f, [1 - 5e-13], [1.0])
    assert sum(math.isfinite(r) for r in result.remainders) == 2
    assert not result.at_rounding and not result.ok
    with pytest.raises(TaylorError, match="f is defined at only 2 of the 25 steps along this "
                                          "direction"):
        taylorcheck(f, [1 - 5e-13])


class _TwiceTanh(Function):
    """tanh with a derivative twice too large."""

    @staticmethod
    def forward(x: float) -> float:
        return math.tanh(x)

    @staticmethod
    def derivatives(x: float, out: float) -> tuple[Any]:
        return (2 * (1.0 - out * out),)


_FAR = ([-804.6850750614242, -14.552835410331568], [-0.1909954140427914, -0.9187875666742402])


def test_a_saturating_function_beside_a_large_coordinate_shows_its_order_past_the_run() -> None:
    """s = 805 moves y by hundreds, past tanh's Taylor series: R's slope climbs 1.0 .. 1.73
    while it stands ten times above its bound and 1.9 just below. The step past the run,
    above its (Wilkinson) bound, certifies the order; a rule twice too large still fails."""
    result = taylor_test(lambda x, y: y.tanh(), *_FAR)
    assert result.ok and result.order >= 1.75 and result.used[-1] == 6
    assert result.estimate == pytest.approx(result.derivative, rel=0.1)
    wrong = taylor_test(lambda x, y: _TwiceTanh.apply(y), *_FAR)
    assert not wrong.ok and wrong.order == pytest.approx(1.0, abs=0.05)


def test_observed_order_reads_past_the_run_only_where_rounding_cannot_explain_it() -> None:
    h = np.array(LADDER[:8])
    bounds = [1e-3] * 8
    # slope about 1 while ten times above the bound, then a step at 2.5 times it: the
    # exact R falls at least as h^1.83 between the last two, as no wrong slope lets it
    rising = [10.0, 3.2, 1.0, 0.33, 0.12, 0.03, 2.5e-3, 1e-6]
    order, used = observed_order(h, rising, bounds)
    assert order >= 1.75 and used[-1] == 6
    assert observed_order(h, [*rising[:6], -2.5e-3, 1e-6], bounds)[0] < 1.75  # sign flip
    assert observed_order(h, [*rising[:6], 9e-4, 1e-6], bounds)[0] < 1.75  # at rounding
    assert observed_order(h, [*rising[:7], 0.02], bounds)[0] < 1.75  # R rises again below


def test_an_order_read_only_at_coarse_steps_says_so() -> None:
    """Where a large coordinate sets steps that carry tanh beside it past its Taylor series,
    a right rule can read order 1.17 and fail; the message said only that the derivative
    is off. It now says where the order was read and how to tell; a wrong rule read at
    small steps gets no such note."""
    with pytest.raises(TaylorError) as caught:
        taylorcheck(lambda x, y: x + y.tanh(), [2063.4346174998436, -12.927049488026936],
                    directions=[[-0.356120484946044, -0.7851193304191535]])
    assert "(but the order was read at steps of 2.1 and more, set by a coordinate of size " \
           "2.06e+03:" in str(caught.value)
    with pytest.raises(TaylorError) as wrong:  # a wrong rule, at a coordinate of 1000 too
        taylorcheck(lambda x: _HalfWrongSin.apply(x), [1000.0])
    assert "derivative is off" in str(wrong.value) and "but the order" not in str(wrong.value)


class _ExpSlightlyOff(Function):
    """exp with a rule 0.02% too large: the Taylor test sees it; rtol = 1e-3 at the node
    does not."""

    @staticmethod
    def forward(x):
        return math.exp(x)

    @staticmethod
    def derivatives(x, out):
        return (out * (1 + 2e-4),)


def test_a_rule_off_by_less_than_rtol_is_named_where_the_taylor_test_fails() -> None:
    with pytest.raises(TaylorError) as caught:
        taylorcheck(lambda x: _ExpSlightlyOff.apply(x), [0.5])
    message = str(caught.value)
    assert "#1    _ExpSlightlyOff" in message and "rtol=0.0001" in message
    assert ".data" not in message


def test_axes_false_tests_along_the_given_directions_only() -> None:
    """Every input's axis costs a ladder of f's evaluations: 200 inputs took 22 s where
    gradcheck took 0.15 s. With axes=False one direction meets every input's derivative
    (a wrong one among them shows) for one ladder."""
    calls = [0]

    def f(*xs):
        calls[0] += 1
        total = xs[0]
        for x in xs[1:]:
            total = (total * 0.9 + x * x * 0.1).tanh() + x * 0.01
        return total

    point = [0.1 * k - 1.0 for k in range(20)]
    v = np.random.default_rng(0).normal(size=20).tolist()
    report = taylor_report(f, point, directions=[v], axes=False)
    assert [row.name for row in report.rows] == ["along v0"] and report.ok
    assert calls[0] < 60                               # one ladder, not twenty
    assert taylorcheck(f, point, directions=[v], axes=False)

    def wrong(*xs):
        return f(*xs[:7], TinyWrong.apply(xs[7]) * 1e12, *xs[8:])

    with pytest.raises(TaylorError, match="along v0"):
        taylorcheck(wrong, point, directions=[v], axes=False)
    with pytest.raises(ValueError, match="axes=False tests along the directions given only"):
        taylorcheck(f, point, axes=False)
