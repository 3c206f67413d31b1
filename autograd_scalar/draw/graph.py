"""Draw a computation graph with Graphviz: every node's data, gradient and derivatives.

Each Value is a record ``label | data | grad``; the op that made it is a bubble feeding
the record, or the record's first field, ``op <symbol>`` (``compact``). What a drawing
shows and its options: ``docs/tutorials/see-backprop.md``, "Drawing the graph".

Graphs over ``max_nodes`` are summarised (:mod:`autograd_scalar.draw.summary`); a node
used all along the graph is drawn in full once and as a small copy beside each far user
(:mod:`autograd_scalar.draw.copies`); every text from the user goes in through
:mod:`autograd_scalar.draw.dot_text`, so it is shown as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any

import graphviz

from ..backward import a_value
from ..check.diff import DiffReport
from ..ops import Op
from ..validate import choice, integer
from ..value import Value
from .boxes import Edge, bundle, bundle_attrs, emit_boxes, entering_attrs, written_order
from .copies import Copy, far_copies
from .dot_text import isolated, plain, plain_tooltip, record, shown
from .layout import chosen, picture_bundle, svg_of
from .orientation import choose_rankdir
from .reading import (
    display_name,
    home_scope,
    parameter_names,
    parent_module,
    reading_order,
)
from .summary import Box, Plan, plan

RANKDIRS = ("auto", "LR", "RL", "TB", "BT")
HIGHLIGHT = "#d62728"
HEAT_COLOURS = ((255, 255, 255), (253, 174, 97), (215, 48, 39), (127, 0, 0))
DEFAULT_MAX_NODES = 250
CHAIN_WEIGHT = 4
"""How much more Graphviz pulls straight an edge from a computed node than one from a
leaf (a constant, a parameter): a chain of ``tanh(y * 1.01)`` runs level with its
constants beside it, where equal weights set each product between its inputs and the
chain drifted down by half a slot a step. The explorer's layouts use it too."""


def chain_weight(source: object) -> int:
    """The weight of an edge from ``source``: 1 from a leaf (a Value with no inputs),
    CHAIN_WEIGHT from a computed node or anything else (a box)."""
    children = getattr(source, "children", None)  # a box has none
    return CHAIN_WEIGHT if children is None or children else 1
MCLIMIT = "0.01"
"""Almost no crossing reduction: Graphviz keeps the reading order nodes are written in."""
TOOLTIP_INPUTS = 16
COMPACT_OP_MARK = "op "
"""What precedes the op in a compact record, as "data " precedes the data."""
COMPACT_OP_STYLE = {"shape": "Mrecord", "style": "filled", "fillcolor": "#e8eef7"}
"""A compact record made by an op: rounded and tinted, so it never reads as a leaf."""


class GraphDrawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that also displays in Jupyter without Graphviz installed.

    ``_repr_mimebundle_`` lays the graph out with the ``dot`` program when it is on
    PATH and with Graphviz compiled to WebAssembly otherwise, and offers the picture
    as HTML and SVG: an untrusted notebook shows it too.
    ``GraphDrawing.plain(text)`` (a label or caption) and ``GraphDrawing.plain_tooltip(text)``
    are the way user text goes into a drawing, shown as it is, never as HTML or DOT
    escapes (see ``autograd_scalar.draw.dot_text``), for drawings made outside this package
    too (``nn.draw_network``).
    """

    plain = staticmethod(plain)
    plain_tooltip = staticmethod(plain_tooltip)

    def _repr_image_svg_xml(self) -> str:
        return svg_of(self.source)

    def _repr_svg_(self) -> str:
        return self._repr_image_svg_xml()

    def __repr__(self) -> str:
        nodes = sum(1 for line in self.body if "->" not in line and "[" in line)
        return f"<GraphDrawing: a Graphviz drawing of {nodes:,} items>"

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, Any]:
        return chosen(picture_bundle(self.source, repr(self)), include, exclude)


@dataclass
class Overlay:
    """Per-frame changes to a drawing (used by the backward animation).

    ``grads`` replaces the gradients shown (a node missing from it shows "?"),
    ``node_attrs`` and ``edge_attrs`` (keyed by (input, user)) add Graphviz attributes.
    """

    grads: Mapping[Value, float] | None = None
    node_attrs: Mapping[Value, Mapping[str, str]] = field(default_factory=dict)
    edge_attrs: Mapping[tuple[Value, Value], Mapping[str, str]] = field(default_factory=dict)
    caption: str = ""


@dataclass
class Options:
    rankdir: str = "auto"
    precision: int = 4
    compact: bool = False
    heatmap: bool = False
    cluster: bool = False
    max_nodes: int = DEFAULT_MAX_NODES
    title: str = ""
    highlighted: set[Value] = field(default_factory=set)
    names: dict[Value, str] = field(default_factory=dict)
    ids: dict[Value, str] = field(default_factory=dict)
    """Names drawn on nodes that have neither a label nor a parameter name: the ids the
    animation's captions call them by (``n4``, as the explore view does)."""


