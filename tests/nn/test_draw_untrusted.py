"""A model file is untrusted text: its unit names are drawn as plain text, never as HTML.

A unit named like a Graphviz HTML label, saved, loaded with ``nn.load`` and drawn
(``draw_network``, ``draw_graph(cluster=True)``, ``explore``'s static picture), shows its
name literally; the SVG has no link to script and no embedded image.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nn
from autograd_scalar import Value, draw_graph, explore
from autograd_scalar.draw.layout import svg_of
from tests.autograd_scalar.untrusted_text import IMAGE, SCRIPT, assert_inert, shown_texts

TAB_SCRIPT = SCRIPT.replace(" ", "\t")
TAB_IMAGE = "<IMG\tSRC='/some/file'/>"
"""The payloads as a unit name can hold them: no spaces, dots or brackets."""
NAMES = [TAB_SCRIPT, TAB_IMAGE, "<x&y>", "ends\\", "\\N\\G"]


def network(inputs: str, hidden: str) -> nn.Network:
    net = nn.Network(seed=0)
    net.add_input(inputs)
    net.add_input("b")
    net.add_neuron(hidden, "tanh")
    net.add_neuron("out", "linear")
    for source, target in [(inputs, hidden), ("b", hidden), (hidden, "out"), (inputs, "out")]:
        net.connect(source, target)
    return net


@pytest.mark.parametrize("name", NAMES)
def test_a_loaded_networks_unit_names_are_drawn_literally(name: str, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    network(name, name + "h").save(path)
    model = nn.load(path)
    svg = svg_of(nn.draw_network(model, title=name).source)
    assert_inert(svg)
    texts = shown_texts(svg)
    name = name.replace("\t", " ")                  # a drawing shows a tab as a space
    assert name in texts and name + "h" in texts
    out = model([0.5, -0.25])
    out.backward()
    for picture in (svg_of(draw_graph(out, cluster=True, names=model).source),
                    svg_of(draw_graph(out, cluster=True, max_nodes=6).source),
                    explore(out, names=model).picture):
        assert_inert(picture)
        assert any(name + "h" in text for text in shown_texts(picture))


@pytest.mark.parametrize("payload", [SCRIPT, IMAGE])
def test_a_file_naming_a_unit_with_spaces_or_dots_is_refused(payload: str,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    network("a", "h").save(path)
    document = json.loads(path.read_text())
    document["model"]["config"]["units"][0]["name"] = payload
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="unit name must be a non-empty str without"):
        nn.load(path)


class Named(nn.Module):
    """A model whose inputs are named by any text (draw_network reads ``inputs``)."""

    def __init__(self, inputs: list[str]) -> None:
        self.inputs = inputs
        self.neuron = nn.Neuron(len(inputs), seed=0)

    def forward(self, x: list[Value]) -> Value:
        return self.neuron(x)


def test_any_input_names_are_drawn_literally() -> None:
    names = [SCRIPT, IMAGE, "<x & y>", "ends\\"]
    svg = svg_of(nn.draw_network(Named(names), title="<x & y>").source)
    assert_inert(svg)
    texts = shown_texts(svg)
    assert all(name in texts for name in names)


def test_draw_network_refuses_a_title_that_is_not_text() -> None:
    with pytest.raises(TypeError, match="draw_network: title must be a str, got int"):
        nn.draw_network(Named(["a"]), title=3)  # type: ignore[arg-type]


CONTROLS = "h\x1bM\x1bM\rall\tgood\x07\u202eok\x08"
"""A unit name a file may hold: a terminal's cursor moves (reverse index, carriage return,
backspace), a bell and a direction override."""


def test_control_characters_from_a_file_are_shown_replaced_in_reports_and_figures(
        tmp_path: Path) -> None:
    """A unit name from a model file moved a terminal's cursor through check_graph's
    report, and a control character in a class name or a title left a saved figure's
    SVG unreadable; "$5 or $10" came out as math."""
    import xml.etree.ElementTree as ElementTree

    from autograd_scalar import check_graph

    net = nn.Network(seed=0)
    net.add_input("x")
    net.add_neuron(CONTROLS, "relu")
    net.add_neuron("out", "linear")
    net.connect("x", CONTROLS)
    net.connect(CONTROLS, "out")
    net.save(tmp_path / "model.json")
    out = nn.load(tmp_path / "model.json")([0.0])  # relu at 0: a kink, a row of the report
    out.backward()
    report = check_graph(out)
    shown = [str(report), *(cell for row in report.rows() for cell in row)]
    assert not any(c in text for text in shown for c in "\x1b\r\x07\x08\u202e")
    assert "h\ufffdM\ufffdM all\tgood\ufffd\ufffdok\ufffd" in str(report)

    path = tmp_path / "confusion.svg"
    nn.plot.plot_confusion_matrix([[3, 1], [0, 4]], labels=["cat\x01", "$5 or $10"],
                                  title="run\x1b 7", path=path)
    ElementTree.fromstring(path.read_bytes())  # well-formed
    assert "$5 or $10" in path.read_text()  # as written, not as math
