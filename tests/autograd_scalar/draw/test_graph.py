"""draw_graph: what the DOT text says about each node, and every option."""

from __future__ import annotations

import base64
import math
import re
from itertools import pairwise
from types import SimpleNamespace

import pytest

import nn
from autograd_scalar import (
    Function,
    GraphDrawing,
    Value,
    check_graph,
    draw_graph,
    ops,
    topological_order,
)
from autograd_scalar import dot as ag_dot
from autograd_scalar import sum as ag_sum
from tests.autograd_scalar.graph_dot import (
    W1_BIAS,
    attributes,
    by_label,
    edges,
    expected_neuron_grads,
    neuron,
    nodes,
    record_fields,
    records,
)


@pytest.fixture
def trained() -> dict[str, Value]:
    values = neuron()
    values["o"].backward()
    return values


def test_each_record_shows_label_data_and_gradient(trained: dict[str, Value]) -> None:
    source = draw_graph(trained["o"]).source
    grads = expected_neuron_grads()
    data = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": W1_BIAS,
            "n": -6.0 + W1_BIAS, "o": math.tanh(-6.0 + W1_BIAS)}
    for name, value in data.items():
        fields = record_fields(by_label(source, name))
        assert fields == [name, f"data {value:.4g}", f"grad {grads[name]:.4g}"]
    assert len(records(source)) == len(topological_order(trained["o"]))


def test_precision_sets_significant_digits(trained: dict[str, Value]) -> None:
    o = trained["o"]
    expected = 1 / math.sqrt(2)
    for digits in (2, 6, 12):
        fields = record_fields(by_label(draw_graph(o, precision=digits).source, "o"))
        shown = float(fields[1].split()[1])
        assert len(fields[1].split()[1].replace(".", "").lstrip("0")) <= digits
        assert shown == pytest.approx(expected, rel=10.0 ** (1 - digits))


def test_classic_drawing_has_one_op_bubble_per_computed_node(trained: dict[str, Value]) -> None:
    o = trained["o"]
    source = draw_graph(o).source
    bubbles = {k: v for k, v in nodes(source).items() if v.get("shape") == "ellipse"}
    computed = [v for v in topological_order(o) if v.children]
    assert sorted(b["label"] for b in bubbles.values()) == sorted(v.row.shown for v in computed)
    # one edge per input into each bubble, one from each bubble to its record
    assert len(edges(source)) == sum(len(v.children) for v in computed) + len(computed)
    for bubble_id in bubbles:
        assert (bubble_id, bubble_id[:-2]) in {(a, b) for a, b, _ in edges(source)}


def test_compact_puts_the_op_inside_the_record(trained: dict[str, Value]) -> None:
    o = trained["o"]
    source = draw_graph(o, compact=True).source
    assert not any(v.get("shape") == "ellipse" for v in nodes(source).values())
    assert record_fields(by_label(source, "o"))[:2] == ["op tanh", "o"]
    assert record_fields(by_label(source, "n"))[:2] == ["op +", "n"]
    assert record_fields(by_label(source, "x1"))[0] == "x1"
    assert len(edges(source)) == sum(len(v.children) for v in topological_order(o))


def _symbol_graph() -> tuple[Value, dict[str, Value]]:
    """Nodes of rows whose symbol differs from their name: neg, **2, sum, dot."""
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    made = {"neg": -a, "square": b ** 2, "total": ag_sum([a, b]), "inner": ag_dot([a], [b])}
    for name, node in made.items():
        node.label = name
    return ag_sum(list(made.values())), made


def test_drawings_show_an_op_by_its_rows_symbol() -> None:
    out, made = _symbol_graph()
    shown = {name: node.row.shown for name, node in made.items()}
    assert shown == {"neg": "-", "square": "^2", "total": "Σ", "inner": "w·x"}
    assert all(node.row.shown != node.op for node in made.values())
    source = draw_graph(out).source
    for name, node in made.items():
        bubble = nodes(source)[next(k for k, v in records(source).items()
                                    if record_fields(v)[0] == name) + "op"]
        assert bubble["label"] == node.row.shown
        assert f"op: {node.op}" in by_label(source, name)["tooltip"]
    compact = draw_graph(out, compact=True).source
    for name, node in made.items():
        record = next(v for v in records(compact).values() if name in record_fields(v))
        assert record_fields(record)[:2] == [f"op {node.row.shown}", name]


