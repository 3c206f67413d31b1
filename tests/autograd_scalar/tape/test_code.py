"""Straight-line code and the cost model: every strategy gives the eager graph's numbers.

The tape runs each group grouped (NumPy calls per group), as scalar code (Python
floats, one example at a time) or as vector code (NumPy over the batch's columns),
as a measured cost model chooses, or as ``Tape.strategy`` forces. Random programs
and random networks are run every way, and mixed plans (code segments between
grouped steps) are made on purpose with fixed costs; each is compared with one
eager graph per example to 1e-12; scalar code that raises falls back to NumPy's
IEEE results.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Function, Value, compile, ops
from autograd_scalar.tape import cost as tape_cost
from autograd_scalar.tape.code import Code
from autograd_scalar.tape.cost import Choice, Costs, choose
from autograd_scalar.tape.dense import Dense
from autograd_scalar.tape.groups import Group, runs_stacked
from autograd_scalar.tape.rules import derive
from tests.autograd_scalar.random_programs import programs, with_shared_leaves
from tests.autograd_scalar.sample_functions import Cube, MathLog, NumpyCos
from tests.autograd_scalar.tape.test_tape import assert_close, build, eager, mlps

STRATEGIES = ("grouped", "scalar", "vector", "auto")

# Fixed costs that make mixed plans: a group of one node runs as code, two or more
# grouped (scalar code at a batch of 1 only; vector code at any batch).
SCALAR_FOR_SINGLES = Costs(scalar=1.0, vector=math.inf, vector_element=0.0, group=1.5,
                           group_element=0.0, segment=0.0, segment_example=0.0,
                           vector_segment=math.inf)
VECTOR_FOR_SINGLES = Costs(scalar=math.inf, vector=1.0, vector_element=0.0, group=1.5,
                           group_element=0.0, segment=0.0, segment_example=0.0,
                           vector_segment=0.0)


@pytest.fixture
def fixed_costs():
    """Set ``tape_cost.COSTS`` for one test and restore the measured ones after it."""
    saved = tape_cost.COSTS

    def use(costs: Costs) -> None:
        tape_cost.COSTS = costs

    yield use
    tape_cost.COSTS = saved


def check_strategy(tape, strategy, params, fn, *batches) -> None:
    """The tape's outputs and gradients under ``strategy`` are the eager graph's (and no
    run fell back from scalar code to NumPy: none of these programs leaves a domain)."""
    tape.strategy = strategy
    found = tape.gradients(*batches)
    outputs, totals, inputs = eager(fn, params, *batches)
    assert_close(found.outputs, outputs[:, 0] if tape.single else outputs)
    assert_close([found.shared.get(p, 0.0) for p in params], [totals[p] for p in params])
    for got, expected in zip(found.inputs, inputs):
        assert_close(got, expected)
    assert_close(tape.forward(*batches), found.outputs)
    if tape.single:  # the backward without the inputs' gradients
        for p in params:
            p.grad = 0.0
        tape.backward(*batches, reduction="sum")
        assert_close([p.grad for p in params], [totals[p] for p in params])
    assert tape.fallbacks == 0


@given(programs(), st.integers(0, 3), st.integers(1, 5), st.integers(0, 2**32 - 1),
       st.sampled_from(STRATEGIES))
def test_random_programs_match_eager_under_every_strategy(program, n_shared, n, seed,
                                                          strategy) -> None:
    fn, params, inputs = with_shared_leaves(program, n_shared)

    tape = compile(fn, inputs)
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, len(inputs)))
    check_strategy(tape, strategy, params, fn, X)


@given(programs(), st.integers(0, 3), st.integers(1, 4), st.integers(0, 2**32 - 1),
       st.booleans())
@settings(max_examples=40)
def test_mixed_plans_match_eager(program, n_shared, n, seed, vector) -> None:
    fn, params, inputs = with_shared_leaves(program, n_shared)

    saved = tape_cost.COSTS
    tape_cost.COSTS = VECTOR_FOR_SINGLES if vector else SCALAR_FOR_SINGLES
    try:
        tape = compile(fn, inputs)
        X = np.random.default_rng(seed).uniform(-1, 1, size=(n if vector else 1,
                                                             len(inputs)))
        check_strategy(tape, "auto", params, fn, X)
    finally:
        tape_cost.COSTS = saved


@given(mlps(), st.integers(1, 6), st.sampled_from(("scalar", "vector")))
@settings(max_examples=30)
def test_random_networks_with_a_loss_run_as_code(mlp, n, strategy) -> None:
    sizes, activation, seed = mlp
    model, params = build(sizes, activation, seed)

    def loss(x, t):
        return ag.sum([(o - ti) ** 2 for o, ti in zip(model(x), t)]) + 0.01 * ag.sum(
            [p * p for p in params[:3]])

    rng = np.random.default_rng(seed + 1)
    X, T = rng.normal(size=(n, sizes[0])), rng.normal(size=(n, sizes[-1]))
    tape = compile(loss, X[0], T[0])
    check_strategy(tape, strategy, params, loss, X, T)
    assert all(isinstance(step, Code) for step in tape.plan(n))


def test_a_mixed_plan_reads_and_writes_the_arrays_between_steps(fixed_costs) -> None:
    """A dense layer (grouped, a matrix), then a narrow tail (code), then an L2 term
    made of shared leaves only (invariant), all in one plan."""
    fixed_costs(VECTOR_FOR_SINGLES)
    rng = np.random.default_rng(5)
    W = [[Value(w) for w in row] for row in rng.normal(size=(4, 3))]
    b = [Value(v) for v in rng.normal(size=4)]
    params = [p for row in W for p in row] + b

    def fn(x, t):
        h = [v.tanh() for v in ag.linear(W, x, b)]
        z = (h[0] * h[1] + h[2]).sigmoid() - t
        l2 = ag.sum([w * w for w in W[0]])
        return z * z + 0.1 * l2 + (l2 * x[0]).softplus()

    X, T = rng.normal(size=(6, 3)), rng.normal(size=6)
    tape = compile(fn, X[0], T[0])
    kinds = {type(step) for step in tape.plan(6)}
    assert {Dense, Code} <= kinds
    check_strategy(tape, "auto", params, fn, X, T)


def test_the_cost_model_picks_code_for_narrow_graphs_and_matrices_for_layers() -> None:
    model = Costs(scalar=3e-8, vector=7e-7, vector_element=1e-9, group=2e-6,
                  group_element=1e-9, segment=1e-5, segment_example=6e-7, vector_segment=2e-6)
    narrow = [Choice(1, 1, False), Choice(1, 2, False), Choice(1, 4, False)] * 50
    assert set(choose(narrow, 1, "auto", model)) == {"scalar"}
    wide = [Choice(512, 1, False), Choice(512, 2, False)]
    assert set(choose(wide, 1000, "auto", model)) == {"grouped"}
    dense = [Choice(4, 7, True), Choice(4, 1, True)]
    assert choose(dense, 1, "auto", model) == ["grouped", "grouped"]
    # a lone narrow group between grouped ones: its scalar code would save less than the
    # segment's call costs
    lone = [Choice(64, 1, False), Choice(1, 1, False), Choice(64, 1, False)]
    assert model.code(1, 1, 1, False) < model.grouped(1, 1, 1)
    assert choose(lone, 1, "auto", model) == ["grouped"] * 3
    assert choose(narrow, 7, "scalar", None) == ["scalar"] * len(narrow)


def test_a_stacked_row_pays_its_calls_once_whatever_its_operands() -> None:
    """A loss's logsumexp over 10 logits at a batch of 64: as vector code, a NumPy call per
    operand; grouped, its stacked form's few calls. Without the stacked form, its grouped
    cost would count a call per operand too, and vector code would win."""
    model = Costs(scalar=3e-8, vector=7e-7, vector_element=1e-9, group=2e-6,
                  group_element=1e-9, segment=1e-5, segment_example=6e-7, vector_segment=2e-6)
    assert model.grouped(1, 10, 64, stacked=True) < model.code(1, 10, 64, True) \
        < model.grouped(1, 10, 64)
    assert choose([Choice(1, 10, False, stacked=True)], 64, "auto", model) == ["grouped"]
    assert choose([Choice(1, 10, False)], 64, "auto", model) == ["vector"]


def test_only_a_group_read_alike_is_charged_as_stacked() -> None:
    """A sum whose operands are all per-example runs through its stacked form; one that
    adds a shared leaf to them reads two ways and runs elementwise: the cost model is
    told which (``runs_stacked``), as the group made later runs."""
    p = Value(0.5)
    tape = compile(lambda x: [ag.sum(x), ag.sum([*x, p])], [1.0, 2.0, 3.0], parameters=[p])
    tape.strategy = "grouped"
    program = tape.traced
    for g, group in enumerate(program.groups):
        made = tape.group(g)
        assert runs_stacked(group.row, group.children, program.invariant) == \
            (made.stacked is not None)
    assert sorted(runs_stacked(g.row, g.children, program.invariant)
                  for g in program.groups) == [False, True]


def test_calibration_measures_every_unit_cost() -> None:
    """Positive and finite, and a float statement cheaper than a NumPy call (by ~40x)."""
    from autograd_scalar.tape.run import Runner

    model = tape_cost.calibrate(Runner, repeats=1)
    assert all(math.isfinite(v) and v >= 0.0 for v in vars(model).values())
    assert 0.0 < model.scalar < model.vector < model.grouped(1, 1, 1)


def test_a_near_tie_between_two_code_segments_joins_them() -> None:
    """Alone, the middle group is cheaper grouped (7.5 against 9); as code it saves the
    call of a second segment (2), so the three run as one segment (15 against 15.5)."""
    model = Costs(scalar=math.inf, vector=1.0, vector_element=0.0, group=2.5,
                  group_element=0.0, segment=0.0, segment_example=0.0, vector_segment=2.0)
    groups = [Choice(1, 1, False), Choice(3, 2, False), Choice(1, 1, False)]
    assert model.grouped(3, 2, 1) < model.code(3, 2, 1, True)
    assert choose(groups, 1, "auto", model) == ["vector"] * 3
    fixed = [Choice(1, 1, False), Choice(3, 2, True), Choice(1, 1, False)]
    assert choose(fixed, 1, "auto", model) == ["vector", "grouped", "vector"]


def test_a_narrow_program_at_a_batch_of_one_is_one_step_of_scalar_code(fixed_costs) -> None:
    fixed_costs(SCALAR_FOR_SINGLES)
    tape = compile(lambda x: (x[0] * x[1]).tanh().exp() + x[0], [0.5, -1.5])
    (step,) = tape.plan(1)
    assert isinstance(step, Code) and step.strategy == "scalar"
    assert "code" in tape.program(1) and "scalar" in tape.program(1)
    assert all(isinstance(step, Group) for step in tape.steps)  # the grouped plan
    source = tape.source(1)
    assert source.startswith("def both(r, u):") and "tanh(" in source and "exp(" in source
    assert tape.source(1, with_inputs=False) != source


def test_code_computes_an_expression_once_for_forward_and_backward() -> None:
    """sin's rule is cos(x) and cos's is -sin(x): the values the function itself computes."""
    def sin_cos(x):
        return [x[0].sin() * x[0].cos() + x[1]]

    tape = compile(sin_cos, [0.5, -1.0])
    tape.strategy = "scalar"
    source = tape.source(1)
    assert source.count("sin(") == source.count("cos(") == 1  # the forward's only
    check_strategy(tape, "scalar", [], sin_cos, np.array([[0.5, -1.0], [3.0, 0.0]]))


def test_a_rule_that_branches_on_a_number_is_called_not_frozen() -> None:
    """logsumexp's rule picks its largest input from the numbers: the code calls it, so
    every example gets eager's partials, whichever input is the largest."""
    def softmax_last(x):
        lse = ag.logsumexp(x)
        return ag.sum([(v - lse).exp() * v for v in x])

    tape = compile(softmax_last, [0.5, -1.0, 2.0])
    tape.strategy = "scalar"
    check_strategy(tape, "scalar", [], softmax_last, np.array([[0.5, -1.0, 2.0],
                                                               [3.0, 0.0, -7.0]]))


