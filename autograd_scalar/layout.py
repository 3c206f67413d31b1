"""Lay out DOT text as an image: with Graphviz's ``dot`` program, else SVG by WebAssembly.

DOT text in, bytes out; nothing here knows about Values or drawings, so both
:mod:`autograd_scalar.graph` (a drawing shows itself in Jupyter) and
:mod:`autograd_scalar.render` (a drawing is written to a file) import it, and
neither imports the other's way round: render -> graph -> layout.
"""

from __future__ import annotations

import shutil
import subprocess

from .wasm_graphviz import svg_from_dot

INSTALL_HINT = ("install Graphviz so that its dot program is on PATH: "
                "apt-get install graphviz (Debian, Ubuntu), brew install graphviz (macOS), "
                "conda install -c conda-forge graphviz, or see graphviz.org/download")
DOT_TIMEOUT_SECONDS = 120.0


class GraphvizNotFound(RuntimeError):
    """A format that needs Graphviz's ``dot`` program was asked for without it."""


def has_dot() -> bool:
    """Whether Graphviz's ``dot`` program is on ``PATH`` (looked up at each call)."""
    return shutil.which("dot") is not None


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


def svg_of(source: str) -> str:
    """DOT ``source`` laid out as SVG text, with or without the dot program."""
    return image_bytes(source, "svg").decode("utf-8")
