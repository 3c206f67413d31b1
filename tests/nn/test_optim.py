"""Optimizers against step-by-step hand computations of PyTorch's documented algorithms."""

from __future__ import annotations

import contextlib
import math
import re

import numpy as np
import pytest

import autograd_scalar as ag
from autograd_scalar import Value
from nn import optim

START = [0.5, -1.5, 2.0]
GRADS = [[0.3, -0.2, 1.0], [0.1, 0.4, -2.0], [-0.5, 0.0, 0.7], [0.2, -0.1, 0.05]]


def run(make, grads=GRADS, start=START):
    params = [Value(x) for x in start]
    opt = make(params)
    trajectory = []
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = gi
        opt.step()
        trajectory.append([p.data for p in params])
    return np.array(trajectory)


def reference(update, grads=GRADS, start=START):
    """Apply ``update(p, g, t, state) -> p`` to each parameter separately, in plain floats."""
    out = []
    for i, p in enumerate(start):
        state: dict = {}
        path = []
        for t, g in enumerate(grads, start=1):
            p = update(p, g[i], t, state)
            path.append(p)
        out.append(path)
    return np.array(out).T


def sgd_reference(lr, momentum=0.0, dampening=0.0, nesterov=False, wd=0.0):
    def update(p, g, t, state):
        g = g + wd * p
        if momentum:
            b = g if t == 1 else momentum * state["b"] + (1 - dampening) * g
            state["b"] = b
            g = g + momentum * b if nesterov else b
        return p - lr * g
    return update


def adam_reference(lr, b1, b2, eps, wd=0.0, decoupled=False):
    def update(p, g, t, state):
        if decoupled:
            p = p - lr * wd * p
        else:
            g = g + wd * p
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        m_hat = state["m"] / (1 - b1 ** t)
        v_hat = state["v"] / (1 - b2 ** t)
        return p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return update


def rmsprop_reference(lr, alpha, eps, momentum=0.0, wd=0.0):
    def update(p, g, t, state):
        g = g + wd * p
        state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
        step = g / (math.sqrt(state["v"]) + eps)
        if momentum:
            state["b"] = momentum * state.get("b", 0.0) + step
            step = state["b"]
        return p - lr * step
    return update


def adagrad_reference(lr, lr_decay=0.0, wd=0.0, initial=0.0, eps=1e-10):
    def update(p, g, t, state):
        g = g + wd * p
        state["s"] = state.get("s", initial) + g * g
        return p - lr / (1 + (t - 1) * lr_decay) * g / (math.sqrt(state["s"]) + eps)
    return update


@pytest.mark.parametrize("make, update", [
    (lambda ps: optim.SGD(ps, lr=0.1), sgd_reference(0.1)),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.01), sgd_reference(0.1, wd=0.01)),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), sgd_reference(0.1, 0.9)),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5),
     sgd_reference(0.1, 0.9, dampening=0.5)),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.1),
     sgd_reference(0.1, 0.8, nesterov=True, wd=0.1)),
    (lambda ps: optim.Adam(ps, lr=0.01), adam_reference(0.01, 0.9, 0.999, 1e-8)),
    (lambda ps: optim.Adam(ps, lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1),
     adam_reference(0.05, 0.5, 0.9, 1e-3, wd=0.1)),
    (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1),
     adam_reference(0.05, 0.9, 0.999, 1e-8, wd=0.1, decoupled=True)),
    (lambda ps: optim.RMSProp(ps, lr=0.01), rmsprop_reference(0.01, 0.99, 1e-8)),
    (lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.2),
     rmsprop_reference(0.01, 0.9, 1e-8, momentum=0.5, wd=0.2)),
    (lambda ps: optim.Adagrad(ps, lr=0.1), adagrad_reference(0.1)),
    (lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.5, weight_decay=0.1,
                              initial_accumulator_value=0.2),
     adagrad_reference(0.1, 0.5, 0.1, 0.2)),
])
def test_each_update_rule_follows_its_published_formula(make, update):
    assert np.allclose(run(make), reference(update), rtol=1e-12, atol=1e-14)


