"""fit(dtype="float32"): compiled training in float32, checked against float64.

float64 stays the default and the reference. Trained in float32 from the same
weights on the same batches, a model ends within ``TOLERANCE`` of its float64
twin, relative to the largest parameter, with every optimizer; the Values hold
Python floats afterwards, and the tape is kept across calls like a float64 one
(traced again only when the dtype changes). A dtype other than float32 or float64,
or float32 with eager training, is refused before anything changes.
"""

from __future__ import annotations

import numpy as np
import pytest

import nn
import nn.compiled
from nn import optim

TOLERANCE = 1e-4
"""float32 against float64 after a few epochs, relative to the largest |parameter|:
the tape's float32 tolerance (autograd_scalar.tape.CHECK_RTOL), which the runs here
meet with room (at most 6e-7 here)."""

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSProp(p, lr=0.01),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05),
}


def problem(n=96, nin=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, nin)), rng.integers(0, classes, n)


def train(dtype, name, loss="cross_entropy", seed=0, epochs=3):
    X, y = problem(seed=seed)
    if loss == "mse":
        y = np.sin(X[:, 0])
    model = nn.MLP(X.shape[1], [16, 16, 3 if loss == "cross_entropy" else 1], seed=seed)
    opt = OPTIMIZERS[name](model.parameters())
    history = nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=epochs, batch_size=16,
                     seed=seed, progress=False, compiled=True, dtype=dtype)
    return np.array([p.data for p in model.parameters()]), history, model


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_float32_training_ends_near_float64_training(name, loss) -> None:
    wide, wide_history, _ = train("float64", name, loss)
    narrow, narrow_history, model = train("float32", name, loss)
    scale = np.max(np.abs(wide))
    np.testing.assert_allclose(narrow, wide, rtol=0, atol=TOLERANCE * scale)
    np.testing.assert_allclose(narrow_history.loss, wide_history.loss, rtol=TOLERANCE)
    assert {type(p.data) for p in model.parameters()} == {float}


def test_parameters_left_out_of_the_optimizer_come_back_unrounded() -> None:
    """They were written back from the float32 arrays, rounded to float32; their
    gradients are written back as the trained parameters' are."""
    X, y = problem()
    model = nn.MLP(X.shape[1], [8, 3], seed=0)
    params = model.parameters()
    frozen = params[len(params) // 2:]
    before = [p.data for p in frozen]
    optimizer = optim.SGD(params[:len(params) // 2], lr=0.1)
    nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=1, batch_size=16,
           seed=0, progress=False, compiled=True, dtype="float32")
    assert [p.data for p in frozen] == before
    assert any(p.grad != 0.0 for p in frozen)


def test_the_dtype_is_part_of_what_the_kept_tape_stands_for(monkeypatch) -> None:
    count = [0]
    original = nn.compiled.compile

    def counted(*args, **kwargs):
        count[0] += kwargs.get("dtype") is not None and bool(kwargs.get("parameters"))
        return original(*args, **kwargs)

    monkeypatch.setattr(nn.compiled, "compile", counted)
    X, y = problem()
    model = nn.MLP(6, [8, 3], seed=1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for dtype in ("float32", "float32", "float64", "float64", "float32"):
        nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=32,
               progress=False, dtype=dtype)
    assert count[0] == 3


@pytest.mark.parametrize("dtype", ["float16", "int64", None, "f2"])
def test_another_dtype_is_refused_before_anything_changes(dtype) -> None:
    X, y = problem()
    model = nn.MLP(6, [8, 3], seed=1)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32', got"):
        nn.fit(model, X, y, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), 0.1),
               epochs=1, progress=False, dtype=dtype)
    assert [p.data for p in model.parameters()] == before


def test_float32_needs_compiled_training() -> None:
    X, y = problem()
    model = nn.MLP(6, [8, 3], seed=1)
    with pytest.raises(ValueError, match="dtype='float32' needs compiled training"):
        nn.fit(model, X, y, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), 0.1),
               epochs=1, progress=False, compiled=False, dtype="float32")


def test_compiled_training_refuses_another_dtype() -> None:
    model = nn.MLP(6, [8, 3], seed=1)
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32', got 'int8'"):
        nn.compiled.CompiledTraining(model, nn.losses.get("cross_entropy"),
                                     optim.SGD(model.parameters(), 0.1), dtype="int8")


@pytest.mark.parametrize("compiled", [True, "auto"])
def test_numbers_beyond_float32_are_refused_before_training(compiled) -> None:
    """X or y past float32's 3.4e38 became inf when rounded (a NumPy warning), and the
    first step failed with "lower the learning rate"; so did a parameter that large under
    compiled=True ("auto" trains such a model eagerly, in float64). X_val, validated in
    float64, is taken as it is."""
    X, y = problem()
    model = nn.MLP(6, [8, 3], seed=1)
    before = [p.data for p in model.parameters()]
    wide = X.copy()
    wide[5, 2] = -1e39
    with pytest.raises(ValueError, match=r"^X row 5 holds .*-1e\+39.*beyond float32's "
                                         r"range \(about 3\.4e\+38\); train it in float64"):
        nn.fit(model, wide, y, loss="cross_entropy", epochs=1, progress=False,
               optimizer=optim.SGD(model.parameters(), 0.1), compiled=compiled,
               dtype="float32")
    assert [p.data for p in model.parameters()] == before
    history = nn.fit(model, X, y, loss="cross_entropy", val=(wide, y), epochs=1,
                     progress=False, optimizer=optim.SGD(model.parameters(), 0.1),
                     compiled=compiled, dtype="float32")
    assert len(history.val_loss) == 1                   # X_val is validated in float64
    with pytest.raises(ValueError, match=r"^y row 3 holds \[1e\+39\], beyond float32's"):
        targets = np.arange(len(X), dtype=float)
        targets[3] = 1e39
        single = nn.MLP(6, [8, 1], seed=1)
        nn.fit(single, X, targets, loss="mse", epochs=1, progress=False,
               optimizer=optim.SGD(single.parameters(), 0.1), compiled=compiled,
               dtype="float32")
    model.layers[0].neurons[1].b.data = 2e39
    if compiled is True:
        with pytest.raises(ValueError, match=r"^layers\.0\.neurons\.1\.b is 2e\+39, beyond "
                                             r"float32's range"):
            nn.fit(model, X, y, loss="cross_entropy", epochs=1, progress=False,
                   optimizer=optim.SGD(model.parameters(), 0.1), compiled=True,
                   dtype="float32")
