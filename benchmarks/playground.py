"""How many updates per second the training playground plays: moons, MLP(2, [16, 16, 1]).

    python -m benchmarks.playground      # the page row needs chromium and chromium-driver

One update is one step of Adam on the 100 moons (full batch, compiled) and the new
state pushed to the page: the frame, the 48 x 48 grid of the decision boundary and
the heat map. Play as it runs (``nn.playground(...).play()``), measured two ways:

- in the kernel, with a stand-in for the page: a comm (installed through ``comm``'s
  documented ``create_comm`` hook) that serialises every message as the kernel's
  session would and answers each frame at once, as the page does when it receives
  one. This is the kernel's own cost per update; with the default cap (30 updates
  per second) and uncapped (the headroom).
- in JupyterLab 4 in headless Chromium with a live kernel: the step count the page
  shows, read every WINDOW seconds while playing, so every update crossed the
  server and the websocket both ways and was drawn.

Each figure is the median of ROUNDS windows, with the range.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nn
from nn import optim

ROUNDS = 5
WINDOW = 2.0
"""Seconds of play per measured window."""
CELL = """import nn
from nn import optim
X, y = nn.data.moons(100, noise=0.1, seed=0)
model = nn.MLP(2, [16, 16, 1], seed=0)
pg = nn.playground(model, X, y, loss="bce_with_logits",
                   optimizer=optim.Adam(model.parameters(), lr=0.03))
pg"""


def _packer() -> Any:
    try:
        from jupyter_client.session import json_packer
    except ImportError:
        return lambda data: json.dumps(data, allow_nan=False).encode("utf-8")
    return json_packer


def page_stand_in() -> type:
    """A comm class that plays the page: it serialises what the kernel sends and answers
    each frame the moment it arrives, through the widget's own message handling."""
    from comm.base_comm import BaseComm

    pack = _packer()

    class PageStandIn(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                        buffers: Any = None, **keys: Any) -> None:
            pack(data)
            for buffer in buffers or ():
                bytes(buffer)
            frame = json.loads(((data or {}).get("state") or {}).get("_frame") or "{}")
            if "id" in frame:
                self.handle_msg({"content": {"data": {"method": "custom", "content": {
                    "type": "received", "frame": frame["id"]}}}, "buffers": []})

    return PageStandIn


def kernel_rates(rounds: int = ROUNDS, max_rate: float = 30.0) -> list[float]:
    """Updates per second of play in this process, one figure per window."""
    import comm

    stand_in = page_stand_in()
    original = comm.create_comm
    comm.create_comm = stand_in
    try:
        X, y = nn.data.moons(100, noise=0.1, seed=0)
        model = nn.MLP(2, [16, 16, 1], seed=0)
        pg = nn.playground(model, X, y, loss="bce_with_logits", max_rate=max_rate,
                           optimizer=optim.Adam(model.parameters(), lr=0.03))
    finally:
        comm.create_comm = original
    rates = []
    pg.play()
    try:
        time.sleep(0.5)
        for _ in range(rounds):
            start, count = time.perf_counter(), pg.session.count
            time.sleep(WINDOW)
            rates.append((pg.session.count - count) / (time.perf_counter() - start))
    finally:
        pg.close()
    return rates


def available() -> bool:
    """Whether Chromium, its driver and JupyterLab are installed."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.autograd_scalar.browser import CHROMIUM, DRIVER

    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM is not None and DRIVER is not None


def page_rates(rounds: int = ROUNDS) -> list[float]:
    """Updates per second of play seen on a JupyterLab page, one figure per window."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.autograd_scalar.browser import chromium
    from tests.nn.test_playground_browser import click, shadow, step_of
    from tests.notebook_server import jupyter_server, open_notebook, run_cell, write_notebook
    from tests.notebook_server import poll as wait_for

    rates = []
    with tempfile.TemporaryDirectory() as folder, jupyter_server(Path(folder)) as (url, _):
        driver = chromium()
        try:
            write_notebook(Path(folder) / "playground.ipynb", [CELL])
            open_notebook(driver, url, "jupyterlab", "playground.ipynb")
            run_cell(driver, 0)
            root = wait_for(120, lambda: shadow(driver), "the playground")
            wait_for(30, lambda: step_of(root) == 0, "the first frame")
            click(root, ".pg-play")
            wait_for(30, lambda: step_of(root) > 5, "play")
            for _ in range(rounds):
                start, count = time.perf_counter(), step_of(root)
                time.sleep(WINDOW)
                rates.append((step_of(root) - count) / (time.perf_counter() - start))
            click(root, ".pg-pause")
        finally:
            driver.quit()
    return rates


def _cell(rates: list[float]) -> str:
    return (f"{statistics.median(rates):.1f} ({min(rates):.1f}-{max(rates):.1f}) "
            f"updates/s")


def markdown(rounds: int = ROUNDS) -> str:
    """The rows: the kernel with the page stood in (capped and not), then the real page."""
    lines = [f"Moons (100 points), MLP(2, [16, 16, 1]), Adam, full batch, compiled; one "
             f"update = one step + the frame pushed. Median of {rounds} windows of "
             f"{WINDOW:g} s of play, range in brackets.", "",
             "| where | updates per second (target >= 10) |", "| --- | ---: |",
             f"| kernel, page stood in, default cap (max_rate=30) | "
             f"{_cell(kernel_rates(rounds))} |",
             f"| kernel, page stood in, uncapped | "
             f"{_cell(kernel_rates(rounds, max_rate=1e6))} |"]
    if available():
        lines.append(f"| JupyterLab 4 page in headless Chromium, live kernel | "
                     f"{_cell(page_rates(rounds))} |")
    else:
        lines.append("| JupyterLab 4 page | not measured: needs chromium, chromium-driver "
                     "and jupyterlab |")
    return "\n".join(lines)


def main() -> None:
    print(markdown())


if __name__ == "__main__":
    main()
