"""The 1986 paper's error measure and update rule, against closed forms and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_scalar import Value
from nn import MLP
from nn.data import symmetry
from nn.optim import SGD
from reproductions.paper_training import PaperError, SweepGradient, outputs, uniform_weights
from tests.finite_differences import close, gradient

unit = st.floats(0.001, 0.999)


@given(st.lists(st.tuples(unit, st.sampled_from([0.0, 1.0])), min_size=1, max_size=5))
def test_paper_error_is_half_the_summed_squared_error(pairs):
    ys, ds = zip(*pairs)
    e = PaperError().example([Value(y) for y in ys], list(ds))
    assert e.data == pytest.approx(0.5 * sum((y - d) ** 2 for y, d in pairs))


@given(st.lists(st.tuples(unit, st.sampled_from([0.0, 1.0])), min_size=1, max_size=5))
def test_the_margin_zeroes_the_error_of_outputs_within_0_2_of_their_target(pairs):
    pairs = [(y, d) for y, d in pairs if abs(abs(y - d) - 0.2) > 1e-3]
    if not pairs:
        return
    ys, ds = zip(*pairs)
    inputs = [Value(y) for y in ys]
    e = PaperError(0.2).example(inputs, list(ds))
    expected = sum(0.5 * (y - d) ** 2 for y, d in pairs if abs(y - d) > 0.2)
    assert e.data == pytest.approx(expected)
    e.backward()

    def f(*y):
        return sum(0.5 * (a - d) ** 2 for a, d in zip(y, ds) if abs(a - d) > 0.2)

    for v, numeric in zip(inputs, gradient(f, ys)):
        assert close(v.grad, numeric)


def test_paper_error_rejects_a_margin_outside_its_range():
    with pytest.raises(ValueError, match=r"margin must be in \[0, 0.5\)"):
        PaperError(0.5)


def test_uniform_weights_draws_every_parameter_in_the_bound():
    model = MLP(6, [2, 1], activation="sigmoid")
    uniform_weights(model, 0.3, seed=4)
    values = np.array([p.data for p in model.parameters()])
    assert len(values) == 17 and np.all(np.abs(values) <= 0.3)
    assert len(set(values.tolist())) == 17


def numpy_sweep(W1, b1, w2, b2, X, y):
    """E and dE/dw of the 6-2-1 logistic network, backpropagated by hand."""
    H = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    o = 1 / (1 + np.exp(-(H @ w2 + b2)))
    delta = (o - y) * o * (1 - o)
    delta_h = delta[:, None] * w2 * H * (1 - H)
    return 0.5 * np.sum((o - y) ** 2), o, (delta_h.T @ X, delta_h.sum(0), H.T @ delta, delta.sum())


def weights(model):
    hidden, out = model.layers
    W1 = np.array([[v.data for v in n.w] for n in hidden.neurons])
    b1 = np.array([n.b.data for n in hidden.neurons])
    return W1, b1, np.array([v.data for v in out.neurons[0].w]), out.neurons[0].b.data


def gradients(model):
    hidden, out = model.layers
    return (np.array([[v.grad for v in n.w] for n in hidden.neurons]),
            np.array([n.b.grad for n in hidden.neurons]),
            np.array([v.grad for v in out.neurons[0].w]), out.neurons[0].b.grad)


def test_three_sweeps_follow_the_papers_update_rule():
    """dw(t) = -epsilon dE/dw + alpha dw(t-1), with the gradient summed over all 64 cases."""
    X, y = symmetry()
    model = MLP(6, [2, 1], activation="sigmoid", output_activation="sigmoid")
    uniform_weights(model, 0.3, seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    sweep = SweepGradient(model, PaperError(), X, y.astype(float))
    reference = [np.array(w, dtype=float) for w in weights(model)]
    change = [np.zeros_like(w) for w in reference]
    for _ in range(3):
        error, out = sweep()
        expected_error, expected_out, grads = numpy_sweep(*reference, X, y)
        assert error == pytest.approx(expected_error, rel=1e-12)
        np.testing.assert_allclose(out[:, 0], expected_out, rtol=1e-12)
        for ours, theirs in zip(gradients(model), grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
        optimizer.step()
        change = [-0.1 * g + 0.9 * c for g, c in zip(grads, change)]
        reference = [w + c for w, c in zip(reference, change)]
        for ours, theirs in zip(weights(model), reference):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(outputs(model, X)[:, 0], numpy_sweep(*reference, X, y)[1],
                               rtol=1e-9)
