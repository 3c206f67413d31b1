"""Write drawings to files: SVG, PNG, PDF or DOT, chosen by the file's suffix.

With Graphviz's ``dot`` program on ``PATH`` every format goes through it. Without
it, SVG still works with nothing but pip (Graphviz compiled to WebAssembly, see
:mod:`autograd_scalar.draw.wasm_graphviz`); PNG and PDF then need Graphviz installed.
Files are written atomically: the bytes go to a temporary file in the same folder
that replaces the target only once complete, so a failed render leaves no file
behind and never a half-written one. Laying DOT text out is :mod:`autograd_scalar.draw.layout`'s
job; this module draws Values through :func:`~autograd_scalar.draw.graph.draw_graph` (render ->
graph, never back).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

import graphviz

from ..files import output_file, write_atomically
from ..validate import real
from ..value import Value
from .graph import draw_graph
from .layout import image_bytes

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
"""Graphviz's output format for each file ending :func:`render` writes."""
DRAWING_SUFFIXES = tuple(sorted(FORMATS))
"""The file endings :func:`render` writes: ``.dot``, ``.gv``, ``.pdf``, ``.png``, ``.svg``."""
PathLike = Union[str, "os.PathLike[str]"]


def dot_source(drawing: Any, dpi: float | None = None, **options: Any) -> str:
    """The DOT text of a Value (drawn by ``draw_graph(drawing, **options)``) or a graph,
    with ``dpi`` (a PNG's pixels per inch) among its graph's attributes if given."""
    if isinstance(drawing, graphviz.graphs.BaseGraph):
        if options:
            raise TypeError(f"render: drawing options ({', '.join(sorted(options))}) apply to "
                            "a Value; this Digraph is drawn already")
        graph = drawing.copy() if dpi is not None else drawing  # the caller's, unchanged
    elif isinstance(drawing, Value):
        graph = draw_graph(drawing, **options)
    else:
        raise TypeError(f"render expects a Value or a graphviz Digraph, "
                        f"got {type(drawing).__name__}")
    if dpi is not None:
        graph.graph_attr["dpi"] = f"{dpi:g}"
    return str(graph.source)


def target_format(path: Path) -> str:
    """The output format named by ``path``'s suffix; ValueError for any other suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"render: cannot tell the format of {str(path)!r}: "
                         f"expected a file name ending in one of {known}")
    return fmt


def render(drawing: Any, path: PathLike, *, dpi: float | None = None, **options: Any) -> Path:
    """Draw a Value's graph (or a ready Digraph) into ``path``; returns the path.

    The suffix picks the format: ``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv`` for
    the DOT text itself. ``options`` go to ``draw_graph`` when ``drawing`` is a Value.
    ``dpi``, for a PNG only, sets its pixels per inch (Graphviz's 96 by default; 200
    or 300 for a projector or print). Nothing is written unless the whole drawing
    succeeded.
    """
    target = output_file(path, "render")
    fmt = target_format(target)
    if dpi is not None:
        if fmt != "png":
            raise ValueError(f"render: dpi applies to a PNG (pixels per inch); "
                             f"{target.suffix} is {'vector graphics' if fmt != 'dot' else 'text'}")
        dpi = real("dpi", dpi, 1, 2400, who="render", what="a number from 1 to 2400")
    source = dot_source(drawing, dpi, **options)
    data = source.encode("utf-8") if fmt == "dot" else image_bytes(source, fmt)
    write_atomically(target, data)
    return target
