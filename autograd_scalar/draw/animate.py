"""The backward pass, one node at a time: an HTML page with a slider, or a GIF.

Backpropagation visits nodes in reverse topological order. When it reaches a node
``v``, every node that uses ``v`` already has its final gradient, and ``v``
receives

    dL/dv = sum over the users p of v of  dp/dv * dL/dp,

with dp/dv the local derivative stored on ``p`` at the forward pass. Frame 0
seeds the output with dL/dL = 1; frame k shows the k-th node receiving its
gradient (amber), the edges it arrives along (blue), the nodes already done (green)
and those still waiting ("grad ?"). The gradients are this pass's own (as
``autograd_scalar.grad`` computes them); no ``.grad`` is changed.

The HTML page is self-contained (inline SVG frames and script, nothing fetched),
so it works offline and in any browser. The GIF needs PNG rendering (Graphviz's
``dot``) and Pillow.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from textwrap import wrap
from typing import Any

from ..backward import gradients, topological_order
from ..files import output_file, write_atomically
from ..value import Value
from .dot_text import CLOSE_ISOLATE, OPEN_ISOLATE, isolated
from .graph import Options, Overlay, build, check_options, number, parameter_names
from .layout import (
    INSTALL_HINT,
    GraphvizNotFound,
    has_dot,
    has_graphviz,
    image_bytes,
    plain_layouts,
)
from .reading import display_name as reading_name
from .reading import reading_order
from .summary import explore

CURRENT = {"style": "filled", "fillcolor": "#ffd54f", "penwidth": "3", "color": "#b07800"}
DONE = {"style": "filled", "fillcolor": "#c7e9c0"}
ARRIVING = {"color": "#1f77b4", "penwidth": "3"}
ANIMATION_FORMATS = (".html", ".htm", ".gif")


@dataclass
class Step:
    """One frame: the node that gets its gradient, and the terms it sums.

    ``sources`` holds (user, dp/dv, dL/dp) for each use of the node.
    """

    node: Value
    grad: float
    sources: list[tuple[Value, float, float]]


def backward_steps(root: Value) -> list[Step]:
    """The backward pass as steps, in the order backpropagation finalises the nodes."""
    final = gradients(root)
    order = topological_order(root)
    uses: dict[Value, list[tuple[Value, float, float]]] = {node: [] for node in order}
    for node in order:
        for child, local in zip(node.children, node.local_grads):
            uses[child].append((node, float(local), float(final[node])))
    return [Step(node, float(final[node]), uses[node]) for node in reversed(order)]


def display_name(node: Value, options: Options) -> str:
    """What a caption calls ``node``: its name in the drawings (parameter name or
    label; a right-to-left one as an isolate, :func:`~.dot_text.isolated`), else the id
    its record shows (``options.ids``: ``n4``, the explore view's id of it), else what
    made it: ``tanh node``, ``leaf node``."""
    return (isolated(reading_name(node, options.names)) or options.ids.get(node)
            or f"{node.op or 'leaf'} node")


def unnamed_ids(root: Value, names: dict[Value, str]) -> dict[Value, str]:
    """``n<k>`` for each node without a label or parameter name, k its place in reading
    order: the id the explore view shows on it, so that both views call it the same."""
    return {node: f"n{k}" for k, node in enumerate(reading_order(root))
            if not reading_name(node, names)}


def describe_step(index: int, total: int, step: Step, options: Options,
                  name_of: Callable[[Value], str] | None = None,
                  definition: Callable[[Value], str] | None = None) -> str:
    """The frame's caption: the chain rule that gives the node its gradient, in symbols
    and in numbers (:func:`chain_rule_text`), as the explorer's panel writes it.

    ``name_of`` names the nodes (:func:`display_name` by default). The explorer's view
    says the same sentence with its own names, the ids its boxes show, and with
    ``definition`` saying what an unnamed node is before its formula: "Step 3 of 9
    (n4 = relu of n3): dL/d(n4) = ...".
    """
    call = name_of if name_of is not None else (lambda node: display_name(node, options))
    name = call(step.node)
    head = f"Step {index} of {total}{definition(step.node) if definition else ''}: "
    if not step.sources:
        return f"{head}dL/d({name}) = 1 (the seed of the backward pass)"
    return head + chain_rule_text(name, step.sources, step.grad, call, options.precision)


TERMS_SHOWN = 12
"""Distinct numeric terms a chain rule's text writes out before "… (k more)"."""


def chain_rule_text(name: str, sources: list[tuple[Value, float, float]], grad: float,
                    name_of: Callable[[Value], str], precision: int) -> str:
    """dL/dv = sum over the uses (p, dp/dv, dL/dp) of dL/dp · dp/dv, in symbols (up to
    three uses; past that, the sum in words), then in numbers, then the total::

        dL/d(x) = dL/d(u) · d(u)/d(x) + dL/d(v) · d(v)/d(x) = 2 × 0.3 + 1 × 0.4 = 1

    Identical numeric terms are counted once ("20 × (0.5 × 1)"), and at most
    :data:`TERMS_SHOWN` distinct ones are written.
    """
    if len(sources) > 3:
        symbols = f"the sum over its {len(sources)} users u of dL/du · du/d({name})"
    else:
        symbols = " + ".join(f"dL/d({name_of(user)}) · d({name_of(user)})/d({name})"
                             for user, _, _ in sources)
    counts: dict[str, int] = {}
    for _, local, upstream in sources:
        key = f"{number(upstream, precision)} × {number(local, precision)}"
        counts[key] = counts.get(key, 0) + 1
    parts = [f"{n} × ({key})" if n > 1 else key for key, n in counts.items()]
    shown = " + ".join(parts[:TERMS_SHOWN])
    if len(parts) > TERMS_SHOWN:
        shown += f" + … ({len(parts) - TERMS_SHOWN} more)"
    return f"dL/d({name}) = {symbols} = {shown} = {number(grad, precision)}"


def frame_overlays(steps: list[Step], options: Options) -> list[Overlay]:
    """One Overlay per step: the gradients known so far and the colours of the frame."""
    shown: dict[Value, float] = {}
    overlays = []
    total = len(steps) - 1
    for index, step in enumerate(steps):
        node_attrs: dict[Value, dict[str, str]] = {node: DONE for node in shown}
        node_attrs[step.node] = CURRENT
        shown[step.node] = step.grad
        edges = {(step.node, user): ARRIVING for user, _, _ in step.sources}
        overlays.append(Overlay(dict(shown), node_attrs, edges,
                                describe_step(index, total, step, options)))
    return overlays


def animate_backward(root: Value, path: str | os.PathLike[str], *, rankdir: str = "LR",
                     precision: int = 4, compact: bool = False, names: Any = None,
                     max_nodes: int = 100, seconds_per_step: float = 1.0) -> Path:
    """Write the backward pass of ``root``'s graph as ``.html`` (slider) or ``.gif``.

    One frame per node, so graphs over ``max_nodes`` nodes are refused (draw them
    with ``draw_graph``, which summarises). On the page, a frame wider than the window
    is drawn no smaller than its text can be read and scrolls sideways ("Fit width"
    shows it whole). Returns the path written.
    """
    options = Options(rankdir=rankdir, precision=precision, compact=compact,
                      max_nodes=max_nodes, names=parameter_names(names, "animate_backward"))
    check_options(root, options, "animate_backward")
    target = output_file(path, "animate_backward")
    suffix = target.suffix.lower()
    if suffix not in ANIMATION_FORMATS:
        raise ValueError(f"animate_backward: cannot tell the format of {str(target)!r}: "
                         f"expected a file name ending in .html or .gif")
    if not (isinstance(seconds_per_step, (int, float)) and 0 < seconds_per_step <= 60):
        raise ValueError(f"animate_backward: seconds_per_step must be a number in (0, 60], "
                         f"got {seconds_per_step!r}")
    if suffix == ".gif":
        require_gif_tools()
    _, _, complete = explore(root, max_nodes)
    if not complete:
        count = len(topological_order(root))
        raise ValueError(f"animate_backward draws one frame per node and the graph has "
                         f"{count} nodes, more than max_nodes={max_nodes}: pass "
                         f"max_nodes={count} to animate them all, or animate a smaller graph "
                         "(draw_graph summarises large ones)")
    sources, captions = frames(root, options)
    if suffix == ".gif":
        data = gif_bytes([image_bytes(source, "png") for source in sources], seconds_per_step)
    else:
        svgs = [image_bytes(source, "svg").decode("utf-8") for source in sources]
        data = html_page(svgs, captions, seconds_per_step).encode("utf-8")
    write_atomically(target, data)
    return target


def backward_frames(root: Value, *, rankdir: str = "LR", precision: int = 4,
                    compact: bool = False, names: Any = None,
                    max_nodes: int = 100) -> tuple[list[str], list[str]]:
    """The DOT text and the caption of every frame ``animate_backward`` would draw."""
    options = Options(rankdir=rankdir, precision=precision, compact=compact,
                      max_nodes=max_nodes, names=parameter_names(names, "backward_frames"))
    check_options(root, options, "backward_frames")
    return frames(root, options)


def frames(root: Value, options: Options) -> tuple[list[str], list[str]]:
    """The DOT text and the caption of every frame, drawn so that no node moves from one
    frame to the next.

    Graphviz places each frame's nodes anew, and a node's size follows its text: "grad
    ?" is narrower than the gradient that replaces it, and a caption wider than the
    graph widens the picture around it, so nodes would slide between steps. So every
    node gets, in every frame, its size in the frame where it is largest (the first,
    all gradients unknown, or the last, all known: its text is one or the other), and
    each caption is wrapped to the graph's width and padded to as many lines as the
    longest. Without any Graphviz to measure sizes, the frames are left as they are.
    A node without a name is drawn, and called in the captions, by its id
    (:func:`unnamed_ids`).
    """
    options = replace(options, ids=unnamed_ids(root, options.names))
    overlays = frame_overlays(backward_steps(root), options)
    captions = [overlay.caption for overlay in overlays]
    if not has_graphviz():
        return [build(root, options, overlay).source for overlay in overlays], captions
    bare = [build(root, options, replace(overlays[i], caption="")).source for i in (0, -1)]
    sizes, width = largest_sizes(plain_layouts(bare))
    wrapped = [wrapped_caption(caption, caption_characters(width)) for caption in captions]
    lines = max(map(len, wrapped))
    sources = []
    for overlay, caption in zip(overlays, wrapped):
        padded = "\n".join(caption + [" "] * (lines - len(caption)))
        drawing = build(root, options, replace(overlay, caption=padded))
        for name, (node_width, node_height) in sizes.items():
            drawing.node(name, width=f"{node_width:g}", height=f"{node_height:g}",
                         fixedsize="true")
        sources.append(drawing.source)
    return sources, captions


def wrapped_caption(caption: str, width: int) -> list[str]:
    """``caption`` in lines of at most ``width`` characters (as ``textwrap.wrap`` breaks
    them), each line a paragraph of its own: a name set apart as an isolate
    (:func:`~.dot_text.isolated`) and broken across lines is closed at the end of one
    line and opened again at the start of the next, so that its rest never takes the
    numbers after it into its direction."""
    lines = []
    open_isolate = False
    for line in wrap(caption, width) or [""]:
        text = (OPEN_ISOLATE if open_isolate else "") + line
        open_isolate = text.count(OPEN_ISOLATE) > text.count(CLOSE_ISOLATE)
        lines.append(text + (CLOSE_ISOLATE if open_isolate else ""))
    return lines


CAPTION_POINTS = 12 * 0.62
"""Width in points that a character of a caption takes at most on average (the graph's
12-point Helvetica, digits and capitals being its widest letters)."""


def caption_characters(inches: float) -> int:
    """How many characters of caption fit on one line across ``inches`` of graph."""
    return max(24, int(inches * 72 / CAPTION_POINTS))


def largest_sizes(layouts: list[str]) -> tuple[dict[str, tuple[float, float]], float]:
    """Each node's largest width and height over Graphviz ``plain`` layouts, in inches,
    and the widest graph's width."""
    sizes: dict[str, tuple[float, float]] = {}
    width = 0.0
    for layout in layouts:
        for line in layout.splitlines():
            words = line.split()
            if words[:1] == ["graph"]:
                width = max(width, float(words[2]))
            elif words[:1] == ["node"]:
                old = sizes.get(words[1], (0.0, 0.0))
                sizes[words[1]] = (max(old[0], float(words[4])), max(old[1], float(words[5])))
    return sizes, width


def require_gif_tools() -> None:
    """Fail early, before any work, if a GIF cannot be made here."""
    if not has_dot():
        raise GraphvizNotFound("a GIF is made of PNG frames, which need Graphviz's dot "
                               "program (not on PATH); the .html animation works without it. "
                               "To make a GIF, " + INSTALL_HINT)
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        raise ImportError("a GIF needs Pillow: pip install pillow (the \"gif\" extra) "
                          "(or write .html, which needs nothing more)") from None


LAST_FRAME_STEPS = 3
"""How many steps' time a GIF shows its last frame, at least :data:`LAST_FRAME_SECONDS`:
looping straight from the end back to the seed, a viewer never saw the pass finish."""
LAST_FRAME_SECONDS = 2.0


def gif_bytes(pngs: list[bytes], seconds_per_step: float) -> bytes:
    """The PNG frames as one looping GIF, each frame padded to the largest size, the last
    held longer (:data:`LAST_FRAME_STEPS`) so that the end shows before the loop."""
    from PIL import Image

    frames = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    width = max(frame.width for frame in frames)
    height = max(frame.height for frame in frames)
    padded = []
    for frame in frames:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(frame, (0, 0))
        padded.append(canvas)
    last = max(LAST_FRAME_STEPS * seconds_per_step, LAST_FRAME_SECONDS)
    durations = [round(seconds_per_step * 1000)] * (len(padded) - 1) + [round(last * 1000)]
    out = io.BytesIO()
    padded[0].save(out, format="GIF", save_all=True, append_images=padded[1:],
                   duration=durations, loop=0)
    return out.getvalue()


def inline_svg(svg: str) -> str:
    """The <svg> element alone (no XML prolog or doctype), to place inside HTML."""
    return svg[svg.index("<svg"):]


def html_page(svgs: list[str], captions: list[str], seconds_per_step: float) -> str:
    """A page that shows one frame at a time: slider, previous, next, play/pause, and the
    arrow and page keys (a presenter's clicker sends PageDown and PageUp), one step a key
    press wherever the focus is.

    A frame is drawn at its natural size, shrunk to the page's width only as far as its
    text stays readable (:func:`frame_widths`); past that it scrolls sideways under the
    controls and caption, which stay in view, to keep each step's amber node in view, and
    "Fit width" shows it whole.
    """
    frames = "\n".join(
        f'<div class="frame" data-caption="{html.escape(caption)}" style="{frame_widths(svg)}"'
        f'{"" if i == 0 else " hidden"}>{inline_svg(svg)}</div>'
        for i, (svg, caption) in enumerate(zip(svgs, captions)))
    last = len(svgs) - 1
    return PAGE.format(frames=frames, last=last, first_caption=html.escape(captions[0]),
                       interval=round(seconds_per_step * 1000),
                       current_fill=CURRENT["fillcolor"])


MIN_TEXT_PX = 9.0
"""The smallest, in CSS pixels, that a frame's text is shrunk to on the page: smaller,
a node's numbers cannot be read, so a wider frame scrolls instead."""


def frame_widths(svg: str) -> str:
    """The CSS variables the page sizes a frame by: ``--natural``, the width Graphviz
    gave it, and ``--readable``, the narrowest it may be drawn, at which its smallest text
    is :data:`MIN_TEXT_PX` tall (text of size s in a viewBox w wide, drawn d pixels wide,
    is s·d/w pixels)."""
    tag = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
    natural = re.search(r'\bwidth="([^"]+)"', tag)
    box = re.search(r'\bviewBox="[-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)', tag)
    sizes = [size for size in map(float, re.findall(r'font-size="([\d.]+)"', svg)) if size > 0]
    if natural is None or box is None or not sizes:
        return "--natural: 100%; --readable: 0px"
    readable = float(box.group(1)) * MIN_TEXT_PX / min(sizes)
    return f"--natural: {natural.group(1)}; --readable: {readable:.0f}px"


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backward pass, step by step</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1.5em; }}
#controls {{ display: flex; gap: 0.5em; align-items: center; margin-bottom: 0.5em; }}
#slider {{ width: 20em; }}
#bar {{ position: sticky; top: 0; z-index: 1; background: white; padding-top: 0.25em; }}
#caption {{ min-height: 2.5em; margin: 0 0 0.5em; }}
#frames {{ overflow: auto; max-height: 80vh; }}
.frame svg {{ width: min(var(--natural), max(100%, var(--readable))); height: auto; }}
body.fit .frame svg {{ width: min(var(--natural), 100%); }}
#fit[aria-pressed="true"] {{ background: #cfe3f7; }}
</style>
</head>
<body data-frame="0">
<h1>Backward pass, step by step</h1>
<p>Amber: the node receiving its gradient at this step, along the blue edges, as the sum
over its users of (local derivative × the user's gradient). Green: done. "grad ?": not yet.</p>
<div id="bar">
<div id="controls">
<button id="prev" type="button">&#9664; Previous</button>
<button id="play" type="button">Play</button>
<button id="next" type="button">Next &#9654;</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<span id="counter">step 0 of {last}</span>
<button id="fit" type="button" aria-pressed="false" hidden
  title="Shrink the frame to the page's width, text and all">Fit width</button>
</div>
<p id="caption">{first_caption}</p>
</div>
<div id="frames">
{frames}
</div>
<script>
(function () {{
  var frames = Array.prototype.slice.call(document.querySelectorAll(".frame"));
  var slider = document.getElementById("slider");
  var counter = document.getElementById("counter");
  var caption = document.getElementById("caption");
  var play = document.getElementById("play");
  var fit = document.getElementById("fit");
  var box = document.getElementById("frames");
  var MIN_BOX = 240;  // px: a box never shorter, below a header taller than the window
  var last = frames.length - 1;
  var current = 0;
  var timer = null;
  function show(i) {{
    current = Math.max(0, Math.min(last, i));
    frames.forEach(function (frame, k) {{ frame.hidden = k !== current; }});
    slider.value = String(current);
    counter.textContent = "step " + current + " of " + last;
    caption.textContent = frames[current].getAttribute("data-caption");
    document.body.setAttribute("data-frame", String(current));
    offerFit();
    follow(frames[current].querySelector('[fill="{current_fill}"]'));
  }}
  function follow(node) {{  // a frame larger than its box keeps its amber node in view
    if (node === null) {{ return; }}
    var at = node.getBoundingClientRect(), view = box.getBoundingClientRect();
    if (at.left < view.left || at.right > view.right) {{
      box.scrollLeft += at.left - view.left - (view.width - at.width) / 2;
    }}
    if (at.top < view.top || at.bottom > view.bottom) {{
      box.scrollTop += at.top - view.top - (view.height - at.height) / 2;
    }}
  }}
  function offerFit() {{  // only a frame too wide to read whole needs it
    fit.hidden = fit.getAttribute("aria-pressed") !== "true"
                 && box.scrollWidth <= box.clientWidth;
  }}
  function stop() {{
    if (timer !== null) {{ clearInterval(timer); timer = null; }}
    play.textContent = "Play";
  }}
  function start() {{
    if (current === last) {{ show(0); }}
    play.textContent = "Pause";
    timer = setInterval(function () {{
      if (current >= last) {{ stop(); }} else {{ show(current + 1); }}
    }}, {interval});
  }}
  function step(by) {{ stop(); show(current + by); }}
  document.getElementById("prev").addEventListener("click", function () {{ step(-1); }});
  document.getElementById("next").addEventListener("click", function () {{ step(1); }});
  play.addEventListener("click", function () {{
    if (timer === null) {{ start(); }} else {{ stop(); }}
  }});
  fit.addEventListener("click", function () {{
    var on = document.body.classList.toggle("fit");
    fit.setAttribute("aria-pressed", String(on));
  }});
  function sizeCaption() {{  // as tall as the longest caption at this width: no jumps
    caption.style.minHeight = "";
    var tallest = 0;
    frames.forEach(function (frame) {{
      caption.textContent = frame.getAttribute("data-caption");
      tallest = Math.max(tallest, caption.getBoundingClientRect().height);
    }});
    caption.style.minHeight = tallest + "px";
    caption.textContent = frames[current].getAttribute("data-caption");
  }}
  function sizeBox() {{  // the frames' box ends at the window's foot: its scrollbars in view
    var top = box.getBoundingClientRect().top + window.scrollY;
    box.style.maxHeight = Math.max(MIN_BOX, window.innerHeight - top - 8) + "px";
  }}
  window.addEventListener("resize", function () {{ sizeCaption(); sizeBox(); offerFit(); }});
  slider.addEventListener("input", function () {{ stop(); show(parseInt(slider.value, 10)); }});
  var keys = {{ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1}};
  document.addEventListener("keydown", function (event) {{
    var by = keys[event.key];
    if (!by || event.altKey || event.ctrlKey || event.metaKey) {{ return; }}
    event.preventDefault();  // one step: not the slider's own move, nor a page scroll too
    step(by);
  }});
  sizeCaption();
  sizeBox();
  show(0);
}})();
</script>
</body>
</html>
"""
