"""Write drawings to files: SVG, PNG, PDF or DOT, chosen by the file's suffix.

With Graphviz's ``dot`` program on ``PATH`` every format goes through it. Without
it, SVG still works with nothing but pip (Graphviz compiled to WebAssembly, see
:mod:`autograd_scalar.wasm_graphviz`); PNG and PDF then need Graphviz installed.
Files are written atomically: the bytes go to a temporary file in the same folder
that replaces the target only once complete, so a failed render leaves no file
behind and never a half-written one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Union

import graphviz

from .files import write_atomically
from .wasm_graphviz import svg_from_dot

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL_HINT = ("install Graphviz so that its dot program is on PATH: "
                "apt-get install graphviz (Debian, Ubuntu), brew install graphviz (macOS), "
                "conda install -c conda-forge graphviz, or see graphviz.org/download")
DOT_TIMEOUT_SECONDS = 120.0

PathLike = Union[str, "os.PathLike[str]"]


class GraphvizNotFound(RuntimeError):
    """A format that needs Graphviz's ``dot`` program was asked for without it."""


def has_dot() -> bool:
    """Whether Graphviz's ``dot`` program is on ``PATH`` (looked up at each call)."""
    return shutil.which("dot") is not None


def dot_source(drawing: Any, **options: Any) -> str:
    """The DOT text of a Value (drawn by ``draw_graph(drawing, **options)``) or a graph."""
    if isinstance(drawing, graphviz.graphs.BaseGraph):
        if options:
            raise TypeError(f"render: drawing options ({', '.join(sorted(options))}) apply to "
                            "a Value; this Digraph is drawn already")
        return drawing.source
    from .value import Value

    if isinstance(drawing, Value):
        from .graph import draw_graph

        return draw_graph(drawing, **options).source
    raise TypeError(f"render expects a Value or a graphviz Digraph, "
                    f"got {type(drawing).__name__}")


def image_bytes(source: str, fmt: str) -> bytes:
    """Lay out DOT ``source`` as ``fmt`` ("svg", "png", "pdf"): dot if present, else SVG only."""
    dot = shutil.which("dot")
    if dot is not None:
        done = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=DOT_TIMEOUT_SECONDS, check=False)
        if done.returncode != 0 or not done.stdout:
            reason = done.stderr.decode("utf-8", errors="replace").strip()
            raise RuntimeError(f"Graphviz dot could not draw the graph as {fmt}: {reason}")
        return done.stdout
    if fmt == "svg":
        return svg_from_dot(source)
    raise GraphvizNotFound(f"{fmt.upper()} output needs Graphviz's dot program, which is not "
                           f"on PATH; SVG works without it. To get {fmt.upper()}: {INSTALL_HINT}")


def svg_text(drawing: Any) -> str:
    """The drawing as SVG text, with or without the dot program."""
    return image_bytes(dot_source(drawing), "svg").decode("utf-8")


def target_format(path: Path) -> str:
    """The output format named by ``path``'s suffix; ValueError for any other suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"render: cannot tell the format of {str(path)!r}: "
                         f"expected a file name ending in one of {known}")
    return fmt


def check_target(path: PathLike) -> Path:
    """``path`` as a Path whose folder exists and that is not itself a folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"render expects a file path (str or Path), got {type(path).__name__}")
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"render: {str(target)!r} is a folder; expected a file name")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"render: the folder {str(target.parent)!r} does not exist")
    return target


def render(drawing: Any, path: PathLike, **options: Any) -> Path:
    """Draw a Value's graph (or a ready Digraph) into ``path``; returns the path.

    The suffix picks the format: ``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv`` for
    the DOT text itself. ``options`` go to ``draw_graph`` when ``drawing`` is a Value.
    Nothing is written unless the whole drawing succeeded.
    """
    target = check_target(path)
    fmt = target_format(target)
    source = dot_source(drawing, **options)
    data = source.encode("utf-8") if fmt == "dot" else image_bytes(source, fmt)
    write_atomically(target, data)
    return target
