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


DOTTED = re.compile(r"\b((?:nn|autograd_scalar|ag)(?:\.[A-Za-z_]\w*)+)")
PLACEHOLDERS = {"autograd_scalar.name"}  # "autograd_scalar.name(x)": any method row's name


def test_every_dotted_name_in_the_readme_is_reachable_as_written() -> None:
    """In a fresh interpreter, after `import nn` and `import autograd_scalar as ag` only,
    every `nn.x.y`, `ag.x` and `autograd_scalar.x.y` the README writes resolves."""
    import subprocess
    import sys

    names = sorted(set(DOTTED.findall(README.read_text(encoding="utf-8"))) - PLACEHOLDERS)
    assert "nn.formula" in names and "nn.plot" in names
    script = (
        "import sys\nimport nn\nimport autograd_scalar\nimport autograd_scalar as ag\n"
        "missing = []\n"
        "for name in sys.argv[1:]:\n"
        "    head, *rest = name.split('.')\n"
        "    obj = {'nn': nn, 'ag': ag, 'autograd_scalar': autograd_scalar}[head]\n"
        "    try:\n"
        "        for part in rest:\n"
        "            obj = getattr(obj, part)\n"
        "    except AttributeError:\n"
        "        missing.append(name)\n"
        "print(' '.join(missing))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, *names], capture_output=True,
                            text=True, check=True, cwd=README.parent)
    assert result.stdout.split() == []


def test_import_nn_then_a_submodule_by_attribute() -> None:
    import subprocess
    import sys

    script = ("import nn, sys\nassert 'nn.formula' not in sys.modules\n"
              "print(nn.formula.parse_formula('x * 2').variables, nn.cli.main.__name__, "
              "nn.plot.plot_history.__name__)\n"
              "try:\n    nn.nonexistent\nexcept AttributeError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=README.parent)
    assert result.stdout.splitlines() == [
        "('x',) main plot_history", "module 'nn' has no attribute 'nonexistent'"]