def test_in_a_compact_record_an_op_never_reads_as_a_label() -> None:
    x = Value(2.0, "tanh")  # a leaf labelled like an op
    y = x.tanh()
    y.label = "y"
    source = draw_graph(y, compact=True).source
    fields = sorted(record_fields(r)[0] for r in records(source).values())
    assert fields == ["op tanh", "tanh"]


@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_rankdir_is_passed_to_graphviz(trained: dict[str, Value], rankdir: str) -> None:
    graph_line = next(line for line in draw_graph(trained["o"], rankdir=rankdir).source
                      .splitlines() if line.strip().startswith("graph ["))
    assert attributes(graph_line)["rankdir"] == rankdir


def test_tooltip_lists_op_rule_data_grad_and_local_derivatives(
        trained: dict[str, Value]) -> None:
    source = draw_graph(trained["o"]).source
    tip = by_label(source, "o")["tooltip"].split("\\n")
    t = math.tanh(-6.0 + W1_BIAS)
    assert "label: o" in tip
    assert f"op: tanh ({ops.TANH.formula})" in tip
    assert f"data: {t:.4g}" in tip
    assert "grad: 1" in tip
    assert any(line.strip() == f"input 0 (n = {-6.0 + W1_BIAS:.4g}): {1 - t * t:.4g}"
               for line in tip)
    # the product x1 * w1: d/dx1 = w1 = -3, d/dw1 = x1 = 2
    product = next(a for a in records(source).values()
                   if "op: *" in a["tooltip"] and "(x1 = 2)" in a["tooltip"])
    lines = [line.strip() for line in product["tooltip"].split("\\n")]
    assert "input 0 (x1 = 2): -3" in lines
    assert "input 1 (w1 = -3): 2" in lines
    leaf = by_label(source, "x1")["tooltip"]
    assert "op: none (leaf)" in leaf and "local derivatives" not in leaf


def test_every_node_has_a_tooltip() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    out = model([0.5, -1.0])
    out.backward()
    for attrs in nodes(draw_graph(out, names=model).source).values():
        assert attrs.get("tooltip", "").strip()


def test_names_of_a_models_parameters_reach_the_tooltips() -> None:
    model = nn.MLP(2, [2, 1], seed=1)
    out = model([1.0, 2.0])
    source = draw_graph(out, names=model).source
    tips = [a["tooltip"] for a in records(source).values()]
    for name, _ in model.named_parameters():
        assert sum(f"parameter: {name}\\n" in tip for tip in tips) == 1, name
    bias = model.layers[1].neurons[0].b
    for names in ([("my_bias", bias)], {"my_bias": bias}):
        pairs = draw_graph(out, names=names).source
        assert sum("parameter: my_bias" in a["tooltip"] for a in records(pairs).values()) == 1


def test_highlight_values_draws_thick_red_borders(trained: dict[str, Value]) -> None:
    source = draw_graph(trained["o"], highlight=[trained["n"], trained["w1"]]).source
    for name in ("n", "w1"):
        attrs = by_label(source, name)
        assert attrs["penwidth"] == "3" and attrs["color"] == "#d62728"
        assert "highlighted" in attrs["tooltip"]
    for name in ("o", "x1", "b"):
        assert "penwidth" not in by_label(source, name)


def test_highlight_accepts_a_check_graph_report(trained: dict[str, Value]) -> None:
    report = SimpleNamespace(ok=False, failures=[SimpleNamespace(node=trained["o"])])
    source = draw_graph(trained["o"], highlight=report).source
    assert by_label(source, "o")["penwidth"] == "3"
    assert sum(a.get("penwidth") == "3" for a in records(source).values()) == 1


