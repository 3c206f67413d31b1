"""Straight-line code compiled to machine code: the same numbers as the Python code.

The native path translates a segment's scalar Python code into C
(:mod:`autograd_scalar.tape.translate`) and runs it compiled
(:mod:`autograd_scalar.tape.native`). Both call the same C library's math
functions in the same order, so the native results equal the Python code's to the
bit, on random programs under every strategy: vector code compiles to the lanes
dialect (several examples at once), which with the C library's scalar math
functions gives scalar code's numbers to the bit too, and with glibc's vector ones
the same to rounding. Where Python raises, C's inf or NaN sends the run to the
Python code, so the numbers and the fallbacks are today's; without a compiler the
Python code runs.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, compile
from autograd_scalar.tape import native
from autograd_scalar.tape.code import Code
from autograd_scalar.tape.numeric import numeric_rule
from autograd_scalar.tape.rules import derive
from autograd_scalar.tape.translate import Untranslatable, translate
from tests.autograd_scalar.random_programs import programs, with_shared_leaves
from tests.autograd_scalar.sample_functions import NumpyCos
from tests.autograd_scalar.tape.test_tape import assert_close, eager


def codes(tape, n):
    return [step for step in tape.plan(n) if isinstance(step, Code)]


def kernels_built(tape, n) -> int:
    """How many compiled functions the code steps of a batch of n hold."""
    return sum(isinstance(k, native.Kernel) for code in codes(tape, n)
               for k in code.kernels.kernels.values())


def runs(tape, native_policy, strategy, *batches):
    """Gradients (with the inputs'), forward, and the backward's shared gradients."""
    tape.native = native_policy
    tape.strategy = strategy
    found = tape.gradients(*batches)
    forward = tape.forward(*batches)
    return found, forward


def assert_same(a, b) -> None:
    """Equal to the bit (NaN where NaN)."""
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), strict=True)


def assert_runs_equal(first, second, same=assert_same) -> None:
    (grads_a, forward_a), (grads_b, forward_b) = first, second
    same(grads_a.outputs, grads_b.outputs)
    same(forward_a, forward_b)
    assert grads_a.shared.keys() == grads_b.shared.keys()
    same(list(grads_a.shared.values()), list(grads_b.shared.values()))
    for a, b in zip(grads_a.inputs, grads_b.inputs):
        same(a, b)


def assert_runs_close(first, second) -> None:
    """Equal to a few roundings of the largest number compared (glibc's vector math
    functions are within 4 ulp, and a difference of nearly equal numbers keeps their
    error, not their size)."""
    def close(a, b):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        finite = b[np.isfinite(b)]
        scale = float(np.abs(finite).max()) if finite.size else 1.0
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale)

    assert_runs_equal(first, second, close)


def built(source: str, lanes: bool = False):
    """The kernel of one C source, compiled as the tape compiles it."""
    flags = (*native.FLAGS, *native.LANES_FLAGS) if lanes else native.FLAGS
    kernel = native.Build([source], 1, flags=flags).result(wait=True)
    assert kernel is not None
    return kernel


def forward_once(source: str, lanes: bool, *inputs: float) -> float:
    kernel = built(translate(source, lanes=lanes), lanes)
    W = np.zeros((1, 1))
    assert not kernel(1, R=np.array([[x] for x in inputs]), W=W)
    return float(W[0, 0])


@contextmanager
def scalar_math():
    """Lanes code calling the C library's scalar math functions, lane by lane."""
    found = native.vector_math
    native.vector_math = lambda: False
    try:
        yield
    finally:
        native.vector_math = found


@given(programs(), st.integers(0, 3), st.integers(1, 11), st.integers(0, 2**32 - 1),
       st.sampled_from(("scalar", "vector", "vector math")))
@settings(max_examples=30, deadline=None)
def test_random_programs_native_equals_python_code_and_eager(program, n_shared, n, seed,
                                                             strategy) -> None:
    """Scalar code and lanes code with scalar math: to the bit; with vector math, to
    rounding. Batches of 1 to 11 examples: lanes that a batch leaves over too."""
    fn, params, inputs = with_shared_leaves(program, n_shared)

    tape = compile(fn, inputs)
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, len(inputs)))
    scalar = runs(tape, "off", "scalar", X)
    same = runs(tape, "off", strategy.split()[0], X)
    if strategy == "vector math":
        compiled = runs(tape, "always", "vector", X)
    else:
        with scalar_math():
            compiled = runs(tape, "always", strategy, X)
    (code,) = codes(tape, n)  # every group runs as code: one segment
    built = {key[0] for key, k in code.kernels.kernels.items() if isinstance(k, native.Kernel)}
    # compiled code computes as scalar code does; code it could not translate runs as it was
    expected = ((scalar if "both" in built else same)[0],
                (scalar if "forward" in built else same)[1])
    if strategy == "vector math":
        assert_runs_close((compiled[0], compiled[1]), expected)
    else:
        assert_runs_equal((compiled[0], compiled[1]), expected)
    outputs, totals, inputs = eager(fn, params, X)
    assert_close(compiled[0].outputs, outputs[:, 0])
    assert_close([compiled[0].shared.get(p, 0.0) for p in params], [totals[p] for p in params])
    assert_close(compiled[0].inputs[0], inputs[0])
    assert tape.fallbacks == 0


