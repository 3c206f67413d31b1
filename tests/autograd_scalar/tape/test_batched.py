"""Batched products: attention's scores and weighted sums as matrix products per example.

Each test compares the batched run with the same function's tape whose dots run as
groups (``find_blocks`` switched off): to rounding where every number is finite (the
products add the same terms in another order), to the bit where an operand or an
upstream gradient is not (the step then runs the groups themselves), and with the
eager graph.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, compile
from autograd_scalar.tape import run as tape_run
from autograd_scalar.tape.batched import Batched, find_blocks
from tests.autograd_scalar.tape.test_paths import check_against_eager
from tests.autograd_scalar.tape.test_tape import assert_close
from tests.autograd_scalar.test_edge_values import same_bits


def attention(T: int, H: int, D: int, w: Value):
    """Causal attention over T positions, H heads of D features, inputs (q, k, v) per
    position, head and feature: the scores q_t . k_u (u <= t), a softmax, the weighted
    sums of the vs; each output times the shared leaf w."""
    def fn(x):
        def part(which):
            return [[[x[((t * H + h) * D + d) * 3 + which] * 0.5 for d in range(D)]
                     for h in range(H)] for t in range(T)]
        q, k, v = part(0), part(1), part(2)
        outs = []
        for t in range(T):
            for h in range(H):
                scores = [ag.dot(q[t][h], k[u][h]) for u in range(t + 1)]
                top = ag.logsumexp(scores)
                weights = [(s - top).exp() for s in scores]
                outs += [ag.dot(weights, [v[u][h][d] for u in range(t + 1)]) * w
                         for d in range(D)]
        return outs
    return fn, T * H * D * 3


def tape_of(fn, width: int, batched: bool, monkeypatch: pytest.MonkeyPatch):
    """The function's tape, grouped, with batched products or with its dots as groups."""
    with monkeypatch.context() as patch:
        if not batched:
            patch.setattr(tape_run, "find_blocks", lambda groups, program: None)
        tape = compile(fn, np.zeros(width))
        tape.strategy = "grouped"
        tape.plan_for(1, "grouped")  # made now, under the patch
    return tape


def batched_steps(tape, n: int) -> list[Batched]:
    return [step for step in tape.plan_for(n, "grouped").steps if isinstance(step, Batched)]


def test_attention_runs_as_two_batched_steps_that_agree_with_the_eager_graph() -> None:
    w = Value(0.75, "w")
    fn, width = attention(5, 2, 3, w)
    X = np.random.default_rng(0).normal(size=(4, width))
    tape = compile(fn, np.zeros(width))
    tape.strategy = "grouped"
    steps = batched_steps(tape, 4)
    assert [step.shape for step in steps] == [(2, 5, 5), (2, 5, 3)]  # scores, sums
    assert [step.size for step in steps] == [2 * 15, 2 * 5 * 3]
    assert "batched" in tape.program(4)
    check_against_eager(fn, [w], X, strategy="grouped")
    tape.check(X)  # a run that writes every node's value, against the eager graph


@given(shape=st.tuples(st.integers(2, 5), st.integers(1, 3), st.integers(2, 3)),
       n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=20, deadline=None)
def test_batched_products_give_the_groups_numbers_to_rounding(shape, n, seed) -> None:
    w = Value(1.25, "w")
    fn, width = attention(*shape, w)
    X = np.random.default_rng(seed).normal(scale=2.0, size=(n, width))
    X[:, ::7] = 0.0
    with pytest.MonkeyPatch.context() as patch:
        joined, apart = tape_of(fn, width, True, patch), tape_of(fn, width, False, patch)
    assert batched_steps(joined, n) and not batched_steps(apart, n)
    found, expected = joined.gradients(X), apart.gradients(X)
    assert_close(found.outputs, expected.outputs)
    assert_close([found.shared[w]], [expected.shared[w]])
    assert_close(found.inputs[0], expected.inputs[0])


def weighted_sums(T: int, D: int, c: Value):
    """Attention's weighted sums alone, over inputs: out_td = c sum_u<=t w_tu v_ud, the
    weights w (T x T, those past t unused) and the values v (T x D) inputs. One level of
    dots reading inputs only: one batched step, and nothing else that rounds."""
    def fn(x):
        w = [x[t * T:(t + 1) * T] for t in range(T)]
        v = [x[T * T + u * D:T * T + (u + 1) * D] for u in range(T)]
        return [ag.dot(w[t][:t + 1], [v[u][d] for u in range(t + 1)]) * c
                for t in range(T) for d in range(D)]
    return fn, T * T + T * D


NOT_FINITE = st.sampled_from([math.inf, -math.inf, math.nan])


