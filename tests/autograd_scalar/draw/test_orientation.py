"""rankdir="auto": a summary far wider than tall runs top to bottom, as laid out."""

from __future__ import annotations

import re

import pytest

import nn
from autograd_scalar import Value, draw_graph
from autograd_scalar.draw.layout import svg_of
from autograd_scalar.draw.orientation import longest_paths
from nn.gpt import GPT
from nn.gpt.inspection import position_loss


def aspect(drawing: object) -> float:
    """Width over height of the drawing as Graphviz lays it out."""
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                      svg_of(drawing.source))  # type: ignore[attr-defined]
    assert found is not None
    return float(found.group(1)) / float(found.group(2))


@pytest.fixture(scope="module")
def gpt_loss() -> tuple[Value, GPT]:
    """A one-block GPT's loss at one position: some 5,000 nodes, summarised by module
    into a chain of about fifteen boxes."""
    model = GPT(27, seed=0)
    loss = position_loss(model, [0, 5, 13, 13, 1], 3)
    loss.backward()
    return loss, model


def test_a_deep_models_summary_runs_top_to_bottom_about_as_wide_as_tall(
        gpt_loss: tuple[Value, GPT]) -> None:
    loss, model = gpt_loss
    drawing = draw_graph(loss, names=model, max_nodes=60)
    assert 'rankdir=TB' in drawing.source
    assert 0.5 < aspect(drawing) < 2.0
    # asked for, left to right it is: more than ten times as wide as tall
    wide = draw_graph(loss, names=model, max_nodes=60, rankdir="LR")
    assert 'rankdir=LR' in wide.source and aspect(wide) > 10


def test_drawings_that_fit_a_page_stay_left_to_right() -> None:
    """A batch loss summarised to a few layers' boxes, and a long chain drawn whole
    (as micrograd drew graphs: left to right whatever their shape)."""
    model = nn.MLP(2, [8, 8, 1], seed=0)
    rows = [[0.1 * k, -0.2 * k] for k in range(6)]
    loss = sum((model(row) ** 2 for row in rows), Value(0.0))
    summary = draw_graph(loss, names=model, max_nodes=60)
    assert "Summary of a graph" in summary.source and 'rankdir=LR' in summary.source
    assert aspect(summary) < 4
    x = Value(0.5)
    for _ in range(40):
        x = x.tanh()
    whole = draw_graph(x)
    assert "Summary" not in whole.source and 'rankdir=LR' in whole.source


def test_ranks_are_longest_paths_and_a_cycle_does_not_hang() -> None:
    # 1 <- 2 <- 3 and 1 <- 3: 3 is two ranks after 1; a 2-rank item pushes the next one
    assert longest_paths({1: [], 2: [1], 3: [2, 1]}, {1: 1, 2: 1, 3: 1}) == {1: 0, 2: 1, 3: 2}
    assert longest_paths({1: [], 2: [1]}, {1: 2, 2: 1}) == {1: 0, 2: 2}
    found = longest_paths({1: [2], 2: [1]}, {1: 1, 2: 1})
    assert sorted(found.values()) == [0, 1]


def test_auto_is_a_rankdir_and_others_are_refused() -> None:
    with pytest.raises(ValueError, match="rankdir must be one of 'auto', 'LR', 'RL', 'TB', 'BT'"):
        draw_graph(Value(1.0), rankdir="sideways")
