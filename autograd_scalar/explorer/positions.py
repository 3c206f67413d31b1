"""Where each item of each group sits, laid out by Graphviz ``dot``.

Each group is laid out on its own, as a small graph: its items (nodes, and its
subgroups drawn collapsed, as one box) and the edges between them, counted. The
view expands a group in place: it stretches the plane at the group's centre by
the difference between the group's expanded and collapsed size (everything to
the right moves right, everything below moves down), which keeps every other box
clear of it, and draws the group's own layout inside. So one layout per group
serves every combination of expanded and collapsed groups.

All groups go through one ``dot`` process (Graphviz reads graph after graph), or
through Graphviz compiled to WebAssembly without it; only positions are read
(``-Tplain``), the view draws the boxes and edges itself.
"""

from __future__ import annotations

from typing import Any

from ..graph import MCLIMIT
from ..layout import plain_layouts
from .model import Graph, Group

POINTS = 72.0
"""Graphviz works in inches; the view in points, 72 to the inch."""
NODE = (128.0, 50.0)
BOX = (156.0, 44.0)
PAD = 10.0
HEADER = 20.0
"""An expanded group's frame: its layout, a margin of PAD around it and a title bar."""


def item_size(item: object) -> tuple[float, float]:
    return BOX if isinstance(item, Group) else NODE


def dot_source(group: Group, edges: dict[tuple[int, int], int], rankdir: str) -> str:
    """One group's items as fixed-size boxes and its edges, in DOT, items in reading
    order and crossing reduction almost off (as in the drawings), so that each column
    keeps that order, first on top."""
    lines = [f"digraph g {{ rankdir={rankdir}; nodesep=0.15; ranksep=0.35; splines=false; "
             f"mclimit={MCLIMIT};",
             'node [shape=box, fixedsize=true, label=""];']
    index = {id(item): k for k, item in enumerate(group.items)}
    for k, item in enumerate(group.items):
        width, height = item_size(item)
        lines.append(f"i{k} [width={width / POINTS:.4f}, height={height / POINTS:.4f}];")
    for (source, target), count in edges.items():
        lines.append(f"i{index[source]} -> i{index[target]} [weight={min(count, 100)}];")
    lines.append("}")
    return "\n".join(lines)


def read_plain(text: str, count: int) -> tuple[list[float], float, float]:
    """Item centres (x right, y down, in points) flattened [x0, y0, x1, y1, ...], and
    the width and height of the layout."""
    centres = [0.0] * (2 * count)
    height = width = 0.0
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["graph"]:
            width, height = float(parts[2]) * POINTS, float(parts[3]) * POINTS
        elif parts[:1] == ["node"] and parts[1].startswith("i"):
            x, y = float(parts[2]) * POINTS, float(parts[3]) * POINTS
            k = int(parts[1][1:])
            centres[2 * k:2 * k + 2] = [round(x, 1), round(height - y, 1)]
    return centres, width, height


def lay_out(graph: Graph, edges: dict[int, dict[tuple[int, int], int]],
            rankdir: str) -> list[dict[str, Any]]:
    """For each group, in ``graph.groups`` order: its items' centres (flattened) and
    its frame's width and height."""
    sources = [dot_source(group, edges[id(group)], rankdir) for group in graph.groups]
    placed = []
    for group, text in zip(graph.groups, plain_layouts(sources)):
        centres, width, height = read_plain(text, len(group.items))
        placed.append({"centres": centres, "width": round(width + 2 * PAD, 1),
                       "height": round(height + 2 * PAD + HEADER, 1)})
    return placed
