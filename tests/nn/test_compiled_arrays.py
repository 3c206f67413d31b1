"""Compiled training on arrays: the same parameters as eager training, for every optimizer.

Eager training (one graph per example, ``Optimizer.step`` on the Values) is the
reference; compiled training (the tape on arrays, ``Optimizer.step_arrays``) must
end at the same parameters to 1e-10 on random models, with every optimizer,
clipping and schedules, and the two must be interchangeable mid-run.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
import nn
from autograd_scalar import Value, compile
from nn import optim
from nn.compiled import CompiledTraining
from nn.schedules import CosineAnnealingLR, StepLR
from nn.train import fit

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01, weight_decay=1e-3),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSProp(p, lr=0.01, momentum=0.5, weight_decay=1e-4),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05, lr_decay=0.01,
                                       initial_accumulator_value=0.1),
}
LOSSES = [("cross_entropy", 3), ("mse", 2), ("hinge", 1), ("bce_with_logits", 1), ("l1", 1)]


def problem(loss: str, nout: int, seed: int, n: int = 24, nin: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, nin))
    if loss == "cross_entropy":
        y = rng.integers(0, nout, size=n)
    elif loss in ("hinge", "bce_with_logits"):
        y = rng.integers(0, 2, size=n)
    else:
        y = rng.normal(size=(n, nout)) if nout > 1 else rng.normal(size=n)
    return X, y


def parameters(model) -> np.ndarray:
    return np.array([p.data for p in model.parameters()])


def train(compiled, loss, nout, seed, make_optimizer, activation="tanh", epochs=3,
          batch_size=8, clip=None, schedule=None, hidden=(5,)):
    X, y = problem(loss, nout, seed)
    model = nn.MLP(X.shape[1], [*hidden, nout], activation=activation, seed=seed)
    opt = make_optimizer(model.parameters())
    sched = schedule(opt) if schedule is not None else None
    history = fit(model, X, y, loss=loss, optimizer=opt, epochs=epochs, batch_size=batch_size,
                  seed=seed, clip=clip, schedule=sched, progress=False, compiled=compiled)
    return model, opt, history


@given(st.sampled_from(sorted(OPTIMIZERS)), st.sampled_from(LOSSES),
       st.sampled_from(["relu", "tanh", "sigmoid"]), st.integers(0, 2**31 - 1),
       st.sampled_from([None, 0.5]))
@settings(max_examples=40, deadline=None)
def test_compiled_and_eager_training_end_at_the_same_parameters(name, case, activation, seed,
                                                                 clip) -> None:
    loss, nout = case
    runs = [train(compiled, loss, nout, seed, OPTIMIZERS[name], activation, clip=clip)
            for compiled in (False, True)]
    (eager, eager_opt, eager_history), (fast, fast_opt, fast_history) = runs
    np.testing.assert_allclose(parameters(fast), parameters(eager), rtol=1e-10, atol=1e-10)
    assert fast_opt.steps == eager_opt.steps
    for key, buffer in eager_opt.state.items():
        np.testing.assert_allclose(fast_opt.state[key], buffer, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fast_history.loss, eager_history.loss, rtol=1e-10, atol=1e-12)
    if "accuracy" in eager_history.metrics:
        assert fast_history.accuracy == eager_history.accuracy


@pytest.mark.parametrize("schedule", [lambda o: StepLR(o, 1, 0.5),
                                      lambda o: CosineAnnealingLR(o, 3)])
def test_schedules_are_followed_on_arrays(schedule) -> None:
    runs = [train(compiled, "mse", 2, 4, OPTIMIZERS["adam"], schedule=schedule)
            for compiled in (False, True)]
    np.testing.assert_allclose(parameters(runs[1][0]), parameters(runs[0][0]), rtol=1e-10,
                               atol=1e-10)
    assert runs[1][2].lr == runs[0][2].lr


def test_step_arrays_is_the_eager_update_exactly() -> None:
    rng = np.random.default_rng(0)
    for name, make in OPTIMIZERS.items():
        values = [Value(x) for x in rng.normal(size=7)]
        eager, arrays = make(values), make([Value(v.data) for v in values])
        data = np.array([v.data for v in values])
        for _ in range(4):
            grads = rng.normal(size=7)
            for v, g in zip(values, grads):
                v.grad = float(g)
            eager.step()
            arrays.step_arrays(data, grads.copy())
        np.testing.assert_allclose(data, [v.data for v in values], rtol=1e-12, atol=1e-15,
                                   err_msg=name)


def test_step_arrays_refuses_a_non_finite_gradient_and_changes_nothing() -> None:
    values = [Value(1.0, "a"), Value(2.0, "b")]
    opt = optim.Adam(values, lr=0.1)
    data = np.array([1.0, 2.0])
    with pytest.raises(optim.NonFiniteGradientError, match=r"parameter 1 .'b'. has a non-finite"):
        opt.step_arrays(data, np.array([0.5, np.nan]))
    assert data.tolist() == [1.0, 2.0] and opt.steps == 0 and opt.state == {}
    with pytest.raises(ValueError, match=r"shape \(2,\), one entry per parameter"):
        opt.step_arrays(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_step_arrays_on_a_tapes_read_only_data_names_the_way(kind: str) -> None:
    """A tape's ``arrays.data`` is read-only (see SharedArrays.writable): stepping on it
    is refused before anything changes, with the array to step on named."""
    values = [Value(1.0), Value(2.0)]
    tape = ag.compile(lambda x: values[0] * x[0] + values[1], np.zeros(1), parameters=values)
    opt = getattr(optim, kind)(values, lr=0.1)
    with pytest.raises(ValueError, match=r"read-only.*tape\.arrays\.writable\(\)"):
        opt.step_arrays(tape.arrays.data, np.ones(2))
    assert tape.arrays.data.tolist() == [1.0, 2.0] and opt.steps == 0
    opt.step_arrays(tape.arrays.writable(), np.ones(2))
    expected = np.array([1.0, 2.0])
    getattr(optim, kind)(values, lr=0.1).step_arrays(expected, np.ones(2))
    assert tape.arrays.data.tolist() == expected.tolist() != [1.0, 2.0] and opt.steps == 1


def test_eager_and_compiled_training_are_interchangeable_mid_run() -> None:
    X, y = problem("cross_entropy", 3, 1)
    models = [nn.MLP(3, [6, 3], seed=1) for _ in range(2)]
    opts = [optim.Adam(m.parameters(), lr=0.02) for m in models]
    for epoch, (first, second) in enumerate([(False, False), (True, False), (False, True),
                                             (True, True)]):
        for model, opt, compiled in zip(models, opts, (first, second)):
            fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=6,
                seed=epoch, progress=False, compiled=compiled)
        np.testing.assert_allclose(parameters(models[1]), parameters(models[0]), rtol=1e-10,
                                   atol=1e-10)
    assert opts[0].steps == opts[1].steps == 16


def test_values_are_current_for_callbacks_and_their_changes_are_kept() -> None:
    X, y = problem("mse", 1, 2)
    model = nn.MLP(3, [4, 1], seed=2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    class Reset:
        def on_epoch_end(self, epoch, history):
            seen.append(parameters(model))
            if epoch == 1:  # a callback that changes the parameters: the next epoch uses them
                model.load_state_dict({name: 0.1 for name, _ in model.named_parameters()})
            return False

    fit(model, X, y, loss="mse", optimizer=opt, epochs=3, batch_size=24, progress=False,
        compiled=True, callbacks=[Reset()])
    reference = nn.MLP(3, [4, 1], seed=2)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1)
    fit(reference, X, y, loss="mse", optimizer=ref_opt, epochs=2, batch_size=24,
        progress=False, compiled=False)
    np.testing.assert_allclose(seen[1], parameters(reference), rtol=1e-10, atol=1e-12)
    assert not np.allclose(seen[2], 0.1) and np.allclose(seen[2], parameters(model))


def test_the_tape_holds_the_optimizers_parameters_not_a_copy() -> None:
    """The optimizer keeps its parameters as a tuple, and the tape takes that very tuple as
    its leading shared leaves: one sequence of a model's Values, not two."""
    X, y = problem("cross_entropy", 3, 3)
    model = nn.MLP(3, [4, 3], seed=3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert type(opt.params) is tuple and list(opt.params) == model.parameters()
    training = CompiledTraining(model, nn.losses.get("cross_entropy"), opt)
    training.trace(X, nn.losses.get("cross_entropy").encode(y, width=3))
    assert training.tape.shared is opt.params


def test_a_training_step_reads_and_writes_no_value() -> None:
    X, y = problem("cross_entropy", 3, 3)
    model = nn.MLP(3, [4, 3], seed=3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    training = CompiledTraining(model, nn.losses.get("cross_entropy"), opt)
    T = nn.losses.get("cross_entropy").encode(y, width=3)
    training.trace(X, T)
    before = parameters(model)
    _loss, raw = training.step(X, T)
    assert raw.shape == (len(X), 3)
    np.testing.assert_allclose(raw, nn.predict(model, X), rtol=1e-12)   # outputs before the step
    assert np.array_equal(parameters(model), before)                      # Values untouched
    assert not np.array_equal(training.tape.arrays.data[:len(before)], before)
    training.push()
    assert np.array_equal(parameters(model), training.tape.arrays.data[:len(before)])
    assert [p.grad for p in model.parameters()] == training.tape.arrays.grad[:len(before)].tolist()


def test_parameter_rows_are_never_widened_to_the_batch() -> None:
    model = nn.MLP(50, [40, 3], seed=0)
    tape = compile(lambda x: model(x), np.zeros(50), parameters=model.parameters())
    ops = tape.size - len(tape.placeholders) - len(tape.shared)
    assert tape.layout.rows == 50 + ops
    # the 50 inputs are read by the first layer straight from the batch, and relu runs in
    # place in its 40 activations' rows: no rows for the inputs nor the pre-activations
    assert tape.memory(1000) == 8 * (2 * (ops - 40) * 1000 + 2 * len(tape.shared))
    strategies = [group.strategy for group in tape.groups]
    assert strategies.count("matrix") == 2
    W = tape.groups[0].matrix.read("W", tape.arrays)
    assert np.shares_memory(W, tape.arrays.data) and W.shape == (40, 50)
    assert W[3, 7] == model.layers[0].neurons[3].w[7].data
    assert "matrix" in tape.program() and "relu" in tape.program()


def test_compile_places_parameters_first_in_the_order_given() -> None:
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    unused = Value(9.0)
    tape = compile(lambda x: a * x + b * c, 0.5, parameters=[c, unused, a])
    assert tape.shared[:3] == (c, unused, a)
    assert tape.arrays.data[:3].tolist() == [3.0, 9.0, 1.0]
    with pytest.raises(ag.TraceError, match="parameters must be leaves"):
        compile(lambda x: a * x, 0.5, parameters=[a * 2])
    with pytest.raises(ValueError, match="listed twice"):
        compile(lambda x: a * x, 0.5, parameters=[a, a])
    with pytest.raises(TypeError, match=r"parameters\[0\] must be a Value"):
        compile(lambda x: a * x, 0.5, parameters=[1.0])


class Branchy(nn.Module):
    """A model whose graph depends on the data: the tape cannot follow it."""

    def __init__(self):
        self.w = Value(0.5)

    def forward(self, x):
        z = self.w * x[0]
        return z * 2 if z.data > 0 else z - 1


def test_auto_falls_back_to_eager_with_one_line_and_trains_the_same() -> None:
    X = np.array([[1.0], [-1.0], [2.0], [-2.0]])
    y = np.array([1.0, 0.0, 2.0, -1.0])
    results = []
    for compiled in ("auto", False):
        model = Branchy()
        err = io.StringIO()
        with redirect_stderr(err):
            fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
                epochs=2, progress=False, compiled=compiled)
        results.append((model.w.data, err.getvalue()))
    (auto_w, message), (eager_w, quiet) = results
    assert auto_w == eager_w and quiet == ""
    assert message.count("\n") == 1 and message.startswith("fit: training eagerly")
    assert "test_compiled_arrays.py:" in message and "in forward (return z * 2" in message
    model = Branchy()                                 # compiled=True refuses the model
    with pytest.raises(ag.DataDependenceError, match=r"test_compiled_arrays\.py:\d+ in forward"):
        fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=2, progress=False, compiled=True)
    assert model.w.data == 0.5 and model.w.grad == 0.0