def test_first_steps_have_the_known_sizes():
    # Adam and Adagrad: the first step is lr * g / |g| (up to eps); RMSProp's is
    # lr * g / (sqrt(1 - alpha) |g|), ten times lr for alpha = 0.99.
    grads = [[0.3, -20.0, 1e-3]]
    start = np.array(START)
    for make, size in [(lambda ps: optim.Adam(ps, lr=0.01), 0.01),
                       (lambda ps: optim.Adagrad(ps, lr=0.01), 0.01),
                       (lambda ps: optim.RMSProp(ps, lr=0.01), 0.1)]:
        moved = run(make, grads)[0] - start
        assert np.allclose(moved, -size * np.sign(grads[0]), rtol=1e-4)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.02, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=1e-4),
    lambda ps: optim.RMSProp(ps, lr=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.5),
])
def test_every_optimizer_finds_the_minimum_of_a_quadratic(make):
    # f(x, y) = (x - 3)^2 + 10 (y + 1)^2, minimum at (3, -1)
    x, y = Value(0.0), Value(0.0)
    opt = make([x, y])
    for _ in range(500):
        opt.zero_grad()
        ((x - 3) ** 2 + 10 * (y + 1) ** 2).backward()
        opt.step()
    assert x.data == pytest.approx(3.0, abs=0.02)
    assert y.data == pytest.approx(-1.0, abs=0.02)


def test_zero_grad_clears_every_gradient():
    params = [Value(1.0), Value(2.0)]
    for p in params:
        p.grad = 5.0
    optim.SGD(params, lr=0.1).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


def test_named_parameters_and_models_give_names_to_errors():
    class Model:
        def named_parameters(self):
            return [("layer.w", Value(1.0)), ("layer.b", Value(0.0))]

    opt = optim.SGD(Model(), lr=0.1)
    assert opt.names == ["layer.w", "layer.b"]
    assert optim.SGD([Value(1.0, label="w")], lr=1).names == ["parameter 0 ('w')"]


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.Adagrad(ps, lr=0.1),
])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_gradient_raises_naming_the_parameter_and_changes_nothing(make, bad):
    params = [Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")]
    opt = make(params)
    for p in params:
        p.grad = 0.5
    opt.step()
    before = [p.data for p in params], {k: v.copy() for k, v in opt.state.items()}, opt.steps
    params[1].grad = bad
    with pytest.raises(optim.NonFiniteGradientError, match=r"parameter 1 \('b'\)") as info:
        opt.step()
    assert info.value.parameter is params[1]
    assert [p.data for p in params] == before[0]
    assert opt.state.keys() == before[1].keys()
    assert all(np.array_equal(opt.state[k], before[1][k]) for k in before[1])
    assert opt.steps == before[2]


def test_an_update_that_overflows_is_refused():
    p = Value(1e308, label="big")
    p.grad = -1e308
    with pytest.raises(optim.NonFiniteGradientError, match="would become inf"):
        optim.SGD([p], lr=10.0).step()
    assert p.data == 1e308


@pytest.mark.parametrize("call, message", [
    (lambda ps: optim.SGD(ps, lr=0), "lr must be a number in (0, inf)"),
    (lambda ps: optim.SGD(ps, lr=-1), "lr must be"),
    (lambda ps: optim.SGD(ps, lr=math.nan), "lr must be"),
    (lambda ps: optim.SGD(ps, lr="0.1"), "lr must be"),
    (lambda ps: optim.SGD(ps, lr=True), "lr must be"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.1), "momentum must be"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "weight_decay must be"),
    (lambda ps: optim.SGD(ps, lr=0.1, dampening=2), "dampening must be"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), "betas[1] must be a number in [0, 1)"),
    (lambda ps: optim.Adam(ps, betas=(-0.1, 0.9)), "betas[0] must be"),
    (lambda ps: optim.Adam(ps, betas=0.9), "betas must be a pair"),
    (lambda ps: optim.Adam(ps, eps=0), "eps must be a number in (0, inf)"),
    (lambda ps: optim.AdamW(ps, weight_decay=-0.1), "weight_decay must be"),
    (lambda ps: optim.RMSProp(ps, alpha=1.0), "alpha must be a number in [0, 1)"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "lr_decay must be"),
    (lambda ps: optim.SGD([], lr=0.1), "params is empty"),
    (lambda ps: optim.SGD(ps + ps[:1], lr=0.1), "parameter 2 is the same Value as parameter 0"),
])
def test_bad_hyperparameters_are_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call([Value(1.0), Value(2.0)])


