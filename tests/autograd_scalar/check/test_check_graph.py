"""check_graph: the one node whose local derivative is wrong, found among thousands."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Function, GraphReport, Value, check_graph, no_grad
from autograd_scalar.check.check_graph import wrong_nodes
from tests.autograd_scalar.random_programs import programs, run
from tests.autograd_scalar.sample_functions import BadCube, DoubledSin, RightSin, Slightly
from tests.work import lines_run


class BadWeightedSum(Function):
    """sum_i (i + 1) x_i, whose rule forgets the weight of input 40."""

    @staticmethod
    def forward(*xs):
        return sum((i + 1) * x for i, x in enumerate(xs))

    @staticmethod
    def derivatives(*xs_out):
        n = len(xs_out) - 1
        return tuple(float(i + 1) if i != 40 else 1.0 for i in range(n))


# Ops that keep values bounded, so that a 10,000-node graph stays finite.
UNARY = [lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: a.sin(),
         lambda a: (a * a + 1).log(), lambda a: a.softplus() - a.relu(),
         lambda a: a.tanh().exp().sqrt(), lambda a: a.leaky_relu(0.2) * a.cos()]
BINARY = [lambda a, b: (a * b).sin(), lambda a, b: (a + b).tanh(), lambda a, b: (a - b) * 0.5,
          lambda a, b: a / (b * b + 1), lambda a, b: (a.tanh() ** 2 + 1) ** b.tanh()]


def random_graph(seed: int, size: int, plant_at: int | None = None):
    """A random graph of ``size`` steps over 50 inputs, summed in groups of 50 (every step
    reaches the output), and the planted node."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-1, 1), f"x{i}") for i in range(50)]
    planted = None
    while len(nodes) < size:
        if plant_at is not None and planted is None and len(nodes) >= plant_at:
            planted = BadCube.apply(nodes[-1])
            nodes.append(planted)
            continue
        a = rng.choice(nodes[-100:])
        if rng.random() < 0.5:
            nodes.append(rng.choice(UNARY)(a))
        else:
            nodes.append(rng.choice(BINARY)(a, rng.choice(nodes[-100:])))
    groups = [ag.sum(nodes[i:i + 50]) for i in range(0, len(nodes), 50)]
    return ag.sum(groups), planted


