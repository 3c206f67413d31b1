"""nn.draw_network: one node per unit, one edge per weight, width and colour from the weight."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd_scalar import GraphDrawing, Value, affine, dot, ops
from nn.draw import weighted_pairs
from tests.autograd_scalar.graph_dot import edges, nodes
from tests.nn.test_network import xor_network as the_xor_network

POSITIVE, NEGATIVE = "#2166ac", "#b2182b"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot lays the drawing out")


def weight_name(attrs: dict[str, str]) -> str | None:
    """The parameter a tooltip names (``h.w[x1] = -8.33 (x1 -> h)`` -> ``h.w[x1]``)."""
    name = re.match(r"([\w.\[\]]+) = ", attrs.get("tooltip", ""))
    return name.group(1) if name else None


def tags(source: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The nodes that write a weight on its edge: parameter name -> (node id, attributes)."""
    return {name: (node_id, attrs) for node_id, attrs in nodes(source).items()
            if (name := weight_name(attrs)) is not None}


def connections(source: str) -> list[tuple[str, str, dict[str, str]]]:
    """One (unit, unit, attributes) per weight: an edge through a weight's tag is read as
    the one connection it draws."""
    tag_ids = {node_id for node_id, _ in tags(source).values()}
    into = {b: a for a, b, _ in edges(source) if b in tag_ids}
    return [(into.get(a, a), b, attrs) for a, b, attrs in edges(source)
            if b not in tag_ids and weight_name(attrs) is not None]


def weight_edges(source: str) -> dict[str, dict[str, str]]:
    """Edges that carry a weight, keyed by the parameter name in their tooltip."""
    return {weight_name(attrs) or "": attrs for _, _, attrs in connections(source)}


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
    units = [a for a in nodes(source).values() if a.get("shape") in ("box", "circle")
             and weight_name(a) is None]
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
    pairs = {(names[a].split("\\n")[0], names[b].split("\\n")[0])
             for a, b, _ in connections(source)}
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
    assert tags(source)["y.w[x1]"][1]["label"] == "-4" and drawn["y.w[x1]"]["penwidth"] == "6.00"
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
    bare = nn.draw_network(model, weight_labels=False).source
    assert tags(bare) == {} and all("label" not in a for a in weight_edges(bare).values())
    assert len(connections(bare)) == len(edges(bare)) - 1 == 6     # and the output's arrow
    labelled = nn.draw_network(model, weight_labels=True).source
    assert {name: attrs["label"] for name, (_, attrs) in tags(labelled).items()} == \
        {name: f"{p.data:.3g}" for name, p in model.named_parameters() if not name.endswith(".b")}
    assert len(connections(labelled)) == 6


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


# ---------------------------------------------------------------------------
# What the laid-out drawing shows: each weight on its own edge, readable
# ---------------------------------------------------------------------------

XOR_TRAINED = {("x1", "h"): -8.33, ("x2", "h"): -8.33, ("h", "y"): -14.8,
               ("x1", "y"): -6.89, ("x2", "y"): -6.89}
"""The weights notebook 06 reaches (seed 0, 600 epochs), where the drawing's labels
"-8.33" and "-6.89" sat on the thick x1 -> y edge."""


def xor_network(weights: dict[tuple[str, str], float] | None = None) -> nn.Network:
    """Notebook 06's XOR network (:func:`tests.nn.test_network.xor_network`), with seed
    0's weights, or ``weights``."""
    net = the_xor_network(seed=0)
    if weights is not None:
        for (source, target), weight in weights.items():
            net.weight(source, target).data = weight
        net.bias("h").data, net.bias("y").data = 3.28, 10.4
    return net


DRAWN = {"random weights": lambda: xor_network(),
         "trained": lambda: xor_network(XOR_TRAINED),
         "mlp": lambda: nn.MLP(2, [3, 2, 1], seed=0)}


@dataclass
class Text:
    """A text as Graphviz draws it: its box (points, y up), font, colour and the
    tooltip of the node or edge that draws it."""

    text: str
    box: tuple[float, float, float, float]
    face: str
    colour: str
    owner: str