def test_a_shared_leafs_batch_sum_is_the_same_from_machine_code() -> None:
    """The Python code's per-example gradients came transposed and were added in order,
    the kernel's contiguous and added pairwise: from 9 examples on, d/dp differed in
    its last bit, and native="auto" switches between them when a compile ends."""
    p = Value(0.9)
    tape = compile(lambda x: [p / 0.75, x[0] + x[1]], [1.0, 2.0], parameters=[p])
    X = np.random.default_rng(1).uniform(-3, 3, (50, 2))
    seed = np.random.default_rng(2).uniform(-3, 3, (50, 2))
    found = {}
    for policy in ("off", "always"):
        tape.native, tape.strategy = policy, "scalar"
        found[policy] = tape.gradients(X, seed=seed).shared[p]
    assert kernels_built(tape, 50)
    assert found["off"] == found["always"]


def test_a_mixed_plan_runs_its_code_segments_natively() -> None:
    """Code between grouped steps: a separate forward (saving values) and backward."""
    from autograd_scalar.tape import cost as tape_cost
    from tests.autograd_scalar.tape.test_code import SCALAR_FOR_SINGLES

    def fn(x):
        return [x[0].tanh(), x[1].tanh(), (x[0] * x[1] + 1.0).log().sin()]

    saved = tape_cost.COSTS, tape_cost.MACHINE_COSTS
    tape_cost.COSTS = tape_cost.MACHINE_COSTS = SCALAR_FOR_SINGLES
    try:
        tape = compile(fn, [0.5, 2.0])
        X = np.array([[0.5, 2.0]])
        python = runs(tape, "off", "auto", X)
        compiled = runs(tape, "always", "auto", X)
        assert len(tape.plan(1)) > 1 and kernels_built(tape, 1) >= 2
        assert_runs_equal(compiled, python)
    finally:
        tape_cost.COSTS, tape_cost.MACHINE_COSTS = saved


@contextmanager
def plan_costs(python, machine):
    """Python code's and machine code's costs set for a block, the measured ones after."""
    from autograd_scalar.tape import cost as tape_cost

    saved = tape_cost.COSTS, tape_cost.MACHINE_COSTS
    tape_cost.COSTS, tape_cost.MACHINE_COSTS = python, machine
    try:
        yield
    finally:
        tape_cost.COSTS, tape_cost.MACHINE_COSTS = saved


def test_machine_code_is_planned_with_its_own_costs() -> None:
    """Python's costs here run each two-node group grouped, between code segments;
    machine code's, where code costs a tenth as much, join the program into one
    segment. The plan follows the policy ("auto" plans as Python: its code is
    compiled later, if at all) and both give the eager graph's numbers."""
    from autograd_scalar.tape.cost import Costs
    from tests.autograd_scalar.tape.test_code import VECTOR_FOR_SINGLES

    if native.compiler() is None:
        pytest.skip("no C compiler: code runs as Python, planned with Python's costs")
    cheap = Costs(scalar=math.inf, vector=0.1, vector_element=0.0, group=1.5,
                  group_element=0.0, segment=0.0, segment_example=0.0, vector_segment=0.0)
    w = Value(0.75)

    def fn(x):
        a = (x[0] * w).tanh()
        pair = [(a + x[1]).sin(), (a + x[0]).sin()]
        return (pair[0] * pair[1]).exp() + a

    X = np.random.default_rng(3).uniform(-1, 1, (6, 2))
    with plan_costs(VECTOR_FOR_SINGLES, cheap):
        tape = compile(fn, X[0])
        steps = {}
        for policy in ("off", "auto", "always"):
            tape.native = policy
            steps[policy] = [type(step).__name__ for step in tape.plan(6)]
            found = tape.gradients(X)
            outputs, shared, inputs = eager(fn, [w], X)
            assert_close(found.outputs, outputs[:, 0])
            assert_close(found.shared[w], shared[w])
            assert_close(found.inputs[0], inputs[0])
    assert steps["off"] == steps["auto"] and "Group" in steps["off"]
    assert steps["always"] == ["Code"] and kernels_built(tape, 6) >= 1


