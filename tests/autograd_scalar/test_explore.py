"""explore: the view's data is the graph's own numbers, laid out without overlaps, with a
static picture in every output and clear errors for bad arguments."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

import autograd_scalar as ag
import nn
from autograd_scalar import Function, Value, check_graph, explore, topological_order
from autograd_scalar.animate import backward_steps
from autograd_scalar.explorer.model import FRAME_BUDGET
from autograd_scalar.explorer.notebook import register_value_display, value_bundle
from autograd_scalar.explorer.positions import BOX, NODE
from tests.autograd_scalar.graph_dot import expected_neuron_grads, neuron


class BrokenSoftsign(Function):
    """x / (1 + |x|) with the square missing from its rule."""

    @staticmethod
    def forward(x):
        return x / (1 + abs(x))

    @staticmethod
    def derivatives(x, out):
        return (1 / (1 + abs(x)),)


def mlp_loss(examples: int) -> tuple[nn.MLP, Value]:
    model = nn.MLP(2, [4, 4, 1], seed=0)
    xs = [[0.1 * k, -0.2 * k] for k in range(examples)]
    loss = ag.sum([(model(x) - 1.0) ** 2 for x in xs])
    loss.backward()
    return model, loss


def test_nodes_carry_the_values_own_numbers() -> None:
    values = neuron()
    values["o"].backward()
    view = explore(values["o"])
    order = topological_order(values["o"])
    assert len(view.data["nodes"]) == len(order)
    expected = expected_neuron_grads()
    for node, record in zip(order, view.data["nodes"]):
        assert record["data"] == node.data and record["grad"] == node.grad
        assert record["locals"] == [float(d) for d in node.local_grads]
        assert [order[k] for k in record["kids"]] == list(node.children)
        if node.label in expected:
            assert record["grad"] == pytest.approx(expected[node.label], abs=1e-12)


def test_steps_are_backprops_order_and_narration() -> None:
    values = neuron()
    view = explore(values["o"])
    order = topological_order(values["o"])
    steps = backward_steps(values["o"])
    assert [order[s["node"]] for s in view.data["steps"]] == [s.node for s in steps]
    assert view.data["steps"][0]["text"].startswith("Step 0 of")
    assert "receives grad" in view.data["steps"][1]["text"]


def test_the_chain_rule_terms_sum_to_the_gradient_and_reuse_is_recorded() -> None:
    x = Value(3.0, label="x")
    y = x * x + x
    y.backward()
    view = explore(y)
    order = topological_order(y)
    record = view.data["nodes"][order.index(x)]
    assert len(record["users"]) == 3          # twice in x * x, once in + x
    assert sum(local * up for _, local, up in record["users"]) == pytest.approx(x.grad)


def test_a_check_graph_report_marks_its_failure_and_carries_its_table() -> None:
    x, w = Value(0.7, label="x"), Value(-1.3, label="w")
    y = (BrokenSoftsign.apply(x * w + 0.4) ** 2).tanh()
    report = check_graph(y)
    view = explore(report)
    failed = [n for n in view.data["nodes"] if n["failed"]]
    assert [n["op"] for n in failed] == ["BrokenSoftsign"]
    assert view.data["failures"][0][0] == "node" and len(view.data["failures"]) == 2
    assert "1 of" in view.data["summary"]
    assert "1 marked" in repr(view)


def test_groups_follow_modules_and_none_shows_more_than_its_budget() -> None:
    model, loss = mlp_loss(40)
    view = explore(loss, names=model)
    groups = view.data["groups"]
    titles = {g["title"] for g in groups if g["module"]}
    assert {"layers.0", "layers.0.neurons.3", "layers.2.neurons.0"} <= titles
    assert all(len(g["items"]) <= FRAME_BUDGET for g in groups)
    held = sorted(i[1] for g in groups for i in g["items"] if i[0] == "n")
    assert held == list(range(len(view.data["nodes"])))      # each node in exactly one group
    names = {n["param"] for n in view.data["nodes"] if n["param"]}
    assert names == {name for name, _ in model.named_parameters()}


def test_layouts_keep_items_apart() -> None:
    model, loss = mlp_loss(3)
    for group in explore(loss, names=model).data["groups"]:
        boxes = []
        for (kind, _), (x, y) in zip(group["items"], group["centres"]):
            w, h = NODE if kind == "n" else BOX
            boxes.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] + 1e-6 or b[2] <= a[0] + 1e-6 \
                    or a[3] <= b[1] + 1e-6 or b[3] <= a[1] + 1e-6


def test_layout_works_without_the_dot_program(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    values = neuron()
    with_dot = explore(values["o"]).data["groups"]
    monkeypatch.setenv("PATH", str(tmp_path))
    without = explore(values["o"]).data["groups"]
    def flat(groups: list[dict[str, list[list[float]]]]) -> list[float]:
        return [c for g in groups for centre in g["centres"] for c in centre]

    assert flat(without) == pytest.approx(flat(with_dot), abs=1.0)


def test_every_output_carries_a_static_picture() -> None:
    values = neuron()
    view = explore(values["o"])
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
    found = re.search(r'<img class="agv-picture"[^>]*src="data:image/svg\+xml;base64,([^"]+)"',
                      bundle["text/html"])
    assert found and base64.b64decode(found.group(1)).decode() == view.picture
    payload = re.search(r'<script type="application/json" class="agv-data">(.*?)</script>',
                        bundle["text/html"], re.S)
    assert payload and json.loads(payload.group(1))["nodes"][0]["data"] == 2.0
    assert "</script>" not in payload.group(1)
    assert view._repr_mimebundle_(include=["image/svg+xml"]) == {"image/svg+xml": view.picture}


def test_a_value_displays_through_the_view() -> None:
    values = neuron()
    bundle = value_bundle(values["o"])
    assert bundle["text/plain"] == repr(values["o"])
    assert 'class="agv"' in bundle["text/html"] and "<svg" in bundle["image/svg+xml"]
    assert register_value_display() is False   # no IPython shell in a test run


def test_save_writes_one_self_contained_page(tmp_path: Path) -> None:
    values = neuron()
    path = explore(values["o"], title="a neuron").save(tmp_path / "view.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>a neuron</title>" in page
    assert "AutogradScalarView.mount" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


@pytest.mark.parametrize(("target", "kwargs", "error", "words"), [
    ("text", {}, TypeError, "expects a Value, a list of Values or a check_graph report"),
    ([], {}, ValueError, "at least one Value"),
    ([1.0], {}, TypeError, "got a float among them"),
    (None, {"rankdir": "RL"}, ValueError, "rankdir must be 'LR' or 'TB'"),
    (None, {"precision": 0}, ValueError, "precision must be an int from 1 to 17"),
    (None, {"max_nodes": 1}, ValueError, "max_nodes must be an int >= 2"),
    (None, {"heatmap": "yes"}, TypeError, "heatmap must be True or False"),
    (None, {"names": [1, 2]}, TypeError, "names expects"),
])
def test_bad_arguments_are_clear_errors(target: object, kwargs: dict[str, object],
                                        error: type[Exception], words: str) -> None:
    root = Value(1.0) * 2 if target is None else target
    with pytest.raises(error, match=words):
        explore(root, **kwargs)  # type: ignore[arg-type]


def test_save_refuses_other_suffixes_and_missing_folders(tmp_path: Path) -> None:
    view = explore(Value(1.0) * 2)
    with pytest.raises(ValueError, match=r"ending in \.html"):
        view.save(tmp_path / "view.svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        view.save(tmp_path / "nowhere" / "view.html")
    assert list(tmp_path.iterdir()) == []
