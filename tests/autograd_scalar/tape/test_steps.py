"""The tape's steps: what rows declare picks them, and each one equals the eager graph.

A dense layer and its activation run as one step (the activation's own forward and
rule on the layer's matrix product), n-ary rows with a ``stacked`` form run on one
stacked array, the first layer reads its inputs from the batch, and gradients are
assigned where one step alone writes them. Each case compares outputs, shared-leaf
gradients and input gradients with one eager graph per example
(``check_against_eager``), including the cases that must not take a shortcut: an
affine output read by something else too, inputs read twice, layers whose weights
are not laid out as views.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, compile, ops
from autograd_scalar.tape.dense import Dense
from autograd_scalar.tape.program import Program
from autograd_scalar.value import apply
from tests.autograd_scalar.tape.test_paths import check_against_eager
from tests.autograd_scalar.test_edge_values import assert_same_as_eager

ACTIVATIONS = {
    "relu": lambda v: v.relu(),
    "tanh": lambda v: v.tanh(),
    "square": lambda v: v ** 2,
    "leaky": lambda v: v.leaky_relu(0.1),
    "sigmoid": lambda v: v.sigmoid(),
}


def layer(rng, nin, nout, label):
    W = [[Value(w, f"{label}w{j}{i}") for i, w in enumerate(row)]
         for j, row in enumerate(rng.normal(size=(nout, nin)))]
    b = [Value(x, f"{label}b{j}") for j, x in enumerate(rng.normal(size=nout))]
    return W, b, [p for row, bias in zip(W, b) for p in (*row, bias)]


@given(st.sampled_from(sorted(ACTIVATIONS)), st.integers(1, 4), st.integers(1, 5),
       st.integers(1, 6), st.booleans(), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_dense_layers_with_their_activation(name, nin, nout, n, z_read_again, seed) -> None:
    nout += nin == 1 and nout == 1  # a 1-1 layer has a W of one entry: no dense step
    rng = np.random.default_rng(seed)
    act = ACTIVATIONS[name]
    W1, b1, p1 = layer(rng, nin, nout, "a")
    W2, b2, p2 = layer(rng, nout, 2, "b")

    def fn(x):
        z = ag.linear(W1, x, b1)
        h = [act(v) for v in z]
        out = ag.linear(W2, h, b2)
        return [*out, z[0] * 0.5] if z_read_again else out

    tape = compile(fn, np.zeros(nin))
    fused = [step for step in tape.steps if isinstance(step, Dense)]
    assert fused and fused[0].activation is not None
    assert fused[0].activation.row.name == tape.groups[1].row.name
    check_against_eager(fn, p1 + p2, rng.uniform(-2, 2, size=(n, nin)))


def test_an_mlp_runs_as_one_step_per_layer_and_reads_its_inputs_from_the_batch() -> None:
    rng = np.random.default_rng(0)
    W1, b1, _p1 = layer(rng, 5, 4, "a")
    W2, b2, _p2 = layer(rng, 4, 3, "b")

    def fn(x, t):
        h = [v.relu() for v in ag.linear(W1, x, b1)]
        z = ag.linear(W2, h, b2)
        return ag.logsumexp(z) - ag.dot(t, z)

    tape = compile(fn, np.zeros(5), np.eye(3)[0])
    assert [step.strategy for step in tape.steps] == ["matrix", "matrix", "stacked",
                                                      "stacked", "elementwise"]
    first = tape.steps[0]
    assert first.external == (0, 0, 5)                  # argument 0, columns 0..4
    assert tape.copied[0] is None                # x is never copied, t is
    assert tape.copied[1] is not None
    assert first.alone.W and first.alone.b
    text = tape.program()
    assert "affine+relu" in text and "logsumexp" in text
    X, T = rng.normal(size=(7, 5)), np.eye(3)[rng.integers(0, 3, 7)]
    tape.check(X, T)
    found = tape.gradients(X, T)
    for i in range(7):                                  # input gradients from the batch read
        xs = [Value(v) for v in X[i]]
        grads = ag.gradients(fn(xs, [Value(v) for v in T[i]]))
        assert np.allclose(found.inputs[0][i], [grads.get(x, 0.0) for x in xs], atol=1e-12)


class Softsign(ag.Function):
    @staticmethod
    def forward(x: float) -> float:
        return x / (1.0 + abs(x))

    @staticmethod
    def derivatives(x: float, out: float) -> tuple[float]:
        return (1.0 / (1.0 + abs(x)) ** 2,)


def test_a_layer_read_through_smooth_rows_alone_keeps_the_products_order() -> None:
    """A dense layer's entries near a kink are added again in the eager order (the test
    in test_batched_forms), but only where a kink, edge or pole can be reached from them
    through smooth rows: the loss's logsumexp and dot read a classifier's logits, and a
    tanh network with a squared error has nothing on either side of any point. Through
    tanh to a relu, a tie at 0 still takes the eager graph's side."""
    rng = np.random.default_rng(2)
    W1, b1, _ = layer(rng, 3, 4, "a")
    W2, b2, _ = layer(rng, 4, 2, "b")

    def classifier(x, t):
        z = ag.linear(W2, [v.relu() for v in ag.linear(W1, x, b1)], b2)
        return ag.logsumexp(z) - ag.dot(t, z)

    def regression(x, t):
        z = ag.linear(W2, [v.tanh() for v in ag.linear(W1, x, b1)], b2)
        return ag.sum([(zi - ti) ** 2 for zi, ti in zip(z, t)])

    def through(act):
        return lambda x, t: ag.sum([act(v) for v in ag.linear(W2, ag.linear(W1, x, b1), b2)])

    def flags(fn):
        tape = compile(fn, np.zeros(3), np.zeros(2))
        return [step.eager_order for step in tape.steps if isinstance(step, Dense)]

    assert flags(classifier) == [True, False]
    assert flags(regression) == [False, False]
    assert flags(through(lambda v: v.tanh().relu())) == [True, True]
    assert flags(through(lambda v: v.tanh().exp())) == [False, False]
    assert flags(through(Softsign.apply)) == [True, True]  # a user's row: smooth or not, unknown
    relu_from_tanh = ops.TANH.replace(name="relu_from_tanh", scalar=ops.RELU.scalar,
                                      vector=ops.RELU.vector, kinks=(0.0,),
                                      derivatives=ops.RELU.derivatives)
    assert flags(through(relu_from_tanh)) == [True, True]  # a variant is smooth no more

    W = [[Value(1.0), Value(1.0), Value(1.0)], [Value(0.7), Value(-0.1), Value(0.3)]]
    b = [Value(0.3), Value(-0.3)]

    def tied(xs):  # 0.3 + 0.1 + 0.3 - 0.7 is 0.0 eagerly, 5.6e-17 in the product's order
        return [z.tanh().relu() for z in ag.linear(W, xs, b)]

    tape = compile(tied, [0.0, 0.0, 0.0])
    assert [step.eager_order for step in tape.steps if isinstance(step, Dense)] == [True]
    check_against_eager(tied, [w for row in W for w in row] + b,
                        np.array([[0.1, 0.3, -0.7], [0.3, 0.1, -0.7], [1.0, -0.7, 0.0]]))