def test_code_that_calls_a_function_is_planned_with_pythons_costs() -> None:
    """A Function without a template is called by the code (``F0``), which C cannot do:
    that code runs as Python, so under "always" the plan is Python's, not one joined
    segment of code that would run as Python at machine code's reckoning."""
    from autograd_scalar.tape.cost import Costs
    from tests.autograd_scalar.tape.test_code import VECTOR_FOR_SINGLES

    if native.compiler() is None:
        pytest.skip("no C compiler: code runs as Python, planned with Python's costs")
    cheap = Costs(scalar=math.inf, vector=0.1, vector_element=0.0, group=1.5,
                  group_element=0.0, segment=0.0, segment_example=0.0, vector_segment=0.0)

    def fn(x):
        a = NumpyCos.apply(x[0] * 0.5)
        pair = [(a + x[1]).sin(), (a + x[0]).sin()]
        return pair[0] * pair[1]

    X = np.random.default_rng(5).uniform(-1, 1, (6, 2))
    with plan_costs(VECTOR_FOR_SINGLES, cheap):
        tape = compile(fn, X[0])
        plans = {}
        for policy in ("off", "always"):
            tape.native = policy
            plans[policy] = [type(step).__name__ for step in tape.plan(6)]
            outputs, _, inputs = eager(fn, [], X)
            found = tape.gradients(X)
            assert_close(found.outputs, outputs[:, 0])
            assert_close(found.inputs[0], inputs[0])
    assert not tape.translatable()
    assert plans["always"] == plans["off"] and "Group" in plans["off"]


def test_pythons_costs_are_measured_on_python_code(monkeypatch) -> None:
    """Under AUTOGRAD_SCALAR_NATIVE=always the calibration's chains ran as machine code,
    so the costs every Python plan is made from were machine code's."""
    from autograd_scalar.tape import cost as tape_cost
    from autograd_scalar.tape.run import Runner

    monkeypatch.setenv(native.ENVIRONMENT, "always")
    monkeypatch.setattr(native, "BUILT", {})
    tape_cost.calibrate(Runner, repeats=1)
    assert native.BUILT == {}


def test_machine_code_costs_are_measured_for_each_compiler(monkeypatch) -> None:
    """A compiler that fails gives Python's costs, for that compiler only: the next one
    is measured."""
    from autograd_scalar.tape import cost as tape_cost
    from autograd_scalar.tape.run import Runner

    if native.compiler() is None:
        pytest.skip("no C compiler: nothing to measure")
    monkeypatch.setattr(tape_cost, "MACHINE_COSTS", None)
    monkeypatch.setattr(tape_cost, "_MEASURED", {})
    monkeypatch.setattr(native, "BUILT", {})
    usual = native.compiler()
    monkeypatch.setenv("CC", "false")  # a program that exits with an error
    assert tape_cost.machine_costs(Runner) == tape_cost.costs(Runner)
    monkeypatch.setenv("CC", " ".join(usual))
    measured = tape_cost.machine_costs(Runner)
    assert measured.lanes >= 1 and measured != tape_cost.costs(Runner)
    assert set(tape_cost._MEASURED) == {("false",), tuple(usual)}


