"""Ragged steps: one level's sums, dots and softmaxes of many operand counts as one stack.

Attention at position t reads t + 1 scores, so the program makes one group per
position; where the cost model finds it cheaper, the tape runs a level's groups of
one stacked row as one stack padded with the row's neutral operand. Each test
compares the joined run with the same tape's groups run apart, to the bit (outputs,
the shared leaves' gradients and the inputs'), and with the eager graph, at the
edges of the arithmetic too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, compile
from autograd_scalar.tape import cost as tape_cost
from autograd_scalar.tape.cost import Costs
from autograd_scalar.tape.program import ProgramGroup
from autograd_scalar.tape.ragged import Ragged, ragged_pays
from tests.autograd_scalar.tape.test_paths import check_against_eager
from tests.autograd_scalar.tape.test_tape import assert_close
from tests.autograd_scalar.test_edge_values import same_bits

# Costs under which every join pays (a call costs, an element does not), and under
# which none does (an element costs, a call does not).
CALLS_COST = Costs(scalar=1.0, vector=1.0, vector_element=0.0, group=1.0, group_element=0.0,
                   segment=0.0, segment_example=0.0, vector_segment=0.0)
ELEMENTS_COST = Costs(scalar=1.0, vector=1.0, vector_element=0.0, group=0.0,
                      group_element=1.0, segment=0.0, segment_example=0.0, vector_segment=0.0)

ROWS = {
    "sum": lambda xs, w: ag.sum(xs),
    "dot": lambda xs, w: ag.dot(xs, [x * w for x in reversed(xs)]),
    "logsumexp": lambda xs, w: ag.logsumexp(xs),
}


@contextmanager
def costs(model: Costs) -> Iterator[None]:
    """``tape_cost.COSTS`` set to ``model`` inside, the measured ones restored after."""
    saved = tape_cost.COSTS
    tape_cost.COSTS = model
    try:
        yield
    finally:
        tape_cost.COSTS = saved


def attention_like(row: str, lengths: list[int], w: Value):
    """Per length L, the row over the first L inputs scaled (one level, L operands), then
    each result times w: a level with a group per operand count."""
    def fn(x):
        scaled = [v * 0.5 for v in x]
        return [ROWS[row](scaled[:length], w) * w for length in lengths]
    return fn


def runs(tape, X):
    """Outputs and gradients of the tape on X, its steps grouped, and those steps."""
    tape.strategy = "grouped"
    with np.errstate(all="ignore"):
        found = tape.gradients(X)
    return found, tape.plan_for(len(X), "grouped").steps


EDGES = st.floats(-5, 5) | st.sampled_from([0.0, -0.0, 1e300, -1e300, math.inf, -math.inf])
FINITE = st.floats(-5, 5) | st.sampled_from([0.0, -0.0])


@pytest.mark.parametrize("row", sorted(ROWS))
@given(lengths=st.lists(st.integers(2, 6), min_size=2, max_size=5, unique=True),
       data=st.data())
@settings(max_examples=25, deadline=None)
def test_a_ragged_step_gives_the_groups_numbers(row, lengths, data) -> None:
    """The outputs to the bit, at the edges too (the pads add exactly nothing); the
    gradients to rounding (a target's contributions are added in another order)."""
    width = max(lengths)
    n = data.draw(st.integers(1, 4))

    def batch(numbers):
        return np.array(data.draw(st.lists(st.lists(numbers, min_size=width, max_size=width),
                                           min_size=n, max_size=n)))

    edges, finite = batch(EDGES), batch(FINITE)
    w = Value(1.5, "w")
    fn = attention_like(row, lengths, w)
    with costs(CALLS_COST):
        joined_tape = compile(fn, np.zeros(width))
        (joined, steps), (joined_edges, _) = runs(joined_tape, finite), runs(joined_tape, edges)
    assert any(isinstance(step, Ragged) and step.row.name == row for step in steps)
    with costs(ELEMENTS_COST):
        apart_tape = compile(fn, np.zeros(width))
        (apart, steps), (apart_edges, _) = runs(apart_tape, finite), runs(apart_tape, edges)
    assert not any(isinstance(step, Ragged) for step in steps)
    assert same_bits(joined_edges.outputs, apart_edges.outputs)
    assert same_bits(joined.outputs, apart.outputs)
    assert_close([joined.shared[w]], [apart.shared[w]])
    assert_close(joined.inputs[0], apart.inputs[0])


@pytest.mark.parametrize("row", sorted(ROWS))
def test_a_ragged_step_agrees_with_the_eager_graph(row) -> None:
    w = Value(0.75, "w")
    fn = attention_like(row, [2, 4, 3, 5], w)
    X = np.random.default_rng(1).normal(size=(4, 5))
    with costs(CALLS_COST):
        tape = compile(fn, np.zeros(5))
        tape.strategy = "grouped"
        assert any(isinstance(step, Ragged) for step in tape.plan_for(4, "grouped").steps)
        check_against_eager(fn, [w], X, strategy="grouped")
        assert "ragged" in tape.program(4)
        tape.check(X)  # a run that writes every node's value, against the eager graph


def test_only_per_example_operands_join() -> None:
    """A level whose sums read a shared leaf keeps its groups apart: a ragged stack
    gathers per-example rows only."""
    w = Value(2.0, "w")
    with costs(CALLS_COST):
        tape = compile(lambda x: [ag.sum([x[0], w]), ag.sum([x[0], x[1], w])], np.zeros(2))
        assert not any(isinstance(step, Ragged) for step in tape.plan_for(3, "grouped").steps)


def test_the_cost_model_joins_small_softmaxes_not_wide_sums() -> None:
    """Measured-like costs: 4 heads' softmaxes over 1..14 scores join (the calls saved
    outweigh the pads), 16 features' weighted sums over 2..28 operands do not."""
    from autograd_scalar.ops import DOT, LOGSUMEXP

    model = Costs(scalar=2e-8, vector=1e-6, vector_element=1e-9, group=5e-6,
                  group_element=2.5e-9, segment=4e-5, segment_example=1e-6,
                  vector_segment=2.5e-5)

    def level(row, k, lists):
        return [ProgramGroup(1, row, slice(0, k), np.zeros((lists * (t + 1), k), np.int32),
                             False) for t in range(14)]

    assert ragged_pays(level(LOGSUMEXP, 4, 1), 32, model)
    assert not ragged_pays(level(DOT, 16, 2), 32, model)