def test_params_of_the_wrong_kind_are_type_errors():
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value"):
        optim.SGD([Value(1.0), 2.0], lr=0.1)
    with pytest.raises(TypeError, match="params must be a model"):
        optim.SGD(Value(1.0), lr=0.1)
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        optim.SGD([Value(1.0)], lr=0.1, momentum=0.9, nesterov=1)


def test_lr_can_be_changed_but_not_to_a_bad_value():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    opt.lr = 0.0
    assert opt.lr == 0.0
    with pytest.raises(ValueError, match="lr must be"):
        opt.lr = -0.5
    assert opt.lr == 0.0


# -- gradient clipping ----------------------------------------------------------------

def with_grads(grads):
    params = [Value(0.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def test_clip_grad_norm_scales_the_whole_gradient_to_the_limit():
    params = with_grads([3.0, -4.0, 12.0])
    assert optim.clip_grad_norm(params, 6.5) == pytest.approx(13.0)
    clipped = np.array([p.grad for p in params])
    assert np.linalg.norm(clipped) == pytest.approx(6.5, rel=1e-6)
    assert np.allclose(clipped / np.linalg.norm(clipped), np.array([3, -4, 12]) / 13)


def test_clip_grad_norm_scales_gradients_whose_squares_overflow():
    """Past 1e154 the squares overflow and the norm was inf: every gradient became 0."""
    import warnings

    params = with_grads([3e200, -4e200])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = optim.clip_grad_norm(params, 1.0)
    assert norm == pytest.approx(5e200, rel=1e-15)
    assert [p.grad for p in params] == pytest.approx([0.6, -0.8], rel=1e-15)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = with_grads([0.3, -0.4])
    assert optim.clip_grad_norm(params, 1.0) == pytest.approx(0.5)
    assert [p.grad for p in params] == [0.3, -0.4]


def test_clip_grad_value_clamps_each_gradient():
    params = with_grads([3.0, -0.2, -7.0])
    optim.clip_grad_value(params, 1.0)
    assert [p.grad for p in params] == [1.0, -0.2, -1.0]


def test_clipping_a_non_finite_gradient_raises_and_changes_nothing():
    params = with_grads([3.0, math.nan, 1.0])
    for clip in (optim.clip_grad_norm, optim.clip_grad_value):
        with pytest.raises(optim.NonFiniteGradientError, match="parameter 1"):
            clip(params, 1.0)
        assert params[0].grad == 3.0 and params[2].grad == 1.0
    with pytest.raises(ValueError, match="max_norm must be"):
        optim.clip_grad_norm(with_grads([1.0]), 0.0)
    with pytest.raises(ValueError, match="clip_value must be"):
        optim.clip_grad_value(with_grads([1.0]), -1.0)


# -- state dicts ------------------------------------------------------------------------

def resumed(make, other):
    """Two steps by ``make(params)``, its state through JSON into ``other(params)``, the
    remaining steps by that one: (the first optimizer, the second, the parameters)."""
    import json

    params = [Value(x) for x in START]
    first = make(params)
    for g in GRADS[:2]:
        for p, gi in zip(params, g):
            p.grad = gi
        first.step()
    second = other(params)
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    saved = second.state_dict()
    for g in GRADS[2:]:
        for p, gi in zip(params, g):
            p.grad = gi
        second.step()
    return first.state_dict(), saved, params


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.05),
    lambda ps: optim.RMSProp(ps, lr=0.01, momentum=0.5),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1),
])
def test_a_reloaded_optimizer_continues_exactly_where_it_stopped(make):
    _, _, params = resumed(make, make)
    assert [p.data for p in params] == pytest.approx(list(run(make)[-1]), rel=1e-12)


