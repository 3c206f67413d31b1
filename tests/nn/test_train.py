"""fit and predict: against micrograd's own training loop, hand computations and bad calls."""

from __future__ import annotations

import html
import io
import math
import re
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import autograd_scalar as ag
import nn
from autograd_scalar import Value, no_grad
from nn import losses, optim, schedules
from nn.callbacks import Callback, EarlyStopping, History
from nn.data import blobs, moons
from nn.train import fit, predict
from tests.autograd_scalar.sample_functions import MathLog


def small_moons(n=24, seed=0):
    return moons(n, noise=0.1, seed=seed)


def snapshot(model):
    return [p.data for p in model.parameters()]


def micrograd_copy(model):
    """micrograd's MLP with our MLP's weights, matched by parameter name."""
    import micrograd.nn

    theirs = micrograd.nn.MLP(model.nin, list(model.nouts))
    ours = dict(model.named_parameters())
    for i, layer in enumerate(theirs.layers):
        for j, neuron in enumerate(layer.neurons):
            prefix = f"layers.{i}.neurons.{j}"
            for k, w in enumerate(neuron.w):
                w.data = ours[f"{prefix}.w[{k}]"].data
            neuron.b.data = ours[f"{prefix}.b"].data
    return theirs


def micrograd_demo_steps(model, X, y, steps, alpha=1e-4):
    """micrograd's demo loop (demo.ipynb), verbatim in its arithmetic."""
    from micrograd.engine import Value as MicroValue

    signs = [1 if label == 1 else -1 for label in y]
    for k in range(steps):
        inputs = [list(map(MicroValue, row)) for row in X.tolist()]
        scores = list(map(model, inputs))
        hinge = [(1 + -yi * si).relu() for yi, si in zip(signs, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        total = data_loss + alpha * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad


def demo_setup(model, epochs=100):
    opt = optim.SGD(model.parameters(), lr=1.0, weight_decay=2e-4)
    schedule = schedules.LinearLR(opt, start_factor=1.0, end_factor=0.1, total=100)
    return opt, schedule


# -- the recipe ------------------------------------------------------------------------

def test_the_micrograd_demo_recipe_reaches_97_percent():
    # compiled for speed; the next test shows the eager steps equal micrograd's, and
    # test_compiled_training_takes_the_eager_steps that compiled steps equal eager ones
    X, y = moons(100, noise=0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], init="uniform", seed=1337)
    opt, schedule = demo_setup(model)
    history = fit(model, X, y, loss="hinge", optimizer=opt, epochs=100, schedule=schedule,
                  progress=False, compiled=True)
    final = nn.accuracy(y, predict(model, X) > 0)
    assert final >= 0.97
    assert history.lr == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)])
    assert history.loss[-1] < 0.2 * history.loss[0]


def test_fit_takes_the_same_steps_as_micrograds_demo_loop():
    X, y = small_moons(20)
    model = nn.MLP(2, [6, 6, 1], seed=3)
    theirs = micrograd_copy(model)
    opt, schedule = demo_setup(model)
    fit(model, X, y, loss=losses.hinge, optimizer=opt, epochs=5, schedule=schedule,
        progress=False)
    micrograd_demo_steps(theirs, X, y, steps=5)
    ours = dict(model.named_parameters())
    for i, layer in enumerate(theirs.layers):
        for j, neuron in enumerate(layer.neurons):
            prefix = f"layers.{i}.neurons.{j}"
            got = [ours[f"{prefix}.w[{k}]"].data for k in range(len(neuron.w))]
            assert got == pytest.approx([w.data for w in neuron.w], rel=1e-9, abs=1e-12)
            assert ours[f"{prefix}.b"].data == pytest.approx(neuron.b.data, abs=1e-12)


@pytest.mark.parametrize("loss, data, nouts, batch_size", [
    ("hinge", lambda: small_moons(30), [8, 8, 1], None),
    ("cross_entropy", lambda: blobs(40, centers=3, seed=5), [6, 3], 16),
    ("bce_with_logits", lambda: small_moons(30), [6, 1], 8),
])
def test_compiled_training_takes_the_eager_steps(loss, data, nouts, batch_size):
    X, y = data()
    X_val, y_val = X[:10], y[:10]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, nouts, seed=11)
        opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.5, weight_decay=1e-3)
        history = fit(model, X, y, loss=loss, optimizer=opt, epochs=4, batch_size=batch_size,
                      seed=2, val=(X_val, y_val), clip=5.0, progress=False,
                      compiled=compiled)
        runs.append((snapshot(model), history, predict(model, X, compiled=compiled)))
    (eager, eager_history, eager_raw), (fast, fast_history, fast_raw) = runs
    assert fast == pytest.approx(eager, rel=1e-9, abs=1e-12)
    for name in eager_history.metrics:
        assert getattr(fast_history, name) == pytest.approx(getattr(eager_history, name),
                                                            rel=1e-9, abs=1e-12)
    assert fast_raw.shape == eager_raw.shape
    assert np.allclose(fast_raw, eager_raw, rtol=1e-9, atol=1e-12)


# -- history, batches, validation --------------------------------------------------------

def test_full_batch_history_records_the_loss_and_accuracy_before_each_step():
    X, y = small_moons()
    model = nn.MLP(2, [4, 1], seed=0)
    scores = predict(model, X)
    expected_loss = np.mean(np.maximum(0, 1 - np.where(y == 1, 1, -1) * scores))
    expected_accuracy = np.mean((scores > 0) == y)
    history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, progress=False)
    assert history.loss[0] == pytest.approx(expected_loss, rel=1e-12)
    assert history.accuracy[0] == pytest.approx(expected_accuracy)
    assert history.epochs == len(history) == 2
    assert history.metrics == ("loss", "accuracy")
    assert history.as_dict().keys() == {"loss", "accuracy", "lr"}


