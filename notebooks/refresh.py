"""Run every notebook top to bottom in a fresh kernel and store it with its outputs.

    python notebooks/refresh.py            # all of them
    python notebooks/refresh.py 03 05      # those whose names start so

Each runs in a scratch folder (nothing it writes lands in the repository) with the
repository root on PYTHONPATH, as the test suite runs them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory() as scratch:
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": scratch}}).execute()
    nbformat.write(notebook, path)
    print(f"refreshed {path.relative_to(ROOT)}")


def main(prefixes: list[str]) -> None:
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if not prefixes or any(path.name.startswith(p) for p in prefixes):
            refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
