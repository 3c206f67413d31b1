"""The size guard: big graphs are summarised within the budget, in bounded work, without a
full walk."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import nn
from autograd_scalar import Value, draw_graph, topological_order
from autograd_scalar import sum as ag_sum
from autograd_scalar.draw.graph import DEFAULT_MAX_NODES
from tests.autograd_scalar.graph_dot import edges, nodes, records
from tests.work import lines_run

CHAIN_LENGTH = 1_000_000


class Sentinel(Value):
    """A leaf that counts how often anything asks for its inputs."""

    __slots__ = ("_kids",)
    visits = 0

    @property  # type: ignore[override]
    def children(self) -> tuple[Value, ...]:
        Sentinel.visits += 1
        return self._kids

    @children.setter
    def children(self, kids: tuple[Value, ...]) -> None:
        self._kids = kids


def negations(length: int, x: Value) -> Value:
    """-(-(...-(x)...)): ``length`` negations above the leaf ``x``."""
    for _ in range(length):
        x = -x
    x.label = "top"
    return x


@pytest.fixture(scope="module")
def chain() -> Value:
    """A million negations above a leaf that notices a full walk."""
    return negations(CHAIN_LENGTH, Sentinel(0.5, "x"))


def boxes(source: str) -> dict[str, dict[str, str]]:
    return {k: v for k, v in nodes(source).items() if v.get("shape") == "box3d"}


def drawn_items(source: str) -> int:
    """Records, boxes and stubs: the things the budget counts (op bubbles ride along)."""
    return sum(v.get("shape") in ("record", "box3d", "plaintext")
               for v in nodes(source).values())


def graph_label(source: str) -> str:
    line = next(line for line in source.splitlines() if line.strip().startswith("label="))
    return line


def drawing_lines(root: Value, **options: Any) -> int:
    """The lines of Python that drawing ``root`` runs (see tests/work.py)."""
    return lines_run(lambda: draw_graph(root, **options).source)


def test_million_node_chain_is_summarised_as_cheaply_as_a_short_one_without_a_full_walk(
        chain: Value) -> None:
    Sentinel.visits = 0
    source = draw_graph(chain).source
    assert Sentinel.visits == 0, "draw_graph reached the bottom of the chain"
    # the exploration stops at a fixed number of nodes, so below that the length of
    # the chain changes nothing: not a full walk, nor most of one
    assert drawing_lines(chain) == drawing_lines(negations(50_000, Value(0.5, "x")))
    assert Sentinel.visits == 0
    assert drawn_items(source) <= DEFAULT_MAX_NODES
    (box,) = boxes(source).values()
    hidden = int(re.search(r"chain: ([\d,]+) nodes", box["label"]).group(1).replace(",", ""))
    assert 1000 < hidden < CHAIN_LENGTH
    assert f"- ×{hidden:,}" in box["label"]  # neg, as its nodes' corners show it
    note = graph_label(source)
    assert "Summary of a graph of more than" in note and "hidden" in note
    assert any("not drawn" in v.get("label", "") for v in nodes(source).values())
    # the output itself is still drawn as a record
    assert any(v["label"].startswith("{ top") for v in records(source).values())


@pytest.mark.parametrize("budget", [2, 10, 60])
def test_the_budget_is_respected_on_the_chain(chain: Value, budget: int) -> None:
    Sentinel.visits = 0
    source = draw_graph(chain, max_nodes=budget, compact=True).source
    assert drawn_items(source) <= budget
    assert Sentinel.visits == 0


def wide_graph(n: int) -> Value:
    """A sum of n products (no chains): 3n + 1 nodes, nothing to collapse but scope-free."""
    rng = np.random.default_rng(0)
    xs = [Value(float(v)) for v in rng.normal(size=n)]
    ws = [Value(float(v)) for v in rng.normal(size=n)]
    total = xs[0] * ws[0]
    for x, w in zip(xs[1:], ws[1:]):
        total = total + x * w
    return total


def test_a_graph_within_the_budget_is_drawn_whole() -> None:
    root = wide_graph(20)
    count = len(topological_order(root))
    whole = draw_graph(root, max_nodes=count).source
    assert len(records(whole)) == count
    assert "Summary" not in whole
    summary = draw_graph(root, max_nodes=count - 1).source
    assert "Summary of a graph of" in summary
    assert drawn_items(summary) <= count - 1


def test_the_note_counts_every_node_of_a_fully_explored_graph() -> None:
    root = wide_graph(200)
    total = len(topological_order(root))
    source = draw_graph(root, max_nodes=50).source
    note = graph_label(source)
    numbers = [int(n.replace(",", "")) for n in
               re.findall(r"graph of ([\d,]+) nodes.*?([\d,]+) drawn one by one, ([\d,]+) hidden",
                          note)[0]]
    assert numbers[0] == total
    assert numbers[1] + numbers[2] == total
    assert numbers[1] == len(records(source))


def model_loss() -> tuple[Any, Value]:
    model = nn.MLP(2, [8, 8, 1], seed=0)
    rng = np.random.default_rng(1)
    outputs = [model(row) for row in rng.normal(size=(6, 2))]
    loss = outputs[0]
    for out in outputs[1:]:
        loss = loss + out * out
    loss.backward()
    return model, loss


def test_a_model_graph_collapses_into_module_boxes() -> None:
    model, loss = model_loss()
    total = len(topological_order(loss))
    assert total > 300
    source = draw_graph(loss, max_nodes=60, names=model).source
    assert drawn_items(source) <= 60
    labels = [b["label"] for b in boxes(source).values()]
    module_boxes = [label for label in labels if label.startswith("module ")]
    assert module_boxes, labels
    in_boxes = sum(int(re.search(r": ([\d,]+) nodes", label).group(1).replace(",", ""))
                   for label in labels)
    assert in_boxes + len(records(source)) <= total
    # boxes are wired to what they feed: every box has an edge
    wired = {a for a, _, _ in edges(source)} | {b for _, b, _ in edges(source)}
    assert set(boxes(source)) <= wired


def test_summary_keeps_highlighted_nodes_visible() -> None:
    model, loss = model_loss()
    weight = model.layers[0].neurons[0].w[0]
    source = draw_graph(loss, max_nodes=60, highlight=[weight], names=model).source
    assert any(a.get("penwidth") == "3" and "layers.0.neurons.0.w[0]" in a["tooltip"]
               for a in records(source).values())


def test_summary_with_clusters_nests_module_boxes() -> None:
    _, loss = model_loss()
    source = draw_graph(loss, max_nodes=80, cluster=True).source
    assert "subgraph cluster_layers" in source or 'subgraph "cluster_layers' in source
    assert drawn_items(source) <= 80


def test_a_node_with_300000_inputs_is_summarised_in_one_light_pass_over_them() -> None:
    n = 300_000
    total = ag_sum([Value(float(i)) for i in range(n)])
    source = draw_graph(total, max_nodes=100).source
    # the inputs beyond the first 10,000 are only counted and walked past once (about
    # 2 lines each); scanning them at every summary step, or writing each into the
    # tooltip, runs several times that
    fewer = ag_sum([Value(float(i)) for i in range(n // 10)])
    per_input = (drawing_lines(total, max_nodes=100)
                 - drawing_lines(fewer, max_nodes=100)) / (n - n // 10)
    assert per_input < 4, f"each input beyond the first {n // 10:,} ran {per_input:.1f} lines"
    assert drawn_items(source) <= 100
    stub = next(v for v in nodes(source).values() if "not drawn" in v.get("label", ""))
    hidden = int(re.search(r"([\d,]+) input", stub["label"]).group(1).replace(",", ""))
    assert hidden == n - (len(records(source)) - 1)
    tip = next(a for a in records(source).values() if "op: sum" in a["tooltip"])["tooltip"]
    assert f"... and {n - 16:,} more inputs" in tip


def batch_loss(examples: int) -> tuple[nn.MLP, Value]:
    """sum_i (model(x_i) - 1)^2 over ``examples`` points: a model's nodes in modules, and
    per example a subtraction and a square outside them."""
    model = nn.MLP(2, [4, 1], seed=0)
    points = np.random.default_rng(0).normal(size=(examples, 2))
    loss = ag_sum([(model(point) - 1.0) ** 2 for point in points.tolist()])
    loss.backward()
    return model, loss


def test_the_terms_of_a_batch_loss_are_boxed_in_parallel_not_left_out() -> None:
    """139 squares feeding one sum, over a budget of 40: not 20 squares drawn one by one
    with their inputs cut, but one box of the squares and one of the subtractions, wired
    to the model's module boxes (each constant 1.0 inside its subtraction's box)."""
    model, loss = batch_loss(139)
    source = draw_graph(loss, max_nodes=40, names=model).source
    assert drawn_items(source) <= 40
    labels = sorted(b["label"] for b in boxes(source).values())
    parallel = [label for label in labels if label.startswith("in parallel")]
    assert parallel == ["in parallel: 139 nodes\\n^2 ×139",
                        "in parallel: 278 nodes\\n- ×139, leaf ×139"]
    assert any(label.startswith("module layers.1") for label in labels)
    assert not [a for a in records(source).values() if "op: **2" in a["tooltip"]]
    assert "0 collapsed boxes" not in graph_label(source)


def test_a_python_sum_over_a_batch_is_one_running_sum_not_a_row_of_adds() -> None:
    """Python's sum() adds the terms one after another: 139 adds in a row, each the only
    user of the one before, would make the drawing 139 ranks wide. They are one box (the
    last add is the output, drawn as itself), fed by the box of the squares."""
    model = nn.MLP(2, [4, 1], seed=0)
    points = np.random.default_rng(0).normal(size=(139, 2))
    loss = sum(((model(point) - 1.0) ** 2 for point in points.tolist()), Value(0.0))
    source = draw_graph(loss, max_nodes=40, names=model).source
    assert drawn_items(source) <= 40
    labels = {b["label"]: name for name, b in boxes(source).items()}
    running = labels["running sum: 139 nodes\\n+ ×138, leaf ×1"]   # and the start, 0.0
    squares = labels["in parallel: 139 nodes\\n^2 ×139"]
    assert (squares, running) in {(a, b) for a, b, _ in edges(source)}
    adds = [a for a in records(source).values() if a["tooltip"].startswith("op: +")]
    assert len(adds) == 1 and f"data: {loss.data:.4g}" in adds[0]["tooltip"]


def test_a_running_total_needs_one_op_and_partial_totals_used_once() -> None:
    """A running product is boxed as one too; totals that are also read elsewhere (a
    running mean printed at each step, say) or that change op are not a running total."""
    xs = [Value(1.0 + 0.01 * i) for i in range(50)]
    product = xs[0]
    for x in xs[1:]:
        product = product * x
    source = draw_graph(product, max_nodes=20).source
    labels = [b["label"] for b in boxes(source).values()]
    # the 48 products below the output, and the 49 inputs only they use
    assert labels == ["running product: 97 nodes\\nleaf ×49, * ×48"]
    assert "2 drawn one by one, 97 hidden (97 of them inside 1 collapsed box)" \
        in graph_label(source)
    total, partials = xs[0], []
    for x in xs[1:]:
        total = total + x
        partials.append(total)
    read = total + ag_sum(partials)   # every partial total has a second user
    labels = [b["label"] for b in boxes(draw_graph(read, max_nodes=20).source).values()]
    assert not [label for label in labels if label.startswith("running")]
    mixed = xs[0]
    for k, x in enumerate(xs[1:]):
        mixed = mixed + x if k % 2 else mixed * x
    labels = [b["label"] for b in boxes(draw_graph(mixed, max_nodes=20).source).values()]
    assert not [label for label in labels if label.startswith("running")]


def test_parallel_boxes_need_the_same_op_on_the_same_sources() -> None:
    """Without modules, x_i * w + b for shared w and b: the products are alike (each its
    own constant x_i and the same w, which only they use and so joins their box), and so
    are the sums; a term with another weight is not one of them."""
    w, b, other = Value(0.5, "w"), Value(0.1, "b"), Value(2.0, "v")
    terms = [Value(float(i)) * w + b for i in range(60)] + [Value(3.0) * other + b]
    source = draw_graph(ag_sum(terms), max_nodes=12).source
    labels = sorted(b["label"] for b in boxes(source).values())
    assert labels == ["in parallel: 121 nodes\\nleaf ×61, * ×60",
                      "in parallel: 60 nodes\\n+ ×60"], labels
    assert drawn_items(source) <= 12


def test_a_residual_blocks_own_nodes_are_split_where_its_parts_come_between() -> None:
    """A transformer block adds its input back after its attention and after its MLP:
    its own adds, boxed whole beside the boxes of its parts, would be one box both
    before and after them. They are two, "part 1 of 2" and "part 2 of 2", and the boxes
    and their edges form no loop."""
    from nn.gpt import GPT, CharTokenizer
    from nn.gpt.inspection import position_loss

    tokenizer = CharTokenizer.from_documents(["emma", "olivia", "ava"])
    model = GPT(tokenizer.vocab_size, n_embd=8, n_head=2, n_layer=1, block_size=8, seed=0)
    loss = position_loss(model, tokenizer.encode("emma"), 3)
    loss.backward()
    source = draw_graph(loss, names=model, max_nodes=40).source
    labels = {name: b["label"] for name, b in boxes(source).items()}
    parts = sorted(label.split(":")[0] for label in labels.values()
                   if label.startswith("module blocks.0,"))
    assert parts == ["module blocks.0, part 1 of 2", "module blocks.0, part 2 of 2"]
    following: dict[str, set[str]] = {}
    for tail, head, _ in edges(source):
        following.setdefault(tail, set()).add(head.removesuffix("op"))
    state: dict[str, int] = {}

    def loops_from(name: str) -> bool:  # depth-first search for a back edge
        state[name] = 1
        for after in following.get(name, ()):
            if state.get(after) == 1 or (after not in state and loops_from(after)):
                return True
        state[name] = 2
        return False

    assert not any(loops_from(name) for name in list(following) if name not in state)


def test_a_summary_with_no_collapsed_box_says_nothing_of_boxes() -> None:
    """A wide sum's summary said '(0 of them inside 0 collapsed boxes)'."""
    total = ag_sum([Value(float(k)) for k in range(5000)]).tanh()
    source = draw_graph(total, max_nodes=250).source
    assert "hidden" in source and "collapsed" not in source


def test_a_model_too_big_as_neurons_is_drawn_as_its_layers_not_some_neurons() -> None:
    """An MLP loss at a budget of 10: neurons' boxes did not fit, and no coarser depth was
    tried (no node has a layer's scope itself), so the summary kept the two neurons
    nearest the output and left out the rest, layers.0 with them. Every layer is drawn
    now, its weights inside it."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = ag_sum([(model([0.1 * k, -0.3]) - 1.0) ** 2 for k in range(20)])
    source = draw_graph(loss, max_nodes=10, names=model).source
    labels = [b["label"] for b in boxes(source).values()]
    modules = sorted(re.match(r"module ([\w.]+):", label).group(1)
                     for label in labels if label.startswith("module "))
    assert modules == ["layers.0", "layers.1", "layers.2"], labels
    assert not any("not drawn" in label for label in labels), labels
