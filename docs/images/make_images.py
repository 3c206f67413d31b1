"""Make every picture that README.md and the docs/ pages show, from the current code.

    python docs/images/make_images.py    (PNG and GIF need Graphviz's dot, the
                                          view's screenshot Chromium and its driver)

writes docs/images/* (the drawings of docs/tutorials/see-backprop.md and others) and
docs/cli/* (what ``autograd-scalar demo`` writes, made by running it), and
docs/images/sources.json, which records for each picture the SHA-256 of its bytes
and of its *source*: what the code draws, independent of the Graphviz and
matplotlib versions that turned it into pixels. A drawing's source is its DOT text;
the backward animation's, the DOT text of its frames; the playground's screenshot's,
its cell, its script and style and the frame its kernel sends (to 10 significant
digits); the demo's, its printed report (losses and accuracy, without the time taken)
and the text of its neuron drawing; the GPT's attention picture, its attention weights
(rounded to 1e-8); the screenshot of the interactive view's, the view's data without
its coordinates (which Graphviz versions place differently), its script and style, and
what the screenshot does (window size, search). tests/test_pictures.py makes every
source again and fails, naming the picture, when a stored one no longer matches what
the code draws.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

import nn  # noqa: E402
from autograd_scalar import (  # noqa: E402
    Function,
    Value,
    check_graph,
    draw_graph,
    render,
    topological_order,
)
from autograd_scalar.draw.animate import backward_frames  # noqa: E402
from autograd_scalar.draw.layout import has_dot  # noqa: E402
from autograd_scalar.explorer import GraphView, explore  # noqa: E402
from autograd_scalar.explorer.page import asset  # noqa: E402
from nn.cli import main as command  # noqa: E402

MANIFEST = HERE / "sources.json"
SUMMARY_BUDGET = 60
DEMO = ("demo", "--seed", "1337")
GIF_SECONDS_PER_STEP = 1.5
EXPLORE_WINDOW = (1100, 934)
EXPLORE_SEARCH = "layers.1.neurons.1.w[4]"
LAYOUT_KEYS = ("centres", "width", "height")
GPT_STEPS = 50
GPT_TEXT = "emma"


class Softsign(Function):
    """x / (1 + |x|), with a planted mistake: the rule forgets to square the denominator."""

    formula = "d/dx = 1 / (1 + |x|)   (wrong: should be squared)"

    @staticmethod
    def forward(x):
        return x / (1 + abs(x))

    @staticmethod
    def derivatives(x, out):
        return (1 / (1 + abs(x)),)


def neuron() -> Value:
    """The docs' neuron, o = tanh(x1 w1 + x2 w2 + b), after backward."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def planted_mistake() -> tuple[Value, Any]:
    """The check_graph example of docs/tutorials/check-derivatives.md, line for line (with
    :class:`Softsign` and the title in :func:`drawings`): its output and its report.
    tests/test_docs.py runs the page's example and checks that it draws this picture."""
    x, w, b = Value(0.7, "x"), Value(-1.3, "w"), Value(0.4, "b")
    z = x * w + b
    z.label = "z"
    y = Softsign.apply(z)
    y.label = "y"
    out = (y * y).tanh()
    out.label = "out"
    report = check_graph(out)
    out.backward()
    return out, report


def summary_loss() -> tuple[Value, nn.MLP]:
    """A squared-output loss of an MLP 2-8-8-1 over six examples, after backward."""
    model = nn.MLP(2, [8, 8, 1], seed=0)
    rows = [(0.3, -1.2), (1.1, 0.4), (-0.7, 0.9), (0.05, 0.5), (-1.5, -0.2), (0.8, 1.6)]
    loss = sum((model(list(row)) ** 2 for row in rows), Value(0.0, "zero"))
    loss.label = "loss"
    loss.backward()
    return loss, model


def summary_nodes() -> int:
    """How many nodes the summary picture's graph has (the page and title say this number)."""
    return len(topological_order(summary_loss()[0]))


