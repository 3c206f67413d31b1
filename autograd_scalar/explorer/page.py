"""The view's one script, for the notebook widget and for the saved page alike.

``view.js`` is the core (it draws, pans, steps and explains); ``view.css`` its style,
which the core puts inside the view's own shadow root. The notebook widget loads
the core as an ES module (anywidget's ``render``); the saved page inlines the same
core as a classic script and mounts it on the data written beside it. Under the
view, in the page's host element, sits the static picture: the shadow root hides it
once the script runs, and where no script runs it is what shows.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from functools import cache
from importlib import resources
from itertools import count
from typing import Any

from ..draw.graph import Options, build
from ..draw.layout import svg_of

_serial = count()


def asset(name: str) -> str:
    """A file shipped beside this module (the view's script and style)."""
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


@cache
def core_script() -> str:
    """The core with its style: defines ``AutogradScalarView`` (mount, render).

    Safe to inline in a ``<script>`` element: no ``</script`` occurs in it.
    """
    script = f"var STYLE = {json.dumps(asset('view.css'))};\n{asset('view.js')}"
    return re.sub("</(script)", r"<\\/\1", script, flags=re.IGNORECASE)


@cache
def widget_module() -> str:
    """The core as an ES module whose default export is anywidget's ``render``."""
    return (core_script() + "\nexport default { render: function (context) {\n"
            "  return AutogradScalarView.render(context.model, context.el); } };\n")


def static_picture(root: Any, options: Options) -> str:
    """``draw_graph``'s SVG of the graph (summarised when big), for where no script runs."""
    return svg_of(build(root, options).source)


def picture_img(picture: str, nodes: int) -> str:
    """An ``<img>`` of the SVG ``picture`` as a data URI: HTML that sanitizers keep, so
    untrusted notebooks, GitHub and nbviewer show it."""
    encoded = base64.b64encode(picture.encode("utf-8")).decode("ascii")
    return (f'<img class="agv-picture" alt="computation graph of {nodes:,} nodes" '
            f'style="max-width:100%" src="data:image/svg+xml;base64,{encoded}">')


def payload_json(data: dict[str, Any]) -> str:
    """The view's data as compact JSON, safe inside a ``<script>`` element."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")


def page_fragment(data: dict[str, Any], picture: str) -> str:
    """The view as an HTML fragment: a host element holding the static picture, the
    data, and the core mounting the view over the picture."""
    view_id = f"agv-{os.getpid()}-{next(_serial)}"
    return (f'<div class="agv-host" id="{view_id}">'
            f'{picture_img(picture, len(data["data"]))}</div>'
            f'<script type="application/json" id="{view_id}-data">{payload_json(data)}</script>'
            f"<script>{core_script()}\n(function () {{\n"
            f'  var host = document.getElementById("{view_id}");\n'
            f'  var data = JSON.parse(document.getElementById("{view_id}-data").textContent);\n'
            f"  AutogradScalarView.mount(host, data);\n}})();</script>")


def page(data: dict[str, Any], picture: str) -> str:
    """A whole self-contained HTML page holding the view (nothing is fetched)."""
    title = html.escape(data.get("title") or "Computation graph")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n</head>\n<body>\n{page_fragment(data, picture)}\n"
            "</body>\n</html>\n")