class SwappedSoftsign(Function):
    """x / (1 + |x|) with a wrong rule: 1 / (1 + |x|) instead of 1 / (1 + |x|)**2."""

    @staticmethod
    def forward(x):  # type: ignore[no-untyped-def]
        return x / (1 + abs(x))

    @staticmethod
    def derivatives(x, out):  # type: ignore[no-untyped-def]
        return (1 / (1 + abs(x)),)


def test_highlight_marks_the_node_a_real_check_graph_report_blames() -> None:
    x, w = Value(0.7, "x"), Value(-1.3, "w")
    bad = SwappedSoftsign.apply(x * w)
    out = (bad + w).tanh()
    report = check_graph(out)
    assert [f.node for f in report.failures] == [bad]
    source = draw_graph(out, highlight=report, compact=True).source
    marked = [a for a in records(source).values() if a.get("penwidth") == "3"]
    assert len(marked) == 1 and record_fields(marked[0])[0] == "op SwappedSoftsign"


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_heatmap_darkens_with_gradient_magnitude(trained: dict[str, Value]) -> None:
    source = draw_graph(trained["o"], heatmap=True).source
    grads = expected_neuron_grads()
    shade = {name: luminance(by_label(source, name)["fillcolor"]) for name in grads}
    assert by_label(source, "w2")["fillcolor"] == "#ffffff"  # zero gradient
    assert by_label(source, "x1")["fillcolor"] == "#7f0000"  # largest |grad| = 1.5
    ranked = sorted(grads, key=lambda k: abs(grads[k]))
    for small, large in pairwise(ranked):
        if abs(grads[small]) < 0.9 * abs(grads[large]):
            assert shade[small] > shade[large], (small, large)
    assert "heat map: |grad| from 0 (white) to 1.5" in source


def test_cluster_boxes_nodes_by_module_one_flat_box_per_scope() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([0.3, -0.7])
    source = draw_graph(out, cluster=True).source
    stack: list[str] = []
    inside: dict[str, str] = {}
    parents: dict[str, str] = {}
    for line in source.splitlines():
        opening = re.match(r'\s*subgraph "?cluster_([\w.]+)"? \{', line)
        if opening:
            parents[opening.group(1)] = stack[-1] if stack else ""
            stack.append(opening.group(1))
            continue
        if line.strip() == "}":
            if stack:
                stack.pop()
            continue
        node = re.match(r'\s*(v\d+) \[', line)
        if node:
            inside[node.group(1)] = stack[-1] if stack else ""
    # boxes are not nested (nested boxes stair-step the layers): each names its module
    assert set(parents) == {"layers.0.neurons.0", "layers.0.neurons.1", "layers.1.neurons.0"}
    assert set(parents.values()) == {""}
    scopes = {v.scope for v in topological_order(out)}
    assert {"layers.0.neurons.0", "layers.0.neurons.1", "layers.1.neurons.0"} <= scopes
    drawn_scopes = set(inside.values()) - {""}
    assert drawn_scopes == {s for s in scopes if s}
    # each record sits in the box of the module that made it: its tooltip says which
    for node_id, attrs in records(source).items():
        module = re.search(r"module: ([\w.]+)", attrs["tooltip"])
        assert inside[node_id] == (module.group(1) if module else "")


def test_drawing_changes_no_gradient_or_data(trained: dict[str, Value]) -> None:
    before = [(v.data, v.grad) for v in topological_order(trained["o"])]
    draw_graph(trained["o"], heatmap=True, cluster=True, highlight=trained["n"])
    assert [(v.data, v.grad) for v in topological_order(trained["o"])] == before