def draw_graph(root: Value, *, rankdir: str = "auto", precision: int = 4, compact: bool = False,
               highlight: Any = None, heatmap: bool = False, cluster: bool = False,
               names: Any = None, max_nodes: int = DEFAULT_MAX_NODES,
               title: str = "") -> GraphDrawing:
    """The computation graph that produced ``root``, as a Graphviz Digraph.

    - ``rankdir``: "LR" (inputs left, output right), "RL", "TB" (inputs on top) or "BT";
      "auto" (the default) is "LR", except for a summary that would be far wider than
      tall (a deep model's chain of module boxes), then "TB" (see
      ``autograd_scalar.draw.orientation``).
    - ``precision``: significant digits of data, gradients and derivatives.
    - ``compact``: put the op inside the node's record instead of a separate bubble.
    - ``highlight``: Values, a ``check_graph`` report (its failing nodes) or a ``diff``
      report (the nodes where its differences start), drawn with a thick red border.
    - ``heatmap``: fill each node by |grad|, white (0) to dark red (the largest).
    - ``cluster``: box the nodes made inside each nn module, nested as the modules are.
    - ``names``: a model (anything with ``named_parameters()``), (name, Value) pairs or
      a {name: Value} dict;
      a parameter's name goes into its tooltip and, if it has no label, its record.
    - ``max_nodes``: above this many nodes the drawing is a summary (see
      ``autograd_scalar.draw.summary``).
    """
    options = Options(rankdir=rankdir, precision=precision, compact=compact, heatmap=heatmap,
                      cluster=cluster, max_nodes=max_nodes, title=title,
                      highlighted=highlighted_nodes(highlight, "draw_graph"),
                      names=parameter_names(names, "draw_graph"))
    check_options(root, options, "draw_graph")
    return build(root, options)


def check_options(root: Value, options: Options, who: str) -> None:
    """TypeError or ValueError for a bad root or option, naming ``who`` (the function the
    user called)."""
    if isinstance(root, (list, tuple)):
        raise TypeError(f"{who} draws the graph behind one Value, got a {type(root).__name__}; "
                        "for several outputs, draw their sum (autograd_scalar.sum(values)), or "
                        "explore(values), which takes a list")
    a_value(root, who)
    choice("rankdir", options.rankdir, RANKDIRS, who=who)
    check_budget_options(options, who)


def check_budget_options(options: Options, who: str) -> None:
    """ValueError or TypeError for a bad precision, node budget or title, naming ``who``;
    every view of a graph (drawing, explorer) takes these three."""
    integer("precision", options.precision, 1, 17, who=who,
            what="an int from 1 to 17 (significant digits)")
    integer("max_nodes", options.max_nodes, 2, who=who)
    if not isinstance(options.title, str):
        raise TypeError(f"{who}: title must be a str, got {type(options.title).__name__}")


def highlighted_nodes(highlight: Any, who: str) -> set[Value]:
    """The Values to mark: given directly, the failing nodes of a check_graph report,
    or the nodes where a ``diff`` report's differences start (in either graph); errors
    name ``who``, the function the user called."""
    if highlight is None:
        return set()
    if isinstance(highlight, Value):
        return {highlight}
    if isinstance(highlight, DiffReport):
        return highlight.highlighted()
    if hasattr(highlight, "failures"):
        return {failure.node for failure in highlight.failures}
    try:
        values = list(highlight)
    except TypeError:
        raise TypeError(f"{who}: highlight expects a Value, Values or a check_graph "
                        f"or diff report, got {type(highlight).__name__}") from None
    for value in values:
        if not isinstance(value, Value):
            raise TypeError(f"{who}: highlight expects Values, got a "
                            f"{type(value).__name__} among them")
    return set(values)