def test_vector_code_reads_and_writes_the_batch_columns(fixed_costs) -> None:
    tape = compile(lambda x: (x[0] * x[1] + 1.0).log(), [0.5, 2.0])
    tape.strategy = "vector"
    source = tape.source(3)
    assert source.startswith("def both(V, S, G, SG):") and "np.log(" in source
    fixed_costs(VECTOR_FOR_SINGLES)  # a segment between grouped steps: saved, then backward
    tape = compile(lambda x: [x[0].tanh(), x[1].tanh(), (x[0] * x[1] + 1.0).log()],
                   [0.5, 2.0])
    source = tape.source(3)
    assert "def saved(V, S):" in source and "def backward(V, S, G, SG):" in source


@pytest.mark.parametrize("strategy", ["scalar", "vector"])
def test_sums_of_thousands_of_terms_compile(strategy) -> None:
    """An L2 term over 3,000 leaves (one sum node) and an input read by 3,000 nodes (one
    gradient of 3,000 terms): more than Python's compiler takes in one expression."""
    rng = np.random.default_rng(6)
    ps = [Value(v) for v in rng.normal(size=3000)]

    def fn(x):
        return x[0] * ag.sum([p * p for p in ps]) + ag.sum([p * x[1] for p in ps]).sin()

    tape = compile(fn, [0.5, 1.0])
    check_strategy(tape, strategy, ps[:50], fn, rng.normal(size=(3, 2)))



