"""The central-difference kernel every checker uses, and what it makes possible."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import autograd_scalar as ag
from autograd_scalar import check_graph, gradcheck, gradgradcheck, ops
from autograd_scalar.check.differences import (
    agrees,
    central,
    close,
    confirmed,
    derivative,
    finer_steps,
    step,
    unsettled,
)
from autograd_scalar.value import apply


def test_the_step_is_relative_so_it_never_vanishes_in_rounding() -> None:
    for x in (0.0, 0.5, -3.0, 1e12, -1e200):
        h = step(x, 1e-6)
        assert h == 1e-6 * max(1.0, abs(x))
        assert (x + h) - (x - h) > 0
    assert np.array_equal(step(np.array([0.5, -4.0]), 1e-6), [1e-6, 4e-6])


def test_central_is_the_symmetric_difference_quotient_on_floats_and_arrays() -> None:
    slope, noise = central(math.exp, 1.0, 1e-6)
    assert slope == pytest.approx(math.e, rel=1e-9) and 0 < noise < 1e-8
    xs = np.array([0.0, 1.0, 2.0])
    slopes, _ = central(np.sin, xs, step(xs, 1e-6))
    assert np.allclose(slopes, np.cos(xs), rtol=1e-9)


def test_a_step_lost_in_rounding_gives_nan_not_zero_division() -> None:
    assert math.isnan(central(lambda x: 2 * x, 1e12, 1e-6)[0])


def test_derivative_shrinks_the_step_to_stay_inside_the_domain() -> None:
    slope, _ = derivative(lambda x: ops.evaluate(ops.LOG, (x,)), 1e-7, 1e-6)
    assert slope == pytest.approx(1e7, rel=1e-5)
    assert math.isnan(derivative(lambda x: ops.evaluate(ops.LOG, (x,)), 0.0, 1e-6)[0])


def test_a_disagreement_is_confirmed_at_finer_steps() -> None:
    assert finer_steps(1.0, 1e-6)[0] == pytest.approx(1e-8)
    x = 1e8  # h = 100 spans many periods of sin; a finer step recovers cos(x)
    first = central(math.sin, x, step(x, 1e-6))
    numeric, _, ok = confirmed(math.sin, x, 1e-6, math.cos(x), first, 1e-5, 1e-3)
    assert ok and numeric == pytest.approx(math.cos(x), abs=1e-4)
    wrong = confirmed(math.sin, 1.0, 1e-6, 2.0, central(math.sin, 1.0, 1e-6), 1e-5, 1e-3)
    assert wrong[2] is False and wrong[0] == pytest.approx(math.cos(1.0))


def test_differences_have_settled_unless_floats_are_too_coarse_for_f() -> None:
    assert unsettled(math.sin, 1e8, 1e-6, 1e-5, 1e-3) == ""
    assert unsettled(lambda x: 3 * x, 1e15, 1e-6, 1e-5, 1e-3) == ""
    why = unsettled(math.sin, 1e13, 1e-6, 1e-5, 1e-3)
    assert why.startswith("its forward's differences do not settle at 1e+13: slopes ")
    assert "at step 0.125" in why and "floats there are 0.002 apart" in why


def test_gradcheck_at_a_huge_point_does_not_divide_by_zero() -> None:
    assert gradcheck(lambda x: x * 2, [1e12]) is True
    assert gradcheck(lambda x, y: x * y, [1e12, -3e15]) is True
    assert gradgradcheck(lambda x: x * x, [1e12]) is True
    with pytest.raises(ag.GradcheckError):
        gradcheck(lambda x: ag.Value(x.data * 3.0) + x, [1e12])


def test_a_20000_operand_dot_is_checked_input_by_input() -> None:
    rng = random.Random(0)
    n = 20_000
    ws = [ag.Value(rng.uniform(-1, 1)) for _ in range(n)]
    xs = [ag.Value(rng.uniform(-1, 1)) for _ in range(n)]
    report = check_graph(ag.dot(ws, xs))
    assert report.ok and report.checked == 1 and report.nodes == 2 * n + 1
    assert not report.kinks and not report.skipped
    report = check_graph(ag.affine(ws, xs, ag.Value(0.5)))
    assert report.ok and report.checked == 1 and report.nodes == 2 * n + 2


def _bilinear_row(wrong_at: int) -> ops.Op:
    """A dot row whose rule swaps in a wrong partial for operand ``wrong_at``."""
    def rule(*wx_out: float) -> tuple[float, ...]:
        partials = list(ops.DOT.derivatives(*wx_out))
        partials[wrong_at] += 1.0
        return tuple(partials)

    return ops.Op("baddot", ops.DOT.scalar, ops.DOT.vector, rule, arity=None,
                  check=ops.DOT.check, bilinear=True)


@pytest.mark.parametrize("wrong_at", [7, 5_000 + 123])
def test_a_wrong_partial_of_a_large_bilinear_row_is_pinpointed(wrong_at: int) -> None:
    rng = random.Random(1)
    operands = [ag.Value(rng.uniform(-2, 2)) for _ in range(10_000)]
    report = check_graph(apply(_bilinear_row(wrong_at), operands))
    (failure,) = report.failures
    assert failure.wrong == (wrong_at,)
    partner = operands[(wrong_at + 5_000) % 10_000].data
    assert failure.numeric[wrong_at] == pytest.approx(partner, abs=1e-6)
    assert failure.analytic[wrong_at] == pytest.approx(partner + 1.0)


def test_a_large_row_that_is_not_bilinear_is_differenced_whole() -> None:
    xs = [ag.Value(0.01 * i) for i in range(200)]
    report = check_graph(ops.LOGSUMEXP(*xs))
    assert report.ok and report.checked == 1


def test_a_333000_operand_sum_is_checked_term_by_term() -> None:
    """sum is separable: each operand is differenced on its own term, linear in n (the
    whole forward at every moved point would be n**2 = 1.1e11 additions)."""
    rng = random.Random(2)
    xs = [ag.Value(rng.uniform(-1, 1)) for _ in range(333_000)]
    report = check_graph(ag.sum(xs))
    assert report.ok and report.checked == 1 and report.nodes == len(xs) + 1


def test_a_wrong_partial_of_a_separable_row_is_pinpointed() -> None:
    def rule(*xs_out: float) -> tuple[float, ...]:
        partials = list(ops.SUM.derivatives(*xs_out))
        partials[4_321] = 0.5
        return tuple(partials)

    badsum = ops.SUM.replace(name="badsum", derivatives=rule)
    report = check_graph(apply(badsum, [ag.Value(0.001 * i) for i in range(10_000)]))
    (failure,) = report.failures
    assert failure.wrong == (4_321,)
    assert failure.numeric[4_321] == pytest.approx(1.0) and failure.analytic[4_321] == 0.5


@pytest.mark.parametrize(("x", "y", "expected"), [
    (math.inf, math.inf, True), (-math.inf, -math.inf, True), (math.nan, math.nan, True),
    (math.inf, 5.0, False), (5.0, -math.inf, False), (math.inf, -math.inf, False),
    (math.inf, 1e308, False), (1.0, 1.0 + 1e-12, True), (math.nan, 1.0, False),
])
def test_an_infinity_is_close_only_to_itself(x, y, expected) -> None:
    """Against an infinity the tolerance rtol * max(|x|, |y|) is inf, so any number passed."""
    assert close(x, y, 1e-9, 1e-12) is expected
    assert agrees(x, y, 1e-5, 1e-3) is (expected and not math.isnan(x))


def test_a_slope_that_overflows_is_not_called_an_agreement_or_the_edge_of_a_domain() -> None:
    """A forward finite everywhere whose differences overflow (it climbs 3e305 within a
    step): its wrong rule was printed as agreeing with a numeric slope of inf."""
    class Cliff(ag.Function):
        @staticmethod
        def forward(x: float) -> float:
            return 1.5e308 * math.tanh(1e3 * (x - 1.0))

        @staticmethod
        def derivatives(x: float, out: float) -> tuple[float]:
            return (1.0,)

    report = ag.gradcheck_report(lambda x: Cliff.apply(x), [1.0])
    assert not report.ok
    (skipped,) = check_graph(Cliff.apply(ag.Value(1.0))).skipped
    assert "finite on both sides of input 0 = 1" in skipped.reason
    assert "the difference quotient overflows" in skipped.reason


def test_a_point_shows_its_digits_only_where_they_are_more_than_rounding() -> None:
    from autograd_scalar.check.differences import point_text

    assert point_text(0.3 - 0.81) == "-0.51"  # -0.5099999999999999: one ulp off
    assert point_text(1 + 1e-7) == "1.0000001"  # the edge of a domain at 1 is near
    assert point_text(1 + 1e-13) == "1.0000000000001"
    assert point_text(float("inf")) == "inf"
