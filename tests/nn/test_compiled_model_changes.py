"""A compiled model follows the model: a kept trace is used only while it stands for it.

The compiled predictor is kept per model beside the model's key (nn.model_key):
loading a file onto a Standardized model, replacing a layer or a parameter, or a
new scaling traces anew, and predictions and fit's validation equal the eager
ones; an unchanged model (its parameters' numbers may change) is not traced
again. fit's compiled training traces anew when a callback changes the model.
"""

from __future__ import annotations

import gc
import re
import weakref

import numpy as np
import pytest

import nn
import nn.activations
import nn.compiled
from autograd_scalar import Value
from nn import Layer, Standardized
from nn.data import Standardizer
from nn.model_key import _walk, model_key

RTOL = 1e-12


def counted_calls(monkeypatch, module, name):
    """A list whose one number counts the calls of ``module.name`` from now on."""
    count = [0]
    original = getattr(module, name)

    def counted(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return count


@pytest.fixture
def traces(monkeypatch):
    """Counts the traces nn.compiled makes."""
    return counted_calls(monkeypatch, nn.compiled, "compile")


def data(n=40, seed=0):
    X, y = nn.data.moons(n, noise=0.1, seed=seed)
    return X * [3.0, 0.5] + [1.0, -2.0], y  # features far from standardized


def standardized(seed, X):
    return Standardized(nn.MLP(2, [8, 1], seed=seed), Standardizer.fit(X))


def assert_same_predictions(model, X):
    eager = nn.predict(model, X, compiled=False)
    np.testing.assert_allclose(nn.predict(model, X, compiled=True), eager, rtol=RTOL,
                               atol=RTOL * np.max(np.abs(eager)))


def test_loading_a_file_onto_a_standardized_model_traces_anew(tmp_path, traces) -> None:
    X, _ = data()
    model = standardized(0, X)
    assert_same_predictions(model, X)
    other = Standardized(nn.MLP(2, [8, 1], seed=1),
                         Standardizer(np.array([3.0, -2.0]), np.array([0.5, 4.0])))
    other.save(tmp_path / "other.json")
    model.load(tmp_path / "other.json")
    assert_same_predictions(model, X)
    np.testing.assert_allclose(nn.predict(model, X, compiled=True), nn.predict(other, X),
                               rtol=RTOL)
    assert traces[0] == 2  # before and after the load


def test_changing_the_scaling_traces_anew(traces) -> None:
    X, _ = data()
    model = standardized(0, X)
    assert_same_predictions(model, X)
    model.scaler = Standardizer(model.scaler.mean + 1.0, model.scaler.std * 2.0)
    assert_same_predictions(model, X)
    with pytest.raises(ValueError, match="read-only"):  # frozen, arrays included
        model.scaler.mean[0] = 7.0
    assert_same_predictions(model, X)
    assert traces[0] == 2


def test_replacing_a_layer_traces_anew(traces) -> None:
    X, _ = data()
    model = nn.MLP(2, [8, 8, 1], seed=0)
    assert_same_predictions(model, X)
    model.layers[1] = Layer(8, 8, seed=5)
    assert_same_predictions(model, X)
    model.layers = [*model.layers, Layer(1, 2, activation="linear", seed=6)]
    assert nn.predict(model, X, compiled=True).shape == (len(X), 2)
    assert_same_predictions(model, X)
    assert traces[0] == 3


def test_replacing_a_parameter_traces_anew(traces) -> None:
    X, _ = data()
    model = nn.MLP(2, [8, 1], seed=0)
    assert_same_predictions(model, X)
    model.layers[1].neurons[0].b = Value(5.0)
    assert_same_predictions(model, X)
    model.layers[0].neurons[3].w[1] = Value(-4.0)  # inside a list, in place
    assert_same_predictions(model, X)
    assert traces[0] == 3


def test_changing_an_attribute_that_shapes_the_function_traces_anew(traces) -> None:
    X, _ = data()
    model = nn.MLP(2, [8, 1], seed=0)
    assert_same_predictions(model, X)
    for neuron in model.layers[0].neurons:  # activation itself is fixed: the function
        neuron._act = nn.activations.get("tanh")
    assert_same_predictions(model, X)
    assert traces[0] == 2


def test_an_unchanged_model_is_not_traced_again(traces) -> None:
    X, y = data()
    model = standardized(0, X)
    for _ in range(3):
        assert_same_predictions(model, X)
    model.load_state_dict({name: 0.5 for name in model.state_dict()})  # numbers only
    assert_same_predictions(model, X)
    assert traces[0] == 1
    nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
           epochs=3, val=(X, y), progress=False, compiled=True)
    assert traces[0] == 2  # the training tape; validation reused the predictor
    assert_same_predictions(model, X)
    assert traces[0] == 2


