"""Losses against closed forms (NumPy), finite differences and micrograd's hinge."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd_scalar import Value
from nn import losses

finite = st.floats(-5, 5, allow_nan=False)


def values(rows: np.ndarray) -> list[list[Value]]:
    return [[Value(float(z)) for z in row] for row in np.atleast_2d(rows)]


def central_differences(f, zs: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grads = np.zeros_like(zs)
    for index in np.ndindex(zs.shape):
        up, down = zs.copy(), zs.copy()
        up[index] += h
        down[index] -= h
        grads[index] = (f(up) - f(down)) / (2 * h)
    return grads


def loss_value(loss, zs: np.ndarray, targets, reduction="mean") -> float:
    return loss(values(zs), targets, reduction=reduction).data


def loss_grad(loss, zs: np.ndarray, targets, reduction="mean") -> np.ndarray:
    nodes = values(zs)
    loss(nodes, targets, reduction=reduction).backward()
    return np.array([[z.grad for z in row] for row in nodes])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- values against closed forms ------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(finite, finite, finite, finite), min_size=1, max_size=6),
       st.sampled_from(["mean", "sum"]))
def test_mse_and_l1_match_their_closed_forms(rows, reduction):
    data = np.array(rows)
    zs, ts = data[:, :2], data[:, 2:]
    reduce = np.mean if reduction == "mean" else np.sum
    assert math.isclose(loss_value(losses.mse, zs, ts, reduction),
                        reduce(np.mean((zs - ts) ** 2, axis=1)), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(loss_value(losses.l1, zs, ts, reduction),
                        reduce(np.mean(np.abs(zs - ts), axis=1)), rel_tol=1e-9, abs_tol=1e-12)


def test_mse_mean_is_the_mean_over_every_entry():
    zs = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    ts = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    assert math.isclose(loss_value(losses.mse, zs, ts), ((zs - ts) ** 2).mean())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(finite, st.floats(0, 1)), min_size=1, max_size=6))
def test_bce_with_logits_is_binary_cross_entropy_of_the_sigmoid(rows):
    zs, ts = np.array(rows).T
    s = sigmoid(zs)
    expected = np.mean(-(ts * np.log(s) + (1 - ts) * np.log(1 - s)))
    assert math.isclose(loss_value(losses.bce_with_logits, zs[:, None], ts), expected,
                        rel_tol=1e-9, abs_tol=1e-9)


def test_bce_with_logits_stays_finite_and_exact_at_huge_logits():
    zs = np.array([[800.0], [-800.0], [800.0], [-800.0]])
    ts = np.array([0.0, 1.0, 1.0, 0.0])
    per_example = [losses.bce_with_logits.example(Value(z[0]), [t]).data for z, t in zip(zs, ts)]
    assert per_example == pytest.approx([800.0, 800.0, 0.0, 0.0], abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(finite, finite, finite, st.integers(0, 2)), min_size=1, max_size=6))
def test_cross_entropy_is_minus_log_softmax_of_the_target(rows):
    data = np.array(rows)
    zs, classes = data[:, :3], data[:, 3].astype(int)
    softmax = np.exp(zs) / np.exp(zs).sum(axis=1, keepdims=True)
    expected = np.mean(-np.log(softmax[np.arange(len(classes)), classes]))
    assert math.isclose(loss_value(losses.cross_entropy, zs, classes), expected,
                        rel_tol=1e-9, abs_tol=1e-9)


def test_cross_entropy_from_huge_logits_does_not_overflow():
    value = loss_value(losses.cross_entropy, np.array([[1000.0, 0.0, -1000.0]]), [1])
    assert math.isclose(value, 1000.0, rel_tol=1e-12)


def test_hinge_matches_micrograds_max_margin_loss():
    from micrograd.engine import Value as MicroValue

    scores = [0.3, -2.0, 1.5, 0.9, -0.1]
    labels = [1, 0, 0, 1, 0]
    signs = [1 if y == 1 else -1 for y in labels]
    micro = [(1 + -yi * MicroValue(s)).relu() for yi, s in zip(signs, scores)]
    expected = sum(m.data for m in micro) / len(micro)
    ours = losses.hinge([Value(s) for s in scores], labels)
    assert math.isclose(ours.data, expected, rel_tol=1e-12)
    assert math.isclose(losses.hinge([Value(s) for s in scores], signs).data, expected)


@pytest.mark.parametrize("loss, zs, targets", [
    (losses.mse, [[0.5, -1.0], [2.0, 0.1]], [[1.0, 0.0], [0.0, 3.0]]),
    (losses.l1, [[0.5, -1.0], [2.0, 0.1]], [[1.0, 0.0], [0.0, 3.0]]),
    (losses.bce_with_logits, [[0.5], [-2.0], [3.0]], [1, 0, 0]),
    (losses.cross_entropy, [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]], [2, 0]),
    (losses.hinge, [[0.5], [-2.0], [0.2]], [1, 0, 0]),
])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradients_match_central_differences(loss, zs, targets, reduction):
    zs = np.array(zs)
    numeric = central_differences(lambda z: loss_value(loss, z, targets, reduction), zs)
    assert np.allclose(loss_grad(loss, zs, targets, reduction), numeric, atol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    zs = np.array([[0.2, -1.0, 3.0], [1.0, 1.0, 1.0]])
    softmax = np.exp(zs) / np.exp(zs).sum(axis=1, keepdims=True)
    expected = (softmax - np.eye(3)[[0, 2]]) / 2
    assert np.allclose(loss_grad(losses.cross_entropy, zs, [0, 2]), expected, atol=1e-12)


def test_bce_gradient_is_sigmoid_minus_target():
    zs = np.array([[0.7], [-1.2]])
    expected = (sigmoid(zs[:, 0]) - np.array([1.0, 0.0])) / 2
    assert np.allclose(loss_grad(losses.bce_with_logits, zs, [1, 0])[:, 0], expected)


# -- encoding and the placeholder path used by the compiled tape ---------------------

def test_encode_gives_one_hot_and_plus_minus_one_rows():
    assert np.array_equal(losses.cross_entropy.encode([2, 0], width=4),
                          [[0, 0, 1, 0], [1, 0, 0, 0]])
    assert np.array_equal(losses.hinge.encode([0, 1, 1]), [[-1], [1], [1]])
    assert np.array_equal(losses.hinge.encode([-1, 1]), [[-1], [1]])
    assert losses.mse.encode([1.5, 2.5]).shape == (2, 1)
    assert losses.mse.encode([[1.5, 2.5]]).dtype == np.float64


@pytest.mark.parametrize("loss, output, row", [
    (losses.mse, [0.5, -1.0], [1.0, 2.0]),
    (losses.l1, [0.5, -1.0], [1.0, 2.0]),
    (losses.bce_with_logits, [0.5], [1.0]),
    (losses.cross_entropy, [0.5, -1.0, 2.0], [0.0, 1.0, 0.0]),
    (losses.hinge, [0.5], [-1.0]),
])
def test_example_accepts_placeholder_values_for_the_target_row(loss, output, row):
    plain = loss.example([Value(z) for z in output], row).data
    placeholders = [Value(t) for t in row]
    traced = loss.example([Value(z) for z in output], placeholders)
    assert traced.data == pytest.approx(plain, abs=1e-15)
    traced.backward()
    numeric = central_differences(
        lambda t: loss.example([Value(z) for z in output], list(t)).data, np.array(row))
    assert np.allclose([p.grad for p in placeholders], numeric, atol=1e-6)


def test_a_single_value_output_is_one_column():
    assert losses.hinge([Value(0.5), Value(-0.5)], [1, 1]).data == pytest.approx(1.0)


def test_get_finds_each_loss_by_name_and_passes_losses_through():
    for name in ["mse", "l1", "bce_with_logits", "cross_entropy", "hinge"]:
        assert losses.get(name).name == name
    assert losses.get(losses.hinge) is losses.hinge


# -- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: losses.mse([Value(1.0)], [1.0], reduction="avg"),
     "mse: reduction must be one of 'mean', 'sum', got 'avg'"),
    (lambda: losses.mse([Value(1.0), Value(2.0)], [1.0]), "2 outputs but 1 targets"),
    (lambda: losses.mse([[Value(1.0), Value(2.0)]], [1.0]), "1 column"),
    (lambda: losses.mse([Value(1.0)], [math.nan]), "finite"),
    (lambda: losses.mse([Value(1.0)], np.zeros((1, 1, 1))), "1-D (n,) or 2-D"),
    (lambda: losses.mse([Value(1.0)], []), "non-empty"),
    (lambda: losses.mse([], []), "no outputs"),
    (lambda: losses.cross_entropy([[Value(0.0)] * 3], [3]), "class 3 is out of range"),
    (lambda: losses.cross_entropy([[Value(0.0)] * 3], [1.5]), "class indices"),
    (lambda: losses.cross_entropy([[Value(0.0)] * 3], [-1]), "class indices"),
    (lambda: losses.cross_entropy([Value(0.0)], [0]), "at least 2 classes"),
    (lambda: losses.cross_entropy([[Value(0.0)] * 2], [[0, 1]]), "1-D class indices"),
    (lambda: losses.bce_with_logits([Value(0.0)], [2.0]), "in [0, 1]"),
    (lambda: losses.hinge([Value(0.0)] * 2, [0, 2]), "0/1 or -1/+1"),
    (lambda: losses.hinge.encode([[1, 1]]), "one output per example"),
    (lambda: losses.hinge([[Value(0.0)] * 2], [1, 0]),
     "hinge: needs a model with 1 output (a binary score), but this model has 2 outputs"),
    (lambda: losses.hinge([[Value(0.0)] * 2], [[1, 0]]),
     "hinge: needs a model with 1 output (a binary score), but this model has 2 outputs"),
    (lambda: losses.bce_with_logits([[Value(0.0)] * 2], [1]),
     "the targets have 1 column(s) but the model has 2 output(s)"),
    (lambda: losses.get("cross-entropy"), "unknown loss 'cross-entropy'"),
    (lambda: losses.mse.encode([1.0], width=0), "width must be a positive int"),
])
def test_bad_inputs_are_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_non_numeric_targets_and_outputs_are_type_errors():
    with pytest.raises(TypeError, match="targets must be real numbers"):
        losses.mse([Value(1.0)], ["a"])
    with pytest.raises(TypeError, match="one model output per example"):
        losses.mse(Value(1.0), [1.0])
    with pytest.raises(TypeError, match="a Value or a non-empty list"):
        losses.mse(["x"], [1.0])


def test_a_failed_loss_leaves_gradients_alone():
    z = Value(2.0)
    z.grad = 0.25
    with pytest.raises(ValueError):
        losses.cross_entropy([[z, Value(0.0)]], [5])
    assert z.grad == 0.25


def test_cross_entropy_one_hot_is_linear_in_the_class_count():
    """Two labels up to 5,000 encode to 2 x 5,000 floats (80 kB), not a 5,000 x 5,000
    identity (200 MB) indexed by the labels."""
    import tracemalloc

    tracemalloc.start()
    try:
        encoded = losses.cross_entropy.encode([0, 4_999])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert encoded.shape == (2, 5_000) and encoded[1, 4_999] == 1.0 and encoded.sum() == 2.0
    assert peak < 2_000_000


@pytest.mark.parametrize("width", [None, 3])
@pytest.mark.parametrize("label", [1e20, 3, 2.0 ** 63])
def test_cross_entropy_labels_out_of_range_are_value_errors(label, width):
    if width is None and label == 3:
        return  # 4 classes inferred: in range
    with pytest.raises(ValueError, match="cross_entropy: target class"):
        losses.cross_entropy.encode([0, label], width=width)


def test_complex_or_text_targets_are_refused_not_truncated():
    with pytest.raises(TypeError, match="complex"):
        losses.mse([Value(1.0)], np.array([1 + 2j]))
    with pytest.raises(TypeError, match="real numbers"):
        losses.mse([Value(1.0)], np.array(["1.5"]))
    with pytest.raises(TypeError, match="real numbers, got str"):
        losses.mse([Value(1.0), Value(2.0)], np.array([1.0, "2"], dtype=object))


@pytest.mark.parametrize("target, shown", [(2 ** 62 + 1, "4.61169e+18"), (1e308, "1e+308"),
                                           (7, "7")])
def test_a_class_out_of_range_is_shown_as_the_number_it_is(target, shown) -> None:
    """Huge classes were printed with :.0f: 2**62 + 1 as ...904 and 1e308 as 309 digits."""
    with pytest.raises(ValueError, match=rf"target class {re.escape(shown)} is out of range"):
        nn.losses.get("cross_entropy").encode(np.array([target]), width=3)


def test_ragged_targets_name_y() -> None:
    model = nn.MLP(1, [1], seed=0)
    with pytest.raises(ValueError, match="y must be a rectangular array of targets"):
        nn.fit(model, [[1.0]] * 3, [[1.0], [2.0], [1.0, 2.0]], loss="mse",
               optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False)


@pytest.mark.parametrize(("name", "targets", "width", "message"), [
    ("cross_entropy", [0, 1, -1.0, 2], 3,
     "targets must be class indices 0, 1, 2, ..., got -1 (target 2)"),
    ("hinge", [0, 1, 2, 1], 1, "got the values [0.0, 1.0, 2.0] (target 2 is 2)"),
    ("bce_with_logits", [0.0, 1.5, 1.0], 1, "targets must lie in [0, 1], got 1.5 (target 1)"),
    ("mse", [0.0, 1.0, float("nan")], 1, "targets must be finite, got nan (target 2)"),
])
def test_a_bad_target_is_named_by_its_row_and_shown_as_a_number(name, targets, width,
                                                                 message) -> None:
    """They said 'got np.float64(-1.0)' and named no example."""
    with pytest.raises(ValueError, match=re.escape(message)):
        losses.get(name).encode(np.array(targets), width=width)
