"""User text in drawings is plain text: never HTML, never DOT escapes, never too long.

Labels, scopes and titles shaped like Graphviz HTML labels (a link that runs script,
an image read from a local file), ending in a backslash, holding control characters
or tens of thousands of characters: each is drawn, shown literally, and the SVG holds
no link to script and no image.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograd_scalar import Function, Value, draw_graph, explore, scope
from autograd_scalar.draw.dot_text import (
    LINE_CHARS,
    TEXT_CHARS,
    dot_name,
    plain,
    plain_tooltip,
    record,
)
from autograd_scalar.draw.layout import svg_of
from tests.autograd_scalar.untrusted_text import (
    AWKWARD,
    DIRECTION_CONTROLS,
    IMAGE,
    SCRIPT,
    assert_inert,
    shown_texts,
    tooltips,
)
from tests.graphviz_builds import needs_webassembly


def shown(text: str) -> str:
    """What a drawing shows for ``text``: a tab as a space, characters dot cannot take
    and direction controls as U+FFFD."""
    return "".join(" " if ch == "\t" else "\ufffd" if (ord(ch) < 32 and ch not in "\n\r")
                   or 0xD800 <= ord(ch) <= 0xDFFF or ch in DIRECTION_CONTROLS else ch
                   for ch in text)


def draw_svg(root: Value, **options: object) -> str:
    return svg_of(draw_graph(root, **options).source)


def test_plain_text_is_never_html_and_keeps_its_backslashes() -> None:
    import graphviz

    for text in AWKWARD:
        escaped = plain(text)
        assert isinstance(escaped, graphviz.quoting.NoHtml)
        quoted = graphviz.quoting.quote(escaped)
        assert quoted.startswith('"') and quoted.endswith('"')
    assert plain("a\\b") == "a\\\\b"
    assert plain("one\ntwo") == "one\\ntwo"
    assert plain("a\r\nb") == "a\\nb"
    assert plain_tooltip("a\\N") == "a" + "\\" * 4 + "N"     # a tooltip is unescaped twice


def test_long_text_is_cut_visibly_and_stays_under_dots_limit() -> None:
    assert plain("x" * (LINE_CHARS + 1)) == "x" * (LINE_CHARS - 1) + "…"
    assert plain("x" * LINE_CHARS) == "x" * LINE_CHARS
    lines = "\n".join(["y" * 100] * 100)
    assert len(plain(lines).replace("\\n", "\n")) == TEXT_CHARS
    worst = plain("\\" * 50_000 + "\n".join(["𝔵" * 600] * 50))
    assert len(worst.encode("utf-8")) < 16_384
    assert len(record(["{" * 20_000, "é" * 20_000]).encode("utf-8")) < 16_384
    assert len(plain_tooltip("&" * 20_000).encode("utf-8")) < 16_384  # &amp;: 5 bytes each


def test_dot_names_are_readable_when_simple_and_digests_otherwise() -> None:
    assert dot_name("cluster_", "layers.0.neurons.3") == "cluster_layers.0.neurons.3"
    odd = [dot_name("cluster_", text) for text in [*AWKWARD, "x" * 1000, ""]]
    assert len(set(odd)) == len(odd)
    assert all(name.startswith("cluster_") and name[8:].isalnum() for name in odd)


@pytest.mark.parametrize("text", [*AWKWARD, "x" * 20_000])
@pytest.mark.parametrize("compact", [False, True])
def test_a_label_is_drawn_literally(text: str, compact: bool) -> None:
    x = Value(2.0, label=text)
    y = (x * 3.0).tanh()
    y.label = text
    svg = draw_svg(y, compact=compact, title=text)
    assert_inert(svg)
    expected = shown(text) if len(text) <= LINE_CHARS else text[:LINE_CHARS - 1] + "…"
    assert expected in shown_texts(svg)
    line = f"label: {shown(text)}"
    line = line if len(line) <= LINE_CHARS else line[:LINE_CHARS - 1] + "…"
    assert any(line in tip.split("\n") for tip in tooltips(svg))


@pytest.mark.parametrize("text", [*AWKWARD, "s" * 20_000])
def test_a_scope_is_drawn_literally_in_its_box_and_summary(text: str) -> None:
    with scope(text):
        x = Value(0.5, label="x")
        y = (x * 2.0 + 1.0).tanh()
    svg = draw_svg(y, cluster=True)
    assert_inert(svg)
    expected = shown(text) if len(text) <= LINE_CHARS else text[:LINE_CHARS - 1] + "…"
    assert expected in shown_texts(svg)
    total = y
    for k in range(40):
        with scope(f"{text}.{k}"):
            total = total + (x * float(k)).tanh()
    summary = draw_svg(total, cluster=True, max_nodes=20)
    assert_inert(summary)
    assert "Summary" in " ".join(shown_texts(summary))


@pytest.mark.parametrize("symbol", [SCRIPT, IMAGE, "<x & y>", "op\\"])
def test_an_ops_symbol_and_name_are_drawn_literally(symbol: str) -> None:
    odd = type(symbol, (Function,), {
        "forward": staticmethod(lambda x: 2 * x),
        "derivatives": staticmethod(lambda x, out: (2.0,)),
        "formula": symbol,
    })
    y = odd.apply(Value(1.5, label="x"))
    for compact in (False, True):
        svg = draw_svg(y, compact=compact)
        assert_inert(svg)
        assert (symbol if not compact else f"op {symbol}") in shown_texts(svg)


@pytest.mark.parametrize("text", [SCRIPT, IMAGE, "<x & y>", "trailing\\"])
def test_explore_and_its_static_picture_take_any_text(text: str) -> None:
    with scope(text):
        x = Value(0.5, label=text)
        y = (x * 2.0).tanh()
    y.backward()
    view = explore(y, title=text)
    assert_inert(view.picture)
    assert text in shown_texts(view.picture)


def test_a_drawing_of_awkward_text_displays_in_a_notebook() -> None:
    x = Value(1.0, label="<x & y>\\")
    with scope("m\\"):
        y = x * 2.0
    bundle = draw_graph(y, cluster=True, title="<x & y>")._repr_mimebundle_()
    assert_inert(bundle["image/svg+xml"])


@needs_webassembly
@pytest.mark.parametrize("text", [SCRIPT, IMAGE, "\\N \\G end\\", "<x & y>"])
def test_without_dot_the_webassembly_layout_shows_the_same_text(
        text: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None
    with scope(text):
        x = Value(2.0, label=text)
        y = x * 3.0
    svg = draw_svg(y, cluster=True, title=text)
    assert_inert(svg)
    assert shown_texts(svg).count(text) == 3          # the record, the box and the title
    assert any(f"label: {text}" in tip.split("\n") for tip in tooltips(svg))


def test_a_right_to_left_name_is_set_apart_and_only_closed_isolates_are_kept() -> None:
    """An Arabic or Hebrew name takes the numbers after it into its own direction, so
    the views write it between U+2068 and U+2069; a closed isolate reorders nothing
    outside it, so cleaning keeps it, and every other direction control still goes."""
    from autograd_scalar.draw.animate import backward_steps, describe_step
    from autograd_scalar.draw.dot_text import clean, isolated
    from autograd_scalar.draw.dot_text import shown as view_text
    from autograd_scalar.draw.graph import Options

    assert isolated("وزن") == "\u2068وزن\u2069" and isolated("משקל w1") == "\u2068משקל w1\u2069"
    assert isolated("w1") == "w1" and isolated("poids é") == "poids é" and isolated("") == ""
    assert view_text("\u2068وزن\u2069 = 2") == "\ufffdوزن\ufffd = 2"  # user text: none kept
    assert clean("\u2068وزن\u2069 = 2") == "\u2068وزن\u2069 = 2"      # a closed one is
    assert clean("a\u2068b") == "a\ufffdb"                            # never closed
    assert clean("\u2068a\u202eb\u2069") == "\ufffda\ufffdb\ufffd"  # a control inside
    assert clean("\u2069a\u2068") == "\ufffda\ufffd"
    assert clean("\u2068a\nb\u2069") == "\ufffda\nb\ufffd"          # across lines
    assert clean("\u2068a\x00b\u2069") == "\u2068a\ufffdb\u2069"
    # a name that held an isolate of its own is set apart all the same
    assert clean(isolated(view_text("وزن\u2068\u2069"))) == "\u2068وزن\ufffd\ufffd\u2069"
    assert isolated("و\nز") == "\u2068و\u2069\n\u2068ز\u2069"                # a line each
    assert isolated("و\r\nز\u2029ق") == "\u2068و\u2069\r\n\u2068ز\u2069\u2029\u2068ق\u2069"
    assert clean(isolated("و\rز")) == "\u2068و\u2069\n\u2068ز\u2069"      # \r kept apart too
    assert isolated("\ufeffname") == "\ufeffname"                      # a BOM is not a letter
    cut = clean(isolated("ز" * 2 * LINE_CHARS))                              # cut short
    assert cut.startswith("\ufffdز") and cut.endswith("…") and "\u2068" not in cut
    x = Value(2.0, label="وزن")
    y = x * -3.0
    y.backward()
    step = next(step for step in backward_steps(y) if step.node is x)
    caption = describe_step(2, 2, step, Options())
    assert caption.startswith("Step 2 of 2: dL/d(\u2068وزن\u2069) = ")


def test_a_record_keeps_the_spaces_between_words_outside_ascii() -> None:
    """Graphviz's record parser dropped a space after a character outside ASCII: the
    label "é è" showed as "éè", an Arabic name of two words as one."""
    for label in ("é è", "وزن الطبقة"):
        x = Value(1.0, label=label)
        texts = shown_texts(draw_svg(x * 2.0))
        assert label.replace(" ", "\u00a0") in texts, texts