@pytest.mark.parametrize("change, message", [
    (lambda s: s | {"optimizer": "SGD"}, "from a 'SGD' optimizer"),
    (lambda s: s | {"steps": -1}, "steps must be an int from 0 to 2**53"),
    (lambda s: s | {"lr": 0.0} | {"lr": -1.0}, "lr must be"),
    (lambda s: s | {"state": {"velocity": [0.0] * 3}}, "state buffers must be among"),
    (lambda s: s | {"state": {"m": [0.0] * 2, "v": [0.0] * 3}},
     "buffer 'm' must be a list of 3"),
    (lambda s: s | {"state": {"m": [0.0, math.nan, 0.0], "v": [0.0] * 3}},
     "finite numbers, one per parameter; got nan at index 1"),
    (lambda s: s | {"state": {"m": [0.0, 0.0, 10 ** 400], "v": [0.0] * 3}},
     "got a number past float range at index 2"),
    # numbers in name only: text and bools are not numbers, as in a model file
    (lambda s: s | {"state": {"m": [0.0, 0.0, "0.5"], "v": [0.0] * 3}},
     "must be a list of 3 finite numbers, one per parameter; got str '0.5' at index 2"),
    (lambda s: s | {"state": {"m": [True] * 3, "v": [0.0] * 3}},
     "must be a list of 3 finite numbers, one per parameter; got bool True at index 0"),
    (lambda s: s | {"state": {"m": [0.0] * 3, "v": [-1.0, 0.0, 0.0]}},
     "buffer 'v' sums squares, so none of its numbers can be negative"),
    # after steps, Adam keeps both moments: a state without them is from other settings
    (lambda s: s | {"state": {"m": [0.0] * 3}}, "the state has no ['v']"),
    (lambda s: s | {"state": {}}, "the state has no ['m', 'v']"),
    # Adam's moments at 0 steps would skip the bias correction's start
    (lambda s: s | {"steps": 0}, "a state of 0 steps has no buffers, got ['m', 'v']"),
    (lambda s: {"lr": 0.1}, "expected a dict with keys"),
    # one key short or one too many was a 300-character dump of the dict, naming neither
    (lambda s: {k: v for k, v in s.items() if k != "steps"}, "this one lacks 'steps'"),
    (lambda s: s | {"epoch": 3}, "this one has 'epoch' too"),
])
def test_a_bad_state_dict_changes_nothing(change, message):
    params = [Value(x) for x in START]
    opt = optim.Adam(params, lr=0.05)
    for p in params:
        p.grad = 1.0
    opt.step()
    before = opt.state_dict()
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.load_state_dict(change(opt.state_dict()))
    assert opt.state_dict() == before


def test_a_momentum_buffer_without_its_settings_is_refused_by_an_sgd_without_momentum():
    """A state saved without its settings: the buffer would have been dropped, silently,
    at the next step."""
    params = [Value(x) for x in START]
    with_momentum = optim.SGD(params, lr=0.1, momentum=0.9)
    for p in params:
        p.grad = 1.0
    with_momentum.step()
    plain = optim.SGD(params, lr=0.1)
    before = plain.state_dict()
    saved = with_momentum.state_dict()
    del saved["settings"]
    with pytest.raises(ValueError, match=re.escape("SGD.load_state_dict: this optimizer's "
                                                   "settings keep no buffers; the state has "
                                                   "['momentum']")):
        plain.load_state_dict(saved)
    assert plain.state_dict() == before


@pytest.mark.parametrize("make, other", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda ps: optim.SGD(ps, lr=0.5)),
    (lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-6),
     lambda ps: optim.Adam(ps)),
    (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1), lambda ps: optim.AdamW(ps)),
    (lambda ps: optim.RMSProp(ps, lr=0.01, alpha=0.9, momentum=0.5),
     lambda ps: optim.RMSProp(ps)),
    (lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5),
     lambda ps: optim.Adagrad(ps)),
])
def test_a_state_carries_its_settings_into_an_optimizer_made_with_others(make, other):
    """Only lr was saved: a state of Adam with betas (0.8, 0.95) loaded into an Adam with
    the defaults went on with the defaults, its moments no longer the ones it kept.
    Loaded now, the settings come along (as PyTorch restores a param group's) and the
    run continues exactly as the optimizer that saved it would have."""
    saved, loaded, params = resumed(make, other)
    assert loaded == saved
    assert [p.data for p in params] == pytest.approx(list(run(make)[-1]), rel=1e-12)


