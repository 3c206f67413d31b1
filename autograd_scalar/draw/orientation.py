"""Which way a summary runs: left to right, or top to bottom when that reads better.

A summary of a deep model is a long chain of module boxes (a transformer: the
embeddings, then per block its norms, attention heads, MLP and residual adds). Laid
out left to right it is many times wider than tall, and a notebook or a docs page
shrinks it to its width until the text is a few pixels high; top to bottom the same
boxes make a picture about as wide as tall. ``rankdir="auto"`` (``draw_graph``'s
default) picks between the two from an estimate of both pictures' sizes, made from
the plan before Graphviz runs (laying it out twice would double the wait):

- rank r of an item is the longest path of edges into it (as Graphviz ranks a DAG);
  a node drawn with its op as a separate bubble takes two ranks;
- a rank's depth along the flow is its widest item (left to right) or tallest
  (top to bottom), plus ``RANK_GAP``; across the flow its items' sizes add up, plus
  ``ITEM_GAP`` between neighbours;
- a box is ``CHAR_WIDTH`` per character of its longest line wide and ``LINE_HEIGHT``
  per line tall; a node's record ``NODE_SIZE``.

Left to right stays unless its aspect (width / height) is above ``TOO_WIDE`` and top
to bottom is nearer ``PAGE_ASPECT`` (ratios compared on a log scale). A drawing of
every node (no summary) is always left to right, as micrograd drew them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..value import Value
from .summary import Box, Plan

CHAR_WIDTH = 6.2
LINE_HEIGHT = 14.0
BOX_PADDING = (24.0, 14.0)
NODE_SIZE = (170.0, 36.0)
OP_SIZE = (54.0, 36.0)
RANK_GAP = 40.0
ITEM_GAP = 18.0
TOO_WIDE = 4.0
PAGE_ASPECT = 1.5


def choose_rankdir(layout: Plan, label_of: Callable[[Box], str], *, separate_ops: bool
                   ) -> str:
    """"LR" or "TB" for ``rankdir="auto"`` (see the module docstring); ``label_of`` is a
    box's text as drawn, ``separate_ops`` whether nodes' ops are bubbles of their own."""
    if not layout.summarised:
        return "LR"
    ranks = item_ranks(layout, separate_ops, label_of)
    wide, tall = picture_size(ranks, along=0), picture_size(ranks, along=1)
    wide_aspect, tall_aspect = wide[0] / wide[1], tall[0] / tall[1]
    if wide_aspect <= TOO_WIDE:
        return "LR"
    nearer = abs(math.log(tall_aspect / PAGE_ASPECT)) < abs(math.log(wide_aspect / PAGE_ASPECT))
    return "TB" if nearer else "LR"


def box_size(label: str) -> tuple[float, float]:
    """A box's estimated (width, height) in points from its text."""
    lines = label.split("\n")
    return (CHAR_WIDTH * max(map(len, lines)) + BOX_PADDING[0],
            LINE_HEIGHT * len(lines) + BOX_PADDING[1])


def item_ranks(layout: Plan, separate_ops: bool, label_of: Callable[[Box], str]
               ) -> list[tuple[int, tuple[float, float]]]:
    """(rank, estimated size) of every drawn shape: a rank is the longest path of edges
    into it, and an op bubble takes the rank before its node's record."""
    items: list[Value | Box] = [*layout.nodes, *layout.boxes]
    inputs: dict[int, list[int]] = {id(item): [] for item in items}
    for source, target, _ in layout.edges:
        inputs[id(target)].append(id(source))
    shapes: dict[int, list[tuple[float, float]]] = {}
    for item in items:
        if isinstance(item, Box):
            shapes[id(item)] = [box_size(label_of(item))]
        else:
            shapes[id(item)] = [OP_SIZE, NODE_SIZE] if separate_ops and item.op else [NODE_SIZE]
    first = longest_paths(inputs, {key: len(found) for key, found in shapes.items()})
    return [(first[key] + k, size) for key, found in shapes.items()
            for k, size in enumerate(found)]


def longest_paths(inputs: dict[int, list[int]], spans: dict[int, int]) -> dict[int, int]:
    """Each key's first rank: the most, over its inputs, of the input's first rank plus
    its span (0 without inputs); an edge that closes a cycle is not followed."""
    first: dict[int, int] = {}
    open_keys: set[int] = set()
    for start in inputs:
        stack = [start]
        while stack:
            key = stack[-1]
            if key in first:
                stack.pop()
                continue
            open_keys.add(key)
            waiting = [k for k in inputs[key] if k not in first and k not in open_keys]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            open_keys.discard(key)
            first[key] = max((first[k] + spans[k] for k in inputs[key] if k in first),
                             default=0)
    return first


def picture_size(ranks: list[tuple[int, tuple[float, float]]], along: int
                 ) -> tuple[float, float]:
    """The estimated (width, height) with ranks running along axis ``along`` (0: left
    to right, 1: top to bottom)."""
    depth: dict[int, float] = {}
    breadth: dict[int, float] = {}
    for rank, size in ranks:
        depth[rank] = max(depth.get(rank, 0.0), size[along])
        breadth[rank] = breadth.get(rank, -ITEM_GAP) + size[1 - along] + ITEM_GAP
    length = sum(depth.values()) + RANK_GAP * (len(depth) - 1)
    across = max(breadth.values())
    return (length, across) if along == 0 else (across, length)
