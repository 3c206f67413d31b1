"""A layout that overruns its time limit stops with a clear LayoutTimeout, with either Graphviz.

``slow_source`` is DOT that dot takes minutes over (a node feeding every step of a
long chain, drawn without copies); each test gives the layout a fraction of a second.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

import autograd_scalar.layout as layout
from autograd_scalar import LayoutTimeout, Value, draw_graph, explore, render
from autograd_scalar.wasm_graphviz import WasmGraphvizTimeout, svg_from_dot, text_from_dot
from nn.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
LIMIT = 0.5
PROMPT = 3.0
"""The most a stopped layout may take: its limit and the time to stop it."""


def slow_source(steps: int = 60) -> str:
    """A chain of ``*`` and ``+`` bubbles and records with one x feeding every ``*``."""
    lines = ["digraph g { rankdir=LR; mclimit=0.01; node [shape=record];"]
    previous = "p"
    for i in range(steps):
        lines += [f"{previous} -> m{i}op; x -> m{i}op; m{i}op -> m{i}; m{i} -> a{i}op; "
                  f"k{i} -> a{i}op; a{i}op -> a{i};",
                  f'm{i} [label="{{ data 0.5 | grad 1.7e-18 }}"]; '
                  f'a{i} [label="{{ data 0.5 | grad 1.7e-18 }}"]; '
                  f'k{i} [label="{{ data {i} | grad 1.7e-18 }}"]; '
                  f'm{i}op [shape=ellipse label="*"]; a{i}op [shape=ellipse label="+"];']
        previous = f"a{i}"
    return "\n".join([*lines, "}"])


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "LAYOUT_SECONDS", LIMIT)
    monkeypatch.setattr(layout, "SECONDS_PER_PLAIN_LAYOUT", 0.0)


def check_stops(action: object, match: str = "max_nodes=") -> None:
    start = time.monotonic()
    with pytest.raises(LayoutTimeout, match=match) as caught:
        action()  # type: ignore[operator]
    assert time.monotonic() - start < PROMPT
    assert f"within {LIMIT:g} s" in str(caught.value)
    assert "LAYOUT_SECONDS" in str(caught.value)


@needs_dot
def test_dot_is_stopped_at_the_limit(short_limit: None, tmp_path: Path) -> None:
    source = slow_source()
    check_stops(lambda: layout.svg_of(source))
    check_stops(lambda: layout.image_bytes(source, "png"), match="compact=True")
    drawing = draw_graph(Value(1.0))
    drawing.body.append(source[source.index("{") + 1:source.rindex("}")])
    check_stops(lambda: render(drawing, tmp_path / "slow.svg"))
    assert list(tmp_path.iterdir()) == []                   # no file, not half of one


def test_the_webassembly_layout_is_stopped_at_the_limit(short_limit: None,
                                                         no_dot: None) -> None:
    svg_from_dot("digraph { a -> b }")                      # compile once, outside the timing
    source = slow_source()
    check_stops(lambda: layout.svg_of(source))
    check_stops(lambda: layout.plain_layouts([source]), match="smaller max_nodes")
    assert b"<svg" in svg_from_dot("digraph { a -> b }")    # the next layout is unharmed


def test_the_webassembly_timeout_is_its_own_error(no_dot: None) -> None:
    svg_from_dot("digraph { a -> b }")
    start = time.monotonic()
    with pytest.raises(WasmGraphvizTimeout, match=r"time limit of 0\.3 s"):
        text_from_dot(slow_source(), "svg", seconds=0.3)
    assert time.monotonic() - start < PROMPT
    with pytest.raises(ValueError, match="seconds must be a number > 0"):
        text_from_dot("digraph { a }", "svg", seconds=0)


@needs_dot
def test_explores_layouts_are_stopped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "LAYOUT_SECONDS", 1e-6)
    monkeypatch.setattr(layout, "SECONDS_PER_PLAIN_LAYOUT", 0.0)
    with pytest.raises(LayoutTimeout, match="max_nodes"):
        explore(Value(1.0) * 2.0)


def test_the_command_line_reports_a_timeout_as_an_error_not_a_bug(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    monkeypatch.setattr(layout, "LAYOUT_SECONDS", 1e-6)
    status = main(["graph", "x*y + x", "--at", "x=1,y=2", "-o", str(tmp_path / "g.svg")])
    err = capsys.readouterr().err
    assert status == 1
    assert "could not lay out the graph within" in err and "this is a bug" not in err
    assert not (tmp_path / "g.svg").exists()
