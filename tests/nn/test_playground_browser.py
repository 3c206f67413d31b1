"""The playground in JupyterLab 4 and Notebook 7 with a live kernel (headless Chromium).

A notebook making a playground on moons is opened and run in the page; then the
page's buttons and plane are used as a person would, and each change must come
back from the kernel: a step moves the step count and the loss, play runs many
updates (measured per second on the page), a click on the plane adds a point and a
shift-click removes one (the count shown changes), a negative learning rate typed
in its field is refused with the reason shown. The same notebook run and stored
without being trusted (as a fresh clone is) shows the static picture instead.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.autograd_scalar.browser import artefacts, browser, needs_chromium
from tests.notebook_server import execute_stored, open_notebook, run_cell, server, write_notebook
from tests.notebook_server import poll as wait_for

__all__ = ["artefacts", "browser", "server"]
Server = tuple[str, Path, dict[str, str]]
pytestmark = [pytest.mark.browser, needs_chromium]

CELL = """import nn
from nn import optim
X, y = nn.data.moons(100, noise=0.1, seed=0)
model = nn.MLP(2, [16, 16, 1], seed=0)
pg = nn.playground(model, X, y, loss="bce_with_logits",
                   optimizer=optim.Adam(model.parameters(), lr=0.03), title="moons")