def test_one_wrong_node_among_ten_thousand_is_pinpointed_checking_the_rest_together(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import autograd_scalar.check.check_graph as checking

    output, planted = random_graph(seed=1, size=3_600, plant_at=2_000)
    size = len(ag.topological_order(output))
    assert 10_000 <= size <= 10_500
    alone: list[Value] = []  # the nodes in doubt, checked one by one
    check_node = checking._check_node

    def counted_check_node(node: Value, *rest: Any) -> Any:
        alone.append(node)
        return check_node(node, *rest)

    monkeypatch.setattr(checking, "_check_node", counted_check_node)
    report: Any = None

    def check() -> None:
        nonlocal report
        report = check_graph(output)

    # the graph's walk, then about 7 lines per node, the nodes of a row differenced
    # together; checking every node alone runs about 80 per node
    walk = lines_run(lambda: ag.topological_order(output))
    assert lines_run(check) <= walk + 20 * size
    assert planted in alone and len(alone) <= 10
    assert not report.ok
    assert [failure.node for failure in report.failures] == [planted]
    failure = report.failures[0]
    x = planted.children[0].data
    assert failure.op == "BadCube" and failure.inputs == (x,) and failure.wrong == (0,)
    assert failure.analytic == (3 * x,)
    assert failure.numeric[0] == pytest.approx(3 * x * x, rel=1e-6)
    assert report.checked > 8_000


@given(st.integers(0, 10_000))
def test_correct_graphs_pass(seed) -> None:
    output, _ = random_graph(seed, size=200)
    report = check_graph(output)
    assert report.ok, str(report)
    assert report.failures == [] and report.skipped == []


def test_the_report_prints_the_failing_node_as_a_table() -> None:
    x = Value(1.5, "x")
    with ag.scope("block"):
        y = BadCube.apply(x)
    report = check_graph((y * 2).tanh())
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == ("check_graph: 1 of 3 op nodes disagree with finite differences of "
                        "their own forward")
    assert lines[3].split() == ["node", "op", "scope", "input", "at", "analytic", "numeric",
                                "abs", "error"]
    row = lines[4].split()
    assert row[1:6] == ["BadCube", "block", "0", "1.5", "4.5"]
    assert float(row[6]) == pytest.approx(3 * 1.5 ** 2, rel=1e-6)
    assert row[-2:] == ["<--", "wrong"]
    html = report._repr_html_()
    assert "<table>" in html and "BadCube" in html and "block" in html
    assert repr(report) == "<GraphReport ok=False failures=1 checked=3>"


def test_an_n_ary_rule_is_checked_input_by_input() -> None:
    xs = [Value(0.01 * i) for i in range(70)]  # more than a ufunc takes in NumPy 1 or 2
    report = check_graph(BadWeightedSum.apply(*xs) + ag.dot(xs, xs[::-1]))
    (failure,) = report.failures
    assert failure.op == "BadWeightedSum" and failure.wrong == (40,)
    assert failure.analytic[40] == 1.0 and failure.numeric[40] == pytest.approx(41.0)


@pytest.mark.parametrize("make", [lambda x: x.relu(), lambda x: x.leaky_relu(0.1),
                                  lambda x: ag.ops.STEP(x), lambda x: ag.ops.SIGN(x)])
def test_an_input_at_a_kink_is_listed_as_a_kink_not_a_failure(make) -> None:
    node = make(Value(0.0))
    report = check_graph(node * 3)
    assert report.ok and report.failures == []
    assert [k.node for k in report.kinks] == [node]
    assert "kink" in str(report)


def test_abs_at_zero_agrees_with_the_symmetric_difference() -> None:
    report = check_graph(abs(Value(0.0)))
    assert report.ok and report.kinks == [] and report.checked == 1


@pytest.mark.parametrize("x", [5.7e7, -4.6e7, 1e12])
def test_periodic_ops_far_from_zero_are_checked_at_a_fine_step(x) -> None:
    report = check_graph(Value(x).sin() + Value(x).cos())
    assert report.ok and report.kinks == [] and report.skipped == []


@pytest.mark.parametrize("x", [-3e14, 1e15])
def test_where_floats_cannot_resolve_a_node_it_is_not_checkable_not_wrong(x) -> None:
    """At 1e15 floats are 0.125 apart: no step they allow settles sin's slope (the finest
    spans 8 radians), so neither sin's right rule nor a wrong one can be judged; the node
    is listed with why."""
    for node in (Value(x).sin(), DoubledSin.apply(Value(x))):
        report = check_graph(node)
        assert report.ok and report.failures == [] and len(report.skipped) == 1
        assert "differences do not settle" in report.skipped[0].reason
        assert f"floats there are {math.ulp(x):.2g} apart" in report.skipped[0].reason
        assert "not checked: #1" in str(report)


def _acosh(factor: float) -> type[Function]:
    """acosh, domain x >= 1, with its rule times ``factor`` (1: right)."""
    class Acosh(Function):
        domain = staticmethod(lambda x: x >= 1)
        expected = "x >= 1"

        @staticmethod
        def forward(x):
            return math.acosh(x)

        @staticmethod
        def derivatives(x, out):
            return (factor / (x * x - 1) ** 0.5,)

    return Acosh


def test_a_rule_far_beyond_slopes_whose_error_shrinks_as_h_squared_is_wrong() -> None:
    """At 1e13 the finest step floats allow, 0.125, leaves sin's slope 0.3% off: more than
    rtol, so the right rule cannot be judged. But the slopes at h, 2h and 4h shrink their
    error as h^2, so a rule twice the slope is judged wrong, as is a rule 10% too large
    1e-7 from the edge of its domain, where the finest step is 1e-8."""
    right, doubled = check_graph(Value(1e13).sin()), check_graph(DoubledSin.apply(Value(1e13)))
    assert right.ok and len(right.skipped) == 1
    assert "floats there are 0.002 apart" in right.skipped[0].reason
    assert not doubled.ok and doubled.failures[0].op == "DoubledSin"

    report = check_graph(_acosh(1.1).apply(Value(1 + 1e-7)))
    assert not report.ok and "1.0000001" in str(report)
    assert check_graph(_acosh(1.0).apply(Value(1 + 1e-7))).failures == []


def test_a_kink_within_the_finest_step_leaves_the_node_unchecked_with_advice() -> None:
    Hinge = _hinge(0.0)  # max(0, x - 1), its kink undeclared
    report = check_graph(Hinge.apply(Value(1 + 1e-9)))
    assert report.ok and len(report.skipped) == 1
    assert ("do not settle at 1.000000001" in report.skipped[0].reason
            and "a smaller eps may settle them" in report.skipped[0].reason)
    assert check_graph(Hinge.apply(Value(1 + 1e-9)), eps=1e-11).skipped == []


@pytest.mark.parametrize("x", [1e17, 1e20, 1.7240123669728187e30, 1e100, 1e300])
def test_a_right_rule_where_floats_alias_the_forward_is_unchecked_not_wrong(x) -> None:
    """From 1e17 up, steps of 64 and 128 floats (1024 and 2048 at 1e17, near multiples of
    2 pi) gave sin two small slopes that agreed with each other, and its right rule was
    called wrong by all three checkers; at 1.7e30 the floats step 0.126 rad on from a
    multiple of 2 pi, so that sin seems slow there. The node is now unchecked: the floats
    are too coarse, as at 1e13 to 1e16."""
    for root in (Value(x).sin(), Value(x).cos(), RightSin.apply(Value(x))):
        report = check_graph(root)
        assert report.ok and report.failures == [] and len(report.skipped) == 1, (x, report)
        assert f"floats there are {math.ulp(x):.2g} apart" in report.skipped[0].reason
    with pytest.raises(ag.GradcheckError) as caught:
        ag.gradcheck(lambda v: v.sin(), [x])
    assert "finite differences cannot judge f at this point" in str(caught.value)


@pytest.mark.parametrize("forward, x", [
    (lambda x: x * x - 2, math.sqrt(2)), (lambda x: 0.1 * x - 0.3, 3.0),
    (lambda x: math.log(x) - 1, math.e), (lambda x: math.cos(x) - 0.5, math.pi / 3),
    (lambda x: x * x - 1e16, 1e8)])
def test_a_wrong_rule_at_a_zero_of_the_forward_is_still_wrong(forward, x) -> None:
    """At a zero of f its values are the rounding of the larger numbers it subtracts, and
    move between floats by most of themselves: the aliasing test took that for floats too
    coarse, and skipped these rules 50% off. It now asks only about steps a few floats
    wide, and about moves that stray from the slope by more than rounding explains."""
    class OffByHalf(Function):
        @staticmethod
        def forward(v):
            return forward(v)

        @staticmethod
        def derivatives(v, out):
            h = 1e-7 * max(1.0, abs(v))
            return (1.5 * (forward(v + h) - forward(v - h)) / (2 * h),)

    report = check_graph(OffByHalf.apply(Value(x)))
    assert [f.op for f in report.failures] == ["OffByHalf"] and report.skipped == [], report


def test_a_wrong_rule_is_still_wrong_between_floats_that_resolve_a_line_or_a_kink() -> None:
    """What tells aliasing apart: x - 1e17 moves by all of its size between floats 16
    apart near 1e17, but along a line, so a rule off by half a percent is still wrong
    there; a kink between floats breaks the line once and stays a kink."""
    class Shifted(Function):
        @staticmethod
        def forward(x):
            return x - 1e17

        @staticmethod
        def derivatives(x, out):
            return (1.005,)

    report = check_graph(Shifted.apply(Value(1e17 + 32)))
    assert [f.op for f in report.failures] == ["Shifted"] and report.skipped == []
    assert check_graph(Value(1e17 + 32) - 1e17).ok
    class FarHinge(Function):
        """max(0, x - 1e17), its kink at 1e17 not declared."""

        @staticmethod
        def forward(x):
            return max(0.0, x - 1e17)

        @staticmethod
        def derivatives(x, out):
            return (float(x > 1e17),)

    kinked = check_graph(FarHinge.apply(Value(1e17)))
    assert kinked.ok and kinked.skipped == [] and len(kinked.kinks) == 1


@pytest.mark.parametrize("x", [1e13, 1e15])
def test_a_wrong_rule_that_floats_can_resolve_is_still_wrong_at_a_huge_input(x) -> None:
    """Slightly's 2x is straight, so its differences settle at any x and its rule's
    0.5% error is caught; sin's wrong rule is caught where floats resolve sin."""
    assert [f.op for f in check_graph(Slightly.apply(Value(x))).failures] == ["Slightly"]
    assert len(check_graph(DoubledSin.apply(Value(1e8))).failures) == 1


class DoubledRelu(Function):
    """relu whose rule gives 2 for x > 0: wrong everywhere right of its kink."""

    kinks = (0.0,)

    @staticmethod
    def forward(x):
        return x if x > 0 else 0.0

    @staticmethod
    def derivatives(x, out):
        return (2.0 if x > 0 else 0.0,)


@pytest.mark.parametrize("x", [5e-7, 1e-9, 2e-6])
def test_a_wrong_rule_beside_a_kink_is_wrong_where_a_finer_step_stays_on_one_side(x) -> None:
    """The first step straddles the kink, but the finer one (at most |x| / 1000) stays
    right of it and measures slope 1 against the rule's 2: a failure, not a kink."""
    report = check_graph(DoubledRelu.apply(Value(x)))
    assert not report.ok and report.kinks == []
    assert [f.op for f in report.failures] == ["DoubledRelu"]
    assert check_graph(DoubledRelu.apply(Value(0.0))).kinks != []


def test_an_input_beside_a_kink_is_checked_with_a_finer_step() -> None:
    assert check_graph(Value(3e-7).relu()).kinks == []
    assert check_graph(Value(2.0) / Value(3e-7)).ok


@pytest.mark.parametrize("x", [1e-7, 1e-12, 1e-100])
def test_near_a_domain_edge_the_step_stays_inside(x) -> None:
    v = Value(x)
    report = check_graph(v.log() + v.sqrt() + v ** 1.5 + v ** -0.5)
    assert report.ok and report.skipped == [] and report.checked == 7


def test_at_a_domain_edge_or_singular_point_a_node_is_skipped_with_why() -> None:
    v = Value(0.0)
    report = check_graph(v.sqrt() + v ** 1.5)
    reasons = sorted(s.reason for s in report.skipped)
    assert report.ok and len(reasons) == 2
    assert all("edge of its domain" in r or "singular" in r for r in reasons)
    assert "not checked: #" in str(report)


class NanAtOne(Function):
    """x * x with a rule that gives NaN (or inf) at x = 1, where x * x is smooth."""

    bad = math.nan

    @staticmethod
    def forward(x):
        return x * x

    @classmethod
    def derivatives(cls, x, out):
        return (cls.bad if x == 1 else 2 * x,)


class InfAtOne(NanAtOne):
    bad = math.inf


@pytest.mark.parametrize("rule", [NanAtOne, InfAtOne])
def test_a_rule_giving_nan_or_inf_at_a_smooth_point_is_a_failure(rule) -> None:
    y = rule.apply(Value(1.0)).tanh()
    report = check_graph(y)
    assert not report.ok and report.skipped == []
    (failure,) = report.failures
    assert failure.op == rule.__name__ and failure.not_finite == (0,)
    assert failure.numeric[0] == pytest.approx(2.0)
    assert (f"#1 {rule.__name__}: its rule gives {rule.bad} (NaN or inf) for input 0 = 1, "
            "where its forward is smooth with slope 2") in str(report)
    assert check_graph(rule.apply(Value(2.0))).ok


def test_a_graph_whose_inputs_changed_after_the_forward_is_not_misreported() -> None:
    x = Value(0.5)
    y = x.tanh() * x
    x.data = 2.0
    report = check_graph(y)
    assert report.ok and len(report.skipped) == 2
    assert all("changed since the forward pass" in s.reason for s in report.skipped)


def test_leaves_and_no_grad_results_have_nothing_to_check() -> None:
    with no_grad():
        y = Value(2.0).exp()
    report = check_graph(y)
    assert report.ok and report.checked == 0 and isinstance(report, GraphReport)


def test_check_graph_changes_no_grad_or_data() -> None:
    output, _ = random_graph(seed=3, size=300)
    output.backward()
    before = [(n.data, n.grad) for n in ag.topological_order(output)]
    check_graph(output)
    assert [(n.data, n.grad) for n in ag.topological_order(output)] == before


def test_tolerances_decide() -> None:
    y = Slightly.apply(Value(1.0))
    assert not check_graph(y).ok
    assert check_graph(y, rtol=1e-2).ok
    assert check_graph(y, atol=0.02).ok


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"eps": 0.0}, ValueError, r"check_graph: eps must be finite and > 0, got 0.0"),
    ({"eps": -1e-6}, ValueError, r"eps must be finite and > 0"),
    ({"atol": math.inf}, ValueError, r"atol must be finite and >= 0"),
    ({"rtol": -1.0}, ValueError, r"rtol must be finite and >= 0"),
    ({"rtol": True}, TypeError, r"rtol must be a real number, got bool"),
    ({"atol": "1e-5"}, TypeError, r"atol must be a real number, got str"),
])
def test_bad_tolerances_are_named(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        check_graph(Value(1.0).exp(), **kwargs)


def test_a_non_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"check_graph expects a Value, got float"):
        check_graph(1.0)


