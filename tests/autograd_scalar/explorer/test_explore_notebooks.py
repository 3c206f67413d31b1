"""The graph view where people use it: JupyterLab 4 and Notebook 7 in headless Chromium.

Live (a kernel behind the page): the view of an MLP loss over 20 moons, of a 10,000-node
loss, of a check_graph report and of a GPT position opens readable (text at least 9 px
on screen), every label drawn is where a click lands on it, clicking a node tells the
kernel which Value it is, and ``refresh()`` after an optimizer step changes the numbers
on the page. Stored (run, saved, reopened without a kernel, untrusted as a fresh clone
is): every output shows a picture, never an object's repr.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.autograd_scalar.browser import artefacts, browser, needs_chromium
from tests.notebook_server import (
    HIT_TEST,
    execute_stored,
    open_notebook,
    output_text,
    run_cell,
    server,
    shadow,
    view_in,
    wait_for,
    write_notebook,
)

__all__ = ["artefacts", "browser", "server"]
pytestmark = [pytest.mark.browser, needs_chromium]

SETUP = """import autograd_scalar as ag, nn
model = nn.MLP(2, [16, 16, 1], seed=0)
X, y = nn.data.moons(20, noise=0.1, seed=0)
def loss_of(model, X, y):
    loss = ag.sum([(model(list(x)) - float(t)) ** 2 for x, t in zip(X, y)])
    model.zero_grad()
    loss.backward()
    return loss
loss = loss_of(model, X, y)
view = ag.explore(loss, names=model)
view"""
SELECTED = "print('selected:', view.selected is loss, view.selected.data)"
STEP = """optimizer = nn.optim.SGD(model.parameters(), lr=0.05)
optimizer.step()
loss = loss_of(model, X, y)
view.refresh(loss)
print(f"new loss {loss.data:.4g}")"""
BIG = """Xb, yb = nn.data.moons(145, noise=0.1, seed=1)
big = loss_of(model, Xb, yb)
print(len(ag.topological_order(big)), "nodes")
ag.explore(big, names=model)"""
REPORT = """class Softsign(ag.Function):
    @staticmethod
    def forward(x):
        return x / (1 + abs(x))
    @staticmethod
    def derivatives(x, out):
        return (1 / (1 + abs(x)),)   # the square is missing
xs = [ag.Value(0.3 * k - 1.0, label=f"x{k}") for k in range(12)]
total = ag.sum([Softsign.apply(x * x + 0.5) * x for x in xs])
ag.explore(ag.check_graph(total))"""
GPT = """import random
from nn.gpt import GPT, CharTokenizer
from nn.gpt.inspection import position_loss
docs = nn.data.names()[:200]
tokenizer = CharTokenizer.from_documents(docs)
gpt = GPT(tokenizer.vocab_size, seed=42)
position = position_loss(gpt, tokenizer.encode("emma"), 3)
position.backward()
ag.explore(position, names=gpt)"""
DISPLAYED = """Xh, yh = nn.data.moons(600, noise=0.1, seed=2)
huge = loss_of(model, Xh, yh)
huge"""


def assert_readable_and_clickable(browser: Any, host: Any, name: str, artefacts: Path) -> dict:
    """Text at least 9 px on screen, and every node and box drawn in view (three at
    least) is where a click lands."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", host)
    time.sleep(0.4)
    browser.save_screenshot(str(artefacts / f"{name}.png"))
    font = shadow(browser, host, "var t = root.querySelector('.agv-node .agv-name');"
                  "return t ? parseFloat(getComputedStyle(t).fontSize) * view.state.s : 0;")
    assert font >= 9, f"{name}: labels drawn {font:.1f} px high"
    hits = shadow(browser, host, HIT_TEST)
    assert hits["seen"] >= 3, f"{name}: only {hits['seen']} nodes and boxes in view: {hits}"
    assert hits["hit"] == hits["seen"], f"{name}: labels not where clicks land: {hits}"
    assert hits["canvas"]["height"] > 150
    # the view's top in the notebook's scrolling area, the panel a hovered node fills
    # starts within it too (the canvas was sized to the window, pushing it out of sight)
    room = shadow(browser, host, PANEL_IN_VIEW)
    assert room["panel"] + 40 <= room["area"], f"{name}: the node panel is out of view: {room}"
    return hits


