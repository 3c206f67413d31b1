"""fit keeps its compiled step with the model between calls, and traces again exactly when
what the tape stands for changed.

A cell that runs ``fit(..., epochs=1)`` again and again (or a playground's step) must
not pay the trace and the eager check every time: the tape stays with the model
(``CompiledTraining(..., keep=True)``). It is traced again when the model's key
changes (a parameter replaced, a layer swapped, a file loaded), or the loss, the
input or target width, or the optimizer's parameters; never for anything else (the
learning rate, a new optimizer over the same parameters, the batch size, epochs,
clipping, validation, callbacks that leave the model alone). Whatever happens, the
result equals that of fresh traces, bit for bit, and of eager training to 1e-10.
"""

from __future__ import annotations

import gc
import io
import weakref
from contextlib import redirect_stderr

import numpy as np
import pytest

import autograd_scalar as ag
import nn
import nn.compiled
from autograd_scalar import Value
from nn import Layer, Module, Standardized
from nn.data import Standardizer


@pytest.fixture
def traces(monkeypatch):
    """Counts the training traces (those laying parameters out first) nn.compiled makes."""
    count = [0]
    original = nn.compiled.compile

    def counted(*args, **kwargs):
        if kwargs.get("parameters"):
            count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(nn.compiled, "compile", counted)
    return count


def data(n=40, seed=0):
    return nn.data.moons(n, noise=0.1, seed=seed)


def parameters(model) -> list[float]:
    return [p.data for p in model.parameters()]


def one_epoch(model, X, y, optimizer, compiled="auto", loss="hinge", seed=0, **options):
    return nn.fit(model, X, y, loss=loss, optimizer=optimizer, epochs=options.pop("epochs", 1),
                  batch_size=options.pop("batch_size", 8), seed=seed, progress=False,
                  compiled=compiled, **options)


class Sum(Module):
    """w * (x_0 + ... + x_{d-1}) + b: one function for inputs of any width."""

    def __init__(self) -> None:
        self.w = Value(0.3)
        self.b = Value(-0.1)

    def forward(self, x):
        return ag.sum(x) * self.w + self.b