@pytest.mark.parametrize("x", [-0.02, -1.4])
@pytest.mark.parametrize(("forward", "derivative"), [
    (lambda x: x * x * x, lambda x: 3 * x * x), (math.exp, math.exp), (math.sin, math.cos),
    (math.tanh, lambda x: 1 - math.tanh(x) ** 2), (lambda x: x * x, lambda x: 2 * x)])
def test_a_one_in_a_million_bug_is_caught_at_tight_tolerances_where_the_derivative_is_small(
        x: float, forward: Any, derivative: Any) -> None:
    """A rule off by a relative 1e-6 fails check_graph at atol=1e-12, rtol=1e-9, near
    zero (x = -0.02, small derivatives for x**2 and x**3) as far from it."""

    class OffByAMillionth(Function):
        @staticmethod
        def forward(x: float) -> float:
            return float(forward(x))

        @staticmethod
        def derivatives(x: float, out: float) -> tuple[float]:
            return (derivative(x) * (1 + 1e-6),)

    report = check_graph(OffByAMillionth.apply(Value(x)), atol=1e-12, rtol=1e-9)
    assert not report.ok and [f.op for f in report.failures] == ["OffByAMillionth"]


def one_by_one(output: Value, **tolerances: float) -> GraphReport:
    """check_graph with every node checked on its own (no differences over columns)."""
    from autograd_scalar.check import check_graph as module

    original = module._agreeing
    module._agreeing = lambda row, count, nodes, *args: [False] * len(nodes)
    try:
        return check_graph(output, **tolerances)
    finally:
        module._agreeing = original