def test_inputs_read_by_two_layers_get_both_gradients() -> None:
    rng = np.random.default_rng(1)
    W1, b1, p1 = layer(rng, 3, 2, "a")
    W2, _b2, _p2 = layer(rng, 3, 2, "b")

    def fn(x):  # two dense groups over the same x: an affine one and a dot one
        return [v.tanh() for v in ag.linear(W1, x, b1)] + [ag.dot(w, x).relu() for w in W2]

    tape = compile(fn, np.zeros(3))
    dense = [step for step in tape.steps if isinstance(step, Dense)]
    assert len(dense) == 2 and all(not step.alone.x for step in dense)
    check_against_eager(fn, p1 + [w for row in W2 for w in row], rng.normal(size=(5, 3)))


def test_weights_not_laid_out_as_a_view_are_read_and_written_by_index() -> None:
    rng = np.random.default_rng(2)
    W1, b1, p1 = layer(rng, 3, 4, "a")
    shuffled = [p1[i] for i in rng.permutation(len(p1))]

    def fn(x):
        return [v.relu() for v in ag.linear(W1, x, b1)]

    tape = compile(fn, np.zeros(3), parameters=shuffled)
    (step,) = tape.steps
    assert step.matrix.W.value is None                  # no strided view of a shuffle
    X = rng.normal(size=(6, 3))
    found = tape.gradients(X)
    eager = dict.fromkeys(p1, 0.0)
    for row in X:
        grads = ag.gradients(ag.sum(fn([Value(v) for v in row])))
        for p in p1:
            eager[p] += grads.get(p, 0.0)
    assert np.allclose([found.shared[p] for p in p1], [eager[p] for p in p1], atol=1e-12)


