"""The README's Python examples each run alone and print what they say, and every
dotted name it writes resolves as written (tests/markdown_examples.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.markdown_examples import (
    ROOT,
    UNREACHABLE_SCRIPT,
    dotted_names,
    examples,
    run_alone,
)

README = ROOT / "README.md"
EXAMPLES = examples(README)


def test_readme_has_an_example_for_each_job() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_readme_example_runs_alone_and_prints_what_it_promises(example, tmp_path,
                                                               monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_alone(example)


def test_every_dotted_name_in_the_readme_is_reachable_as_written() -> None:
    """In a fresh interpreter, after `import nn` and `import autograd_scalar as ag` only,
    every `nn.x.y`, `ag.x` and `autograd_scalar.x.y` the README writes resolves."""
    names = dotted_names(README)
    assert "nn.fit" in names
    result = subprocess.run([sys.executable, "-c", UNREACHABLE_SCRIPT, *names],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.split() == []


def test_import_nn_then_a_submodule_by_attribute() -> None:
    script = ("import nn, sys\nassert 'nn.formula' not in sys.modules\n"
              "print(nn.formula.parse_formula('x * 2').variables, nn.cli.main.__name__, "
              "nn.plot.plot_history.__name__)\n"
              "try:\n    nn.nonexistent\nexcept AttributeError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.splitlines() == [
        "('x',) main plot_history", "module 'nn' has no attribute 'nonexistent'"]
