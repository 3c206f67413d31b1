"""nn.compiled and the compiled paths of fit and predict, against the eager ones."""

from __future__ import annotations

import inspect
import io
import re
from contextlib import redirect_stderr
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_scalar import DataDependenceError, Value
from nn.compiled import CompiledLoss, compiled_predict
from nn.losses import Loss

RTOL = 1e-12


def assert_close(found, expected, rtol=RTOL):
    found, expected = np.asarray(found, dtype=float), np.asarray(expected, dtype=float)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    np.testing.assert_allclose(found, expected, rtol=rtol, atol=rtol * scale)


def problem(loss_name, seed, n=12, nin=3, nout=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, nin))
    if loss_name in ("cross_entropy",):
        y = rng.integers(0, nout, size=n)
    elif loss_name in ("hinge", "bce_with_logits"):
        y = rng.integers(0, 2, size=n)
    else:
        y = rng.normal(size=(n, nout)) if nout > 1 else rng.normal(size=n)
    return X, y


LOSSES = [("mse", 2), ("l1", 2), ("bce_with_logits", 1), ("cross_entropy", 4), ("hinge", 1)]


@given(st.sampled_from(LOSSES), st.sampled_from(["relu", "tanh", "sigmoid"]),
       st.sampled_from(["mean", "sum"]), st.integers(0, 2**32 - 1))
def test_step_equals_eager_loss_and_gradients(case, activation, reduction, seed) -> None:
    name, nout = case
    loss = nn.losses.get(name)
    X, y = problem(name, seed, nout=nout)
    model = nn.MLP(3, [5, nout], activation=activation, seed=seed % 1000)
    encoded = loss.encode(y, nout) if name != "hinge" else loss.encode(y)
    params = model.parameters()
    for p in params:
        p.grad = 0.25
    compiled = CompiledLoss(model, loss).step(X, encoded, reduction=reduction)
    found = [p.grad for p in params]
    for p in params:
        p.grad = 0.25
    eager = loss.reduce([model(x) for x in X.tolist()], encoded, reduction)
    eager.backward()
    assert compiled == pytest.approx(eager.data, rel=1e-12)
    assert_close(found, [p.grad for p in params])


@pytest.mark.parametrize("nout", [1, 3])
def test_compiled_predict_equals_eager_predict(nout) -> None:
    model = nn.MLP(4, [6, nout], activation="tanh", seed=1)
    X = np.random.default_rng(2).normal(size=(9, 4))
    found = compiled_predict(model, X)
    expected = nn.predict(model, X)
    assert found.shape == expected.shape == ((9,) if nout == 1 else (9, nout))
    assert_close(found, expected)
    assert_close(nn.predict(model, X, compiled=True), expected)


def test_predict_sees_updated_parameters_and_retraces_on_request() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    compiled_predict(model, X)
    for p in model.parameters():
        p.data *= 0.5
    assert_close(compiled_predict(model, X), nn.predict(model, X))
    model.layers[0].neurons[0].b = Value(3.0)
    assert_close(compiled_predict(model, X, retrace=True), nn.predict(model, X))


def test_fit_compiled_follows_fit_eager() -> None:
    X, y = nn.data.moons(40, noise=0.1, seed=3)
    histories = []
    for compiled in (False, True):
        model = nn.MLP(2, [8, 1], seed=4)
        optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        histories.append(nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=4,
                                batch_size=16, seed=5, compiled=compiled, progress=False))
        histories[-1].final = [p.data for p in model.parameters()]
    eager, compiled_history = histories
    np.testing.assert_allclose(compiled_history.loss, eager.loss, rtol=1e-9)
    np.testing.assert_allclose(compiled_history.final, eager.final, rtol=1e-9, atol=1e-12)


class Branchy(nn.Module):
    """A model that branches in Python on .data: the trace would keep the traced branch."""

    def __init__(self) -> None:
        self.w = Value(2.0)

    def named_parameters(self, prefix: str = ""):
        return [("w", self.w)]

    def __call__(self, x):
        return x[0] * self.w if x[0].data > 0 else x[0] * self.w * self.w


def test_a_branching_model_is_refused_at_the_trace_naming_the_line() -> None:
    loss = nn.losses.get("mse")
    X = np.array([[1.0], [-1.0]])
    T = loss.encode(np.array([0.0, 0.0]))
    for check in (False, True):
        model = Branchy()
        with pytest.raises(DataDependenceError, match=r"test_compiled\.py:\d+ in __call__"):
            CompiledLoss(model, loss, check=check).step(X, T)
        assert model.w.grad == 0.0