def test_mini_batches_visit_every_example_once_per_epoch_in_a_seeded_order():
    X, y = small_moons(10)
    seen = []

    class Recorder(nn.Module):
        def __init__(self):
            self.w = Value(0.5)

        def forward(self, x):
            assert all(type(v) is Value for v in x)  # Values, as a trace hands them
            seen.append(tuple(v.data for v in x))
            return self.w * x[0]

    def run(seed):
        seen.clear()
        model = Recorder()
        opt = optim.SGD(model.parameters(), lr=0.01)
        fit(model, X, y, loss="hinge", optimizer=opt, epochs=2, batch_size=4, seed=seed,
            progress=False, compiled=False)
        return list(seen), opt.steps

    first, steps = run(seed=7)
    # one probe call to learn the output width, then 2 epochs of 10 examples
    epochs = first[1:11], first[11:21]
    assert len(first) == 21 and steps == 2 * 3
    for epoch in epochs:
        assert sorted(epoch) == sorted(map(tuple, X.tolist()))
    assert epochs[0] != epochs[1]
    assert run(seed=7)[0] == first
    assert run(seed=8)[0] != first


def test_validation_metrics_are_measured_after_each_epoch():
    X, y = small_moons(30, seed=1)
    X_val, y_val = small_moons(12, seed=2)
    model = nn.MLP(2, [8, 1], seed=1)
    history = fit(model, X, y, loss="hinge", optimizer=optim.Adam(model.parameters(), lr=0.05),
                  epochs=3, batch_size=10, seed=0, val=(X_val, y_val), progress=False)
    scores = predict(model, X_val)
    signs = np.where(y_val == 1, 1, -1)
    assert history.val_loss[-1] == pytest.approx(np.mean(np.maximum(0, 1 - signs * scores)))
    assert history.val_accuracy[-1] == pytest.approx(np.mean((scores > 0) == y_val))
    assert len(history.val_loss) == len(history.val_accuracy) == 3


def test_a_bad_validation_target_is_named_as_y_val():
    """The loss's message said "the targets", which read as y."""
    X, y = small_moons(20, seed=1)
    model = nn.MLP(2, [4, 1], seed=1)
    y_val = y.astype(float)
    y_val[-1] = 2.0
    with pytest.raises(ValueError, match=r"^y_val: bce_with_logits: targets must lie in"):
        fit(model, X, y, loss="bce_with_logits", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1, val=(X, y_val), progress=False)


class LogOfInput(nn.Module):
    def __init__(self) -> None:
        self.mlp = nn.MLP(1, [3, 1], seed=0)

    def forward(self, x):
        return self.mlp([x[0].log()])


@pytest.mark.parametrize("compiled", [False, True])
def test_a_refused_step_names_a_nan_parameter_or_an_example_outside_a_domain(compiled):
    """Both were "w[0] has a non-finite gradient (nan) ... Lower the learning rate": a
    NaN the model held before fit, or (compiled) an input whose log the tape took as NaN."""
    X = np.abs(np.random.default_rng(0).normal(size=(40, 1))) + 0.1
    X[33, 0] = -1.0
    model = LogOfInput()
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"^epoch 0: example 33 of X: log: expected x > 0, "
                                         r"got -1\.0; nothing was updated"):
        fit(model, X, np.zeros(40), loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.01),
            epochs=1, batch_size=40, progress=False, compiled=compiled)
    assert model.state_dict() == before
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1].neurons[0].b.data = math.nan
    X, y = small_moons(20, seed=1)
    with pytest.raises(ValueError, match=r"^epoch 0: parameter layers\.1\.neurons\.0\.b is nan "
                                         r"before the step"):
        fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1, progress=False, compiled=compiled)


class LogOfTarget(nn.losses.Loss):
    """Squared error plus log(t + 100) * 0: a term whose gradient is 0, whose value needs
    t > -100 (the eager graph refuses t = -200; the tape computes NaN, gradients finite)."""

    name = "log_of_target"

    def example(self, output, encoded_row):
        zs, ts = self._row(output, encoded_row)
        return (zs[0] - ts[0]) ** 2 + ag.log(ts[0] + 100.0) * 0.0


@pytest.mark.parametrize("compiled", [False, True, "auto"])
def test_a_non_finite_compiled_result_is_named_as_the_eager_graph_names_it(compiled):
    """The tape computes log(-1) as NaN where the eager graph raises. A NaN that reached no
    gradient went through compiled: predict gave NaN, fit's validation loss was NaN, and
    a loss term outside its domain trained on. Each is now the eager graph's error,
    naming the row (and the epoch), on both paths; the step refused changes nothing.
    (A refused value that leaves the result finite, tanh(1/0), is not seen compiled.)"""
    X = np.abs(np.random.default_rng(0).normal(size=(40, 1))) + 0.1
    bad = X.copy()
    bad[37, 0] = -1.0
    model = LogOfInput()
    if compiled != "auto":
        with pytest.raises(ValueError, match=r"^row 37 of X: log: expected x > 0, got -1\.0$"):
            predict(model, bad, compiled=compiled)
    before = model.state_dict()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"^epoch 0, validation: row 37 of X_val: log: "
                                         r"expected x > 0, got -1\.0$"):
        fit(model, X, np.zeros(40), loss="mse", optimizer=optimizer, epochs=2, batch_size=40,
            val=(bad, np.zeros(40)), progress=False, compiled=compiled)
    assert optimizer.steps == 1                       # the epoch before the validation stands
    model = nn.MLP(1, [3, 1], seed=0)
    y = 2 * X[:, 0]
    y[37] = -200.0
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"^epoch 0: example 37 of X: log: expected x > 0, "
                                         r"got -100\.0; nothing was updated$"):
        fit(model, X, y, loss=LogOfTarget(), optimizer=optimizer, epochs=1, batch_size=40,
            progress=False, compiled=compiled)
    assert optimizer.steps == 0 and model.state_dict() == before


