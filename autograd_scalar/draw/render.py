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
from ..value import Value
from .graph import draw_graph
from .layout import image_bytes

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
"""Graphviz's output format for each file ending :func:`render` writes."""
DRAWING_SUFFIXES = tuple(sorted(FORMATS))
"""The file endings :func:`render` writes: ``.dot``, ``.gv``, ``.pdf``, ``.png``, ``.svg``."""
PathLike = Union[str, "os.PathLike[str]"]


def dot_source(drawing: Any, **options: Any) -> str:
    """The DOT text of a Value (drawn by ``draw_graph(drawing, **options)``) or a graph."""
    if isinstance(drawing, graphviz.graphs.BaseGraph):
        if options:
            raise TypeError(f"render: drawing options ({', '.join(sorted(options))}) apply to "
                            "a Value; this Digraph is drawn already")
        return drawing.source
    if isinstance(drawing, Value):
        return draw_graph(drawing, **options).source
    raise TypeError(f"render expects a Value or a graphviz Digraph, "
                    f"got {type(drawing).__name__}")


def target_format(path: Path) -> str:
    """The output format named by ``path``'s suffix; ValueError for any other suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"render: cannot tell the format of {str(path)!r}: "
                         f"expected a file name ending in one of {known}")
    return fmt


def render(drawing: Any, path: PathLike, **options: Any) -> Path:
    """Draw a Value's graph (or a ready Digraph) into ``path``; returns the path.

    The suffix picks the format: ``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv`` for
    the DOT text itself. ``options`` go to ``draw_graph`` when ``drawing`` is a Value.
    Nothing is written unless the whole drawing succeeded.
    """
    target = output_file(path, "render")
    fmt = target_format(target)
    source = dot_source(drawing, **options)
    data = source.encode("utf-8") if fmt == "dot" else image_bytes(source, fmt)
    write_atomically(target, data)
    return target