def same_reports(a: GraphReport, b: GraphReport) -> None:
    for found, expected in ((a.failures, b.failures), (a.kinks, b.kinks)):
        assert [(f.node, f.wrong, f.index) for f in found] == \
            [(f.node, f.wrong, f.index) for f in expected]
    assert [(s.node, s.reason) for s in a.skipped] == [(s.node, s.reason) for s in b.skipped]
    assert (a.checked, a.nodes) == (b.checked, b.nodes)


@given(st.integers(0, 10_000))
def test_differences_over_columns_report_what_node_by_node_checks_report(seed) -> None:
    """Nodes of a row are differenced together, and only those that do not surely pass
    are checked one by one: the report is the same as checking every node alone, with
    wrong rules, kinks, domain edges and changed inputs among them."""
    rng = random.Random(seed)
    output, _ = random_graph(seed, size=150, plant_at=rng.randrange(60, 140))
    xs = [Value(rng.choice([0.0, 1e-9, -0.5, 2.0, 3e-7])) for _ in range(6)]
    extra = [x.relu() + abs(x) + x.leaky_relu(0.1) for x in xs]
    extra += [(x * x + 1e-300).log() + (x * x).sqrt() + (x * x) ** 0.5 for x in xs]
    extra += [BadCube.apply(x) + NanAtOne.apply(x + 1) for x in xs]
    extra += [ag.dot(xs, xs[::-1]), ag.logsumexp(xs), BadWeightedSum.apply(*xs * 10)]
    total = output + ag.sum(extra)
    xs[0].data += 1.0  # some nodes' inputs changed since the forward pass
    same_reports(check_graph(total), one_by_one(total))
    same_reports(check_graph(total, atol=1e-9, rtol=1e-7), one_by_one(total, atol=1e-9,
                                                                      rtol=1e-7))