PANEL_IN_VIEW = """
var area = document.documentElement;
for (var e = root.host.parentElement; e && e !== document.body; e = e.parentElement) {
  if (/auto|scroll/.test(getComputedStyle(e).overflowY)) { area = e; }
}
var chain = root.querySelector('.agv-chain');
return {panel: root.querySelector('.agv-panel').getBoundingClientRect().top,
        chain: chain ? chain.getBoundingClientRect().top : null,
        area: area.getBoundingClientRect().bottom, where: area.className};
"""
"""Where the node panel and its chain-rule line (if a node is shown) start, and the
notebook's scrolling area (the outermost that holds the view) ends, on screen."""


@pytest.mark.parametrize("front_end", ["jupyterlab", "notebook7"])
def test_live_views_are_readable_clickable_and_follow_the_kernel(
        browser: Any, artefacts: Path, server: tuple[str, Path, dict[str, str]],
        front_end: str) -> None:
    url, folder, _ = server
    name = f"live_{front_end}.ipynb"
    write_notebook(folder / name, [SETUP, SELECTED, STEP, BIG, REPORT, GPT, DISPLAYED])
    open_notebook(browser, url, front_end, name)

    cell = run_cell(browser, 0)
    host = view_in(browser, cell)
    assert_readable_and_clickable(browser, host, f"{front_end}_mlp20", artefacts)
    # the host page's CSS does not reach the drawing: it fills its canvas
    sizes = shadow(browser, host, "return [root.querySelector('.agv-svg').getBoundingClientRect()"
                   ".height, root.querySelector('.agv-canvas').clientHeight];")
    assert sizes[0] >= sizes[1] - 2 > 150

    output = shadow(browser, host, "return view.data.outputs[0];")
    before = shadow(browser, host, "return root.querySelector('[data-n=\"' + args[0] + '\"]')"
                    ".textContent;", output)
    shadow(browser, host, "root.querySelector('[data-n=\"' + args[0] + '\"] rect')"
           ".dispatchEvent(new MouseEvent('click', {bubbles: true}));", output)
    assert shadow(browser, host, "return view.state.selected;") == output
    # the chain-rule line of the node clicked is on screen with the view's top
    room = shadow(browser, host, PANEL_IN_VIEW)
    assert room["chain"] is not None and room["chain"] + 14 <= room["area"], room
    time.sleep(1.0)  # the click's message reaches the kernel (a person is slower still)
    assert "selected: True" in output_text(run_cell(browser, 1))

    printed = output_text(run_cell(browser, 2))
    new_loss = printed.split("new loss ")[1].split()[0]
    wait_for(browser, lambda _: shadow(browser, host, "return root.querySelector('.agv')"
                                       ".getAttribute('data-refreshed');") == "1", 30)
    after = shadow(browser, host, "return root.querySelector('[data-n=\"' + args[0] + '\"]')"
                   ".textContent;", output)
    assert after != before and f"data {new_loss}" in after

    cell = run_cell(browser, 3)
    assert int(output_text(cell).split()[0]) > 10_000
    big = view_in(browser, cell)
    assert_readable_and_clickable(browser, big, f"{front_end}_10k", artefacts)
    # the loss over a batch opens on its output, a node of its own beside the boxes of
    # the batch's terms (not inside a closed run of node ids)
    titles = shadow(browser, big, "return view.data.groups.map(function (g) { return g.title; });")
    assert any(title.startswith("in parallel: ^2") for title in titles), titles
    assert shadow(browser, big, "var o = root.querySelector('[data-n=\"' + view.data.outputs[0]"
                  " + '\"] rect'), c = root.querySelector('.agv-canvas');"
                  "if (!o) { return false; } var r = o.getBoundingClientRect(),"
                  " b = c.getBoundingClientRect();"
                  "return r.left >= b.left && r.right <= b.right && r.top >= b.top"
                  " && r.bottom <= b.bottom;")
    # a big graph's closed boxes are laid out in the kernel when first opened
    closed = shadow(browser, big, LAZY_BOX)
    assert closed > 0, "every box of the 10k view was laid out up front"
    shadow(browser, big, "root.querySelector('.agv-box[data-g=\"' + args[0] + '\"] rect')"
           ".dispatchEvent(new MouseEvent('click', {bubbles: true}));", closed)
    wait_for(browser, lambda _: shadow(
        browser, big, "return !!root.querySelector('.agv-frame[data-g=\"' + args[0] + '\"]')"
        " && !!view.data.groups[args[0]].centres;", closed), 30)

    report = view_in(browser, run_cell(browser, 4))
    assert_readable_and_clickable(browser, report, f"{front_end}_check_graph", artefacts)
    failing = shadow(browser, report, HIT_FAILED)
    assert failing["visible"], failing
    assert "failing node" in shadow(browser, report, "return root.querySelector('.agv-note')"
                                    ".textContent;")

    gpt = view_in(browser, run_cell(browser, 5, seconds=180))
    assert_readable_and_clickable(browser, gpt, f"{front_end}_gpt_position", artefacts)

    # a graph over the display budget shows as the summary, not as a view (the work
    # the summary takes is bounded in test_explore.py)
    cell = run_cell(browser, 6)
    text = output_text(cell)
    assert "nodes" in text and "over the display budget" in text, text