def drawings() -> dict[str, Any]:
    """Every drawing of docs/images, by file stem."""
    out, report = planted_mistake()
    model = nn.MLP(2, [2, 1], seed=3)  # both hidden relus active: every weight gets a gradient
    prediction = model([0.5, -1.0])
    prediction.backward()
    loss, big = summary_loss()
    return {
        "neuron": draw_graph(neuron()),
        "check_graph": draw_graph(out, highlight=report,
                                  title="check_graph blames the Softsign node"),
        "heatmap": draw_graph(out, heatmap=True),
        "mlp_modules": draw_graph(prediction, cluster=True, compact=True, names=model),
        "network": nn.draw_network(nn.MLP(2, [4, 4, 1], seed=0)),
        "summary": draw_graph(loss, max_nodes=SUMMARY_BUDGET, cluster=True, heatmap=True,
                              names=big, title=f"a loss over six examples: "
                                                f"{len(topological_order(loss)):,} nodes"),
    }


def explore_view() -> GraphView:
    """The README's picture: an MLP 2-8-8-1 loss over eight examples, parameters by name."""
    model = nn.MLP(2, [8, 8, 1], seed=0)
    loss = sum(((model([0.1 * k, -0.3]) - 1.0) ** 2 for k in range(8)), Value(0.0, "zero"))
    loss.label = "loss"
    loss.backward()
    return explore(loss, names=model, max_nodes=120)


def explore_source(view: GraphView) -> str:
    """What the view's screenshot is made from: its data without coordinates, its
    script and style, and what the screenshot does."""
    data = dict(view.data)
    data["groups"] = [{k: v for k, v in group.items() if k not in LAYOUT_KEYS}
                      for group in data["groups"]]
    recipe = {"window": EXPLORE_WINDOW, "search": EXPLORE_SEARCH, "cell": EXPLORE_CELL,
              "front end": "jupyterlab"}
    return "\n".join([json.dumps(data, sort_keys=True), asset("view.js"), asset("view.css"),
                       json.dumps(recipe)])


EXPLORE_CELL = """import autograd_scalar as ag, nn
from autograd_scalar import Value
model = nn.MLP(2, [8, 8, 1], seed=0)
loss = sum(((model([0.1 * k, -0.3]) - 1.0) ** 2 for k in range(8)), Value(0.0, "zero"))
loss.label = "loss"
loss.backward()
ag.explore(loss, names=model, max_nodes=120)"""
"""The notebook cell of the view's screenshot: :func:`explore_view`, as a person types it."""


@contextlib.contextmanager
def notebook_in_lab(cell: str) -> Iterator[tuple[Any, Any]]:
    """JupyterLab with a live kernel in headless Chromium at EXPLORE_WINDOW (CSS pixels,
    scale 1): a notebook of ``cell``, run, and the file browser folded away, as for a
    screenshot. Yields the driver and the cell's element."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from tests.autograd_scalar.browser import chromium
    from tests.notebook_server import jupyter_server, open_notebook, run_cell, write_notebook

    width, height = EXPLORE_WINDOW
    with tempfile.TemporaryDirectory() as folder, jupyter_server(Path(folder)) as (url, _):
        write_notebook(Path(folder) / "picture.ipynb", [cell])
        driver = chromium(width, height)
        try:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            open_notebook(driver, url, "jupyterlab", "picture.ipynb")
            ran = run_cell(driver, 0)
            ActionChains(driver).key_down(Keys.CONTROL).send_keys("b").key_up(
                Keys.CONTROL).perform()
            yield driver, ran
        finally:
            driver.quit()


def settled_screenshot(driver: Any, path: Path) -> Path:
    """The window as PNG at ``path``, after the next frame has been drawn."""
    driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "requestAnimationFrame(function () { setTimeout(done, 300); });")
    path.write_bytes(driver.get_screenshot_as_png())
    return path


def screenshot_view(view: GraphView, path: Path) -> Path:
    """Run EXPLORE_CELL in JupyterLab (:func:`notebook_in_lab`), search EXPLORE_SEARCH in
    the view and write the window as PNG. ``view`` is the same view made here (its data
    must agree)."""
    from selenium.webdriver.common.by import By

    from tests.notebook_server import shadow, view_in

    with notebook_in_lab(EXPLORE_CELL) as (driver, cell):
        host = view_in(driver, cell)
        shown = shadow(driver, host, "return view.data.data.length;")
        if shown != len(view.data["data"]):
            raise RuntimeError(f"the notebook's view has {shown} nodes, explore_view() "
                               f"{len(view.data['data'])}")
        host.shadow_root.find_element(By.CSS_SELECTOR, ".agv-search").send_keys(EXPLORE_SEARCH)
        shadow(driver, host, "root.querySelector('.agv-panel').scrollIntoView("
               "{block: 'end'});")               # the found node's panel in view
        return settled_screenshot(driver, path)


PLAYGROUND_CELL = """import nn
from nn import optim
X, y = nn.data.moons(100, noise=0.1, seed=0)
model = nn.MLP(2, [16, 16, 1], seed=0)
pg = nn.playground(model, X, y, loss="bce_with_logits",
                   optimizer=optim.Adam(model.parameters(), lr=0.03), title="moons")