@pytest.mark.parametrize("settings, message", [
    ({"betas": [0.9, 1.5], "eps": 1e-8, "weight_decay": 0.0}, r"betas\[1\] must be"),
    ({"betas": [0.9, 0.999], "eps": 1e-8}, "settings must be a dict of betas, eps, "
                                            "weight_decay"),
    ({"betas": [0.9, 0.999], "eps": -1.0, "weight_decay": 0.0}, "eps must be"),
    ([0.9], "settings must be a dict"),
])
def test_saved_settings_are_checked_as_the_constructor_checks_them(settings, message):
    params = [Value(x) for x in START]
    opt = optim.Adam(params, lr=0.05)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(before | {"settings": settings})
    assert opt.state_dict() == before and opt.betas == (0.9, 0.999)


@pytest.mark.parametrize("bad", ["3", b"3", None, Value(1.0), True])
def test_a_gradient_that_is_not_a_real_number_is_refused_and_changes_nothing(bad):
    p, q = Value(1.0, label="w"), Value(2.0, label="v")
    p.grad = 0.5
    try:
        q.grad = bad
    except TypeError:  # the compiled core keeps grad as a C double: refused on assignment
        assert ag.compiled() and q.grad == 0.0
        return
    if type(q.grad) is float:  # ... and stores True as 1.0, a real number
        assert ag.compiled() and bad is True and q.grad == 1.0
        return
    opt = optim.Adam([p, q], lr=0.1)
    with pytest.raises(TypeError, match=r"parameter 1 .*gradient must be a real number"):
        opt.step()
    assert (p.data, q.data) == (1.0, 2.0)


# -- Ctrl-C: a step is all or nothing ----------------------------------------------------

INTERRUPTED = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.RMSProp(ps, lr=0.1, momentum=0.5),
    lambda ps: optim.Adagrad(ps, lr=0.1),
]


def progress_of(params, opt):
    """Everything a step changes: the parameters, the state buffers, the step count."""
    return ([p.data for p in params], {k: v.tolist() for k, v in opt.state.items()},
            opt.steps)


def stepped_once(make):
    """Three parameters and their optimizer after one step, gradients set for the next."""
    params = [Value(x, label=f"p{i}") for i, x in enumerate(START)]
    opt = make(params)
    for grads in GRADS[:2]:
        for p, g in zip(params, grads):
            p.grad = g
        if grads is GRADS[0]:
            opt.step()
    return params, opt


def keyboard_interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("make", INTERRUPTED)
@pytest.mark.parametrize("where", ["reading the gradients", "checking them",
                                   "computing the update"])
def test_ctrl_c_before_the_commit_changes_nothing(monkeypatch, make, where):
    params, opt = stepped_once(make)
    before = progress_of(params, opt)
    if where == "reading the gradients":
        monkeypatch.setattr(optim, "gradient_array", keyboard_interrupt)
    elif where == "checking them":
        monkeypatch.setattr(optim, "check_finite_gradients", keyboard_interrupt)
    else:
        monkeypatch.setattr(opt, "update", keyboard_interrupt)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert progress_of(params, opt) == before


def sigint_after(monkeypatch, writes):
    """Make a real SIGINT arrive while the optimizer's commit loop is ``writes`` items in
    (``zip`` is what that loop iterates; the hook sits in nn.optim's globals)."""
    import builtins
    import signal
    count = [0]

    def zip_that_interrupts(*iterables):
        for item in builtins.zip(*iterables):
            if count[0] == writes:
                signal.raise_signal(signal.SIGINT)
            count[0] += 1
            yield item
    monkeypatch.setattr(optim, "zip", zip_that_interrupts, raising=False)


@pytest.mark.parametrize("make", INTERRUPTED)
@pytest.mark.parametrize("writes", [0, 1, 2])
def test_ctrl_c_during_the_commit_lands_after_the_whole_step(monkeypatch, make, writes):
    params, opt = stepped_once(make)
    expected_params, expected_opt = stepped_once(make)
    expected_opt.step()
    sigint_after(monkeypatch, writes)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert progress_of(params, opt) == progress_of(expected_params, expected_opt)
    assert opt.steps == 2


class InterruptedArray(np.ndarray):
    """Parameter data whose write is interrupted by a real SIGINT as it happens."""

    def __setitem__(self, key, value):
        import signal
        super().__setitem__(key, value)
        signal.raise_signal(signal.SIGINT)


