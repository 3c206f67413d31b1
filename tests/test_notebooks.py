"""Every notebook runs top to bottom in a fresh kernel and shows what it promises.

The kernel is this test run's own interpreter (a kernel spec made on the fly that
points at ``sys.executable``), so a fresh virtual environment needs no kernel
registered. Each notebook runs in a scratch directory, so nothing it writes lands
in the repository, and the repository root is on the kernel's ``PYTHONPATH`` so
that the kernel imports this checkout's packages (``reproductions`` included, which
an install carries too) rather than whatever else is installed.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "autograd-scalar-tests"
CELL_TIMEOUT = 600.0
"""Seconds a cell may run before nbclient stops it: a guard against a hung kernel, not
a speed target (the time a notebook takes is reported, not checked)."""

# For each notebook: lines its printed output must contain (regular expressions),
# each a figure the notebook computes and checks against an independent reference.
PROMISES: dict[str, list[str]] = {
    "01_value_and_graph.ipynb": [
        r"o = 0\.7071, do/dx1 = -1\.5000, do/dw1 = 1\.0000",
        r"chain rule by hand agrees: True",
        r"animation frames: \d+",
        r"10,\d{3} nodes in \d+ boxes>: [0-2]\.\d MB of data",
        r"loss after 5 steps: 0\.0\d{3}",
        r"10,\d{3} nodes \(\d+ leaves; ops: .*\), over the display budget of 2,000",
    ],
    "02_checking_derivatives.ipynb": [
        r"gradcheck of the correct rule: True",
        r"check_graph found 1 wrong node: BrokenSoftsign",
        r"Hessian matches the closed form: True",
    ],
    "03_training_2d.ipynb": [
        r"playground: moons after 150 steps, batch accuracy 1\.00; same weights as fit: True",
        r"spirals playground: 152 points after the edits, training accuracy 0\.9\d",
        r"moons: training accuracy 1\.00",
        r"xor: training accuracy 1\.00",
        r"optimizers compared: .*Adam \d",
        r"live plot redrawn \d+ times",
    ],
    "04_backprop_1986.ipynb": [
        r"solved after \d+ sweeps",
        r"mirror pairs equal and opposite: True",
        r"per-unit backprop agrees with the engine: True",
        r"<GraphView of 35 nodes in 5 boxes>",      # the same pass, to explore
        r"held-out facts right: \d of 4",
    ],
    "05_mnist.ipynb": [
        r"test accuracy \d+\.\d+% \(reference 88\.97%\)",
        r"compiled is \d+(\.\d)?x faster than eager",
    ],
    "06_network_by_hand.ipynb": [
        r"units: x1, x2, h, y",
        r"XOR learned: \[0, 1, 1, 0\]",
    ],
    "07_gpt_on_scalars.ipynb": [
        r"parameters: 4,192 \(closed form: 4,192\)",
        r"same losses as microgpt's own Value over 5 steps: largest difference "
        r"\d\.\de-(1[2-9]|[2-9]\d)",
        r"first 20 steps, eager and compiled: largest loss difference "
        r"\d\.\de-(1[0-9]|[2-9]\d)",
        r"trained 1,000 steps compiled in .* loss 3\.\d+ over the first 10 names, "
        r"2\.\d+ over the last 10, 2\.\d+ over the last 50",
        r"20 names sampled: (\w+, ){19}\w+",
        r"graph of [\d,]+ nodes",
        r"saved and loaded: same loss True",
    ],
}


def notebook_names() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment whose Jupyter path holds a kernel spec for this very interpreter."""
    data_dir = tmp_path_factory.mktemp("jupyter")
    spec_dir = data_dir / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "autograd-scalar tests", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    path = os.environ.get("PYTHONPATH", "")
    return {"JUPYTER_PATH": str(data_dir),
            "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def execute(path: Path, workdir: Path, env: dict[str, str]) -> tuple[object, float]:
    """Run the notebook at ``path`` in ``workdir``; return it with outputs and the seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in (*env, "MPLBACKEND")}
    os.environ.update(env)
    os.environ.pop("MPLBACKEND", None)
    try:
        client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name=KERNEL,
                                         resources={"metadata": {"path": str(workdir)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook, seconds


def printed_text(notebook: object) -> str:
    parts = []
    for cell in notebook.cells:  # type: ignore[attr-defined]
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                parts.append(output["data"]["text/plain"])
    return "\n".join(parts)


def pictures(notebook: object) -> int:
    kinds = ("image/png", "image/svg+xml", "text/html")
    return sum(1 for cell in notebook.cells  # type: ignore[attr-defined]
               for output in cell.get("outputs", [])
               if any(k in output.get("data", {}) for k in kinds))


def test_every_notebook_has_promises() -> None:
    assert notebook_names() == sorted(PROMISES)


@pytest.mark.parametrize("name", sorted(PROMISES))
def test_notebook_runs_in_a_fresh_kernel(name: str, tmp_path: Path,
                                         kernel_env: dict[str, str],
                                         record_property: Any) -> None:
    before = {p.name for p in ROOT.iterdir()}
    notebook, seconds = execute(NOTEBOOKS / name, tmp_path, kernel_env)
    record_property("seconds", round(seconds, 1))  # in the JUnit report, for the record
    print(f"{name} ran in {seconds:.1f} s")
    errors = [o for c in notebook.cells for o in c.get("outputs", [])  # type: ignore[attr-defined]
              if o.get("output_type") == "error"]
    assert not errors
    assert pictures(notebook) >= 2, f"{name} shows fewer than two pictures"
    text = printed_text(notebook)
    for promise in PROMISES[name]:
        assert re.search(promise, text), f"{name} did not print {promise!r}:\n{text[-3000:]}"
    assert {p.name for p in ROOT.iterdir()} == before


@pytest.mark.parametrize("name", sorted(PROMISES))
def test_stored_notebook_has_fresh_outputs(name: str) -> None:
    """Stored with the outputs of a complete run: every code cell ran, in order, without error."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    counts = [c.get("execution_count") for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
    assert not any(o.get("output_type") == "error" for c in notebook.cells
                   for o in c.get("outputs", []))
    text = printed_text(notebook)
    for promise in PROMISES[name]:
        assert re.search(promise, text), f"stored {name} lacks {promise!r}"


def refresh_script() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("refresh", NOTEBOOKS / "refresh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_big_view_is_stored_as_its_picture() -> None:
    """refresh.py keeps a big output's static picture and text, not its megabytes of
    HTML; a small view is stored whole."""
    refresh = refresh_script()
    big = "x" * (refresh.STORED_HTML_LIMIT + 1)  # type: ignore[attr-defined]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("view")]
    notebook.cells[0].outputs = [
        nbformat.v4.new_output("execute_result", {"text/html": big, "image/svg+xml": "<svg/>",
                                                  "text/plain": "<GraphView>"}),
        nbformat.v4.new_output("execute_result", {"text/html": "<div>small</div>",
                                                  "text/plain": "small"})]
    assert refresh.slim(notebook) == 1  # type: ignore[attr-defined]
    first, second = (o["data"] for o in notebook.cells[0].outputs)
    assert set(first) == {"image/svg+xml", "text/plain"}
    assert second["text/html"] == "<div>small</div>"


def test_the_stored_first_notebook_shows_the_big_graph_as_a_picture() -> None:
    path = NOTEBOOKS / "01_value_and_graph.ipynb"
    assert path.stat().st_size < 1_500_000
    notebook = nbformat.read(path, as_version=4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])
               if "GraphView of 10," in o.get("data", {}).get("text/plain", "")]
    assert len(outputs) == 1 and "data:image/svg+xml;base64," in outputs[0]["data"]["text/html"]


def test_a_figure_shows_as_a_picture_in_a_fresh_kernel(tmp_path: Path,
                                                        kernel_env: dict[str, str]) -> None:
    """A cell ending in an nn.plot figure shows a PNG even before pyplot has drawn
    anything (matplotlib's inline backend registers its display of figures only then)."""
    cell = ("import nn\n"
            "history = nn.callbacks.History(metrics=('loss',), loss=[1.0, 0.5])\n"
            "nn.plot.plot_history(history)")
    path = tmp_path / "figure.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]), path)
    notebook, _ = execute(path, tmp_path, kernel_env)
    outputs = notebook.cells[0].outputs  # type: ignore[attr-defined]
    assert any(output.get("data", {}).get("image/png", "").startswith("iVBORw0KGgo")
               for output in outputs), outputs