def test_vector_machine_code_is_planned_only_for_batches_that_fill_its_lanes() -> None:
    """Lanes code computes ``lanes`` examples at once: below that, what it costs is
    padding, and scalar code (one example at a time) runs instead."""
    from autograd_scalar.tape.cost import Choice, Costs, choose

    machine = Costs(scalar=4e-9, vector=0.0, vector_element=5e-10, group=3e-6,
                    group_element=1e-9, segment=1e-6, segment_example=0.0,
                    vector_segment=1e-6, lanes=8)
    groups = [Choice(1, 1, False), Choice(1, 2, False)] * 50
    assert set(choose(groups, 1, "auto", machine)) == {"scalar"}
    assert set(choose(groups, 7, "auto", machine)) == {"scalar"}
    assert set(choose(groups, 8, "auto", machine)) == {"vector"}
    assert set(choose(groups, 1000, "auto", machine)) == {"vector"}


def test_machine_code_costs_are_measured_where_kernels_build(monkeypatch) -> None:
    """Measured on whole runs of compiled chains: per unit of work, scalar machine code
    and vector code's lanes; the grouped costs are Python's. Without a compiler there
    is nothing to measure (and plans keep Python's costs)."""
    from autograd_scalar.tape import cost as tape_cost
    from autograd_scalar.tape.run import Runner

    python = tape_cost.costs(Runner)
    if native.compiler() is not None:
        found = tape_cost.calibrate_machine(Runner, python, repeats=1)
        assert found is not None
        assert (found.group, found.group_element) == (python.group, python.group_element)
        numbers = [getattr(found, name) for name in ("scalar", "vector", "vector_element",
                                                     "segment", "segment_example",
                                                     "vector_segment")]
        assert all(math.isfinite(x) and x >= 0.0 for x in numbers)
        assert found.scalar > 0.0 or found.vector_element > 0.0
        assert found.lanes >= 1 and python.lanes == 1
    monkeypatch.setenv("CC", "/nonexistent/cc")
    monkeypatch.setattr(native, "BUILT", {})  # none built before by the usual compiler
    assert tape_cost.calibrate_machine(Runner, python, repeats=1) is None


def test_logsumexp_and_softplus_partials_are_read_on_numbers() -> None:
    """logsumexp's rule reads numbers on Values (its largest input), so it is opaque
    there; on numbers it is exp(x_i - out), read as rows, and the code writes it."""
    row = ag.logsumexp([Value(1.0), Value(2.0)]).row
    assert derive(row, 3).opaque
    rule = numeric_rule(row, 3)
    assert rule is not None and len(rule.partials) == 3

    def fn(x):
        lse = ag.logsumexp(x)
        return ag.sum([(v - lse).exp() * v.softplus() for v in x])

    tape = compile(fn, [0.5, -1.0, 2.0])
    X = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -7.0], [800.0, -800.0, 1.0]])
    assert "F1(" not in tape.source(1)
    assert_runs_equal(runs(tape, "always", "scalar", X), runs(tape, "off", "scalar", X))
    outputs, _, inputs = eager(fn, [], X)
    found = tape.gradients(X)
    assert_close(found.outputs, outputs[:, 0])
    assert_close(found.inputs[0], inputs[0])


@pytest.mark.parametrize("fn, X", [
    (lambda x: (x[0] * 1000.0).exp() + x[1], np.array([[1.0, 2.0], [0.001, 1.0]])),
    (lambda x: x[0].log() * x[1], np.array([[-1.0, 2.0], [1.0, 1.0]])),
    (lambda x: x[1] / x[0] + x[0].sqrt(), np.array([[0.0, 2.0], [4.0, 1.0]])),
    # an overflow inside a finite result: Python raises at exp(1000)
    (lambda x: 1.0 / (1.0 + (x[0] * 1000.0).exp()) + x[1], np.array([[1.0, 2.0], [0.0, 1.0]])),
    (lambda x: x[0] * x[1], np.array([[math.inf, 0.0], [math.nan, 1.0]])),
    (lambda x: (x[0] * x[1]).tanh() + x[0].relu(), np.array([[math.inf, 1.0], [-2.0, 1.0]])),
])
def test_where_python_raises_or_meets_nan_the_numbers_are_the_python_paths(fn, X) -> None:
    tape = compile(fn, [0.5, 1.0])
    for strategy in ("scalar", "vector"):
        python = runs(tape, "off", strategy, X)
        compiled = runs(tape, "always", strategy, X)
        assert_runs_equal(compiled, python)


