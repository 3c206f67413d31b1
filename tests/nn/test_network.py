"""Network: free-form units and connections, skip connections, order, errors and files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_scalar import Value
from nn import Module
from nn.network import Network
from tests.finite_differences import close, partial
from tests.work import LINEAR_GROWTH, growth, lines_run


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def xor_network(seed: int = 0) -> Network:
    """The 1986 XOR net: 2 inputs, 1 hidden unit, 1 output, inputs also wired to the output."""
    net = Network(seed=seed)
    net.add_input("x1")
    net.add_input("x2")
    net.add_neuron("h", activation="sigmoid")
    net.add_neuron("y", activation="sigmoid")
    for source, target in [("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y"), ("x2", "y")]:
        net.connect(source, target)
    return net


def snapshot(model: Module) -> list[tuple[str, float]]:
    return [(n, p.data) for n, p in model.named_parameters()]


def test_xor_network_structure_and_names() -> None:
    net = xor_network()
    assert net.inputs == ["x1", "x2"]
    assert net.neurons == ["h", "y"]
    assert net.outputs == ["y"]
    assert [n for n, _ in net.named_parameters()] == [
        "h.w[x1]", "h.w[x2]", "h.b", "y.w[h]", "y.w[x1]", "y.w[x2]", "y.b"]
    assert net.weight("x1", "y").label == "w[x1]"
    assert net.bias("h").label == "b"
    assert net.topological_order() == ["x1", "x2", "h", "y"]
    assert [(s, t) for s, t, _ in net.connections] == [
        ("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y"), ("x2", "y")]


@given(st.floats(-3, 3), st.floats(-3, 3))
def test_forward_is_the_closed_form_with_skip_connections(a: float, b: float) -> None:
    net = xor_network(seed=4)
    w = dict(net.named_parameters())
    w["h.b"].data, w["y.b"].data = 0.3, -0.2
    h = sigmoid(w["h.w[x1]"].data * a + w["h.w[x2]"].data * b + 0.3)
    y = sigmoid(w["y.w[h]"].data * h + w["y.w[x1]"].data * a + w["y.w[x2]"].data * b - 0.2)
    assert net([a, b]).data == pytest.approx(y, rel=1e-12, abs=1e-15)


def test_hand_set_weights_compute_xor() -> None:
    net = xor_network()
    net.load_state_dict({"h.w[x1]": 10, "h.w[x2]": 10, "h.b": -15, "y.w[h]": -20,
                         "y.w[x1]": 10, "y.w[x2]": 10, "y.b": -5})
    truth = {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}
    assert {x: round(net(list(x)).data) for x in truth} == truth


def test_gradients_match_central_differences() -> None:
    net = xor_network(seed=2)
    names = [n for n, _ in net.named_parameters()]
    point = [p.data for p in net.parameters()]
    x = [0.7, -1.3]

    def loss(*ws: float) -> float:
        net.load_state_dict(dict(zip(names, ws)))
        return (net(x).data - 1.0) ** 2

    numeric = [partial(loss, point, i) for i in range(len(point))]
    net.load_state_dict(dict(zip(names, point)))
    out = net(x)
    ((out - 1.0) ** 2).backward()
    for name, p, n in zip(names, net.parameters(), numeric):
        assert close(p.grad, n), name


def test_gradient_descent_learns_xor() -> None:
    net = xor_network(seed=1)
    data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]

    def loss() -> Value:
        return sum(((net(x) - t) ** 2 for x, t in data), Value(0.0))

    start = loss().data
    for _ in range(1500):
        net.zero_grad()
        loss().backward()
        for p in net.parameters():
            p.data -= 2.0 * p.grad
    assert loss().data < 0.05 < start
    assert [round(net(x).data) for x, _ in data] == [0, 1, 1, 0]


def test_nodes_are_scoped_by_unit_and_by_the_networks_place_in_a_parent() -> None:
    net = xor_network()
    out = net([1.0, 0.0])
    assert out.scope == "y"

    class Wrapper(Module):
        def __init__(self) -> None:
            self.core = xor_network()

        def forward(self, x: object) -> Value:
            return self.core(x)

    wrapped = Wrapper()
    assert wrapped([1.0, 0.0]).scope == "core.y"
    assert next(n for n, _ in wrapped.named_parameters()) == "core.h.w[x1]"


def test_several_outputs_a_neuron_without_bias_and_one_without_inputs() -> None:
    net = Network(seed=0)
    net.add_input("x")
    net.add_neuron("a", activation="linear", bias=False)
    net.add_neuron("b", activation="tanh")
    net.add_neuron("c", activation="relu")
    net.connect("x", "a", weight=2.0)
    net.connect("x", "b", weight=-1.0)
    net.bias("b").data = 0.5
    assert net.outputs == ["a", "b", "c"]
    a, b, c = net([3.0])
    assert (a.data, b.data, c.data) == (6.0, math.tanh(-2.5), 0.0)
    assert len(net.parameters()) == 4
    with pytest.raises(ValueError, match="'a' has no bias"):
        net.bias("a")


@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=30))
def test_random_connections_keep_a_valid_topological_order(pairs: list[tuple[int, int]]) -> None:
    net = Network(seed=0)
    net.add_input("u0")
    for i in range(1, 8):
        net.add_neuron(f"u{i}", activation="tanh")
    for s, t in pairs:
        try:
            net.connect(f"u{s}", f"u{t}")
        except ValueError:
            continue
    order = net.topological_order()
    assert sorted(order) == sorted(f"u{i}" for i in range(8))
    position = {n: i for i, n in enumerate(order)}
    assert all(position[s] < position[t] for s, t, _ in net.connections)
    net([0.5])


@pytest.mark.parametrize("action, error, message", [
    (lambda n: n.connect("z", "h"), ValueError,
     r"unknown unit 'z'; the units are 'x1', 'x2', 'h', 'y'"),
    (lambda n: n.connect("x1", "q"), ValueError, "unknown unit 'q'"),
    (lambda n: n.connect("h", "x1"), ValueError, "cannot connect into 'x1': it is an input"),
    (lambda n: n.connect("x1", "h"), ValueError, "'x1' -> 'h' is connected already"),
    (lambda n: n.connect("y", "h"), ValueError,
     "connecting 'y' -> 'h' would make a cycle: y -> h -> y"),
    (lambda n: n.connect("h", "h"), ValueError, "would make a cycle: h -> h"),
    (lambda n: n.connect("x1", "h", weight="big"), TypeError, "real number"),
    (lambda n: n.add_input("h"), ValueError, "there is already a unit named 'h'"),
    (lambda n: n.add_neuron("x1"), ValueError, "already a unit named 'x1'"),
    (lambda n: n.add_neuron("a.b"), ValueError, "non-empty str without"),
    (lambda n: n.add_neuron(""), ValueError, "non-empty str without"),
    (lambda n: n.add_input(3), ValueError, "non-empty str without"),
    (lambda n: n.add_neuron("z", activation="step"), ValueError, "unknown activation 'step'"),
    (lambda n: n.add_neuron("z", bias=1), TypeError, "bias must be True or False"),
    (lambda n: n.weight("x1", "x2"), ValueError, "'x1' is not connected into 'x2'"),
    (lambda n: n([1.0]), ValueError, "Network expects 2 inputs, got 1"),
])
def test_errors_name_the_problem_and_change_nothing(action: object, error: type[Exception],
                                                   message: str) -> None:
    net = xor_network()
    before = (snapshot(net), net.topological_order(), repr(net))
    with pytest.raises(error, match=message):
        action(net)  # type: ignore[operator]
    assert (snapshot(net), net.topological_order(), repr(net)) == before


def test_a_network_without_neurons_cannot_be_called() -> None:
    net = Network()
    net.add_input("x")
    with pytest.raises(ValueError, match="the network has no neurons"):
        net([1.0])


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "1", True])
def test_bad_weight_range(bad: object) -> None:
    with pytest.raises(ValueError, match="weight_range must be a finite number >= 0"):
        Network(weight_range=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_connection_weight_must_be_finite(bad: float) -> None:
    """A NaN weight made the network output NaN, and its own save refused it."""
    net = Network()
    net.add_input("x")
    net.add_neuron("y")
    with pytest.raises(ValueError, match=r"Network\.connect: weight must be finite"):
        net.connect("x", "y", weight=bad)
    assert net.connections == []


def test_weights_are_seeded_and_within_range() -> None:
    a, b = xor_network(seed=3), xor_network(seed=3)
    assert a.state_dict() == b.state_dict()
    assert xor_network(seed=4).state_dict() != a.state_dict()
    net = Network(weight_range=0.3, seed=0)
    net.add_input("x")
    net.add_neuron("y")
    assert abs(net.connect("x", "y").data) <= 0.3


def test_save_and_load_round_trip_and_refuse_other_wiring(tmp_path: Path) -> None:
    path = tmp_path / "xor.json"
    source = xor_network(seed=5)
    source.save(path)
    target = xor_network(seed=6)
    target.load(path)
    assert target.state_dict() == source.state_dict()
    other = Network(seed=0)
    for name in ("x1", "x2"):
        other.add_input(name)
    other.add_neuron("h")
    other.add_neuron("y", activation="tanh")
    for s, t in [("x1", "h"), ("x2", "h"), ("h", "y"), ("x1", "y"), ("x2", "y")]:
        other.connect(s, t)
    before = snapshot(other)
    with pytest.raises(ValueError, match="different architecture"):
        other.load(path)
    assert snapshot(other) == before


def test_repr_lists_units_and_their_sources() -> None:
    assert repr(xor_network()) == ("Network(inputs=['x1', 'x2'], h=sigmoid(x1, x2, bias), "
                                   "y=sigmoid(h, x1, x2, bias), 7 parameters)")


def test_a_neuron_with_no_connections_in_is_its_bias_as_a_node() -> None:
    net = Network(seed=0)
    net.add_input("x")
    net.add_neuron("h", activation="linear")
    net.add_neuron("y", activation="linear")
    net.connect("x", "y")
    h, _ = net([1.0])
    bias = dict(net.named_parameters())["h.b"]
    assert h.op == "+" and h.scope == "h" and bias in h.children and h is not bias
    h.backward()
    assert bias.grad == 1.0


def chain(n: int) -> Network:
    """u0 -> u1 -> ... -> u(n-1), built by hand one connection at a time."""
    net = Network(seed=0)
    net.add_input("u0")
    for i in range(1, n):
        net.add_neuron(f"u{i}", activation="linear")
        net.connect(f"u{i - 1}", f"u{i}")
    return net


def saved_and_loaded(net: Network, path: Path, reverse: bool) -> Network:
    """``net`` saved to ``path`` and loaded back, its connections listed backwards in the
    file if ``reverse`` (each connection then reaches everything made before it)."""
    import json

    import nn
    net.save(path)
    if reverse:
        document = json.loads(path.read_text())
        document["model"]["config"]["connections"].reverse()
        path.write_text(json.dumps(document))
    return nn.load(path)


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "listed backwards"])
def test_a_long_chain_builds_saves_and_loads_in_linear_time(tmp_path: Path,
                                                             reverse: bool) -> None:
    n = 20_000  # far beyond the recursion limit, for a pass that recursed along the chain
    net = chain(n)
    loaded = saved_and_loaded(net, tmp_path / "chain.json", reverse)
    assert loaded.topological_order() == [f"u{i}" for i in range(n)]
    assert loaded.state_dict() == net.state_dict()
    # 32,000 units took 323 s to load when each connection searched the graph: the
    # lines run then grew with the square of the length
    ratio = growth(lambda size: lines_run(
        lambda: saved_and_loaded(chain(size), tmp_path / f"{size}.json", reverse)), 400)
    assert ratio < LINEAR_GROWTH, f"building, saving and loading grew {ratio:.2f}x for 2x units"


@pytest.mark.parametrize("extra, message", [
    (["u3", "u1"], "connecting 'u3' -> 'u1' would make a cycle: u3 -> u1 -> u2 -> u3"),
    (["u2", "u2"], "connecting 'u2' -> 'u2' would make a cycle: u2 -> u2"),
])
def test_a_file_whose_connections_make_a_cycle_is_refused_naming_it(
        tmp_path: Path, extra: list[str], message: str) -> None:
    import json

    import nn
    path = tmp_path / "cycle.json"
    chain(5).save(path)
    document = json.loads(path.read_text())
    document["model"]["config"]["connections"].append(extra)
    document["parameters"][f"{extra[1]}.w[{extra[0]}]"] = 0.0
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=rf"cycle.json: cannot rebuild Network from its "
                                         rf"config: {message}$"):
        nn.load(path)


def test_the_order_of_units_follows_their_adding_not_their_connecting() -> None:
    """Two networks with the same units and connections, connected in other orders,
    order their units alike (as a network rebuilt from its config must)."""
    edges = [("x", "h"), ("h", "a"), ("x", "b"), ("x", "a")]
    orders = []
    for made in (edges, edges[::-1], sorted(edges, key=lambda edge: edge[1])):
        net = Network(seed=0)
        net.add_input("x")
        for name in ("a", "b", "h"):
            net.add_neuron(name, "linear")
        for source, target in made:
            net.connect(source, target, 1.0)
        orders.append(net.topological_order())
    assert orders == [["x", "b", "h", "a"]] * 3
