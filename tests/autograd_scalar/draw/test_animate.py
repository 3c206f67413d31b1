"""animate_backward: the steps are backprop's own, the page works in a real browser, GIFs."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import GraphvizNotFound, Value, animate_backward, topological_order
from autograd_scalar.draw.animate import (
    CURRENT,
    MIN_TEXT_PX,
    backward_frames,
    backward_steps,
    frame_overlays,
)
from autograd_scalar.draw.graph import Options
from autograd_scalar.draw.layout import has_graphviz, plain_layouts
from tests.autograd_scalar.browser import artefacts, browser, needs_chromium
from tests.autograd_scalar.graph_dot import expected_neuron_grads, neuron
from tests.graphviz_builds import needs_webassembly, without_graphviz

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
__all__ = ["artefacts", "browser"]


@pytest.fixture
def values() -> dict[str, Value]:
    return neuron()


def test_steps_give_each_node_its_gradient_after_all_its_users(values: dict[str, Value]) -> None:
    steps = backward_steps(values["o"])
    assert steps[0].node is values["o"]
    assert {s.node for s in steps} == set(topological_order(values["o"]))
    done: set[Value] = set()
    for step in steps:
        assert {user for user, _, _ in step.sources} <= done
        assert step.grad == pytest.approx(sum(local * up for _, local, up in step.sources)
                                          if step.sources else 1.0)
        done.add(step.node)
    expected = expected_neuron_grads()
    for step in steps:
        if step.node.label in expected:
            assert step.grad == pytest.approx(expected[step.node.label], abs=1e-12)


def test_a_node_used_twice_sums_both_uses() -> None:
    x = Value(3.0, "x")
    y = x * x + x
    y.label = "y"
    step = next(s for s in backward_steps(y) if s.node is x)
    assert len(step.sources) == 3  # twice in x * x, once in + x
    assert step.grad == pytest.approx(2 * 3.0 + 1)


def test_frames_mark_the_current_node_and_show_only_known_gradients(
        values: dict[str, Value]) -> None:
    steps = backward_steps(values["o"])
    overlays = frame_overlays(steps, Options())
    assert len(overlays) == len(steps)
    for k, (step, overlay) in enumerate(zip(steps, overlays)):
        assert overlay.node_attrs[step.node] == CURRENT
        assert overlay.grads is not None
        assert set(overlay.grads) == {s.node for s in steps[:k + 1]}
        assert overlay.caption.startswith(f"Step {k} of {len(steps) - 1}")


def test_animation_changes_no_gradient(values: dict[str, Value], tmp_path: Path) -> None:
    animate_backward(values["o"], tmp_path / "a.html")
    assert all(v.grad == 0.0 for v in topological_order(values["o"]))


def frames_of(page: str) -> list[str]:
    return re.findall(r'<div class="frame" data-caption="([^"]*)"', page)


def test_html_is_self_contained_with_one_frame_per_step(values: dict[str, Value],
                                                        tmp_path: Path) -> None:
    page = animate_backward(values["o"], tmp_path / "a.html").read_text()
    captions = [html.unescape(c) for c in frames_of(page)]
    assert len(captions) == len(topological_order(values["o"]))
    assert captions[0] == "Step 0 of 9: dL/d(o) = 1 (the seed of the backward pass)"
    assert "Step 1 of 9: dL/d(n) = dL/d(o) · d(o)/d(n) = 1 × 0.5 = 0.5" in captions
    assert page.count("<svg") == len(captions)
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', page)
    assert "@import" not in page and "url(http" not in page


def test_a_node_without_a_name_is_called_by_the_id_its_frame_shows(tmp_path: Path) -> None:
    """Captions called every unnamed node "<op> node": "dL/d(+ node) = dL/d(+ node) ·
    d(+ node)/d(+ node)", two products both "* node", and nothing in the frame to tell
    which. Now each is called by the id the explore view shows on it, drawn on it too."""
    from autograd_scalar.draw.reading import reading_order

    x1, w1, x2, w2 = (Value(v, label=k) for v, k in ((2.0, "x1"), (-3.0, "w1"),
                                                      (0.0, "x2"), (1.0, "w2")))
    o = (x1 * w1 + x2 * w2 + 6.88).tanh()
    o.backward()
    ids = {node: f"n{k}" for k, node in enumerate(reading_order(o))}
    page = animate_backward(o, tmp_path / "a.html").read_text()
    captions = [html.unescape(c) for c in frames_of(page)]
    product = next(node for node in topological_order(o) if node.children == (x1, w1))
    name = ids[product]
    assert any(f"dL/d(x1) = dL/d({name}) · d({name})/d(x1) = " in c for c in captions)
    assert not any(" node)" in caption for caption in captions)
    sources, _ = backward_frames(o)  # what the pictures' manifest is made from: the ids too
    assert f'label="{{ {name} |' in sources[0] or f"{{ {name} |" in sources[0]
    frames = page.split('<div class="frame"')[1:]
    for caption, frame in zip(captions, frames):
        for name in set(re.findall(r"d\((n\d+)\)", caption)):
            assert f">{name}</text>" in frame, (name, caption)  # drawn where it is named


@needs_webassembly
def test_html_works_without_dot(values: dict[str, Value], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    page = animate_backward(values["o"], tmp_path / "a.html").read_text()
    assert len(frames_of(page)) == 10


def node_places(layout: str) -> dict[str, tuple[float, float]]:
    """Each node's centre in a Graphviz ``plain`` layout."""
    return {words[1]: (float(words[2]), float(words[3]))
            for words in map(str.split, layout.splitlines()) if words[:1] == ["node"]}