pg.step(150)
pg"""
"""The notebook cell of the playground's screenshot: 150 steps, then the widget."""


def significant(thing: Any, digits: int = 10) -> Any:
    """``thing`` (JSON-like) with every float to ``digits`` significant digits: NumPy
    versions differ in the last bits of a sum (150 training steps leave 4e-14 apart),
    which no picture shows."""
    if isinstance(thing, float):
        return float(f"{thing:.{digits}g}")
    if isinstance(thing, dict):
        return {key: significant(value, digits) for key, value in thing.items()}
    if isinstance(thing, (list, tuple)):
        return [significant(value, digits) for value in thing]
    return thing


def playground_source() -> str:
    """What the playground's screenshot is made from: the cell, the widget's script and
    style, and the frame the kernel sends after the cell's steps (made here alike, its
    numbers to 10 significant digits)."""
    from nn.playground import widget

    namespace: dict[str, Any] = {}
    exec(PLAYGROUND_CELL.rsplit("\n", 1)[0], namespace)
    folder = Path(widget.__file__).parent
    return "\n".join([PLAYGROUND_CELL, (folder / "playground.js").read_text(encoding="utf-8"),
                      (folder / "playground.css").read_text(encoding="utf-8"),
                      json.dumps(significant(namespace["pg"].frame), sort_keys=True),
                      json.dumps({"window": EXPLORE_WINDOW})])


def screenshot_playground(path: Path) -> Path:
    """Run PLAYGROUND_CELL in JupyterLab (:func:`notebook_in_lab`) and write the window,
    the widget in view, as PNG."""
    from tests.notebook_server import poll

    with notebook_in_lab(PLAYGROUND_CELL) as (driver, _):
        host = poll(60, lambda: driver.find_element(
            "css selector", ".jp-OutputArea-output .nn-playground[data-mounted]"),
            "the playground drawn")
        poll(30, lambda: "step 150" in host.shadow_root.find_element(
            "css selector", ".pg-loss-text").text, "the kernel's frame")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", host)
        return settled_screenshot(driver, path)


def backward_sources() -> str:
    """The DOT text of every frame of the backward animation of :func:`neuron`."""
    sources, _ = backward_frames(neuron())
    return "\n".join(sources)


def run_demo(folder: Path) -> str:
    """Run ``autograd-scalar demo --out folder``; its report without the time taken."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = command([*DEMO, "--out", str(folder)])
    if status != 0:
        raise RuntimeError(f"autograd-scalar demo exited with {status}")
    report = re.sub(r"done in [\d.]+ s", "done", printed.getvalue())
    return re.sub(r"wrote \S+[/\\]", "wrote ", report)


SHOWN_TEXT = re.compile(r'>([^<>]+)</(?:text|title)>|xlink:title="([^"]*)"')
"""A text element or title (group 1), or a tooltip (group 2), in Graphviz's SVG."""


def svg_words(svg: str) -> str:
    """The text an SVG drawing shows (its labels, titles and tooltips: a node's numbers,
    an op's rule), without coordinates, which differ from one Graphviz version to
    another."""
    return "\n".join(text + tooltip for text, tooltip in SHOWN_TEXT.findall(svg))


