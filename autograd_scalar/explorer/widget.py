"""The view as a notebook widget: anywidget's protocol, bound to the graph in the kernel.

:class:`GraphView` is an ``anywidget.AnyWidget``: its front end is the view's core
(:func:`autograd_scalar.explorer.page.widget_module`), which draws the model's
``payload`` (the view's data as JSON) and sets ``selected_index`` when a node is
clicked. Only anywidget's documented API is used (``model.get``, ``model.set``,
``model.save_changes``, ``model.on``). Beside the widget, the output's MIME bundle keeps
a static picture of the graph (:func:`~autograd_scalar.draw.layout.picture_bundle`), for
where no script runs.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..draw.graph import Options, build
from ..draw.layout import GraphvizNotFound, chosen, picture_bundle, svg_of
from ..files import output_file, write_atomically
from ..value import Value
from .model import outputs_of
from .page import page, payload_json, widget_module
from .records import Layouts, plain, view_data

PICTURE_NODES = 40
"""The most items the static picture under the view draws (the rest summarised)."""

PICTURE_WIDTH = 1100.0
"""The widest static picture, in points, drawn as it is: a notebook shows it at the
output's width (about 900 px), where a wider one's 11 pt text would come out under 9 px.
A wider drawing is tried the other way round (top to bottom for left to right), then
summarised to fewer items (see ``GraphView._picture_source``)."""

NO_PICTURE = ('<svg xmlns="http://www.w3.org/2000/svg" width="520" height="40" '
              'viewBox="0 0 520 40"><text x="8" y="24" font-family="sans-serif" '
              'font-size="13" fill="#57606a">The static picture of this graph needs Graphviz '
              '(dot, or Python 3.11+).</text></svg>')
"""What stands for the static picture where no Graphviz is installed (Python 3.10 without
the dot program): the interactive view lays itself out without it."""

PICTURE_TRIES = ((PICTURE_NODES, False), (PICTURE_NODES, True), (10, True), (10, False))
"""(items, turned) in the order tried for the static picture: the first at most
PICTURE_WIDTH wide is drawn, else the narrowest."""


class GraphView(anywidget.AnyWidget):
    """An interactive view of a computation graph (made by :func:`explore`).

    - ``refresh()`` re-reads the graph's data and gradients (after an optimizer step,
      say) and ``refresh(new_root)`` shows another graph: when its structure is the
      same, the view keeps its layout and marks the numbers that changed; else it is
      laid out anew;
    - ``selected`` is the Value the user last clicked (None if none);
    - ``save(path)`` writes the view as one self-contained page, ``data`` is what the
      script draws.
    """

    _esm = widget_module()
    payload = traitlets.Unicode("").tag(sync=True)
    selected_index = traitlets.Int(-1).tag(sync=True)

    def __init__(self, outputs: list[Value], options: Options, report: Any,
                 heatmap: bool) -> None:
        self._outputs, self._options, self._report = outputs, options, report
        self._heatmap = heatmap
        self._layouts: Layouts | None = None
        self._data = self._read(None)
        super().__init__(payload=payload_json(self._data))
        self.on_msg(self._answer)

    def _read(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        """The view's data; a graph over LAZY_NODES nodes with only its opening boxes laid out."""
        earlier = (previous, self._layouts) if previous is not None and self._layouts else None
        data, self._layouts = view_data(self._outputs, self._options, self._report, earlier,
                                        lazy=None)
        data["heatmap"] = self._heatmap
        self._source: str | None = None
        self._picture: str | None = None
        self._plain: dict[str, Any] | None = None
        return data

    def _answer(self, _: Any, content: Any, buffers: Any = None) -> None:
        """The front end asks for the layouts of boxes being opened: send them."""
        if not isinstance(content, dict) or content.get("type") != "layout":
            return
        assert self._layouts is not None
        try:
            found = self._layouts.of(content.get("groups", []))
        except ValueError as error:
            self.send({"type": "error", "message": str(error)})
            return
        for g, layout in found.items():
            self._data["groups"][g].update(layout)
        self.send({"type": "layouts", "groups": {str(g): layout for g, layout in found.items()}})

    def _complete(self) -> dict[str, Any]:
        """The data with every box laid out (a saved page has no kernel to ask)."""
        assert self._layouts is not None
        for g, layout in self._layouts.of(range(len(self._data["groups"]))).items():
            self._data["groups"][g].update(layout)
        return self._data

    @property
    def data(self) -> dict[str, Any]:
        """What the script draws (``autograd_scalar.explorer.records``' columns), as
        plain lists (``plain``; made when first
        asked for)."""
        if self._plain is None:
            self._plain = plain(self._data)
        return self._plain

    @property
    def selected(self) -> Value | None:
        """The Value of the node the user last clicked in the view, or None."""
        index = self.selected_index
        order = self._layouts.graph.order if self._layouts is not None else []
        return order[index] if 0 <= index < len(order) else None

    def refresh(self, root: Any = None) -> GraphView:
        """Show the current numbers of the graph, or of ``root``'s graph if given.

        ``root`` is what :func:`explore` takes (a Value, a list of Values, a
        check_graph report). The layout is kept when the structure is unchanged.
        """
        if root is not None:
            outputs, report = outputs_of(root)
            self._outputs = outputs
            if report is not None:
                self._report = report
        self._data = self._read(self._data)
        self.selected_index = -1
        self.payload = payload_json(self._data)
        return self

    def _drawing(self, budget: int = PICTURE_NODES, turned: bool = False) -> Any:
        """``draw_graph``'s drawing of the graph as the view opens: its nodes boxed by
        module and, with ``heatmap``, coloured by |grad|; summarised to at most
        ``budget`` items, since a notebook shows the picture at the output's width,
        where a bigger one's text would be too small to read; ``turned``, laid out
        across the view's direction (top to bottom for left to right)."""
        rankdir = self._options.rankdir
        if turned:  # "auto" draws left to right where it can
            rankdir = "LR" if rankdir in ("TB", "BT") else "TB"
        return build(self._outputs[0], dataclasses.replace(
            self._options, max_nodes=min(self._options.max_nodes, budget), cluster=True,
            heatmap=self._heatmap, rankdir=rankdir))

    def _picture_source(self) -> str:
        """The DOT text of the static picture: the first drawing of PICTURE_TRIES at most
        PICTURE_WIDTH wide, else the narrowest (made once for each reading of the graph,
        with its SVG)."""
        if self._source is None:
            drawn = []
            for budget, turned in PICTURE_TRIES:
                source = self._drawing(budget, turned).source
                try:
                    picture = svg_of(source)
                except GraphvizNotFound:  # the view itself needs no Graphviz
                    self._source, self._picture = source, NO_PICTURE
                    return source
                drawn.append((svg_width(picture), source, picture))
                if drawn[-1][0] <= PICTURE_WIDTH:
                    break
            _, self._source, self._picture = min(drawn, key=lambda found: found[0])
        return self._source

    @property
    def picture(self) -> str:
        """The static picture, the SVG of the drawing."""
        if self._picture is None:
            self._picture_source()
        assert self._picture is not None
        return self._picture

    def __repr__(self) -> str:
        nodes, boxes = len(self._data["data"]), len(self._data["groups"]) - 1  # 0: the graph
        failing = len(self._data["failed"])
        marked = f", {failing} marked" if failing else ""
        return f"<GraphView of {nodes:,} nodes in {boxes:,} boxes{marked}>"

    def page(self) -> str:
        """The view as a whole HTML page, self-contained (nothing is fetched)."""
        return page(self._complete(), self.picture)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (``.html`` or ``.htm``), whole or not at all."""
        target = output_file(path, "GraphView.save")
        if target.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"GraphView.save writes an HTML page: expected a file name "
                             f"ending in .html or .htm, got {str(target)!r}")
        write_atomically(target, self.page())
        return target

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **kwargs: Any
                          ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget's view and, for where it cannot run, the static picture."""
        shown = super()._repr_mimebundle_(**kwargs)
        bundle, metadata = shown if shown is not None else ({}, {})
        bundle = {**bundle, **picture_bundle(self._picture_source(), repr(self), self.picture)}
        return chosen(bundle, include, exclude), metadata


def svg_width(svg: str) -> float:
    """The width, in points, that an SVG of Graphviz's declares (0 if none)."""
    found = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg)
    return float(found.group(1)) if found else 0.0