def test_one_wrong_node_among_many_of_its_row_is_the_only_one_reported() -> None:
    xs = [Value(0.1 * i - 2.0) for i in range(40)]
    cubes = [BadCube.apply(x) if i == 17 else x.tanh() for i, x in enumerate(xs)]
    report = check_graph(ag.sum(cubes))
    assert [f.node for f in report.failures] == [cubes[17]]
    assert report.checked == 41 and report.skipped == [] and report.kinks == []



def test_a_node_whose_input_left_the_domain_among_others_of_its_row_is_skipped() -> None:
    xs = [Value(0.5 + i) for i in range(30)]
    logs = [x.log() for x in xs]
    xs[7].data = -1.0
    report = check_graph(ag.sum(logs))
    assert report.ok and report.checked == 30
    assert [(s.node, s.reason.split(" (")[0]) for s in report.skipped] == [
        (logs[7], "its forward fails at its inputs now")]


def test_a_cusp_is_a_singular_point_not_a_smooth_one() -> None:
    """sqrt(|x|) at 0 has central differences of 0 at every step; its rule's inf was
    reported wrong, 'where its forward is smooth with slope 0'."""
    class Cusp(Function):
        @staticmethod
        def forward(x: float) -> float:
            return math.sqrt(abs(x))

        @staticmethod
        def derivatives(x: float, out: float) -> tuple[float]:
            return (math.inf,)

    report = check_graph(Cusp.apply(Value(0.0)))
    assert report.ok and not report.failures
    (skipped,) = report.skipped
    assert skipped.reason == "its derivative for input 0 is inf (a singular point)"


