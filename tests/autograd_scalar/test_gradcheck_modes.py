"""gradcheck in both modes (JAX's check_grads(modes=("fwd", "rev"))): one table, a row per mode."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from autograd_scalar import GradcheckError, gradcheck, gradcheck_report, gradgradcheck
from tests.autograd_scalar.random_programs import programs, run
from tests.autograd_scalar.sample_functions import BadCube, Cube


def test_both_modes_agree_and_each_has_its_row() -> None:
    report = gradcheck_report(lambda x, y: x * y.sin(), [1.0, 2.0], modes=("fwd", "rev"))
    assert report.ok
    assert [e.name for e in report.entries] == ["d/dx[0] (fwd)", "d/dx[0] (rev)",
                                                "d/dx[1] (fwd)", "d/dx[1] (rev)"]
    assert report.entries[0].analytic == report.entries[1].analytic == math.sin(2.0)
    assert gradcheck(lambda x: Cube.apply(x), [1.5], modes="fwd")


def test_the_default_is_reverse_mode_with_the_names_as_before() -> None:
    report = gradcheck_report(lambda x: x * x, [3.0])
    assert [e.name for e in report.entries] == ["d/dx[0]"]
    assert [e.name for e in gradcheck_report(lambda x: x * x, [3.0], modes=["fwd"]).entries] \
        == ["d/dx[0] (fwd)"]


def test_a_wrong_rule_is_caught_in_both_modes() -> None:
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: BadCube.apply(x), [2.0], modes=("fwd", "rev"))
    text = str(caught.value)
    assert "2 of 2 derivatives disagree" in text
    assert "d/dx[0] (fwd)" in text and "d/dx[0] (rev)" in text
    assert "BadCube" in text  # check_graph names the node, whichever mode found it


def test_gradgradcheck_forward_over_reverse() -> None:
    def f(x, y):
        return (x * y).tanh() + x ** 3

    assert gradgradcheck(f, [0.3, -0.7], modes=("fwd", "rev"))
    report = gradcheck_report(f, [0.3, -0.7], order=2, modes=("fwd", "rev"))
    by_name = {e.name: e.analytic for e in report.entries}
    assert by_name["d2/dx[0]dx[1] (fwd)"] == pytest.approx(by_name["d2/dx[0]dx[1] (rev)"],
                                                           rel=1e-14)


@pytest.mark.parametrize(("modes", "error", "message"), [
    (("forward",), ValueError, "gradcheck: unknown mode 'forward'; expected 'fwd'"),
    ((), ValueError, "gradcheck: modes is empty"),
    (1, TypeError, "gradcheck: modes must be a sequence of 'fwd' and 'rev'"),
])
def test_bad_modes_are_named(modes, error, message) -> None:
    with pytest.raises(error, match=message):
        gradcheck(lambda x: x, [1.0], modes=modes)


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_programs_pass_gradcheck_in_both_modes(program) -> None:
    steps, point = program
    report = gradcheck_report(lambda *xs: run(steps, list(xs)), point, modes=("fwd", "rev"))
    assert report.ok, str(report)
    pairs = zip(report.entries[::2], report.entries[1::2])
    for forward, reverse in pairs:
        assert forward.analytic == pytest.approx(reverse.analytic, rel=1e-9, abs=1e-12)