def test_step_arrays_commits_data_state_and_count_together():
    data, grad = np.array(START).view(InterruptedArray), np.array(GRADS[0])
    opt = optim.Adam([Value(x) for x in START], lr=0.1)
    expected = optim.Adam([Value(x) for x in START], lr=0.1)
    expected_data = np.array(START)
    expected.step_arrays(expected_data, grad)
    with pytest.raises(KeyboardInterrupt):
        opt.step_arrays(data, grad)
    assert data.tolist() == expected_data.tolist()
    assert opt.steps == 1 and {k: v.tolist() for k, v in opt.state.items()} == {
        k: v.tolist() for k, v in expected.state.items()}


def test_ctrl_c_in_eager_fit_stops_between_steps(monkeypatch):
    import nn
    from nn.data import moons

    X, y = moons(40, noise=0.1, seed=0)

    def untrained():
        model = nn.MLP(2, [4, 1], seed=0)
        return model, optim.Adam(model, lr=0.05)

    reference, reference_opt = untrained()
    nn.fit(reference, X, y, loss="bce_with_logits", optimizer=reference_opt, epochs=3,
           compiled=False, progress=False, seed=0)
    model, opt = untrained()
    count = len(opt.params)
    sigint_after(monkeypatch, 2 * count + count // 2)  # half way through step 3's writes
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, X, y, loss="bce_with_logits", optimizer=opt, epochs=10, compiled=False,
               progress=False, seed=0)
    assert opt.steps == 3
    assert model.state_dict() == reference.state_dict()
    assert all(np.array_equal(opt.state[k], reference_opt.state[k]) for k in ("m", "v"))


class InterruptedAtStep(optim.SGD):
    """SGD that meets a real SIGINT while it stores its ``at``-th update (held back by
    interrupts_deferred, raised as the store ends)."""

    at: int | None = None

    def __setattr__(self, name, value):
        import signal
        if name == "state" and self.at is not None and self.steps + 1 == self.at:
            signal.raise_signal(signal.SIGINT)
        super().__setattr__(name, value)


@pytest.mark.parametrize("val", [False, True])
def test_ctrl_c_in_compiled_fit_leaves_the_model_at_the_optimizers_step(val):
    """After validation (a push), a Ctrl-C raised as step_arrays ended skipped the
    step's write-back: the Values stayed a step behind the optimizer's count and state."""
    import nn
    from nn.data import moons

    X, y = moons(40, noise=0.1, seed=0)
    held = (X, y) if val else None

    def trained(optimizer_class, epochs):
        model = nn.MLP(2, [4, 1], seed=0)
        opt = optimizer_class(model.parameters(), lr=0.1, momentum=0.9)
        opt.at = 3 if optimizer_class is InterruptedAtStep else None
        with contextlib.suppress(KeyboardInterrupt):
            nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=epochs, compiled=True,
                   progress=False, val=held)
        return model, opt

    model, opt = trained(InterruptedAtStep, 5)
    assert opt.steps == 3
    reference, _ = trained(optim.SGD, 3)
    np.testing.assert_allclose([p.data for p in model.parameters()],
                               [p.data for p in reference.parameters()], rtol=1e-12)


class HalfMomentumAdam(optim.Adam):
    """A subclass with a constructor of its own: the settings are Adam's."""

    def __init__(self, params, lr=0.05):
        super().__init__(params, lr, betas=(0.5, 0.9))


def test_a_subclass_with_its_own_constructor_reloads_its_state():
    """The settings are checked by the constructor of the class that declares them, not
    by the subclass's, whose arguments may be others."""
    params = [Value(x) for x in START]
    first = HalfMomentumAdam(params)
    for p in params:
        p.grad = 1.0
    first.step()
    second = HalfMomentumAdam(params, lr=0.1)
    second.load_state_dict(first.state_dict())
    assert second.state_dict() == first.state_dict() and second.betas == (0.5, 0.9)


