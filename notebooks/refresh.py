"""Run every notebook top to bottom in a fresh kernel and store it with its outputs.

    python notebooks/refresh.py            # all of them
    python notebooks/refresh.py 03 05      # those whose names start so

Each runs in a scratch folder (nothing it writes lands in the repository) with the
repository root on PYTHONPATH, as the test suite runs them. An output whose HTML is
over STORED_HTML_LIMIT (an interactive view of thousands of nodes) is stored without
it: its static picture and text stay, which is what an untrusted notebook shows
anyway, and running the cell brings the view back. Widgets' state is not stored: a
widget needs its kernel, and every output of this project carries a picture besides.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
STORED_HTML_LIMIT = 500_000
"""Bytes of HTML one stored output may carry."""


def slim(notebook: nbformat.NotebookNode) -> int:
    """Drop the HTML of every output over STORED_HTML_LIMIT that has a picture or
    text besides, and the SVG of a big picture that its HTML already holds as an
    ``<img>``; how many were slimmed."""
    slimmed = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            page = data.get("text/html", "")
            if ("image/svg+xml" in data and "data:image/svg+xml;base64," in "".join(page)
                    and len("".join(data["image/svg+xml"])) > STORED_HTML_LIMIT // 4):
                del data["image/svg+xml"]
            if len("".join(page).encode("utf-8")) > STORED_HTML_LIMIT and (
                    "image/svg+xml" in data or "image/png" in data or "text/plain" in data):
                del data["text/html"]
                slimmed += 1
    return slimmed


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory() as scratch:
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                store_widget_state=False,
                                resources={"metadata": {"path": scratch}}).execute()
    notebook.metadata.pop("widgets", None)   # a widget's state needs its kernel anyway
    slimmed = slim(notebook)
    nbformat.write(notebook, path)
    note = f" ({slimmed} big output(s) stored as their picture)" if slimmed else ""
    print(f"refreshed {path.relative_to(ROOT)}{note}")


def main(prefixes: list[str]) -> None:
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if not prefixes or any(path.name.startswith(p) for p in prefixes):
            refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
