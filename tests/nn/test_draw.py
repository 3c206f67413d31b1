"""nn.draw_network: one node per unit, one edge per weight, width and colour from the weight."""

from __future__ import annotations

import re

import pytest

import nn
from autograd_scalar import GraphDrawing, Value, affine, dot, ops
from nn.draw import weighted_pairs
from tests.autograd_scalar.graph_dot import edges, nodes

POSITIVE, NEGATIVE = "#2166ac", "#b2182b"


def weight_edges(source: str) -> dict[str, dict[str, str]]:
    """Edges that carry a weight, keyed by the parameter name in their tooltip."""
    found = {}
    for _, _, attrs in edges(source):
        name = re.match(r"([\w.\[\]]+) = ", attrs.get("tooltip", ""))
        if name:
            found[name.group(1)] = attrs
    return found


def check_weights(source: str, model: nn.Module) -> None:
    weights = {n: p for n, p in model.named_parameters() if not n.endswith(".b")}
    drawn = weight_edges(source)
    assert set(drawn) == set(weights)
    largest = max(abs(p.data) for p in weights.values())
    for name, p in weights.items():
        attrs = drawn[name]
        assert attrs["color"] == (POSITIVE if p.data >= 0 else NEGATIVE)
        assert float(attrs["penwidth"]) == pytest.approx(0.4 + 5.6 * abs(p.data) / largest,
                                                         abs=0.01)
        assert f"{name} = {p.data:.3g}" in attrs["tooltip"]


def test_mlp_has_a_node_per_unit_and_an_edge_per_weight() -> None:
    model = nn.MLP(3, [4, 2], seed=3)
    source = nn.draw_network(model).source
    units = [a for a in nodes(source).values() if a.get("shape") in ("box", "circle")]
    assert sum(a["shape"] == "box" for a in units) == 3
    assert sum(a["shape"] == "circle" for a in units) == 4 + 2
    assert len(weight_edges(source)) == 3 * 4 + 4 * 2
    check_weights(source, model)
    assert sum(a.get("shape") == "plaintext" for a in nodes(source).values()) == 2


def test_mlp_edges_join_the_right_units() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    source = nn.draw_network(model).source
    names = {node_id: attrs["tooltip"] for node_id, attrs in nodes(source).items()
             if "tooltip" in attrs}
    pairs = {(names[a].split("\\n")[0], names[b].split("\\n")[0]) for a, b, attrs in
             edges(source) if " = " in attrs.get("tooltip", "")}
    assert pairs == {("input x[0]", "neuron layers.0.neurons.0"),
                     ("input x[1]", "neuron layers.0.neurons.0"),
                     ("input x[0]", "neuron layers.0.neurons.1"),
                     ("input x[1]", "neuron layers.0.neurons.1"),
                     ("neuron layers.0.neurons.0", "neuron layers.1.neurons.0"),
                     ("neuron layers.0.neurons.1", "neuron layers.1.neurons.0")}


def test_free_form_network_with_skip_connections() -> None:
    net = nn.Network(seed=2)
    for name in ("x1", "x2"):
        net.add_input(name)
    net.add_neuron("h")
    net.add_neuron("y")
    for source, target, w in (("x1", "h", 2.0), ("x2", "h", -1.0), ("h", "y", 0.5),
                              ("x1", "y", -4.0), ("x2", "y", 1.0)):
        net.connect(source, target, w)
    source = nn.draw_network(net).source
    check_weights(source, net)
    drawn = weight_edges(source)
    assert drawn["y.w[x1]"]["label"] == "-4" and drawn["y.w[x1]"]["penwidth"] == "6.00"
    # inputs, the hidden unit and the output unit take three different ranks
    ranks = re.findall(r"\{\s*rank=same((?:\s*u\d+ \[[^\n]*\n)+)", source)
    labels = [re.findall(r"label=(\w+)", block) for block in ranks]
    assert labels == [["x1", "x2"], ["h"], ["y"]]


def test_bias_colours_the_neuron_and_shows_in_its_tooltip() -> None:
    model = nn.MLP(1, [2], seed=0)
    model.layers[0].neurons[0].b.data = 0.75
    model.layers[0].neurons[1].b.data = -0.25
    source = nn.draw_network(model).source
    fills = {a["tooltip"].split("\\n")[0]: a for a in nodes(source).values()
             if a.get("shape") == "circle"}
    assert fills["neuron layers.0.neurons.0"]["fillcolor"] == "#d1e5f0"
    assert "bias layers.0.neurons.0.b = 0.75" in fills["neuron layers.0.neurons.0"]["tooltip"]
    assert fills["neuron layers.0.neurons.1"]["fillcolor"] == "#fddbc7"


def test_weight_labels_follow_the_option() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    assert all("label" not in a for a in
               weight_edges(nn.draw_network(model, weight_labels=False).source).values())
    assert all("label" in a for a in
               weight_edges(nn.draw_network(model, weight_labels=True).source).values())


def test_drawing_leaves_the_parameters_alone() -> None:
    model = nn.MLP(2, [3, 1], seed=5)
    before = [(p.data, p.grad) for p in model.parameters()]
    drawing = nn.draw_network(model)
    assert isinstance(drawing, GraphDrawing)
    assert [(p.data, p.grad) for p in model.parameters()] == before


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(TypeError, match="expects a model with named_parameters"):
        nn.draw_network([1, 2, 3])
    with pytest.raises(ValueError, match="rankdir"):
        nn.draw_network(nn.MLP(2, [1]), rankdir="diagonal")
    with pytest.raises(ValueError, match="precision"):
        nn.draw_network(nn.MLP(2, [1]), precision=0)

    class Headless(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Layer(2, 1)

        def forward(self, x: object) -> object:
            return self.layer(x)

    with pytest.raises(TypeError, match=r"expected a \.nin \(int\) or \.inputs"):
        nn.draw_network(Headless())


def test_weighted_pairs_read_the_layout_from_the_row() -> None:
    w1, w2, x1, x2, b = (Value(float(i), label) for i, label in enumerate("abcde", 1))
    assert list(weighted_pairs(dot([w1, w2], [x1, x2]))) == [(w1, x1), (w2, x2)]
    assert list(weighted_pairs(affine([w1, w2], [x1, x2], b))) == [(w1, x1), (w2, x2)]
    assert list(weighted_pairs(w1 * x1)) == [(w1, x1), (x1, w1)]
    assert list(weighted_pairs(w1 + x1)) == []
    assert list(weighted_pairs(w1)) == []


def test_weighted_pairs_follow_the_row_not_its_name() -> None:
    w1, w2, x1, x2 = (Value(float(i)) for i in range(1, 5))
    renamed = ops.DOT.replace(name="pairs", symbol="")
    assert list(weighted_pairs(renamed(w1, w2, x1, x2))) == [(w1, x1), (w2, x2)]
    not_bilinear = ops.DOT.replace(bilinear=False)
    assert not_bilinear(w1, w2, x1, x2).op == "dot"
    assert list(weighted_pairs(not_bilinear(w1, w2, x1, x2))) == []
