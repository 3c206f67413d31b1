"""diff: where two computation graphs part ways.

``diff(a, b)`` pairs the nodes of ``a`` with those of ``b`` and reports, in the order the
computation happened, every node whose value, local derivatives or gradient differ, and
where the two structures diverge; ``docs/tutorials/check-derivatives.md``, "Comparing
two graphs", shows a report.

Pairing. Both graphs are read in the same deterministic order
(:func:`~autograd_scalar.draw.reading.reading_order`: each node after its inputs,
inputs in operand order), and each node is reduced to a token: its op and number
of inputs, and for a leaf its name (its parameter name when ``names_a`` /
``names_b`` give a model's, else its label). Equal token sequences pair node for
node. Otherwise nodes are paired by content first: a node's content is its op and the
contents of its inputs in order, down to the leaves, named leaves by name and the
others (constants) by value, so that a subgraph such as ``(x * 2).exp()`` has the same
content wherever the graph reads it. A node whose content occurs once in each graph is
an anchor, paired with its counterpart wherever the two graphs read it (a named leaf
is one such): ``p + q`` against ``q + p`` pairs ``p`` with ``p``, and says at ``+``
that its inputs come in another order. The other nodes are aligned as a text diff
aligns lines (the common start and end, then :class:`difflib.SequenceMatcher` in
between). A run of one graph that replaces a run of the other is aligned again by op
and number of inputs, then by number of inputs alone (a user's ``Function`` standing
for a built-in row still pairs). Very long runs that differ are paired by occurrence
instead, in linear time. Labels of op nodes are not compared.

Numbers. Two numbers x (in a) and y (in b) agree when
|x - y| <= atol + rtol * max(|x|, |y|) (NaN agrees with NaN).

Order and origins. Rows come in the order of the computation: the forward pass's
differences (structure, values, local derivatives) in reading order, then the
backward pass's (gradients) in reverse reading order. A row is an ``origin`` when its
node's inputs agree (for a value or a local derivative) or its users agree (for a
gradient): the difference starts there.

A leaf shared by both graphs (a model's parameter, read before and after an
optimizer step) is one object holding its newest number, so it agrees with itself
and the difference shows first at the nodes that read it. To see the parameters
differ too, build ``b`` from a copy of the model (``load_state_dict`` of the
other's ``state_dict()``) and pass both models as ``names_a`` and ``names_b``.
"""

from __future__ import annotations

import difflib
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..backward import value_list
from ..draw.reading import display_name, parameter_names, reading_order_of
from ..validate import flag
from ..value import Value
from .check_graph import format_table, html_table, stored_number, tolerance
from .differences import close

Token = tuple[str, int, str]
Pair = tuple["Value | None", "Value | None"]

SHOWN_ROWS = 20
"""Rows printed by ``str(report)`` and shown under the interactive view (all are in
``report.rows``)."""


@dataclass(frozen=True)
class Difference:
    """One row of a diff: at one node, one thing that differs between ``a`` and ``b``.

    - ``name``: the node as the table shows it, ``#7 tanh`` (its place in reading
      order, ``#7 (b: #9)`` when the graphs place it differently, then its op and
      name).
    - ``what``: ``value``, ``d/d input j`` (the local derivative for input j),
      ``gradient``, ``op`` (paired nodes made by different ops), ``input j`` (the
      inputs are not paired nodes), ``input order`` (the inputs are paired, but come
      in another order: ``b`` lists b's as the nodes of a they pair with), ``name``
      (paired leaves of different names), ``only in a`` or ``only in b``.
    - ``a``, ``b``: the two numbers, or for a structural row the two descriptions
      (None where one graph has no such node).
    - ``difference``: a - b for numbers, None otherwise.
    - ``node_a``, ``node_b``: the Values (None where a graph has no such node).
    - ``origin``: True where the difference starts (the node's inputs agree, or for
      a gradient its users do), False where it follows from an earlier row.
    """

    name: str
    what: str
    a: float | str | None
    b: float | str | None
    difference: float | None
    node_a: Value | None
    node_b: Value | None
    origin: bool

    @property
    def structural(self) -> bool:
        """True for a row about the graphs' structure rather than their numbers."""
        return self.difference is None


