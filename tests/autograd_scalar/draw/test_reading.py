"""Readable drawings: checked in the laid-out picture, by Graphviz's dot and by WebAssembly.

The positions come from the SVG itself (each node's text, each box's outline), so
these tests read the drawing as a person does: top to bottom, left to right.
"""

from __future__ import annotations

import itertools
import re
import shutil
import xml.etree.ElementTree as ET
from statistics import mean

import pytest

import autograd_scalar.draw.layout as layout
import nn
from autograd_scalar import Value, draw_graph
from autograd_scalar.draw.layout import svg_of
from autograd_scalar.draw.reading import (
    display_name,
    home_scope,
    module_path,
    parameter_names,
    parent_module,
    reading_order,
)
from tests.autograd_scalar.graph_dot import edges, nodes, record_fields, records
from tests.graphviz_builds import needs_webassembly

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@pytest.fixture(params=["dot", pytest.param("wasm", marks=needs_webassembly)])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Lay out with Graphviz's dot program, then with the WebAssembly fallback (no dot)."""
    if request.param == "dot" and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    if request.param == "wasm":
        monkeypatch.setattr(layout.shutil, "which", lambda name: None)
        assert not layout.has_dot()
    return str(request.param)


def laid_out(source: str) -> tuple[dict[str, tuple[float, float, str]],
                                   dict[str, tuple[float, float, float, float]]]:
    """(node id -> (x, y, first text), box name -> (left, top, right, bottom)); y grows down."""
    root = ET.fromstring(svg_of(source))
    found: dict[str, tuple[float, float, str]] = {}
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title", default="")
        kind = group.get("class")
        if kind == "node":
            texts = list(group.iter(f"{SVG}text"))
            found[title] = (mean(float(t.get("x", 0)) for t in texts),
                            mean(float(t.get("y", 0)) for t in texts),
                            texts[0].text or "" if texts else "")
        elif kind == "cluster":
            outline = next(iter(group.iter(f"{SVG}path")), None)
            if outline is None:
                outline = next(iter(group.iter(f"{SVG}polygon")))
            values = [float(v) for v in NUMBER.findall(outline.get("d") or
                                                       outline.get("points") or "")]
            xs, ys = values[0::2], values[1::2]
            boxes[title.removeprefix("cluster_")] = (min(xs), min(ys), max(xs), max(ys))
    return found, boxes


def ids_by_name(source: str) -> dict[str, str]:
    """Record name field (first field that is not an op, data or grad) -> node id."""
    found = {}
    for node_id, attrs in records(source).items():
        names = [f for f in record_fields(attrs) if not f.startswith(("op ", "data ", "grad "))]
        if names:
            found[names[0]] = node_id
    return found


def trained_mlp(nin: int, nouts: list[int]) -> tuple[nn.MLP, Value]:
    model = nn.MLP(nin, nouts, seed=0)
    out = model([0.1 * (i + 1) for i in range(nin)])
    out.backward()
    return model, out


# ---------------------------------------------------------------------------
# The plain functions every view shares
# ---------------------------------------------------------------------------

def test_reading_order_visits_operands_in_order_each_after_its_inputs() -> None:
    model, out = trained_mlp(3, [4, 1])
    order = reading_order(out)
    assert order[-1] is out and len(order) == len(set(order))
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[child] < position[node] for child in node.children)
    names = parameter_names(model, "draw_graph")
    weights = [names[v] for v in order if names.get(v, "").startswith("layers.0.")]
    assert weights[:5] == ["layers.0.neurons.0.w[0]", "layers.0.neurons.0.w[1]",
                           "layers.0.neurons.0.w[2]", "layers.0.neurons.0.b",
                           "layers.0.neurons.1.w[0]"]
    inputs = [v.label for v in order if v.label.startswith("x[")]
    assert inputs == ["x[0]", "x[1]", "x[2]"]


def test_reading_order_is_iterative_and_can_be_restricted() -> None:
    x = Value(1.0, "x")
    y = x
    for _ in range(50_000):
        y = y + 1.0
    assert len(reading_order(y)) == 100_001
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c = a * b
    assert reading_order(c, within=[c, b]) == [b, c]


def test_display_name_prefers_the_parameter_name_and_home_scope_follows_it() -> None:
    model, out = trained_mlp(2, [2, 1])
    names = parameter_names(model, "draw_graph")
    weight = model.layers[0].neurons[1].w[1]
    assert weight.label == "w[1]"
    assert display_name(weight, names) == "layers.0.neurons.1.w[1]"
    assert display_name(weight, {}) == "w[1]"
    assert home_scope(weight, names) == "layers.0.neurons.1"
    assert home_scope(weight, {}) == ""
    assert home_scope(out, names) == out.scope == "layers.1.neurons.0"


def test_module_scopes_nest_by_name() -> None:
    assert parent_module("layers.0.neurons.3") == "layers.0"
    assert parent_module("layers.0") == ""
    assert parent_module("encoder.attn") == "encoder"
    assert module_path("layers.0.neurons.3") == ["layers.0", "layers.0.neurons.3"]
    assert module_path("") == []