pg"""


def shadow(browser: Any) -> Any:
    from selenium.webdriver.common.by import By

    host = browser.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output .nn-playground"
                                                 "[data-mounted]")
    return host.shadow_root


def text(root: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(root.find_element(By.CSS_SELECTOR, css).text)


def click(root: Any, css: str) -> None:
    from selenium.webdriver.common.by import By

    root.find_element(By.CSS_SELECTOR, css).click()


def step_of(root: Any) -> int:
    match = re.search(r"step (\d+)", text(root, ".pg-loss-text"))
    assert match is not None
    return int(match.group(1))


def points_of(root: Any) -> int:
    match = re.match(r"(\d+) points", text(root, ".pg-count"))
    assert match is not None
    return int(match.group(1))


def test_the_page_drives_the_kernel_and_shows_what_it_sends(
        browser: Any, artefacts: Path, server: Server) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, folder, _ = server
    write_notebook(folder / "playground.ipynb", [CELL])
    open_notebook(browser, url, "jupyterlab", "playground.ipynb")
    run_cell(browser, 0)
    root = wait_for(120, lambda: shadow(browser), "the playground in the output")
    wait_for(30, lambda: "step 0" in text(root, ".pg-loss-text"), "the first frame")
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(
        By.CSS_SELECTOR, ".jp-OutputArea-output .nn-playground"))
    time.sleep(0.5)
    browser.save_screenshot(str(artefacts / "playground_start.png"))
    assert text(root, ".pg-title") == "moons"
    assert points_of(root) == 100
    assert text(root, ".pg-status") == "compiled"

    click(root, ".pg-step")
    wait_for(30, lambda: step_of(root) == 1, "step 1 from the kernel")
    first = text(root, ".pg-loss-text")
    assert re.search(r"loss 0\.\d+", first), first
    # one step, one point: a dot, where a line of one point had drawn nothing
    dot = root.find_element(By.CSS_SELECTOR, "circle.pg-loss-line")
    assert dot.rect["width"] > 3 and dot.is_displayed()
    click(root, ".pg-step")
    wait_for(30, lambda: step_of(root) == 2, "step 2 from the kernel")
    assert text(root, ".pg-loss-text") != first

    curve_before = root.find_element(By.CSS_SELECTOR, ".pg-loss-line").get_attribute("points")
    click(root, ".pg-play")
    wait_for(30, lambda: step_of(root) > 10, "play to run")
    time.sleep(3)
    rate = float(wait_for(10, lambda: root.find_element(
        By.CSS_SELECTOR, ".pg").get_attribute("data-rate"), "a measured rate"))
    browser.save_screenshot(str(artefacts / "playground_playing.png"))
    click(root, ".pg-pause")
    time.sleep(0.5)
    stopped = step_of(root)
    time.sleep(1)
    assert step_of(root) == stopped, "pause did not stop the kernel's loop"
    assert stopped > 20
    assert root.find_element(By.CSS_SELECTOR, ".pg-loss-line").get_attribute(
        "points") != curve_before
    print(f"play: {rate:.1f} updates per second measured on the page")
    assert rate >= 5
    # the optimizer's line wraps between its parts, never inside one ("1.90e-" / "4")
    parts = root.find_elements(By.CSS_SELECTOR, ".pg-optimizer .pg-part")
    assert [part.text.split(":")[0] for part in parts[:1]] == ["Adam"] and len(parts) >= 4
    heights = {part.text: part.rect["height"] for part in parts}
    assert max(heights.values()) < 1.5 * min(heights.values()), heights

    plot = root.find_element(By.CSS_SELECTOR, ".pg-plot")
    ActionChains(browser).move_to_element_with_offset(plot, 10, 10).click().perform()
    wait_for(30, lambda: points_of(root) == 101, "the added point counted")
    circles = root.find_elements(By.CSS_SELECTOR, ".pg-points circle")
    assert len(circles) == 101
    ActionChains(browser).move_to_element_with_offset(plot, 10, 10).key_down(
        Keys.SHIFT).click().key_up(Keys.SHIFT).perform()
    wait_for(30, lambda: points_of(root) == 100, "the point removed")

    field = root.find_element(By.CSS_SELECTOR, ".pg-lr")
    field.click()
    browser.execute_script("arguments[0].select()", field)
    # typed into the focused field (an element's send_keys moves the caret to the end,
    # since the document's active element is the shadow host, not the field)
    ActionChains(browser).send_keys("-0.5", Keys.ENTER).perform()
    wait_for(30, lambda: "learning rate must be a finite number > 0, got '-0.5'"
             in text(root, ".pg-error"), "the refusal shown")
    wait_for(10, lambda: field.get_attribute("value") == "0.03", "the field put back")
    browser.save_screenshot(str(artefacts / "playground_after.png"))

    click(root, ".pg-reset")
    wait_for(30, lambda: step_of(root) == 0, "reset to step 0")
    assert text(root, ".pg-error") == ""

    # a narrow cell (900 px, the file browser open) takes one panel a row: the decision
    # boundary comes first, under the controls, not after the network's 600 px
    size = browser.get_window_size()
    browser.set_window_size(900, 700)
    try:
        time.sleep(0.5)
        tops = browser.execute_script(
            "var r = arguments[0]; return Array.from(r.querySelectorAll('.pg-panel'))"
            ".map(function (p) { return [p.className, p.getBoundingClientRect().top]; });",
            root)
        browser.save_screenshot(str(artefacts / "playground_narrow.png"))
        assert len({top for _, top in tops}) == 3, tops  # one a row
        assert min(tops, key=lambda found: found[1])[0].endswith("pg-plane-panel"), tops
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_notebook_7_runs_the_same_widget(browser: Any, artefacts: Path,
                                         server: Server) -> None:
    url, folder, _ = server
    write_notebook(folder / "playground7.ipynb", [CELL])
    open_notebook(browser, url, "notebook7", "playground7.ipynb")
    run_cell(browser, 0)
    root = wait_for(120, lambda: shadow(browser), "the playground in Notebook 7")
    wait_for(30, lambda: "step 0" in text(root, ".pg-loss-text"), "the first frame")
    click(root, ".pg-step")
    wait_for(30, lambda: step_of(root) == 1, "step 1 from the kernel")
    browser.save_screenshot(str(artefacts / "playground_notebook7.png"))


def test_an_untrusted_stored_notebook_shows_the_picture(browser: Any, artefacts: Path,
                                                        server: Server) -> None:
    from selenium.webdriver.common.by import By

    url, folder, env = server
    write_notebook(folder / "stored.ipynb", [CELL + "\npg.step(20)\npg"])
    execute_stored(folder / "stored.ipynb", env, trusted=False)
    open_notebook(browser, url, "jupyterlab", "stored.ipynb")
    picture = wait_for(60, lambda: browser.find_element(By.CSS_SELECTOR,
                                                        ".jp-OutputArea-output img"),
                       "the static picture")
    browser.execute_script("arguments[0].scrollIntoView()", picture)
    wait_for(10, lambda: browser.execute_script("return arguments[0].naturalWidth",
                                                picture) > 500, "the picture drawn")
    browser.save_screenshot(str(artefacts / "playground_untrusted.png"))
    output = browser.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output").text
    assert "object at 0x" not in output
    assert not browser.find_elements(By.CSS_SELECTOR, ".nn-playground")