@pytest.mark.parametrize("row", [ops.SUM, ops.DOT, ops.LOGSUMEXP])
def test_stacked_forms_agree_with_the_rows_own_forward_and_rule(row) -> None:
    rng = np.random.default_rng(3)
    S = rng.normal(size=(6, 4, 5)) * 3
    forward, derivatives, _ = row.stacked
    out = forward(S)
    assert np.allclose(out, row.vector(*S), rtol=1e-13, atol=1e-13)
    for k in range(4):                                   # each node against the float forward
        for j in range(5):
            assert out[k, j] == pytest.approx(row.scalar(*S[:, k, j].tolist()), rel=1e-13)
    partials = np.broadcast_to(derivatives(S, out), S.shape)
    for i, partial in enumerate(row.derivatives(*S, out)):
        assert np.allclose(partials[i], partial, rtol=1e-13, atol=1e-13)


EDGES = [0.0, -0.0, 1.0, -2.5, 1e308, -1e308, 5e-324, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("row", [ops.SUM, ops.DOT, ops.LOGSUMEXP])
@given(st.integers(1, 4), st.integers(1, 3), st.data())
@settings(max_examples=60, deadline=None)
def test_a_stacked_rows_pads_change_nothing_to_the_bit(row, count, extra, data) -> None:
    """Appending the row's neutral operand (``stacked[2][j]``) to each operand list leaves
    the stacked forward's value, and every real operand's partial, bit for bit the same,
    at the edges too (signed zeros, infinities, NaN): what lets a ragged step pad."""
    forward, derivatives, pads = row.stacked
    lists = len(pads)
    numbers = st.sampled_from(EDGES) | st.floats(-1e3, 1e3)
    S = np.array(data.draw(st.lists(st.lists(numbers, min_size=3, max_size=3),
                                    min_size=lists * count, max_size=lists * count)))[:, :, None]
    padded = np.concatenate([np.concatenate([S[j * count:(j + 1) * count],
                                             np.full((extra, 3, 1), pad)])
                             for j, pad in enumerate(pads)])
    with np.errstate(all="ignore"):
        out, out_padded = forward(S), forward(padded)
        assert out.tobytes() == out_padded.tobytes()
        partials = np.broadcast_to(derivatives(S, out), S.shape)
        padded_partials = np.broadcast_to(derivatives(padded, out_padded), padded.shape)
    longest = count + extra
    for j in range(lists):
        assert partials[j * count:(j + 1) * count].tobytes() == \
            np.ascontiguousarray(padded_partials[j * longest:j * longest + count]).tobytes()


WIDE = st.floats(-1e3, 1e3).flatmap(lambda x: st.sampled_from([x, x * 1e12, x * 1e-9]))
"""Floats over 24 orders of magnitude: sums of them round, and cancel, so two orders of
adding give other last bits."""


def _float_order(terms, start=0.0) -> float:
    """start + t0 + t1 + ..., one rounding per addition: the order the n-ary rows document."""
    total = start
    for term in terms:
        total = total + term
    return total


@given(st.lists(WIDE, min_size=1, max_size=40), WIDE)
@settings(max_examples=100, deadline=None)
def test_the_n_ary_rows_add_in_the_float_order(terms, start) -> None:
    """``sum``, ``dot`` and ``affine`` on floats add left to right, as their straight-line
    code does, on every Python (``sum`` compensates floats from 3.12 on)."""
    assert ops.added([1e16, 1.0, -1e16]) == 0.0
    n = len(terms)
    assert ops.SUM.scalar(*terms) == _float_order(terms)
    ones = [1.0] * n
    assert ops.DOT.scalar(*terms, *ones) == _float_order(terms)
    assert ops.AFFINE.scalar(*terms, *ones, start) == _float_order(terms, start)


@pytest.mark.parametrize("row", [ops.SUM, ops.DOT])
@given(st.integers(8, 40), st.integers(1, 3), st.data())
@settings(max_examples=60, deadline=None)
def test_stacked_and_array_forms_add_in_the_float_order_at_any_batch(row, k, n, data) -> None:
    """A stacked row's forward on a batch of n examples gives each column the float
    forward's bits, n = 1 included (NumPy sums a single column pairwise, from 8 terms)."""
    S = np.array(data.draw(st.lists(st.lists(WIDE, min_size=n, max_size=n),
                                    min_size=2 * k, max_size=2 * k)))
    stacked, vector = row.stacked[0](S), row.vector(*S)
    for j in range(n):
        expected = row.scalar(*S[:, j].tolist())
        assert stacked[j] == expected and vector[j] == expected, (j, stacked, vector, expected)


def test_a_batch_of_one_sums_as_the_eager_graph_to_the_bit() -> None:
    """A tape run on one example gives the eager graph's bits for a stacked sum of many
    products (before, the stacked sum of one column was pairwise)."""
    k = 30
    rng = np.random.default_rng(3)

    def f(x):
        return ag.sum([x[i] * x[i + 1] for i in range(k)])

    tape = compile(f, np.zeros(k + 1))
    assert any(step.strategy == "stacked" for step in tape.steps)
    for _ in range(40):
        X = rng.normal(size=(1, k + 1)) * 10.0 ** rng.integers(-5, 12, size=(1, k + 1))
        found = tape.gradients(X)
        assert_same_as_eager(found, f, [], X)


def test_the_strategy_comes_from_the_row_not_its_name() -> None:
    plain_sum = ops.SUM.replace(stacked=None)            # the same op, no stacked form
    stacked = compile(lambda x: ag.sum(x).tanh(), np.zeros(3))
    plain = compile(lambda x: apply(plain_sum, tuple(x)).tanh(), np.zeros(3))
    assert stacked.steps[0].strategy == "stacked"
    assert plain.steps[0].strategy == "elementwise"
    X = np.random.default_rng(4).normal(size=(5, 3))
    a, b = stacked.gradients(X), plain.gradients(X)
    assert np.allclose(a.outputs, b.outputs) and np.allclose(a.inputs[0], b.inputs[0])


def test_the_traced_program_is_inert_and_printable() -> None:
    model_w = [Value(0.5, "w0"), Value(-1.0, "w1")]
    tape = compile(lambda x: (ag.dot(model_w, x) + 1.0).relu(), np.zeros(2),
                   parameters=model_w)
    program = tape.traced
    assert isinstance(program, Program)
    assert program.parameter_count == 2 and program.first_shared == 2
    assert program.shared[:2] == tuple(model_w)
    text = str(program)
    assert text.splitlines()[0].startswith("program: 2 placeholders 0..1, 3 shared leaves")
    assert [line.split()[2] for line in text.splitlines()[1:]] == ["dot", "+", "relu"]
    with pytest.raises(AttributeError):
        program.groups = ()  # type: ignore[misc]


def test_a_stacked_group_sends_its_gradients_in_one_scatter() -> None:
    """An L2 term's sum over 300 squares: one scatter onto the 300 rows, not 300 routes."""
    ps = [Value(0.01 * i) for i in range(300)]
    tape = compile(lambda x: x[0] * ag.sum([p * p for p in ps]), np.ones(1))
    (summed,) = [g for g in tape.groups if g.row is ops.SUM]
    assert summed.strategy == "stacked" and len(summed.plans[False].scatters) == 1
    found = tape.gradients(np.array([[2.0], [3.0]]))
    assert np.allclose([found.shared[p] for p in ps], [5 * 2 * p.data for p in ps])


@given(st.integers(1, 3), st.integers(2, 4), st.booleans(), st.integers(1, 5),
       st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_a_child_read_equally_often_routes_its_sums(tokens, features, interleaved, n,
                                                    seed) -> None:
    """rmsnorm's x_i * scale: each token's scale is read by each of its features, so
    the scale's position routes its contributions summed ``features`` at a time (in
    order, or sorted first when the nodes interleave the tokens); the same numbers
    as eagerly. A child read unequally often still takes the general scatter."""
    rng = np.random.default_rng(seed)
    w = Value(rng.normal(), "w")
    width = tokens * features

    def scaled(x):
        scales = [(x[t] * x[t] + w).exp() for t in range(tokens)]
        pairs = [(t, i) for i in range(features) for t in range(tokens)] if interleaved \
            else [(t, i) for t in range(tokens) for i in range(features)]
        return [x[t * features + i] * scales[t] for t, i in pairs]

    check_against_eager(scaled, [w], rng.uniform(-1, 1, size=(n, width)))
    (product,) = [g for g in compile(scaled, np.zeros(width)).groups
                  if g.row is ops.MUL and g.size == width]
    plan = product.plans[True]
    assert plan.routes is not None and not plan.scatters
    repeated = [route for route in plan.routes if route.m > 1]
    if tokens > 1:  # (one token's scale is read by every node: a uniform route)
        assert [route.m for route in repeated] == [features]
        assert (repeated[0].order is not None) == interleaved

    def unequal(x):
        scale = x[0] * x[0]
        return [x[1] * scale, x[2] * scale, x[3] * (x[1] * x[2])]

    check_against_eager(unequal, [], rng.uniform(-1, 1, size=(n, 4)))
    (last,) = [g for g in compile(unequal, np.zeros(4)).groups if g.size == 3]
    assert last.plans[True].routes is None and last.plans[True].scatters