def test_without_a_compiler_the_python_code_runs(monkeypatch) -> None:
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert native.compiler() is None
    tape = compile(lambda x: (x[0] * x[1]).sin() + x[0].exp() * 1.2345, [0.5, 2.0])
    X = np.array([[0.5, 2.0], [-1.0, 0.25]])
    compiled = runs(tape, "always", "scalar", X)
    assert kernels_built(tape, 2) == 0
    assert_runs_equal(compiled, runs(tape, "off", "scalar", X))


def test_two_builds_of_the_same_code_at_once_each_get_a_library(monkeypatch) -> None:
    """Two threads compiling the same code wrote the same files at once (the first to
    load could read the other's half-written library): each build has files of its own."""
    if native.compiler() is None:
        pytest.skip("no C compiler: nothing is compiled")
    tape = compile(lambda x: (x[0] * x[1]).sin() + x[0].exp() * 1.5, [0.5, 2.0])
    tape.native, tape.strategy = "off", "scalar"
    tape.gradients(np.array([[0.5, 2.0]]))
    (code,) = codes(tape, 1)
    sources = code.native_sources(("both", False, False), False)
    monkeypatch.setattr(native, "BUILT", {})
    first, second = native.Build(sources, code.size), native.Build(sources, code.size)
    built = [build.result(wait=True) for build in (first, second)]
    assert all(isinstance(kernel, native.Kernel) for kernel in built)
    assert built[0].path != built[1].path


def test_a_compiler_that_fails_leaves_the_python_code(monkeypatch) -> None:
    monkeypatch.setenv("CC", "false")  # a program that exits with an error
    tape = compile(lambda x: (x[0] * x[1]).cos() * 3.0, [0.5, 2.0])
    X = np.array([[0.5, 2.0]])
    compiled = runs(tape, "always", "scalar", X)
    assert kernels_built(tape, 1) == 0
    assert_runs_equal(compiled, runs(tape, "off", "scalar", X))



def test_code_the_c_writer_does_not_translate_runs_as_python() -> None:
    assert numeric_rule(NumpyCos.row, 1) is None
    tape = compile(lambda x: NumpyCos.apply(x[0] * x[1]) + x[0], [0.5, 2.0])
    tape.strategy = "scalar"
    with pytest.raises(Untranslatable, match=r"call of NumpyCos\.forward \(as F0\)"):
        tape.native_source(1)
    X = np.array([[0.5, 2.0], [1.0, -3.0]])
    compiled = runs(tape, "always", "scalar", X)
    assert kernels_built(tape, 2) == 0
    assert_runs_equal(compiled, runs(tape, "off", "scalar", X))


def test_the_c_source_shows_numbers_and_generated_names_only() -> None:
    w = Value(0.25, label='*/ system("rm -rf"); /*')

    def fn(x):
        return (x[0] * w).sigmoid() + ag.logsumexp([x[0], x[1], w])

    tape = compile(fn, [0.5, 2.0])
    tape.strategy = "scalar"
    source = tape.native_source(1)
    assert "int run(" in source and "CK(FN(exp)(" in source
    assert "system" not in source and "rm -rf" not in source
    assert tape.native_source(1, with_inputs=False) != source


def test_translation_follows_python_evaluation_order_and_literals() -> None:
    source = translate("def forward(r):\n    v0, v1 = r\n"
                       "    v2 = (_z := exp(v0)) / (1.0 + _z) if v1 >= 0 else -inf\n"
                       "    v3 = max(v0, v1, 0.1) + abs(v1) + float((v0 > 0) - (v0 < 0))\n"
                       "    return (v2, v3)\n")
    # the walrus in a branch: assigned in the branch's lanes only, its exp checked there
    assert "t0 = SEL(q1, CKM(FN(exp)(AT(R, 0)), q1), t0)" in source
    assert f"({(0.1).hex()})" in source and "max_(max_(" in source
    for bad in ("v0 % v1", "v0 // v1", "v0 if v1 and v0 else v1", "f(v0)", "v0 < v1 < v0",
                "'text'", "v0.real"):
        with pytest.raises(Untranslatable):
            translate(f"def forward(r):\n    v0, v1 = r\n    v2 = {bad}\n    return (v2,)\n")