@pytest.mark.parametrize("compiled", [False, True])
def test_a_step_refused_after_updates_says_they_stand(compiled):
    """Row 25 refused in a later batch said "nothing was updated" while the call's updates
    before it stood; it now says how many stand."""
    X = np.abs(np.random.default_rng(0).normal(size=(40, 1))) + 0.1
    X[25, 0] = -1.0
    done = list(nn.init.generator(7).permutation(40)).index(25) // 10  # fit's batches
    assert done >= 2
    model = LogOfInput()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(ValueError, match=rf"^epoch 0: example 25 of X: log: expected x > 0, "
                                         rf"got -1\.0; this step was not taken; the {done} "
                                         rf"updates before it in this call stand$"):
        fit(model, X, np.zeros(40), loss="mse", optimizer=optimizer, epochs=1, batch_size=10,
            seed=7, progress=False, compiled=compiled)
    assert optimizer.steps == done


class PowerOfLearnt(nn.Module):
    """(w x) ** p with a learnt exponent p: the eager graph refuses a base <= 0."""

    def __init__(self) -> None:
        self.w = Value(1.0)
        self.p = Value(2.0)

    def forward(self, x):
        return (x[0] * self.w) ** self.p


@pytest.mark.parametrize("compiled", [False, True, "auto"])
def test_a_value_exponent_of_a_negative_base_is_named_compiled_as_eagerly(compiled):
    """IEEE's pow gives (-1) ** 2.0 = 1, and the tape computed it so, with d/dp = out *
    log(-1) NaN: compiled training said "p has a non-finite gradient ... lower the
    learning rate" where eager names the example. The tape now computes NaN there, as
    for log(-1), and the step names example 37 either way, changing nothing."""
    X = np.abs(np.random.default_rng(0).normal(size=(40, 1))) + 0.1
    X[37, 0] = -1.0
    model = PowerOfLearnt()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"^epoch 0: example 37 of X: \*\*: expected a base "
                                         r"> 0 when the exponent is a Value"):
        fit(model, X, X[:, 0] ** 2, loss="mse", optimizer=optimizer, epochs=1, batch_size=40,
            progress=False, compiled=compiled)
    assert optimizer.steps == 0 and model.state_dict() == before


@pytest.mark.parametrize("compiled", [False, True, "auto"])
def test_an_example_the_first_check_runs_is_named_and_keeps_its_errors_class(compiled):
    """With "auto", the first batch's first rows are run eagerly to check the tape: an op
    refusing one of them raised a bare "log: expected x > 0", naming no example. And a
    named error was always a ValueError, where the op raised a ZeroDivisionError."""
    X = np.abs(np.random.default_rng(0).normal(size=(40, 1))) + 0.1
    X[2, 0] = -1.0
    with pytest.raises(ValueError, match=r"^epoch 0: example 2 of X: log: expected x > 0"):
        _fit_log_of_input(X, compiled)
    X = np.abs(X)
    X[37, 0] = 0.0
    with pytest.raises(ZeroDivisionError, match=r"^row 37 of X: /: expected a non-zero"):
        predict(ReciprocalOfInput(), X, compiled=compiled is not False)
    with pytest.raises(ZeroDivisionError, match=r"^epoch 0: example 37 of X: /: expected a "):
        model = ReciprocalOfInput()
        fit(model, X, np.zeros(40), loss="mse", epochs=1, batch_size=40, progress=False,
            optimizer=optim.SGD(model.parameters(), lr=0.01), compiled=compiled)


class ReciprocalOfInput(nn.Module):
    def __init__(self) -> None:
        self.mlp = nn.MLP(1, [3, 1], seed=0)

    def forward(self, x):
        return self.mlp([1.0 / x[0]])


def _fit_log_of_input(X: np.ndarray, compiled: bool | str) -> None:
    model = LogOfInput()
    fit(model, X, np.zeros(len(X)), loss="mse", epochs=1, batch_size=len(X), progress=False,
        optimizer=optim.SGD(model.parameters(), lr=0.01), compiled=compiled)


class DomainLog(MathLog):
    """MathLog with its domain declared: on the tape it raises per example."""

    domain = staticmethod(lambda x: x > 0)
    expected = "x > 0"


class LogOfWeighted(nn.Module):
    def __init__(self, log: Any = None) -> None:
        self.w = Value(1.0)
        self.log = log

    def forward(self, x):
        z = x[0] * self.w
        return DomainLog.apply(z) if self.log is None else self.log(z)


