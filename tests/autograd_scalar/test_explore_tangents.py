"""explore shows tangents beside gradients when the graph has them (a forward_ad() block)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value, explore
from autograd_scalar.graph_reading import reading_order
from tests.autograd_scalar.browser import artefacts, browser, needs_chromium

__all__ = ["artefacts", "browser"]


def dual_graph() -> tuple[Value, Value, Value]:
    x = ag.dual(0.5, 1.0, label="x")
    w = Value(-2.0, "w")
    y = (x * w).tanh()
    y.label = "y"
    y.backward()
    return x, w, y


def test_a_graph_with_duals_carries_a_tangent_column() -> None:
    with ag.forward_ad():
        x, w, y = dual_graph()
        data = explore(y, precision=17).data
        order = reading_order(y)
        assert data["tangents"] == [ag.tangent(node) for node in order]
        assert data["tangents"][order.index(x)] == 1.0
        assert data["tangents"][order.index(w)] == 0.0
        assert data["tangents"][order.index(y)] == pytest.approx(
            -2.0 * (1 - math.tanh(-1.0) ** 2), rel=1e-15)


def test_without_tangents_there_is_no_column() -> None:
    x = Value(0.5)
    y = x.tanh()
    assert "tangents" not in explore(y).data
    with ag.forward_ad():
        ag.dual(1.0, 1.0)  # a dual the graph does not use
        assert "tangents" not in explore(y).data


def test_the_panel_has_one_tangent_row_when_the_data_has_tangents() -> None:
    script = (Path(ag.__file__).parent / "explorer" / "view.js").read_text(encoding="utf-8")
    row = ('if (data.tangents) { fact("tangent", num(data.tangents[v], p), '
           '"agv-tangent-value"); }')
    assert script.count(row) == 1
    assert '"stepGrads", "tangents"]' in script  # refreshed with the other numbers


@pytest.mark.browser
@needs_chromium
def test_the_panel_shows_the_tangent_in_a_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with ag.forward_ad():
        _, _, y = dual_graph()
        page = explore(y).save(tmp_path / "tangents.html")
        expected = ag.tangent(y)
    browser.get(page.as_uri())
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "var h = document.querySelector('.agv-host');"
        "return !!(h && h.shadowRoot && h.shadowRoot.querySelector('.agv-node'));"))
    root = browser.find_element(By.CSS_SELECTOR, ".agv-host").shadow_root
    node = root.find_element(By.CSS_SELECTOR, f'[data-n="{reading_order(y).index(y)}"]')
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", node)
    shown = root.find_element(By.CSS_SELECTOR, ".agv-tangent-value td").text
    assert float(shown) == pytest.approx(expected, rel=1e-3)
    assert root.find_element(By.CSS_SELECTOR, ".agv-tangent-value th").text == "tangent"