def blas_counts(threadpoolctl) -> list[int]:
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "blas"]


@pytest.mark.parametrize("setting, expected", [
    ("default", 1), (1, 1), (2, "before"), (None, "before")])
@pytest.mark.parametrize("nin", [300, 4])
def test_blas_threads_inside_a_tape_run_follow_the_setting(nin, setting, expected) -> None:
    """Limited when the largest product is at least SMALL_PRODUCT multiply-adds (300 x 300
    x 5 here): to 1 thread by default or when set so, and left at the user's 2 threads
    for None or a limit of 2. A tape of small products (4 x 3 x 5) leaves BLAS alone
    whatever the setting. Outside the run the user's count is back."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []
    model = nn.MLP(nin, [3 if nin < 10 else 300], activation="linear", seed=0)

    class Watch(ag.Function):
        @staticmethod
        def forward(x):
            return x

        @staticmethod
        def derivatives(x, out):
            seen.append(blas_counts(threadpoolctl))
            return (1.0 + 0.0 * x,)

    tape = compile(lambda x: Watch.apply(ag.sum(model(x))), np.zeros(nin))
    assert tape.threads == 1                              # the default
    if setting != "default":
        tape.threads = setting
    seen.clear()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_counts(threadpoolctl)
        tape.gradients(np.ones((5, nin)))
        assert blas_counts(threadpoolctl) == before          # restored after the run
    expected_counts = [1] * len(before) if expected == 1 and nin > 10 else before
    assert seen and all(threads == expected_counts for threads in seen)


def test_a_compiled_training_step_limits_blas_for_the_optimizer_too() -> None:
    """The optimizer's products (SGD's finiteness check, two dot products over every
    parameter) ran on every BLAS thread after the tape's run had restored them: with
    another process busy on a core, a step took 24 ms instead of 1.3 (benchmarks'
    blas_threads). The whole step now holds the tape's limit."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from nn.compiled import CompiledTraining

    seen = []

    class Watched(optim.SGD):
        def step_arrays(self, data, grad):
            seen.append(blas_counts(threadpoolctl))
            super().step_arrays(data, grad)

    model = nn.MLP(300, [300, 2], seed=0)
    training = CompiledTraining(model, nn.losses.get("cross_entropy"),
                                Watched(model.parameters(), lr=0.1))
    X, T = np.ones((5, 300)), np.eye(2)[[0, 1, 0, 1, 0]]
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_counts(threadpoolctl)
        assert before and min(before) >= 2                   # else the test shows nothing
        training.step(X, T)
        assert blas_counts(threadpoolctl) == before          # restored after the step
    assert seen == [[1] * len(before)]


