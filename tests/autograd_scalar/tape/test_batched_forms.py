"""The tape's forms for sequences against the eager graph: one weight matrix over several
input vectors (batched matrix products) and ``index`` rows as fancy indexing.

A group of bilinear nodes whose nodes fall into runs, each reading its own vector
with the same rows of one shared weight matrix, runs as batched matrix products;
a group reading a vector twice, vectors that share an entry, or different weights
per vector must not, and runs elementwise. A gather group over a table of shared
leaves, or of per-example nodes, runs as a lookup. Each case compares outputs,
shared-leaf gradients and input gradients with one eager graph per example.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, compile
from tests.autograd_scalar.tape.test_paths import check_against_eager
from tests.autograd_scalar.test_edge_values import assert_same_as_eager, same


def _matrix(rng: np.random.Generator, rows: int, columns: int) -> list[list[Value]]:
    return [[Value(w) for w in row] for row in rng.normal(size=(rows, columns))]


def _first_group(tape: ag.Tape, name: str):
    return next(group for group in tape.groups if group.row.name == name)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5),
       st.booleans(), st.sampled_from(["none", "relu", "tanh"]), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_one_matrix_over_several_vectors_runs_as_batched_products(
        m, k, vectors, n, bias, activation, seed) -> None:
    rng = np.random.default_rng(seed)
    W = _matrix(rng, k, m)
    b = [Value(v) for v in rng.normal(size=k)]
    params = [w for row in W for w in row] + (b if bias else [])

    def fn(x):
        outputs = []
        for t in range(vectors):
            xs = x[t * m:(t + 1) * m]
            for r in range(k):
                z = ag.affine(W[r], xs, b[r]) if bias else ag.dot(W[r], xs)
                outputs.append(z if activation == "none" else getattr(z, activation)())
        return outputs

    X = rng.uniform(-1, 1, size=(n, vectors * m))
    tape = compile(fn, X[0])
    group = _first_group(tape, "affine" if bias else "dot")
    if k * m >= 2:
        assert group.strategy == "matrix" and group.matrix.vectors == vectors
        assert tape.steps[0].strategy == "matrix"
    else:  # a W of one entry is the multiplication itself: no matrix form
        assert group.strategy == "elementwise" and group.matrix is None
    check_against_eager(fn, params, X, "grouped")


@given(st.integers(2, 4), st.integers(1, 3), st.integers(1, 4),
       st.sampled_from(["repeated", "overlapping", "other weights", "shared input"]),
       st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_vectors_read_twice_or_overlapping_do_not_take_the_form(m, k, n, case, seed) -> None:
    rng = np.random.default_rng(seed)
    W, V = _matrix(rng, k, m), _matrix(rng, k, m)
    c = Value(0.75, "c")
    params = [w for row in W + V for w in row] + [c]

    def fn(x):
        first, second = x[:m], x[m:2 * m]
        if case == "repeated":            # runs over first, second, first
            runs = [(W, first), (W, second), (W, first)]
        elif case == "overlapping":       # the second vector starts inside the first
            runs = [(W, first), (W, x[1:m + 1])]
        elif case == "other weights":     # the second run with another matrix
            runs = [(W, first), (V, second)]
        else:                             # a shared leaf among the inputs
            runs = [(W, first), (W, [c, *second[1:]])]
        return [ag.dot(row, xs) for matrix, xs in runs for row in matrix]

    X = rng.uniform(-1, 1, size=(n, 2 * m))
    tape = compile(fn, X[0])
    group = _first_group(tape, "dot")
    assert group.matrix is None and group.strategy != "matrix"
    check_against_eager(fn, params, X, "grouped")


def test_the_gpt_position_maps_are_one_batched_step_each() -> None:
    """A one-layer GPT's per-position maps (q, k and v together, the MLP, the head) are
    matrix steps over every position, and its embedding and target gathers lookups."""
    from nn.gpt import GPT

    model = GPT(5, n_embd=4, n_head=2, block_size=4, seed=0)

    def fn(tokens):
        return ag.sum(model.position_losses(tokens))

    tape = compile(fn, [0.0, 1.0, 2.0, 3.0])
    batched = [step.matrix.vectors for step in tape.steps if step.strategy == "matrix"]
    assert batched and all(vectors == 3 for vectors in batched), batched
    assert sum(step.strategy == "lookup" for step in tape.steps) >= 2
    tape.strategy = "grouped"
    tape.check(np.array([[0.0, 1.0, 2.0, 3.0], [4.0, 4.0, 0.0, 1.0], [2.0, 3.0, 1.0, 0.0]]))


def test_batched_products_give_zero_for_zero_inputs_weights_and_dead_units() -> None:
    """The batched step against the eager graph, bit for bit, where an infinite gradient
    (from sqrt(0)) meets zero inputs and zero weights, and dead relu units mask it."""
    W = [[Value(1.0), Value(0.0)], [Value(-1.0), Value(2.0)], [Value(0.5), Value(0.0)]]
    b = [Value(0.0), Value(0.0), Value(-0.5)]
    params = [w for row in W for w in row] + b

    def f(xs):
        h = [z.relu() for t in range(2) for z in ag.linear(W, xs[2 * t:2 * t + 2], b)]
        return ag.sum([v.sqrt() for v in h])

    X = np.array([[1.0, 0.0, 0.0, 3.0], [0.0, 3.0, 2.0, 1.0], [2.0, 1.0, 0.0, 0.0],
                  [math.nan, 1.0, 0.0, -0.0]])
    tape = compile(f, X[0])
    assert any(step.strategy == "matrix" and step.matrix.vectors == 2 for step in tape.steps)
    assert_same_as_eager(tape.gradients(X), f, params, X)


DECIMALS = [0.0, -0.0, 0.1, -0.1, 0.2, 0.3, -0.3, 0.5, -0.7, 0.7, 1.0, -1.0]
"""Quantised numbers whose sums tie at 0 in one order and miss it by 1e-17 in another
(0.3 + 0.1 + 0.3 - 0.7 is 0.0 added left to right; a product adds otherwise)."""


@pytest.mark.parametrize("kink", ["relu", "abs", "leaky_relu"])
@given(st.lists(st.sampled_from(DECIMALS), min_size=12, max_size=12),
       st.lists(st.lists(st.sampled_from(DECIMALS), min_size=3, max_size=3), min_size=1,
                max_size=9))
@settings(max_examples=60, deadline=None)
def test_a_dense_layer_takes_each_kink_on_the_eager_graphs_side(kink, numbers, rows) -> None:
    """A dense layer's product added its terms in another order than the eager graph,
    which adds b + w_0 x_0 + ... left to right: at x = (0.1, 0.3, -0.7), w = 1, b = 0.3
    the tape got 5.6e-17 where the graph has 0.0, took relu's other side and gave input
    gradients of 1 for 0. Entries within rounding of a kink are now added in the eager
    order: the same side, at any batch size, whatever the ties."""
    W = [[Value(v) for v in numbers[3 * j:3 * j + 3]] for j in range(3)]
    b = [Value(v) for v in numbers[9:]]
    act = {"relu": Value.relu, "abs": abs, "leaky_relu": lambda z: z.leaky_relu(0.1)}[kink]

    def f(xs):
        return [act(z) for z in ag.linear(W, xs, b)]

    X = np.array([[0.1, 0.3, -0.7], *rows])
    W[0] = [Value(1.0), Value(1.0), Value(1.0)]
    b[0] = Value(0.3)
    check_against_eager(f, [w for row in W for w in row] + b, X)


def test_a_map_applied_to_several_vectors_takes_each_kink_on_the_eager_graphs_side() -> None:
    """The same for one weight matrix applied to two vectors per example (a sequence
    model's per-position map, one batched product): the tie in the second vector of the
    first example and in the first vector of the second."""
    W = [[Value(1.0), Value(1.0), Value(1.0)], [Value(0.5), Value(-1.0), Value(0.7)]]
    b = [Value(0.3), Value(0.0)]

    def f(xs):
        return [z.relu() for t in range(2) for z in ag.linear(W, xs[3 * t:3 * t + 3], b)]

    X = np.array([[0.5, 0.5, 0.5, 0.1, 0.3, -0.7], [0.1, 0.3, -0.7, 0.2, 0.2, 0.2]])
    tape = compile(f, X[0])
    assert [step.matrix.vectors for step in tape.steps if step.strategy == "matrix"] == [2]
    check_against_eager(f, [w for row in W for w in row] + b, X)


TIE = [0.1, 0.3, -0.7]
"""An input at which w = (1, 1, 1), b = 0.3 sums to 0.0 left to right, 5.6e-17 otherwise."""


def _tie_layer(b0: float = 0.3, scale: float = 1.0) -> tuple[list[list[Value]], list[Value]]:
    return ([[Value(scale), Value(scale), Value(scale)], [Value(0.5), Value(-0.5), Value(0.2)]],
            [Value(b0 * scale), Value(0.1)])


@pytest.mark.parametrize(("name", "reader", "rows"), [
    # one row the bound cannot cover (an inf, a NaN, an input past 1e154) left every other
    # row of the batch as the product gave it
    ("relu", Value.relu, [TIE, [math.nan, 0.0, 0.0]]),
    ("relu", Value.relu, [TIE, [math.inf, 0.0, 0.0]]),
    ("relu", Value.relu, [TIE, [1e155, 0.0, 0.0]]),
    # a reader of the product that is not a fused activation: relu of z * 1.0, the edge of
    # sqrt's domain
    ("relu of z * 1", lambda z: (z * 1.0).relu(), [TIE]),
    ("sqrt", Value.sqrt, [TIE]),
])
def test_every_row_a_bound_covers_takes_the_eager_graphs_side(name, reader, rows) -> None:
    W, b = _tie_layer()
    if name == "sqrt":  # both units at the edge of sqrt's domain at TIE
        W[1], b[1] = [Value(1.0), Value(1.0), Value(1.0)], Value(0.3)

    def f(xs):
        return [reader(z) for z in ag.linear(W, xs, b)]

    X = np.array(rows, dtype=float)
    tape = compile(f, [1.0, 2.0, 3.0])
    found = tape.gradients(X)
    xs = [Value(v) for v in TIE]
    out = f(xs)
    assert found.outputs[0].tolist() == [o.data for o in out]
    assert found.inputs[0][0].tolist() == ag.grad(ag.sum(out), xs)


def test_tiny_weights_and_zero_columns_sum_as_the_eager_graph(monkeypatch) -> None:
    """Weights of 2^-1000 squared to 0, so the bound was 0 and a tie of 1e-181 went
    uncorrected; columns of zero inputs (blank or padded examples) were each added again
    through arrays of (entries, m) terms, 85 times the layer's time; they take b, or the
    zero whose sign the eager sum gives, at once. Entries added again are taken a chunk at
    a time (here 4 terms)."""
    import autograd_scalar.tape.matrix as matrix

    monkeypatch.setattr(matrix, "CHUNK_TERMS", 4)
    W, b = _tie_layer(scale=2.0 ** -1000)
    X = np.array([[v * 2.0 ** 400 for v in TIE], [0.0, 0.0, 0.0]])
    W[1] = [Value(-1.0), Value(-2.0), Value(-0.5)]
    b[1] = Value(-0.0)

    def f(xs):
        return [z.relu() for z in ag.linear(W, xs, b)]  # relu keeps a -0.0: its sign shows

    tape = compile(f, [-1.0, -1.0, -1.0])
    found = tape.gradients(X)
    for i, row in enumerate(X):
        xs = [Value(v) for v in row]
        out = f(xs)
        assert all(same(a, o.data) for a, o in zip(found.outputs[i], out)), (i, out)


def test_a_dense_layer_keeps_a_zeros_sign_as_the_eager_graph() -> None:
    """With b = -0.0 and zero products the eager affine is -0.0 (added from b); the tape
    added b to the product's +0.0 and got +0.0, so sqrt's derivative was -inf for inf."""
    W = [[Value(-1.0)], [Value(-2.0)]]
    b = [Value(-0.0), Value(-0.0)]

    def f(xs):
        return ag.sum([z.sqrt() for z in ag.linear(W, xs, b)])

    tape = compile(f, [-1.0])
    assert any(step.strategy == "matrix" for step in tape.steps)
    X = np.array([[0.0], [-0.0], [-1.0]])
    assert_same_as_eager(tape.gradients(X), f, [w for row in W for w in row] + b, X)
    ws = [Value(1.0), Value(2.0)]                 # x * w_r: one product, not 0.0 + a sum

    def products(xs):
        return ag.sum([(xs[0] * w).sqrt() for w in ws])

    tape = compile(products, [1.0])
    assert any(step.strategy == "matrix" for step in tape.steps)
    X = np.array([[0.0], [-0.0]])
    assert_same_as_eager(tape.gradients(X), products, ws, X)


# -- gather groups as lookups ---------------------------------------------------------

@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_gathers_from_shared_and_per_example_tables_run_as_lookups(size, dim, n, seed) -> None:
    rng = np.random.default_rng(seed)
    table = _matrix(rng, size, dim)
    table[-1][0] = table[0][0]                          # a leaf twice in the table
    params = list(dict.fromkeys(w for row in table for w in row))

    def fn(x):
        rows = [ag.gather([row[j] for row in table], x[0]) for j in range(dim)]
        again = [ag.gather([row[j] for row in table], x[1]) for j in range(dim)]
        logits = [(v * x[2]).tanh() for v in rows + again]
        picked = ag.gather(logits, x[3])                 # a per-example table
        return [*rows, *again, picked * picked]

    X = np.column_stack([rng.integers(0, size, size=n), rng.integers(0, size, size=n),
                         rng.uniform(-1, 1, size=n), rng.integers(0, 2 * dim, size=n)])
    tape = compile(fn, X[0])
    assert [group.strategy for group in tape.groups if group.row.name == "gather"] == \
        ["lookup", "lookup"]
    check_against_eager(fn, params, X.astype(float), "grouped")


def test_a_lookup_passes_nothing_to_unselected_values_against_an_infinite_gradient() -> None:
    """sqrt(0) sends inf to the selected value only: the unselected ones and the index get
    exactly 0, as their zero partials do eagerly."""
    a, b = Value(0.0, "a"), Value(4.0, "b")

    def f(xs):
        picked = ag.gather([xs[0] * 1.0, xs[1] * 1.0, xs[0] * 0.5], xs[2])
        return ag.gather([a, b], xs[3]).sqrt() + picked.sqrt()

    X = np.array([[0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 0.0]])
    tape = compile(f, X[0])
    tape.strategy = "grouped"
    assert [group.strategy for group in tape.groups if group.row.name == "gather"] == \
        ["lookup", "lookup"]
    found = tape.gradients(X)
    totals = {a: 0.0, b: 0.0}
    for i, row in enumerate(X):
        xs = [Value(v) for v in row]
        out = f(xs)
        grads = ag.grad(out, [a, b, *xs])
        totals[a] += grads[0]
        totals[b] += grads[1]
        for j, g in enumerate(grads[2:]):
            assert same(found.inputs[0][i][j], g), (i, j, found.inputs[0][i][j], g)
    assert same(found.shared[a], totals[a]) and same(found.shared[b], totals[b])


@pytest.mark.parametrize("strategy", ["auto", "grouped", "scalar"])
@pytest.mark.parametrize("make", [lambda x, q: x[0] * q, lambda x, q: x[0] / q,
                                  lambda x, q: ag.dot([x[0], x[1]], [q, q]),
                                  lambda x, q: (x[0] + q).relu()])
def test_a_lookup_over_computed_nodes_and_inputs_sends_every_gradient(strategy, make) -> None:
    """A table of a computed node and an input: the computed node's row may come before
    the input's, and only the input's gradient is left out when it is not asked for
    (``backward``, ``backward_arrays``), never the computed node's, whose gradient
    reaches the parameter behind it."""
    q = Value(2.0, "q")
    tape = compile(lambda x: ag.gather([make(x, q), x[1]], x[2]), [0.1, 0.2, 0.0])
    tape.strategy = strategy
    X = np.array([[0.5, 0.7, 0.0], [1.0, -2.0, 1.0], [-1.5, 3.0, 0.0]])
    expected = sum(ag.grad(ag.gather([make([Value(a), Value(b)], q), Value(b)], int(k)), [q])[0]
                   for a, b, k in X)
    q.grad = 0.0
    tape.backward(X, reduction="sum")
    assert q.grad == pytest.approx(expected, rel=1e-14) and expected != 0.0
    tape.backward_arrays(X, reduction="sum")
    assert tape.arrays.grad[tape.shared.index(q)] == pytest.approx(expected, rel=1e-14)
    tape.check(X)


def test_an_index_out_of_range_gets_the_rows_own_error() -> None:
    table = [Value(1.0), Value(2.0), Value(3.0)]
    tape = compile(lambda x: ag.gather(table, x[0]) * x[1], [1.0, 2.0])
    tape.strategy = "grouped"
    assert [group.strategy for group in tape.groups] == ["lookup", "elementwise"]
    with pytest.raises(ValueError, match=r"integer from 0 to 2, got 3\.0 \(at example 1 "):
        tape.forward(np.array([[1.0, 1.0], [3.0, 1.0]]))
    with pytest.raises(ValueError, match=r"integer from 0 to 2, got 0\.5 \(in its forward"):
        tape.forward(np.array([[0.5, 1.0]]))
    np.testing.assert_array_equal(tape.forward(np.array([[2.0, 2.0], [0.0, 1.0]])), [6.0, 1.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batched_products_agree_with_eager_in_either_dtype(dtype) -> None:
    """Interior vectors (tanh of the inputs), a bias, a fused relu, and the vectors also
    read elsewhere (so their gradients are added to, not assigned)."""
    rng = np.random.default_rng(7)
    W = _matrix(rng, 3, 4)
    b = [Value(v) for v in rng.normal(size=3)]

    def fn(x):
        xs = [[v.tanh() for v in x[4 * t:4 * t + 4]] for t in range(5)]
        h = [ag.affine(W[r], xs[t], b[r]).relu() for t in range(5) for r in range(3)]
        return ag.sum(h) + ag.sum(xs[0])

    tape = compile(fn, np.zeros(20), dtype=dtype)
    tape.strategy = "grouped"
    (dense,) = [step for step in tape.steps if step.strategy == "matrix"]
    assert dense.matrix.vectors == 5 and not dense.alone.x
    X = rng.normal(size=(7, 20))
    X[0, 3], X[1, 0] = math.inf, -math.inf
    tape.check(X)


def test_a_product_with_a_constant_stays_in_the_straight_line_code() -> None:
    """x * 0.5 reads a shared leaf (the constant) and was a 1x1 dense layer, a step that
    always runs grouped: eight of them cut one code step into fifteen."""
    def f(x):
        a, b, c, d = x
        y = a
        for _ in range(8):
            y = (y * b + c).tanh() + (d - y) * 0.5
        return [y * y]

    tape = compile(f, [0.1, 0.2, 0.3, 0.4])
    assert [step.strategy for step in tape.plan_for(1, "auto").steps] == ["scalar"]
    check_against_eager(f, [], np.random.default_rng(0).normal(size=(5, 4)), "auto")