def test_fits_validation_sees_a_loaded_model(tmp_path) -> None:
    X, y = data()
    X_val, y_val = data(30, seed=1)
    model = standardized(0, X)
    nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
           epochs=1, val=(X_val, y_val), progress=False, compiled=True)
    standardized(1, X_val * 2.0).save(tmp_path / "other.json")
    histories = []
    for compiled in (True, False):
        model.load(tmp_path / "other.json")
        histories.append(nn.fit(model, X, y, loss="hinge", epochs=2, val=(X_val, y_val),
                                optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
                                progress=False, compiled=compiled))
    np.testing.assert_allclose(histories[0].val_loss, histories[1].val_loss, rtol=1e-9)
    np.testing.assert_allclose(histories[0].loss, histories[1].loss, rtol=1e-9)


class LoadAfterFirstEpoch:
    """A callback that loads a file onto the model at the end of epoch 0."""

    def __init__(self, model, path) -> None:
        self.model, self.path = model, path

    def on_epoch_end(self, epoch, history) -> bool:
        if epoch == 0:
            self.model.load(self.path)
        return False


class ReplaceLayerAfterFirstEpoch:
    """A callback that gives the model a new first layer at the end of epoch 0."""

    def __init__(self, model) -> None:
        self.model = model

    def on_epoch_end(self, epoch, history) -> bool:
        if epoch == 0:
            self.model.layers[0] = Layer(2, 8, seed=9)
        return False


@pytest.mark.parametrize("compiled", [True, "auto"])
def test_compiled_training_follows_a_model_changed_by_a_callback(tmp_path, compiled) -> None:
    """A file loaded onto the model, and a new first layer where the optimizer trains only
    the last (the first frozen): compiled and eager training agree after the change, and
    the new layer's gradients are the last batch's, not summed over the steps."""
    X, y = data()
    standardized(1, X * 2.0).save(tmp_path / "other.json")
    for make, callback, trained in (
            (lambda: standardized(0, X), LoadAfterFirstEpoch, lambda m: m.parameters()),
            (lambda: nn.MLP(2, [8, 1], seed=0), ReplaceLayerAfterFirstEpoch,
             lambda m: m.layers[1].parameters())):
        runs = []
        for mode in (compiled, False):
            model = make()
            hook = (callback(model, tmp_path / "other.json") if callback is LoadAfterFirstEpoch
                    else callback(model))
            history = nn.fit(model, X, y, loss="hinge", epochs=3, val=(X, y), callbacks=[hook],
                             optimizer=nn.optim.SGD(trained(model), lr=0.1),
                             batch_size=16, seed=2, progress=False, compiled=mode)
            runs.append((history, [(p.data, p.grad) for p in model.parameters()]))
        (found, found_params), (eager, eager_params) = runs
        np.testing.assert_allclose(found.loss, eager.loss, rtol=1e-9)
        np.testing.assert_allclose(found.val_loss, eager.val_loss, rtol=1e-9)
        np.testing.assert_allclose(found_params, eager_params, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("compiled", [True, "auto", False])
def test_a_callback_that_replaces_trained_parameters_is_refused_before_the_next_step(
        compiled) -> None:
    """A callback that swapped in a new layer the optimizer trains left it stepping the old
    layer's Values, no longer in the model, while the new layer never trained, with no
    word said (and the next fit call refused that optimizer). Now the step after the
    callback is refused, naming a parameter; the epoch before it stands."""
    X, y = data()
    model = nn.MLP(2, [8, 1], seed=0)
    old = model.layers[0]
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=re.escape(
            "after the callbacks' epoch 0's on_epoch_end: the optimizer's parameter 0 "
            "('w[0]') is not a parameter of this model; make the optimizer "
            "from model.parameters(); a callback changed the model (the 3 updates of this "
            "call stand)")):
        nn.fit(model, X, y, loss="hinge", epochs=3, callbacks=[ReplaceLayerAfterFirstEpoch(
            model)], optimizer=optimizer, batch_size=16, seed=2, progress=False,
            compiled=compiled)
    assert optimizer.steps == 3 and model.layers[0] is not old
    fresh = Layer(2, 8, seed=9)
    assert [p.data for p in model.layers[0].parameters()] == [p.data for p in fresh.parameters()]


