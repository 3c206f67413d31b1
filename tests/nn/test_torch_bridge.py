"""PyTorch both ways: export, import, round trips and the parity check, on every model kind.

PyTorch is optional. Where it is installed the real comparisons run; where it is not,
every test here asserts the ImportError that says how to install it instead, so
nothing is skipped silently.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nn
from nn.gpt import GPT, train_step

try:
    import torch
except ImportError:  # the tests below then check the ImportError instead
    torch = None

ACTIVATIONS = ["relu", "tanh", "sigmoid", "softplus", "leaky_relu", "linear"]
PARITY = 1e-12


def with_torch(test: Callable[..., None]) -> Callable[..., None]:
    """Run ``test`` with PyTorch; without it, check that nn says how to install it."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        if torch is None:
            with pytest.raises(ImportError, match="pip install torch"):
                nn.to_torch(nn.MLP(2, [1], seed=0))
            return
        test(*args, **kwargs)

    return run


def assert_parity(model: nn.Module, X: Any, y: Any = None) -> nn.TorchParity:
    report = nn.torch_parity(model, X, y)
    assert report.ok, str(report)
    assert report.outputs < PARITY and report.loss < PARITY and report.param_grads < PARITY
    assert report.input_grads is None or report.input_grads < PARITY
    return report


def assert_round_trip(model: nn.Module) -> Any:
    module = nn.to_torch(model)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    back = nn.from_torch(module)
    assert type(back) is type(model)
    assert back.architecture() == model.architecture()
    assert back.state_dict() == model.state_dict()  # float64 both ways: exact
    return module


def test_without_torch_every_function_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    model = nn.MLP(2, [3, 1], seed=0)
    calls = [lambda: nn.to_torch(model), lambda: nn.from_torch(object()),
             lambda: nn.torch_parity(model, [[1.0, 2.0]])]
    for call in calls:
        with pytest.raises(ImportError, match=r"needs PyTorch.*pip install torch"):
            call()
    # loading a state_dict needs no torch: NumPy arrays will do
    nn.load_torch_state_dict(model, {"0.weight": np.ones((3, 2)), "0.bias": np.zeros(3),
                                     "2.weight": np.ones((1, 3)), "2.bias": np.zeros(1)})
    assert model.layers[0].neurons[2].w[1].data == 1.0


@pytest.mark.parametrize("activation", ACTIVATIONS)
@with_torch
def test_mlp_with_each_activation_round_trips_and_agrees(activation: str) -> None:
    rng = np.random.default_rng(0)
    for output in ("linear", activation):
        model = nn.MLP(3, [6, 5, 2], activation=activation, output_activation=output, seed=1)
        module = assert_round_trip(model)
        assert isinstance(module, torch.nn.Sequential)
        assert next(iter(module.state_dict())) == "0.weight"
        assert_parity(model, rng.normal(scale=2.0, size=(9, 3)), rng.normal(size=(9, 2)))


@with_torch
def test_a_trained_mlp_agrees_with_its_export() -> None:
    X, y = nn.data.moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 8, 1], seed=0)
    nn.fit(model, X, y, loss="mse", optimizer=nn.optim.Adam(model.parameters(), lr=0.05),
           epochs=5, progress=False, compiled=False)
    assert_round_trip(model)
    report = assert_parity(model, X, y)
    assert report.examples == 40 and report.parameters == 105
    module = nn.to_torch(model)
    predicted = module(torch.tensor(X)).detach().numpy()[:, 0]
    assert np.allclose(predicted, [model(row).data for row in X], rtol=0, atol=PARITY)


def network() -> nn.Network:
    """XOR's network with skip connections, a neuron without a bias, two outputs."""
    net = nn.Network(seed=0)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_neuron("h", "sigmoid")
    net.add_neuron("o", "tanh")
    net.add_neuron("p", "softplus", bias=False)
    for source, target in [("x1", "h"), ("x2", "h"), ("h", "o"), ("x1", "o"), ("x2", "o"),
                           ("h", "p"), ("x2", "p")]:
        net.connect(source, target)
    return net


@with_torch
def test_network_round_trips_and_agrees() -> None:
    net = network()
    module = assert_round_trip(net)
    assert module.unit_names == ["h", "o", "p"] and module.sources[1] == ["h", "x1", "x2"]
    assert "units.2.bias" not in module.state_dict()
    assert_parity(net, np.random.default_rng(1).normal(size=(6, 2)))


