"""A Value left at the end of a notebook cell displays as its graph: a view, or a summary.

``Value`` keeps no display code of its own (its class is the engine's core); the
display is registered with IPython's display machinery for the Value type instead,
when ``autograd_scalar`` is imported inside a running IPython (a Jupyter kernel).
Outside IPython this does nothing and imports nothing. Up to ``max_nodes`` nodes
(:func:`set_display`) a Value shows as the interactive view; a bigger graph as a short
summary made in one pass over it, since laying out a view of tens of thousands of nodes
for every cell that ends in a loss would cost seconds and megabytes each time.
"""

from __future__ import annotations

import html
import sys
from collections import Counter
from typing import Any

from ..backward import topological_order
from ..validate import flag, integer
from ..value import Value

SETTINGS: dict[str, Any] = {"rich": True, "max_nodes": 2_000}
"""How a Value at the end of a cell displays (see :func:`set_display`)."""


def set_display(*, rich: bool | None = None, max_nodes: int | None = None) -> dict[str, Any]:
    """Set how a Value at the end of a notebook cell displays; returns the settings.

    - ``rich``: True (the default) shows the graph; False shows only the repr,
      ``Value(data=..., grad=...)``.
    - ``max_nodes``: the largest graph shown as the interactive view (2,000 by
      default); a bigger one shows as a summary. ``explore(value)`` always gives
      the view, whatever the size.
    """
    if rich is not None:
        SETTINGS["rich"] = flag("rich", rich, who="set_display")
    if max_nodes is not None:
        SETTINGS["max_nodes"] = integer("max_nodes", max_nodes, 1, who="set_display",
                                        what="an int >= 1")
    return dict(SETTINGS)


def value_bundle(value: Value) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
    """The MIME bundle of ``value``: its view within the budget, a summary above it,
    its repr alone when the rich display is off."""
    if not SETTINGS["rich"]:
        return {"text/plain": repr(value)}
    order = topological_order(value)
    if len(order) > SETTINGS["max_nodes"]:
        return summary_bundle(value, order)
    from . import explore

    return explore(value)._repr_mimebundle_()


def summary_bundle(value: Value, order: list[Value]) -> dict[str, Any]:
    """A big graph in a few lines: its size, its ops, its leaves, how to see it."""
    ops = Counter(node.op for node in order if node.op)
    leaves = sum(1 for node in order if not node.op)
    common = ", ".join(f"{op} {count:,}" for op, count in ops.most_common(6))
    facts = (f"{len(order):,} nodes ({leaves:,} leaves; ops: {common}), over the display "
             f"budget of {SETTINGS['max_nodes']:,}")
    advice = ("explore(value) opens it as the interactive view (summarised by module); "
              "autograd_scalar.set_display(max_nodes=...) raises the budget")
    text = f"{value!r}\n{facts}.\n{advice}."
    page = (f"<div><code>{html.escape(repr(value))}</code><br>{html.escape(facts)}.<br>"
            f"<span style='opacity:0.75'>{html.escape(advice)}.</span></div>")
    return {"text/plain": text, "text/html": page}


def register_value_display() -> bool:
    """Make IPython show a Value through :func:`value_bundle`; True if a shell was found."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    shell.display_formatter.mimebundle_formatter.for_type(Value, value_bundle)
    return True
