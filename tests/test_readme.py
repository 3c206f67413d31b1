"""The README's Python examples run as written, in order, and print what they say.

Each ```python block runs in one shared namespace, in a scratch directory (so
examples that write pictures leave the repository alone). Where a top-level
``print(...)`` line carries a comment, the comment is the promised output line.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
SHOWN = re.compile(r"^(print\(.*\))\s+#\s*(.+)$")


def expected_lines(block: str) -> list[str]:
    """The outputs a block promises: the comment after each top-level print call."""
    return [m.group(2).strip() for line in block.splitlines() if (m := SHOWN.match(line))]


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 3


def test_readme_examples_run_and_print_what_they_promise(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for number, block in enumerate(BLOCKS, start=1):
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            try:
                exec(compile(block, f"README block {number}", "exec"), namespace)
            except Exception as error:  # pragma: no cover - the failure message is the point
                pytest.fail(f"README block {number} failed: {error!r}\n{block}")
        printed = captured.getvalue().splitlines()
        for promise in expected_lines(block):
            assert any(line.strip() == promise for line in printed), (
                f"README block {number} promised {promise!r}; it printed {printed}")