def laid_out(source: str, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """``dot``'s layout of ``source`` (JSON with its drawing operations) and its PNG at
    144 dpi (2 pixels a point)."""
    path = tmp_path / "drawing.gv"
    path.write_text(source, encoding="utf-8")
    png = tmp_path / "drawing.png"
    layout = subprocess.run(["dot", "-Tjson", str(path)], check=True, capture_output=True,
                            text=True).stdout
    subprocess.run(["dot", "-Tpng", "-Gdpi=144", "-o", str(png), str(path)], check=True)
    return json.loads(layout), png


def texts(layout: dict[str, Any]) -> list[Text]:
    found = []
    for item in [*layout.get("objects", []), *layout.get("edges", [])]:
        for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
            face = colour = ""
            size = 14.0
            for op in item.get(key, []):
                if op["op"] == "F":
                    face, size = op["face"], op["size"]
                elif op["op"] == "c":
                    colour = op["color"]
                elif op["op"] == "T":
                    (x, y), half = op["pt"], op["width"] / 2
                    found.append(Text(op["text"], (x - half, y - 0.2 * size, x + half,
                                                   y + 0.75 * size),
                                      face, colour, item.get("tooltip", "")))
    return found


def curves(layout: dict[str, Any]) -> list[tuple[str, float, list[tuple[float, float]]]]:
    """Each edge as (tooltip, pen width, points along its spline)."""
    found = []
    for edge in layout.get("edges", []):
        width = float(edge.get("penwidth", 1.0))
        for op in edge["_draw_"]:
            if op["op"] in "bB":
                points = op["points"]
                along = []
                for i in range(0, len(points) - 3, 3):
                    p0, p1, p2, p3 = points[i:i + 4]
                    for step in range(21):
                        t = step / 20
                        along.append(tuple(
                            (1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c
                            + t ** 3 * d for a, b, c, d in zip(p0, p1, p2, p3)))
                found.append((edge.get("tooltip", ""), width, along))
    return found


def distance(point: tuple[float, float], box: tuple[float, float, float, float]) -> float:
    x, y = point
    left, bottom, right, top = box
    return math.hypot(max(left - x, 0.0, x - right), max(bottom - y, 0.0, y - top))


def weight_texts(layout: dict[str, Any], model: nn.Module) -> list[Text]:
    values = {f"{p.data:.3g}" for name, p in model.named_parameters() if not name.endswith(".b")}
    shown = [t for t in texts(layout) if weight_name({"tooltip": t.owner})]
    assert {t.text for t in shown} == values
    return shown


@needs_dot
@pytest.mark.parametrize("name", DRAWN)
def test_each_weight_is_written_on_its_own_edge_and_no_other(name: str, tmp_path: Path) -> None:
    model = DRAWN[name]()
    layout, _ = laid_out(nn.draw_network(model).source, tmp_path)
    lines = curves(layout)
    for text in weight_texts(layout, model):
        own = [points for tooltip, _, points in lines if tooltip == text.owner]
        assert own and min(distance(p, text.box) for points in own for p in points) < 1.0, \
            f"{text.text} ({text.owner}) is not on its edge"
        for tooltip, width, points in lines:
            if tooltip != text.owner:
                closest = min(distance(p, text.box) for p in points)
                assert closest > width / 2 + 1.0, \
                    f"{text.text} ({text.owner}) lies on the edge {tooltip!r}"


@needs_dot
@pytest.mark.parametrize("name", DRAWN)
def test_each_weight_is_readable(name: str, tmp_path: Path) -> None:
    """In the drawing's font, dark, on white: no edge's colour inside a weight's text."""
    from PIL import Image

    model = DRAWN[name]()
    layout, png = laid_out(nn.draw_network(model).source, tmp_path)
    height = float(layout["bb"].split(",")[3])
    pixels = Image.open(png).convert("RGB")
    pad = 4.0                                       # Graphviz's margin round the drawing
    for text in weight_texts(layout, model):
        assert text.face == "Helvetica"
        assert max(int(text.colour[i:i + 2], 16) for i in (1, 3, 5)) < 0x60, text.colour
        left, bottom, right, top = text.box
        area = pixels.crop((round(2 * (left + pad)) + 1, round(2 * (height - top + pad)) + 1,
                            round(2 * (right + pad)) - 1, round(2 * (height - bottom + pad)) - 1))
        rgb = np.asarray(area, dtype=int).reshape(-1, 3)
        coloured = int((rgb.max(axis=1) - rgb.min(axis=1) > 40).sum())
        assert coloured == 0, f"{text.text} ({text.owner}): {coloured} coloured pixels"
        assert (rgb.max(axis=1) < 0x90).sum() > 10, f"{text.text} is not drawn there"