@pytest.mark.parametrize("compiled", [False, True, "auto"])
def test_every_refused_row_is_named_alike_compiled_or_not(compiled):
    """Fuzzing eager against compiled found rows named only eagerly, or the wrong one:
    row 0 (fit's check of the model ran it bare; compiled predict traced at it), a
    Function raising on the tape past the first rows (the tape's "example 5 of the
    batch"), an example named with the parameters of before the epoch (the Values were
    not written first: w = 1 named x = 1, where w = -199 refuses x = -1's partner), and a
    log(-1) behind eight rows that overflow to inf eagerly too."""
    def refused(call: Any, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            call()

    def fitted(model: Any, X: Any, y: Any, **options: Any) -> Any:
        return fit(model, X, y, loss="mse", epochs=1, progress=False, compiled=compiled,
                   optimizer=optim.SGD(model.parameters(), lr=options.pop("lr", 0.01)),
                   **options)

    first_bad = np.array([[-1.0], [2.0]])
    refused(lambda: fitted(LogOfWeighted(Value.log), first_bad, np.zeros(2)),
            r"^example 0 of X \(run before training, to count the model's outputs\): log: "
            r"expected x > 0, got -1\.0; nothing was updated$")
    if compiled != "auto":
        refused(lambda: predict(LogOfWeighted(Value.log), first_bad, compiled=bool(compiled)),
                r"^row 0 of X: log: expected x > 0, got -1\.0$")
    refused(lambda: fitted(LogOfWeighted(Value.log), np.array([[1.0], [2.0]]), np.zeros(2),
                           val=(first_bad, np.zeros(2))),
            r"^epoch 0, validation: row 0 of X_val: log: expected x > 0")
    late = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [-1.0]])
    refused(lambda: fitted(LogOfWeighted(), late, np.zeros(6)),
            r"^epoch 0: example 5 of X: DomainLog: expected x > 0, got -1\.0; nothing")
    if compiled != "auto":
        refused(lambda: predict(LogOfWeighted(), late, compiled=bool(compiled)),
                r"^row 5 of X: DomainLog: expected x > 0, got -1\.0$")
    seed = next(s for s in range(100) if list(np.random.default_rng(s).permutation(4)[:3])
                in ([0, 1, 2], [1, 0, 2]))
    refused(lambda: fitted(LogOfWeighted(), np.array([[1.0], [1.0], [-1.0], [1.0]]),
                           np.array([-100.0, -100.0, 0.0, 0.0]), batch_size=2, seed=seed,
                           lr=1.0),
            r"^epoch 0: example 3 of X: DomainLog: expected x > 0, got -199\.0")

    class CubeAndLog(nn.Module):
        def __init__(self) -> None:
            self.w = Value(1.0)

        def forward(self, x):
            z = x[0] * self.w
            return z * z * z + (x[1] * self.w).log()

    overflowing = np.array([[1e120, 1.0]] * 8 + [[1.0, -1.0]])
    refused(lambda: fitted(CubeAndLog(), overflowing, np.zeros(9)),
            r"^epoch 0: example 8 of X: log: expected x > 0, got -1\.0")
    if compiled != "auto":
        refused(lambda: predict(CubeAndLog(), overflowing, compiled=bool(compiled)),
                r"^row 8 of X: log: expected x > 0, got -1\.0$")


def test_a_compiled_step_refused_for_its_loss_writes_no_gradient():
    """A refused compiled step wrote its batch's NaN gradients into .grad. The Values'
    gradients are now left as they were when fit last wrote them (here: as the caller
    set them, the refused batch being the first)."""
    X = np.abs(np.random.default_rng(0).normal(size=(40, 1))) + 0.1
    y = 2 * X[:, 0]
    y[37] = -200.0
    model = nn.MLP(1, [3, 1], seed=0)
    for p in model.parameters():
        p.grad = 0.25
    with pytest.raises(ValueError, match=r"^epoch 0: example 37 of X"):
        fit(model, X, y, loss=LogOfTarget(), optimizer=optim.SGD(model.parameters(), lr=0.01),
            epochs=1, batch_size=40, progress=False, compiled=True)
    assert [p.grad for p in model.parameters()] == [0.25] * len(model.parameters())


def test_an_eager_step_refused_by_an_op_leaves_the_gradients_as_they_were():
    """The eager step zeroed the gradients before building the loss: an op's error there
    left them all 0, not as the caller had them."""
    X = np.abs(np.random.default_rng(0).normal(size=(8, 1))) + 0.1
    X[5, 0] = -1.0
    model = LogOfInput()
    for p in model.parameters():
        p.grad = 0.25
    with pytest.raises(ValueError, match=r"^epoch 0: example 5 of X: log"):
        fit(model, X, np.zeros(8), loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1, progress=False, compiled=False)
    assert [p.grad for p in model.parameters()] == [0.25] * len(model.parameters())


def test_cross_entropy_training_learns_three_blobs_eagerly():
    X, y = blobs(60, centers=3, std=0.5, seed=4)
    model = nn.MLP(2, [8, 3], seed=2)
    opt = optim.Adam(model.parameters(), lr=0.05)
    history = fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=15, batch_size=20,
                  seed=1, progress=False)
    assert history.loss[-1] < history.loss[0]
    assert nn.accuracy(y, predict(model, X).argmax(axis=1)) >= 0.9


def test_regression_records_no_accuracy():
    X = np.linspace(-1, 1, 8).reshape(-1, 1)
    y = 3 * X[:, 0] - 1
    model = nn.MLP(1, [1], seed=0)
    history = fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.3),
                  epochs=60, progress=False)
    assert history.accuracy == [] and history.metrics == ("loss",)
    w, b = (p.data for p in model.parameters())
    assert (w, b) == pytest.approx((3.0, -1.0), abs=1e-3)