def test_the_policy_is_checked_and_read_from_the_environment(monkeypatch) -> None:
    tape = compile(lambda x: x[0].exp(), [1.0])
    with pytest.raises(ValueError, match=r"Tape\.native must be None or one of"):
        tape.native = "sometimes"  # refused where it is set, not at the next run
    assert tape.native is None
    monkeypatch.setenv(native.ENVIRONMENT, "never")
    with pytest.raises(ValueError, match="AUTOGRAD_SCALAR_NATIVE must be one of"):
        tape(np.ones((1, 1)))
    monkeypatch.setenv(native.ENVIRONMENT, "off")
    tape.strategy = "scalar"
    tape(np.ones((1, 1)))
    assert kernels_built(tape, 1) == 0
    monkeypatch.setenv(native.ENVIRONMENT, "always")
    tape(np.ones((1, 1)))
    assert kernels_built(tape, 1) == 1


def test_auto_compiles_once_python_runs_have_cost_the_expected_compile_time(
        monkeypatch) -> None:
    """Rent or buy: Python runs until their time reaches the expected compile time."""
    tape = compile(lambda x: (x[0] * x[1]).sin() + x[1].tanh(), [0.5, 2.0])
    tape.strategy, tape.native = "scalar", "auto"
    X = np.array([[0.5, 2.0]])
    monkeypatch.setattr(native.MEASURED, "per_node", 1e6)  # never worth it
    for _ in range(3):
        tape.gradients(X)
    assert kernels_built(tape, 1) == 0
    monkeypatch.setattr(native.MEASURED, "per_node", 0.0)  # always worth it
    tape.gradients(X)  # starts the build
    code = codes(tape, 1)[0]
    for build in code.kernels.kernels.values():
        if isinstance(build, native.Build):
            build.result(wait=True)
    tape.gradients(X)
    assert kernels_built(tape, 1) == 1


def test_a_float32_tape_compiled_gives_its_scalar_codes_numbers() -> None:
    """Scalar code computes in Python floats between the float32 arrays; so does C."""
    tape = compile(lambda x: (x[0] * x[1]).tanh() / (x[1] * x[1] + 1.0), [0.5, 2.0],
                   dtype="float32")
    X = np.random.default_rng(3).normal(size=(3, 2)).astype(np.float32)
    assert_runs_equal(runs(tape, "always", "scalar", X), runs(tape, "off", "scalar", X))
    assert kernels_built(tape, 3) >= 1


def test_a_float32_tapes_vector_code_is_not_compiled_to_double() -> None:
    """Machine code computes in double: compiled, a float32 tape's vector code gave
    3.6e19 where its float32 NumPy code overflows to inf (and finite gradients for inf)."""
    tape = compile(lambda x: (x[0] * x[0] + x[1] * x[1]).sqrt(), [1.0, 2.0], dtype="float32")
    X = np.array([[2e19, 3e19], [1.0, 2.0], [1e-30, 1e-30]], dtype=np.float32)
    found = runs(tape, "always", "vector", X)
    assert kernels_built(tape, 3) == 0
    assert_runs_equal(found, runs(tape, "off", "vector", X))
    assert np.isinf(found[1][0])


def test_auto_leaves_vector_code_to_python() -> None:
    """Vector code compiled computes as scalar code does: the same numbers to rounding
    only, so "auto" does not switch it (the switch would show), "always" does."""
    tape = compile(lambda x: (x[0] * x[1]).exp() + x[1].sin(), [0.5, 2.0])
    X = np.array([[0.5, 2.0], [1.0, -1.0]])
    runs(tape, "auto", "vector", X)
    (code,) = codes(tape, 2)
    code.kernels.pay(("both", True, False), 1e9)  # as if its runs had taken long
    runs(tape, "auto", "vector", X)
    assert kernels_built(tape, 2) == 0
    runs(tape, "always", "vector", X)
    assert kernels_built(tape, 2) >= 1


def test_long_code_is_compiled_in_parallel_files_and_linked(monkeypatch) -> None:
    """Longer than a chunk, split over three files: the same numbers as the Python code."""
    from autograd_scalar.tape import code as tape_code

    monkeypatch.setattr(tape_code, "UNITS", 3)

    def chain(x):
        y = x[0]
        for k in range(300):
            y = (y * x[1]).sin() + (y * 0.5).tanh() * (k + 1.0)
        return y

    tape = compile(chain, [0.3, 0.7])
    tape.strategy = "scalar"
    X = np.random.default_rng(5).normal(size=(2, 2))
    assert len(translate_units_of(tape)) == 3
    assert_runs_equal(runs(tape, "always", "scalar", X), runs(tape, "off", "scalar", X))
    assert kernels_built(tape, 2) >= 1