@dataclass
class DiffReport:
    """The result of :func:`diff`.

    ``ok`` is True when the graphs pair completely and every number agrees.
    ``rows`` lists every :class:`Difference` in the order of the computation;
    ``first`` is the first of them (None when ``ok``); ``origins`` the rows where a
    difference starts; ``structure`` the rows about the graphs' structure. ``paired``
    counts the nodes paired, ``nodes_a`` and ``nodes_b`` the nodes of each graph.
    ``explore(b, highlight=report)`` marks the origins' nodes in red.
    """

    rows: list[Difference]
    paired: int
    nodes_a: int
    nodes_b: int
    rtol: float
    atol: float
    grads: bool
    a: list[Value]
    b: list[Value]

    @property
    def ok(self) -> bool:
        return not self.rows

    @property
    def first(self) -> Difference | None:
        return self.rows[0] if self.rows else None

    @property
    def origins(self) -> list[Difference]:
        return [row for row in self.rows if row.origin]

    @property
    def structure(self) -> list[Difference]:
        """The rows about structure (``only in``, ``op``, ``name``, ``input j``,
        ``input order``), where the two graphs stop being the same computation."""
        return [row for row in self.rows if row.structural]

    def highlighted(self) -> set[Value]:
        """The nodes, of either graph, where a difference starts: what drawings mark."""
        return {node for row in self.origins for node in (row.node_a, row.node_b)
                if node is not None}

    def summary(self) -> str:
        """One line: whether the graphs agree, and if not, the first difference."""
        compared = "values, local derivatives" + (" and gradients" if self.grads else "")
        if self.ok:
            return (f"diff: no difference: {self.paired:,} nodes paired, their {compared} "
                    "agree")
        first = self.rows[0]
        starts = len(self.origins)
        said = f"{first.what}" if first.a is None or first.b is None else \
            f"{first.what} {_cell(first.a)} in a, {_cell(first.b)} in b"
        return (f"diff: {len(self.rows):,} difference{'s' if len(self.rows) != 1 else ''} "
                f"({starts} where a difference starts) over {self.paired:,} paired nodes; "
                f"first: {first.name}, {said}")

    def table(self, limit: int | None = SHOWN_ROWS) -> list[tuple[str, ...]]:
        """The rows as text, header first: node, what, a, b, a - b and a mark on the
        rows where a difference starts; at most ``limit`` rows (None: all)."""
        header = ("node", "what", "a", "b", "a - b", "")
        shown = self.rows if limit is None else self.rows[:limit]
        table: list[tuple[str, ...]] = [header]
        for row in shown:
            table.append((row.name, row.what, _cell(row.a), _cell(row.b),
                          "" if row.difference is None else f"{row.difference:.3g}",
                          "<-- starts here" if row.origin else ""))
        return table

    def __str__(self) -> str:
        lines = [self.summary(),
                 f"(numbers agree when |a - b| <= atol + rtol * max(|a|, |b|); "
                 f"rtol={self.rtol:g}, atol={self.atol:g}; a: {self.nodes_a:,} nodes, "
                 f"b: {self.nodes_b:,} nodes)"]
        structure = self.structure
        if structure:
            first = structure[0]
            lines.append(f"the structures differ in {len(structure):,} "
                         f"row{'s' if len(structure) != 1 else ''}, first at {first.name}: "
                         f"{first.what}")
        if self.rows:
            lines.append("")
            lines.extend(format_table(self.table()))
        if len(self.rows) > SHOWN_ROWS:
            lines.append(f"  ... and {len(self.rows) - SHOWN_ROWS:,} more rows "
                         "(report.rows has them all)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<DiffReport ok={self.ok} rows={len(self.rows)} origins={len(self.origins)} "
                f"paired={self.paired}>")

    def _repr_html_(self) -> str:
        more = (f"<p>... and {len(self.rows) - SHOWN_ROWS:,} more rows (report.rows has them "
                "all)</p>" if len(self.rows) > SHOWN_ROWS else "")
        return html_table(self.summary(), self.table(), lambda row: bool(row[-1]), more)


