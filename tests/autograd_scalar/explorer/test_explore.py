"""explore: the view's data is the graph's own numbers, laid out without overlaps, with a
static picture in every output and clear errors for bad arguments."""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_scalar as ag
import nn
from autograd_scalar import Function, Value, check_graph, explore, topological_order
from autograd_scalar.draw.animate import backward_steps
from autograd_scalar.draw.reading import display_name, reading_order
from autograd_scalar.explorer import widget
from autograd_scalar.explorer.model import FRAME_BUDGET
from autograd_scalar.explorer.notebook import (
    register_value_display,
    set_display,
    value_bundle,
)
from autograd_scalar.explorer.positions import BOX, NODE
from tests.autograd_scalar.graph_dot import expected_neuron_grads, neuron
from tests.graphviz_builds import needs_webassembly, without_graphviz
from tests.work import lines_run


class BrokenSoftsign(Function):
    """x / (1 + |x|) with the square missing from its rule."""

    @staticmethod
    def forward(x):
        return x / (1 + abs(x))

    @staticmethod
    def derivatives(x, out):
        return (1 / (1 + abs(x)),)


def mlp_loss(examples: int, nouts: list[int] | None = None) -> tuple[nn.MLP, Value]:
    model = nn.MLP(2, nouts or [4, 4, 1], seed=0)
    xs = [[0.1 * k, -0.2 * k] for k in range(examples)]
    loss = ag.sum([(model(x) - 1.0) ** 2 for x in xs])
    loss.backward()
    return model, loss


def test_nodes_carry_the_values_own_numbers_in_reading_order() -> None:
    values = neuron()
    values["o"].backward()
    view = explore(values["o"], precision=17)
    order = reading_order(values["o"])
    data = view.data
    assert len(data["data"]) == len(order)
    expected = expected_neuron_grads()
    for k, node in enumerate(order):
        assert data["data"][k] == node.data and data["grad"][k] == node.grad
        assert data["locals"][k] == [float(d) for d in node.local_grads]
        assert [order[c] for c in data["kids"][k]] == list(node.children)
        assert data["ops"][data["op"][k]][0] == node.op
        assert data["labels"][k] == node.label
        if node.label in expected:
            assert data["grad"][k] == pytest.approx(expected[node.label], abs=1e-12)


def test_numbers_travel_at_the_precision_shown() -> None:
    values = neuron()
    values["o"].backward()
    data = explore(values["o"], precision=3).data
    order = reading_order(values["o"])
    assert data["data"] == [float(f"{node.data:.3g}") for node in order]
    assert data["grad"] == [float(f"{node.grad:.3g}") for node in order]
    huge = Value(1e308, "x") * 10
    assert explore(huge).data["data"][-1] == "inf"


def test_an_mlp_reads_in_index_order_with_parameter_names() -> None:
    """Neurons, weights and inputs in index order, as the drawings read them: the
    order of the nodes is reading_order's, and each box lists its items in it."""
    model = nn.MLP(3, [4, 1], seed=0)
    out = model([0.5, -1.0, 2.0])
    out.backward()
    view = explore(out, names=model)
    order = reading_order(out)
    names = parameter_names_of(model)
    assert view.data["names"] == [display_name(node, names) for node in order]
    shown = [view.data["names"][k] for k in view.data["params"]]
    assert shown == [name for name in view.data["names"] if name in names.values()]
    weights = [n for n in shown if n.startswith("layers.0.neurons.0.w[")]
    assert weights == [f"layers.0.neurons.0.w[{i}]" for i in range(3)]
    neurons = [n for n in shown if n.endswith(".b") and n.startswith("layers.0")]
    assert neurons == [f"layers.0.neurons.{i}.b" for i in range(4)]
    inputs = [name for name in view.data["names"] if name.startswith("x[")]
    assert inputs == ["x[0]", "x[1]", "x[2]"]
    for group in view.data["groups"]:
        nodes = [i for i in group["items"] if i >= 0]
        assert nodes == sorted(nodes)
        heights = {view.data["names"][i]: group["centres"][2 * k + 1]
                   for k, i in enumerate(group["items"]) if i >= 0}
        column = [heights[n] for n in weights if n in heights]
        assert column == sorted(column)          # laid out top to bottom in index order