def translate_units_of(tape):
    from autograd_scalar.tape.translate import translate_units

    (code,) = codes(tape, 1)
    return translate_units(code.segment.source(False, "both", True)[0], 3)


def test_check_runs_the_compiled_code_writing_every_value() -> None:
    """Tape.check writes every node's value (``everything``): compiled too."""
    tape = compile(lambda x: ((x[0] * x[1]).sin() + x[1]).softplus() * x[0], [0.5, 2.0])
    tape.strategy, tape.native = "scalar", "always"
    X = np.array([[0.5, 2.0], [-1.5, 0.25]])
    tape.check(X)
    (code,) = codes(tape, 2)
    assert any(key[2] and isinstance(k, native.Kernel)
               for key, k in code.kernels.kernels.items())


def python_runs_refused(monkeypatch) -> None:
    """Make every Python run of code steps fail the test: the kernel must do it all."""
    def refused(*args, **kwargs):
        raise AssertionError("the Python code ran")

    for name in ("_python_both", "_python_run", "_python_backward"):
        monkeypatch.setattr(Code, name, refused)


def test_lanes_check_a_branch_only_in_the_lanes_that_take_it(monkeypatch) -> None:
    """softplus(x) computes x + log1p(exp(-x)) where x > 0, else log1p(exp(x)); lanes
    code computes both branches for every lane, and exp(800) in the branch a lane does
    not take must not flag the run (the Python code would not have raised)."""
    tape = compile(lambda x: x[0].softplus() * x[1] + x[0].sigmoid(), [1.0, 2.0])
    X = np.array([[-800.0, 1.0], [800.0, 2.0], [0.5, 3.0], [-0.25, -1.0], [3.0, 0.5]])
    tape.strategy = "vector"
    expected = runs(tape, "off", "vector", X)
    python_runs_refused(monkeypatch)
    found = runs(tape, "always", "vector", X)
    assert kernels_built(tape, len(X)) >= 1
    assert_runs_close(found, expected)


def test_lanes_flag_a_taken_branch_that_overflows_and_python_code_runs(monkeypatch) -> None:
    """exp(800) where the lane takes it: flagged, so the Python vector code runs and
    its numbers (NumPy's inf) are the run's."""
    tape = compile(lambda x: x[0].exp() * x[1], [1.0, 2.0])
    X = np.array([[800.0, 1.0], [0.5, 2.0], [0.25, 3.0]])
    tape.strategy = "vector"
    expected = runs(tape, "off", "vector", X)
    ran = []
    original = Code._python_both
    monkeypatch.setattr(Code, "_python_both",
                        lambda self, *a: ran.append(1) or original(self, *a))
    found = runs(tape, "always", "vector", X)
    assert kernels_built(tape, len(X)) >= 1 and ran
    assert_runs_equal(found, expected)
    assert math.isinf(found[0].outputs[0])


def test_a_lanes_kernel_runs_a_batch_its_lanes_do_not_divide() -> None:
    """The last example repeated to fill the lanes; only the batch's columns written."""
    tape = compile(lambda x: (x[0] * x[1]).tanh() + x[0].exp(), [1.0, 2.0])
    tape.strategy, tape.native = "vector", "always"
    (code,) = codes(tape, 1)
    with scalar_math():
        kernel = code.kernels.get(("forward", False, False), "always")
    assert kernel is not None and kernel.lanes >= 2
    for n in (1, kernel.lanes - 1, kernel.lanes + 1, 3 * kernel.lanes):
        X = np.random.default_rng(n).normal(size=(n, 2))
        R = np.ascontiguousarray(X.T)  # its reads: x[0], x[1]
        W = np.full((1, n), np.nan)
        assert not kernel(n, R=R, W=W)
        np.testing.assert_array_equal(W[0], [math.tanh(a * b) + math.exp(a) for a, b in X])