def diff(a: Value | Sequence[Value], b: Value | Sequence[Value], *, rtol: float = 1e-9,
         atol: float = 1e-12, grads: bool = True, names_a: Any = None,
         names_b: Any = None) -> DiffReport:
    """Compare the graph behind ``a`` with the graph behind ``b``, node by node.

    ``a`` and ``b`` are Values, or lists of as many Values (a model's outputs),
    whose graphs are read in order. ``rtol`` and ``atol`` set when two numbers agree;
    ``grads=False`` compares values and local derivatives only (for graphs that have
    not been through ``backward()``, or not the same one). ``names_a`` / ``names_b``
    name the parameters of each graph, as ``draw_graph``'s ``names`` (a model, or
    (name, Value) pairs): leaves are then paired by parameter name.

    Returns a :class:`DiffReport`: ``report.ok``, ``report.first`` (the first
    difference, in the order of the computation), ``report.rows``; it prints as a
    table and ``explore(b, highlight=report)`` marks where differences start.
    """
    outputs_a, outputs_b = (value_list(x, "diff", which, f"{which}[{{}}]", empty=False)
                            for x, which in ((a, "a"), (b, "b")))
    if len(outputs_a) != len(outputs_b):
        raise ValueError(f"diff: a has {len(outputs_a)} outputs and b has {len(outputs_b)}; "
                         "expected as many in each")
    rtol, atol = tolerance("rtol", rtol, "diff"), tolerance("atol", atol, "diff")
    flag("grads", grads, who="diff")
    named_a, named_b = parameter_names(names_a, "diff"), parameter_names(names_b, "diff")
    order_a, order_b = reading_order_of(outputs_a), reading_order_of(outputs_b)
    if grads:
        _both_or_neither_backward(outputs_a, outputs_b)
    pairs = _align(order_a, order_b, named_a, named_b)
    comparison = _Comparison(pairs, order_a, order_b, named_a, named_b, rtol, atol)
    rows = comparison.forward_rows()
    if grads:
        rows.extend(comparison.gradient_rows())
    paired = sum(1 for x, y in pairs if x is not None and y is not None)
    return DiffReport(rows, paired, len(order_a), len(order_b), rtol, atol, grads,
                      outputs_a, outputs_b)


# ---------------------------------------------------------------------------
# Checking the arguments
# ---------------------------------------------------------------------------

def _both_or_neither_backward(outputs_a: list[Value], outputs_b: list[Value]) -> None:
    """ValueError when one graph has been through ``backward()`` and the other not, whose
    gradient rows would each read as a difference ("gradient 1 in a, 0 in b") where the
    graphs may well agree. Told by the outputs' grads, which ``backward`` sets (its root
    gets 1): a leaf's may come from another graph over the same leaves."""
    ran = [any(out.grad != 0.0 for out in outputs) for outputs in (outputs_a, outputs_b)]
    if ran[0] != ran[1]:
        which = "b" if ran[0] else "a"
        raise ValueError(f"diff: {which} has no gradients (its outputs' grads are 0) while "
                         f"the other has: run backward() on {which} as on the other, or pass "
                         "grads=False to compare values and local derivatives only")


# ---------------------------------------------------------------------------
# Pairing
# ---------------------------------------------------------------------------

def _token(node: Value, names: Mapping[Value, str]) -> Token:
    """What must agree for two nodes to pair: op, number of inputs, and a leaf's name."""
    return (node.op, len(node.children), "" if node.children else display_name(node, names))


def _align(order_a: list[Value], order_b: list[Value], names_a: Mapping[Value, str],
           names_b: Mapping[Value, str]) -> list[Pair]:
    """The two reading orders merged: (node of a, node of b) for each pair, with None
    for a node the other graph has no partner for, in the order of the computation.

    Equal token sequences pair position by position. Otherwise the anchors (nodes
    whose content occurs once in each graph, see :func:`_contents`) pair by content,
    the other nodes are aligned as sequences, and the anchors are put back at their
    places in ``a``.
    """
    tokens_a = [_token(node, names_a) for node in order_a]
    tokens_b = [_token(node, names_b) for node in order_b]
    if tokens_a == tokens_b:
        return list(zip(order_a, order_b))
    contents: dict[tuple[Any, ...], int] = {}
    anchors = _anchors(order_a, order_b, _contents(order_a, names_a, contents),
                       _contents(order_b, names_b, contents))
    rest_a = [(n, t) for n, t in zip(order_a, tokens_a) if n not in anchors]
    anchored_b = set(anchors.values())
    rest_b = [(n, t) for n, t in zip(order_b, tokens_b) if n not in anchored_b]
    aligned = _align_sequences([n for n, _ in rest_a], [n for n, _ in rest_b],
                               [t for _, t in rest_a], [t for _, t in rest_b])
    place = {node: k for k, node in enumerate(order_a)}
    keyed: list[tuple[float, Pair]] = [(place[x], (x, y)) for x, y in anchors.items()]
    last = -1.0
    for x, y in aligned:  # a node of b alone goes after the node of a aligned before it
        last = place[x] if x is not None else last
        keyed.append((last if x is not None else last + 0.5, (x, y)))
    keyed.sort(key=lambda item: item[0])
    return [pair for _, pair in keyed]


