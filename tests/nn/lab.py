"""A JupyterLab server with live kernels, for browser tests of widgets that talk to Python.

The server runs on a free local port with its own Jupyter folders (nothing of the
user's is read or written); its kernels import this checkout (the repository root
is on their PYTHONPATH). A test writes a notebook into the server's folder, opens
it in headless Chromium and runs its cells in the page, so the widget's messages
go through a real kernel.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "playground-test"


@dataclass(frozen=True)
class Lab:
    url: str
    folder: Path

    def write(self, name: str, cells: list[str]) -> str:
        """A notebook of these code cells, not yet run, in the server's folder."""
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        nbformat.write(notebook, self.folder / name)
        return name

    def open(self, browser: Any, name: str, ui: str = "lab") -> None:
        """Open a notebook in JupyterLab (``ui="lab"``) or Notebook 7 (``"notebooks"``)."""
        page = f"lab/tree/{name}" if ui == "lab" else f"notebooks/{name}"
        browser.get(f"{self.url}/{page}?token={TOKEN}&reset")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_lab(folder: Path) -> Iterator[Lab]:
    """A JupyterLab server (Notebook 7's pages too, when installed) serving ``folder``,
    stopped on leaving the block."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "JUPYTER_DATA_DIR": str(folder / ".data"),
           "JUPYTER_CONFIG_DIR": str(folder / ".config"),
           "JUPYTER_RUNTIME_DIR": str(folder / ".runtime"), "PYTHONPATH": path}
    env.pop("MPLBACKEND", None)
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
        yield Lab(url, folder)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A JupyterLab server for this module's tests (see :func:`running_lab`)."""
    with running_lab(tmp_path_factory.mktemp("lab")) as server:
        yield server


def wait_for(seconds: float, condition: Any, what: str, step: float = 0.1) -> Any:
    """Poll ``condition()`` until it returns something true; AssertionError naming
    ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = condition()
        except Exception:  # the page may be between states (stale or not yet there)
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(step)