def test_clip_bounds_every_sgd_step_by_lr_times_the_norm():
    X, y = small_moons()
    model = nn.MLP(2, [4, 1], seed=0)
    lr, limit = 0.5, 0.01
    opt = optim.SGD(model.parameters(), lr=lr)
    moves = []

    class Watch(Callback):
        def __init__(self):
            self.last = snapshot(model)

        def on_epoch_end(self, epoch, history):
            now = snapshot(model)
            moves.append(np.linalg.norm(np.subtract(now, self.last)))
            self.last = now
            return False

    fit(model, X, y, loss="hinge", optimizer=opt, epochs=3, clip=limit, callbacks=[Watch()],
        progress=False)
    assert max(moves) <= lr * limit * (1 + 1e-9)
    assert min(moves) > 0.5 * lr * limit


def test_a_callback_returning_true_stops_training():
    X, y = small_moons()
    model = nn.MLP(2, [4, 1], seed=0)

    class StopAtTwo:
        def on_epoch_end(self, epoch, history):
            return epoch == 2

    history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                  epochs=10, callbacks=[StopAtTwo()], progress=False)
    assert history.epochs == 3 and history.stopped_early


# -- early stopping ---------------------------------------------------------------------

def test_early_stopping_stops_after_patience_and_restores_the_best_parameters():
    p = Value(0.0)

    class Model:
        def parameters(self):
            return [p]

    history = History(metrics=("loss", "val_loss"))
    stopper = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.01)
    stopper.on_train_begin(Model(), history)
    decisions = []
    for epoch, value in enumerate([1.0, 0.5, 0.495, 0.6, 0.7]):
        p.data = float(epoch)
        history.val_loss.append(value)
        decisions.append(stopper.on_epoch_end(epoch, history))
    assert decisions == [False, False, False, True, True]
    assert stopper.best_epoch == 1 and stopper.best_value == 0.5
    stopper.on_train_end(Model(), history)
    assert p.data == 1.0


def test_ctrl_c_while_early_stopping_restores_lands_after_the_last_parameter(monkeypatch):
    """The restore loop could stop half way: some parameters of the best epoch, some of
    the last. A SIGINT during it is held back to its end."""
    import builtins
    import signal

    import nn.callbacks
    model = nn.MLP(2, [3, 1], seed=0)
    history = History(metrics=("loss", "val_loss"))
    stopper = EarlyStopping(monitor="val_loss", patience=1)
    stopper.on_train_begin(model, history)
    best = [p.data for p in model.parameters()]
    history.val_loss.append(1.0)
    stopper.on_epoch_end(0, history)
    for p in model.parameters():
        p.data += 1.0
    history.val_loss.append(2.0)
    stopper.on_epoch_end(1, history)
    count = [0]

    def zip_that_interrupts(*iterables):
        for item in builtins.zip(*iterables):
            if count[0] == 3:
                signal.raise_signal(signal.SIGINT)
            count[0] += 1
            yield item
    monkeypatch.setattr(nn.callbacks, "zip", zip_that_interrupts, raising=False)
    with pytest.raises(KeyboardInterrupt):
        stopper.on_train_end(model, history)
    assert [p.data for p in model.parameters()] == best


def test_early_stopping_on_accuracy_waits_for_a_rise():
    history = History(metrics=("loss", "accuracy"))
    stopper = EarlyStopping(monitor="accuracy", patience=1, restore_best=False)
    stopper.on_train_begin(nn.MLP(1, [1], seed=0), history)
    stops = []
    for epoch, value in enumerate([0.5, 0.7, 0.6]):
        history.accuracy.append(value)
        stops.append(stopper.on_epoch_end(epoch, history))
    assert stops == [False, False, True] and stopper.best_value == 0.7


def test_early_stopping_inside_fit():
    X, y = small_moons(20)
    model = nn.MLP(2, [4, 1], seed=0)
    stopper = EarlyStopping(monitor="loss", patience=1)
    # lr 0 changes nothing, so the loss never improves after the first epoch
    opt = optim.SGD(model.parameters(), lr=1.0)
    opt.lr = 0.0
    history = fit(model, X, y, loss="hinge", optimizer=opt, epochs=10, callbacks=[stopper],
                  progress=False)
    assert history.epochs == 2 and history.stopped_early and stopper.best_epoch == 0


def test_early_stopping_on_the_training_loss_restores_the_parameters_that_scored_it():
    """The training loss is measured before each update: with one batch per epoch, the
    best epoch's loss is the loss of the parameters it began with, and those are put
    back (they were the next epoch's before)."""
    X, y = nn.data.moons(60, noise=0.3, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    stopper = EarlyStopping(monitor="loss", patience=2)
    history = fit(model, X, y, loss="bce_with_logits", optimizer=optim.SGD(model, lr=3.0),
                  epochs=50, callbacks=[stopper], progress=False)
    assert history.stopped_early and stopper.best_epoch < history.epochs - 1
    loss = nn.losses.get("bce_with_logits")
    with no_grad():
        now = loss.reduce(nn.predict(model, X).reshape(-1, 1).tolist(),
                          loss.encode(y, width=1)).data
    assert now == pytest.approx(stopper.best_value, rel=1e-12)
    assert now != pytest.approx(history.loss[stopper.best_epoch + 1], rel=1e-9)


def test_restore_best_is_a_flag():
    with pytest.raises(TypeError, match="EarlyStopping: restore_best must be True or False, "
                                        "got 'no'"):
        EarlyStopping(restore_best="no")


def test_early_stopping_rejects_a_metric_the_run_does_not_record():
    X, y = small_moons()
    model = nn.MLP(2, [4, 1], seed=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match="does not record 'val_loss'"):
        fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=2, callbacks=[EarlyStopping()], progress=False)
    assert snapshot(model) == before
    with pytest.raises(ValueError, match="monitor must be one of"):
        EarlyStopping(monitor="val_acc")
    with pytest.raises(ValueError, match="patience must be a positive int"):
        EarlyStopping(patience=0)


