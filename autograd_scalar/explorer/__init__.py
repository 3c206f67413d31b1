"""``explore(root)``: the computation graph as an interactive view, in a notebook or a page.

The view is one self-contained piece of HTML (its script and style are read from
``view.js`` and ``view.css`` beside this file and inlined; nothing is fetched), so
it works in JupyterLab, Notebook, VS Code and Colab, and ``.save(path)`` writes it
as a page that opens in any browser without a server. Under the script sits a
static picture of the graph (``draw_graph``'s SVG), which the script replaces: an
untrusted notebook, GitHub or a plain-text viewer shows that picture instead.
"""

from __future__ import annotations

from typing import Any

from ..graph import DEFAULT_MAX_NODES, Options, highlighted_nodes
from ..graph_reading import parameter_names
from .model import (
    Group,
    edges_by_group,
    graph_of,
    node_record,
    outputs_of,
    run_titles,
    steps_record,
)
from .page import GraphView, static_picture
from .positions import lay_out

__all__ = ["GraphView", "explore"]


def explore(root: Any, *, names: Any = None, highlight: Any = None, rankdir: str = "LR",
            precision: int = 4, max_nodes: int = DEFAULT_MAX_NODES, heatmap: bool = False,
            title: str = "") -> GraphView:
    """An interactive view of the graph behind ``root``; displays itself in a notebook.

    - ``root``: a Value, a list of Values (their graphs together), or a
      ``check_graph`` report (its output's graph, the failing nodes in red).
    - ``names``: a model (``named_parameters()``), (name, Value) pairs or a dict:
      parameters are shown and searchable by name (``layers.0.neurons.3.w[1]``).
    - ``highlight``: Values, or a ``check_graph`` report, marked in red.
    - ``rankdir``: "LR" (inputs left, the default) or "TB" (inputs on top).
    - ``precision``: significant digits of the numbers shown.
    - ``max_nodes``: a graph of more nodes opens summarised, its groups collapsed
      (expanded level by level while the nodes shown stay within this budget).
    - ``heatmap``: open with the |grad| heat map on.
    - ``title``: a line above the view.

    Returns a :class:`GraphView` (``.save(path)`` writes the page).
    """
    outputs, report = outputs_of(root)
    if highlight is None and report is not None:
        highlight = report
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"explore: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    options = Options(rankdir=rankdir, precision=precision, max_nodes=max_nodes, title=title,
                      highlighted=highlighted_nodes(highlight), names=parameter_names(names))
    check_view_options(options, heatmap)
    data = view_data(outputs, options, report if report is not None else highlight)
    data["heatmap"] = heatmap
    picture = static_picture(outputs[0], options)
    return GraphView(data, picture, title)


def check_view_options(options: Options, heatmap: Any) -> None:
    precision, budget = options.precision, options.max_nodes
    if not isinstance(precision, int) or isinstance(precision, bool) or not 1 <= precision <= 17:
        raise ValueError(f"explore: precision must be an int from 1 to 17 (significant "
                         f"digits), got {precision!r}")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 2:
        raise ValueError(f"explore: max_nodes must be an int >= 2, got {budget!r}")
    if not isinstance(heatmap, bool):
        raise TypeError(f"explore: heatmap must be True or False, got {heatmap!r}")
    if not isinstance(options.title, str):
        raise TypeError(f"explore: title must be a str, got {type(options.title).__name__}")


def view_data(outputs: list[Any], options: Options, report: Any) -> dict[str, Any]:
    """Everything the script draws, as JSON-ready data (see model.py for the groups)."""
    graph = graph_of(outputs, options)
    ids = {node: k for k, node in enumerate(graph.order)}
    run_titles(graph, ids)
    steps, uses = steps_record(outputs[0], ids, options)
    nodes = [node_record(node, ids, options, uses.get(node, []),
                         node in options.highlighted) for node in graph.order]
    group_ids = {id(group): k for k, group in enumerate(graph.groups)}
    placed = lay_out(graph, edges_by_group(graph), options.rankdir)
    groups = []
    for group, where in zip(graph.groups, placed):
        groups.append({
            "title": group.title, "module": bool(group.key) and "#" not in group.key,
            "parent": group_ids[id(group.parent)] if group.parent is not None else -1,
            "items": [["g", group_ids[id(i)]] if isinstance(i, Group) else ["n", ids[i]]
                      for i in group.items],
            "size": group.size, **where})
    failures = report.rows() if report is not None and hasattr(report, "rows") else []
    return {"nodes": nodes, "groups": groups, "steps": steps, "failures": failures,
            "summary": report.summary() if failures else "",
            "outputs": [ids[o] for o in outputs], "precision": options.precision,
            "budget": options.max_nodes, "rankdir": options.rankdir, "title": options.title}