def _contents(order: list[Value], names: Mapping[Value, str],
              known: dict[tuple[Any, ...], int]) -> list[int]:
    """Each node's content as a number, equal for equal contents in both graphs.

    A leaf's content is its name, or its value when it has none (a constant); an op
    node's, its op and its inputs' contents in order. No other value is part of it:
    two graphs that differ in a named leaf's value have the same contents, pair, and
    show the difference as a value. ``known`` numbers the contents seen
    so far (shared by the two graphs); each node is looked up once, after its inputs
    (reading order), so this takes time linear in the graph.
    """
    number: dict[Value, int] = {}
    for node in order:
        if node.children:
            key: tuple[Any, ...] = (node.op, *(number[child] for child in node.children))
        else:
            name = display_name(node, names)
            key = ("", name) if name else ("", "", repr(float(node.data)))
        number[node] = known.setdefault(key, len(known))
    return [number[node] for node in order]


def _anchors(order_a: list[Value], order_b: list[Value], contents_a: list[int],
             contents_b: list[int]) -> dict[Value, Value]:
    """Node of a -> node of b, for each content found exactly once in each graph."""
    def unique(order: list[Value], contents: list[int]) -> dict[int, Value]:
        counts = Counter(contents)
        return {c: n for n, c in zip(order, contents) if counts[c] == 1}

    once_a, once_b = unique(order_a, contents_a), unique(order_b, contents_b)
    return {node: once_b[content] for content, node in once_a.items() if content in once_b}


def _align_sequences(order_a: list[Value], order_b: list[Value], tokens_a: Sequence[Any],
                     tokens_b: Sequence[Any]) -> list[Pair]:
    """Two sequences aligned: the common start and end pair position by position, the
    runs between by :func:`_align_runs`."""
    start = 0
    shorter = min(len(tokens_a), len(tokens_b))
    while start < shorter and tokens_a[start] == tokens_b[start]:
        start += 1
    end = 0
    while end < shorter - start and tokens_a[-1 - end] == tokens_b[-1 - end]:
        end += 1
    stop_a, stop_b = len(order_a) - end, len(order_b) - end
    merged: list[Pair] = list(zip(order_a[:start], order_b[:start]))
    merged.extend(_align_runs(order_a[start:stop_a], order_b[start:stop_b],
                              tokens_a[start:stop_a], tokens_b[start:stop_b]))
    merged.extend(zip(order_a[stop_a:], order_b[stop_b:]))
    return merged


def _align_runs(nodes_a: list[Value], nodes_b: list[Value], tokens_a: Sequence[Any],
                tokens_b: Sequence[Any], level: int = 0) -> list[Pair]:
    """Align two runs of nodes by their tokens, from the strictest match to the loosest.

    Where a run of one graph is replaced by a run of the other, the two are aligned
    again by op and number of inputs alone (so that leaves of different names pair,
    and are reported as such), then by number of inputs alone (so that a node made by
    another op, a user's ``Function`` in place of a built-in row, pairs with the node
    it stands for, and its numbers are compared too).
    """
    if len(tokens_a) * len(tokens_b) > _MATCHER_CELLS:
        return _align_by_occurrence(nodes_a, nodes_b, tokens_a, tokens_b, level)
    matcher = difflib.SequenceMatcher(None, tokens_a, tokens_b, autojunk=False)
    merged: list[Pair] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            merged.extend(zip(nodes_a[i1:i2], nodes_b[j1:j2]))
        elif tag == "replace" and level < len(_LOOSER):
            looser = _LOOSER[level]
            merged.extend(_align_runs(nodes_a[i1:i2], nodes_b[j1:j2],
                                      [looser(n) for n in nodes_a[i1:i2]],
                                      [looser(n) for n in nodes_b[j1:j2]], level + 1))
        else:
            merged.extend((node, None) for node in nodes_a[i1:i2])
            merged.extend((None, node) for node in nodes_b[j1:j2])
    return merged


