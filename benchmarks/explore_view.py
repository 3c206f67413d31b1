"""How responsive the explore view is, in headless Chromium: 400, 4,000 and 20,000 nodes.

    python -m benchmarks.explore_view            # needs chromium and chromium-driver

For each size, an MLP(2, [16, 16, 1]) loss over enough examples to reach that many
nodes is built, ``explore`` lays it out (Python time, one run) and the page is
opened ``ROUNDS`` times. Measured in the browser, from one process:

- first paint: navigation start to the first frame after the view is drawn;
- open a group, close it, one backward step, a search, the heat-map toggle, a drag
  of two screens' width (which draws what comes into view): from the event to the
  next frame.

Each figure is the median over the rounds, with the range. The reference is the
budget of a frame at 60 Hz (16.7 ms) and the 100 ms a person reads as instant; the
target, every interaction under 100 ms at 20,000 nodes. ``python -m benchmarks``
writes the same table into RESULTS.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import autograd_scalar as ag
import nn

SIZES = (400, 4_000, 20_000)
ROUNDS = 5
NEXT_FRAME = """
var done = arguments[arguments.length - 1],
    root = document.querySelector('.agv-host').shadowRoot.querySelector('.agv');
var t0 = performance.now();
(%s)(root);
requestAnimationFrame(function () {
  setTimeout(function () { done(performance.now() - t0); }, 0);
});
"""
ACTIONS = {
    "open a group": "function (r) { var box = r.querySelector('.agv-box');"
                    " r.dataset.opened = box.getAttribute('data-g');"
                    " box.dispatchEvent(new MouseEvent('click', {bubbles: true})); }",
    # the open box's title, which lies in a layer of its own, above the edges
    "close it": "function (r) { r.querySelector('.agv-frame-title[data-g=\"' + r.dataset.opened"
                " + '\"]').dispatchEvent(new MouseEvent('click', {bubbles: true})); }",
    "one backward step": "function (r) { r.querySelector('.agv-step').click(); }",
    "search": "function (r) { var s = r.querySelector('.agv-search'); s.value = 'w[3]';"
              " s.dispatchEvent(new Event('input')); }",
    "heat map": "function (r) { r.querySelector('.agv-heat').click(); }",
    "drag two screens": "function (r) { var c = r.querySelector('.agv-canvas'), w = c.clientWidth;"
                        " function at(type, x, on) { on.dispatchEvent(new PointerEvent(type,"
                        " {bubbles: true, clientX: x, clientY: 200})); }"
                        " at('pointerdown', w, c); at('pointermove', w - 20, window);"
                        " at('pointermove', -w, window); at('pointerup', -w, window); }",
}
FIRST_PAINT = """
var done = arguments[arguments.length - 1];
requestAnimationFrame(function () { setTimeout(function () { done(performance.now()); }, 0); });
"""


def loss_with(nodes: int) -> tuple[nn.MLP, ag.Value]:
    """An MLP(2, [16, 16, 1]) squared-error loss over as many examples as make ``nodes``."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    rng = np.random.default_rng(0)
    outputs: list[ag.Value] = []
    while True:
        outputs.append((model(rng.normal(size=2)) - 1.0) ** 2)
        loss = ag.sum(outputs)
        if len(ag.topological_order(loss)) >= nodes:
            return model, loss


@dataclass
class Measured:
    """One size: the view's nodes and boxes, explore()'s seconds in Python, the page's
    bytes, and for each measure its times in ms, one per round."""

    nodes: int
    boxes: int
    seconds: float
    page: int
    times: dict[str, list[float]]


def available() -> bool:
    """Whether Chromium and its driver are installed (as the browser tests need them)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.autograd_scalar.browser import CHROMIUM, DRIVER

    return CHROMIUM is not None and DRIVER is not None


def measure(sizes: tuple[int, ...] = SIZES, rounds: int = ROUNDS) -> list[Measured]:
    """Every measure at every size, in one headless Chromium."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.autograd_scalar.browser import chromium

    driver = chromium()
    found = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for size in sizes:
                model, loss = loss_with(size)
                start = time.perf_counter()
                view = ag.explore(loss, names=model)
                built = time.perf_counter() - start
                page = view.save(Path(folder) / f"view_{size}.html")
                times: dict[str, list[float]] = {"first paint": []}
                for _ in range(rounds):
                    driver.get(page.as_uri())
                    times["first paint"].append(driver.execute_async_script(FIRST_PAINT))
                    for name, action in ACTIONS.items():
                        times.setdefault(name, []).append(
                            driver.execute_async_script(NEXT_FRAME % action))
                found.append(Measured(len(view.data["data"]), len(view.data["groups"]),
                                      built, page.stat().st_size, times))
    finally:
        driver.quit()
    return found


def markdown(rows: list[Measured], rounds: int = ROUNDS) -> str:
    """The table: one row per size, each time the median of the rounds and its range."""
    names = list(rows[0].times)
    lines = [f"Headless Chromium, MLP(2, [16, 16, 1]) squared-error losses, {rounds} page "
             "loads per size; each time the median, the range in brackets. Target: every "
             "interaction under 100 ms at 20,000 nodes.", "",
             "| nodes (boxes) | explore() in Python | page | "
             + " | ".join(names) + " |",
             "| --- | ---: | ---: | " + " | ".join("---:" for _ in names) + " |"]
    for row in rows:
        cells = [f"{statistics.median(t):,.0f} ms ({min(t):,.0f}-{max(t):,.0f})"
                 for t in row.times.values()]
        lines.append(f"| {row.nodes:,} ({row.boxes}) | {row.seconds:.1f} s | "
                     f"{row.page / 1e6:.1f} MB | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    print(markdown(measure()))


if __name__ == "__main__":
    main()