def test_plain_sgd_on_arrays_steps_in_blocks_to_the_same_bits(monkeypatch) -> None:
    """SGD without momentum steps block by block with a work array of one block, and
    gives exactly the numbers of the general step, which it leaves to an overflow."""
    monkeypatch.setattr(optim.SGD, "CHUNK", 4)
    rng = np.random.default_rng(3)
    values = [Value(float(x)) for x in rng.normal(size=10)]
    plain, general = optim.SGD(values, lr=0.3), optim.SGD(values, lr=0.3)
    data, grad = rng.normal(size=10), rng.normal(size=10)
    expected = data.copy()
    optim.Optimizer.step_arrays(general, expected, grad)
    plain.step_arrays(data, grad)
    assert data.tobytes() == expected.tobytes() and plain.steps == 1 and plain.state == {}
    assert all(work.size <= 4 for work in plain._scratch.values())
    huge = np.full(10, 1.7e308)
    with pytest.raises(optim.NonFiniteGradientError, match="would become"):
        plain.step_arrays(huge, np.full(10, -1e308))                # overflows to inf
    assert (huge == 1.7e308).all() and plain.steps == 1
    with pytest.raises(optim.NonFiniteGradientError, match="non-finite gradient"):
        plain.step_arrays(data, np.where(np.arange(10) == 6, np.inf, 0.0))
    assert data.tobytes() == expected.tobytes() and plain.steps == 1
    big, big_grad = np.full(10, 1e200), np.full(10, 1e199)          # p . p overflows: the
    plain.step_arrays(big, big_grad)                                # general step, which
    assert (big == 1e200 - 0.3 * 1e199).all() and plain.steps == 2  # takes it
    plain.lr = 0.0                                                  # 0 * inf is NaN: still seen
    with pytest.raises(optim.NonFiniteGradientError, match="non-finite gradient"):
        plain.step_arrays(data, np.where(np.arange(10) == 2, -np.inf, 0.0))
    assert data.tobytes() == expected.tobytes() and plain.steps == 2


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_finite_step_is_never_wrongly_sure(dtype: str) -> None:
    """finite_step's bound says True only when every p - lr g is finite: checked against
    the step itself over magnitudes up to the dtype's largest, NaN and infinities."""
    rng = np.random.default_rng(7)
    top = np.log10(np.finfo(dtype).max)
    seen = set()
    for _ in range(400):
        scale_p, scale_g, scale_lr = 10.0 ** rng.uniform(-5, top, size=3)
        with np.errstate(over="ignore"):  # a cast past float32's largest: inf, as wanted
            p = (rng.normal(size=20) * scale_p).astype(dtype)
            g = (rng.normal(size=20) * scale_g).astype(dtype)
        if rng.random() < 0.1:
            g[rng.integers(20)] = rng.choice([np.nan, np.inf, -np.inf])
        lr = float(min(scale_lr, 1e30))
        with np.errstate(all="ignore"):
            finite = bool(np.isfinite(p - np.multiply(g, lr)).all())
        sure = optim.finite_step(p, g, lr)
        assert finite or not sure
        seen.add((sure, finite))
    assert (True, True) in seen and (False, False) in seen and (False, True) in seen
    assert optim.finite_step(np.ones(4, dtype), np.ones(4, dtype), 0.1)
