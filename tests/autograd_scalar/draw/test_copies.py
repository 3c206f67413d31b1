"""A node used all along a graph is drawn once in full and as a copy beside far users.

Without the copies, the x of a 90-step Horner polynomial made dot run for minutes
(and raise a raw TimeoutExpired after two); with them every edge is short and the
drawing is laid out in well under a second. The tests check that every edge is short,
the cause, rather than time the layout; a drawing that still took minutes would run
into the layout's own limit and fail with LayoutTimeout.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

import nn
from autograd_scalar import Value, draw_graph, scope
from autograd_scalar.draw.copies import LONGEST_EDGE, far_copies
from autograd_scalar.draw.layout import svg_of
from nn.cli import main
from tests.autograd_scalar.graph_dot import edges, nodes, records
from tests.graphviz_builds import needs_webassembly


def horner(steps: int, x: Value | None = None) -> Value:
    """p = (...((1 * x + 0) * x + 1) * x + ...): one x used by every step."""
    x = x if x is not None else Value(0.5, label="x")
    p = Value(1.0)
    for i in range(steps):
        p = p * x + i
    p.backward()
    return p


def copies_in(source: str) -> dict[str, dict[str, str]]:
    return {k: a for k, a in nodes(source).items() if "dashed" in a.get("style", "")}


def longest_edge(source: str) -> int:
    """The most columns an edge of the DOT ``source`` spans, with the columns counted as
    dot ranks a graph with fan-out: from the outputs back, each node one column before
    its earliest user (the one farthest from the outputs)."""
    users: dict[str, list[str]] = {}
    for tail, head, _ in edges(source):
        users.setdefault(tail, []).append(head)
    back: dict[str, int] = {}  # columns from the outputs
    for start in users:
        stack = [start]
        while stack:
            node = stack[-1]
            waiting = [user for user in users.get(node, []) if user not in back]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            back[node] = 1 + max((back[user] for user in users.get(node, [])), default=-1)
    return max(back[tail] - back[head] for tail, heads in users.items() for head in heads)


def short_edges_svg(source: str) -> str:
    """The SVG of ``source``, after checking that no edge spans more than LONGEST_EDGE
    Values (2 columns each: a record and its op bubble); a node used all along a long
    chain spans 80 to 360 columns without its copies."""
    assert longest_edge(source) <= 2 * LONGEST_EDGE
    return svg_of(source)


@pytest.mark.parametrize("compact", [False, True])
def test_a_horner_polynomial_draws_with_copies_of_x(compact: bool) -> None:
    p = horner(90)                                   # 272 nodes: drawn one by one
    source = draw_graph(p, compact=compact, max_nodes=300).source
    copies = copies_in(source)
    assert len(copies) == 90 - 1 - LONGEST_EDGE // 2
    assert {a["label"] for a in copies.values()} == {"x = 0.5"}
    assert all("used by 90 nodes" in a["tooltip"] for a in copies.values())
    x_records = [k for k, a in records(source).items() if a["label"].startswith("{ x |")]
    assert len(x_records) == 1                        # drawn in full once
    from_x = [edge for edge in edges(source) if edge[0] == x_records[0]]
    assert 1 <= len(from_x) <= 1 + LONGEST_EDGE // 2  # only to its near users
    assert len(edges(source)) == 2 * 90 * 2 + (0 if compact else 2 * 90)  # + op bubbles
    assert "<svg" in short_edges_svg(source)


@needs_webassembly
def test_a_summarised_horner_polynomial_draws_without_dot(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    p = horner(180)                                   # 542 nodes: summarised
    source = draw_graph(p).source
    assert "Summary" in source and copies_in(source)
    assert "<svg" in short_edges_svg(source)


def test_a_shared_intermediate_node_gets_copies_too() -> None:
    t = Value(0.3, label="x").tanh()
    t.label = "t"
    source = draw_graph(horner(40, t), compact=True).source
    assert {a["label"] for a in copies_in(source).values()} == {"t = 0.2913"}
    assert "<svg" in short_edges_svg(source)


def test_the_command_line_draws_a_tower_of_powers(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    formula = "**".join(["x"] * 100)                 # 298 characters
    # without copies of x this layout runs into LAYOUT_SECONDS and the command fails
    assert main(["graph", formula, "--at", "x=1.1", "-o", str(tmp_path / "g.svg")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "g.svg").read_text().rstrip().endswith("</svg>")


def test_nodes_used_side_by_side_are_not_copied() -> None:
    """A layer's inputs feed all its neurons at once: one column, no copies (so the
    pictures of networks are as before)."""
    model = nn.MLP(3, [8, 8, 1], seed=0)
    out = model([0.1, 0.2, 0.3])
    out.backward()
    for options in ({}, {"compact": True}, {"cluster": True, "names": model}):
        assert not copies_in(draw_graph(out, **options).source)


def test_a_copy_sits_in_its_users_module_box() -> None:
    x = Value(0.5, label="x")
    p = x * 1.0
    for k in range(12):
        with scope(f"step{k}"):
            p = p * x + 1.0
    source = draw_graph(p, cluster=True, compact=True).source
    copies = copies_in(source)
    assert copies
    boxes = source.split("subgraph ")[1:]
    for copy_id in copies:
        holders = [box for box in boxes if f"\t\t{copy_id} [" in box]
        assert len(holders) == 1
        assert holders[0].startswith("cluster_step")


def test_copies_follow_the_heat_map_highlight_and_animation(tmp_path: Path) -> None:
    x = Value(0.5, label="x")
    p = horner(20, x)
    source = draw_graph(p, heatmap=True, highlight=x).source
    for attrs in copies_in(source).values():
        assert attrs["style"] == "filled,rounded,dashed"
        assert attrs["color"] == "#d62728"
    from autograd_scalar import animate_backward

    page = animate_backward(p, tmp_path / "backward.html").read_text()
    assert page.count("x = 0.5") > 10


def test_far_copies_keeps_near_users_and_copies_for_the_far_ones() -> None:
    x, *chain = (Value(float(k)) for k in range(11))
    pairs = [(x, chain[0]), (x, chain[1]), (x, chain[-1]), *pairwise(chain)]
    copies = far_copies([x, *chain], pairs)
    assert set(copies) == {(id(x), id(chain[-1]))}              # 10 columns on; 1, 2 stay
    assert copies[(id(x), id(chain[-1]))].users == 3
    alone = [(x, chain[-1]), *pairwise(chain)]
    assert far_copies([x, *chain], alone) == {}                 # one user: x sits beside it