@pytest.mark.parametrize(("scale", "x"), [(1e4, 0.0), (1.0, 1000.0), (3.0, -250.0)])
def test_a_nan_rule_at_a_curved_smooth_point_is_still_wrong(scale: float, x: float) -> None:
    """The one-sided slopes of a smooth f differ by f'' h: a cusp test that read any gap
    as a cusp skipped these NaN rules as 'a singular point'."""
    class Curved(Function):
        @staticmethod
        def forward(t: float) -> float:
            return scale * t * t

        @staticmethod
        def derivatives(t: float, out: float) -> tuple[float]:
            return (math.nan,)

    report = check_graph(Curved.apply(Value(x)))
    assert not report.ok and not report.skipped
    assert report.failures[0].wrong == (0,)


@pytest.mark.parametrize(("forward", "x", "verdict"), [
    (lambda t: 1000 * math.log(t), 1.0, "wrong"),       # at a power of two, f(x) = 0
    (lambda t: 100 * math.tanh(t - 1), 1.0, "wrong"),
    (lambda t: 1e6 + abs(t), 0.0, "skipped"),           # a kink under a large value
    (lambda t: abs(t), 0.0, "skipped"),
])
def test_a_nan_rule_is_wrong_at_smooth_points_and_skipped_at_kinks(forward, x, verdict) -> None:
    """The one-sided gap was divided by the nominal step (near a power of two the steps
    taken differ) and judged against rounding at the finer step only."""
    rule = type("Rule", (Function,), {"forward": staticmethod(forward),
                                       "derivatives": staticmethod(lambda t, out: (math.nan,))})
    report = check_graph(rule.apply(Value(x)))
    assert ("wrong" if report.failures else "skipped" if report.skipped else "ok") == verdict