@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "no-graphviz"])
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_a_layers_neuron_boxes_are_laid_out_in_index_order(
        rankdir: str, graphviz: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """layers.k.neurons.0 above layers.k.neurons.1 above ... (left of, top to bottom),
    read from the laid-out centres: Graphviz alone puts unconnected boxes last first."""
    if not graphviz:
        without_graphviz(monkeypatch, tmp_path)
    model, loss = mlp_loss(3, nouts=[6, 5, 1])
    groups = explore(loss, names=model, rankdir=rankdir).data["groups"]
    along = 1 if rankdir == "LR" else 0
    checked = 0
    for layer in ("layers.0", "layers.1"):
        group = next(g for g in groups if g["title"] == layer)
        place = {groups[-1 - item]["title"]: group["centres"][2 * k + along]
                 for k, item in enumerate(group["items"]) if item < 0}
        neurons = [f"{layer}.neurons.{i}" for i in range(len(place))]
        assert sorted(place) == sorted(neurons)
        assert [place[n] for n in neurons] == sorted(place.values())
        assert len(set(place.values())) == len(neurons)
        checked += len(neurons)
    assert checked == 11


def test_a_networks_inputs_go_in_its_first_layer_while_that_box_stays_small() -> None:
    """x[0], x[1] of every example are used by all of layers.0's neurons, so they sit in
    layers.0 (the loss then opens as one column per example, not a column of inputs);
    the inputs of more examples than a box shows stay outside it."""
    for examples, inside in ((20, True), (80, False)):
        model, loss = mlp_loss(examples)
        data = explore(loss, names=model).data
        groups = data["groups"]
        layer = next(k for k, g in enumerate(groups) if g["title"] == "layers.0")
        inputs = [k for k, name in enumerate(data["names"]) if name.startswith("x[")]
        assert len(inputs) == 2 * examples
        homes = {k: g for g, group in enumerate(groups) for k in group["items"] if k >= 0}
        assert all((homes[k] == layer) is inside for k in inputs)
        if not inside:
            assert all(len(g["items"]) <= FRAME_BUDGET for g in groups)


def test_a_batch_loss_opens_as_boxes_of_its_terms_with_the_output_a_node() -> None:
    """Sixty examples: the nodes outside the model are more than a box shows. They go in
    the boxes a summary drawing makes (each op done alike on every example, the running
    sum of Python's sum(), the examples' inputs by the layer that reads them), not in
    runs of node ids; the output is a node at the top. Six examples stay as they were."""
    model = nn.MLP(2, [8, 8, 1], seed=0)
    loss = sum(((model([0.1 * k, -0.3]) - 1.0) ** 2 for k in range(60)), Value(0.0))
    loss.backward()
    data = explore(loss, names=model).data
    groups = data["groups"]
    top = groups[0]
    titles = sorted(groups[-1 - item]["title"] for item in top["items"] if item < 0)
    assert titles == ["in parallel: - ×60", "in parallel: ^2 ×60", "inputs of layers.0",
                      "layers.0", "layers.1", "layers.2", "running sum: + ×59"]
    assert [item for item in top["items"] if item >= 0] == data["outputs"]
    assert all(not g["title"].startswith("nodes") for g in groups)
    size = {g["title"]: len(g["items"]) for g in groups}
    assert size["inputs of layers.0"] == 120 and size["in parallel: - ×60"] == 120
    assert size["running sum: + ×59"] == 60                   # and sum()'s start, 0.0
    model, loss = mlp_loss(6)
    titles = {g["title"] for g in explore(loss, names=model).data["groups"]}
    assert not any(t.startswith(("in parallel", "inputs of", "running")) for t in titles)


def parameter_names_of(model: nn.Module) -> dict[Value, str]:
    return {value: name for name, value in model.named_parameters()}


def test_steps_are_backprops_order_and_its_grads() -> None:
    values = neuron()
    view = explore(values["o"], precision=17)
    order = reading_order(values["o"])
    steps = backward_steps(values["o"])
    assert [order[k] for k in view.data["steps"]] == [s.node for s in steps]
    assert view.data["stepGrads"] == [s.grad for s in steps]


def test_a_check_graph_report_marks_its_failure_and_carries_its_table() -> None:
    x, w = Value(0.7, label="x"), Value(-1.3, label="w")
    y = (BrokenSoftsign.apply(x * w + 0.4) ** 2).tanh()
    report = check_graph(y)
    view = explore(report)
    data = view.data
    assert [data["ops"][data["op"][k]][0] for k in data["failed"]] == ["BrokenSoftsign"]
    assert data["failures"][0][0] == "node" and len(data["failures"]) == 2
    assert "1 of" in data["summary"]
    assert "1 marked" in repr(view)


def test_a_big_page_stays_small() -> None:
    """Numbers and indices only, every rule in words once, no prose per node: under
    200 bytes of data a node (a 10,000-node page is 2 MB with its picture and script)."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = ag.sum([(model([0.01 * k, -0.02 * k]) - 1.0) ** 2 for k in range(12)])
    loss.backward()
    view = explore(loss, names=model)
    nodes = len(view.data["data"])
    assert nodes > 900
    per_node = len(view.payload.encode("utf-8")) / nodes
    assert per_node < 200, f"{per_node:.0f} bytes per node"
    assert sum(1 for row in view.data["ops"] if row[2]) == len(view.data["ops"]) - 1


def test_groups_follow_modules_and_none_shows_more_than_its_budget() -> None:
    model, loss = mlp_loss(40)
    view = explore(loss, names=model)
    groups = view.data["groups"]
    titles = {g["title"] for g in groups if g["module"]}
    assert {"layers.0", "layers.0.neurons.3", "layers.2.neurons.0"} <= titles
    assert all(len(g["items"]) <= FRAME_BUDGET for g in groups)
    held = sorted(i for g in groups for i in g["items"] if i >= 0)
    assert held == list(range(len(view.data["data"])))      # each node in exactly one group
    names = {view.data["names"][k] for k in view.data["params"]}
    assert names == {name for name, _ in model.named_parameters()}


@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "no-graphviz"])
def test_layouts_keep_items_apart(graphviz: bool, monkeypatch: pytest.MonkeyPatch,
                                  tmp_path: Path) -> None:
    if not graphviz:
        without_graphviz(monkeypatch, tmp_path)
    model, loss = mlp_loss(3)
    for group in explore(loss, names=model).data["groups"]:
        boxes = []
        centres = group["centres"]
        for k, item in enumerate(group["items"]):
            x, y = centres[2 * k], centres[2 * k + 1]
            w, h = NODE if item >= 0 else BOX
            boxes.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] + 1e-6 or b[2] <= a[0] + 1e-6 \
                    or a[3] <= b[1] + 1e-6 or b[3] <= a[1] + 1e-6


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_without_any_graphviz_every_edge_runs_from_input_to_user(
        rankdir: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With neither dot nor its WebAssembly build (Python 3.10 without Graphviz), the view
    lays itself out: each node's column comes after those of the nodes it uses, and
    nodes of one column do not overlap."""
    without_graphviz(monkeypatch, tmp_path)
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    h = (x * w + x.tanh()) * (w.exp() + x)
    out = (h * h + w).relu() + h
    view = explore(out, rankdir=rankdir)
    (group,) = view.data["groups"]
    assert group["items"] == list(range(len(view.data["data"])))
    across = 0 if rankdir == "LR" else 1
    place = {item: group["centres"][2 * k + across] for k, item in enumerate(group["items"])}
    edges = [(child, node) for node, kids in enumerate(view.data["kids"]) for child in kids]
    assert len(edges) >= 10
    assert all(place[child] < place[node] for child, node in edges)
    along = 1 - across
    spots = sorted((round(place[k]), group["centres"][2 * i + along])
                   for i, k in enumerate(group["items"]))
    size = NODE[along]
    for (c1, y1), (c2, y2) in itertools.pairwise(spots):
        assert c1 != c2 or y2 - y1 >= size


@needs_webassembly
def test_layout_works_without_the_dot_program(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    values = neuron()
    with_dot = explore(values["o"]).data["groups"]
    monkeypatch.setenv("PATH", str(tmp_path))
    without = explore(values["o"]).data["groups"]
    def flat(groups: list[dict[str, list[float]]]) -> list[float]:
        return [c for g in groups for c in g["centres"]]

    assert flat(without) == pytest.approx(flat(with_dot), abs=1.0)


def test_every_output_carries_the_widget_and_a_static_picture() -> None:
    """The widget for a live kernel; for anywhere else the picture, as HTML that
    sanitizers keep and as SVG; never a bare repr."""
    values = neuron()
    view = explore(values["o"])
    bundle, _ = view._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "text/html", "image/svg+xml",
            "text/plain"} <= set(bundle)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
    found = re.search(r'<img [^>]*src="data:image/svg\+xml;base64,([^"]+)"', bundle["text/html"])
    assert found and base64.b64decode(found.group(1)).decode() == view.picture
    assert "<script" not in bundle["text/html"]
    assert bundle["text/plain"] == f"<GraphView of {len(view.data['data'])} nodes in 0 boxes>"
    assert json.loads(view.payload)["data"] == view.data["data"]
    only, _ = view._repr_mimebundle_(include=["image/svg+xml"])
    assert only == {"image/svg+xml": view.picture}


def test_the_static_picture_shows_the_views_module_boxes_and_heat_map() -> None:
    """Where the widget cannot run, the picture stands for the view as it opens: nodes in
    their modules' boxes, coloured by |grad| when the view opens with its heat map."""
    model = nn.MLP(2, [3, 1], activation="tanh", seed=1)
    loss = ag.sum([(model(x) - y) ** 2 for x, y in [([0.5, -1.5], 1.0), ([1.0, 0.5], -1.0)]])
    loss.backward()
    source = explore(loss, names=model, heatmap=True)._drawing().source
    assert "subgraph cluster_layers.0" in source or 'subgraph "cluster_layers.0' in source
    assert "heat map: |grad|" in source
    plain = explore(loss, names=model)._drawing().source
    assert "heat map" not in plain and "cluster_layers.0" in plain


def test_the_static_picture_of_a_big_batch_loss_is_a_summary_by_module() -> None:
    """A loss over 139 examples (10,000 nodes): its picture boxes the per-example squares
    and subtractions in parallel and the model's nodes by module, each stub of inputs not
    drawn beside its box (not in a box of its own), within the picture's budget."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    points = [[0.01 * i, -0.02 * i] for i in range(139)]
    loss = ag.sum([(model(p) - 1.0) ** 2 for p in points])
    loss.backward()
    source = explore(loss, names=model)._drawing().source
    clusters = set(re.findall(r'subgraph "?cluster_([\w.]+)', source))
    assert clusters == {"layers.1", "layers.2"}, clusters  # none holds a stub alone
    assert "in parallel: 139 nodes" in source and "module layers.1" in source
    assert source.count("shape=record") + source.count("shape=box3d") \
        + source.count("shape=plaintext") <= widget.PICTURE_NODES


@pytest.mark.parametrize("examples", [4, 145])
def test_the_static_picture_is_narrow_enough_to_read_at_a_notebooks_width(examples) -> None:
    """An MLP loss over 4 examples drew 1,740 pt wide (its 16 neurons side by side, then
    the chain of layers), shown at the output's 900 px: its text came out 6 px high.
    Turned top to bottom or summarised further, it is at most PICTURE_WIDTH."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    X, y = nn.data.moons(examples, noise=0.1, seed=0)
    loss = ag.sum([(model(list(x)) - float(t)) ** 2 for x, t in zip(X, y)])
    loss.backward()
    view = explore(loss, names=model)
    assert 200 < widget.svg_width(view.picture) <= widget.PICTURE_WIDTH
    assert "module layers.1" in view.picture  # still boxed by module


def test_refresh_shows_new_numbers_and_keeps_the_layout_of_the_same_structure() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    X = [[0.5, -1.0], [1.5, 0.25]]

    def loss_of() -> Value:
        loss = ag.sum([(model(x) - 1.0) ** 2 for x in X])
        model.zero_grad()
        loss.backward()
        return loss

    loss = loss_of()
    view = explore(loss, names=model, precision=17)
    before = json.loads(view.payload)
    for p in model.parameters():
        p.data -= 0.1 * p.grad
    again = loss_of()
    view.refresh(again)
    after = json.loads(view.payload)
    assert after["structure"] == before["structure"] and after["groups"] == before["groups"]
    assert after["data"][-1] == again.data != before["data"][-1]
    order = reading_order(again)
    assert after["grad"] == [node.grad for node in order]
    view.refresh(ag.sum([model(x) for x in X]))           # another structure: laid out anew
    assert json.loads(view.payload)["structure"] == before["structure"] + 1


def test_selected_is_the_value_the_view_reports_clicked() -> None:
    values = neuron()
    view = explore(values["o"])
    assert view.selected is None
    order = reading_order(values["o"])
    view.selected_index = order.index(values["w1"])      # what the front end sets
    assert view.selected is values["w1"]


def test_a_value_displays_through_the_view_within_the_budget_and_as_a_summary_above() -> None:
    values = neuron()
    bundle, _ = value_bundle(values["o"])
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<svg" in bundle["image/svg+xml"]
    big = ag.sum([Value(float(k)) * Value(0.5) for k in range(20_000)])
    summary: Any = None

    def display() -> None:
        nonlocal summary
        summary = value_bundle(big)

    # the summary is one walk over the graph and about 2 lines of Python per node;
    # laying out the view for it would run about 70 more per node
    walk = lines_run(lambda: topological_order(big))
    assert lines_run(display) <= walk + 10 * 60_001
    assert isinstance(summary, dict) and set(summary) == {"text/plain", "text/html"}
    assert "60,001 nodes" in summary["text/plain"] and "explore(value)" in summary["text/plain"]
    assert len(summary["text/html"]) < 2_000
    try:
        set_display(rich=False)
        assert value_bundle(values["o"]) == {"text/plain": repr(values["o"])}
        set_display(rich=True, max_nodes=100_000)
        assert "application/vnd.jupyter.widget-view+json" in value_bundle(big)[0]
    finally:
        set_display(rich=True, max_nodes=2_000)
    with pytest.raises(ValueError, match="max_nodes must be an int >= 1"):
        set_display(max_nodes=0)
    with pytest.raises(TypeError, match="rich must be True or False"):
        set_display(rich="no")  # type: ignore[arg-type]
    assert register_value_display() is False   # no IPython shell in a test run


def test_save_writes_one_self_contained_page(tmp_path: Path) -> None:
    values = neuron()
    path = explore(values["o"], title="a neuron").save(tmp_path / "view.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>a neuron</title>" in page
    assert "AutogradScalarView.mount" in page and 'class="agv-picture"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


@pytest.mark.parametrize(("target", "kwargs", "error", "words"), [
    ("text", {}, TypeError,
     "the root must be a Value, a list of Values or a check_graph report, got str"),
    ([], {}, ValueError, "at least one Value"),
    ([1.0], {}, TypeError, "root 0 is a float, expected a Value"),
    (None, {"rankdir": "RL"}, ValueError, "rankdir must be 'LR' or 'TB'"),
    (None, {"precision": 0}, ValueError, "precision must be an int from 1 to 17"),
    (None, {"max_nodes": 1}, ValueError, "max_nodes must be an int >= 2"),
    (None, {"heatmap": "yes"}, TypeError, "heatmap must be True or False"),
    (None, {"names": [1, 2]}, TypeError, "^explore: names expects"),
    ("root", {"names": "reversed"}, TypeError,
     r"^explore: names expects .*\{name: Value\} dict, got dict whose entry Value"),
    (None, {"highlight": 3}, TypeError, "^explore: highlight expects a Value"),
    (None, {"highlight": [2.0]}, TypeError, "^explore: highlight expects Values"),
])
def test_bad_arguments_are_clear_errors(target: object, kwargs: dict[str, object],
                                        error: type[Exception], words: str) -> None:
    root = Value(1.0) * 2 if target in (None, "root") else target
    if kwargs.get("names") == "reversed":  # {Value: name}, the wrong way round
        kwargs = {"names": {root: "n"}}
    with pytest.raises(error, match=words):
        explore(root, **kwargs)  # type: ignore[arg-type]


def test_save_refuses_other_suffixes_and_missing_folders(tmp_path: Path) -> None:
    view = explore(Value(1.0) * 2)
    with pytest.raises(ValueError, match=r"ending in \.html"):
        view.save(tmp_path / "view.svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        view.save(tmp_path / "nowhere" / "view.html")
    assert list(tmp_path.iterdir()) == []


def test_a_big_graph_lays_out_its_boxes_when_they_are_opened(tmp_path: Path) -> None:
    """Over LAZY_NODES nodes, only the boxes that open with the view are laid out; the
    front end asks for the others and gets the same layouts a full one would give; a
    saved page carries them all."""
    from autograd_scalar.explorer.records import LAZY_NODES, view_data

    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = ag.sum([(model([0.01 * k, -0.02 * k]) - 1.0) ** 2 for k in range(70)])
    loss.backward()
    assert len(topological_order(loss)) > LAZY_NODES
    view = explore(loss, names=model)
    groups = view.data["groups"]
    closed = [g for g, record in enumerate(groups) if record["centres"] is None]
    assert groups[0]["centres"] is not None and len(closed) > len(groups) // 2
    sent: list[dict] = []
    view.send = sent.append  # type: ignore[method-assign]
    view._answer(view, {"type": "layout", "groups": closed[:3]})
    assert sent[-1]["type"] == "layouts" and sorted(sent[-1]["groups"]) == sorted(
        str(g) for g in closed[:3])
    view._answer(view, {"type": "layout", "groups": [len(groups)]})
    assert sent[-1] == {"type": "error", "message": f"explore: no box {len(groups)}; boxes "
                        f"are numbered 0 to {len(groups) - 1}"}
    page = view.save(tmp_path / "big.html").read_text(encoding="utf-8")
    payload = json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>',
                                   page, re.S).group(1))
    full = view_data([loss], view._options, None, lazy=False)[0]
    assert [g["centres"] for g in payload["groups"]] == [g["centres"] for g in full["groups"]]
    got = {int(g): layout for g, layout in sent[0]["groups"].items()}
    assert all(got[g]["centres"] == full["groups"][g]["centres"] for g in got)


def big_loss_with_infinities() -> tuple[nn.MLP, Value]:
    """An MLP loss of over PACKED_FROM nodes whose output is inf (one product overflows)."""
    from autograd_scalar.explorer.page import PACKED_FROM

    model, loss = mlp_loss(140, [16, 16, 1])
    total = ag.sum([loss, Value(1e300) * 1e10])
    total.backward()
    assert len(topological_order(total)) > PACKED_FROM
    return model, total


def same_numbers(found: list[Any], expected: list[Any], digits: int) -> None:
    assert len(found) == len(expected)
    for a, b in zip(found, expected):
        if isinstance(b, str):
            assert a == b
        else:
            assert a == pytest.approx(b, rel=10.0 ** (1 - digits), abs=1e-300)


def test_a_big_graphs_payload_is_packed_and_unpacks_to_the_views_data() -> None:
    """Over PACKED_FROM nodes the columns travel as compressed bytes, a fraction of the
    plain JSON; unpacked they are the view's own lists (numbers to its precision)."""
    from autograd_scalar.explorer.page import unpacked

    model, total = big_loss_with_infinities()
    for precision in (4, 9):
        view = explore(total, names=model, precision=precision)
        payload = json.loads(view.payload)
        assert "packed" in payload and "kids" not in payload
        plain = json.dumps(view.data, separators=(",", ":"))
        assert len(view.payload) < len(plain) / 3
        data = unpacked(view.payload)
        assert set(data) == set(view.data)
        for key in ("kids", "steps", "op", "scope", "names", "labels", "groups", "params"):
            assert data[key] == view.data[key], key
        for key in ("data", "grad", "stepGrads"):
            same_numbers(data[key], view.data[key], precision)
        same_numbers([x for xs in data["locals"] for x in xs],
                     [x for xs in view.data["locals"] for x in xs], precision)
        assert data["data"][-1] == view.data["data"][-1] == "inf"


def test_edges_are_the_same_found_by_table_or_sort_and_by_scan_or_sorted_groups(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each group's edges, as a reference that walks every edge counts them."""
    from autograd_scalar.explorer import model as boxes
    from autograd_scalar.explorer.records import view_data

    def outermost_first(group: Any) -> list[Any]:
        found = []
        while group is not None:
            found.append(group)
            group = group.parent
        return found[::-1]

    model, loss = mlp_loss(300, [8, 8, 1])
    view = explore(loss, names=model)
    data, layouts = view_data([loss], view._options, None, lazy=True)
    graph = layouts.graph
    expected: dict[int, dict[tuple[int, int], int]] = {id(g): {} for g in graph.groups}
    for node in graph.order:
        for child in node.children:
            a, b = outermost_first(graph.home[child]), outermost_first(graph.home[node])
            depth = 0
            while depth < min(len(a), len(b)) and a[depth] is b[depth]:
                depth += 1
            key = (id(a[depth]) if depth < len(a) else id(child),
                   id(b[depth]) if depth < len(b) else id(node))
            counts = expected[id(a[depth - 1])]
            counts[key] = counts.get(key, 0) + 1
    everything = range(len(graph.groups))
    for table in (boxes._TABLE, 0):
        monkeypatch.setattr(boxes, "_TABLE", table)
        sorted_once = boxes.Edges(graph, data["kids"], data["arity"]).of(everything)
        scanned = boxes.Edges(graph, data["kids"], data["arity"])
        one_by_one = {k: v for g in everything for k, v in scanned.of([g]).items()}
        for found in (sorted_once, one_by_one):
            assert {k: list(v.items()) for k, v in found.items()} == \
                {k: list(v.items()) for k, v in expected.items()}


def test_runs_inside_a_run_are_titled_by_their_nodes_alone() -> None:
    """A long graph with no modules is cut into runs of runs; a nested run's title is its
    node range ("nodes n120-n239"), never a prefix of its parent's that is still empty."""
    x = Value(0.3, "x")
    y = x
    for _ in range(4000):
        y = (y * 0.5 + x).tanh()
    titles = [group["title"] for group in explore(y).data["groups"]]
    nested = [title for title in titles[2:] if title.startswith("nodes")]
    assert len(nested) > 50 and "nodes n120-n239" in nested
    assert not [title for title in titles if title.startswith(":") or title.endswith(": ")]


def test_a_runs_title_names_exactly_the_ids_it_holds() -> None:
    """A GPT position's first lm_head run was titled "nodes n0-n4456" but held 115 nodes:
    its 16 weights and the 99 nodes it computes near the end, and n2000, inside the
    range, is an attention weight. A run's title now lists its ids' spans."""
    from nn.gpt import GPT, CharTokenizer
    from nn.gpt.inspection import position_loss

    tokenizer = CharTokenizer.from_documents(nn.data.names()[:200])
    gpt = GPT(tokenizer.vocab_size, seed=42)
    groups = explore(position_loss(gpt, tokenizer.encode("emma"), 3), names=gpt).data["groups"]

    def ids(g: int) -> set[int]:
        found: set[int] = set()
        for item in groups[g]["items"]:
            found |= {item} if item >= 0 else ids(-1 - item)
        return found

    runs = [(g, group["title"]) for g, group in enumerate(groups) if "nodes n" in group["title"]]
    assert len(runs) > 10 and any(", n" in title for _, title in runs)
    for g, title in runs:
        spans = title.split("nodes ", 1)[1]
        named: set[int] = set()
        for span in spans.split(", "):
            if span == "\u2026":
                continue
            first, _, last = span.partition("-")
            named |= set(range(int(first[1:]), int((last or first)[1:]) + 1))
        held = ids(g)
        assert named <= held if "\u2026" in spans else named == held, (title, sorted(held))


@pytest.mark.parametrize("digits", [1, 2, 3, 4, 6, 10, 12, 15])
def test_a_big_graphs_packed_numbers_round_as_a_small_graphs_do(digits: int) -> None:
    """Graphs over 5,000 nodes round their numbers in arrays: scaled by a power of ten in
    binary, 0.10005 became 1000.4999999999999 and showed as 0.1 where a small graph and
    draw_graph show 0.1001."""
    from autograd_scalar.explorer.page import significant
    from autograd_scalar.explorer.records import rounded

    rng = np.random.default_rng(digits)
    ties = np.round(rng.uniform(-2, 2, 20_000), digits + 1)  # many end in a 5
    x = np.concatenate([ties, [0.10005, 0.015, 0.0105, 0.1005, 123456.5, 0.0, -0.0]])
    assert significant(x, digits).tolist() == [rounded(v, digits) for v in x]


def test_no_text_of_the_page_holds_a_direction_control() -> None:
    """Labels were cleaned, but box titles, module names and the view's title were not:
    a scope holding U+202E showed reversed in its box."""
    with ag.scope("\u202elayer"):
        x = Value(1.0, label="\u202ex")
        y = (x * 2.0).tanh()
    y.backward()
    view = ag.explore(y, title="loss \u202e1")
    text = json.dumps(view.data, ensure_ascii=False)
    assert "\u202e" not in text and "\ufffdlayer" in text


def test_a_top_level_module_is_one_box_counted_once() -> None:
    """Its box was added to the graph twice (when made, and again at its first node): the
    same frame drawn twice, and the graph's size counted its nodes twice."""
    from autograd_scalar.draw.graph import Options
    from autograd_scalar.explorer.model import graph_of

    with ag.scope("a"):
        x = Value(1.0, label="x")
        y = (x * 2.0).tanh()
    y.backward()
    graph = graph_of([y], Options())
    assert [getattr(item, "title", None) for item in graph.top.items] == ["a"]
    assert graph.top.size == len(topological_order(y))


def test_without_any_graphviz_a_view_saves_and_displays_with_a_note_for_its_picture(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The view lays itself out without Graphviz, but save() and a notebook's display
    raised GraphvizNotFound for the static picture beneath it. The picture is now a note
    saying what it needs."""
    without_graphviz(monkeypatch, tmp_path)
    model, loss = mlp_loss(2)
    view = explore(loss, names=model)
    page = view.save(tmp_path / "view.html").read_text()
    assert "AutogradScalarView" in page and "needs Graphviz" in view.picture
    assert base64.b64encode(view.picture.encode()).decode() in page  # the page's <img>
    bundle, _ = view._repr_mimebundle_()
    assert "needs Graphviz" in bundle["image/svg+xml"]