# ---------------------------------------------------------------------------
# Building the Digraph
# ---------------------------------------------------------------------------

def build(root: Value, options: Options, overlay: Overlay | None = None) -> GraphDrawing:
    """Lay the planned nodes, boxes and edges out as a GraphDrawing.

    Nodes and boxes are written in reading order (inputs and weights by index), so
    Graphviz stacks each column in that order, first on top; with ``cluster`` they go
    into their modules' boxes (:mod:`autograd_scalar.draw.boxes`).
    """
    layout = plan(root, options.max_nodes, options.highlighted)
    rankdir = options.rankdir if options.rankdir != "auto" else choose_rankdir(
        layout, box_label, separate_ops=not options.compact)
    graph = GraphDrawing(name="computation_graph",
                         graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                     "fontsize": "12", "labelloc": "t", "tooltip": " ",
                                     "mclimit": MCLIMIT},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"color": "#555555", "arrowsize": "0.7"})
    if options.cluster and layout.summarised:
        graph.attr(compound="true")
    ids = Ids()
    heat = heat_scale(layout, options, overlay)
    copies = far_copies([*layout.nodes, *layout.boxes], plan_edges(layout))
    beside: dict[int, list[Copy]] = {}
    for copy in copies.values():
        beside.setdefault(id(copy.user), []).append(copy)
    entries: list[tuple[str, Callable[[Any], None]]] = []
    for item in items_in_reading_order(root, layout):
        for copy in beside.get(id(item), ()):
            entries.append((item_home(item, options),
                            partial(draw_copy, copy=copy, ids=ids, options=options, heat=heat,
                                    overlay=overlay)))
        if isinstance(item, Value):
            emit = partial(draw_value, node=item, ids=ids, options=options, heat=heat,
                           overlay=overlay)
        else:
            emit = partial(draw_box, box=item, ids=ids, options=options, heat=heat)
        entries.append((item_home(item, options), emit))
    emit_boxes(graph, entries)
    if layout.summarised:
        draw_summary_edges(graph, layout, ids, options, copies, rankdir)
    else:
        draw_edges(graph, layout.nodes, ids, options, overlay, copies, rankdir)
    caption = "\n".join(part for part in (
        options.title, overlay.caption if overlay else "", layout.note(options.max_nodes),
        heat_legend(heat, options.precision)) if part)
    if caption:
        graph.attr(label=plain(caption))
    return graph


def items_in_reading_order(root: Value, layout: Plan) -> list[Value | Box]:
    """The plan's nodes and boxes in reading order (see :func:`reading_order`).

    A box comes where its first member comes; a stub (inputs not drawn) just
    before the item it feeds; anything the walk from ``root`` did not reach, last.
    """
    members: dict[Value, Value | Box] = {node: node for node in layout.nodes}
    for box in layout.boxes:
        members.update(dict.fromkeys(box.members, box))
    items = list(dict.fromkeys(members[node] for node in reading_order(root, members)))
    placed = set(map(id, items))
    rest: list[Value | Box] = [*layout.nodes, *layout.boxes]
    items += [item for item in rest
              if id(item) not in placed and not (isinstance(item, Box) and item.kind == "stub")]
    fed = {id(target): source for source, target, _ in layout.edges
           if isinstance(source, Box) and source.kind == "stub"}
    ordered: list[Value | Box] = []
    for item in items:
        stub = fed.get(id(item))
        if stub is not None:
            ordered.append(stub)
        ordered.append(item)
    return ordered


def plan_edges(layout: Plan) -> list[tuple[object, object]]:
    """The (source, user) pairs the drawing of ``layout`` joins by edges."""
    if layout.summarised:
        return [(source, target) for source, target, _ in layout.edges]
    return [(child, node) for node in layout.nodes for child in node.children]


def item_home(item: Value | Box | Copy, options: Options) -> str:
    """The module box an item is drawn in ("" without ``cluster``): a node's home
    module, a module's box inside the module around it, a chain or stub where it is,
    a copy where its user is."""
    if not options.cluster:
        return ""
    if isinstance(item, Copy):
        return item_home(item.user, options)
    if isinstance(item, Value):
        return home_scope(item, options.names)
    return parent_module(item.scope) if item.kind == "scope" else item.scope