def _align_by_occurrence(nodes_a: list[Value], nodes_b: list[Value], tokens_a: Sequence[Any],
                         tokens_b: Sequence[Any], level: int) -> list[Pair]:
    """Long runs that differ, aligned in linear time: the k-th node of a with a token
    pairs with the k-th node of b with that token; the nodes left over are aligned
    again one level looser, and what is left then stays unpaired (b's after a's).

    :class:`difflib.SequenceMatcher` takes time quadratic in the runs' lengths when
    their tokens repeat (every node of a layer has the same token), which is minutes
    for two networks of different widths; this pairing takes milliseconds and keeps
    each token's nodes in order.
    """
    waiting: dict[Any, deque[Value]] = {}
    for node, token in zip(nodes_b, tokens_b):
        waiting.setdefault(token, deque()).append(node)
    merged: list[Pair] = []
    left_a: list[Value] = []
    for node, token in zip(nodes_a, tokens_a):
        queue = waiting.get(token)
        if queue:
            merged.append((node, queue.popleft()))
        else:
            left_a.append(node)
    taken = {y for _, y in merged}
    left_b = [node for node in nodes_b if node not in taken]
    if level < len(_LOOSER) and left_a and left_b:
        looser = _LOOSER[level]
        merged.extend(_align_runs(left_a, left_b, [looser(n) for n in left_a],
                                  [looser(n) for n in left_b], level + 1))
    else:
        merged.extend((node, None) for node in left_a)
        merged.extend((None, node) for node in left_b)
    return merged


def _op_and_arity(node: Value) -> tuple[str, int]:
    return node.op, len(node.children)


def _arity(node: Value) -> tuple[bool, int]:
    return bool(node.children), len(node.children)


_LOOSER = (_op_and_arity, _arity)
"""The tokens replaced runs are aligned by again, one level looser each time."""

_MATCHER_CELLS = 4_000_000
"""Runs longer than this product of lengths are aligned by :func:`_align_by_occurrence`."""


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------

def _cell(x: float | str | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.10g}"


def _users(order: list[Value]) -> dict[Value, list[Value]]:
    found: dict[Value, list[Value]] = {}
    for node in order:
        for child in dict.fromkeys(node.children):
            found.setdefault(child, []).append(node)
    return found