def test_a_walrus_in_a_branch_assigns_in_that_branchs_lanes_only() -> None:
    """Python assigns ``_z`` only where the branch is taken; the lanes elsewhere keep
    the value it had, as each example's Python run does."""
    source = ("def forward(r):\n    v0, v1 = r\n"
              "    v2 = (_z := v0 * 2.0)\n"
              "    v3 = ((_z := v1) if v1 > 0 else 0.5)\n"
              "    v4 = _z + v3\n"
              "    return (v4,)\n")
    namespace: dict = {}
    exec(source, namespace)
    kernel = built(translate(source, lanes=True), lanes=True)
    assert kernel is not None
    X = np.array([[1.0, 2.0], [3.0, -4.0], [5.0, 6.0], [7.0, -8.0], [0.5, 0.25]])
    W = np.empty((1, len(X)))
    assert not kernel(len(X), R=np.ascontiguousarray(X.T), W=W)
    assert W[0].tolist() == [namespace["forward"](row)[0] for row in X.tolist()]


@pytest.mark.parametrize("lanes", [False, True])
def test_signed_zeros_and_nan_signs_are_pythons(lanes) -> None:
    """GCC folds 0.0 - fabs(x) into -fabs(x) (-0.0 at x = 0, where Python gives 0.0) unless
    told that rounding may vary, and x - C into x + (-C) for a vector constant C, which
    flips a NaN's sign where C is NaN (copysign then reads it)."""
    zero = "def forward(r):\n    v0, = r\n    w0 = 0.0 - abs(v0)\n    return (w0,)\n"
    found = forward_once(zero, lanes, -0.0)
    assert found == 0.0 and math.copysign(1.0, found) == 1.0
    nan = "def forward(r):\n    v0, = r\n    w0 = copysign(1.0, v0 - nan)\n    return (w0,)\n"
    assert forward_once(nan, lanes, 2.0) == math.copysign(1.0, 2.0 - math.nan)


def test_a_walrus_name_read_then_assigned_in_a_later_branch_is_not_translated() -> None:
    """C would read and assign it in no defined order (GCC gave 1.0 where Python 3.5)."""
    with pytest.raises(Untranslatable, match="reassigned after it was read"):
        translate("def forward(r):\n    v0, = r\n    v1 = (_a := v0 * 3.0)\n"
                  "    v2 = _a + ((_a := 0.5) if v0 > 0 else 1.0)\n    return (v2,)\n")


def test_a_compiler_without_march_native_still_builds_lanes_code(tmp_path,
                                                                  monkeypatch) -> None:
    """A compiler that refuses -march=native (clang on some ARM machines), or a C library
    without libmvec: the lanes are built again with the baseline flags and scalar math,
    rather than the batch running as Python for good."""
    if native.compiler() is None:
        pytest.skip("no C compiler: nothing is compiled anyway")
    wrapper = tmp_path / "cc"
    wrapper.write_text("#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -march=native ] && exit 1; "
                       f"done\nexec {' '.join(native.compiler())} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("CC", str(wrapper))
    monkeypatch.setattr(native, "BUILT", {})  # none built before by the usual compiler
    tape = compile(lambda x: (x[0] * x[1]).exp() + x[1].sin(), [0.5, 2.0])
    X = np.random.default_rng(0).normal(size=(5, 2))
    expected = runs(tape, "off", "scalar", X)
    found = runs(tape, "always", "vector", X)
    kernels = [k for code in codes(tape, 5) for k in code.kernels.kernels.values()
               if isinstance(k, native.Kernel)]
    assert kernels and all(k.lanes >= 2 for k in kernels)
    assert_runs_equal(found, expected)  # the scalar math functions: to the bit


def test_tapes_of_the_same_code_have_their_own_scratch() -> None:
    """The library is built once, but two tapes may run it in two threads at once."""
    def fn(x):
        return (x[0] * x[1]).exp() + x[1].sin()

    kernels = []
    for _ in range(2):
        tape = compile(fn, [0.5, 2.0])
        runs(tape, "always", "scalar", np.array([[0.5, 2.0]]))
        kernels += [k for code in codes(tape, 1) for k in code.kernels.kernels.values()
                    if isinstance(k, native.Kernel)]
    half = len(kernels) // 2
    assert half and len(kernels) == 2 * half
    for first, second in zip(kernels[:half], kernels[half:]):
        assert first.library is second.library and first.scratch is not second.scratch
