"""A float32 tape: the same program in float32 arrays, checked against float64.

float64 stays the default and the reference (the tests elsewhere compare it with
the eager graph to 1e-12). A float32 tape must agree with it, and with the eager
graph, to ``CHECK_RTOL["float32"]`` (1e-4) of the run's largest magnitude, which
``Tape.check`` uses for it; keep its arrays in float32 (half the bytes per example);
and write Python floats back to the Values, whichever strategy runs it (grouped
steps, straight-line code, mixed plans; the careful paths for a zero derivative
against an infinite gradient too). A dtype other than float32 or float64 is
refused, naming what is expected.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_scalar as ag
import nn
from autograd_scalar import TraceMismatchError, Value, compile
from autograd_scalar.tape import CHECK_RTOL

RTOL = CHECK_RTOL["float32"]


def mlp_tape(dtype, sizes=(20, 16, 16, 3), seed=0, activation="tanh"):
    model = nn.MLP(sizes[0], list(sizes[1:]), activation=activation, seed=seed)
    ce = nn.losses.get("cross_entropy")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(32, sizes[0]))
    T = ce.encode(rng.integers(0, sizes[-1], 32), width=sizes[-1])
    tape = ag.compile(lambda x, t: ce.example(model(x), t), X[0], T[0],
                      parameters=model.parameters(), dtype=dtype)
    return model, tape, X, T


def close(found, expected):
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(found, expected, rtol=RTOL, atol=RTOL * scale)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_a_float32_tape_agrees_with_float64(activation) -> None:
    _, wide, X, T = mlp_tape("float64", activation=activation)
    _, narrow, _, _ = mlp_tape("float32", activation=activation)
    found, expected = narrow.gradients(X, T), wide.gradients(X, T)
    assert found.outputs.dtype == np.float32
    close(found.outputs, expected.outputs)
    close(np.array(list(found.shared.values())), np.array(list(expected.shared.values())))
    for a, b in zip(found.inputs, expected.inputs):
        close(a, b)
    narrow.check(X[:6], T[:6])  # against the eager graph, at the float32 tolerance


def test_a_float32_tape_keeps_float32_arrays_and_writes_floats() -> None:
    model, tape, X, T = mlp_tape("float32")
    wide = mlp_tape("float64")[1]
    assert tape.dtype == np.float32 and "float32" in repr(tape) and "float" not in repr(wide)
    assert tape.arrays.data.dtype == tape.arrays.grad.dtype == np.float32
    assert tape.memory(1000) * 2 == wide.memory(1000)
    loss, outputs = tape.backward_arrays(X, T)
    assert isinstance(loss, float) and outputs.dtype == np.float32
    assert tape.buffer(len(X), 0).dtype == np.float32
    tape.arrays.push()
    assert {type(p.data) for p in model.parameters()} == {float}
    assert {type(p.grad) for p in model.parameters()} == {float}
    p = model.parameters()[0]
    assert p.data == float(np.float32(p.data))  # rounded to float32 when pulled


def test_backward_into_values_from_a_float32_tape() -> None:
    for dtype in ("float64", "float32"):
        w = Value(0.7)
        tape = ag.compile(lambda x, w=w: (x * w).tanh(), 0.3, dtype=dtype)
        loss = tape.backward(np.array([0.3, -1.2, 2.0]))
        expected = np.mean(np.tanh(0.7 * np.array([0.3, -1.2, 2.0])))
        assert loss == pytest.approx(expected, rel=1e-6)
        assert type(w.grad) is float and w.grad != 0.0


@pytest.mark.parametrize("dtype", ["float16", "int32", None, 3, True, "double precision",
                                   np.complex64])
def test_another_dtype_is_refused_naming_what_is_expected(dtype) -> None:
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'"):
        ag.compile(lambda x: x * 2.0, 1.0, dtype=dtype)
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'"):
        ag.tape_dtype(dtype)


def test_numpy_spellings_of_the_two_dtypes_are_accepted() -> None:
    for spelling in ("float32", np.float32, np.dtype("float32"), "f4"):
        assert ag.tape_dtype(spelling) == np.float32
    for spelling in ("float64", np.float64, float, "f8"):
        assert ag.tape_dtype(spelling) == np.float64


# -- float32 through every strategy: grouped steps, straight-line code, mixed plans ----

@pytest.mark.parametrize("strategy", ["auto", "grouped", "scalar", "vector"])
def test_a_float32_tape_runs_every_strategy_in_float32(strategy) -> None:
    """Straight-line code reads and writes the tape's float32 arrays (scalar code computes
    each example in Python floats between them) and agrees with float64 grouped."""
    _, wide, X, T = mlp_tape("float64", sizes=(5, 6, 6, 3))
    wide.strategy = "grouped"
    _, narrow, _, _ = mlp_tape("float32", sizes=(5, 6, 6, 3))
    narrow.strategy = strategy
    found, expected = narrow.gradients(X, T), wide.gradients(X, T)
    assert found.outputs.dtype == np.float32 and found.inputs[0].dtype == np.float32
    assert narrow.buffer(len(X), 0).dtype == np.float32
    assert narrow.arrays.grad.dtype == np.float32
    close(found.outputs, expected.outputs)
    close(np.array(list(found.shared.values())), np.array(list(expected.shared.values())))
    loss, outputs = narrow.backward_arrays(X, T)
    assert outputs.dtype == np.float32
    assert loss == pytest.approx(float(np.mean(expected.outputs)), rel=RTOL)
    narrow.check(X[:4], T[:4])
    assert narrow.fallbacks == 0


@pytest.mark.parametrize("strategy", ["grouped", "scalar", "vector"])
def test_a_float32_zero_local_derivative_passes_back_zero(strategy) -> None:
    """The careful NaN paths (relu's zero derivative against sqrt's infinite one) in
    float32 as in float64: 0, not NaN."""
    for f in (lambda x: x.relu().sqrt(), lambda x: x.leaky_relu(0.0).sqrt()):
        results = []
        for dtype in ("float64", "float32"):
            tape = ag.compile(f, 1.0, dtype=dtype)
            tape.strategy = strategy
            results.append(tape.gradients(np.array([-1.0, -0.0, 0.0, 2.0])).inputs[0])
        assert results[1].dtype == np.float32
        assert results[1][:3].tolist() == [0.0, 0.0, 0.0]
        close(results[1], results[0])


@pytest.mark.parametrize("strategy", ["auto", "grouped", "scalar", "vector"])
def test_a_float32_dense_layer_into_sqrt_passes_back_no_nan(strategy) -> None:
    """A relu layer whose zero outputs feed sqrt: an infinite upstream gradient against
    relu's zero derivative, through the dense step's careful path or the code's."""
    layer = nn.Layer(3, 4, activation="relu", seed=0)  # fixed: a random one may put a
    # relu output so near 0 that sqrt's slope there tells float32 from float64

    def total(x):
        return ag.sum([o.sqrt() for o in layer(x)])

    X = np.random.default_rng(0).normal(size=(8, 3))
    found = {}
    for dtype in ("float64", "float32"):
        tape = ag.compile(total, X[0], parameters=layer.parameters(), dtype=dtype)
        tape.strategy = strategy
        found[dtype] = tape.gradients(X)
    wide, narrow = found["float64"], found["float32"]
    shared = np.array(list(narrow.shared.values()))
    assert not np.isnan(shared).any() and not np.isnan(narrow.inputs[0]).any()
    close(shared, np.array(list(wide.shared.values())))
    close(narrow.inputs[0], wide.inputs[0])


def test_float32_gives_one_answer_at_every_batch_size_and_check_says_why() -> None:
    """Scalar code (what auto chose at small batches) computes in Python's float64, so
    exp(100) / exp(99) was e at a batch of 4 and NaN at 1,000, and a check on 4 rows
    passed. In float32, auto no longer picks scalar code, and the check names the range."""
    f = lambda x: x[0].exp() / (x[0] - 1.0).exp()  # noqa: E731
    tape = compile(f, [1.0], dtype="float32")
    small, large = tape.forward(np.full((4, 1), 100.0)), tape.forward(np.full((1000, 1), 100.0))
    assert np.isnan(small).all() and np.isnan(large).all()
    np.testing.assert_allclose(tape.forward(np.full((4, 1), 2.0)), np.e, rtol=1e-6)
    with pytest.raises(TraceMismatchError, match=r"beyond float32's range \(about 3\.4e\+38\) "
                                                  r"where float64 holds it"):
        tape.check(np.full((4, 1), 100.0))