def test_returns_a_digraph_that_displays_in_jupyter(trained: dict[str, Value]) -> None:
    drawing = draw_graph(trained["o"])
    assert isinstance(drawing, GraphDrawing)
    bundle = drawing._repr_mimebundle_()
    assert {"image/svg+xml", "text/html", "text/plain"} <= set(bundle)
    assert "<svg" in bundle["image/svg+xml"]
    # an untrusted notebook renders sanitized HTML, not SVG: the picture is in both
    encoded = re.search(r'<img [^>]*src="data:image/svg\+xml;base64,([^"]+)"', bundle["text/html"])
    assert encoded and base64.b64decode(encoded.group(1)).decode() == bundle["image/svg+xml"]
    assert "object at 0x" not in bundle["text/plain"] and "Graphviz drawing" in bundle["text/plain"]
    assert drawing._repr_mimebundle_(include=["image/svg+xml"]) == {
        "image/svg+xml": bundle["image/svg+xml"]}


def test_labels_with_record_characters_are_escaped() -> None:
    a = Value(1.0, "a{b}|<c>")
    source = draw_graph(a * 2).source
    assert r"a\{b\}\|\<c\>" in source


@pytest.mark.parametrize(("options", "error", "words"), [
    ({"rankdir": "up"}, ValueError, "rankdir must be one of"),
    ({"precision": 0}, ValueError, "precision must be an int from 1 to 17"),
    ({"precision": 2.5}, ValueError, "precision"),
    ({"max_nodes": 1}, ValueError, "max_nodes must be an int >= 2"),
    ({"highlight": 3.0}, TypeError, "highlight expects a Value, Values or a check_graph"),
    ({"highlight": [1.0]}, TypeError, "highlight expects Values"),
    ({"names": 5}, TypeError, "names expects a model with named_parameters()"),
    ({"names": [("w", 1.0)]}, TypeError, "names expects"),
    ({"title": 3}, TypeError, "title must be a str"),
])
def test_bad_options_are_clear_errors(trained: dict[str, Value], options: dict[str, object],
                                      error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        draw_graph(trained["o"], **options)  # type: ignore[arg-type]


def test_root_must_be_a_value() -> None:
    with pytest.raises(TypeError, match="draw_graph expects a Value, got float"):
        draw_graph(1.0)  # type: ignore[arg-type]
    a = Value(1.0)       # a list, which explore takes, was "expects a Value, got list"
    with pytest.raises(TypeError, match=r"draw_graph draws the graph behind one Value, got a "
                                        r"list; for several outputs, draw their sum"):
        draw_graph([a, a * 2])  # type: ignore[arg-type]


def test_with_names_parameters_sit_in_their_modules_box() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([0.3, -0.7])
    source = draw_graph(out, cluster=True, names=model).source
    current: list[str] = []
    for line in source.splitlines():
        opening = re.match(r'\s*subgraph "?cluster_([\w.]+)"? \{', line)
        if opening:
            current.append(opening.group(1))
        elif line.strip() == "}" and current:
            current.pop()
        else:
            name = re.search(r"parameter: ([\w.\[\]]+)", line)
            if name:
                assert current and current[-1] == name.group(1).rsplit(".", 1)[0], line


def test_nan_and_infinity_are_drawn_and_coloured() -> None:
    x = Value(float("inf"), "x")
    y = x * 0.0
    y.label = "y"
    y.backward()
    source = draw_graph(y, heatmap=True).source
    assert record_fields(by_label(source, "y"))[1] == "data nan"
    assert record_fields(by_label(source, "x"))[1] == "data inf"
    assert by_label(source, "x")["fillcolor"].startswith("#")


def test_a_boxs_heat_ignores_nan_members_whatever_their_order() -> None:
    """max() of |grad|s kept a NaN only when it came first: a box was grey or hot by the
    order of its members."""
    from autograd_scalar.draw.graph import hottest

    assert hottest([math.nan, 1.0]) == hottest([1.0, math.nan]) == 1.0
    assert math.isnan(hottest([math.nan, math.nan]))
    assert hottest([]) == 0.0 and hottest([-math.inf, 2.0]) == math.inf


def test_a_negative_zero_is_shown_as_zero() -> None:
    """-1 x 0 is -0.0 in IEEE arithmetic; a learner would read "-0" as another number."""
    from autograd_scalar.draw.graph import number

    assert [number(x, 4) for x in (-0.0, 0.0, -1e-30, 2.5)] == ["0", "0", "-1e-30", "2.5"]
