"""A layout that overruns its time limit stops with a clear LayoutTimeout, with either Graphviz.

``slow_source`` is DOT that dot takes minutes over (a node feeding every step of a
long chain, drawn without copies); each test gives the layout a fraction of a second.
Whether a layout was stopped at its limit is read from how it ended (dot's process
killed by its timeout, the WebAssembly run interrupted after the limit's ticks), not
from a stopwatch, which a loaded machine would upset.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import autograd_scalar.draw.layout as layout
import autograd_scalar.draw.wasm_graphviz as wasm_graphviz
from autograd_scalar import LayoutTimeout, Value, draw_graph, explore, render
from autograd_scalar.draw.wasm_graphviz import WasmGraphvizTimeout, svg_from_dot, text_from_dot
from nn.cli import main
from tests.graphviz_builds import needs_webassembly

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
LIMIT = 0.5


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
def short_limit(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float, str]]:
    """A layout limit of LIMIT, and the layouts run meanwhile: (program, the time it was
    given, "stopped" if it ran into that limit, else "finished")."""
    monkeypatch.setattr(layout, "LAYOUT_SECONDS", LIMIT)
    monkeypatch.setattr(layout, "SECONDS_PER_PLAIN_LAYOUT", 0.0)
    runs: list[tuple[str, float, str]] = []

    def dot_run(*args: Any, timeout: float, **options: Any) -> Any:
        try:
            done = subprocess.run(*args, timeout=timeout, **options)
        except subprocess.TimeoutExpired:  # the process was killed
            runs.append(("dot", timeout, "stopped"))
            raise
        runs.append(("dot", timeout, "finished"))
        return done

    def wasm_run(layout_call: Any) -> Any:
        def run(*args: Any, seconds: float) -> bytes:
            try:
                text = layout_call(*args, seconds=seconds)
            except WasmGraphvizTimeout:
                runs.append(("wasm", seconds, "stopped"))
                raise
            runs.append(("wasm", seconds, "finished"))
            return text
        return run

    monkeypatch.setattr(layout, "subprocess", SimpleNamespace(
        run=dot_run, TimeoutExpired=subprocess.TimeoutExpired))
    monkeypatch.setattr(layout, "svg_from_dot", wasm_run(svg_from_dot))
    monkeypatch.setattr(layout, "text_from_dot", wasm_run(text_from_dot))
    return runs


def check_stops(runs: list[tuple[str, float, str]], action: object,
                match: str = "max_nodes=") -> None:
    """``action`` raises LayoutTimeout because the one layout it ran was stopped at LIMIT."""
    runs.clear()
    with pytest.raises(LayoutTimeout, match=match) as caught:
        action()  # type: ignore[operator]
    ((_, seconds, ended),) = runs
    assert seconds <= LIMIT and ended == "stopped"
    assert f"within {LIMIT:g} s" in str(caught.value)
    assert "LAYOUT_SECONDS" in str(caught.value)


@needs_dot
def test_dot_is_stopped_at_the_limit(short_limit: list[tuple[str, float, str]],
                                     tmp_path: Path) -> None:
    source = slow_source()
    check_stops(short_limit, lambda: layout.svg_of(source))
    check_stops(short_limit, lambda: layout.image_bytes(source, "png"), match="compact=True")
    drawing = draw_graph(Value(1.0))
    drawing.body.append(source[source.index("{") + 1:source.rindex("}")])
    check_stops(short_limit, lambda: render(drawing, tmp_path / "slow.svg"))
    assert {program for program, _, _ in short_limit} == {"dot"}
    assert list(tmp_path.iterdir()) == []                   # no file, not half of one


@needs_webassembly
def test_the_webassembly_layout_is_stopped_at_the_limit(
        short_limit: list[tuple[str, float, str]], no_dot: None) -> None:
    source = slow_source()
    check_stops(short_limit, lambda: layout.svg_of(source))
    check_stops(short_limit, lambda: layout.plain_layouts([source]), match="smaller max_nodes")
    assert {program for program, _, _ in short_limit} == {"wasm"}
    assert b"<svg" in svg_from_dot("digraph { a -> b }")    # the next layout is unharmed


@needs_webassembly
def test_the_webassembly_timeout_is_its_own_error(no_dot: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    svg_from_dot("digraph { a -> b }")
    wasmtime, _, _, clock = wasm_graphviz._compiled()
    deadlines = []
    ticks = []

    class Store(wasmtime.Store):  # type: ignore[misc]
        def set_epoch_deadline(self, ticks_ahead: int) -> None:
            deadlines.append(ticks_ahead)
            super().set_epoch_deadline(ticks_ahead)

    class Engine:
        def __init__(self, engine: Any) -> None:
            self.engine = engine

        def increment_epoch(self) -> None:
            ticks.append(1)
            self.engine.increment_epoch()

    monkeypatch.setattr(wasmtime, "Store", Store)
    monkeypatch.setattr(clock, "engine", Engine(clock.engine))
    with pytest.raises(WasmGraphvizTimeout, match=r"time limit of 0\.3 s"):
        text_from_dot(slow_source(), "svg", seconds=0.3)
    # given 0.3 s worth of the clock's ticks (and one tick of slack), and interrupted
    # once they had passed, not before and not by finishing
    assert deadlines == [math.ceil(0.3 / wasm_graphviz.TICK_SECONDS) + 1]
    assert len(ticks) >= deadlines[0]
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


@needs_dot
def test_what_dot_says_beside_a_drawing_is_passed_on(tmp_path) -> None:
    """A 60-term Horner chain as PNG: dot shrank the bitmap to fit cairo's limit (text
    about 7 px high) and said so on stderr, which was dropped."""
    x = Value(0.9, label="x")
    p = Value(1.0)
    for k in range(60):
        p = p * x + Value(0.01 * k)
    with pytest.warns(RuntimeWarning, match=r"Graphviz dot drew the graph as png and said: "
                                            r".*too large for cairo-renderer bitmaps") as seen:
        render(p, tmp_path / "horner.png")
    assert seen[0].filename == __file__  # the caller's line, not the library's
    assert (tmp_path / "horner.png").read_bytes().startswith(b"\x89PNG")


def test_only_dots_own_words_are_passed_on() -> None:
    """fontconfig's complaints about its cache (common in containers) are not the
    drawing's; dot's own lines, and what continues them, are."""
    noise = "Fontconfig error: No writable cache directories\n"
    assert layout.dots_warnings(noise) == ""
    assert layout.dots_warnings(noise + "dot: graph is too large for cairo-renderer bitmaps. "
                                "Scaling by 0.8 to fit\n") == (
        "dot: graph is too large for cairo-renderer bitmaps. Scaling by 0.8 to fit")
    assert layout.dots_warnings("Warning: a\n  b\nFontconfig error: c\n") == "Warning: a b"
