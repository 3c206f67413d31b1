"""The view as HTML: a notebook output (with a static picture inside) or a whole page.

Notebook front ends pick one entry of an output's MIME bundle. Trusted, they show
``text/html`` and run its script, which draws the interactive view over the static
picture. Untrusted (a notebook just cloned), they strip the script and show what
is left: the picture, an ``<img>`` with the SVG inlined as a data URI. The bundle
also carries ``image/svg+xml`` and ``text/plain`` for viewers without HTML.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable
from importlib import resources
from itertools import count
from pathlib import Path
from typing import Any

from ..files import write_atomically
from ..graph import Options, build
from ..layout import svg_of
from ..render import check_target

_serial = count()


def asset(name: str) -> str:
    """A file shipped beside this module (the view's script and style)."""
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


def static_picture(root: Any, options: Options) -> str:
    """``draw_graph``'s SVG of the graph (summarised when big), for where no script runs."""
    return svg_of(build(root, options).source)


class GraphView:
    """An interactive view of a computation graph (made by :func:`explore`).

    Shows itself in a notebook; ``save(path)`` writes it as one self-contained page;
    ``html()`` is the output's HTML, ``data`` what the script draws.
    """

    def __init__(self, data: dict[str, Any], picture: str, title: str = "") -> None:
        self.data = data
        self.picture = picture
        self.title = title

    def __repr__(self) -> str:
        nodes, groups = len(self.data["data"]), len(self.data["groups"])
        failing = len(self.data["failed"])
        marked = f", {failing} marked" if failing else ""
        return f"<GraphView of {nodes:,} nodes in {groups:,} groups{marked}>"

    def html(self) -> str:
        """The view as an HTML fragment: the picture, the data, the style and the script."""
        view_id = f"agv-{os.getpid()}-{next(_serial)}"
        picture = base64.b64encode(self.picture.encode("utf-8")).decode("ascii")
        payload = json.dumps(self.data, separators=(",", ":"), allow_nan=False)
        payload = payload.replace("<", "\\u003c")
        caption = f"<div class='agv-title'>{html.escape(self.title)}</div>" if self.title else ""
        return (
            f'<div class="agv" id="{view_id}">{caption}'
            f'<img class="agv-picture" alt="computation graph of {len(self.data["data"]):,} '
            f'nodes" style="max-width:100%" src="data:image/svg+xml;base64,{picture}">'
            f'<script type="application/json" class="agv-data">{payload}</script>'
            f"<style>{asset('view.css')}</style>"
            f"<script>{asset('view.js')}\nAutogradScalarView.mount("
            f'document.getElementById("{view_id}"));</script></div>')

    def page(self) -> str:
        """A whole HTML page holding the view."""
        title = html.escape(self.title or "Computation graph")
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{title}</title>\n</head>\n<body>\n{self.html()}\n</body>\n</html>\n")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (``.html`` or ``.htm``), whole or not at all."""
        target = check_target(path)
        if target.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"GraphView.save writes an HTML page: expected a file name "
                             f"ending in .html or .htm, got {str(target)!r}")
        write_atomically(target, self.page())
        return target

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, Any]:
        bundle = {"text/html": self.html, "image/svg+xml": lambda: self.picture,
                  "text/plain": self.__repr__}
        wanted = set(include) if include is not None else set(bundle)
        wanted -= set(exclude or ())
        return {kind: make() for kind, make in bundle.items() if kind in wanted}