def tied_network() -> nn.Network:
    """x -> h -> a, x -> b, x -> a, its units added as a, b, h: an order of connections
    that Network's own topological order follows and a network rebuilt from its config
    does not (there h and b change places). It computes [a, b] = [2, 5] at x = 1."""
    net = nn.Network(seed=0)
    net.add_input("x")
    for name in ("a", "b", "h"):
        net.add_neuron(name, "linear")
    for source, target, weight in [("x", "h", 1.0), ("h", "a", 1.0), ("x", "b", 5.0),
                                   ("x", "a", 1.0)]:
        net.connect(source, target, weight)
    return net


@with_torch
def test_a_network_rebuilt_from_its_file_takes_its_own_weights(tmp_path) -> None:
    """Units named by their exported order must name the same neurons in a network
    rebuilt from its config: Network's own topological order breaks ties by the order
    connections were made, which a config does not keep, and h and b swapped weights."""
    net = tied_network()
    expected = [v.data for v in net([1.0])]
    assert expected == [2.0, 5.0]
    module = nn.to_torch(net)
    assert [v.data for v in nn.from_torch(module)([1.0])] == expected
    path = tmp_path / "net.json"
    net.save(path)
    loaded = nn.load(path)
    nn.load_torch_state_dict(loaded, module.state_dict())
    assert [v.data for v in loaded([1.0])] == expected


def test_a_state_dict_of_a_network_loads_into_the_network_rebuilt_from_its_file(
        tmp_path) -> None:
    """The same without PyTorch: a state_dict laid out as to_torch lays it out (numbers
    in arrays) loads into the network nn.load rebuilds, each weight where it was."""
    from nn.torch_bridge import layout

    net = tied_network()
    state = {entry.key: np.array([v.data for v in entry.values]).reshape(entry.shape)
             for entry in layout(net)}
    path = tmp_path / "net.json"
    net.save(path)
    loaded = nn.load(path)
    nn.load_torch_state_dict(loaded, state)
    assert [v.data for v in loaded([1.0])] == [v.data for v in net([1.0])] == [2.0, 5.0]


@with_torch
def test_a_standardized_gpt_is_refused_at_export() -> None:
    """A GPT reads tokens, not scaled rows: its export failed later with torch's dtype error."""
    from nn.data import Standardizer

    model = nn.Standardized(GPT(5, n_embd=4, n_head=1, block_size=4, seed=0),
                            Standardizer(np.zeros(1), np.ones(1)))
    with pytest.raises(TypeError, match="a Standardized around an MLP or a Network; got one "
                                        "around GPT"):
        nn.to_torch(model)


@with_torch
@pytest.mark.parametrize("threshold", [1.0, 50.0])
def test_a_softplus_other_than_nns_is_refused(threshold) -> None:
    """torch's Softplus returns x above its threshold: with 1 it is 0.2 off log(1 + e^x)
    at 1.5; only the default 20 (2e-9 off) is nn's softplus."""
    seq = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Softplus(threshold=threshold),
                              torch.nn.Linear(1, 1)).double()
    with pytest.raises(ValueError, match=rf"Softplus\(beta=1, threshold={threshold:g}\), "
                                         r"not nn's log\(1 \+ e\^x\)"):
        nn.from_torch(seq)
    assert nn.from_torch(torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Softplus(),
                                             torch.nn.Linear(1, 1)).double()) is not None


@with_torch
def test_gpt_round_trips_and_agrees() -> None:
    model = GPT(11, n_embd=8, n_head=2, n_layer=2, block_size=6, seed=3)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    for document in ([0, 3, 5, 2, 0], [0, 1, 4, 4, 7, 9, 0]):
        train_step(model, optimizer, [document])
    module = assert_round_trip(model)
    assert sorted(module.state_dict())[:3] == ["blocks.0.attn.wk.weight",
                                               "blocks.0.attn.wo.weight",
                                               "blocks.0.attn.wq.weight"]
    report = assert_parity(model, [[0, 3, 5, 2, 9, 1, 4, 7, 0], [1, 2], [5, 5, 5]])
    assert report.input_grads is None and report.examples == 3
    tokens = torch.tensor([[0, 3, 5], [1, 2, 4]])
    assert module(tokens).shape == (2, 3, 11)


@with_torch
def test_microgpt_sized_gpt_agrees() -> None:
    model = GPT(27, seed=0)
    report = assert_parity(model, [0, 8, 1, 13, 1, 0, 20, 5, 11, 12, 1, 0])
    assert report.parameters == 4192


