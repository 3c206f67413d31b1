"""The documentation site: every example on every page runs alone and prints what it
promises, every dotted name resolves, and Sphinx builds the site with no warning."""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import os
import re
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

DOCS = ROOT / "docs"
PAGES = sorted(page for page in DOCS.rglob("*.md") if "_build" not in page.parts)
EXAMPLES = [example for page in PAGES for example in examples(page)]


def test_the_site_has_its_pages() -> None:
    names = {page.relative_to(DOCS).as_posix() for page in PAGES}
    assert {"index.md", "api/autograd_scalar.md", "api/nn.md", "benchmarks.md"} <= names
    assert sum(name.startswith("tutorials/") for name in names) == 4
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_docs_example_runs_alone_and_prints_what_it_promises(example, tmp_path,
                                                             monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_alone(example)


def test_a_promise_is_checked_inside_blocks_in_order_with_its_gaps() -> None:
    """A promise in a ``try`` counts; promises are kept in order; "..." stands for text the
    page leaves out and nothing else."""
    from tests.markdown_examples import Example

    def promised(code: str) -> None:
        run_alone(Example(DOCS / "index.md", 1, code))

    promised("try:\n    print('a long message, cut')   # a long ...\nexcept Exception:\n    pass\n")
    with pytest.raises(AssertionError, match="promised 'b'"):
        promised("try:\n    print('a')   # b\nfinally:\n    pass\n")
    with pytest.raises(AssertionError, match="promised 'a short'"):
        promised("print('a long one')   # a short\n")
    with pytest.raises(AssertionError, match="after the promises before it"):
        promised("print(1)\nprint(2)   # 2\nprint(3)   # 1\n")


def test_every_dotted_name_in_the_docs_is_reachable_as_written() -> None:
    names = dotted_names(*PAGES)
    assert "nn.optim.Adam" in names and "autograd_scalar.Value" in names
    result = subprocess.run([sys.executable, "-c", UNREACHABLE_SCRIPT, *names],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.split() == []


def test_the_benchmark_page_includes_the_results_file_rather_than_copying_it() -> None:
    page = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert "../benchmarks/RESULTS.md" in page and "{include}" in page
    assert "| --- |" not in page


def test_sphinx_builds_the_site_with_warnings_as_errors(tmp_path) -> None:
    """As `sphinx-build -W --keep-going -b html docs OUT` does, in a fresh interpreter
    (conf.py chooses the interpreted core before autograd_scalar is imported)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "api" / "nn.html").is_file()
    # the formulas render offline: MathJax is the site's own copy, not a CDN's
    page = (tmp_path / "html" / "tutorials" / "see-backprop.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page)
    assert scripts and all(not src.startswith(("http:", "https:", "//")) for src in scripts)
    for src in scripts:
        assert (tmp_path / "html" / "tutorials" / src).resolve().is_file(), src
    # a notebook widget shows how it is made, not traitlets' (*args, **kwargs)
    api = html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "html" / "api" / "nn.html")
                               .read_text(encoding="utf-8")))
    assert "class nn.Playground(model, X, y, *, loss, optimizer," in api


def test_the_op_table_page_lists_every_row_with_its_rule() -> None:
    """The design page's table is the op table as the code defines it, row for row."""
    from autograd_scalar import ops

    page = (DOCS / "design" / "op-table.md").read_text(encoding="utf-8")
    rows = {id(row): row for row in vars(ops).values() if isinstance(row, ops.Op)}.values()
    listed = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|.*\|\s*(yes)?\s*\|$", page, re.M)
    assert listed == [(row.name, row.formula, "yes" if row.smooth else "") for row in rows]


def test_the_speed_page_shows_the_code_the_tape_writes() -> None:
    """The listing after the tape.source() example is what that example's code prints."""
    page = (DOCS / "design" / "speed.md").read_text(encoding="utf-8")
    (example,) = [e for e in examples(DOCS / "design" / "speed.md") if "mix.source" in e.code]
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(example.code, example.name, "exec"), namespace)
    listing = page.split("def both(r, u):", 1)[1].split("```", 1)[0]
    assert "def both(r, u):" + listing == namespace["code"]


def test_the_check_graph_picture_is_what_the_example_above_it_draws() -> None:
    """The check-derivatives page shows docs/images/check_graph.svg under the example that
    draws it: that example's drawing has the source sources.json records for the picture
    (docs/images/make_images.py draws it with the same code)."""
    page = DOCS / "tutorials" / "check-derivatives.md"
    text = page.read_text(encoding="utf-8")
    (example,) = [e for e in examples(page) if "highlight=report" in e.code]
    after = text.split(example.code, 1)[1].split("```python", 1)[0]
    assert "{figure} ../images/check_graph.svg" in after
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(example.code, example.name, "exec"), namespace)
    source = namespace["drawing"].source  # type: ignore[attr-defined]
    manifest = json.loads((DOCS / "images" / "sources.json").read_text(encoding="utf-8"))
    recorded = manifest["docs/images/check_graph.svg"]["source"]
    assert hashlib.sha256(source.encode("utf-8")).hexdigest() == recorded, (
        "the check_graph example no longer draws docs/images/check_graph.svg: make the "
        "example and make_images.py's planted_mistake() agree, then run "
        "python docs/images/make_images.py")


def test_the_train_defaults_table_gives_the_split_the_command_makes(monkeypatch) -> None:
    """The command-line page's table of `train --data NAME` with its defaults: each row's
    training examples are what the command prints (its training is stopped before the
    first step: the split is made before training)."""
    import nn.train
    from nn.cli import main

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    page = (DOCS / "howto" / "command-line.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)`[^|]*\| ([\d,]+) \|", page, re.M)
    assert [name for name, _ in rows] == ["moons", "circles", "spirals", "xor", "blobs",
                                          "digits", "mnist_5k"]
    monkeypatch.setattr(nn.train, "fit", stop)
    for name, shown in rows:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
            status = main(["train", "--data", name, "--quiet"])
        assert status == 130, printed.getvalue()
        made = re.search(r"^\w+: (\d+) training examples", printed.getvalue(), re.M)
        assert made is not None, printed.getvalue()
        assert shown == f"{int(made.group(1)):,}", (name, shown, printed.getvalue())
