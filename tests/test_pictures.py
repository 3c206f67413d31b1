"""The pictures in README.md and docs/ are what the current code draws.

docs/images/make_images.py makes every picture and records, in
docs/images/sources.json, the digest of each one's source (a drawing's DOT text,
the demo's report and drawing text) and of its bytes. Here every source is made
again: a picture whose source changed, or whose file is not the one the script
wrote, fails with the command that makes it fresh.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "images" / "make_images.py"
MANIFEST = ROOT / "docs" / "images" / "sources.json"
REFRESH = "python docs/images/make_images.py"
PICTURE = re.compile(r"(?:!\[[^\]]*\]\(|^```\{(?:image|figure)\} )([^)\s]+\.(?:svg|png|gif))",
                     re.M)
"""A picture a page shows: ``![alt](path)``, ``{image} path`` or ``{figure} path`` (a wide
drawing, scrolled at a readable size)."""


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_images", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def manifest() -> dict[str, dict[str, str]]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def shown_pictures() -> set[str]:
    """Every picture README.md and the Markdown files under docs/ show."""
    found = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in PICTURE.findall(page.read_text(encoding="utf-8")):
            found.add((page.parent / target).resolve().relative_to(ROOT).as_posix())
    return found


def test_every_picture_shown_is_made_by_the_script(manifest: dict[str, dict[str, str]]) -> None:
    shown = shown_pictures()
    assert {"docs/images/mlp_modules.svg", "docs/cli/neuron.svg"} <= shown
    missing = sorted(shown - set(manifest))
    assert not missing, f"pictures shown but not made by {REFRESH}: {missing}"


def test_stored_files_are_the_ones_the_script_wrote(script: ModuleType,
                                                    manifest: dict[str, dict[str, str]]) -> None:
    changed = [path for path, entry in manifest.items()
               if script.digest((ROOT / path).read_bytes()) != entry["bytes"]]
    assert not changed, f"{changed} changed since {REFRESH} wrote them; run it again"


def test_stored_pictures_match_what_the_code_draws(script: ModuleType,
                                                   manifest: dict[str, dict[str, str]]) -> None:
    sources = script.sources()
    assert set(sources) == set(manifest)
    stale = sorted(path for path, source in sources.items()
                   if script.digest(source) != manifest[path]["source"])
    assert not stale, (f"{stale} no longer match what the code draws; "
                       f"run {REFRESH} and commit the pictures")


def test_a_change_in_a_drawing_is_caught(script: ModuleType,
                                         manifest: dict[str, dict[str, str]]) -> None:
    """The check has teeth: one digit more in the neuron drawing is a different source."""
    from autograd_scalar import draw_graph

    changed = draw_graph(script.neuron(), precision=5).source
    assert script.digest(changed) != manifest["docs/images/neuron.svg"]["source"]


def test_a_change_in_a_tooltip_of_the_demos_drawing_is_caught(script: ModuleType) -> None:
    """The demo's drawing is fingerprinted by its words, its tooltips (an op's rule, a
    node's numbers) among them."""
    svg = (ROOT / "docs" / "cli" / "neuron.svg").read_text(encoding="utf-8")
    changed = svg.replace("d/db = 1", "d/db = 0", 1)
    assert changed != svg and script.svg_words(changed) != script.svg_words(svg)


def test_the_summary_node_count_agrees_in_the_docs_script_and_title(script: ModuleType) -> None:
    count = script.summary_nodes()
    page = (ROOT / "docs" / "tutorials" / "see-backprop.md").read_text(encoding="utf-8")
    said = re.search(r"(?:!\[|:alt: )A loss over six examples, ([\d,]+) nodes", page)
    assert said is not None and int(said.group(1).replace(",", "")) == count
    source = script.drawings()["summary"].source
    assert f"a loss over six examples: {count:,} nodes" in source
    assert f"Summary of a graph of {count:,} nodes" in source


def test_the_views_screenshot_is_fingerprinted_by_its_data_not_its_layout(
        script: ModuleType, manifest: dict[str, dict[str, str]]) -> None:
    """Its source is the view's data, script and style: a moved box is not a change
    (Graphviz versions place boxes differently), a changed number is."""
    view = script.explore_view()
    source = script.explore_source(view)
    assert script.digest(source) == manifest["docs/images/explore.png"]["source"]
    view.data["groups"][0]["centres"][0] += 5.0
    assert script.explore_source(view) == source
    view.data["precision"] += 1
    assert script.explore_source(view) != source


DRAWING_FIGURE = re.compile(r"^```\{figure\} ([^\s]+\.svg)\n(?::[^\n]*\n)*?:width: (\d+)px\n"
                            r"(?::[^\n]*\n)*?:figclass: drawing\n", re.M)
"""A wide drawing on a docs page: its path and the width it is shown at."""


def test_each_wide_drawing_is_shown_at_one_pixel_a_point() -> None:
    """A drawing's figure width is its own width in points (docs/_static/drawings.css:
    records' 11-point text at 11 px), so a drawing made wider or narrower keeps its
    text size only if its page says its new width."""
    found = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for target, width in DRAWING_FIGURE.findall(page.read_text(encoding="utf-8")):
            svg = (page.parent / target).read_text(encoding="utf-8")[:2000]
            points = re.search(r'<svg width="(\d+)pt"', svg)
            assert points is not None, target
            found.append(target)
            assert int(width) == int(points.group(1)), f"{page.name}: {target} is " \
                f"{points.group(1)} pt wide; show it at :width: {points.group(1)}px"
    assert len(found) >= 4