def test_a_model_that_is_not_a_module_is_traced_at_every_call(traces) -> None:
    X, _ = data()
    scale = [2.0]
    w = Value(0.5)

    def model(x):
        return x[0] * w * scale[0]

    assert model_key(model) is None
    first = nn.predict(model, X, compiled=True)
    scale[0] = 3.0
    np.testing.assert_allclose(nn.predict(model, X, compiled=True), first * 1.5, rtol=RTOL)
    assert traces[0] == 2


def test_a_kept_predictor_keeps_no_model_alive() -> None:
    X, _ = data()
    model = standardized(0, X)
    nn.predict(model, X, compiled=True)
    assert model in nn.compiled._predictors
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
    assert len([m for m in nn.compiled._predictors if isinstance(m, Standardized)]) == 0


def test_the_key_sees_what_defines_the_function_and_nothing_else() -> None:
    X, _ = data()
    model = standardized(0, X).train()
    key = model_key(model)
    assert model_key(model) == key
    for p in model.parameters():
        p.data += 1.0
        p.grad = 3.0
    assert model_key(model) == key
    assert model_key(model.eval()) != key  # a module may compute otherwise in eval mode
    assert model_key(model.train()) == key
    assert model_key(standardized(0, X)) != key  # equal numbers, other Value objects
    model.model.layers[0].neurons[0].w = list(model.model.layers[0].neurons[0].w)
    assert model_key(model) == key  # a new list of the same Values
    model.extra = {"note": [1, 2.5, np.float64(3.0)]}
    changed = model_key(model)
    assert changed != key
    model.extra["note"][1] = 2.75
    assert model_key(model) != changed


def test_a_key_taken_with_the_previous_one_is_the_same_key() -> None:
    X, _ = data()
    model = standardized(0, X)
    first = model_key(model)
    again = model_key(model, first)
    assert again == first == model_key(model)
    inner = model.model.layers[0].neurons[1].w
    inner[0] = Value(inner[0].data)  # replaced in place: seen with or without previous
    changed = model_key(model, first)
    assert changed != first and changed == model_key(model)
    model.model.layers[0].neurons[1].w = [inner[0], *inner[1:]]  # a new list, the same Values
    assert model_key(model, changed) == changed
    assert model_key(model, ("not", "a", "key")) == changed


class SlotsScale:
    """A setting kept in __slots__, not in a __dict__."""

    __slots__ = ("scale",)

    def __init__(self, scale: float) -> None:
        self.scale = scale


class Scaled(nn.Module):
    """An MLP whose output is scaled by settings held in several kinds of containers."""

    def __init__(self) -> None:
        self.inner = nn.MLP(2, [3, 1], seed=0)
        self.slots = SlotsScale(2.0)
        self.features = {0}
        self.factors = __import__("array").array("d", [1.5])
        self.deep = [[[[[[[[[[0.5]]]]]]]]]]  # ten lists deep, past DEPTH
        self.parts = {"extra": nn.MLP(2, [1], seed=1)}

    def forward(self, x):
        value = self.inner(x) * self.slots.scale * self.factors[0] \
            + self.parts["extra"](x) * self.deep[0][0][0][0][0][0][0][0][0][0]
        return value + sum(x[i] for i in sorted(self.features))


@pytest.mark.parametrize("change", [
    lambda m: setattr(m.slots, "scale", 5.0),
    lambda m: m.features.add(1),
    lambda m: m.factors.__setitem__(0, 4.0),
    lambda m: m.deep[0][0][0][0][0][0][0][0][0].__setitem__(0, -3.0),
    lambda m: m.parts["extra"].layers[0].neurons[0].w.__setitem__(0, Value(9.0)),
])
def test_a_change_inside_slots_sets_arrays_dicts_of_modules_or_deep_lists_is_seen(
        change) -> None:
    """Each of these kept a stale tape: a __slots__ object and a set were compared by
    identity, an array.array too, and a module in a dict or a list past DEPTH levels was
    cut off. Now each is compared by its contents, or (past DEPTH) never reused."""
    model = Scaled()
    X, _ = data(6)
    assert_same_predictions(model, X)
    change(model)
    assert_same_predictions(model, X)