def test_bad_arguments_are_errors_and_change_nothing() -> None:
    model = nn.MLP(2, [1], seed=0)
    loss = nn.losses.get("mse")
    compiled = CompiledLoss(model, loss)
    with pytest.raises(ValueError, match="one row per example"):
        compiled.step(np.ones((3, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="reduction"):
        compiled.step(np.ones((3, 2)), np.ones((3, 1)), reduction="max")
    with pytest.raises(ValueError, match="2-D"):
        compiled.step(np.ones((0, 2)), np.ones((0, 1)))
    compiled.step(np.ones((3, 2)), np.ones((3, 1)))
    before = [p.grad for p in model.parameters()]
    assert any(g != 0.0 for g in before)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        compiled.step(np.ones((3, 3)), np.ones((3, 1)))
    with pytest.raises(TypeError, match="real numbers"):
        compiled.step([["a", "b"]], [[1.0]])
    assert [p.grad for p in model.parameters()] == before
    with pytest.raises(TypeError, match="parameters"):
        CompiledLoss(lambda x: x, loss)
    with pytest.raises(TypeError, match="example"):
        CompiledLoss(model, "mse")


class RareBranch(nn.Module):
    """An MLP whose output doubles, by a Python branch on .data, on about 5% of moons."""

    def __init__(self) -> None:
        self.mlp = nn.MLP(2, [8, 1], seed=0)

    def __call__(self, x):
        x = [v if isinstance(v, Value) else Value(v) for v in x]  # eager fit passes floats
        out = self.mlp(x)
        if x[0].data > 1.9:  # the read
            return out * 2
        return out


def test_a_model_branching_on_few_rows_is_caught_at_the_trace_not_after() -> None:
    X, y = nn.data.moons(100, noise=0.1, seed=0)
    rare = X[:, 0] > 1.9
    assert 0 < rare.mean() <= 0.05 and not rare[:4].any()  # the 4 checked rows agree
    source = inspect.getsource(RareBranch.__call__).splitlines()
    first = inspect.getsourcelines(RareBranch.__call__)[1]
    line = first + next(i for i, text in enumerate(source) if text.endswith("# the read"))
    place = re.escape(f"test_compiled.py:{line} in __call__ (if x[0].data > 1.9:")

    results = []
    for compiled in ("auto", False):
        model = RareBranch()
        err = io.StringIO()
        with redirect_stderr(err):
            history = nn.fit(model, X, y, loss="hinge", epochs=3, batch_size=20, seed=1,
                             optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
                             progress=False, compiled=compiled)
        results.append((history.loss, [p.data for p in model.parameters()], err.getvalue()))
    (auto_loss, auto_params, message), (eager_loss, eager_params, quiet) = results
    assert auto_loss == eager_loss and auto_params == eager_params and quiet == ""
    assert message.count("\n") == 1
    assert re.match(r"fit: training eagerly, the model could not be compiled: compile: the "
                    r"function reads the number of a traced Value at .*" + place, message)

    model = RareBranch()
    before = [p.data for p in model.parameters()]
    with pytest.raises(DataDependenceError, match=place):
        nn.fit(model, X, y, loss="hinge", epochs=1, progress=False, compiled=True,
               optimizer=nn.optim.SGD(model.parameters(), lr=0.1))
    assert [p.data for p in model.parameters()] == before
    with pytest.raises(DataDependenceError, match=place):
        nn.predict(model, X, compiled=True)


class ClassWeightedHinge(Loss):
    """A custom loss reading its target as a number: eagerly a float, traced a Value."""

    name = "class_weighted_hinge"
    classification = False

    def encode_array(self, targets: np.ndarray, width: int) -> np.ndarray:
        return targets.reshape(-1, 1).astype(float)

    def example(self, output: Any, encoded_row: Any) -> Any:
        target = encoded_row[0]
        weight = (1.0, 3.0)[int(target)]  # the read
        return (1.0 - (2.0 * target - 1.0) * output).relu() * weight


def test_a_loss_that_asks_a_target_for_an_int_trains_eagerly_under_auto() -> None:
    """int(target) stopped compiled="auto" (the default) with a TypeError, where it is
    documented to fall back to eager training; compiled=True now names the place."""
    X, y = nn.data.moons(40, noise=0.1, seed=0)
    results = []
    for compiled in ("auto", False):
        model = nn.MLP(2, [4, 1], seed=0)
        err = io.StringIO()
        with redirect_stderr(err):
            history = nn.fit(model, X, y, loss=ClassWeightedHinge(), epochs=2, seed=0,
                             optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
                             progress=False, compiled=compiled)
        results.append((history.loss, [p.data for p in model.parameters()], err.getvalue()))
    assert results[0][:2] == results[1][:2]
    assert "fit: training eagerly" in results[0][2] and "int(target)" in results[0][2]
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(DataDependenceError, match=r"int\(target\)"):
        nn.fit(model, X, y, loss=ClassWeightedHinge(), epochs=1, progress=False,
               compiled=True, optimizer=nn.optim.SGD(model.parameters(), lr=0.1))