class Ids:
    """Short stable DOT ids (v0, v1, ...) in drawing order, so output is reproducible."""

    def __init__(self) -> None:
        self.known: dict[int, str] = {}

    def __call__(self, thing: object) -> str:
        key = id(thing)
        name = self.known.get(key)
        if name is None:
            name = self.known[key] = f"v{len(self.known)}"
        return name


def number(x: Any, precision: int) -> str:
    """A float with ``precision`` significant digits (nan and inf spelled out), and zero
    as 0 whatever its sign: a product -1 x 0 is -0.0 in IEEE arithmetic, but a learner
    reads "-0" as another number than the 0.0 a leaf's ``.grad`` holds after it."""
    if isinstance(x, Value):
        x = x.data
    try:
        return f"{float(x) + 0.0:.{precision}g}"  # -0.0 + 0.0 is 0.0
    except (TypeError, ValueError):
        return str(x)


def shown_grad(node: Value, overlay: Overlay | None) -> Any:
    if overlay is None or overlay.grads is None:
        return node.grad
    return overlay.grads.get(node, "?")


def draw_value(graph: Any, node: Value, ids: Ids, options: Options, heat: Heat | None,
               overlay: Overlay | None) -> None:
    """The record for ``node`` and, in the classic drawing, its op bubble."""
    p = options.precision
    grad = shown_grad(node, overlay)
    fields = [f"data {number(node.data, p)}", f"grad {number(grad, p)}"]
    name = display_name(node, options.names) or options.ids.get(node, "")
    if name:
        fields.insert(0, name)
    attrs = {"shape": "record", "tooltip": plain_tooltip(tooltip(node, options, grad))}
    if options.compact and node.row is not None:
        fields.insert(0, compact_op(node.row))
        attrs.update(COMPACT_OP_STYLE)
    attrs["label"] = record(fields)
    attrs.update(node_style(node, options, heat, grad))
    if overlay is not None:
        attrs.update(overlay.node_attrs.get(node, {}))
    graph.node(ids(node), **attrs)
    if node.op and not options.compact:
        bubble = {"color": "#999999"}
        if node in options.highlighted:
            bubble = {"color": HIGHLIGHT, "penwidth": "3"}
        graph.node(ids(node) + "op", label=plain(op_shown(node)), shape="ellipse",
                   style="filled", fillcolor="#eeeeee",
                   tooltip=plain_tooltip(f"op {node.op}: {node.row.formula if node.row else ''}"),
                   **bubble)
        graph.edge(ids(node) + "op", ids(node), weight=str(chain_weight(node)))


def op_shown(node: Value) -> str:
    """How a drawing shows the op that made ``node``: its row's symbol, else its name."""
    return node.row.shown if node.row is not None else ""


def compact_op(row: Op) -> str:
    """The op's field in a compact record, marked so that it never reads as a label.

    A record's fields are ``label | data .. | grad ..``; the op goes first as
    ``op <shown>`` (``op w·x``, ``op tanh``), keyed like ``data`` and ``grad``.
    """
    return f"{COMPACT_OP_MARK}{row.shown}"


def edge_homes(options: Options) -> Callable[[Any, Any], dict[str, str]]:
    """The extra attributes of an edge between two items: ``minlen=2`` into a box
    (see :mod:`autograd_scalar.draw.boxes`) when drawing boxes, else none."""
    if not options.cluster:
        return lambda source, target: {}
    return lambda source, target: entering_attrs(item_home(source, options),
                                                 item_home(target, options))


def node_style(node: Value, options: Options, heat: Heat | None, grad: Any) -> dict[str, str]:
    style: dict[str, str] = {}
    if heat is not None:
        fill, ink = heat.colours(grad)
        style.update(style="filled", fillcolor=fill, fontcolor=ink)
    if node in options.highlighted:
        style.update(color=HIGHLIGHT, penwidth="3")
        if heat is None:
            style.update(style="filled", fillcolor="#fde0dd")
    return style


