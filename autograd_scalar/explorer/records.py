"""The view's data: numbers and indices, column by column, and every word once.

A page of 10,000 nodes has to stay a few megabytes, so nothing per node is prose:

- nodes are numbered in reading order (see :mod:`autograd_scalar.explorer.model`)
  and every per-node fact is a column indexed by that number: ``data``, ``grad``,
  ``kids`` (the children's numbers), ``locals`` (the local derivatives stored at
  the forward pass, in the children's order), ``op`` (a row of ``ops``), ``scope``
  (a row of ``scopes``), ``names`` and ``labels``;
- an op's name, symbol and rule in words are sent once, in ``ops``;
- backward's steps are the numbers of the nodes in the order backprop finalises
  them and the gradient each receives (this pass's own, as
  :func:`autograd_scalar.draw.animate.backward_steps` computes it); the script puts the
  narration of :func:`autograd_scalar.draw.animate.describe_step` together from them:
  for the node ``v`` of step k,

      dL/dv = sum over the users p of v of  dp/dv * dL/dp,

  each user's dp/dv being its stored local derivative and dL/dp its own step's
  gradient, users taken in topological order (the reverse of the steps);
- where the graph has tangents (inside a ``forward_ad()`` block whose duals it
  uses: :mod:`autograd_scalar.forward`), ``tangents``: each node's rate of change
  along the duals' tangents, t(p) = sum_i dp/dc_i * t(c_i), shown beside its grad;
- numbers travel at the precision the view shows them (``precision`` significant
  digits; inf and nan as the strings "inf", "-inf", "nan", which JSON lacks).

Here the per-node columns are NumPy arrays (``kids`` and ``locals`` flat, with each
node's ``arity``), made in a few passes over the graph; :func:`plain` gives the
lists above, and a big graph's payload carries them packed as bytes
(:func:`autograd_scalar.explorer.page.packed`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import chain, pairwise
from operator import attrgetter
from typing import Any

import numpy as np

from ..backward import gradients, topological_order
from ..draw.dot_text import shown
from ..draw.graph import Options
from ..draw.reading import display_name
from ..forward import open_tangents
from ..value import Value
from .model import Edges, Graph, Group, graph_of, run_titles
from .positions import lay_out

LAZY_NODES = 5_000
"""A graph of more nodes lays out up front only the boxes that open with the view (within
its budget, and around marked nodes); the view asks for any other box's layout when
the box is opened (:class:`Layouts`). A smaller graph, and a saved page, carry all."""


class Layouts:
    """Each group's own layout (:func:`~autograd_scalar.explorer.positions.lay_out`),
    made when first asked for and kept: by group number, its centres, width, height.
    ``kids`` and ``arity`` are the graph's edges (:func:`structure_of`)."""

    def __init__(self, graph: Graph, rankdir: str, kids: np.ndarray, arity: np.ndarray) -> None:
        self.graph, self.rankdir = graph, rankdir
        self.kids, self.arity = kids, arity
        self.edges: Edges | None = None
        self.done: dict[int, dict[str, Any]] = {}

    def rebind(self, graph: Graph, kids: np.ndarray, arity: np.ndarray) -> None:
        """Serve ``graph``, of the same structure as the one laid out (a new forward
        pass): the layouts made stay, the edges are counted again when needed."""
        self.graph, self.edges = graph, None
        self.kids, self.arity = kids, arity

    def of(self, numbers: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The layouts of the groups ``numbers`` (ValueError for a group not in the graph)."""
        wanted = list(dict.fromkeys(numbers))
        for g in wanted:
            if not (isinstance(g, int) and 0 <= g < len(self.graph.groups)):
                raise ValueError(f"explore: no box {g!r}; boxes are numbered 0 to "
                                 f"{len(self.graph.groups) - 1}")
        missing = [g for g in wanted if g not in self.done]
        if missing:
            if self.edges is None:
                self.edges = Edges(self.graph, self.kids, self.arity)
            placed = lay_out([self.graph.groups[g] for g in missing], self.edges.of(missing),
                             self.rankdir)
            self.done.update(zip(missing, placed))
        return {g: self.done[g] for g in wanted}


def view_data(outputs: list[Value], options: Options, report: Any,
              previous: tuple[dict[str, Any], Layouts] | None = None,
              lazy: bool | None = False) -> tuple[dict[str, Any], Layouts]:
    """Everything the script draws, as JSON-ready numbers, indices and tables, and the
    groups' layouts (to lay out more of them later).

    ``previous``: an earlier view's data and layouts; if the graph has the same
    structure (:data:`STRUCTURE`: the same ops joined the same way, with the same
    names), its layouts and its ``structure`` serial are kept, so the view only takes
    the new numbers. ``lazy``: lay out only the boxes that open with the view
    (:func:`opening_groups`); else every box; None: lazy above LAZY_NODES nodes.
    """
    graph = graph_of(outputs, options)
    ids = {node: k for k, node in enumerate(graph.order)}
    run_titles(graph, ids)
    data = structure_of(graph, ids, outputs, options, report)
    if previous is not None and all(same(previous[0][key], data[key]) for key in STRUCTURE):
        layouts = previous[1]
        layouts.rebind(graph, data["kids"], data["arity"])
        data["structure"] = previous[0]["structure"]
    else:
        layouts = Layouts(graph, options.rankdir, data["kids"], data["arity"])
        data["structure"] = (previous[0]["structure"] + 1) if previous is not None else 0
    if lazy is None:
        lazy = len(graph.order) > LAZY_NODES
    wanted = opening_groups(graph, options.max_nodes, data["failed"]) if lazy \
        else range(len(graph.groups))
    data["groups"] = group_records(graph, ids, layouts.of(wanted))
    data.update(numbers_of(graph.order, ids, outputs[0]))
    return data, layouts


def steps_from_outputs(graph: Graph) -> dict[int, int]:
    """For each group (by id): the fewest edges from an output back to a node in it."""
    steps = {id(output): 0 for output in graph.outputs}
    frontier = list(dict.fromkeys(graph.outputs))
    while frontier:
        later = []
        for node in frontier:
            for child in node.children:
                if id(child) not in steps:
                    steps[id(child)] = steps[id(node)] + 1
                    later.append(child)
        frontier = later
    near: dict[int, int] = {}
    for node in graph.order:
        group: Group | None = graph.home[node]
        while group is not None and near.get(id(group), math.inf) > steps[id(node)]:
            near[id(group)] = steps[id(node)]
            group = group.parent
    return near


def opening_groups(graph: Graph, budget: int, marked: list[int]) -> list[int]:
    """The groups the view may open at first: level by level, outermost first, and in a
    group the boxes nearest an output first (fewest edges back from it; the view opens
    on the output), while the items shown stay within ``budget`` (the view's own rule,
    which may keep some of them closed to fit), and every group around a marked node
    (which the view opens)."""
    number = {id(group): k for k, group in enumerate(graph.groups)}
    near = steps_from_outputs(graph)
    chosen, shown, queue = [0], len(graph.top.items), [graph.top]
    while queue:
        group = queue.pop(0)
        for item in sorted(group.items, key=lambda item: near.get(id(item), math.inf)):
            if isinstance(item, Group) and shown + len(item.items) - 1 <= budget:
                chosen.append(number[id(item)])
                shown += len(item.items) - 1
                queue.append(item)
    for k in marked:
        around: Group | None = graph.home[graph.order[k]]
        while around is not None:
            chosen.append(number[id(around)])
            around = around.parent
    return chosen


STRUCTURE = ("names", "labels", "params", "ops", "op", "scopes", "scope", "kids", "failed",
             "outputs", "rankdir", "budget")
"""The entries that define the drawing: equal entries, equal layout."""


def structure_of(graph: Graph, ids: dict[Value, int], outputs: list[Value], options: Options,
                 report: Any) -> dict[str, Any]:
    """The graph's shape and words: what each node is, how they join, what is marked.

    ``kids`` holds every node's children's numbers one after the other, ``arity`` how
    many each node has (NumPy arrays, as ``op`` and ``scope``: see :func:`plain`)."""
    ops: dict[str, int] = {"": 0}
    op_rows: list[list[str]] = [["", "", ""]]
    scopes: dict[str, int] = {"": 0}
    for node in graph.order:
        if node.op not in ops:
            ops[node.op] = len(op_rows)
            row = node.row
            op_rows.append([shown(node.op), shown(row.shown) if row else "",
                            shown(row.formula) if row else ""])
    order = graph.order
    children = list(map(_children, order))
    failures = report_table(report)
    scope = _integers([scopes.setdefault(shown(name), len(scopes)) for name in map(_scope, order)])
    return {
        "names": [display_name(node, options.names) for node in order],
        "labels": [shown(node.label) for node in order],
        "params": [ids[node] for node in order if node in options.names],
        "ops": op_rows,
        "op": _integers([ops[name] for name in map(_op, order)]),
        "scopes": list(scopes),  # filled by ``scope`` above
        "scope": scope,
        "kids": _integers(list(map(ids.__getitem__, chain.from_iterable(children)))),
        "arity": _integers(list(map(len, children))),
        "failed": [ids[node] for node in order if node in options.highlighted],
        "failures": failures, "summary": report.summary() if failures else "",
        "outputs": [ids[o] for o in outputs], "precision": options.precision,
        "budget": options.max_nodes, "rankdir": options.rankdir, "title": shown(options.title),
    }


_children = attrgetter("children")
_op = attrgetter("op")
_scope = attrgetter("scope")
_data = attrgetter("data")
_grad = attrgetter("grad")
_local_grads = attrgetter("local_grads")


def _integers(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int32)


def _floats(values: Iterable[Any], count: int = -1) -> np.ndarray:
    return np.fromiter(values, np.float64, count)


def same(a: Any, b: Any) -> bool:
    """Whether two entries of the view's data are equal (lists, numbers or NumPy arrays)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) \
            and a.dtype == b.dtype and np.array_equal(a, b)
    return bool(a == b)


def report_table(report: Any) -> list[Any]:
    """The table shown under the view, header first: a check_graph report's ``rows()``,
    a diff report's ``table()``; no table for Values."""
    for name in ("table", "rows"):
        method = getattr(report, name, None)
        if callable(method):
            return list(method())
    return []


def numbers_of(order: list[Value], ids: dict[Value, int], output: Value) -> dict[str, Any]:
    """Each node's data, grad and local derivatives (and tangent, when the graph has
    them), and the backward pass of the first output: its steps (backprop finalises the
    nodes in the reverse of their topological order) and the gradient each step gives
    (this pass's own, as :func:`autograd_scalar.draw.animate.backward_steps` has them).

    The numbers are NumPy float64 arrays, ``locals`` every node's one after the other
    (as ``kids``), unrounded: :func:`plain` and the payload round them to the view's precision."""
    final = gradients(output)
    backward = topological_order(output)
    backward.reverse()
    edges = sum(map(len, map(_children, order)))
    try:
        local = _floats(chain.from_iterable(map(_local_grads, order)), edges)
    except ValueError:  # a node that stores fewer derivatives than it has children
        local = _floats(chain.from_iterable(
            (*node.local_grads, *[math.nan] * (len(node.children) - len(node.local_grads)))
            for node in order), edges)
    numbers: dict[str, Any] = {
        "data": _floats(map(_data, order), len(order)),
        "grad": _floats(map(_grad, order), len(order)),
        "locals": local,
        "steps": _integers(list(map(ids.__getitem__, backward))),
        "stepGrads": _floats(map(final.__getitem__, backward), len(backward)),
    }
    tangents = open_tangents(order)
    if tangents is not None:
        numbers["tangents"] = _floats(tangents, len(order))
    return numbers


NUMBERS = ("data", "grad", "stepGrads", "tangents")
"""The entries holding one number per node (or step)."""


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """The view's data as plain JSON-ready lists: numbers rounded to the view's precision
    (:func:`rounded`), ``kids`` and ``locals`` as one list per node, ``op``, ``scope``
    and ``steps`` as lists of ints."""
    p = data["precision"]
    out = dict(data)
    for key in NUMBERS:
        if key in data:
            out[key] = [rounded(x, p) for x in data[key].tolist()]
    for key in ("op", "scope", "steps"):
        out[key] = data[key].tolist()
    out["kids"] = per_node(data["kids"].tolist(), data["arity"])
    out["locals"] = [[rounded(x, p) for x in local]
                     for local in per_node(data["locals"].tolist(), data["arity"])]
    del out["arity"]
    return out


def per_node(flat: list[Any], arity: np.ndarray) -> list[list[Any]]:
    """A flat column of every node's entries one after the other (``kids``, ``locals``)
    cut into one list per node, node k having ``arity[k]`` entries."""
    bounds = np.concatenate(([0], np.cumsum(arity))).tolist()
    return [flat[a:b] for a, b in pairwise(bounds)]


def group_records(graph: Graph, ids: dict[Value, int],
                  layouts: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each group: title, parent, items (a node's number k, or a subgroup g as -1 - g),
    size in nodes, and its own layout if in ``layouts``: item centres flattened
    [x0, y0, x1, y1, ...] and the frame's width and height (else None: not laid out yet)."""
    group_ids = {id(group): k for k, group in enumerate(graph.groups)}
    records = []
    for k, group in enumerate(graph.groups):
        records.append({
            "title": shown(group.title), "module": int(bool(group.key) and "#" not in group.key),
            "parent": group_ids[id(group.parent)] if group.parent is not None else -1,
            "items": [-1 - group_ids[id(i)] if isinstance(i, Group) else ids[i]
                      for i in group.items],
            "size": group.size,
            **layouts.get(k, {"centres": None, "width": None, "height": None})})
    return records


def rounded(x: Any, precision: int) -> float | str:
    """``x`` to ``precision`` significant digits (what the view shows); inf and nan,
    which JSON has no numbers for, as the strings "inf", "-inf", "nan"."""
    value = float(x)
    return float(f"{value:.{precision}g}") if math.isfinite(value) else str(value)
