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
  :func:`autograd_scalar.animate.backward_steps` computes it); the script puts the
  narration of :func:`autograd_scalar.animate.describe_step` together from them:
  for the node ``v`` of step k,

      dL/dv = sum over the users p of v of  dp/dv * dL/dp,

  each user's dp/dv being its stored local derivative and dL/dp its own step's
  gradient, users taken in topological order (the reverse of the steps);
- where the graph has tangents (inside a ``forward_ad()`` block whose duals it
  uses: :mod:`autograd_scalar.forward`), ``tangents``: each node's rate of change
  along the duals' tangents, t(p) = sum_i dp/dc_i * t(c_i), shown beside its grad;
- numbers travel at the precision the view shows them (``precision`` significant
  digits; inf and nan as the strings "inf", "-inf", "nan", which JSON lacks).
"""

from __future__ import annotations

import math
from typing import Any

from ..animate import backward_steps
from ..forward import open_tangents
from ..graph import Options
from ..graph_reading import display_name
from ..value import Value
from .model import Graph, Group, edges_by_group, graph_of, run_titles
from .positions import lay_out


def view_data(outputs: list[Value], options: Options, report: Any,
              previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the script draws, as JSON-ready numbers, indices and tables.

    ``previous``: the data of an earlier view; if the graph has the same structure
    (:data:`STRUCTURE`: the same ops joined the same way, with the same names), its
    layout and its ``structure`` serial are kept, so the view only takes the new numbers.
    """
    graph = graph_of(outputs, options)
    ids = {node: k for k, node in enumerate(graph.order)}
    run_titles(graph, ids)
    data = structure_of(graph, ids, outputs, options, report)
    if previous is not None and all(previous[key] == data[key] for key in STRUCTURE):
        data["groups"], data["structure"] = previous["groups"], previous["structure"]
    else:
        data["groups"] = group_records(graph, ids, options.rankdir)
        data["structure"] = (previous["structure"] + 1) if previous is not None else 0
    data.update(numbers_of(graph.order, ids, outputs[0], options.precision))
    return data


STRUCTURE = ("names", "labels", "params", "ops", "op", "scopes", "scope", "kids", "failed",
             "outputs", "rankdir", "budget")
"""The entries that define the drawing: equal entries, equal layout."""


def structure_of(graph: Graph, ids: dict[Value, int], outputs: list[Value], options: Options,
                 report: Any) -> dict[str, Any]:
    """The graph's shape and words: what each node is, how they join, what is marked."""
    ops: dict[str, int] = {"": 0}
    op_rows: list[list[str]] = [["", "", ""]]
    scopes: dict[str, int] = {"": 0}
    op_column, scope_column = [], []
    for node in graph.order:
        if node.op not in ops:
            ops[node.op] = len(op_rows)
            row = node.row
            op_rows.append([node.op, row.shown if row else "", row.formula if row else ""])
        op_column.append(ops[node.op])
        scope_column.append(scopes.setdefault(node.scope, len(scopes)))
    failures = report.rows() if report is not None and hasattr(report, "rows") else []
    return {
        "names": [display_name(node, options.names) for node in graph.order],
        "labels": [node.label for node in graph.order],
        "params": [ids[node] for node in graph.order if node in options.names],
        "ops": op_rows, "op": op_column,
        "scopes": list(scopes), "scope": scope_column,
        "kids": [[ids[child] for child in node.children] for node in graph.order],
        "failed": [ids[node] for node in graph.order if node in options.highlighted],
        "failures": failures, "summary": report.summary() if failures else "",
        "outputs": [ids[o] for o in outputs], "precision": options.precision,
        "budget": options.max_nodes, "rankdir": options.rankdir, "title": options.title,
    }


def numbers_of(order: list[Value], ids: dict[Value, int], output: Value,
               precision: int) -> dict[str, Any]:
    """Each node's data, grad and local derivatives (and tangent, when the graph has
    them), and the backward pass of the first output: its steps and the gradient
    each step gives."""
    p = precision
    steps = backward_steps(output)
    numbers: dict[str, Any] = {
        "data": [rounded(node.data, p) for node in order],
        "grad": [rounded(node.grad, p) for node in order],
        "locals": [[rounded(d, p) for d in node.local_grads] for node in order],
        "steps": [ids[step.node] for step in steps],
        "stepGrads": [rounded(step.grad, p) for step in steps],
    }
    tangents = open_tangents(order)
    if tangents is not None:
        numbers["tangents"] = [rounded(t, p) for t in tangents]
    return numbers


def group_records(graph: Graph, ids: dict[Value, int], rankdir: str) -> list[dict[str, Any]]:
    """Each group: title, parent, items (a node's number k, or a subgroup g as -1 - g),
    size in nodes, and its own layout: item centres flattened [x0, y0, x1, y1, ...]
    and the frame's width and height."""
    group_ids = {id(group): k for k, group in enumerate(graph.groups)}
    placed = lay_out(graph, edges_by_group(graph), rankdir)
    records = []
    for group, where in zip(graph.groups, placed):
        records.append({
            "title": group.title, "module": int(bool(group.key) and "#" not in group.key),
            "parent": group_ids[id(group.parent)] if group.parent is not None else -1,
            "items": [-1 - group_ids[id(i)] if isinstance(i, Group) else ids[i]
                      for i in group.items],
            "size": group.size, **where})
    return records


def rounded(x: Any, precision: int) -> float | str:
    """``x`` to ``precision`` significant digits (what the view shows); inf and nan,
    which JSON has no numbers for, as the strings "inf", "-inf", "nan"."""
    value = float(x)
    return float(f"{value:.{precision}g}") if math.isfinite(value) else str(value)
