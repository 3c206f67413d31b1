"""The network view: neurons as nodes, connections as edges, weights as width and colour.

A computation graph shows every multiply and add; a person thinking about a
network wants one circle per neuron and one arrow per weight. ``draw_network``
finds those by tracing: it runs the model once on labelled input leaves and reads
the graph it made. Every weight appears in a node of a bilinear row (``dot``,
``affine`` or ``*``: the row's ``split`` gives its weights and the values they
multiply); the weight's name says which neuron it belongs to (the
prefix of ``named_parameters()``), and the value's module scope says which neuron
(or input) produced it. So any model whose neurons call ``scope`` works the same:
an MLP, or a free-form network with skip connections.

Edges are as wide as |w| (relative to the largest) and blue for w > 0, red for w < 0.
With weight labels, each edge runs through a white tag holding its weight
(``draw_weight_tag``), so a weight is never read off a crossing edge.
Units are ranked by their longest path from the inputs, so layers line up.
Unit names and the title may come from a model file, so every text goes into the
drawing through ``GraphDrawing.plain`` (``plain_tooltip`` for a tooltip): shown as it
is, never as HTML or DOT escapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from autograd_scalar import GraphDrawing, Value
from autograd_scalar.validate import choice, integer, is_integer

plain, plain_tooltip = GraphDrawing.plain, GraphDrawing.plain_tooltip
POSITIVE = "#2166ac"
NEGATIVE = "#b2182b"
MAX_PENWIDTH = 6.0
MIN_PENWIDTH = 0.4
TAG_TEXT = "#222222"
"""A weight's text: near black on its white tag, readable whatever the edge's colour."""
LABELLED_RANKSEP = "0.45"
"""Between a unit and its weights' tags, and the tags and the next unit: with the tags
(about 0.3 in), units stand as far apart as the 1.2 in of a drawing without them."""


@dataclass(frozen=True)
class Connection:
    source: str
    target: str
    name: str
    weight: float


def draw_network(model: Any, *, rankdir: str = "LR", precision: int = 3,
                 weight_labels: bool | None = None, title: str = "") -> GraphDrawing:
    """Draw ``model`` as neurons and weighted connections (a Graphviz Digraph).

    ``model`` needs ``named_parameters()`` and a call on one example; its number of
    inputs comes from ``model.inputs`` (names) or ``model.nin``. ``weight_labels``
    writes each weight on its edge (default: when there are at most 20 edges).
    """
    if not hasattr(model, "named_parameters") or not callable(model):
        raise TypeError(f"draw_network expects a model with named_parameters() and a call, "
                        f"got {type(model).__name__}")
    choice("rankdir", rankdir, ("LR", "RL", "TB", "BT"), who="draw_network")
    integer("precision", precision, 1, 17, who="draw_network")
    if not isinstance(title, str):
        raise TypeError(f"draw_network: title must be a str, got {type(title).__name__}")
    return layout(trace_network(model), rankdir, precision, weight_labels, title)


@dataclass(frozen=True)
class TracedNetwork:
    """A model read as units and connections: its input names, its neurons (named by
    the prefix of their parameters' names), the output Values of one traced call,
    the connections (in unit order) and the parameters by name."""

    inputs: list[str]
    neurons: list[str]
    outputs: list[Value]
    connections: list[Connection]
    params: dict[str, Value]


def trace_network(model: Any) -> TracedNetwork:
    """Run ``model`` once on labelled input leaves and read its neurons and weighted
    connections from the graph (see the module docstring). The drawing here and the
    training playground's network view both start from this."""
    names = input_names(model)
    params = dict(model.named_parameters())
    owner = {value: name.rsplit(".", 1)[0] for name, value in params.items() if "." in name}
    neurons = sorted(set(owner.values()), key=list(owner.values()).index)
    inputs = [Value(0.5, name) for name in names]
    outputs = model(inputs)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    connections = trace_connections(outputs, inputs, owner, neurons,
                                    {value: name for name, value in params.items()})
    position = {unit: i for i, unit in enumerate([*names, *neurons])}
    connections.sort(key=lambda c: (position[c.source], position[c.target]))
    return TracedNetwork(names, neurons, outputs, connections, params)


def input_names(model: Any) -> list[str]:
    """The model's input names: ``model.inputs`` if it names them, else x[0], x[1], ..."""
    given = getattr(model, "inputs", None)
    if isinstance(given, Sequence) and given and all(isinstance(n, str) for n in given):
        return list(given)
    nin = getattr(model, "nin", None)
    if is_integer(nin) and nin >= 1:
        return [f"x[{i}]" for i in range(nin)]
    raise TypeError(f"draw_network: cannot tell how many inputs {type(model).__name__} takes; "
                    "expected a .nin (int) or .inputs (list of names) attribute")


def unit_of(node: Value, neurons: list[str]) -> str | None:
    """The neuron whose scope made ``node`` (the longest matching name), if any."""
    best = None
    for name in neurons:
        if (node.scope == name or node.scope.startswith(name + ".")) and \
                (best is None or len(name) > len(best)):
            best = name
    return best


def sources(node: Value, inputs: dict[Value, str], neurons: list[str],
            params: dict[Value, str]) -> set[str]:
    """The units (inputs or neurons) whose outputs flow into ``node`` without a neuron between."""
    found: set[str] = set()
    stack, seen = [node], {node}
    while stack:
        here = stack.pop()
        if here in inputs:
            found.add(inputs[here])
            continue
        if here in params:
            continue
        unit = unit_of(here, neurons)
        if unit is not None:
            found.add(unit)
            continue
        for child in here.children:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return found


def trace_connections(outputs: list[Value], inputs: list[Value], owner: dict[Value, str],
                      neurons: list[str], params: dict[Value, str]) -> list[Connection]:
    """Each (weight, multiplied value) pair in the graph, as unit -> neuron connections."""
    named_inputs = {value: value.label for value in inputs}
    found: dict[tuple[str, str, str], Connection] = {}
    stack, seen = list(outputs), set(outputs)
    while stack:
        node = stack.pop()
        for weight, x in weighted_pairs(node):
            if weight not in owner:
                continue
            for source in sources(x, named_inputs, neurons, params):
                key = (source, owner[weight], params[weight])
                found[key] = Connection(source, owner[weight], params[weight], weight.data)
        for child in node.children:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return list(found.values())


def weighted_pairs(node: Value) -> Iterable[tuple[Value, Value]]:
    """(weight, multiplied value) for each product inside a bilinear node.

    The node's row says where its weights are: a ``bilinear`` row (``dot``,
    ``affine``, ``*``) computes sum_i ws[i] * xs[i] (+ b), and ``row.split`` gives
    its ws and xs. An operator row of fixed arity (``*``) takes its operands in
    whichever order they were written, so its one product gives both orders.
    """
    row = node.row
    if row is None or not row.bilinear:
        return ()
    ws, xs, _ = row.split(node.children)
    pairs = list(zip(ws, xs))
    if row.arity is not None:
        pairs += [(x, w) for w, x in pairs]
    return pairs


def ranks(names: list[str], neurons: list[str], connections: list[Connection]) -> dict[str, int]:
    """Longest path from the inputs to each unit, so a layer's neurons share a column."""
    rank = dict.fromkeys(names, 0)
    rank.update(dict.fromkeys(neurons, 1))
    for _ in range(len(neurons) + 1):
        changed = False
        for c in connections:
            if rank.get(c.target, 1) < rank.get(c.source, 0) + 1:
                rank[c.target] = rank.get(c.source, 0) + 1
                changed = True
        if not changed:
            break
    return rank


def layout(net: TracedNetwork, rankdir: str, precision: int, weight_labels: bool | None,
           title: str) -> GraphDrawing:
    """The drawing of ``net``: one column per rank, edges as wide as |w|, a legend."""
    names, neurons, connections, params = net.inputs, net.neurons, net.connections, net.params
    show = len(connections) <= 20 if weight_labels is None else weight_labels
    spacing = {"ranksep": LABELLED_RANKSEP, "outputorder": "edgesfirst"} if show else \
        {"ranksep": "1.2"}
    graph = GraphDrawing(name="network",
                         graph_attr={"rankdir": rankdir, **spacing, "nodesep": "0.25",
                                     "ordering": "out",
                                     "fontname": "Helvetica", "labelloc": "t", "tooltip": " "},
                         node_attr={"fontname": "Helvetica", "fontsize": "10"},
                         edge_attr={"arrowsize": "0.5"})
    ids = {unit: f"u{i}" for i, unit in enumerate([*names, *neurons])}
    by_rank: dict[int, list[str]] = {}
    for unit, r in ranks(names, neurons, connections).items():
        by_rank.setdefault(r, []).append(unit)
    for members in by_rank.values():
        with graph.subgraph() as column:
            column.attr(rank="same")
            for unit in members:
                draw_unit(column, unit, ids[unit], unit in names, params, precision)
    largest = max((abs(c.weight) for c in connections), default=0.0) or 1.0
    for i, c in enumerate(connections):
        width = MIN_PENWIDTH + (MAX_PENWIDTH - MIN_PENWIDTH) * abs(c.weight) / largest
        attrs = {"penwidth": f"{width:.2f}", "color": POSITIVE if c.weight >= 0 else NEGATIVE,
                 "tooltip": plain_tooltip(f"{c.name} = {c.weight:.{precision}g} "
                                 f"({c.source} -> {c.target})")}
        if show:
            draw_weight_tag(graph, f"w{i}", ids[c.source], ids[c.target],
                            f"{c.weight:.{precision}g}", attrs)
        else:
            graph.edge(ids[c.source], ids[c.target], **attrs)
    for i, out in enumerate(net.outputs):
        producer = unit_of(out, neurons)
        if producer is not None:
            graph.node(f"out{i}", label=plain(f"output {i}" if len(net.outputs) > 1 else "output"),
                       shape="plaintext", tooltip=plain_tooltip(f"output {i}"))
            graph.edge(ids[producer], f"out{i}", color="#555555")
    legend = (f"edge width ∝ |w| (widest: {largest:.{precision}g}); blue w > 0, red w < 0; "
              f"neuron fill: bias (blue > 0, red < 0)")
    graph.attr(label=plain("\n".join(part for part in (title, legend) if part)), fontsize="11")
    return graph


def draw_weight_tag(graph: Any, tag_id: str, source: str, target: str, text: str,
                    attrs: dict[str, str]) -> None:
    """A connection with its weight written on it: the edge runs from ``source`` into a
    small white tag holding the weight and on to ``target``.

    The tag is a node, so Graphviz gives it room of its own and routes other edges
    around it: the weight sits on its own edge, never on a crossing one. The two halves
    run to the tag's centre and edges are drawn before nodes, so the edge reads as one
    line through its tag. The tag's first half weighs more, so a connection that skips
    a layer has its tag beside the unit it leaves.
    """
    graph.node(tag_id, label=plain(text), shape="box", style="rounded,filled",
               fillcolor="#ffffff", color=attrs["color"], penwidth="0.6",
               fontcolor=TAG_TEXT, fontsize="8", margin="0.04,0.02", width="0",
               height="0", tooltip=attrs["tooltip"])
    graph.edge(source, tag_id, arrowhead="none", headclip="false", weight="2", **attrs)
    graph.edge(tag_id, target, tailclip="false", **attrs)


def draw_unit(graph: Any, unit: str, node_id: str, is_input: bool, params: dict[str, Value],
              precision: int) -> None:
    if is_input:
        graph.node(node_id, label=plain(unit), shape="box", style="rounded,filled",
                   fillcolor="#f0f0f0", tooltip=plain_tooltip(f"input {unit}"))
        return
    bias = params.get(f"{unit}.b")
    fill = "#ffffff"
    tip = f"neuron {unit}"
    if bias is not None:
        fill = "#d1e5f0" if bias.data > 0 else "#fddbc7" if bias.data < 0 else "#ffffff"
        tip += f"\nbias {unit}.b = {bias.data:.{precision}g}"
    graph.node(node_id, label=plain(short_name(unit)), shape="circle", style="filled",
               fillcolor=fill, tooltip=plain_tooltip(tip), width="0.5", fixedsize="false")


def short_name(unit: str) -> str:
    """``layers.1.neurons.3`` -> ``1.3``; names without numbers stay as they are."""
    digits = [part for part in unit.split(".") if part.isdigit()]
    return ".".join(digits) if digits else unit
