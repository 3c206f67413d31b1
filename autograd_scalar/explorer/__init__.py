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
from .model import outputs_of
from .page import GraphView, static_picture
from .records import view_data

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