@with_torch
def test_standardized_round_trips_and_agrees() -> None:
    X = np.random.default_rng(2).normal(loc=[10.0, -3.0], scale=[4.0, 0.5], size=(20, 2))
    model = nn.Standardized(nn.MLP(2, [4, 1], activation="tanh", seed=0),
                            nn.data.Standardizer.fit(X))
    module = assert_round_trip(model)
    assert torch.equal(module.mean, torch.tensor(model.scaler.mean))
    assert_parity(model, X)


@with_torch
def test_a_plain_sequential_mlp_imports() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.Tanh(), torch.nn.Linear(7, 7),
                                 torch.nn.Tanh(), torch.nn.Linear(7, 2))  # float32
    model = nn.from_torch(module)
    assert isinstance(model, nn.MLP) and model.nouts == [7, 7, 2]
    assert (model.activation, model.output_activation) == ("tanh", "linear")
    X = np.random.default_rng(3).normal(size=(5, 3))
    expected = module.double()(torch.tensor(X)).detach().numpy()
    got = np.array([[v.data for v in model(row)] for row in X])
    assert np.abs(got - expected).max() < PARITY


@with_torch
def test_a_hand_written_torch_mlp_loads_by_order() -> None:
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(2, 16, dtype=torch.float64)
            self.fc2 = torch.nn.Linear(16, 16, dtype=torch.float64)
            self.out = torch.nn.Linear(16, 1, dtype=torch.float64)

        def forward(self, x: Any) -> Any:
            return self.out(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    torch.manual_seed(1)
    net = Net()
    with pytest.raises(ValueError, match=r"build the matching nn\.MLP"):
        nn.from_torch(net)
    model = nn.load_torch_state_dict(nn.MLP(2, [16, 16, 1], seed=0), net.state_dict())
    X = np.random.default_rng(4).normal(size=(8, 2))
    expected = net(torch.tensor(X)).detach().numpy()[:, 0]
    assert np.abs(np.array([model(row).data for row in X]) - expected).max() < PARITY
    assert model.layers[1].neurons[3].w[5].data == net.fc2.weight[3, 5].item()


@with_torch
def test_gpt_weights_load_from_a_state_dict() -> None:
    source, target = GPT(9, n_embd=4, n_head=2, seed=0), GPT(9, n_embd=4, n_head=2, seed=1)
    state = nn.to_torch(source).state_dict()
    assert nn.load_torch_state_dict(target, state) is target
    assert target.state_dict() == source.state_dict()


@with_torch
def test_parity_finds_a_module_that_computes_something_else(monkeypatch) -> None:
    from nn import torch_modules

    # PyTorch's own Softplus returns x above 20, 2e-9 off log(1 + e^x) there
    monkeypatch.setattr(torch_modules.Softplus, "forward",
                        lambda self, x: torch.nn.functional.softplus(x))
    model = nn.MLP(1, [1], activation="softplus", output_activation="softplus", seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0
    report = nn.torch_parity(model, [[21.0], [25.0]])
    assert not report.ok and report.outputs > 1e-10
    assert "DISAGREE" in str(report)


@with_torch
def test_parity_leaves_the_models_gradients_alone() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    for k, p in enumerate(model.parameters()):
        p.grad = float(k)
    assert_parity(model, [[0.5, -1.0], [2.0, 0.1]])
    assert [p.grad for p in model.parameters()] == [float(k) for k in range(13)]


@with_torch
def test_bad_state_dicts_are_refused_and_change_nothing() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    good = nn.to_torch(model).state_dict()
    wrong_shape = {**good, "2.weight": torch.zeros(3, 1, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"'2.weight' has shape \(3, 1\), expected \(1, 3\)"):
        nn.load_torch_state_dict(model, wrong_shape)
    with pytest.raises(ValueError, match=r"missing '2\.bias'"):
        nn.load_torch_state_dict(model, {k: good[k] for k in list(good)[:3]})
    with pytest.raises(ValueError, match="has 3 entries, this MLP's 2 layers need 4"):
        nn.load_torch_state_dict(model, {f"fc.{k}": good[k] for k in list(good)[:3]})
    swapped = {"a.bias": good["0.bias"], "a.weight": good["0.weight"],
               "b.weight": good["2.weight"], "b.bias": good["2.bias"]}
    with pytest.raises(ValueError, match=r"'a\.bias' stands where this MLP expects a weight"):
        nn.load_torch_state_dict(model, swapped)
    with pytest.raises(ValueError, match=r"'0\.bias'\[1\] is nan; expected finite numbers"):
        nn.load_torch_state_dict(model, {**good, "0.bias": torch.tensor([1.0, np.nan, 0.0])})
    with pytest.raises(TypeError, match="expects a state_dict"):
        nn.load_torch_state_dict(model, [1, 2])  # type: ignore[arg-type]
    gpt = GPT(5, n_embd=4, n_head=2, seed=0)
    state = nn.to_torch(gpt).state_dict()
    del state["lm_head.weight"]
    with pytest.raises(ValueError, match=r"missing 'lm_head\.weight'"):
        nn.load_torch_state_dict(gpt, state)
    assert model.state_dict() == before


def test_a_shape_error_names_the_entry_by_the_callers_key() -> None:
    """Keys of the caller's own are matched by order; a wrong shape was reported under
    the internal name ('0.weight') the caller never wrote."""
    model = nn.MLP(3, [2], seed=0)
    with pytest.raises(ValueError, match=r"'fc1\.weight' has shape \(3, 2\), expected "
                                         r"\(2, 3\)"):
        nn.load_torch_state_dict(model, {"fc1.weight": np.ones((3, 2)),
                                         "fc1.bias": np.zeros(2)})


def test_a_scaling_the_library_refuses_elsewhere_is_refused_from_a_state_dict() -> None:
    """A subnormal std made every prediction NaN and a file nn.load refused; arrays do
    for tensors, so this needs no torch."""
    model = nn.Standardized(nn.MLP(2, [1], seed=0),
                            nn.data.Standardizer(np.zeros(2), np.ones(2)))
    before = model.state_dict()
    state = {"0.weight": np.ones((1, 2)), "0.bias": np.zeros(1), "mean": np.zeros(2),
             "std": np.array([1e-320, 1.0])}
    with pytest.raises(ValueError, match=r"load_torch_state_dict: the scaler's std must be "
                                         r"finite and > 0 with 1 / std finite"):
        nn.load_torch_state_dict(model, state)
    # a NaN read as a shape mismatch: "'mean' has shape (2,), expected (2,) finite numbers"
    with pytest.raises(ValueError, match=r"'mean'\[1\] is nan; expected finite numbers$"):
        nn.load_torch_state_dict(model, state | {"mean": np.array([0.0, np.nan]),
                                                 "std": np.ones(2)})
    with pytest.raises(ValueError, match=r"'mean' has shape \(3,\), expected \(2,\) \(one "):
        nn.load_torch_state_dict(model, state | {"mean": np.zeros(3), "std": np.ones(2)})
    # the model's own name of the parameter, without the function's: "parameter
    # 'layers.0.neurons.0.b' must be a finite real number"
    with pytest.raises(ValueError, match=r"^nn\.load_torch_state_dict: '0\.weight'\[0, 1\] is "
                                         r"nan; expected finite numbers$"):
        nn.load_torch_state_dict(model, state | {"0.weight": np.array([[1.0, np.nan]]),
                                                 "std": np.ones(2)})
    assert model.state_dict() == before


@with_torch
def test_what_cannot_be_exported_or_imported_says_why() -> None:
    with pytest.raises(TypeError, match=r"support nn\.MLP, nn\.Network, nn\.gpt\.GPT"):
        nn.to_torch(nn.Layer(2, 3, seed=0))
    with pytest.raises(TypeError, match=r"expects a torch\.nn\.Module, got int"):
        nn.from_torch(3)
    cases = [
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU()), "GELU"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False)), "has no bias"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3),
                             torch.nn.Tanh(), torch.nn.Linear(3, 1)), "one activation"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)), "takes 4 inputs"),
        (torch.nn.Sequential(torch.nn.ReLU()), "not right after a Linear"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2)),
         "an activation nn does not have"),
    ]
    for module, message in cases:
        with pytest.raises(ValueError, match=message):
            nn.from_torch(module)


