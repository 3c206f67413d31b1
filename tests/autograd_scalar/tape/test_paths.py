"""The tape's shortcuts against the eager graph: invariant groups and dense layers.

A group of nodes made from shared leaves only runs once per batch; a ``dot`` or
``affine`` group whose weights (and biases) are shared leaves and whose inputs are
the same rows for every node runs as one matrix product. Each case below builds
graphs that take (or just miss) these paths and compares outputs, shared-leaf
gradients and input gradients with one eager graph per example.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, compile
from tests.autograd_scalar.tape.test_tape import assert_close


def check_against_eager(fn, params, X, strategy: str = "auto") -> None:
    """Outputs, and the gradients of the outputs' sum, on the tape and eagerly, row by row
    (the tape running under ``strategy``)."""
    tape = compile(fn, X[0])
    tape.strategy = strategy
    found = tape.gradients(X)
    outputs, inputs = [], []
    totals = dict.fromkeys(params, 0.0)
    for row in X:
        xs = [Value(v) for v in row]
        outs = fn(xs)
        outputs.append([o.data for o in outs])
        grads = ag.gradients(ag.sum(outs))
        inputs.append([grads.get(x, 0.0) for x in xs])
        for p in params:
            totals[p] += grads.get(p, 0.0)
    assert_close(found.outputs, outputs)
    assert_close([found.shared.get(p, 0.0) for p in params], [totals[p] for p in params])
    assert_close(found.inputs[0], inputs)


@given(st.integers(1, 5), st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_invariant_nodes_read_in_full_and_as_outputs(n, seed) -> None:
    rng = np.random.default_rng(seed)
    p, q = Value(rng.normal(), "p"), Value(rng.normal(), "q")
    params = [p, q]

    def fn(x):
        pq = p * q
        l2 = ag.sum([p * p, q * q, pq])
        mixed = [pq + x[0], x[1] * x[0] + x[0]]   # one position: invariant and per-example
        return [pq, l2, (l2 * x[1]).tanh(), *mixed, mixed[0] * pq]

    check_against_eager(fn, params, rng.uniform(-1, 1, size=(n, 2)))


@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_dense_dot_groups(nin, nout, n, seed) -> None:
    rng = np.random.default_rng(seed)
    W = [[Value(w) for w in row] for row in rng.normal(size=(nout, nin))]
    W[-1][0] = W[0][0]                            # a weight shared by two nodes
    params = list(dict.fromkeys(w for row in W for w in row))

    def fn(x):
        hidden = [ag.dot(row, x).tanh() for row in W]
        inputs = [*hidden, x[0]]                  # interior nodes and a placeholder
        v = [Value(0.5 + i) for i in range(len(inputs))]
        second = [ag.dot(row[:1] * len(inputs), inputs) for row in W]
        repeated = ag.dot(W[0][:1] * 2, [hidden[0], hidden[0]])
        swapped = ag.dot([x[0].tanh()], W[0][:1])  # weights in the second half
        return [*second, repeated, swapped, ag.dot(v, inputs)]

    check_against_eager(fn, params, rng.uniform(-1, 1, size=(n, nin)))


@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_dense_affine_groups(nin, nout, n, seed) -> None:
    rng = np.random.default_rng(seed)
    W = [[Value(w) for w in row] for row in rng.normal(size=(nout, nin))]
    b = [Value(v) for v in rng.normal(size=nout)]
    b[-1] = b[0]                                  # a bias shared by two nodes
    params = list(dict.fromkeys([w for row in W for w in row] + b))

    def fn(x):
        hidden = [ag.affine(row, x, bias).tanh() for row, bias in zip(W, b)]   # dense
        weights = [W[0][0]] * len(hidden)
        per_example_bias = [ag.affine(weights, hidden, x[0])]
        interior_bias = [ag.affine(weights, hidden, per_example_bias[0])]
        swapped = ag.affine([x[0].tanh()], W[0][:1], b[0])   # weights in the second half
        return [*hidden, *per_example_bias, *interior_bias, swapped]

    check_against_eager(fn, params, rng.uniform(-1, 1, size=(n, nin)))


def test_dense_affine_layers_add_their_biases() -> None:
    W = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)], [Value(1.5), Value(-0.5)]]
    b = [Value(0.1), Value(-2.0), Value(3.0)]
    tape = compile(lambda x: [ag.affine(row, x, bias) for row, bias in zip(W, b)], [1.0, 2.0])
    (group,) = tape.groups
    assert group.row.name == "affine" and group.matrix is not None
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    expected = X @ np.array([[w.data for w in row] for row in W]).T + [v.data for v in b]
    np.testing.assert_allclose(tape.forward(X), expected, rtol=1e-15)
    found = tape.gradients(X)
    assert [found.shared[v] for v in b] == [2.0, 2.0, 2.0]


def test_dense_layers_run_as_matrix_products() -> None:
    W = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)], [Value(1.5), Value(-0.5)]]
    tape = compile(lambda x: [ag.dot(row, x) for row in W], [1.0, 2.0])
    (group,) = tape.groups
    assert group.matrix is not None
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    expected = X @ np.array([[w.data for w in row] for row in W]).T
    np.testing.assert_allclose(tape.forward(X), expected, rtol=1e-15)


def test_an_output_that_is_a_parameter_gets_its_seed_summed_over_the_batch() -> None:
    w, b = Value(0.5, "w"), Value(0.25, "b")
    tape = compile(lambda x: [ag.affine([w], x, b), b], [1.0])
    X = np.array([[1.0], [2.0], [4.0]])
    found = tape.gradients(X)
    assert found.shared[b] == 3.0 + 3.0 and found.shared[w] == 7.0


def test_a_traced_sum_that_cancels_to_rounding_is_still_compiled() -> None:
    # b + w0 + w1 = 0.1 + 0.2 - 0.3: the float sum and the matrix product round apart
    ws, b = [Value(0.2), Value(-0.3)], Value(0.1)
    tape = compile(lambda x: ag.affine(ws, x, b), [1.0, 1.0])
    assert abs(tape.forward(np.array([[1.0, 1.0]]))[0]) < 1e-16
    tape.check(np.array([[1.0, 1.0], [2.0, -1.0]]))
