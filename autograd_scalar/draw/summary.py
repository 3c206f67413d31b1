"""Which parts of a graph to draw, within a budget of boxes.

A drawing of a few hundred nodes is the most a person can read, and laying out
more takes Graphviz longer than anyone wants to wait. So the graph is explored
breadth-first from the output, and never further than a fixed number of nodes
(a million-node graph costs the same as a ten-thousand-node one). If everything
fits in the budget it is drawn node by node. Otherwise it is summarised, coarser
step by step until it fits:

1. chains of single-use nodes (each node the only input of the next) become one box,
   and so do running totals (a Python ``sum`` of a batch's terms: one add per term);
2. the nodes made inside nn modules become one box per module, from the innermost
   scopes (neurons) outwards (layers) until the count fits; at each step a module
   less deep than the cut is boxed whole (a model's embedding beside its blocks' parts).
   Nodes outside modules that apply the same op to inputs drawn alike (the same box or
   node, or a constant of their own) become one box "in parallel": a batch's loss terms
   ``(out_i - y_i) ** 2`` are one box of subtractions and one of squares;
3. what is still over the budget, farthest from the output first, is left out, and
   the drawn nodes that had inputs left out get a small "... not drawn" stub (stubs
   count against the budget too). The output and any highlighted node stay visible.

Every box and the note on the drawing say how many nodes they stand for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from ..value import Value
from .reading import module_path, parent_module

EXPLORE_FACTOR = 20
EXPLORE_MINIMUM = 5000
SHORTEST_CHAIN = 3
MOST_INPUTS = 10_000
RUNNING_NAMES = {"+": "sum", "*": "product"}
"""What a running total of these ops is called (others: "running <op>")."""


@dataclass(eq=False)
class Box:
    """Several nodes drawn as one: a chain, a running total, a module's nodes, nodes
    in parallel, or inputs left out."""

    kind: str
    scope: str
    members: list[Value] = field(default_factory=list)
    hidden_inputs: int = 0
    part: str = ""

    def what(self) -> str:
        """What the box is, as its label says: "chain", "running sum", "in parallel",
        "module layers.0" (", part 1 of 2")."""
        if self.kind == "running":
            op = self.members[0].op
            return f"running {RUNNING_NAMES.get(op, op)}"
        what = {"chain": "chain", "parallel": "in parallel"}.get(self.kind, f"module {self.scope}")
        return what + (f", part {self.part}" if self.part else "")

    def op_counts(self, most: int = 3, leaves: bool = True) -> str:
        """The commonest ops among the members, each as its nodes' corners show it (``^2``,
        ``w·x+b``), and how many of each ("- ×60, leaf ×60"); without ``leaves``, the ops
        alone (a batch's constants go unsaid)."""
        counts = Counter(node.row.shown if node.row is not None else node.op or "leaf"
                         for node in self.members if leaves or node.op)
        shown = ", ".join(f"{op} ×{n:,}" for op, n in counts.most_common(most))
        return shown + (", ..." if len(counts) > most else "")



@dataclass
class Plan:
    """What to draw: nodes one by one, boxes, the edges between them, and the counts."""

    nodes: list[Value]
    boxes: list[Box]
    edges: list[tuple[object, object, int]]
    explored: int
    complete: bool
    summarised: bool

    @property
    def drawn(self) -> int:
        return len(self.nodes)

    @property
    def boxed(self) -> int:
        return sum(len(box.members) for box in self.boxes if box.kind != "stub")

    def note(self, budget: int) -> str:
        """One line that says what the summary left out, for the drawing's caption."""
        if not self.summarised:
            return ""
        total = f"{self.explored:,}" if self.complete else f"more than {self.explored:,}"
        hidden = self.explored - self.drawn
        hidden_text = f"{hidden:,}" if self.complete else f"at least {hidden + 1:,}"
        boxes = sum(b.kind != "stub" for b in self.boxes)
        inside = (f" ({self.boxed:,} of them inside {boxes:,} collapsed "
                  f"box{'es' if boxes != 1 else ''})") if boxes else ""
        return (f"Summary of a graph of {total} nodes (budget {budget:,} boxes): "
                f"{self.drawn:,} drawn one by one, {hidden_text} hidden{inside}")


def explore(root: Value, limit: int) -> tuple[list[Value], set[Value], bool]:
    """Up to ``limit`` nodes breadth-first from ``root``; also whether that was all of them."""
    order = [root]
    seen = {root}
    position = 0
    while position < len(order):
        node = order[position]
        position += 1
        for child in node.children:
            if child in seen:
                continue
            if len(order) >= limit:
                return order, seen, False
            seen.add(child)
            order.append(child)
    return order, seen, True


def inputs(node: Value) -> Iterable[Value]:
    """A node's inputs, at most ``MOST_INPUTS`` of them (a sum may have a million)."""
    return islice(node.children, MOST_INPUTS)


def plan(root: Value, budget: int, keep: Iterable[Value] = ()) -> Plan:
    """Decide what to draw for ``root`` within ``budget`` boxes (see the module doc)."""
    order, seen, complete = explore(root, budget + 1)
    if complete and len(order) <= budget:
        return Plan(order, [], [], len(order), True, False)
    order, seen, complete = explore(root, max(EXPLORE_FACTOR * budget, EXPLORE_MINIMUM))
    return summarise(root, order, seen, complete, budget, set(keep))


def summarise(root: Value, order: list[Value], seen: set[Value], complete: bool,
              budget: int, keep: set[Value]) -> Plan:
    """Coarsen the explored nodes until at most ``budget`` boxes remain."""
    pinned = keep | {root}
    owner: dict[Value, object] = {node: node for node in order}
    for box in chains(order, seen, pinned):
        for node in box.members:
            owner[node] = box
    if count_items(order, owner) > budget:
        collapse_parallel(order, owner, pinned)
        # every depth at which a module's box can stand (layers.0 and layers.0.neurons.3,
        # not layers.0.neurons, which names a list): so a model too big as neurons is
        # drawn as its layers, not as the neurons nearest the output
        depths = sorted({module.count(".") + 1 for node in order if node.scope
                         for module in module_path(node.scope)}, reverse=True)
        for depth in depths:
            if count_items(order, owner) <= budget:
                break
            collapse_scopes(order, owner, pinned, depth)
            collapse_parallel(order, owner, pinned)
        split_loops(order, owner)
    items = list(dict.fromkeys([root, *(n for n in order if n in pinned),
                                *(owner[n] for n in order)]))
    keep_count = min(len(items), budget)
    while True:
        layout = assemble(order, seen, owner, set(items[:keep_count]), complete)
        excess = len(layout.nodes) + len(layout.boxes) - budget
        if excess <= 0 or keep_count == 1:
            return layout
        keep_count = max(1, keep_count - max(1, excess // 2))


def chains(order: list[Value], seen: set[Value], pinned: set[Value]) -> list[Box]:
    """Runs of at least ``SHORTEST_CHAIN`` single-use nodes, each boxed whole (none of
    them pinned, all in one scope):

    - a chain: each node the only input of the next (``x.exp().log().tanh()``);
    - a running total: nodes of one op, each the one input of the next that has that
      op, beside inputs of their own (``sum(terms)`` in Python adds term after term:
      ``((t0 + t1) + t2) + ...``), so the terms feed one box instead of a row of sums
      as long as the batch.
    """
    users = Counter(child for node in order for child in inputs(node) if child in seen)

    def single_use(child: Value, node: Value) -> bool:
        return (child in seen and users[child] == 1 and child not in pinned
                and child.scope == node.scope)

    below: dict[Value, Value] = {}
    for node in order:
        if len(node.children) == 1 and node not in pinned \
                and single_use(node.children[0], node):
            below[node] = node.children[0]
    found = [Box("chain", run[0].scope, run) for run in runs(below)]
    boxed = {node for box in found for node in box.members}
    totals: dict[Value, Value] = {}
    for node in order:
        if len(node.children) < 2 or node in pinned or node in boxed:
            continue
        same = [child for child in inputs(node) if child.op == node.op
                and len(child.children) >= 2 and child not in boxed]
        if len(same) == 1 and single_use(same[0], node):
            totals[node] = same[0]
    found += [Box("running", run[0].scope, run) for run in runs(totals)]
    return found


def runs(below: dict[Value, Value]) -> list[list[Value]]:
    """The maximal runs of ``node, below[node], below[below[node]], ...`` at least
    ``SHORTEST_CHAIN`` long (each node below at most one other)."""
    above = set(below.values())
    found = []
    for top in below:
        if top in above:
            continue
        run = [top]
        while run[-1] in below:
            run.append(below[run[-1]])
        if len(run) >= SHORTEST_CHAIN:
            found.append(run)
    return found


def collapse_scopes(order: list[Value], owner: dict[Value, object], pinned: set[Value],
                    depth: int) -> None:
    """Put every node into its module's box, cut to ``depth`` scopes: a node deeper than
    that joins its depth-``depth`` ancestor's box, a shallower one its own module's box
    (so a model's top-level modules are boxed while its blocks still show their parts)."""
    boxes: dict[str, Box] = {}
    for item in set(owner.values()):
        if isinstance(item, Box) and item.kind == "scope":
            boxes[item.scope] = item
    for node in order:
        if node in pinned or not node.scope:
            continue
        name = ".".join(node.scope.split(".")[:depth])
        box = boxes.get(name)
        if box is None:
            box = boxes[name] = Box("scope", name)
        owner[node] = box
    absorb_leaves(order, owner, pinned)
    for box in boxes.values():
        box.members = [node for node in order if owner[node] is box]


def collapse_parallel(order: list[Value], owner: dict[Value, object],
                      pinned: set[Value]) -> None:
    """Box the nodes outside modules that apply the same op to the same sources: each
    input the same box or node, or a constant used by that node alone. Boxing one rank
    (the subtractions of a batch) makes the next one alike (their squares), so the pass
    repeats until nothing more joins; constants then join their box."""
    users = Counter(child for node in order for child in inputs(node) if child in owner)

    def source(child: Value) -> object:
        home = owner.get(child)
        if isinstance(home, Box):
            return id(home)
        if home is not None and not child.children and users[child] == 1 \
                and child not in pinned:
            return "constant"
        return id(child)

    made: list[Box] = []
    while True:
        alike: dict[tuple[object, ...], list[Value]] = {}
        for node in order:
            if node.children and not node.scope and node not in pinned \
                    and owner[node] is node:
                key = (node.op, len(node.children), *map(source, inputs(node)))
                alike.setdefault(key, []).append(node)
        groups = [members for members in alike.values() if len(members) > 1]
        if not groups:
            break
        for members in groups:
            box = Box("parallel", "", members)
            made.append(box)
            for node in members:
                owner[node] = box
    absorb_leaves(order, owner, pinned)
    for box in made:
        box.members = [node for node in order if owner[node] is box]


def explored_inputs_first(order: list[Value], owner: dict[Value, object]) -> list[Value]:
    """The explored nodes, each after its explored inputs (an iterative depth-first walk
    that, unlike :func:`autograd_scalar.forward.inputs_first`, never leaves them)."""
    done: set[Value] = set()
    found: list[Value] = []
    for start in order:
        if start in done:
            continue
        stack = [(start, iter(inputs(start)))]
        done.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                found.append(node)
            elif child in owner and child not in done:
                done.add(child)
                stack.append((child, iter(inputs(child))))
    return found


def split_loops(order: list[Value], owner: dict[Value, object]) -> None:
    """Split a module's box that would feed and be fed by the same other boxes.

    A module's own nodes boxed whole beside the boxes of its parts (a transformer
    block's two residual adds, one after its attention and one after its MLP) make one
    box both before and after those parts: a loop drawn in a graph that has none. Such
    a box becomes one box per stage, "part 1 of 2", "part 2 of 2": a node's stage is
    one more than the latest stage of the box that reaches it through other boxes (the
    box's own inputs and parameters go with the first stage that uses them).
    """
    topo = explored_inputs_first(order, owner)

    def box_of(node: Value) -> Box | None:
        home = owner.get(node)
        return home if isinstance(home, Box) and home.kind == "scope" else None

    after: dict[Value, frozenset[int]] = {}
    looped: dict[int, Box] = {}
    for node in topo:
        mine, found = box_of(node), set[int]()
        for child in inputs(node):
            if child in after:
                found |= after[child]
                theirs = box_of(child)
                if theirs is not None and theirs is not mine:
                    found.add(id(theirs))
        after[node] = frozenset(found)
        if mine is not None and id(mine) in found:
            looped[id(mine)] = mine
    for box in looped.values():
        stage: dict[Value, int] = {}
        reach: dict[Value, int] = {}
        for node in topo:
            inside = [stage[c] for c in inputs(node) if c in stage]
            outside = [reach[c] for c in inputs(node) if c in reach and c not in stage]
            if box_of(node) is box and node.children:
                stage[node] = max([*inside, *(r + 1 for r in outside if r >= 0), 0])
                reach[node] = stage[node]
            else:
                reach[node] = max([*inside, *outside, -1])
        first: dict[Value, int] = {}  # inputs and parameters: with the first stage using them
        for user in box.members:
            if user in stage:
                for child in inputs(user):
                    if child not in stage:
                        first[child] = min(first.get(child, stage[user]), stage[user])
        for node in box.members:
            stage.setdefault(node, first.get(node, 0))
        count = max(stage.values(), default=0) + 1
        parts = [Box("scope", box.scope, [], part=f"{k + 1} of {count}") for k in range(count)]
        for node in box.members:
            parts[stage[node]].members.append(node)
            owner[node] = parts[stage[node]]


def absorb_leaves(order: list[Value], owner: dict[Value, object], pinned: set[Value]) -> None:
    """A leaf used only inside one module's box (its weights and bias) joins that box,
    and moves on with the box's nodes when they join an enclosing module's box.

    Parameters are made outside any call, so they carry no scope of their own.
    """
    homes: dict[Value, set[int]] = {}
    boxes: dict[int, object] = {}
    for node in order:
        home = owner[node]
        for child in inputs(node):
            if not child.children and child not in pinned and child in owner:
                homes.setdefault(child, set()).add(id(home))
                boxes[id(home)] = home
    for leaf, found in homes.items():
        home, now = boxes[next(iter(found))], owner[leaf]
        if len(found) != 1 or not isinstance(home, Box) or home is now:
            continue
        if now is leaf or (isinstance(now, Box) and now.kind == home.kind == "scope"
                           and now.scope.startswith(home.scope + ".")):
            owner[leaf] = home
            home.members.append(leaf)


def count_items(order: list[Value], owner: dict[Value, object]) -> int:
    return len({id(owner[node]) for node in order})


def assemble(order: list[Value], seen: set[Value], owner: dict[Value, object],
             kept: set[object], complete: bool) -> Plan:
    """The drawn items and the edges between them; cut inputs become one stub per item."""
    edges: Counter[tuple[object, object]] = Counter()
    stubs: dict[int, Box] = {}
    for node in order:
        target = owner[node]
        if target not in kept:
            continue
        cut = max(0, len(node.children) - MOST_INPUTS)
        for child in inputs(node):
            source = owner.get(child) if child in seen else None
            if source is not None and source in kept:
                if source is not target:
                    edges[(source, target)] += 1
            else:
                cut += 1
        if cut:
            stub = stubs.get(id(target))
            if stub is None:  # beside its target: a module's box is inside the module around it
                home = parent_module(target.scope) if isinstance(target, Box) \
                    and target.kind == "scope" else getattr(target, "scope", "")
                stub = stubs[id(target)] = Box("stub", home)
                edges[(stub, target)] += 1
            stub.hidden_inputs += cut
    nodes = [item for item in dict.fromkeys(owner[n] for n in order)
             if item in kept and isinstance(item, Value)]
    boxes = [item for item in dict.fromkeys(owner[n] for n in order)
             if item in kept and isinstance(item, Box)]
    boxes.extend(stubs.values())
    return Plan(nodes, boxes, [(a, b, n) for (a, b), n in edges.items()], len(order),
                complete, True)
