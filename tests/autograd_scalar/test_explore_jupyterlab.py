"""The explore view inside JupyterLab (headless Chromium): a trusted notebook runs the
view; the same notebook untrusted, as a fresh clone is, shows the static picture."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

from tests.autograd_scalar.browser import artefacts, browser, needs_chromium

__all__ = ["artefacts", "browser"]
pytestmark = [pytest.mark.browser, needs_chromium]
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "explore-view-test"

CELL = """import autograd_scalar as ag
x, w = ag.Value(2.0, label="x"), ag.Value(-3.0, label="w")
o = (x * w + 1.0).tanh()
o.label = "o"
o.backward()
o"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """A JupyterLab server on a free local port, its folder and its environment."""
    folder = tmp_path_factory.mktemp("lab")
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "JUPYTER_DATA_DIR": str(folder / "data"),
           "JUPYTER_CONFIG_DIR": str(folder / "config"),
           "JUPYTER_RUNTIME_DIR": str(folder / "rt"), "PYTHONPATH": path}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={folder}", "--ServerApp.allow_root=True",
         "--ServerApp.open_browser=False"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("JupyterLab did not start") from None
                time.sleep(0.5)
        yield url, folder, env
    finally:
        server.terminate()
        server.wait(timeout=30)


def executed_notebook(path: Path, env: dict[str, str], trusted: bool) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(CELL)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]
    try:
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    if trusted:
        from nbformat.sign import NotebookNotary

        NotebookNotary(data_dir=env["JUPYTER_DATA_DIR"]).sign(notebook)
    nbformat.write(notebook, path)


def open_in_lab(browser: Any, url: str, name: str) -> None:
    browser.get(f"{url}/lab/tree/{name}?token={TOKEN}&reset")


def wait_for(browser: Any, css: str, seconds: float = 60) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, css))[0]


def test_a_value_at_the_end_of_a_cell_shows_the_view_when_trusted_and_the_picture_when_not(
        browser: Any, artefacts: Path, lab: tuple[str, Path, dict[str, str]]) -> None:
    from selenium.webdriver.common.by import By

    url, folder, env = lab
    executed_notebook(folder / "trusted.ipynb", env, trusted=True)
    executed_notebook(folder / "untrusted.ipynb", env, trusted=False)

    open_in_lab(browser, url, "trusted.ipynb")
    view = wait_for(browser, ".jp-OutputArea-output .agv[data-mounted] .agv-node")
    browser.execute_script("arguments[0].scrollIntoView()", view)
    time.sleep(0.5)
    browser.save_screenshot(str(artefacts / "jupyterlab_trusted.png"))
    names = [n.text.split("\n")[0] for n in
             browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .agv-node")]
    assert {"x", "w", "o"} <= set(names)
    canvas = browser.execute_script(
        "return document.querySelector('.jp-OutputArea-output .agv-canvas')"
        ".getBoundingClientRect().toJSON()")
    drawn = browser.execute_script(
        "return document.querySelector('.jp-OutputArea-output .agv-svg > g')"
        ".getBoundingClientRect().toJSON()")
    assert drawn["width"] <= canvas["width"] + 1
    assert canvas["top"] - 1 <= drawn["top"] and drawn["bottom"] <= canvas["bottom"] + 1

    open_in_lab(browser, url, "untrusted.ipynb")
    picture = wait_for(browser, ".jp-OutputArea-output img")
    time.sleep(0.5)
    browser.execute_script("arguments[0].scrollIntoView()", picture)
    browser.save_screenshot(str(artefacts / "jupyterlab_untrusted.png"))
    assert browser.execute_script("return arguments[0].naturalWidth", picture) > 100
    assert not browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .agv-svg")
    text = browser.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output").text
    assert "object at 0x" not in text