# ---------------------------------------------------------------------------
# Settings changed later, state past float range, parameters that cannot be stepped
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, name, bad, message", [
    (lambda ps: optim.Adam(ps, lr=0.1), "eps", -1.0, "eps must be a number in (0, inf)"),
    (lambda ps: optim.Adam(ps, lr=0.1), "betas", (0.9, 1.0), "betas[1] must be"),
    (lambda ps: optim.AdamW(ps, lr=0.1), "weight_decay", math.nan, "weight_decay must be"),
    (lambda ps: optim.SGD(ps, lr=0.1), "momentum", "0.5", "momentum must be"),
    (lambda ps: optim.SGD(ps, lr=0.1), "nesterov", 1, "nesterov must be True or False"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), "dampening", 0.5,
     "nesterov=True needs momentum > 0 and dampening = 0"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), "momentum", 0.0,
     "nesterov=True needs momentum > 0"),
    (lambda ps: optim.RMSProp(ps, lr=0.1), "alpha", 2.0, "alpha must be a number in [0, 1)"),
    (lambda ps: optim.Adagrad(ps, lr=0.1), "initial_accumulator_value", -1.0,
     "initial_accumulator_value must be"),
])
def test_a_setting_changed_later_is_checked_as_the_constructor_checks_it(make, name, bad,
                                                                         message):
    """Only lr was checked when set after the constructor: eps = -1 made Adam climb."""
    params, opt = stepped_once(make)
    before, settings = progress_of(params, opt), opt.state_dict()["settings"]
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        setattr(opt, name, bad)
    assert opt.state_dict()["settings"] == settings
    opt.step()                                    # and it still steps as it did
    expected_params, expected = stepped_once(make)
    expected.step()
    assert progress_of(params, opt) == progress_of(expected_params, expected) != before


def test_settings_are_kept_as_plain_python_numbers_so_the_state_stays_json_ready():
    import json
    opt = optim.SGD([Value(1.0)], lr=0.1, momentum=np.float64(0.9), nesterov=np.True_)
    opt.momentum = np.float32(0.5)
    state = opt.state_dict()
    state["steps"] = np.int64(3)
    state["state"] = {"momentum": [0.25]}
    opt.load_state_dict(state)
    assert type(opt.nesterov) is bool and type(opt.momentum) is float
    assert type(opt.steps) is int
    assert json.loads(json.dumps(opt.state_dict())) == opt.state_dict()


@pytest.mark.parametrize("make, buffer", [
    (lambda ps: optim.Adam(ps, lr=0.1), "v"),
    (lambda ps: optim.RMSProp(ps, lr=0.1), "square_avg"),
    (lambda ps: optim.Adagrad(ps, lr=0.1), "sum"),
])
@pytest.mark.parametrize("arrays", [False, True])
def test_a_state_that_would_overflow_is_refused_like_a_non_finite_step(make, buffer, arrays):
    """A gradient of 1e200 is finite; its square, inf, made v infinite and the parameter
    never moved again (its step g / sqrt(inf) is 0), and the saved state would not load."""
    params, opt = stepped_once(make)
    params[1].grad = 1e200
    before = progress_of(params, opt)
    with pytest.raises(optim.NonFiniteGradientError,
                       match=re.escape(f"parameter 1 ('p1')'s {buffer} buffer would "
                                       "become inf (gradient 1e+200)")) as caught:
        if arrays:
            data = np.array([p.data for p in params])
            opt.step_arrays(data, np.array([p.grad for p in params]))
            assert data.tolist() == before[0]
        else:
            opt.step()
    assert caught.value.parameter is params[1]
    assert progress_of(params, opt) == before


def test_params_in_a_set_are_refused_for_their_order_changes_from_run_to_run():
    with pytest.raises(TypeError, match="got a set, whose order changes"):
        optim.SGD({Value(1.0), Value(2.0)}, lr=0.1)


def test_a_value_an_op_made_is_not_a_parameter():
    a = Value(1.0)
    with pytest.raises(ValueError, match=re.escape("parameter 1 is the result of an op (*), "
                                                   "not a leaf")):
        optim.Adam([a, a * 2], lr=0.1)


