"""Neuron, Layer, MLP, activations and initialisation, against independent references."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from micrograd.engine import Value as MgValue
from micrograd.nn import MLP as MgMLP

import nn
from autograd_scalar import Value
from nn import activations
from nn import init as weight_init
from nn.layers import MLP, Layer, Neuron

finite = st.floats(-5, 5, allow_nan=False)


# -- structure ---------------------------------------------------------------

def test_mlp_2_16_16_1_has_337_parameters() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337


def test_parameter_names_and_labels_follow_the_tree() -> None:
    model = MLP(3, [4, 5, 2], seed=0)
    named = dict(model.named_parameters())
    p = named["layers.1.neurons.3.w[2]"]
    assert p is model.layers[1].neurons[3].w[2]
    assert p.label == "w[2]"
    assert named["layers.1.neurons.3.b"].label == "b"
    assert list(named)[:5] == ["layers.0.neurons.0.w[0]", "layers.0.neurons.0.w[1]",
                               "layers.0.neurons.0.w[2]", "layers.0.neurons.0.b",
                               "layers.0.neurons.1.w[0]"]


def test_nodes_are_scoped_like_the_parameter_names() -> None:
    model = MLP(2, [3, 4, 1], activation="tanh", seed=1)
    out = model([0.3, -0.7])
    assert out.scope == "layers.2.neurons.0"
    hidden = model.layers[1]
    node = hidden.neurons[3]([0.1, 0.2, 0.3])
    # a child called on its own opens only its own attribute path in its parent
    assert node.scope == "neurons.3"
    # every interior node of the graph sits in the scope of a neuron that owns parameters
    prefixes = {name.rsplit(".", 1)[0] for name, _ in model.named_parameters()}
    stack, seen = [out], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.op:
            assert v.scope in prefixes
        stack.extend(v.children)


def test_layer_returns_a_value_for_one_output_and_a_list_otherwise() -> None:
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), Value)
    outs = Layer(2, 3, seed=0)([1.0, 2.0])
    assert isinstance(outs, list) and len(outs) == 3


def test_a_width_one_hidden_layer_feeds_the_next_layer() -> None:
    model = MLP(1, [1, 2], activation="linear", seed=0)
    n0 = model.layers[0].neurons[0]
    x = 0.7
    h = n0.w[0].data * x + n0.b.data
    expected = [n.w[0].data * h + n.b.data for n in model.layers[1].neurons]
    assert [v.data for v in model([x])] == pytest.approx(expected, abs=1e-15)
    assert model(x)[0].data == pytest.approx(expected[0], abs=1e-15)


@given(st.lists(finite, min_size=3, max_size=3), st.lists(finite, min_size=3, max_size=3),
       finite, st.sampled_from(sorted(activations.ACTIVATIONS)))
def test_neuron_is_act_of_w_dot_x_plus_b(ws: list[float], xs: list[float], b: float,
                                         name: str) -> None:
    neuron = Neuron(3, activation=name, seed=0)
    for p, v in zip(neuron.w, ws):
        p.data = v
    neuron.b.data = b
    z = math.fsum(w * x for w, x in zip(ws, xs)) + b
    reference = {"relu": max(z, 0.0), "leaky_relu": z if z > 0 else 0.01 * z,
                 "tanh": math.tanh(z), "sigmoid": 1 / (1 + math.exp(-z)),
                 "softplus": math.log1p(math.exp(z)), "linear": z}[name]
    assert neuron(xs).data == pytest.approx(reference, rel=1e-12, abs=1e-12)


def test_neuron_is_one_affine_node_then_its_activation() -> None:
    neuron = Neuron(4, activation="tanh", seed=0)
    out = neuron([1.0, 2.0, 3.0, 4.0])
    assert out.op == "tanh"
    (affine,) = out.children
    assert affine.op == "affine" and len(affine.children) == 9
    assert affine.children[:4] == tuple(neuron.w) and affine.children[-1] is neuron.b


def test_inputs_as_floats_values_and_numpy_rows_agree() -> None:
    model = MLP(3, [4, 2], seed=3)
    xs = [0.5, -1.25, 2.0]
    a = [v.data for v in model(xs)]
    b = [v.data for v in model([Value(x) for x in xs])]
    c = [v.data for v in model(np.array(xs))]
    d = [v.data for v in model(tuple(np.float32(x) for x in xs))]
    assert a == b == c
    assert d == pytest.approx(a, rel=1e-6)


def test_gradients_flow_to_input_values() -> None:
    neuron = Neuron(2, activation="linear", seed=0)
    x = [Value(1.0), Value(2.0)]
    neuron(x).backward()
    assert [v.grad for v in x] == [w.data for w in neuron.w]


@pytest.mark.parametrize("module", [Neuron(3, seed=0), Layer(3, 2, seed=0), MLP(3, [2], seed=0)])
@pytest.mark.parametrize("bad", [[1.0, 2.0], [1.0, 2.0, 3.0, 4.0], np.zeros(4), []])
def test_wrong_input_length_is_a_value_error(module: nn.Module, bad: object) -> None:
    with pytest.raises(ValueError, match="expects 3 inputs, got"):
        module(bad)


def test_two_dimensional_rows_and_non_sequences_are_rejected() -> None:
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match=r"1-D row of 2 inputs, got an array of shape \(1, 2\)"):
        model(np.zeros((1, 2)))
    with pytest.raises(TypeError, match="got dict"):
        model({"a": 1.0})
    with pytest.raises(TypeError, match="got str"):
        model("ab")
    with pytest.raises(TypeError, match="real number"):
        model([1.0, "x"])


@pytest.mark.parametrize("make", [
    lambda: Neuron(0), lambda: Neuron(2.0), lambda: Neuron(True), lambda: Layer(2, 0),
    lambda: MLP(0, [1]), lambda: MLP(2, []), lambda: MLP(2, [3, -1]), lambda: MLP(2, 3),
    lambda: MLP(2, "16"), lambda: Neuron(2, fan_out=0),
])
def test_bad_sizes_are_value_errors(make: object) -> None:
    with pytest.raises(ValueError, match="must be a"):
        make()  # type: ignore[operator]


def test_bad_activation_and_init_names_list_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown activation 'gelu'; expected one of 'relu', "
                                         "'leaky_relu', 'tanh', 'sigmoid', 'softplus', 'linear'"):
        MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(2, [3, 1], output_activation="softmax")
    with pytest.raises(ValueError, match="unknown activation"):
        Layer(2, 3, activation=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown init 'xavier'; expected one of 'fan_in', "
                                         "'uniform', 'glorot', 'he'"):
        Neuron(2, init="xavier")
    with pytest.raises(ValueError, match="unknown init"):
        MLP(2, [1], init="zeros")


# -- micrograd equivalence ---------------------------------------------------

def copy_into_micrograd(model: MLP) -> MgMLP:
    reference = MgMLP(model.nin, list(model.nouts))
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        theirs.data = ours.data
    return reference


@given(st.lists(st.floats(-3, 3), min_size=2, max_size=2), st.integers(0, 2**16))
def test_outputs_and_gradients_match_micrograd(xs: list[float], seed: int) -> None:
    model = MLP(2, [16, 16, 1], init="uniform", seed=seed)
    reference = copy_into_micrograd(model)
    ours = model(xs)
    theirs = reference([MgValue(x) for x in xs])
    assert ours.data == pytest.approx(theirs.data, abs=1e-12)
    (ours * ours).backward()
    (theirs * theirs).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert p.grad == pytest.approx(q.grad, abs=1e-12), name


def test_micrograd_parameter_order_and_zero_biases_match() -> None:
    random.seed(7)
    reference = MgMLP(3, [4, 2])
    model = MLP(3, [4, 2], init="uniform", seed=7)
    assert len(model.parameters()) == len(reference.parameters())
    assert [p.data for n, p in model.named_parameters() if n.endswith(".b")] == [0.0] * 6
    outputs = model([1.0, 2.0, 3.0])
    assert len(outputs) == len(reference([1.0, 2.0, 3.0])) == 2


# -- initialisation ----------------------------------------------------------

def test_same_seed_same_weights_different_seed_different_weights() -> None:
    a = MLP(4, [8, 3], init="he", seed=11).state_dict()
    b = MLP(4, [8, 3], init="he", seed=11).state_dict()
    c = MLP(4, [8, 3], init="he", seed=12).state_dict()
    assert a == b
    assert a != c


def test_a_shared_generator_continues_its_sequence() -> None:
    rng = np.random.default_rng(5)
    first, second = Neuron(3, init="uniform", seed=rng), Neuron(3, init="uniform", seed=rng)
    draws = np.random.default_rng(5).uniform(-1, 1, size=6)
    assert [p.data for p in first.w + second.w] == draws.tolist()
    rng = np.random.default_rng(5)
    first, second = Neuron(3, seed=rng), Neuron(3, seed=rng)
    bound = 1 / math.sqrt(3)
    draws = np.random.default_rng(5).uniform(-bound, bound, size=8)
    assert [p.data for p in [*first.w, first.b, *second.w, second.b]] == draws.tolist()


@pytest.mark.parametrize("fan_in, fan_out", [(50, 30), (200, 10)])
def test_glorot_is_uniform_with_limit_sqrt_6_over_fan_in_plus_fan_out(fan_in: int,
                                                                      fan_out: int) -> None:
    limit = math.sqrt(6 / (fan_in + fan_out))
    w = np.concatenate([weight_init.weights("glorot", fan_in, fan_out, seed=s)
                        for s in range(200)])
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    n = w.size
    # Var U(-a, a) = a^2 / 3 = 2 / (fan_in + fan_out); 6 standard errors of tolerance
    var = 2 / (fan_in + fan_out)
    assert abs(w.mean()) < 6 * math.sqrt(var / n)
    assert abs(w.var() - var) < 6 * var * math.sqrt(0.8 / n)


@pytest.mark.parametrize("fan_in", [10, 400])
def test_he_is_normal_with_std_sqrt_2_over_fan_in(fan_in: int) -> None:
    w = np.concatenate([weight_init.weights("he", fan_in, 1, seed=s) for s in range(100)])
    var, n = 2 / fan_in, w.size
    assert abs(w.mean()) < 6 * math.sqrt(var / n)
    assert abs(w.var() - var) < 6 * var * math.sqrt(2 / n)
    # the fraction within one standard deviation is 68.27% for a normal distribution
    inside = np.mean(np.abs(w) < math.sqrt(var))
    assert abs(inside - 0.6827) < 6 * math.sqrt(0.6827 * 0.3173 / n)


def test_uniform_is_micrograds_minus_one_to_one() -> None:
    w = weight_init.weights("uniform", 20000, 7, seed=0)
    assert w.min() >= -1 and w.max() <= 1
    assert abs(w.var() - 1 / 3) < 6 * (1 / 3) * math.sqrt(0.8 / w.size)


def test_layer_neurons_use_their_layer_width_as_fan_out() -> None:
    layer = Layer(30, 20, init="glorot", seed=0)
    limit = math.sqrt(6 / 50)
    weights = np.array([p.data for n in layer.neurons for p in n.w])
    assert np.abs(weights).max() <= limit
    assert np.abs(weights).max() > 0.95 * limit


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seeds_are_rejected(seed: object) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        Neuron(2, seed=seed)  # type: ignore[arg-type]


def test_init_weights_validates_fans() -> None:
    with pytest.raises(ValueError, match="fan_in must be a positive int, got 0"):
        weight_init.weights("he", 0, 1)
    with pytest.raises(ValueError, match="unknown init"):
        weight_init.weights("nope", 2, 1)


# -- activations -------------------------------------------------------------

@given(finite)
def test_activation_derivatives_match_central_differences(x: float) -> None:
    from tests.finite_differences import close, partial

    for name, act in activations.ACTIVATIONS.items():
        if name in ("relu", "leaky_relu") and abs(x) < 1e-5:
            continue
        v = Value(x)
        act(v).backward()
        numeric = partial(lambda t, a=act: a(Value(t)).data, [x], 0)
        assert close(v.grad, numeric), name


def test_unknown_activation_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="expected one of 'relu', 'leaky_relu', 'tanh', "
                                         "'sigmoid', 'softplus', 'linear'"):
        activations.get("swish")


def test_a_layer_calls_a_neuron_subclass_as_it_is() -> None:
    class Doubled(Neuron):
        def forward(self, x):
            return super().forward(x) * 2.0

    layer = Layer(2, 2, activation="tanh", seed=0)
    plain = [v.data for v in layer([0.5, -1.0])]
    layer.neurons = [Doubled(2, activation="tanh", seed=1), layer.neurons[1]]
    out = layer([0.5, -1.0])
    doubled = layer.neurons[0]
    expected = 2.0 * math.tanh(sum(w.data * x for w, x in zip(doubled.w, [0.5, -1.0]))
                               + doubled.b.data)
    assert out[0].data == pytest.approx(expected, rel=1e-15) and out[0].op == "*"
    assert out[1].data == plain[1] and out[0].scope == "neurons.0"


def test_a_neuron_appended_to_the_list_later_computes_in_the_layers_scope() -> None:
    model = MLP(2, [2, 1], seed=0)
    model.layers[0].neurons.append(Neuron(2, seed=3))
    model.layers[0].nout = 3
    out = model.layers[0]([0.5, -1.0])
    # unnamed, so not a parameter of the model either: its nodes stay in its layer's scope
    assert [v.scope for v in out] == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0"]


# -- reproducible from the seed ------------------------------------------------

def test_a_seed_alone_fixes_the_weights_whatever_python_random_did() -> None:
    random.seed(1)
    a = MLP(3, [4, 2], seed=9).state_dict()
    random.seed(2)
    np.random.seed(3)
    assert MLP(3, [4, 2], seed=9).state_dict() == a


def test_python_random_seed_makes_unseeded_models_and_data_repeat() -> None:
    """As micrograd users expect: random.seed(n) repeats a program with no seed given."""
    from nn.data import moons

    random.seed(1337)
    first = (MLP(2, [3, 1]).state_dict(), moons(10)[0].tolist())
    random.seed(1337)
    again = (MLP(2, [3, 1]).state_dict(), moons(10)[0].tolist())
    random.seed(1338)
    other = (MLP(2, [3, 1]).state_dict(), moons(10)[0].tolist())
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_the_default_init_is_pytorchs_linear_rule() -> None:
    """w and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch.nn.Linear.reset_parameters:
    the bound and the variance a^2 / 3 checked on 784 x 64 draws."""
    layer = Layer(784, 64, seed=0)
    w = np.array([[p.data for p in n.w] for n in layer.neurons])
    b = np.array([n.b.data for n in layer.neurons])
    bound = 1 / math.sqrt(784)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound and np.any(b != 0)
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.02)


def test_an_activation_is_fixed_when_the_module_is_made(tmp_path) -> None:
    """Setting .activation (or an MLP's output_activation) after making the module changed
    nothing it computed, while save wrote the new name: a file that loaded as another model
    (outputs [0.35, -0.25] became [0.59, 0.44]), or not at all. It is refused now, and the
    module is as it was."""
    model = nn.MLP(2, [4, 1], seed=0)
    before = nn.predict(model, np.array([[0.5, -1.0]]))
    for module, name in ((model, "output_activation"), (model, "activation"),
                         (model.layers[-1], "activation"),
                         (model.layers[-1].neurons[0], "activation")):
        with pytest.raises(AttributeError, match=rf"\.{name} is set when the "
                                                 rf"{type(module).__name__} is made"):
            setattr(module, name, "sigmoid")
    assert model.output_activation == "linear" and model.layers[-1].activation == "linear"
    model.layers[-1].activation = "linear"            # the same again (an __init__ run twice)
    with pytest.raises(AttributeError, match=r"Layer\.activation .* cannot be deleted"):
        del model.layers[-1].activation
    assert getattr(Layer.__new__(Layer), "activation", "unset") == "unset"  # not yet set
    old = Layer.__new__(Layer)                       # as a module pickled before held it
    vars(old)["activation"] = "tanh"
    assert old.activation == "tanh"
    model.save(tmp_path / "m.json")
    loaded = nn.load(tmp_path / "m.json")
    np.testing.assert_array_equal(nn.predict(loaded, np.array([[0.5, -1.0]])), before)