# -- progress bar --------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal, progress, shown", [
    (True, True, True), (True, False, False), (False, True, False)])
def test_the_progress_bar_shows_only_on_a_terminal_and_when_asked(monkeypatch, terminal,
                                                                   progress, shown):
    stream = FakeTerminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    X, y = small_moons(8)
    model = nn.MLP(2, [2, 1], seed=0)
    fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2,
        progress=progress)
    output = stream.getvalue()
    assert ("2/2" in output and "epoch" in output) == shown
    assert (output != "") == shown


class FakeHandle:
    """IPython's display handle, recording what the output shows after each redraw."""

    def __init__(self, shown: list[str]) -> None:
        self.shown = shown

    def update(self, bundle, raw=False):
        self.shown.append(bundle["text/plain"])


@pytest.mark.parametrize("widgets", [False, True])
def test_a_notebook_gets_one_output_line_redrawn_in_place(monkeypatch, widgets):
    """No stderr lines to stack up, no widget frozen at 0%: one display, redrawn, whose
    last state is the finished bar (with ipywidgets installed or not)."""
    import types

    import IPython.display

    shown: list[str] = []
    displays = []

    def display(bundle, raw=False, display_id=False):
        displays.append(bundle)
        shown.append(bundle["text/plain"])
        return FakeHandle(shown)

    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setattr("nn.progress.in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setitem(sys.modules, "ipywidgets",
                        types.ModuleType("ipywidgets") if widgets else None)
    X, y = small_moons(8)
    model = nn.MLP(2, [2, 1], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=3)
    assert stream.getvalue() == ""
    assert len(displays) == 1 and shown[0].startswith("  0%")
    assert "\n" not in shown[-1] and "\r" not in shown[-1]
    assert shown[-1].startswith("100%") and "3/3" in shown[-1] and "loss=" in shown[-1]
    # as HTML, a line too wide for its cell wraps between its parts, not inside a number
    page = displays[0]["text/html"]
    assert page.startswith("<pre ") and "word-break: normal" in page
    assert html.unescape(page[page.index(">") + 1:-len("</pre>")]) == shown[0]


def test_outside_a_notebook_the_kernel_check_says_no():
    from nn.progress import in_notebook

    assert in_notebook() is False


# -- predict --------------------------------------------------------------------------------

def test_predict_returns_raw_outputs_in_the_contract_shapes():
    X = np.array([[0.1, -0.3], [1.2, 0.4], [-0.7, 0.9]])
    one = nn.MLP(2, [3, 1], seed=0)
    three = nn.MLP(2, [3, 3], seed=0)
    assert predict(one, X).shape == (3,)
    assert predict(one, X).tolist() == [one(row).data for row in X.tolist()]
    assert predict(three, X).shape == (3, 3)
    assert predict(three, X).tolist() == [[v.data for v in three(row)] for row in X.tolist()]


@pytest.mark.parametrize("compiled", ["yes", 1, None])
def test_predict_takes_compiled_as_fit_does_a_bool(compiled):
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match=r"compiled must be True or False, got"):
        nn.predict(model, np.zeros((2, 2)), compiled=compiled)


def test_predict_builds_no_graph():
    model = nn.MLP(2, [3, 1], seed=0)
    predict(model, np.ones((2, 2)))
    assert all(p.grad == 0.0 for p in model.parameters())
    with pytest.raises(ValueError, match="2-D array"):
        predict(model, np.ones(2))


# -- bad calls change nothing -------------------------------------------------------------