def test_bad_names_say_what_was_expected() -> None:
    with pytest.raises(TypeError, match=r"names expects a model with named_parameters\(\).*"
                                        r"got int"):
        parameter_names(3, "draw_graph")
    with pytest.raises(TypeError, match=r"draw_graph: .*got list whose entry 'w': 1.0 is not"):
        parameter_names([("w", 1.0)], "draw_graph")


# ---------------------------------------------------------------------------
# The laid-out drawing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cluster", [False, True])
def test_inputs_neurons_and_weights_run_in_index_order_top_to_bottom(engine: str,
                                                                     cluster: bool) -> None:
    model, out = trained_mlp(3, [16, 1])
    source = draw_graph(out, names=model, cluster=cluster, compact=True).source
    position, _ = laid_out(source)
    ids = ids_by_name(source)
    ys = {name: position[node_id][1] for name, node_id in ids.items()}
    inputs = [ys[f"x[{i}]"] for i in range(3)]
    assert inputs == sorted(inputs)
    last = [ys[f"layers.1.neurons.0.w[{i}]"] for i in range(16)]
    if engine == "wasm" and cluster:
        # Graphviz 9 (the WebAssembly build) may flip a box whose nodes cross
        # nothing either way; the column stays in index order, in one direction
        last = last if last[0] < last[-1] else last[::-1]
    else:
        assert ys["layers.1.neurons.0.b"] > last[-1]
    assert last == sorted(last), "w[0] .. w[15] of the output neuron, top to bottom"
    firsts = [ys[f"layers.0.neurons.{j}.w[0]"] for j in range(16)]
    assert firsts == sorted(firsts), "neurons 0 .. 15 of the hidden layer, top to bottom"
    for j in range(16):
        own = [ys[f"layers.0.neurons.{j}.w[{i}]"] for i in range(3)]
        if engine == "wasm" and cluster:
            own = own if own[0] < own[-1] else own[::-1]
        assert own == sorted(own)


def test_module_boxes_line_up_side_by_side(engine: str) -> None:
    model, out = trained_mlp(3, [4, 4, 1])
    source = draw_graph(out, names=model, cluster=True, compact=True).source
    _, boxes = laid_out(source)
    layers = []
    for layer in range(3):
        mine = [box for name, box in boxes.items() if name.startswith(f"layers.{layer}.")]
        layers.append((min(b[0] for b in mine), min(b[1] for b in mine),
                       max(b[2] for b in mine), max(b[3] for b in mine)))
    for left, right in itertools.pairwise(layers):
        assert left[2] < right[0], "each layer's boxes lie wholly right of the previous ones"
    hidden = layers[:2]
    # the hidden layers span the same height: neither is stepped below the other
    overlap = min(hidden[0][3], hidden[1][3]) - max(hidden[0][1], hidden[1][1])
    assert overlap > 0.95 * min(b[3] - b[1] for b in hidden), "the shorter inside the taller"


def test_compact_op_records_are_rounded_and_tinted_unlike_leaves() -> None:
    model, out = trained_mlp(2, [2, 1])
    source = draw_graph(out, names=model, compact=True).source
    for attrs in records(source).values():
        fields = record_fields(attrs)
        if fields[0].startswith("op "):
            assert attrs["shape"] == "Mrecord" and attrs["fillcolor"] == "#e8eef7"
        else:
            assert attrs["shape"] == "record" and "fillcolor" not in attrs
    svg = svg_of(source)
    assert svg.count('fill="#e8eef7"') == 5   # three affine and two relu records


def test_summary_bundles_the_edges_between_layer_boxes(engine: str) -> None:
    model = nn.MLP(2, [8, 8, 1], seed=0)
    loss = sum((model([0.1 * k, -0.2 * k]) ** 2 for k in range(6)), Value(0.0))
    loss.backward()
    source = draw_graph(loss, max_nodes=60, cluster=True, names=model).source
    between = [attrs for _, _, attrs in edges(source)
               if attrs.get("ltail") == "cluster_layers.0" and
               attrs.get("lhead") == "cluster_layers.1"]
    assert len(between) == 1 and "384 edges bundled" in between[0]["tooltip"]
    into_first = [attrs for _, _, attrs in edges(source)
                  if attrs.get("lhead") == "cluster_layers.0"]
    assert len(into_first) == 12   # one per input leaf (2 inputs x 6 examples), not 96
    assert len([e for e in edges(source) if not e[0].endswith("op")]) < 40
    boxes = {k: v for k, v in nodes(source).items() if v.get("shape") == "box3d"}
    labels = sorted(box["label"] for box in boxes.values())
    # the 17 neurons, the 6 squares outside them as one box, and the adds of sum() but the
    # last (the output, drawn as itself) as another
    assert len(boxes) == 19
    assert labels[0].startswith("in parallel: 6 nodes") and "^2 ×6" in labels[0]
    assert labels[-1] == "running sum: 6 nodes\\n+ ×5, leaf ×1"   # with sum()'s start
    _, clusters = laid_out(source)   # lays out with compound edges, both engines
    assert {"layers.0", "layers.1", "layers.2"} <= set(clusters)
    assert clusters["layers.0"][2] < clusters["layers.1"][0]