@given(data=st.data(), n=st.integers(1, 3))
@settings(max_examples=25, deadline=None)
def test_an_operand_not_finite_runs_the_groups_to_the_bit(data, n) -> None:
    """An infinite value at a later position must not reach an earlier one's sum (0 * inf
    in the padded product would): the step runs the groups, with their exact numbers."""
    c = Value(0.5, "c")
    fn, width = weighted_sums(4, 2, c)
    X = np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=(n, width))
    read = [t * 4 + u for t in range(4) for u in range(t + 1)] + list(range(16, width))
    places = data.draw(st.lists(st.sampled_from(read), min_size=1, max_size=3))
    for place in places:
        X[data.draw(st.integers(0, n - 1)), place] = data.draw(NOT_FINITE)
    with pytest.MonkeyPatch.context() as patch:
        joined, apart = tape_of(fn, width, True, patch), tape_of(fn, width, False, patch)
    assert len(batched_steps(joined, n)) == 1
    with np.errstate(all="ignore"):
        found, expected = joined.gradients(X), apart.gradients(X)
    assert same_bits(found.outputs, expected.outputs)
    assert same_bits(found.inputs[0], expected.inputs[0])
    assert same_bits([found.shared[c]], [expected.shared[c]])


@pytest.mark.parametrize("upstream", [math.inf, math.nan])
def test_an_upstream_gradient_not_finite_takes_the_groups_careful_path(upstream) -> None:
    """dC with an inf or NaN: a zero partial passes nothing back (the eager rule), as the
    groups' backward gives it; the products would spread NaN over whole rows."""
    c = Value(1.0, "c")
    fn, width = weighted_sums(3, 2, c)
    X = np.random.default_rng(3).normal(size=(2, width))
    X[:, ::4] = 0.0  # zero operands: zero partials of the others
    with pytest.MonkeyPatch.context() as patch:
        joined, apart = tape_of(fn, width, True, patch), tape_of(fn, width, False, patch)
    seed = np.ones((2, len(joined.outputs)))
    seed[:, 0] = upstream
    with np.errstate(all="ignore"):
        found, expected = joined.gradients(X, seed=seed), apart.gradients(X, seed=seed)
    assert not np.isfinite(found.inputs[0]).all() and np.isfinite(found.inputs[0]).any()
    assert same_bits(found.inputs[0], expected.inputs[0])


def blocks_of(fn, width: int):
    """find_blocks on each level's dot groups of the function's program."""
    program = compile(fn, np.zeros(width)).traced
    levels: dict[int, list[int]] = {}
    for g, group in enumerate(program.groups):
        if group.row.name == "dot":
            levels.setdefault(group.level, []).append(g)
    return [find_blocks(groups, program) for groups in levels.values()]


def test_dots_that_are_no_matrix_products_stay_groups() -> None:
    def not_prefixes(x):  # the second lists share a first operand, then part
        return [ag.dot(x[0:2], x[4:6]), ag.dot(x[2:5], [x[4], x[7], x[8]])]

    def one_column(x):  # every node its own row and the same column: Q = 1
        return [ag.dot(x[i:i + 2], x[6:8]) for i in range(0, 6, 2)]

    def sparse(x):  # a 3 x 3 grid with 3 nodes: a third of it
        rows, columns = [x[0:2], x[2:4], x[4:6]], [x[6:8], x[8:10], x[10:12]]
        return [ag.dot(rows[i], columns[(i + 1) % 3]) for i in range(3)]

    def twice(x):  # a 2 x 2 product with one entry computed twice
        rows, columns = [x[0:2], x[2:4]], [x[4:6], x[6:8]]
        return [ag.dot(rows[p], columns[q]) for p in range(2) for q in range(2)] + [
            ag.dot(rows[0], columns[0])]

    def mostly_pads(x):  # rows of 1 operand against columns of 5
        return [ag.dot(x[p:p + 1], x[6 + 5 * q:7 + 5 * q]) for p in range(2) for q in range(2)
                ] + [ag.dot(x[0:5], x[6:11])]

    for fn in (not_prefixes, one_column, sparse, twice, mostly_pads):
        assert blocks_of(fn, 16) == [None], fn.__name__


def test_a_grid_of_products_is_found_with_its_indices() -> None:
    def grid(x):  # C = A B, A 2 x 3, B 3 x 2, one node missing
        rows, columns = [x[0:3], x[3:6]], [x[6:9], x[9:12]]
        return [ag.dot(rows[p], columns[q]) for p in range(2) for q in range(2)
                if (p, q) != (1, 0)]

    (blocks,) = blocks_of(grid, 16)
    assert blocks is not None
    assert blocks.a.shape == (1, 2, 3) and blocks.b.shape == (1, 3, 2)
    assert (blocks.nodes[0] >= 0).tolist() == [[True, True], [False, True]]
    w = Value(1.0)
    check_against_eager(lambda x: [out * w for out in grid(x)], [w],
                        np.random.default_rng(5).normal(size=(3, 12)), strategy="grouped")