LAZY_BOX = """
var gs = view.data.groups;
for (var g = 1; g < gs.length; g += 1) {
  if (!gs[g].centres && root.querySelector('.agv-box[data-g="' + g + '"]')) { return g; }
}
return -1;
"""
"""A box drawn closed whose layout the page does not have yet."""

HIT_FAILED = """
var node = root.querySelector('.agv-node.agv-failed'), box = root.querySelector('.agv-canvas')
  .getBoundingClientRect();
if (!node) { return {visible: false, why: 'no failing node drawn'}; }
var r = node.querySelector('rect').getBoundingClientRect(), x = r.left + r.width / 2,
    y = r.top + r.height / 2, found = root.elementFromPoint(x, y);
return {visible: x > box.left && x < box.right && y > box.top && y < box.bottom &&
        !!found && found.closest('[data-n]') === node, x: x, y: y};
"""


@pytest.mark.parametrize("front_end", ["jupyterlab", "notebook7"])
def test_stored_untrusted_notebooks_show_pictures_never_reprs(
        browser: Any, artefacts: Path, server: tuple[str, Path, dict[str, str]],
        front_end: str) -> None:
    url, folder, env = server
    name = f"stored_{front_end}.ipynb"
    drawing = ("x = ag.Value(2.0, label='x')\nout = (x * x).tanh()\nout.backward()\n"
               "ag.draw_graph(out)")
    write_notebook(folder / name, [SETUP, drawing, DISPLAYED])
    execute_stored(folder / name, env, trusted=False)
    open_notebook(browser, url, front_end, name)
    wait_for(browser, lambda d: len(d.find_elements(
        "css selector", ".jp-OutputArea-output img")) >= 2, 60)
    time.sleep(0.5)
    browser.save_screenshot(str(artefacts / f"{front_end}_untrusted.png"))
    pictures = browser.find_elements("css selector", ".jp-OutputArea-output img")
    for picture in pictures:
        assert browser.execute_script("return arguments[0].naturalWidth", picture) > 100
    text = " ".join(o.text for o in browser.find_elements("css selector", ".jp-OutputArea-output"))
    assert "object at 0x" not in text and "GraphView of" not in text
    assert "Error displaying widget" not in text
    assert "over the display budget" in text
