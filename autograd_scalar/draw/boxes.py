"""Module boxes in a drawing's DOT source: order, ranks, and bundled edges between them.

A drawing with ``cluster=True`` boxes the nodes made inside each nn module: one
Graphviz ``cluster_`` subgraph per module that made nodes, labelled with its full
name (``layers.0.neurons.3``), so the name says which layer holds it. The boxes
are not nested: Graphviz keeps every node of a box, and every column the box
spans, free of other edges, so an edge into a nested neuron's box must go around
its layer's box, and layer after layer steps down the page. Three more things keep
a drawing with boxes readable:

- **order**: :func:`emit_boxes` writes nodes and boxes in the order it is given (the
  reading order of :mod:`autograd_scalar.draw.reading`), each box where its first
  node comes, so Graphviz stacks neurons, weights and inputs by index, first on top
  (the drawing also asks Graphviz for little crossing reduction, ``mclimit``, which
  would otherwise reorder them). Inside a box that is not enough, as Graphviz
  releases disagree there: 2.43 reverses a box's column in a top-to-bottom drawing,
  and newer ones (16.1, the WebAssembly build) read a box's nodes the other way
  round, which fixes that but reverses the column in a left-to-right drawing (a
  neuron's ``b, w[1], w[0]``). So each box asks for ``ordering=in``: the inputs of a
  node that come from its own box, a neuron's weights and bias, are put in the order
  of their edges, by every release alike, and :func:`written_order` writes those
  edges in the order that reads first on top.
- **columns**: two boxes sharing a rank (a column, in a left-to-right drawing)
  must be stacked, not side by side. A layer's weights are leaves, ranked one step
  before the node that uses them, which is the rank of the previous layer's
  outputs: so each layer's boxes would sit below the previous layer's. An edge that
  enters a box from outside is given ``minlen=2`` (:func:`entering_attrs`), which
  opens a column between them where the weights go, and the layers line up.
- **bundles**: in a summary, a fully connected layer's neuron boxes are joined by
  n x m edges, a dark blob. :func:`bundle` merges every edge that leaves one box (or
  node) for another box into one edge, clipped at the boxes' borders
  (``ltail``/``lhead``, which need the graph attribute ``compound=true``), as wide
  as the log of the number of edges it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .dot_text import dot_name, plain, plain_tooltip

Emit = Callable[[Any], None]
CLUSTER_PREFIX = "cluster_"
MINLEN_INTO_BOX = "2"
FLIPPED = ("LR", "RL")
"""The rankdirs that turn dot's layout, so that its rows become columns."""
Edge = TypeVar("Edge", bound=tuple[Any, ...])


def emit_boxes(graph: Any, entries: Sequence[tuple[str, Emit]]) -> None:
    """Call each ``emit(subgraph)`` inside the box of its module, in order.

    ``entries`` are (home module, emit) pairs in reading order; "" is outside every
    box. A box is opened where its first entry comes and holds all of its entries.
    """
    slots: dict[str, list[Emit]] = {}
    for home, emit in entries:
        slots.setdefault(home or str(id(emit)), []).append(emit)
    homes = {home for home, _ in entries if home}
    for home, emits in slots.items():
        if home not in homes:
            emits[0](graph)
            continue
        with graph.subgraph(name=box_name(home)) as box:
            box.attr(label=plain(home), style="rounded", color="#7f7f7f", fontcolor="#404040",
                     tooltip=plain_tooltip(f"module {home}"), ordering="in")
            for emit in emits:
                emit(box)


