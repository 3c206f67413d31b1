"""Where each item of each group sits, laid out by Graphviz ``dot``.

Each group is laid out on its own, as a small graph: its items (nodes, and its
subgroups drawn collapsed, as one box) and the edges between them, counted. The
view expands a group in place: it stretches the plane at the group's centre by
the difference between the group's expanded and collapsed size (everything to
the right moves right, everything below moves down), which keeps every other box
clear of it, and draws the group's own layout inside. So one layout per group
serves every combination of expanded and collapsed groups.

All groups go through one ``dot`` process (Graphviz reads graph after graph), or
through Graphviz compiled to WebAssembly without it, each distinct group once (the
neuron boxes of a layer are often the same small graph); only positions are read
(``-Tplain``), the view draws the boxes and edges itself. Graphviz decides which
column (rank) an item goes in, but not reliably where in its column: items with no
edges between them inside the group, such as a layer's neuron boxes, come out
last first. So each column is put back in reading order, first on top
(:func:`in_reading_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..graph import MCLIMIT
from ..layout import plain_layouts
from .model import Group

POINTS = 72.0
"""Graphviz works in inches; the view in points, 72 to the inch."""
NODE = (128.0, 50.0)
BOX = (156.0, 44.0)
PAD = 10.0
HEADER = 20.0
"""An expanded group's frame: its layout, a margin of PAD around it and a title bar."""
NODESEP = 0.15
"""Graphviz's gap between neighbours in a column, in inches."""


def item_size(item: object) -> tuple[float, float]:
    return BOX if isinstance(item, Group) else NODE


def dot_source(group: Group, edges: dict[tuple[int, int], int], rankdir: str) -> str:
    """One group's items as fixed-size boxes and its edges, in DOT, items in reading
    order and crossing reduction almost off (as in the drawings), so that each column
    keeps that order, first on top."""
    lines = [f"digraph g {{ rankdir={rankdir}; nodesep={NODESEP}; ranksep=0.35; splines=false; "
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


def in_reading_order(items: Sequence[object], centres: list[float], rankdir: str) -> list[float]:
    """The centres with each column's items in item order (reading order), first on top.

    A column is the items sharing a rank: one x in a left-to-right layout, one y in a
    top-to-bottom one (where "first on top" becomes "first on the left"). Its slots,
    the places Graphviz gave its items, are handed out again: the k-th item of the
    column in item order gets the k-th slot along it, moved on as far as needed to
    keep the gap of ``nodesep`` to the one before when the items differ in size.
    """
    across, along = (0, 1) if rankdir == "LR" else (1, 0)
    columns: dict[float, list[int]] = {}
    for k in range(len(items)):
        columns.setdefault(round(centres[2 * k + across]), []).append(k)
    ordered = list(centres)
    gap = NODESEP * POINTS
    for members in columns.values():
        extent = [item_size(items[k])[along] for k in members]
        starts = sorted(centres[2 * k + along] - e / 2 for k, e in zip(members, extent))
        end = -float("inf")
        for k, e, slot in zip(members, extent, starts):
            start = max(slot, end + gap)
            ordered[2 * k + along] = round(start + e / 2, 1)
            end = start + e
    return ordered


def lay_out(groups: Sequence[Group], edges: dict[int, dict[tuple[int, int], int]],
            rankdir: str) -> list[dict[str, Any]]:
    """For each of ``groups``, in order: its items' centres (flattened) and its frame's
    width and height. ``edges``: :func:`~autograd_scalar.explorer.model.edges_by_group`."""
    sources = [dot_source(group, edges[id(group)], rankdir) for group in groups]
    unique = list(dict.fromkeys(sources))   # a layer's neuron boxes are often alike
    laid_out = dict(zip(unique, plain_layouts(unique)))
    placed = []
    for group, source in zip(groups, sources):
        text = laid_out[source]
        centres, width, height = read_plain(text, len(group.items))
        centres = in_reading_order(group.items, centres, rankdir)
        along = 1 if rankdir == "LR" else 0
        for k, item in enumerate(group.items):
            reach = centres[2 * k + along] + item_size(item)[along] / 2
            if rankdir == "LR":
                height = max(height, reach)
            else:
                width = max(width, reach)
        placed.append({"centres": centres, "width": round(width + 2 * PAD, 1),
                       "height": round(height + 2 * PAD + HEADER, 1)})
    return placed
