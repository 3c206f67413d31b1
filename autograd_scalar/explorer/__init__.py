"""``explore(root)``: the computation graph as an interactive view, in a notebook or a page.

In a notebook the view is a widget (:mod:`autograd_scalar.explorer.widget`) bound to the
graph; ``.save(path)`` writes the same view as a page. What the view does:
``docs/tutorials/see-backprop.md``, "Exploring the graph interactively".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..draw.graph import DEFAULT_MAX_NODES, Options, check_budget_options, highlighted_nodes
from ..draw.reading import parameter_names
from ..validate import flag
from .model import outputs_of

if TYPE_CHECKING:
    from .widget import GraphView

__all__ = ["GraphView", "explore"]


def __getattr__(name: str) -> Any:
    """``GraphView`` is imported on first use: anywidget (and ipywidgets under it) load
    only when a view is made, not with the engine."""
    if name == "GraphView":
        from .widget import GraphView

        return GraphView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def explore(root: Any, *, names: Any = None, highlight: Any = None, rankdir: str = "LR",
            precision: int = 4, max_nodes: int = DEFAULT_MAX_NODES, heatmap: bool = False,
            title: str = "") -> GraphView:
    """An interactive view of the graph behind ``root``; a notebook shows it as a cell's
    last expression (or with ``IPython.display.display(view)``).

    - ``root``: a Value, a list of Values (their graphs together), or a
      ``check_graph`` report (its output's graph, the failing nodes in red).
    - ``names``: a model (``named_parameters()``), (name, Value) pairs or a dict:
      parameters are shown and searchable by name (``layers.0.neurons.3.w[1]``).
    - ``highlight``: Values, a ``check_graph`` report or a ``diff`` report, marked in
      red (a report's table shows under the view).
    - ``rankdir``: "LR" (inputs left, the default) or "TB" (inputs on top).
    - ``precision``: significant digits of the numbers shown.
    - ``max_nodes``: a graph of more nodes opens summarised, its groups collapsed
      (expanded level by level while the nodes shown stay within this budget).
    - ``heatmap``: open with the |grad| heat map on.
    - ``title``: a line above the view.

    Inside a ``forward_ad()`` block whose duals the graph uses, the panel shows each
    node's tangent beside its grad.

    Returns a :class:`GraphView`, a notebook widget: ``refresh()`` shows new
    numbers, ``selected`` is the Value clicked, ``save(path)`` writes the page.
    """
    outputs, report = outputs_of(root)
    if highlight is None and report is not None:
        highlight = report
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"explore: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    options = Options(rankdir=rankdir, precision=precision, max_nodes=max_nodes, title=title,
                      highlighted=highlighted_nodes(highlight, "explore"),
                      names=parameter_names(names, "explore"))
    check_budget_options(options, "explore")
    flag("heatmap", heatmap, who="explore")
    from .widget import GraphView

    return GraphView(outputs, options, report if report is not None else highlight, heatmap)