@pytest.mark.parametrize(("forward", "x", "slope"), [
    (math.sin, 2.0 ** 20, math.cos(2.0 ** 20)),   # eps |x| = 1.05 spans a sixth of a period
    (math.sqrt, 1e-6, 500.0),                      # eps = 1e-6 reaches 0
    (lambda t: 1e3 * math.atan(1e6 * t), 1e-7, 1e9 / (1 + 0.01)),  # bends within the step
])
def test_a_nan_rule_is_wrong_where_only_a_finer_step_sees_the_slope(forward, x, slope) -> None:
    """The step eps gives was too coarse to see these slopes, so each point was called
    singular and its NaN rule skipped; a finer step sees the slope, and shows it."""
    rule = type("Rule", (Function,), {"forward": staticmethod(forward),
                                       "derivatives": staticmethod(lambda t, out: (math.nan,))})
    report = check_graph(rule.apply(Value(x)))
    assert report.failures and report.failures[0].wrong == (0,)
    assert report.failures[0].numeric[0] == pytest.approx(slope, rel=1e-4)
    assert f"smooth with slope {report.failures[0].numeric[0]:.8g}" in str(report)


@given(programs())
def test_the_search_for_a_wrong_node_names_no_right_rule_however_tight(program) -> None:
    """``wrong_nodes`` tightens rtol down to 1e-8 with atol = 0: every rule of the table
    is right, so none may be named at any of those tolerances (subnormal numbers
    included, whose rounding is absolute)."""
    steps, point = program
    found = wrong_nodes(run(steps, [Value(x) for x in point]), 1e-6, 1e-5, 1e-3)
    assert not found.failures, str(found)


def test_a_product_that_underflows_is_not_called_wrong_with_no_absolute_tolerance() -> None:
    x = Value(5e-324)
    report = check_graph(ag.dot([x], [x]), atol=0.0)  # d/dx = 5e-324; x * x is 0 nearby
    assert report.ok and not report.failures


def _hinge(rule: float) -> type[Function]:
    class Hinge(Function):
        """max(0, x - 1), its kink at 1 not declared."""

        @staticmethod
        def forward(x):
            return max(0.0, x - 1.0)

        @staticmethod
        def derivatives(x, out):
            return (rule if x == 1.0 else float(x > 1.0),)

    return Hinge