@pytest.mark.parametrize("change, message", [
    (lambda s: s | {"steps": 10 ** 400}, "steps must be an int from 0 to 2**53, got an int of "
     "about 401 digits"),
    (lambda s: s | {"state": {"m": [10 ** 400, 0.0, 0.0], "v": [0.0] * 3}},
     "buffer 'm' must be a list of 3 finite numbers, one per parameter; got a number past "
     "float range"),
    (lambda s: s | {"state": {"m": [0.0] * 5, "v": [0.0] * 5}},
     "buffer 'm' must be a list of 3 finite numbers, one per parameter; got 5 numbers (a "
     "state of another model?)"),
    (lambda s: s | {"lr": math.inf}, "Adam.load_state_dict: lr must be"),
])
def test_numbers_past_float_range_in_a_state_are_named_errors(change, message):
    _, opt = stepped_once(lambda ps: optim.Adam(ps, lr=0.05))
    before = opt.state_dict()
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.load_state_dict(change(opt.state_dict()))
    assert opt.state_dict() == before


@pytest.mark.parametrize("saved, into", [
    (dict(momentum=0.0), dict(momentum=0.9, nesterov=True)),
    (dict(momentum=0.9, nesterov=True), dict(momentum=0.0)),
    (dict(momentum=0.9, dampening=0.1), dict(momentum=0.5, nesterov=True)),
])
def test_settings_that_depend_on_each_other_load_together(saved, into):
    """Loading set them one by one, each checked against the rest as they stood: a
    Nesterov SGD refused a plain one's valid state, and kept the settings set before."""
    source = optim.SGD([Value(1.0)], lr=0.1, **saved)
    target = optim.SGD([Value(1.0)], lr=0.1, **into)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()


def test_a_refused_state_leaves_every_setting_as_it_was():
    target = optim.SGD([Value(1.0)], lr=0.1, momentum=0.5, nesterov=True)
    state = optim.SGD([Value(1.0)], lr=0.1, momentum=0.9).state_dict()
    state["settings"]["dampening"] = 2.0
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"SGD\.load_state_dict: the saved settings are "
                                         r"refused"):
        target.load_state_dict(state)
    assert target.state_dict() == before


def test_ordered_views_and_made_values_are_taken_where_they_may_be():
    """A dict's items keep their order (only a set is refused), and clipping writes
    gradients, so it takes a Value an op made (only optimizers refuse one)."""
    x = Value(2.0)
    y = x * x
    y.grad = 5.0
    named = {"x": x}
    assert optim.SGD(named.items(), lr=0.1).names == ["x"]
    optim.clip_grad_value([y], 1.0)
    assert y.grad == 1.0


def test_a_loaded_state_meets_the_optimizers_own_check_of_its_settings():
    """The saved settings were checked by the class that declares them and written
    straight in: a subclass refusing momentum 0.9 when set took it from a file."""

    class CappedSGD(optim.SGD):
        def check_settings(self):
            super().check_settings()
            if self.momentum > 0.5:
                raise ValueError(f"momentum at most 0.5 here, got {self.momentum}")

    capped = CappedSGD([Value(1.0)], lr=0.1, momentum=0.5)
    before = capped.state_dict()
    saved = capped.state_dict()
    saved["settings"]["momentum"] = 0.9
    with pytest.raises(ValueError, match=re.escape("refused: momentum at most 0.5 here, got 0.9")):
        capped.load_state_dict(saved)
    assert capped.state_dict() == before


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1),
                                  lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.1)])
@pytest.mark.parametrize("data, grad, message", [
    (np.arange(3), np.ones(3), "data must be a NumPy array of float64 or float32, got an "
                               "array of int64"),
    ([0.0] * 3, [1.0] * 3, "data must be a NumPy array of float64 or float32, got list"),
    (np.zeros(3), np.ones(3) + 0j, "grad must be a NumPy array of float64 or float32, got an "
                                   "array of complex128"),
    (np.zeros(3), np.ones(3, dtype=bool), "grad must be a NumPy array of float64 or float32, "
                                          "got an array of bool"),
])
def test_step_arrays_names_arrays_of_the_wrong_kind(make, data, grad, message) -> None:
    """Int data gave NumPy's "not inexact" (Adam: UFuncTypeError), lists an AttributeError,
    a complex gradient a ComplexWarning and then a casting error, and a bool gradient
    was taken as 0/1."""
    optimizer = make([Value(float(i)) for i in range(3)])
    kept = np.array(data, copy=True)
    with pytest.raises(TypeError, match=f"^step_arrays: {re.escape(message)}$"):
        optimizer.step_arrays(data, grad)
    assert optimizer.steps == 0 and np.array_equal(np.asarray(data), kept)