@pytest.mark.parametrize("compiled", [True, "auto"])
def test_an_unchanged_model_is_traced_once_over_many_calls(traces, compiled) -> None:
    X, y = data()
    model = nn.MLP(2, [8, 1], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    for call in range(3):
        one_epoch(model, X, y, opt, compiled, seed=call)
    opt.lr = 0.05
    one_epoch(model, X, y, opt, compiled, batch_size=5, clip=1.0, epochs=2, val=(X[:10], y[:10]))
    one_epoch(model, X, y, nn.optim.Adam(model.parameters(), lr=0.01), compiled)  # same Values
    model.load_state_dict({name: 0.25 for name in model.state_dict()})  # numbers only
    seen = []

    class Note:
        def on_epoch_end(self, epoch, history):
            seen.append(parameters(model))  # the Values are current for callbacks
            return False

    one_epoch(model, X, y, opt, compiled, callbacks=[Note()])
    assert seen == [parameters(model)]
    assert traces[0] == 1


def test_repeated_calls_equal_fresh_traces_bit_for_bit_and_eager_training() -> None:
    X, y = data()
    models = [nn.MLP(2, [8, 8, 1], seed=3) for _ in range(3)]
    opts = [nn.optim.Adam(m.parameters(), lr=0.02) for m in models]
    histories: list[list[float]] = [[], [], []]
    for call in range(4):
        for i, (model, opt) in enumerate(zip(models, opts)):
            if i == 1:
                nn.compiled._kept_tapes.clear()  # a fresh trace at every call
            history = one_epoch(model, X, y, opt, compiled=False if i == 2 else "auto",
                                seed=call)
            histories[i] += history.loss
    kept, fresh, eager = (parameters(m) for m in models)
    assert kept == fresh and histories[0] == histories[1]
    np.testing.assert_allclose(kept, eager, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(histories[0], histories[2], rtol=1e-10, atol=1e-12)


def test_changes_between_calls_are_seen() -> None:
    X, y = data()
    models = [nn.MLP(2, [8, 1], seed=4) for _ in range(2)]
    opts = [nn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in models]
    for compiled, model, opt in zip(("auto", False), models, opts):
        one_epoch(model, X, y, opt, compiled)
        model.layers[0].neurons[2].w[1].data = 5.0  # a number changed by hand
        one_epoch(model, X, y, opt, compiled, seed=1)
    np.testing.assert_allclose(parameters(models[0]), parameters(models[1]), rtol=1e-10,
                               atol=1e-12)


def replace_a_parameter(model, X, y, opt, path):
    model.layers[1].neurons[0].b = Value(0.5)
    return model, X, y, nn.optim.SGD(model.parameters(), lr=0.1), "hinge"


def replace_a_weight_in_place(model, X, y, opt, path):
    model.layers[0].neurons[3].w[1] = Value(-0.4)
    return model, X, y, nn.optim.SGD(model.parameters(), lr=0.1), "hinge"


def swap_a_layer(model, X, y, opt, path):
    model.layers[0] = Layer(2, 8, seed=9)
    return model, X, y, nn.optim.SGD(model.parameters(), lr=0.1), "hinge"


def load_a_model(model, X, y, opt, path):
    model.save(path)
    model = nn.load(path)
    return model, X, y, nn.optim.SGD(model.parameters(), lr=0.1), "hinge"


def change_the_loss(model, X, y, opt, path):
    return model, X, y, opt, "mse"


def train_fewer_parameters(model, X, y, opt, path):
    return model, X, y, nn.optim.SGD(model.layers[1].parameters(), lr=0.1), "hinge"


def reorder_the_optimizer(model, X, y, opt, path):
    return model, X, y, nn.optim.SGD(model.parameters()[::-1], lr=0.1), "hinge"


@pytest.mark.parametrize("change", [replace_a_parameter, replace_a_weight_in_place,
                                    swap_a_layer, load_a_model, change_the_loss,
                                    train_fewer_parameters, reorder_the_optimizer])
def test_a_change_that_defines_the_function_traces_anew(tmp_path, traces, change) -> None:
    X, y = data()
    found = []
    for compiled in ("auto", False):
        model = nn.MLP(2, [8, 1], seed=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        one_epoch(model, X, y, opt, compiled)
        model, X2, y2, opt, loss = change(model, X, y, opt, tmp_path / "other.json")
        one_epoch(model, X2, y2, opt, compiled, loss=loss, seed=1)
        one_epoch(model, X2, y2, opt, compiled, loss=loss, seed=2)  # unchanged again
        found.append(parameters(model))
    assert traces[0] == 2
    np.testing.assert_allclose(found[0], found[1], rtol=1e-10, atol=1e-12)


def test_a_new_input_width_traces_anew_and_a_new_batch_size_does_not(traces) -> None:
    rng = np.random.default_rng(0)
    model = Sum()
    opt = nn.optim.SGD(model.parameters(), lr=0.01)
    y = rng.normal(size=30)
    for width, batch_size in ((2, 5), (2, 7), (3, 7), (3, 30), (2, 6)):
        one_epoch(model, rng.normal(size=(30, width)), y, opt, loss="mse",
                  batch_size=batch_size)
    assert traces[0] == 3  # widths 2, 3, then 2 again (one tape is kept per model)


def test_loading_numbers_keeps_the_tape_and_loading_a_scaling_does_not(tmp_path,
                                                                        traces) -> None:
    X, y = data()
    mlp = nn.MLP(2, [8, 1], seed=0)
    one_epoch(mlp, X, y, nn.optim.SGD(mlp.parameters(), lr=0.1))
    nn.MLP(2, [8, 1], seed=5).save(tmp_path / "mlp.json")
    mlp.load(tmp_path / "mlp.json")  # new numbers in the same Values
    one_epoch(mlp, X, y, nn.optim.SGD(mlp.parameters(), lr=0.1), seed=1)
    assert traces[0] == 1
    model = Standardized(nn.MLP(2, [8, 1], seed=0), Standardizer.fit(X))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    one_epoch(model, X, y, opt)
    Standardized(nn.MLP(2, [8, 1], seed=5), Standardizer.fit(X * 2.0)).save(
        tmp_path / "other.json")
    model.load(tmp_path / "other.json")  # another scaling: constants of the trace
    one_epoch(model, X, y, opt, seed=2)
    assert traces[0] == 3


def test_a_standardized_models_new_scaling_traces_anew(traces) -> None:
    X, y = data()
    model = Standardized(nn.MLP(2, [8, 1], seed=0), Standardizer.fit(X))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    one_epoch(model, X, y, opt)
    model.scaler = Standardizer(model.scaler.mean + 1.0, model.scaler.std * 2.0)
    eager = Standardized(nn.MLP(2, [8, 1], seed=0), Standardizer.fit(X))
    eager.load_state_dict(model.state_dict())
    eager.scaler = model.scaler
    one_epoch(model, X, y, opt, seed=1)
    one_epoch(eager, X, y, nn.optim.SGD(eager.parameters(), lr=0.1), False, seed=1)
    assert traces[0] == 2
    np.testing.assert_allclose(parameters(model), parameters(eager), rtol=1e-10, atol=1e-12)


def test_the_kept_tape_keeps_no_model_alive() -> None:
    X, y = data()
    model = nn.MLP(2, [8, 1], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    one_epoch(model, X, y, opt)
    assert model in nn.compiled._kept_tapes
    kept = len(nn.compiled._kept_tapes)  # other tests' live models may be kept too
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
    assert len(nn.compiled._kept_tapes) <= kept - 1  # its entry went with it


class Branching(Module):
    """A model that branches in Python on a traced Value's number."""

    def __init__(self) -> None:
        self.net = nn.MLP(2, [4, 1], seed=0)

    def forward(self, x):
        first = x[0] if isinstance(x[0], Value) else Value(x[0])
        out = self.net(x)
        return out * 2.0 if first.data > 0.5 else out


def test_a_model_that_cannot_be_compiled_is_not_traced_again_until_it_changes(traces) -> None:
    X, y = data()
    model = Branching()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    lines = []
    for _ in range(2):
        err = io.StringIO()
        with redirect_stderr(err):
            one_epoch(model, X, y, opt)
        lines.append(err.getvalue())
    assert all("training eagerly" in line and "first.data > 0.5" in line for line in lines)
    assert traces[0] == 1
    model.net = nn.MLP(2, [4, 1], seed=1)  # a changed model is tried again
    with redirect_stderr(io.StringIO()):
        one_epoch(model, X, y, nn.optim.SGD(model.parameters(), lr=0.1))
    assert traces[0] == 2


def test_a_foreign_optimizer_is_still_refused_with_a_kept_tape() -> None:
    X, y = data()
    model = nn.MLP(2, [8, 1], seed=0)
    one_epoch(model, X, y, nn.optim.SGD(model.parameters(), lr=0.1))
    before = parameters(model)
    other = nn.MLP(2, [8, 1], seed=1)
    with pytest.raises(ValueError, match="is not a parameter of this model"):
        one_epoch(model, X, y, nn.optim.SGD(other.parameters(), lr=0.1))
    assert parameters(model) == before


def test_compiled_training_without_keep_keeps_nothing(traces) -> None:
    X, y = data()
    model = nn.MLP(2, [8, 1], seed=0)
    loss = nn.losses.get("hinge")
    T = loss.encode(y)
    for _ in range(2):
        training = nn.compiled.CompiledTraining(model, loss,
                                                nn.optim.SGD(model.parameters(), lr=0.1))
        training.step(X, T)
    assert traces[0] == 2 and model not in nn.compiled._kept_tapes
    with pytest.raises(TypeError, match="keep must be True or False"):
        nn.compiled.CompiledTraining(model, loss, nn.optim.SGD(model.parameters(), lr=0.1),
                                     keep="yes")


@pytest.mark.parametrize("compiled", [True, "auto"])
def test_a_playground_session_traces_once_and_shares_fits_tape(traces, compiled) -> None:
    """The playground's trainer (made without a key from fit) takes the model's key itself:
    its steps, each between a pull and a push, trace once, and a fit call after them
    takes the same tape over."""
    from nn.playground.session import Session

    X, y = data()
    model = nn.MLP(2, [8, 1], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    session = Session(model, X, y, loss="hinge", optimizer=opt, batch_size=8,
                      compiled=compiled)
    for _ in range(3):
        session.step(2)
    assert session.compiled and traces[0] == 1
    one_epoch(model, X, y, opt, compiled)
    assert traces[0] == 1


def test_the_kept_record_holds_no_second_list_of_the_parameters() -> None:
    """The kept record's parameters are the tape's own leading shared leaves when the
    optimizer lists every parameter in the model's order; else its own list of them."""
    X, y = np.random.default_rng(0).normal(size=(12, 3)), np.arange(12) % 2
    model = nn.MLP(3, [4, 2], seed=0)
    nn.fit(model, X, y, loss="cross_entropy", epochs=1, progress=False,
           optimizer=nn.optim.SGD(model.parameters(), lr=0.1))
    kept = nn.compiled._kept_tapes[model]
    assert kept.parameters is kept.tape.shared
    assert list(kept.parameters) == model.parameters()
    other = nn.MLP(3, [4, 2], seed=1)
    last = other.layers[-1].parameters()
    nn.fit(other, X, y, loss="cross_entropy", epochs=1, progress=False,
           optimizer=nn.optim.SGD(last, lr=0.1))
    kept = nn.compiled._kept_tapes[other]
    assert list(kept.parameters) == other.parameters()          # the model's order
    assert list(kept.tape.shared[:len(last)]) == last           # the optimizer's first