@pytest.mark.parametrize("rule", [0.0, 1.0])
def test_an_undeclared_kink_with_a_one_sided_slope_is_a_kink_not_a_wrong_rule(rule) -> None:
    report = check_graph(_hinge(rule).apply(Value(1.0)))
    assert report.ok and report.failures == [] and len(report.kinks) == 1
    assert "kinks = (1.0,)" in str(report)
    with pytest.raises(ag.GradcheckError) as caught:  # the difference straddles the kink
        ag.gradcheck(lambda x: _hinge(rule).apply(x), [1.0])
    assert "kink" in "\n".join(caught.value.report.where)
    assert ".data" not in "\n".join(caught.value.report.where)
    # the table says so too: it had marked the entry "<-- wrong" above the kink's line
    entry, = caught.value.report.entries
    assert entry.kink == "at a kink: Hinge node #1, undeclared"
    assert "<-- kink" in str(caught.value) and "<-- wrong" not in str(caught.value)


def test_a_row_the_undeclared_kink_does_not_reach_keeps_its_own_cause() -> None:
    """f(x, y) = Hinge(x) + y * Value(y.data): d/dy is wrong through .data, not the kink;
    it was marked "<-- kink" and told to move the point, which moving y never reaches."""
    def f(x, y):
        return _hinge(0.0).apply(x) + y * Value(y.data)

    with pytest.raises(ag.GradcheckError) as caught:
        ag.gradcheck(f, [1.0, 3.0])
    by_x, by_y = caught.value.report.entries
    assert by_x.kink == "at a kink: Hinge node #1, undeclared" and by_y.kink == ""
    where = "\n".join(caught.value.report.where)
    assert "kinks = (1.0,)" in where and "does f use .data" in where


def test_at_an_undeclared_kink_a_rule_giving_neither_slope_is_wrong() -> None:
    report = check_graph(_hinge(3.0).apply(Value(1.0)))
    assert not report.ok and report.failures[0].op == "Hinge"


def test_a_right_rule_just_inside_a_domain_edge_is_not_called_wrong() -> None:
    """At 1 + 1.5e-8 only the finest step fits inside acosh's domain: its slope spans most
    of the distance to the edge and cannot judge the rule."""
    for gap in (1.33e-8, 1.5e-8, 1.78e-8):
        report = check_graph(_acosh(1.0).apply(Value(1 + gap)))
        assert report.failures == [], (gap, str(report))


def test_a_rule_beyond_both_sides_of_an_undeclared_kink_under_an_offset_is_wrong() -> None:
    """f = 1e8 + 100 max(0, x - 1): the offset's rounding made a rule of 130 look like
    one of the slopes, 0 and 100."""
    def hinge(rule: float) -> type[Function]:
        class OffsetHinge(Function):
            @staticmethod
            def forward(x):
                return 1e8 + 100.0 * max(0.0, x - 1.0)

            @staticmethod
            def derivatives(x, out):
                return (rule,)

        return OffsetHinge

    assert [len(check_graph(hinge(rule).apply(Value(1.0))).failures)
            for rule in (0.0, 100.0, 130.0)] == [0, 0, 1]


class _Tempered(Function):
    """tanh(x / T) with T a class attribute, as an annealed temperature."""

    T = 1.0

    @staticmethod
    def forward(x):
        return math.tanh(x / _Tempered.T)

    @staticmethod
    def derivatives(x, out):
        return ((1 - out * out) / _Tempered.T,)


def test_a_forward_that_reads_changed_state_is_skipped_saying_so() -> None:
    """The reason said "its inputs changed since the forward pass" while the input was
    still 0.3: the forward's state (T) had changed."""
    y = _Tempered.apply(Value(0.3))
    _Tempered.T = 2.0
    try:
        (skipped,) = check_graph(y).skipped
    finally:
        _Tempered.T = 1.0
    assert "the forward reads state that did" in skipped.reason
    assert "forward now 0.148885" in skipped.reason