def bad_calls():
    X, y = small_moons(10)
    other = optim.SGD([Value(1.0, label="stranger")], lr=0.1)
    return [
        (dict(X=X[:, :1]), ValueError, "MLP expects 2 inputs, got 1"),
        (dict(X=np.ones(10)), ValueError, "non-empty 2-D array"),
        (dict(X=np.full((10, 2), math.nan)), ValueError, "X must be finite; row 0"),
        (dict(X=np.ma.array(X, mask=X > 1)), ValueError, "X (a numeric array (n, d)) has "
         "masked entries"),                             # their hidden numbers were trained on
        (dict(y=y[:5]), ValueError, "one target per example (10), got 5"),
        (dict(y=y + 2), ValueError, "0/1 or -1/+1"),
        (dict(loss="hinj"), ValueError, "unknown loss 'hinj'"),
        (dict(loss="cross_entropy"), ValueError, "at least 2 classes"),
        (dict(optimizer="sgd"), TypeError, "optimizer must be an nn.optim optimizer"),
        (dict(optimizer=other), ValueError, "'stranger') is not a parameter of this model"),
        (dict(epochs=0), ValueError, "epochs must be a positive int"),
        (dict(epochs=2.0), ValueError, "epochs must be a positive int"),
        (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
        (dict(val=X), ValueError, "val must be a pair (X_val, y_val), got ndarray"),
        (dict(val=(X, y, 1)), ValueError, "val must be a pair (X_val, y_val), got a tuple of 3"),
        (dict(y=None), ValueError, "one target per example (10), got None"),
        (dict(val=(X[:, :1], y)), ValueError, "X_val has 1 columns but X has 2"),
        (dict(val=(X, y[:3])), ValueError, "y_val must have one target per example (10)"),
        (dict(callbacks=[object()]), TypeError, "has no on_epoch_end"),
        (dict(callbacks=[EarlyStopping]), TypeError,      # the class, not one made from it
         "callbacks[0] is the class EarlyStopping, whose on_epoch_end needs an object of it: "
         "pass EarlyStopping(...)"),
        (dict(callbacks=[WrongHook()]), TypeError,
         "callbacks[0].on_epoch_end must take (epoch, history); its signature is "
         "on_epoch_end(epoch)"),
        (dict(callbacks=[EarlyStopping(), EndIsNone()]), TypeError,
         "callbacks[1].on_train_end must be a method on_train_end(model, history), got "
         "NoneType"),
        (dict(callbacks=EarlyStopping()), TypeError, "callbacks must be a list"),
        (dict(seed=-1), ValueError,
         "seed must be None, an int >= 0 or a numpy.random.Generator"),
        (dict(compiled="yes"), TypeError, "compiled must be True, False or 'auto', got 'yes'"),
        (dict(progress="yes"), TypeError, "progress must be True or False, got 'yes'"),
        (dict(schedule="cosine"), ValueError, "schedule must be an nn.schedules schedule"),
        (dict(clip=0.0), ValueError, "clip must be a positive number"),
    ]


class WrongHook:
    def on_epoch_end(self, epoch):
        return False


class EndIsNone:
    on_train_end = None

    def on_epoch_end(self, epoch, history):
        return False


@pytest.mark.parametrize("change, error, message", bad_calls())
def test_bad_arguments_are_clear_errors_raised_before_any_update(change, error, message):
    X, y = small_moons(10)
    model = nn.MLP(2, [3, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    arguments = dict(X=X, y=y, loss="hinge", optimizer=opt, epochs=2, progress=False) | change
    before = snapshot(model)
    with pytest.raises(error, match=re.escape(message)):
        fit(model, **arguments)
    assert snapshot(model) == before
    assert opt.steps == 0 and opt.state == {}


def test_a_model_without_parameters_is_rejected():
    with pytest.raises(TypeError, match="callable nn Module"):
        fit(object(), np.ones((2, 2)), [0, 1], loss="hinge",
            optimizer=optim.SGD([Value(1.0)], lr=0.1), epochs=1)


def test_a_diverging_run_stops_with_the_parameter_named_and_unchanged():
    X = np.array([[1e300, 1e300], [-1e300, 1e300]])
    model = nn.MLP(2, [1], seed=0)
    before = snapshot(model)
    opt = optim.SGD(model.parameters(), lr=1e10)
    named = re.escape("epoch 0: layers.0.neurons.0.w[0]")
    with pytest.raises(optim.NonFiniteGradientError, match=named):
        fit(model, X, [0.0, 1.0], loss="mse", optimizer=opt, epochs=1, progress=False)
    assert snapshot(model) == before


@pytest.mark.parametrize("X", [np.array([[1 + 2j, 0.5]]), [["1.5", "0.5"]]])
def test_complex_or_text_inputs_are_refused_before_training(X):
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    with pytest.raises(TypeError, match=r"X .*must be real numbers"):
        fit(model, X, [1], loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1, progress=False)
    with pytest.raises(TypeError, match="real numbers"):
        predict(model, X)
    assert model.state_dict() == before


def test_unseeded_shuffling_follows_python_random():
    import random

    X, y = moons(40, noise=0.1, seed=0)
    runs = []
    for seed in (5, 5, 6):
        random.seed(seed)
        model = nn.MLP(2, [4, 1], seed=0)
        fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=2, batch_size=8, progress=False)
        runs.append(model.state_dict())
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_a_history_prints_as_a_short_table():
    history = History(metrics=("loss", "accuracy"))
    for i in range(10):
        history.loss.append(1 / (i + 1))
        history.accuracy.append(0.5 + i / 20)
        history.lr.append(0.01)
    lines = repr(history).splitlines()
    assert str(history) == repr(history)
    assert lines[0] == "History(10 epochs)"
    assert lines[1].split() == ["epoch", "loss", "accuracy", "lr"]
    assert lines[2].split() == ["0", "1", "0.5", "0.01"]
    assert lines[4].split() == ["2", "0.3333", "0.6", "0.01"]
    assert lines[5].split() == ["...", "...", "...", "..."]
    assert lines[-1].split() == ["9", "0.1", "0.95", "0.01"]
    assert len(lines) == 9
    history.stopped_early = True
    assert repr(history).startswith("History(10 epochs, stopped early)")
    assert repr(History()) == "History(0 epochs)"


def test_inputs_are_checked_finite_whatever_their_sum() -> None:
    """check_inputs tests a sum first: an overflowing sum of finite inputs is accepted,
    and an infinity is found wherever it is, even where +inf and -inf would cancel."""
    from nn.train import check_inputs

    huge = np.full((3, 2), 1e308)                       # sums to inf, every number finite
    assert check_inputs(huge, "X") is not None
    for bad, row in ((np.inf, 2), (-np.inf, 1), (np.nan, 0)):
        X = np.ones((3, 2))
        X[row, 1] = bad
        with pytest.raises(ValueError, match=f"X must be finite; row {row}"):
            check_inputs(X, "X")
    both = np.ones((3, 2))
    both[1, 0], both[2, 1] = np.inf, -np.inf
    with pytest.raises(ValueError, match="X must be finite; row 1"):
        check_inputs(both, "X")


@pytest.mark.parametrize("compiled", [True, False])
def test_fit_called_twice_with_one_generator_shuffles_as_one_call(compiled):
    """An int seed reshuffles from the start at every call: 2 + 2 mini-batch epochs
    differed from 4 (by 0.011), and a run stopped to save could not go on as it was."""
    X, y = nn.data.moons(100, noise=0.2, seed=0)

    def trained(calls, epochs):
        model = nn.MLP(2, [8, 1], seed=0)
        opt, rng = optim.Adam(model, lr=0.01), np.random.default_rng(5)
        for _ in range(calls):
            fit(model, X, y, loss="bce_with_logits", optimizer=opt, epochs=epochs,
                batch_size=16, seed=rng, progress=False, compiled=compiled)
        return [p.data for p in model.parameters()]

    assert trained(2, 2) == trained(1, 4)


@pytest.mark.parametrize("compiled", ["auto", True, False])
def test_a_forward_may_call_value_methods_on_its_inputs(compiled) -> None:
    """fit and predict called a model with plain floats (the trace with Values), so a
    forward of one's own that applied tanh to an input failed with AttributeError."""
    class Feature(nn.Module):
        def __init__(self) -> None:
            self.mlp = nn.MLP(3, [4, 1], seed=0)

        def forward(self, x):
            return self.mlp([x[0], x[1], (x[0] * x[1]).tanh()])

    X, y = small_moons(20)
    model = Feature()
    history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, progress=False, compiled=compiled)
    assert len(history.loss) == 2
    expected = [model([Value(a), Value(b)]).data for a, b in X[:3].tolist()]
    assert predict(model, X[:3]).tolist() == pytest.approx(expected, rel=1e-12)


def test_a_model_that_reads_its_inputs_numbers_trains_eagerly_under_auto(capfd) -> None:
    """The compiled-training page's own example of a model the trace refuses: "auto"
    said so and fell back to eager training, which then failed on x[0].data."""
    class Branchy(nn.Module):
        def __init__(self) -> None:
            self.mlp = nn.MLP(2, [4, 1], seed=0)

        def forward(self, x):
            if x[0].data > 1.5:
                return self.mlp(x) * 2.0
            return self.mlp(x)

    X, y = small_moons(20)
    model = Branchy()
    history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                  epochs=1, progress=False)
    assert len(history.loss) == 1 and "training eagerly" in capfd.readouterr().err