class Branchy(Function):
    """|x| with a rule that reads .data of a Value: it cannot be read as an expression."""

    @staticmethod
    def forward(x):
        return abs(x)

    @staticmethod
    def derivatives(x, out):
        if isinstance(x, Value):
            return (1.0 if x.data > 0 else -1.0,)
        return (np.sign(x),)


@pytest.mark.parametrize("strategy", ["scalar", "vector"])
def test_rules_that_cannot_be_read_are_called(strategy) -> None:
    assert derive(NumpyCos.row, 1).opaque and derive(Branchy.row, 1).opaque
    assert not derive(Cube.row, 1).opaque
    w = Value(0.75)

    def fn(x):
        return NumpyCos.apply(x[0] * w) + Cube.apply(x[1]) * Branchy.apply(x[0] - 0.1)

    tape = compile(fn, [0.5, 1.5])
    check_strategy(tape, strategy, [w], fn, np.array([[0.5, 1.5], [-1.0, 0.25], [2.0, -1.0]]))


@pytest.mark.parametrize("fn, X", [
    (lambda x: (x[0] * 1000.0).exp() + x[1], np.array([[1.0, 2.0], [0.001, 1.0]])),
    (lambda x: x[0].log() * x[1], np.array([[-1.0, 2.0], [1.0, 1.0]])),
    (lambda x: x[1] / x[0] + x[0].sqrt(), np.array([[0.0, 2.0], [4.0, 1.0]])),
])
def test_scalar_code_that_raises_gives_the_ieee_results(fn, X) -> None:
    """math.exp(1000), math.log(-1) and 1 / 0 raise in Python; the run goes to NumPy."""
    tape = compile(fn, X[1])
    tape.strategy = "grouped"
    expected = tape.gradients(X)
    for strategy in ("scalar", "auto"):
        tape.strategy = strategy
        found = tape.gradients(X)
        np.testing.assert_array_equal(found.outputs, expected.outputs)
        np.testing.assert_array_equal(found.inputs[0], expected.inputs[0])
    assert tape.fallbacks >= 1