def tooltip(node: Value, options: Options, grad: Any) -> str:
    """Everything known about ``node``, one fact a line."""
    p = options.precision
    lines = []
    if node.label:
        lines.append(f"label: {node.label}")
    if node in options.names:
        lines.append(f"parameter: {options.names[node]}")
    row = node.row
    lines.append(f"op: {node.op} ({row.formula})" if row is not None and row.formula
                 else f"op: {node.op or 'none (leaf)'}")
    lines += [f"data: {number(node.data, p)}", f"grad: {number(grad, p)}"]
    if node.children:
        lines.append("local derivatives d(this)/d(input):")
        pairs = islice(zip(node.children, node.local_grads), TOOLTIP_INPUTS)
        for i, (child, d) in enumerate(pairs):
            who = isolated(shown(child.label or options.names.get(child, ""))
                           ) or f"{child.op or 'leaf'} node"
            lines.append(f"  input {i} ({who} = {number(child.data, p)}): {number(d, p)}")
        if len(node.children) > TOOLTIP_INPUTS:
            lines.append(f"  ... and {len(node.children) - TOOLTIP_INPUTS:,} more inputs")
    if node.scope:
        lines.append(f"module: {node.scope}")
    if node in options.highlighted:
        lines.append("highlighted")
    return "\n".join(lines)


def draw_copy(graph: Any, copy: Copy, ids: Ids, options: Options, heat: Heat | None,
              overlay: Overlay | None) -> None:
    """A small dashed copy of a node beside one of its far users (see
    :mod:`autograd_scalar.draw.copies`): its name (or op) and data; the tooltip is the
    node's own, and says where the node is drawn in full."""
    node = copy.original
    grad = shown_grad(node, overlay)
    data = number(node.data, options.precision)
    name = isolated(display_name(node, options.names))
    label = f"{name} = {data}" if name else f"{op_shown(node)} = {data}" if node.op else data
    note = (f"(a copy: this node is used by {copy.users:,} nodes across the drawing; it is "
            f"drawn in full once, and as a copy like this beside each far user)")
    attrs = {"shape": "box", "style": "rounded,dashed", "color": "#7f7f7f", "fontsize": "9",
             "height": "0.2", "margin": "0.05,0.02", "label": plain(label),
             "tooltip": plain_tooltip(f"{tooltip(node, options, grad)}\n{note}")}
    style = node_style(node, options, heat, grad)
    if "style" in style:
        style["style"] += ",rounded,dashed"
    attrs.update(style)
    if overlay is not None:
        attrs.update(overlay.node_attrs.get(node, {}))
    graph.node(ids(copy), **attrs)


def draw_edges(graph: Any, nodes: list[Value], ids: Ids, options: Options,
               overlay: Overlay | None, copies: Mapping[tuple[int, int], Copy],
               rankdir: str) -> None:
    """An edge from each input (or its copy) to its user, in :func:`in_written_order`."""
    extra = edge_homes(options)
    edges = [(copies.get((id(child), id(node))) or child, node, child)
             for node in nodes for child in node.children]
    for source, node, child in in_written_order(edges, options, rankdir):
        attrs = extra(source, node)
        weight = chain_weight(child)
        if weight != 1:  # Graphviz's own default
            attrs["weight"] = str(weight)
        if overlay is not None:
            attrs.update(overlay.edge_attrs.get((child, node), {}))
        target = ids(node) if options.compact or not node.op else ids(node) + "op"
        graph.edge(ids(source), target, **attrs)


def in_written_order(edges: list[Edge], options: Options, rankdir: str) -> list[Edge]:
    """Edges (source, target, ...) in the order that holds each box's inputs first on
    top (see :func:`autograd_scalar.draw.boxes.written_order`), without boxes as given."""
    if not options.cluster:
        return edges
    return written_order(edges, lambda item: item_home(item, options), rankdir)


