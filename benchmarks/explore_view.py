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
budget of a frame at 60 Hz (16.7 ms) and the 100 ms a person reads as instant.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import autograd_scalar as ag
import nn

SIZES = (400, 4_000, 20_000)
ROUNDS = 5
NEXT_FRAME = """
var done = arguments[arguments.length - 1], root = document.querySelector('.agv');
var t0 = performance.now();
(%s)(root);
requestAnimationFrame(function () {
  setTimeout(function () { done(performance.now() - t0); }, 0);
});
"""
ACTIONS = {
    "open a group": "function (r) { r.querySelector('.agv-box').dispatchEvent("
                    "new MouseEvent('click', {bubbles: true})); }",
    "close it": "function (r) { r.querySelector('.agv-frame .agv-frame-title').dispatchEvent("
                "new MouseEvent('click', {bubbles: true})); }",
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


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):8.1f} ms  ({min(times):.1f}-{max(times):.1f})"


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.autograd_scalar.browser import chromium

    driver = chromium()
    try:
        with tempfile.TemporaryDirectory() as folder:
            for size in SIZES:
                model, loss = loss_with(size)
                start = time.perf_counter()
                view = ag.explore(loss, names=model)
                built = time.perf_counter() - start
                page = view.save(Path(folder) / f"view_{size}.html")
                results: dict[str, list[float]] = {"first paint": []}
                for _ in range(ROUNDS):
                    driver.get(page.as_uri())
                    results["first paint"].append(driver.execute_async_script(FIRST_PAINT))
                    for name, action in ACTIONS.items():
                        results.setdefault(name, []).append(
                            driver.execute_async_script(NEXT_FRAME % action))
                nodes = len(view.data["data"])
                print(f"{nodes:,} nodes, {len(view.data['groups']):,} groups: explore() "
                      f"{built:.1f} s in Python, page {page.stat().st_size / 1e6:.1f} MB")
                for name, times in results.items():
                    print(f"  {name:<18} {summary(times)}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