def demo_source(folder: Path) -> str:
    """The demo's source: its report, and the words of its neuron drawing."""
    report = run_demo(folder)
    return report + svg_words((folder / "neuron.svg").read_text(encoding="utf-8"))


def gpt_after_training() -> tuple[Any, Any]:
    """microgpt's GPT (seed 42) after GPT_STEPS names in microgpt's order, and its tokenizer."""
    import random

    from nn.gpt import GPT, CharTokenizer, train

    docs = nn.data.names()
    random.Random(42).shuffle(docs)
    tokenizer = CharTokenizer.from_documents(docs)
    model = GPT(tokenizer.vocab_size, seed=42)
    train(model, tokenizer, docs, steps=GPT_STEPS, progress=False)
    return model, tokenizer


def gpt_attention_source(model: Any, tokenizer: Any) -> str:
    """The attention weights the picture shows, reading [bos] + GPT_TEXT, as text."""
    import numpy as np

    from nn.gpt.inspection import attention_weights

    weights = attention_weights(model, tokenizer.encode(GPT_TEXT)[:-1])
    return np.array2string(np.round(weights, 8), threshold=10**6)


def sources() -> dict[str, str]:
    """What each picture is made from, by path relative to the repository."""
    found = {}
    for name, drawing in drawings().items():
        for suffix in (".svg", ".png"):
            found[f"docs/images/{name}{suffix}"] = drawing.source
    found["docs/images/backward.gif"] = backward_sources()
    found["docs/images/explore.png"] = explore_source(explore_view())
    found["docs/images/playground.png"] = playground_source()
    with tempfile.TemporaryDirectory() as folder:
        demo = demo_source(Path(folder))
    for name in ("decision_boundary.png", "loss.png", "neuron.svg"):
        found[f"docs/cli/{name}"] = demo
    found["docs/images/gpt_attention.png"] = gpt_attention_source(*gpt_after_training())
    return found


def digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def write_pictures(echo: Callable[[str], None] = print) -> None:
    """Draw every picture into docs/, then record the manifest."""
    if not has_dot():
        raise SystemExit("make_images.py needs Graphviz's dot for PNG and GIF: "
                         "apt-get install graphviz")
    from tests.autograd_scalar.browser import CHROMIUM, DRIVER

    if CHROMIUM is None or DRIVER is None:
        raise SystemExit("make_images.py needs Chromium and its driver for the view's "
                         "screenshot: apt-get install chromium chromium-driver")
    for name, drawing in drawings().items():
        for suffix in (".svg", ".png"):
            echo(str(render(drawing, HERE / f"{name}{suffix}").relative_to(ROOT)))
    from autograd_scalar import animate_backward

    gif = animate_backward(neuron(), HERE / "backward.gif",
                           seconds_per_step=GIF_SECONDS_PER_STEP)
    echo(str(gif.relative_to(ROOT)))
    echo(str(screenshot_view(explore_view(), HERE / "explore.png").relative_to(ROOT)))
    echo(str(screenshot_playground(HERE / "playground.png").relative_to(ROOT)))
    run_demo(ROOT / "docs" / "cli")
    echo("docs/cli/decision_boundary.png docs/cli/loss.png docs/cli/neuron.svg")
    write_gpt_attention(echo)
    manifest = {path: {"source": digest(source), "bytes": digest((ROOT / path).read_bytes())}
                for path, source in sorted(sources().items())}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    echo(str(MANIFEST.relative_to(ROOT)))


def write_gpt_attention(echo: Callable[[str], None] = print) -> None:
    """The attention of the trained GPT's heads reading GPT_TEXT (docs/images/gpt_attention.png)."""
    from nn.gpt.inspection import plot_attention

    model, tokenizer = gpt_after_training()
    path = HERE / "gpt_attention.png"
    plot_attention(model, tokenizer, GPT_TEXT, path=str(path))
    echo(str(path.relative_to(ROOT)))


if __name__ == "__main__":
    write_pictures()
