"""A Jupyter server (JupyterLab 4 and Notebook 7 on one port) for browser tests, benchmarks
and screenshots, and the moves a person makes there: open a notebook, run a cell, read
its output.

The views live in shadow roots, so element lookups go through ``shadow(...)``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "notebook-view-test"
FRONT_ENDS = {"jupyterlab": "lab/tree", "notebook7": "notebooks"}
"""Each front end's address for a notebook file, under the server's root."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def jupyter_server(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A Jupyter server on a free local port serving ``folder``: its URL and environment
    (the repository on PYTHONPATH, Jupyter's own folders inside ``folder``)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "JUPYTER_DATA_DIR": str(folder / "data"),
           "JUPYTER_CONFIG_DIR": str(folder / "config"),
           "JUPYTER_RUNTIME_DIR": str(folder / "rt"), "PYTHONPATH": path}
    env.pop("MPLBACKEND", None)   # kernels draw inline, as a person's do
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={folder}", "--ServerApp.allow_root=True",
         "--ServerApp.open_browser=False"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the Jupyter server did not start") from None
                time.sleep(0.5)
        yield url, env
    finally:  # the server and its kernels: one process group
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def server(jupyter: tuple[str, Path, dict[str, str]]) -> tuple[str, Path, dict[str, str]]:
    """A Jupyter server for a module's tests: its URL, its folder and its environment.

    It is the test process's one server (``jupyter`` in tests/conftest.py), started when
    a test first needs it: each module writes notebooks of its own names there."""
    return jupyter


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)


def execute_stored(path: Path, env: dict[str, str], trusted: bool) -> None:
    """Run the notebook at ``path`` in a kernel and store it with its outputs, signed
    (trusted, as after a person ran and saved it) or not (as a fresh clone is)."""
    import nbclient

    notebook = nbformat.read(path, as_version=4)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]
    try:
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    if trusted:
        from nbformat.sign import NotebookNotary

        NotebookNotary(data_dir=env["JUPYTER_DATA_DIR"]).sign(notebook)
    nbformat.write(notebook, path)


def open_notebook(browser: Any, url: str, front_end: str, name: str) -> None:
    browser.get(f"{url}/{FRONT_ENDS[front_end]}/{name}?token={TOKEN}&reset")
    wait_for(browser, lambda d: d.find_elements("css selector", ".jp-Cell"), 90)
    dismiss_news(browser)


def dismiss_news(browser: Any) -> None:
    """Answer the front end's "notified about Jupyter news?" toast, which covers part of
    the page, as a person would: No."""
    import time

    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        for button in browser.find_elements("css selector", ".jp-toast-button"):
            if button.text.strip() == "No":
                button.click()
                return
        time.sleep(0.25)


def wait_for(browser: Any, condition: Any, seconds: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.2).until(condition)


def cells(browser: Any) -> list[Any]:
    return browser.find_elements("css selector", ".jp-Notebook .jp-Cell")


def kernel_idle(url: str) -> bool:
    """Whether the server has a kernel for a session and it is idle (ready to run)."""
    import json

    with urllib.request.urlopen(f"{url}/api/sessions?token={TOKEN}", timeout=5) as answer:
        sessions = json.load(answer)
    return bool(sessions) and all(
        s["kernel"]["execution_state"] == "idle" for s in sessions if s.get("kernel"))


def run_cell(browser: Any, index: int, seconds: float = 120) -> Any:
    """Run the cell at ``index`` as a person does (select it, shift+enter) once the
    kernel is ready, and wait until it has finished; returns the cell's element."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url = browser.current_url.split("/lab/")[0].split("/notebooks/")[0]
    wait_for(browser, lambda _: kernel_idle(url), 90)

    def prompt() -> str:
        try:
            return str(cells(browser)[index].find_element("css selector", ".jp-InputPrompt").text)
        except StaleElementReferenceException:  # the cell was drawn anew
            return ""

    before = prompt()
    element = cells(browser)[index].find_element("css selector", ".jp-InputPrompt")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    ActionChains(browser).move_to_element(element).click().perform()
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    wait_for(browser, lambda _: prompt() != before and any(ch.isdigit() for ch in prompt()),
             seconds)
    return cells(browser)[index]


def output_text(cell: Any) -> str:
    return "\n".join(o.text for o in cell.find_elements("css selector", ".jp-OutputArea-output"))


def view_in(browser: Any, cell: Any, seconds: float = 60) -> Any:
    """The view's host element in ``cell``'s output, once the view has drawn nodes."""
    def drawn(_: Any) -> Any:
        hosts = cell.find_elements("css selector", ".jp-OutputArea-output")
        for output in hosts:
            host = browser.execute_script(
                "var all = arguments[0].querySelectorAll('*');"
                "for (var i = 0; i < all.length; i += 1) { var r = all[i].shadowRoot;"
                "  if (r && r.querySelector('.agv[data-mounted] .agv-node,"
                " .agv[data-mounted] .agv-box'))"
                "    { return all[i]; } } return null;", output)
            if host is not None:
                return host
        return False

    return wait_for(browser, drawn, seconds)


def shadow(browser: Any, host: Any, script: str, *args: Any) -> Any:
    """Run ``script`` with ``root`` bound to the view's shadow root and ``view`` to its
    handle (``host.agv``)."""
    return browser.execute_script(
        "var host = arguments[0], root = host.shadowRoot, view = host.agv;"
        "var args = Array.prototype.slice.call(arguments, 1);" + script, host, *args)


HIT_TEST = """
var canvas = root.querySelector('.agv-canvas'), edge = canvas.getBoundingClientRect();
/* inside the canvas's border */
var box = {left: edge.left + canvas.clientLeft, top: edge.top + canvas.clientTop,
           right: edge.left + canvas.clientLeft + canvas.clientWidth,
           bottom: edge.top + canvas.clientTop + canvas.clientHeight, height: edge.height};
var seen = 0, hit = 0, misses = [], sizes = [];
root.querySelectorAll('.agv-node, .agv-box').forEach(function (node) {
  var r = node.querySelector('rect').getBoundingClientRect();
  var x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x < box.left || x > box.right || y < box.top || y > box.bottom) { return; }
  if (document.elementFromPoint(x, y) !== host) { return; }  /* scrolled away, under a bar */
  seen += 1;
  var found = root.elementFromPoint(x, y), owner = found && found.closest('[data-n], [data-g]');
  if (owner === node) { hit += 1; }
  else if (misses.length < 5) {
    misses.push(node.getAttribute('data-n') || node.getAttribute('data-g'));
  }
  var label = node.querySelector('.agv-name, .agv-box-title');
  if (label) { sizes.push(label.getBoundingClientRect().height); }
});
return {seen: seen, hit: hit, misses: misses, canvas: edge.toJSON(),
        smallest: sizes.length ? Math.min.apply(null, sizes) : 0};
"""
"""Every node and closed box whose centre lies inside the canvas, where the page shows
the view (not scrolled away, not under the front end's bars): does a click there land
on it (``elementFromPoint``), and how tall is the smallest label drawn."""


def poll(seconds: float, condition: Any, what: str, step: float = 0.1) -> Any:
    """Poll ``condition()`` until it returns something true (a page between states may
    raise meanwhile); AssertionError naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = condition()
        except Exception:  # stale or not yet there
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(step)
