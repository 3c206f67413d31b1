"""Where each item of each group sits, laid out by Graphviz ``dot``.

Each group is laid out on its own, as a small graph: its items (nodes, and its
subgroups drawn collapsed, as one box) and the edges between them, counted. The
view expands a group in place: it stretches the plane at the group's centre by
the difference between the group's expanded and collapsed size (everything past
the centre along the layout moves on, and what shares its columns moves across), which
keeps every other box clear of it, and draws the group's own layout inside. So one layout per group
serves every combination of expanded and collapsed groups.

All groups go through one ``dot`` process (Graphviz reads graph after graph), or
through Graphviz compiled to WebAssembly without it, each distinct group once (the
neuron boxes of a layer are often the same small graph); only positions are read
(``-Tplain``), the view draws the boxes and edges itself. Where neither Graphviz is
there (no dot on Python 3.10, which the WebAssembly build does not support),
:func:`layered` places the items itself, column by column. Graphviz decides which
column (rank) an item goes in, but not reliably where in its column: items with no
edges between them inside the group, such as a layer's neuron boxes, come out
last first. So each column is put back in reading order, first on top
(:func:`in_reading_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..draw.graph import MCLIMIT, chain_weight
from ..draw.layout import has_graphviz, plain_layouts
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
RANKSEP = 0.35
"""Graphviz's gap between columns, in inches."""


def item_size(item: object) -> tuple[float, float]:
    return BOX if isinstance(item, Group) else NODE


def dot_source(group: Group, edges: dict[tuple[int, int], int], rankdir: str) -> str:
    """One group's items as fixed-size boxes and its edges, in DOT, items in reading
    order and crossing reduction almost off (as in the drawings), so that each column
    keeps that order, first on top."""
    lines = [f"digraph g {{ rankdir={rankdir}; nodesep={NODESEP}; ranksep={RANKSEP}; "
             f"splines=false; "
             f"mclimit={MCLIMIT};",
             'node [shape=box, fixedsize=true, label=""];']
    index = {id(item): k for k, item in enumerate(group.items)}
    for k, item in enumerate(group.items):
        width, height = item_size(item)
        lines.append(f"i{k} [width={width / POINTS:.4f}, height={height / POINTS:.4f}];")
    pulls = {id(item): chain_weight(item) for item in group.items}
    for (source, target), count in edges.items():
        weight = min(count, 100) * pulls[source]
        lines.append(f"i{index[source]} -> i{index[target]} [weight={weight}];")
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


def layered(group: Group, edges: dict[tuple[int, int], int], rankdir: str
            ) -> tuple[list[float], float, float]:
    """One group laid out without Graphviz, as :func:`read_plain` reads dot's layout: item
    centres (x right, y down, in points, flattened) and the layout's width and height.

    Each item's column (rank) is the longest path to it from an item with no edge
    into it, so every edge points forward (an edge that closes a cycle, between
    collapsed boxes, is left out of the ranking); an item with no edge into it (a
    leaf, a constant) then moves up to the column just before its first user, as
    dot keeps edges short. Each column holds its items in reading order, centred on
    the tallest column, with Graphviz's gaps between neighbours (``NODESEP``) and
    columns (``RANKSEP``)."""
    items = group.items
    index = {id(item): k for k, item in enumerate(items)}
    successors: list[list[int]] = [[] for _ in items]
    waiting = [0] * len(items)
    for source, target in edges:
        a, b = index[source], index[target]
        if a != b:
            successors[a].append(b)
            waiting[b] += 1
    fed = [count > 0 for count in waiting]  # whether an edge comes into the item
    rank = [0] * len(items)
    done = [False] * len(items)
    ready = [k for k, count in enumerate(waiting) if count == 0]
    first_left = 0
    for _ in items:
        while ready and done[ready[-1]]:
            ready.pop()
        if not ready:  # a cycle: release the first item left, its other edges ignored
            while done[first_left]:
                first_left += 1
            ready.append(first_left)
        k = ready.pop()
        done[k] = True
        for b in successors[k]:
            if not done[b]:
                rank[b] = max(rank[b], rank[k] + 1)
                waiting[b] -= 1
                if waiting[b] == 0:
                    ready.append(b)
    for k, users in enumerate(successors):  # a leaf goes just before its first user
        if users and not fed[k]:
            rank[k] = max(min(rank[b] for b in users) - 1, 0)
    used = sorted(set(rank))
    columns: list[list[int]] = [[] for _ in used]
    column_of = {r: c for c, r in enumerate(used)}
    for k, r in enumerate(rank):
        columns[column_of[r]].append(k)
    across, along = (0, 1) if rankdir == "LR" else (1, 0)
    gap, step = NODESEP * POINTS, RANKSEP * POINTS
    extents = [sum(item_size(items[k])[along] for k in column) + gap * (len(column) - 1)
               for column in columns]
    longest = max(extents, default=0.0)
    centres = [0.0] * (2 * len(items))
    start = 0.0
    for column, extent in zip(columns, extents):
        thickness = max(item_size(items[k])[across] for k in column)
        position = (longest - extent) / 2
        for k in column:
            size = item_size(items[k])
            centres[2 * k + across] = round(start + thickness / 2, 1)
            centres[2 * k + along] = round(position + size[along] / 2, 1)
            position += size[along] + gap
        start += thickness + step
    spans = (max(start - step, 0.0), longest)
    width, height = spans if rankdir == "LR" else spans[::-1]
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
    width and height. ``edges``: each group's edge counts by the group's id, as
    :class:`~autograd_scalar.explorer.model.Edges` gives them."""
    if has_graphviz():
        sources = [dot_source(group, edges[id(group)], rankdir) for group in groups]
        unique = list(dict.fromkeys(sources))   # a layer's neuron boxes are often alike
        laid_out = dict(zip(unique, plain_layouts(unique)))
        layouts = [read_plain(laid_out[source], len(group.items))
                   for group, source in zip(groups, sources)]
    else:
        layouts = [layered(group, edges[id(group)], rankdir) for group in groups]
    placed = []
    for group, (centres, width, height) in zip(groups, layouts):
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