def draw_box(graph: Any, box: Box, ids: Ids, options: Options, heat: Heat | None) -> None:
    """A box standing for several nodes (a chain, a module) or for inputs not drawn."""
    if box.kind == "stub":
        graph.node(ids(box), label=box_label(box),
                   shape="plaintext", fontcolor="#7f7f7f",
                   tooltip=f"{box.hidden_inputs:,} input edge(s) lead to nodes left out "
                           "of this summary")
        return
    label = box_label(box)
    attrs = {"shape": "box3d", "label": plain(label), "style": "filled",
             "fillcolor": "#dfe9f5",
             "tooltip": plain_tooltip(f"{label}\ncollapsed to fit the drawing budget "
                                      f"(max_nodes={options.max_nodes})")}
    if heat is not None:
        fill, ink = heat.colours(hottest([float(n.grad) for n in box.members]))
        attrs.update(fillcolor=fill, fontcolor=ink)
    if any(n in options.highlighted for n in box.members):
        attrs.update(color=HIGHLIGHT, penwidth="3")
    graph.node(ids(box), **attrs)


def box_label(box: Box) -> str:
    """What a box says: what it stands for, how many nodes, their ops (a stub: how
    many inputs were left out)."""
    if box.kind == "stub":
        return f"... {box.hidden_inputs:,} input(s) not drawn"
    return f"{box.what()}: {len(box.members):,} nodes\n{box.op_counts()}"


def draw_summary_edges(graph: Any, layout: Plan, ids: Ids, options: Options,
                       copies: Mapping[tuple[int, int], Copy], rankdir: str) -> None:
    """The summary's edges, each as wide as the log of the edges it stands for; with
    ``cluster``, the edges from one box (or node) into another box are bundled. An edge
    to a far user starts at the source's copy beside that user."""
    extra = edge_homes(options)
    edges = in_written_order([(copies.get((id(source), id(target)), source), target, count)
                              for source, target, count in layout.edges], options, rankdir)
    for group in bundle(edges, lambda item: item_home(item, options)):
        source, target, attrs = bundle_attrs(group)
        end = ids(target)
        if isinstance(target, Value) and target.op and not options.compact:
            end += "op"
        graph.edge(ids(source), end, **extra(source, target), **attrs)


# ---------------------------------------------------------------------------
# Heat map of |grad|
# ---------------------------------------------------------------------------

NAN_FILL = "#b0b0b0"
"""The heat map's fill for a NaN gradient: grey, apart from the scale (a NaN has no size;
dark red would read as the largest gradient)."""


@dataclass
class Heat:
    """Colours from |grad| / the largest |grad| drawn: white, orange, red, dark red (inf
    too), and grey for NaN; ``nan`` says whether any gradient drawn is NaN."""

    largest: float
    nan: bool = False

    def colours(self, grad: Any) -> tuple[str, str]:
        try:
            size = abs(float(grad.data if isinstance(grad, Value) else grad))
        except (TypeError, ValueError):
            return "#ffffff", "#000000"
        if math.isnan(size):
            return NAN_FILL, "#000000"
        if not math.isfinite(size):
            return "#7f0000", "#ffffff"
        t = 0.0 if self.largest == 0 else min(size / self.largest, 1.0)
        position = t * (len(HEAT_COLOURS) - 1)
        low = min(int(position), len(HEAT_COLOURS) - 2)
        mix = position - low
        rgb = [round(a + (b - a) * mix) for a, b in zip(HEAT_COLOURS[low], HEAT_COLOURS[low + 1])]
        return "#{:02x}{:02x}{:02x}".format(*rgb), "#ffffff" if t > 0.6 else "#000000"


def hottest(grads: list[float]) -> float:
    """A box's heat: the largest |grad| of its members that are not NaN (inf counts), NaN
    when they all are, 0 for none; the same whatever the members' order."""
    sizes = [abs(g) for g in grads if not math.isnan(g)]
    return max(sizes) if sizes else (math.nan if grads else 0.0)


def heat_scale(layout: Plan, options: Options, overlay: Overlay | None) -> Heat | None:
    if not options.heatmap:
        return None
    grads = [g for g in (shown_grad(n, overlay) for n in layout.nodes)
             if isinstance(g, (int, float))]
    for box in layout.boxes:
        grads += [n.grad for n in box.members]
    sizes = [abs(float(g)) for g in grads if math.isfinite(g)]
    return Heat(max(sizes, default=0.0), any(math.isnan(g) for g in grads))


def heat_legend(heat: Heat | None, precision: int) -> str:
    if heat is None:
        return ""
    nan = "; NaN grey" if heat.nan else ""
    return f"heat map: |grad| from 0 (white) to {number(heat.largest, precision)} (dark red){nan}"