def test_modules_that_hold_each_other_in_containers_have_a_key() -> None:
    """A module in a dict of its child's: the walk through containers ends at DEPTH."""
    parent = nn.MLP(2, [1], seed=0)
    child = nn.MLP(2, [1], seed=1)
    parent.helpers = {"child": child}
    child.helpers = {"parent": parent}
    key = model_key(parent)
    assert key is not None and key != model_key(parent)  # past DEPTH: never reused


@pytest.fixture
def walks(monkeypatch):
    """Counts the walks of a module tree that model_key makes."""
    return counted_calls(monkeypatch, nn.model_key, "_walk")


def test_an_unchanged_models_key_is_taken_again_without_a_walk(walks) -> None:
    """fit and every compiled prediction take the key: an MLP of 784-128-128-10 cost a
    millisecond a call walking 270 modules that had not changed."""
    X, _ = data()
    model = standardized(0, X)
    key = model_key(model)
    assert walks[0] == 1
    for p in model.parameters():
        p.data += 1.0
    assert model_key(model) is key and walks[0] == 1
    nn.MLP(2, [3, 1], seed=0)  # a model made meanwhile: an attribute write somewhere
    again = model_key(model)
    assert again == key and walks[0] == 2  # walked once to be sure, and kept
    assert model_key(model) is again and walks[0] == 2


def swap_neurons(model):
    neurons = model.model.layers[0].neurons
    neurons[0], neurons[1] = neurons[1], neurons[0]


@pytest.mark.parametrize("change", [
    lambda m: setattr(m.model.layers[1].neurons[0], "b", Value(0.0)),
    lambda m: m.model.layers[0].neurons[2].w.__setitem__(1, Value(0.5)),
    swap_neurons,
    lambda m: m.model.layers.reverse(),
    lambda m: delattr(m.model.layers[0].neurons[0], "fan_out"),
    lambda m: m.eval(),
    lambda m: m.offsets.__setitem__(0, 7.0),
    lambda m: setattr(m.helper, "scale", 5.0),
    lambda m: m.model.layers[0].neurons[0].w.append(Value(1.0)),
    lambda m: setattr(m, "notes", {"scale": [1.0]}),
])
def test_a_key_taken_again_sees_every_change_a_walk_sees(change) -> None:
    """Whatever the shortcut skips, the key after a change equals a whole walk's and
    differs from the key before: rebinding an attribute anywhere in the tree (counted
    by Module), and in-place changes of lists of Values or modules, arrays, dicts and
    other objects."""
    X, _ = data()
    model = standardized(0, X)
    model.notes = {"scale": [2.0]}
    model.helper = SlotsScale(2.0)
    model.offsets = np.zeros(2)
    before = model_key(model)
    assert model_key(model) is before
    change(model)
    after = model_key(model)
    assert after != before and after == _walk(model, None, 0)
    if model.notes == {"scale": [2.0]}:
        model.notes["scale"][0] = 3.0  # then an in-place change of a dict's list
        assert model_key(model) != after


def test_the_kept_walk_keeps_no_model_alive() -> None:
    X, _ = data()
    model = standardized(0, X)
    model_key(model)
    assert id(model) in nn.model_key._last_walks
    alive, kept = weakref.ref(model), id(model)
    del model
    gc.collect()
    assert alive() is None and kept not in nn.model_key._last_walks


class SameArchitecture(nn.MLP):
    """A module whose == (and hash) say "the same architecture", not "the same model"."""

    def __eq__(self, other):
        return isinstance(other, nn.MLP) and self.nouts == other.nouts

    def __hash__(self):
        return hash(tuple(self.nouts))


def test_two_models_equal_by_their_own_eq_never_share_a_key() -> None:
    """The kept walks were looked up by the model's own == and hash: b got a's key back,
    and a compiled prediction of b ran a's tape."""
    X, _ = data(6)
    a, b = SameArchitecture(2, [4, 1], seed=0), SameArchitecture(2, [4, 1], seed=1)
    assert a == b and model_key(a) != model_key(b)
    for model in (a, b):
        assert_same_predictions(model, X)
    assert not np.allclose(nn.predict(a, X), nn.predict(b, X))


def test_a_structured_numpy_scalar_is_looked_at_again() -> None:
    """A structured scalar taken from an array is a view of it: the array changed, the
    kept key did not."""
    model = nn.MLP(2, [1], seed=0)
    table = np.zeros(2, dtype=[("scale", "f8")])
    model.setting = table[0]
    before = model_key(model)
    table["scale"][0] = 3.0
    after = model_key(model)
    assert after != before and after == _walk(model, None, 0)