def fan_out() -> Value:
    """x used by five products: its step's caption, a sum of five terms, is wider than
    the graph."""
    x = Value(0.5, "x")
    out = ag.sum([x * float(i) for i in range(1, 6)])
    out.label = "out"
    return out


@pytest.mark.skipif(not has_graphviz(), reason="laying frames out needs Graphviz")
@pytest.mark.parametrize("graph", ["neuron", "fan out"])
def test_no_node_moves_from_one_frame_to_the_next(graph: str) -> None:
    """A gradient shown is wider than "grad ?", and a long caption widens the picture:
    yet every frame puts every node at the same point, in a picture of the same size."""
    root = neuron()["o"] if graph == "neuron" else fan_out()
    sources, captions = backward_frames(root)
    layouts = plain_layouts(sources)
    first = node_places(layouts[0])
    assert len(first) >= 6 and all(node_places(layout) == first for layout in layouts)
    assert len({layout.splitlines()[0] for layout in layouts}) == 1  # the same picture size
    if graph == "fan out":  # its last caption, wider than the graph, wrapped in the frame
        assert len(captions[-1]) > 100 and "\\n" in sources[-1].split("label=")[-1]


def test_frames_are_drawn_unpinned_without_any_graphviz(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    without_graphviz(monkeypatch, tmp_path)
    sources, captions = backward_frames(fan_out())
    assert len(sources) == len(captions) == 12 and "fixedsize" not in sources[0]


STEPPER = """
<script>
(function () {
  var log = [];
  function state() {
    var frames = Array.prototype.slice.call(document.querySelectorAll(".frame"));
    return {frame: document.body.getAttribute("data-frame"),
            visible: frames.map(function (f, i) { return f.hidden ? -1 : i; })
                           .filter(function (i) { return i >= 0; }),
            slider: document.getElementById("slider").value,
            counter: document.getElementById("counter").textContent,
            caption: document.getElementById("caption").textContent,
            play: document.getElementById("play").textContent};
  }
  function click(id) { document.getElementById(id).click(); log.push(state()); }
  log.push(state());
  for (var i = 0; i < 12; i++) { click("next"); }
  click("prev");
  click("prev");
  var slider = document.getElementById("slider");
  slider.value = "4";
  slider.dispatchEvent(new Event("input"));
  log.push(state());
  slider.value = "0";
  slider.dispatchEvent(new Event("input"));
  click("play");
  setTimeout(function () {
    log.push(state());
    var out = document.createElement("pre");
    out.id = "test-log";
    out.textContent = JSON.stringify(log);
    document.body.appendChild(out);
  }, 3000);
})();
</script>
"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_page_steps_through_its_frames_in_a_headless_browser(
        values: dict[str, Value], tmp_path: Path) -> None:
    page = animate_backward(values["o"], tmp_path / "a.html", seconds_per_step=0.1).read_text()
    captions = [html.unescape(c) for c in frames_of(page)]
    last = len(captions) - 1
    driven = tmp_path / "driven.html"
    driven.write_text(page.replace("</body>", STEPPER + "</body>"))
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom", driven.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="test-log">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no log in the page; chromium said: {done.stderr[-2000:]}"
    log = json.loads(html.unescape(found.group(1)))
    frames = [int(s["frame"]) for s in log]
    # 12 x next (the last 3 stay at the end), 2 x prev, slider to 4, play from 0 to the end
    expected = [0, *range(1, last + 1), last, last, last, last - 1, last - 2, 4, 0, last]
    assert frames == expected
    for state in log:
        k = int(state["frame"])
        assert state["visible"] == [k]
        assert state["slider"] == str(k)
        assert state["counter"] == f"step {k} of {last}"
        assert state["caption"] == captions[k]
    assert log[-2]["play"] == "Pause" and log[-1]["play"] == "Play"


needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


@needs_dot
def test_gif_has_one_frame_per_step(values: dict[str, Value], tmp_path: Path) -> None:
    from PIL import Image

    path = animate_backward(values["o"], tmp_path / "a.gif", seconds_per_step=0.5)
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == len(topological_order(values["o"]))
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
    # the last frame is held (3 steps, at least 2 s): the loop does not hide the end
    assert durations == [500] * (len(durations) - 1) + [2000]
    path = animate_backward(values["o"], tmp_path / "slow.gif", seconds_per_step=1.5)
    with Image.open(path) as gif:
        gif.seek(gif.n_frames - 1)
        assert gif.info["duration"] == 4500


def test_gif_without_dot_is_a_clear_error(values: dict[str, Value], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFound, match=r"works without it\. To make a GIF, install "
                       r"Graphviz .*apt-get install graphviz"):
        animate_backward(values["o"], tmp_path / "a.gif")
    assert not (tmp_path / "a.gif").exists()


@pytest.mark.parametrize(("kwargs", "name", "error", "words"), [
    ({}, "a.mp4", ValueError, "expected a file name ending in .html or .gif"),
    ({"max_nodes": 5}, "a.html", ValueError,
     "the graph has 10 nodes, more than max_nodes=5: pass max_nodes=10 to animate them all"),
    ({"seconds_per_step": 0}, "a.html", ValueError, "seconds_per_step must be a number"),
    ({"rankdir": "sideways"}, "a.html", ValueError, "^animate_backward: rankdir"),
    ({"names": 5}, "a.html", TypeError, "^animate_backward: names expects"),
    ({"precision": 0}, "a.html", ValueError, "^animate_backward: precision"),
    ({}, "nowhere/a.html", FileNotFoundError, "does not exist"),
])
def test_bad_arguments_are_clear_errors_and_write_nothing(
        values: dict[str, Value], tmp_path: Path, kwargs: dict[str, object], name: str,
        error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        animate_backward(values["o"], tmp_path / name, **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_caption_is_never_wrapped_inside_a_right_to_left_name() -> None:
    """Each line of a wrapped caption is a paragraph of its own: a multi-word Arabic name
    broken across two lines left its second part out of its isolate, and the numbers
    after it on that line read right to left again ("-3 = 3- x 1 = ("). Each line now
    closes the isolates it opens, and the next opens the rest again."""
    from textwrap import wrap

    from autograd_scalar.draw.animate import wrapped_caption
    from autograd_scalar.draw.dot_text import isolated

    for words in ("وزن الطبقة الأولى", "وزن-الطبقة-الأولى-الثانية-الثالثة"):
        name = isolated(words)
        caption = f"Step 1 of 3: dL/d({name}) = dL/d(n2) · d(n2)/d({name}) = 1 × -3 = -3"
        for width in range(24, 60):
            lines = wrapped_caption(caption, width)
            assert len(lines) == len(wrap(caption, width))  # broken where textwrap breaks
            assert all(line.count("\u2068") == line.count("\u2069") for line in lines), lines
            assert all(line.count("\u2068") <= 2 for line in lines)


def counter_after(browser: Any, presses: list[tuple[str, str]]) -> list[str]:
    """The step counter after each key press, each with the focus on the element of that
    id first (on the page itself for "page")."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    seen = []
    for target, key in presses:
        browser.execute_script("var e = document.getElementById(arguments[0]);"
                               "if (e) { e.focus(); } else { document.activeElement.blur(); }",
                               target)
        ActionChains(browser).send_keys(key).perform()
        seen.append(browser.find_element(By.ID, "counter").text)
    return seen


@pytest.mark.browser
@needs_chromium
def test_one_key_press_is_one_step_whatever_has_the_focus(
        values: dict[str, Value], tmp_path: Path, browser: Any) -> None:
    """ArrowRight on the focused slider moved two steps: the page's key handler stepped,
    then the slider's own arrow key moved it again. Every key press is one step now, and
    PageDown and PageUp, which presenters' clickers send, step too."""
    from selenium.webdriver.common.keys import Keys

    browser.get(animate_backward(values["o"], tmp_path / "a.html").as_uri())
    presses = [("slider", Keys.ARROW_RIGHT), ("slider", Keys.ARROW_RIGHT),
               ("slider", Keys.ARROW_LEFT), ("next", Keys.ARROW_RIGHT),
               ("play", Keys.ARROW_LEFT), ("page", Keys.PAGE_DOWN), ("page", Keys.PAGE_DOWN),
               ("slider", Keys.PAGE_DOWN), ("slider", Keys.PAGE_UP), ("page", Keys.PAGE_UP)]
    assert counter_after(browser, presses) == [
        f"step {k} of 9" for k in (1, 2, 1, 2, 1, 2, 3, 4, 3, 2)]
    assert browser.execute_script("return window.scrollY") == 0  # PageDown stepped, no scroll


def mlp_loss() -> Value:
    """A squared loss over two examples of a 2-3-1 MLP: 38 nodes, a frame about 2,100
    points wide."""
    import nn

    model = nn.MLP(2, [3, 1], seed=0)
    return ag.sum([(model(x) - y) ** 2 for x, y in (([1.0, -2.0], 1.0), ([0.5, 3.0], -1.0))])


ON_SCREEN = """
var frame = document.querySelector(".frame:not([hidden])");
var svg = frame.querySelector("svg");
var box = document.getElementById("frames");
var fit = document.getElementById("fit");
var sizes = Array.prototype.map.call(frame.querySelectorAll("text"), function (t) {
  return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a; });
function rect(id) { return document.getElementById(id).getBoundingClientRect().toJSON(); }
return {text: Math.min.apply(null, sizes), frame: svg.getBoundingClientRect().width,
        natural: svg.width.baseVal.value, box: box.clientWidth,
        scrolls: box.scrollWidth, page: document.documentElement.scrollWidth,
        window: [innerWidth, innerHeight], fit: !(fit === null || fit.hidden),
        counter: rect("counter"), caption: rect("caption"), frames: rect("frames"),
        amber: frame.querySelector('[fill="' + arguments[0] + '"]').getBoundingClientRect()};
"""


@pytest.fixture
def laptop(browser: Any) -> Any:
    """The browser in a 1366 by 768 window (a common laptop's and projector's), put back
    to its size after."""
    size = browser.get_window_size()
    browser.set_window_size(1366, 768)
    yield browser
    browser.set_window_size(size["width"], size["height"])


def in_view(rect: dict[str, float], window: list[int]) -> bool:
    return rect["left"] >= 0 and rect["top"] >= 0 and rect["right"] <= window[0] \
        and rect["bottom"] <= window[1]


def across(inner: dict[str, float], outer: dict[str, float]) -> bool:
    """Whether ``inner`` lies within ``outer`` from left to right."""
    return outer["left"] <= inner["left"] and inner["right"] <= outer["right"]


@pytest.mark.browser
@needs_chromium
def test_a_wide_frame_keeps_its_text_readable_and_scrolls(
        values: dict[str, Value], tmp_path: Path, laptop: Any, artefacts: Path) -> None:
    """A 38-node loss's frames, over 2,000 points wide, were shrunk to the page's width
    and their 11-point text with them, to under 7 pixels on a 1366-pixel screen. A frame
    now shrinks only as far as its text stays 9 pixels tall and scrolls sideways past
    that, under the controls and caption, which stay in view, following the amber node
    from step to step; "Fit width" shows it whole. The neuron, which fits readably, is
    drawn as before: as wide as the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    laptop.get(animate_backward(mlp_loss(), tmp_path / "mlp.html").as_uri())
    seen = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
    laptop.save_screenshot(str(artefacts / "animate_mlp.png"))
    assert seen["window"][0] == 1366
    assert seen["text"] >= MIN_TEXT_PX - 0.01, seen
    assert seen["scrolls"] > seen["box"] and seen["page"] <= seen["window"][0], seen
    assert seen["fit"]
    assert across(seen["amber"], seen["frames"]), seen  # the output, at the far right
    laptop.find_element(By.ID, "slider").send_keys(Keys.END)
    last = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
    assert laptop.find_element(By.ID, "counter").text == "step 37 of 37"
    assert across(last["amber"], last["frames"]), last  # a leaf, at the left
    laptop.execute_script("document.getElementById('frames').scrollLeft = 1e6;"
                          "window.scrollTo(0, 1e6);")
    scrolled = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
    laptop.save_screenshot(str(artefacts / "animate_mlp_scrolled.png"))
    assert in_view(scrolled["counter"], scrolled["window"]), scrolled
    assert in_view(scrolled["caption"], scrolled["window"]), scrolled

    laptop.find_element(By.ID, "fit").click()
    fitted = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
    laptop.save_screenshot(str(artefacts / "animate_mlp_fitted.png"))
    assert fitted["frame"] <= fitted["box"] and fitted["scrolls"] <= fitted["box"], fitted
    assert laptop.find_element(By.ID, "fit").get_attribute("aria-pressed") == "true"

    laptop.get(animate_backward(values["o"], tmp_path / "neuron.html").as_uri())
    small = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
    laptop.save_screenshot(str(artefacts / "animate_neuron.png"))
    assert small["frame"] == pytest.approx(min(small["natural"], small["box"]), abs=0.5)
    assert small["text"] >= MIN_TEXT_PX and not small["fit"], small


@pytest.mark.browser
@needs_chromium
def test_a_tall_frame_keeps_its_amber_node_on_screen_at_every_step(
        tmp_path: Path, laptop: Any, artefacts: Path) -> None:
    """A 3,600-pixel frame (an MLP's loss over three examples) opened on a blank screen,
    its amber node 1,800 pixels below the fold, and stepping scrolled only sideways; its
    sideways scrollbar was at the frame's foot. The frames now scroll both ways in a box
    that ends at the window's foot, following the amber node."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    import nn

    model = nn.MLP(2, [4, 4, 1], seed=0)
    loss = ag.sum([(model(x) - 1.0) ** 2 for x in ([1.0, -2.0], [0.5, 3.0], [2.0, 1.0])])
    laptop.get(animate_backward(loss, tmp_path / "tall.html", max_nodes=200).as_uri())
    seen = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
    assert seen["frames"]["bottom"] <= seen["window"][1] + 1, seen   # the box's scrollbars too
    slider = laptop.find_element(By.ID, "slider")
    last = int(slider.get_attribute("max"))
    for step in range(0, last + 1, max(1, last // 12)):
        laptop.execute_script("arguments[0].value = arguments[1];"
                              "arguments[0].dispatchEvent(new Event('input'));", slider, step)
        at = laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])
        assert in_view(at["amber"], at["window"]), (step, at["amber"])
    laptop.save_screenshot(str(artefacts / "animate_tall.png"))
    slider.send_keys(Keys.HOME)
    assert in_view(laptop.execute_script(ON_SCREEN, CURRENT["fillcolor"])["amber"],
                   seen["window"])


@pytest.mark.browser
@needs_chromium
def test_the_frames_stay_put_whatever_the_captions_length(
        tmp_path: Path, laptop: Any) -> None:
    """The caption held two lines, and a step whose chain rule took three pushed the frame
    down a line, and back at the next step. It is now as tall as the longest caption."""
    import nn

    model = nn.MLP(2, [4, 4, 1], seed=0)
    model.layers[0].neurons[0].w[0].label = "a_weight_with_a_rather_long_name_" * 3
    loss = ag.sum([(model(x) - 1.0) ** 2 for x in ([1.0, -2.0], [0.5, 3.0])])
    laptop.get(animate_backward(loss, tmp_path / "captions.html", max_nodes=200).as_uri())
    slider = laptop.find_element("id", "slider")
    tops, lines = set(), set()
    for step in range(int(slider.get_attribute("max")) + 1):
        laptop.execute_script("arguments[0].value = arguments[1];"
                              "arguments[0].dispatchEvent(new Event('input'));", slider, step)
        top, words = laptop.execute_script(
            "return [document.getElementById('frames').getBoundingClientRect().top + scrollY,"
            " document.getElementById('caption').textContent.length];")
        tops.add(round(top))
        lines.add(words > 160)
    assert lines == {True, False}     # captions of one line and of several
    assert len(tops) == 1, tops
