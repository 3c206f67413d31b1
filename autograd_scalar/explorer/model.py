"""How the interactive view boxes a graph: its nodes in reading order, cut into groups.

The graph behind the outputs is cut into a tree of *groups*, each a box that can be
collapsed into one item or expanded to show what is inside:

- the nn modules the nodes were made in (``layers.0`` holds ``layers.0.neurons.3``),
  a named parameter going to the module its name says, an unnamed leaf to the
  innermost module around all its users (a network's inputs, used by every neuron
  of ``layers.0``, go in ``layers.0``: a loss over many examples then opens as a
  few columns of per-example nodes, not one tall column of inputs);
- at the top, when the nodes made outside a model's modules would be more than
  ``FRAME_BUDGET`` items (a loss over a batch), the boxes a summary drawing makes of
  them (:mod:`autograd_scalar.draw.summary`): one per op done alike on every example
  (``in parallel: - ×60``), one per running total (Python's ``sum``: ``running sum``),
  and the examples' inputs by the module that reads them (``inputs of layers.0``);
  the output stays a node of its own, in view when the graph opens;
- inside any group (and at the top) with more than ``FRAME_BUDGET`` items, runs of
  consecutive items in reading order (``nodes 1-120``), so that no group ever
  shows more than that many items and each is laid out quickly.

Every group is laid out on its own (:mod:`autograd_scalar.explorer.positions`),
so a 20,000-node graph is a few hundred small layouts rather than one huge one.

Nodes come in reading order (:func:`autograd_scalar.draw.reading.reading_order`,
the drawings' order: inputs and weights by index, neuron 0's subgraph before
neuron 1's), and every group lists its items in that order, so each box is laid
out as the drawings lay theirs out, first on top. What each node carries is
:mod:`autograd_scalar.explorer.records`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backward import value_list
from ..draw.graph import Options
from ..draw.reading import home_scope, module_path, parent_module, reading_order_of
from ..draw.summary import Box, chains, collapse_parallel
from ..value import Value

FRAME_BUDGET = 120
"""The most items one group shows when expanded (larger ones are split into runs)."""


@dataclass(eq=False)
class Group:
    """A box of the view: a module, a run of nodes, or the whole graph (``key`` "")."""

    key: str
    title: str
    parent: Group | None
    items: list[Value | Group] = field(default_factory=list)
    size: int = 0

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1


@dataclass
class Graph:
    """The nodes in reading order (each after its inputs), their groups and where each sits."""

    order: list[Value]
    top: Group
    groups: list[Group]
    home: dict[Value, Group]
    outputs: list[Value]


def outputs_of(target: Any) -> tuple[list[Value], Any]:
    """The Values to show and the check_graph report, if ``target`` is one."""
    if hasattr(target, "failures") and hasattr(target, "output"):
        if not isinstance(target.output, Value):
            raise ValueError("explore: this check_graph report does not know its output "
                             "Value; pass the Value and highlight=report instead")
        return [target.output], target
    values = value_list(target, "explore", "the root", "root {}", empty=False,
                        expected="a Value, a list of Values or a check_graph report")
    return list(dict.fromkeys(values)), None


def graph_of(outputs: list[Value], options: Options) -> Graph:
    """Every node behind ``outputs`` in reading order, grouped by module and then into runs."""
    order = reading_order_of(outputs)
    scopes, readers = module_of(order, options)
    top = Group("", "graph", None)
    modules: dict[str, Group] = {"": top}

    def module(scope: str) -> Group:
        group = modules.get(scope)
        if group is None:
            parent = module(parent_module(scope))
            group = modules[scope] = Group(scope, scope, parent)
            parent.items.append(group)
        return group

    batch = batch_groups(order, scopes, readers, outputs, top)
    home: dict[Value, Group] = {}
    for node in order:
        in_batch = batch.get(node)
        group = in_batch or module(scopes[node])
        if in_batch is not None and group.parent is top and not group.items:
            top.items.append(group)  # a batch's box, where its first node comes (a module's
            # box is placed by module() when made)
        group.items.append(node)
        home[node] = group
    groups: list[Group] = []
    split_runs(top, groups, home)
    for group in reversed(groups):
        group.size = sum(1 if isinstance(i, Value) else i.size for i in group.items)
    return Graph(order, top, groups, home, outputs)


def batch_groups(order: list[Value], scopes: dict[Value, str], readers: dict[Value, set[str]],
                 outputs: list[Value], top: Group) -> dict[Value, Group]:
    """The box (a group in ``top``, still empty) of each of a batch's nodes outside
    modules that goes in one (see the module docstring); none when those nodes fit one
    box of FRAME_BUDGET items, or when there is no module (a graph of plain Values keeps
    its runs). ``readers``: the modules that read each leaf made outside them
    (:func:`module_of`). Only the nodes outside modules are walked."""
    head = {scope: module_path(scope)[0] for scope in set(scopes.values()) if scope}
    outside = [node for node in order if not scopes[node]]
    if not head or len(outside) + len(set(head.values())) <= FRAME_BUDGET:
        return {}  # no model, or nothing to gather: no walk either
    modules = {name: Box("scope", name) for name in set(head.values())}
    owner: dict[Value, object] = {node: modules[head[scopes[node]]] if scopes[node] else node
                                  for node in order}
    pinned, made = set(outputs), []
    for box in chains(outside, set(outside), pinned):
        if box.kind == "running":
            made.append(box)
            for node in box.members:
                owner[node] = box
    collapse_parallel(outside, owner, pinned)
    made += [box for box in dict.fromkeys(owner[node] for node in outside)
             if isinstance(box, Box) and box.kind == "parallel"]
    home: dict[Value, Group] = {}
    for k, box in enumerate(made):
        group = Group(f"#{box.kind}.{k}", f"{box.what()}: {box.op_counts(2, leaves=False)}",
                      top)
        home.update((node, group) for node in box.members)
    inputs: dict[str, Group] = {}
    for leaf in outside:
        found = {head.get(scope, "") for scope in readers.get(leaf, ())}
        if leaf.children or leaf in home or leaf in pinned or len(found) != 1 or "" in found:
            continue
        (name,) = found
        if name not in inputs:
            inputs[name] = Group(f"#inputs.{name}", f"inputs of {name}", top)
        home[leaf] = inputs[name]
    return home


def module_of(order: list[Value], options: Options
              ) -> tuple[dict[Value, str], dict[Value, set[str]]]:
    """Each node's module, and the modules that read each leaf made outside any.

    A node's module: where it was made, where its parameter name puts it, or, for
    an unnamed leaf, the one module its users were made in, or else the innermost
    module around all of them (``layers.0`` for ``layers.0.neurons.0`` and
    ``layers.0.neurons.1``; "" if none). The last only while that module's box stays
    within FRAME_BUDGET items: the inputs of thousands of examples would only be cut
    into runs there, so they stay where they are."""
    scopes = {node: home_scope(node, options.names) for node in order}
    users: dict[Value, set[str]] = {}
    for node in order:
        scope = scopes[node]
        for child in node.children:
            if not scopes[child] and not child.children:
                users.setdefault(child, set()).add(scope)
    shared: dict[Value, str] = {}
    innermost: dict[frozenset[str], str] = {}  # leaves used alike share the answer
    for leaf, found in users.items():
        if len(found) == 1:
            scopes[leaf] = next(iter(found))
            continue
        key = frozenset(found)
        if key not in innermost:
            paths = [module_path(scope) for scope in found]
            around = [boxes[0] for boxes in zip(*paths) if len(set(boxes)) == 1]
            innermost[key] = around[-1] if around else ""
        if innermost[key]:
            shared[leaf] = innermost[key]
    items = Counter(scopes.values())
    items.update(parent_module(scope) for scope in set(scopes.values()) if scope)
    items.update(shared.values())
    for leaf, scope in shared.items():
        if items[scope] <= FRAME_BUDGET:
            scopes[leaf] = scope
    return scopes, users


def split_runs(group: Group, groups: list[Group], home: dict[Value, Group]) -> None:
    """Number the groups depth first; split any group of more than FRAME_BUDGET items
    into runs of consecutive items (runs of runs when there are very many)."""
    groups.append(group)
    while len(group.items) > FRAME_BUDGET:
        count = math.ceil(len(group.items) / FRAME_BUDGET)
        width = math.ceil(len(group.items) / count)
        runs: list[Value | Group] = []
        for start in range(0, len(group.items), width):
            run = Group(f"{group.key}#{len(groups)}.{len(runs)}.{start}", "", group,
                        group.items[start:start + width])
            for item in run.items:
                if isinstance(item, Value):
                    home[item] = run
                else:
                    item.parent = run
            runs.append(run)
        group.items = list(runs)
    for item in group.items:
        if isinstance(item, Group):
            split_runs(item, groups, home)


def run_titles(graph: Graph, index: dict[Value, int]) -> None:
    """A run is titled by the ids of the nodes it holds (their places in reading order,
    as the nodes show them and search finds them), as spans of consecutive ids:
    ``nodes n240-n359``, or ``nodes n0-n63, n4402-n4456`` for a run of a module's weights
    and what it computes from them, and past two spans the first and the last with an
    ellipsis between (a single range from the first id to the last would claim the ids
    of other boxes between them)."""
    ids: dict[int, list[int]] = {}  # a group's nodes' ids, subgroups first
    for group in reversed(graph.groups):
        found = [index[item] for item in group.items if not isinstance(item, Group)]
        for item in group.items:
            if isinstance(item, Group):
                found.extend(ids[id(item)])
        ids[id(group)] = found
    for group in reversed(graph.groups):
        if group.title:
            continue
        group.title = "nodes " + id_spans(ids[id(group)]) if ids[id(group)] else "nodes"
        parent = group.parent
        if parent is not None and parent.key and parent.title and not parent.key.startswith("#"):
            group.title = f"{parent.title}: {group.title}"  # a module's runs say whose


def id_spans(numbers: list[int]) -> str:
    """Node ids as spans of consecutive ones: ``n3-n7, n12``; past two spans the first,
    an ellipsis and the last (``n0-n63, …, n9000-n9010``)."""
    spans: list[list[int]] = []
    for k in sorted(numbers):
        if spans and k == spans[-1][1] + 1:
            spans[-1][1] = k
        else:
            spans.append([k, k])
    text = [f"n{a}" if a == b else f"n{a}-n{b}" for a, b in spans]
    return ", ".join(text) if len(text) <= 2 else f"{text[0]}, \u2026, {text[-1]}"


class Edges:
    """Each group's edges between its items: (from item, to item) -> how many edges, by
    the group's id and the items' ids (what :func:`~autograd_scalar.explorer.positions.lay_out`
    takes), made for the groups asked for.

    An edge between two nodes belongs to the innermost group holding both; there it
    joins the two items (a node, or the subgroup holding it) that contain its ends.
    Every edge's group and items are found at once on NumPy arrays (``kids``, ``arity``:
    the children's numbers of each node in turn, and how many each has), each pair of
    homes compared once; a group's counts are taken when first asked for, its pairs in
    the order the edges come (node by node in reading order, children in order).
    """

    def __init__(self, graph: Graph, kids: np.ndarray, arity: np.ndarray) -> None:
        self.graph = graph
        count = len(graph.groups)
        number = {id(group): g for g, group in enumerate(graph.groups)}
        parent_of = np.array([number[id(g.parent)] if g.parent is not None else -1
                              for g in graph.groups], dtype=np.int64)
        depth = np.array([g.depth for g in graph.groups], dtype=np.int64)
        home = np.fromiter((number[id(graph.home[node])] for node in graph.order), np.int64,
                           len(graph.order))
        child = kids.astype(np.int64)
        parent = np.repeat(np.arange(len(arity), dtype=np.int64), arity)
        # items as codes: node k is count + k, group g is count - 1 - g (both >= 0)
        low, up = count + child, count + parent
        group, other = home[parent], home[child]
        split = np.flatnonzero(group != other)
        if split.size:
            # for each pair of homes, climb from both to the innermost group holding
            # both, keeping the group passed last on each side: the items joined there
            pairs, inverse = _distinct(other[split] * count + group[split], count * count)
            a, b = pairs // count, pairs % count
            below_a, below_b = np.full_like(a, -1), np.full_like(b, -1)
            for deeper, shallower, below in ((a, b, below_a), (b, a, below_b)):
                while True:
                    m = np.flatnonzero(depth[deeper] > depth[shallower])
                    if not m.size:
                        break
                    below[m] = deeper[m]
                    deeper[m] = parent_of[deeper[m]]
            while True:
                m = np.flatnonzero(a != b)
                if not m.size:
                    break
                below_a[m], below_b[m] = a[m], b[m]
                a[m], b[m] = parent_of[a[m]], parent_of[b[m]]
            group[split] = a[inverse]
            below_a, below_b = below_a[inverse], below_b[inverse]
            low[split] = np.where(below_a >= 0, count - 1 - below_a, low[split])
            up[split] = np.where(below_b >= 0, count - 1 - below_b, up[split])
        self.group, self.low, self.up = group, low, up
        self.by_group: tuple[np.ndarray, list[int]] | None = None
        self.done: dict[int, dict[tuple[int, int], int]] = {}

    def _edges(self, g: int) -> np.ndarray:
        """The positions of group g's edges, in the order the edges come."""
        if self.by_group is None:
            return np.flatnonzero(self.group == g)
        order, starts = self.by_group
        return order[starts[g]:starts[g + 1]]

    def of(self, numbers: Iterable[int]) -> dict[int, dict[tuple[int, int], int]]:
        """The edges of the groups ``numbers``, by group id (as lay_out takes them)."""
        graph, count = self.graph, len(self.graph.groups)

        def item(code: int) -> int:
            return id(graph.order[code - count] if code >= count
                      else graph.groups[count - 1 - code])

        wanted = list(numbers)
        if self.by_group is None and len(wanted) > _SCANS:  # many groups: sort once
            order = np.argsort(self.group, kind="stable")
            starts = np.searchsorted(self.group[order], np.arange(count + 1)).tolist()
            self.by_group = order, starts
        found = {}
        for g in wanted:
            if g not in self.done:
                at = self._edges(g)
                low, up = self.low[at], self.up[at]
                keys = low * (count + len(graph.order)) + up
                _, first, counts = np.unique(keys, return_index=True, return_counts=True)
                ordered = np.argsort(first, kind="stable")
                self.done[g] = {
                    (item(a), item(b)): n for a, b, n in zip(
                        low[first[ordered]].tolist(), up[first[ordered]].tolist(),
                        counts[ordered].tolist())}
            found[id(graph.groups[g])] = self.done[g]
        return found


def _distinct(codes: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``codes`` (all in [0, bound)), sorted, and where each code
    is among them: by a table of ``bound`` entries when that is small, else by sorting."""
    if bound > _TABLE:
        pairs, inverse = np.unique(codes, return_inverse=True)
        return pairs, inverse.ravel()
    present = np.zeros(bound, dtype=bool)
    present[codes] = True
    pairs = np.flatnonzero(present)
    where = np.empty(bound, dtype=np.int64)
    where[pairs] = np.arange(len(pairs))
    return pairs, where[codes]


_TABLE = 1 << 22
"""The largest table :func:`_distinct` makes (4M entries, 36 MB at most, for a short while)."""
_SCANS = 32
"""Up to this many groups asked for at once are found by a scan of all edges each;
more, by sorting the edges by group once."""