def test_a_bad_strategy_or_batch_size_is_an_error() -> None:
    tape = compile(lambda x: x[0] * 2.0, [1.0])
    for name, bad, message in [("strategy", "fastest", "strategy must be one of 'auto', 'grouped'"),
                               ("strategy", None, r"Tape\.strategy must be one of .*, got None"),
                               ("threads", 0, "threads must be None or a positive int")]:
        with pytest.raises(ValueError, match=message):
            setattr(tape, name, bad)  # refused where it is set, not at the next run
    assert (tape.strategy, tape.threads) == ("auto", 1)
    tape(np.ones((2, 1)))
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            tape.source(bad)


@pytest.mark.parametrize(("fn", "point"), [
    (lambda x: x[0].sqrt() ** 0 + x[0], [0.0]),  # d/dx = 0 * inf + 1
    (lambda x: x[0].sqrt() ** 0 + x[0], [4.0]),
    (lambda x: ops.STEP(x[0] * x[1]) + x[1], [math.nan, 2.0]),
    (lambda x: ops.SIGN(x[0] * x[1]) + x[1], [math.inf, 2.0]),
])
@pytest.mark.parametrize("strategy", ["grouped", "scalar", "vector"])
@pytest.mark.parametrize("native_policy", ["off", "always"])
def test_a_node_reached_only_through_zero_partials_still_sends_nan_as_eager(
        fn, point, strategy, native_policy) -> None:
    """Straight-line code wrote no gradient for a node whose readers' partials are all 0,
    so its own infinite partial never met that 0: d/dx was 1.0 where eager gives NaN."""
    xs = [Value(v) for v in point]
    fn(xs).backward()
    tape = compile(fn, [1.0] * len(point))
    tape.strategy, tape.native = strategy, native_policy
    found = tape.gradients(np.array([point] * 3)).inputs[0]
    for row in found:
        np.testing.assert_array_equal(row, [x.grad for x in xs], strict=True)


