"""Lay out DOT text as an image: with Graphviz's ``dot`` program, else SVG by WebAssembly.

DOT text in, bytes out; nothing here knows about Values or drawings, so both
:mod:`autograd_scalar.graph` (a drawing shows itself in Jupyter) and
:mod:`autograd_scalar.render` (a drawing is written to a file) import it, and
neither imports the other's way round: render -> graph -> layout.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
from typing import Any

from .wasm_graphviz import svg_from_dot, text_from_dot

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


def plain_layouts(sources: list[str]) -> list[str]:
    """Each DOT graph of ``sources`` laid out by ``dot`` as Graphviz's ``plain`` text.

    Positions only (``node NAME x y width height ...`` lines, in inches), for a
    consumer that draws the graph itself. With the dot program every graph goes
    through one process (dot reads graph after graph); without it, each through
    Graphviz compiled to WebAssembly.
    """
    dot = shutil.which("dot")
    if dot is None:
        return [text_from_dot(source, "plain").decode("utf-8") for source in sources]
    done = subprocess.run([dot, "-Tplain"], input="\n".join(sources).encode("utf-8"),
                          capture_output=True, timeout=DOT_TIMEOUT_SECONDS, check=False)
    text = done.stdout.decode("utf-8")
    layouts = [part + "stop\n" for part in text.split("stop\n") if part.strip()]
    if done.returncode != 0 or len(layouts) != len(sources):
        reason = done.stderr.decode("utf-8", errors="replace").strip()
        raise RuntimeError(f"Graphviz dot could not lay out the graphs: {reason}")
    return layouts


def picture_bundle(source: str, description: str, svg: str | None = None) -> dict[str, Any]:
    """A drawing's MIME bundle for notebooks: the picture in every form a front end may
    pick, so that none ever falls back to an object's repr.

    ``text/html`` holds the SVG as an ``<img>`` data URI, which HTML sanitizers keep
    (untrusted notebooks, nbviewer); ``image/svg+xml`` the SVG itself (GitHub);
    ``text/plain`` ``description``. ``svg``: the SVG of ``source`` when already made.
    No PNG: rendering one costs a second layout and seconds on a big graph at every
    display, and runs to megabytes in every stored copy, for front ends that show
    the SVG forms anyway.
    """
    svg = svg if svg is not None else svg_of(source)
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    bundle: dict[str, Any] = {
        "text/html": f'<img alt="{html.escape(description)}" style="max-width:100%" '
                     f'src="data:image/svg+xml;base64,{encoded}">',
        "image/svg+xml": svg, "text/plain": description}
    return bundle