class _Comparison:
    """The paired graphs and what differs at each node, built up row by row."""

    def __init__(self, pairs: list[Pair], order_a: list[Value], order_b: list[Value],
                 names_a: Mapping[Value, str], names_b: Mapping[Value, str], rtol: float,
                 atol: float) -> None:
        self.pairs, self.rtol, self.atol = pairs, rtol, atol
        self.names_a, self.names_b = names_a, names_b
        self.index_a = {node: k for k, node in enumerate(order_a)}
        self.index_b = {node: k for k, node in enumerate(order_b)}
        self.partner = {x: y for x, y in pairs if x is not None and y is not None}
        self.partner_b = {y: x for x, y in pairs if x is not None and y is not None}
        self.unpaired: set[Value] = set()  # nodes of either graph with a structural row
        self.value_differs: set[Value] = set()  # nodes of a
        self.local_differs: set[Value] = set()
        self.grad_differs: set[Value] = set()

    def name(self, x: Value | None, y: Value | None) -> str:
        """``#7 tanh``, ``#7 (b: #9) 'x[0]'``, ``#3 (a) mul``: where and what the node is."""
        node = x if x is not None else y
        assert node is not None
        if x is not None and y is not None:
            i, j = self.index_a[x], self.index_b[y]
            where = f"#{i}" if i == j else f"#{i} (b: #{j})"
        elif x is not None:
            where = f"#{self.index_a[x]} (a)"
        else:
            assert y is not None
            where = f"#{self.index_b[y]} (b)"
        names = self.names_a if x is not None else self.names_b
        shown = display_name(node, names)
        what = node.op or "leaf"
        if node.children:
            return f"{where} {what}" + (f" {shown!r}" if shown else "")
        return f"{where} {shown!r}" if shown else f"{where} leaf"

    def describe(self, node: Value, side: str) -> str:
        """``#4 mul 'h'``: a node of graph ``side`` ("a" or "b") by its own place and name."""
        index = (self.index_a if side == "a" else self.index_b)[node]
        shown = display_name(node, self.names_a if side == "a" else self.names_b)
        return f"#{index} {node.op or 'leaf'}" + (f" {shown!r}" if shown else "")

    def inputs_paired(self, x: Value, y: Value) -> bool:
        return all(self.partner.get(cx) is cy for cx, cy in zip(x.children, y.children))

    def forward_rows(self) -> list[Difference]:
        """Structure, values and local derivatives, in the order the forward pass ran."""
        rows: list[Difference] = []
        for x, y in self.pairs:
            if x is None or y is None:
                self.unpaired.update(n for n in (x, y) if n is not None)
                node = x if x is not None else y
                assert node is not None
                where = "a" if x is not None else "b"
                description = self.describe(node, where)
                rows.append(Difference(self.name(x, y), f"only in {where}",
                                       description if x is not None else None,
                                       description if y is not None else None, None, x, y,
                                       True))
                continue
            rows.extend(self.structure(x, y))
            rows.extend(self.numbers(x, y))
        return rows

    def structure(self, x: Value, y: Value) -> list[Difference]:
        rows = []
        if x.op != y.op:
            rows.append(Difference(self.name(x, y), "op", x.op, y.op, None, x, y, True))
        if not x.children:
            shown_a, shown_b = display_name(x, self.names_a), display_name(y, self.names_b)
            if shown_a != shown_b:
                rows.append(Difference(self.name(x, y), "name", repr(shown_a), repr(shown_b),
                                       None, x, y, True))
        if self.reordered(x, y):
            rows.append(Difference(
                self.name(x, y), "input order",
                ", ".join(self.describe(cx, "a") for cx in x.children),
                ", ".join(self.describe(self.partner_b[cy], "a") for cy in y.children),
                None, x, y, True))
        else:
            for j, (cx, cy) in enumerate(zip(x.children, y.children)):
                if self.partner.get(cx) is not cy:
                    rows.append(Difference(self.name(x, y), f"input {j}",
                                           self.describe(cx, "a"), self.describe(cy, "b"),
                                           None, x, y, True))
        if rows:
            self.unpaired.update((x, y))
        return rows

    def reordered(self, x: Value, y: Value) -> bool:
        """Whether y's inputs are x's partners in another order, and not all leaves.

        Such inputs are one row, ``input order``. Leaves moved between inputs keep a
        row each, ``input 0`` ``'x'`` against ``'y'``: a leaf is known by its name, so
        those rows read as the swap they are, while an op node is known by its place,
        which differs between the graphs, and rows of such would read as other nodes.
        """
        partners = [self.partner.get(cx) for cx in x.children]
        return (partners != list(y.children)
                and Counter(map(id, partners)) == Counter(map(id, y.children))
                and any(cx.children for cx in x.children))

    def numbers(self, x: Value, y: Value) -> list[Difference]:
        rows = []
        settled = self.inputs_paired(x, y) and not any(
            c in self.value_differs or c in self.unpaired for c in x.children)
        if not close(x.data, y.data, self.rtol, self.atol):
            self.value_differs.add(x)
            rows.append(Difference(self.name(x, y), "value", x.data, y.data, x.data - y.data,
                                   x, y, settled))
        for j, (da, db) in enumerate(zip(x.local_grads, y.local_grads)):
            da, db = stored_number(da), stored_number(db)
            if not close(da, db, self.rtol, self.atol):
                self.local_differs.add(x)
                rows.append(Difference(self.name(x, y), f"d/d input {j}", da, db, da - db,
                                       x, y, settled))
        return rows

    def gradient_rows(self) -> list[Difference]:
        """Gradients, in the order the backward pass visits the nodes (output first)."""
        users_a = _users([x for x, _ in self.pairs if x is not None])
        users_b = _users([y for _, y in self.pairs if y is not None])
        rows = []
        for x, y in reversed(self.pairs):
            if x is None or y is None or close(x.grad, y.grad, self.rtol, self.atol):
                continue
            self.grad_differs.add(x)
            settled = all(
                user in self.partner and user not in self.grad_differs
                and user not in self.local_differs and user not in self.unpaired
                for user in users_a.get(x, ())) and all(
                user in self.partner_b for user in users_b.get(y, ()))
            rows.append(Difference(self.name(x, y), "gradient", x.grad, y.grad,
                                   x.grad - y.grad, x, y, settled))
        return rows