@with_torch
def test_bad_parity_inputs_say_what_was_expected() -> None:
    model = nn.MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match=r"shape \(examples, 2\)"):
        nn.torch_parity(model, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"y must have shape \(1, 1\)"):
        nn.torch_parity(model, [[1.0, 2.0]], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
        nn.torch_parity(model, [[1.0, 2.0]], atol=-1)
    with pytest.raises(ValueError, match="list of int token ids"):
        nn.torch_parity(GPT(5, n_embd=4, n_head=2, seed=0), [[0.5, 1.0]])


def standardized_mlp() -> nn.Standardized:
    return nn.Standardized(nn.MLP(2, [3, 1], seed=0),
                           nn.data.Standardizer(np.array([1.0, 2.0]), np.array([3.0, 4.0])))


def test_a_standardized_entry_given_twice_is_refused() -> None:
    """'model.0.weight' and '0.weight' name one entry of a Standardized: with both, the
    keys collapsed into one while the arrays did not, and the weights moved by a layer."""
    model = standardized_mlp()
    before = model.state_dict()
    shapes = {"0.weight": (3, 2), "0.bias": (3,), "2.weight": (1, 3), "2.bias": (1,)}
    state = {key: np.full(shape, 0.5) for key, shape in shapes.items()}
    state = {"mean": np.zeros(2), "std": np.ones(2), "model.0.weight": np.ones((3, 2)),
             **state}
    with pytest.raises(ValueError, match=r"'model\.0\.weight' and '0\.weight' both name"):
        nn.load_torch_state_dict(model, state)
    assert model.state_dict() == before
    del state["model.0.weight"]
    nn.load_torch_state_dict(model, state)  # each entry once, without the prefix: loads
    assert {v.data for v in model.parameters()} == {0.5}


def test_state_dict_entries_that_are_not_real_numbers_are_refused() -> None:
    """A complex array lost its imaginary part and a bool array read as 0/1, with a
    warning at most; a key that is not a name failed with AttributeError."""
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    good = {"0.weight": np.ones((1, 2)), "0.bias": np.zeros(1)}
    cases = [({**good, "0.weight": np.ones((1, 2)) * 1j}, "complex", ValueError),
             ({**good, "0.bias": np.array([True])}, "booleans", ValueError),
             ({**good, 3: np.zeros(1)}, r"keys are names \(str\), got int 3", TypeError)]
    for state, message, error in cases:
        with pytest.raises(error, match=message):
            nn.load_torch_state_dict(model, state)
    assert model.state_dict() == before


@with_torch
def test_tensors_that_hold_no_plain_real_numbers_are_refused() -> None:
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    good = nn.to_torch(model).state_dict()
    cases = [
        (torch.ones(1, 2, dtype=torch.complex128), r"'0\.weight' has dtype torch\.complex128"),
        (torch.ones(1, 2, dtype=torch.bool), r"has dtype torch\.bool"),
        (torch.ones(1, 2, dtype=torch.float64).to_sparse(), "sparse tensor"),
        (torch.empty(1, 2, device="meta"), "meta device"),
    ]
    for tensor, message in cases:
        with pytest.raises(ValueError, match=message):
            nn.load_torch_state_dict(model, {**good, "0.weight": tensor})
    assert model.state_dict() == before
    half = {key: value.half() for key, value in good.items()}  # any real dtype is read
    nn.load_torch_state_dict(model, half)
    assert model.state_dict() == {k: float(torch.tensor(v).half()) for k, v in before.items()}


@with_torch
def test_exported_modules_check_the_width_of_their_inputs() -> None:
    """A wider input ran on its first columns, and one column broadcast against the
    scaling's two: numbers with no error."""
    for model, width in ((network(), 2), (standardized_mlp(), 2)):
        module = nn.to_torch(model)
        for bad in (torch.ones(4, width + 1, dtype=torch.float64),
                    torch.ones(4, 1, dtype=torch.float64)):
            with pytest.raises(ValueError, match=rf"expected inputs of shape \(\.\.\., "
                                                 rf"{width}\).*got \(4, {bad.shape[1]}\)"):
                module(bad)
        assert module(torch.ones(4, width, dtype=torch.float64)).shape[0] == 4


@with_torch
def test_parity_takes_tensors_and_refuses_what_would_agree_vacuously() -> None:
    """Inputs that require grad crashed in NumPy's conversion, token ids as a tensor were
    refused, and NaN inputs 'agreed' (a NaN matches a NaN)."""
    model = nn.MLP(2, [2, 1], seed=0)
    X = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
    assert nn.torch_parity(model, X, torch.ones(2, 1, dtype=torch.float64)).ok
    assert nn.torch_parity(model, X).loss == nn.torch_parity(model, X.detach().numpy()).loss
    for bad_X, bad_y in (([[np.nan, 1.0]], None), ([[1.0, 2.0]], [[np.inf]])):
        with pytest.raises(ValueError, match="must be finite numbers; it holds NaN"):
            nn.torch_parity(model, bad_X, bad_y)
    with pytest.raises(ValueError, match="X must be a rectangular array"):
        nn.torch_parity(model, [[1.0, 2.0], [1.0]])
    gpt = GPT(5, n_embd=4, n_head=2, seed=0)
    tokens = [0, 3, 1, 4]
    assert nn.torch_parity(gpt, torch.tensor(tokens)).loss == nn.torch_parity(gpt, tokens).loss