def written_order(edges: Sequence[Edge], home: Callable[[Any], str],
                  rankdir: str) -> list[Edge]:
    """``edges`` (source, target, ...) in the order to write them, so that a box's
    ``ordering=in`` puts a node's inputs from its own box first on top (left in a
    top-to-bottom drawing).

    dot puts the input of the earlier edge first in its unturned layout, left to
    right. A left-to-right (or right-to-left) drawing turns that, and at the top level
    of a graph dot turns the order too, but inside a box it does not (2.43 and 16.1
    alike): there the first input comes out at the bottom, so in such a drawing these
    edges go in reverse. They are written together, just before the node's first
    other edge: an edge from outside the box written among them (a neuron's ``x[0]``
    between its ``w[1]`` and ``b``) undoes the order in newer releases.
    """
    inside = {i for i, (source, target, *_) in enumerate(edges)
              if home(target) and home(source) == home(target)}
    groups: dict[int, list[Edge]] = {}
    for i in sorted(inside):
        groups.setdefault(id(edges[i][1]), []).append(edges[i])
    written: list[Edge] = []
    for i, edge in enumerate(edges):
        group = groups.pop(id(edge[1]), [])
        written += group[::-1] if rankdir in FLIPPED else group
        if i not in inside:
            written.append(edge)
    return written


def box_name(home: str) -> str:
    """The DOT name of a module's box: ``cluster_`` and the module's name, or a digest of
    a name that is not plain words and dots (see :func:`autograd_scalar.draw.dot_text.dot_name`)."""
    return dot_name(CLUSTER_PREFIX, home)


def entering_attrs(source_home: str, target_home: str) -> dict[str, str]:
    """``minlen=2`` for an edge into a box from outside it (see the module doc)."""
    if target_home and source_home != target_home:
        return {"minlen": MINLEN_INTO_BOX}
    return {}


@dataclass
class Bundle:
    """Edges merged into one: from ``tail`` to ``head`` (a box's name or an item)."""

    tail: Hashable
    head: Hashable
    edges: list[tuple[Any, Any, int]]

    @property
    def count(self) -> int:
        return sum(count for _, _, count in self.edges)


def bundle(edges: Sequence[tuple[Any, Any, int]], home: Callable[[Any], str]) -> list[Bundle]:
    """Group (source, target, count) edges by the boxes they leave and enter.

    An edge's tail is the outermost box around its source that does not hold its
    target (or the source itself when every box around the source holds the target);
    its head likewise. Edges with the same tail and head form one bundle, in the
    order of their first edge.
    """
    groups: dict[tuple[Hashable, Hashable], Bundle] = {}
    for source, target, count in edges:
        outer, inner = home(source), home(target)
        tail = ("box", outer) if outer and outer != inner else ("item", id(source))
        head = ("box", inner) if inner and outer != inner else ("item", id(target))
        group = groups.get((tail, head))
        if group is None:
            group = groups[(tail, head)] = Bundle(tail, head, [])
        group.edges.append((source, target, count))
    return list(groups.values())


def bundle_attrs(group: Bundle) -> tuple[Any, Any, dict[str, str]]:
    """The one edge drawn for ``group``: (source, target, Graphviz attributes).

    A single edge is drawn as it is. Several are drawn as one edge between their
    middle source and middle target, clipped at the boxes they leave and enter.
    """
    count = group.count
    attrs = {"penwidth": f"{min(1.0 + 0.5 * math.log2(count), 4.0):.2g}",
             "tooltip": f"{count:,} edge(s) between these"}
    source, target, _ = group.edges[0]
    if len(group.edges) == 1:
        return source, target, attrs
    sources = list(dict.fromkeys(edge[0] for edge in group.edges))
    targets = list(dict.fromkeys(edge[1] for edge in group.edges))
    source, target = sources[len(sources) // 2], targets[len(targets) // 2]
    names: list[str] = []
    ends: tuple[tuple[Any, str], ...] = ((group.tail, "ltail"), (group.head, "lhead"))
    for (kind, name), key in ends:
        if kind == "box":
            attrs[key] = box_name(str(name))
            names.append(f"module {name}")
    attrs["tooltip"] = plain_tooltip(f"{count:,} edges bundled into one "
                                     f"({' to '.join(names)})")
    return source, target, attrs
