"""Nodes used far from where they are made: drawn in full once, and as a copy beside far users.

Graphviz's ``dot`` puts nodes in columns (ranks) and routes an edge that spans k
columns through k - 1 invisible nodes, which it then places one by one. A node used
all along a computation makes many such edges side by side: the x of a polynomial in
Horner form (``p = p * x + c``, 90 times), or of ``x**x**...**x``. dot's placement
(network simplex) then takes minutes on a graph of under two hundred nodes, and the
picture is a fan of long lines from one x that nobody can follow.

So an edge from a node to a user more than ``LONGEST_EDGE`` columns after it is drawn
from a small copy of the node, placed next to that user (and in its module's box). The
node itself is drawn in full once, joined to its near users. Every edge is then short,
and dot lays such a graph out in about a second.

Columns are estimated as dot ranks a graph with fan-out: a node used by several nodes
is pulled towards them, so it sits one column before its earliest user. Counting so
from the outputs back, every node is next to its nearest user, and the long edges are
exactly those to its other users.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .value import Value

LONGEST_EDGE = 3
"""The most columns (Values) an edge may span before its user gets a copy of its source."""


@dataclass(eq=False)
class Copy:
    """A small second drawing of ``original``, beside ``user`` (a Value or a summary box)."""

    original: Value
    user: Any
    users: int = 0
    """How many items of the drawing use ``original`` (said in the copy's tooltip)."""


def far_copies(items: Sequence[object],
               edges: Iterable[tuple[object, object]]) -> dict[tuple[int, int], Copy]:
    """The copies to draw, keyed by (id(source), id(user)) of the edge each replaces.

    ``items`` are what the drawing shows (Values and boxes), ``edges`` (source, user)
    pairs between them. Only a Value is copied, and never for its nearest user (one
    column on, by :func:`columns`), so the node itself always stays joined to the
    graph; an item on a cycle (possible between summary boxes) keeps its edges.
    """
    known = {id(item): item for item in items}
    inputs: dict[int, list[object]] = {key: [] for key in known}
    users: dict[int, list[object]] = {key: [] for key in known}
    for source, user in edges:
        if id(source) in known and id(user) in known and source is not user:
            inputs[id(user)].append(source)
            users[id(source)].append(user)
    place = columns(inputs, users)
    copies: dict[tuple[int, int], Copy] = {}
    for key, item in known.items():
        if not isinstance(item, Value) or key not in place:
            continue
        count = len({id(user) for user in users[key]})
        for user in users[key]:
            if place[id(user)] - place[key] > LONGEST_EDGE:
                copies.setdefault((key, id(user)), Copy(item, user, count))
    return copies


def columns(inputs: dict[int, list[object]], users: dict[int, list[object]]) -> dict[int, int]:
    """Each item's column, counted back from the outputs (0): one before its earliest
    user. Items on a cycle get none."""
    waiting = {key: len(found) for key, found in users.items()}
    ready = [key for key, count in waiting.items() if count == 0]
    place: dict[int, int] = {}
    while ready:
        key = ready.pop()
        place[key] = min((place[id(user)] for user in users[key]), default=1) - 1
        for source in inputs[key]:
            waiting[id(source)] -= 1
            if waiting[id(source)] == 0:
                ready.append(id(source))
    return place