@pytest.mark.parametrize("strategy", ["auto", "grouped", "scalar", "vector"])
@pytest.mark.parametrize("n", [3, 2_000])
def test_a_functions_error_names_the_op_and_example_whatever_code_runs(strategy, n) -> None:
    tape = compile(lambda x: MathLog.apply(x[0]) * x[1], [1.0, 2.0])
    tape.strategy = strategy
    X = np.ones((n, 2))
    X[1, 0] = -1.0
    with pytest.raises(ValueError, match=r"^MathLog: math domain error \(at example 1 of "
                                         r"the batch, in its forward"):
        tape.forward(X)
    X[1, 0] = 2.0
    np.testing.assert_allclose(tape.forward(X), np.log(X[:, 0]) * X[:, 1])  # still usable


class WholePower(Function):
    """x ** n for a whole n and a base of either sign; its rule writes x ** (n - 1)."""

    @staticmethod
    def forward(x, n):
        return x ** n

    @staticmethod
    def derivatives(x, n, out):
        return (n * x ** (n - 1.0), 0.0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_rules_power_of_a_negative_base_is_the_rules_own(strategy) -> None:
    """A rule runs on floats, where (-3.0) ** 1.0 is -3: the tape read its Value ** Value
    as the POW row, whose forward now refuses a base <= 0 as eager does, and the code
    strategies gave NaN gradients where eager gives -6, 3 and 0. A rule's ** is Python's."""
    X, N = np.array([-3.0, -1.0, 0.0, 2.0]), np.array([2.0, 3.0, 2.0, 2.0])
    tape = compile(lambda x, n: WholePower.apply(x, n), 1.0, 2.0)
    tape.strategy = strategy
    expected = []
    for x, n in zip(X, N):
        v = Value(x)
        WholePower.apply(v, n).backward()
        expected.append(v.grad)
    assert tape.gradients(X, N).inputs[0].tolist() == expected == [-6.0, 3.0, 0.0, 4.0]