class WidthOfInput(nn.Module):
    """As many outputs as the example's first input says (1 or 2): no model a fit could use."""

    def __init__(self) -> None:
        self.w = Value(1.0, "w")

    def forward(self, x):
        return [x[0] * self.w] * (1 if x[0].data < 0.5 else 2)


class ListWithANumber(nn.Module):
    def __init__(self) -> None:
        self.w = Value(1.0, "w")

    def forward(self, x):
        return [x[0] * self.w, 1.0]


def test_predict_names_a_row_whose_outputs_differ_and_an_item_that_is_no_value():
    """A model whose width changed from row to row got NumPy's 'inhomogeneous shape'; one
    returning [v, 1.0] was told only 'got list'."""
    X = np.array([[0.0], [0.2], [0.9]])
    with pytest.raises(ValueError, match=re.escape(
            "row 2 of X: the model gave 2 output(s) where row 0 gave 1")):
        predict(WidthOfInput(), X)
    with pytest.raises(TypeError, match=re.escape(
            "the model must return a Value or a list of Values, got a list whose item 1 is "
            "float")):
        predict(ListWithANumber(), X)


class StaticHooks:
    """A class whose hooks are static methods: a callback as it stands."""

    @staticmethod
    def on_epoch_end(epoch, history):
        return False


def logged(hook):
    """A decorator that gives the hook a third argument of its own (functools.wraps copies
    the hook's signature, which inspect would follow)."""
    import functools

    @functools.wraps(hook)
    def wrapper(*args):
        return hook(*args, None)
    return wrapper


class WrappedHook:
    @logged
    def on_epoch_end(self, epoch, history, log):
        return False


class SwapBestAndStop:
    """Puts back a copy of the first layer and stops: no update follows the swap."""

    def __init__(self, model, at):
        self.model, self.at, self.ended = model, at, False

    def on_epoch_end(self, epoch, history):
        if epoch == self.at:
            self.model.layers[0] = nn.Layer(2, 3, seed=5)
            return True
        return False

    def on_train_end(self, model, history):
        self.ended = True


@pytest.mark.parametrize("compiled", [False, "auto"])
def test_callbacks_that_worked_still_do(compiled):
    """The up-front check refused a class with static hooks, a hook whose decorator adds
    an argument, and a callback that swaps layers as it stops, or in the last epoch: no
    update follows, so the optimizer has nothing left to step wrongly."""
    X, y = small_moons(20)
    for callbacks, epochs in (([StaticHooks], 2), ([WrappedHook()], 2)):
        model = nn.MLP(2, [3, 1], seed=0)
        history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                      epochs=epochs, callbacks=callbacks, progress=False, compiled=compiled)
        assert len(history.loss) == epochs
    for at, epochs in ((0, 3), (1, 2)):  # stops at once; swaps in the last epoch
        model = nn.MLP(2, [3, 1], seed=0)
        hook = SwapBestAndStop(model, at)
        history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=0.1),
                      epochs=epochs, callbacks=[hook], progress=False, compiled=compiled)
        assert len(history.loss) == at + 1 and hook.ended
