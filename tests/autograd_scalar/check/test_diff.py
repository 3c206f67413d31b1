"""diff: pairing two graphs, naming the first difference, and marking where it starts."""

from __future__ import annotations

import math

import pytest

import autograd_scalar as ag
import nn
from autograd_scalar import DiffReport, Function, Value, diff, draw_graph, explore
from autograd_scalar.draw.reading import reading_order


def neuron(x: float = 0.5, w: float = -1.5, b: float = 0.2, act: str = "tanh",
           backward: bool = True) -> Value:
    """2 * act(x * w + b), leaves labelled x, w, b; backward() run on it."""
    xs, ws, bs = Value(x, "x"), Value(w, "w"), Value(b, "b")
    out = getattr(xs * ws + bs, act)() * 2.0
    if backward:
        out.backward()
    return out


def swish_row(planted_bug: bool) -> type[Function]:
    """A row named ``Swish``: right, or with the factor x missing from its rule."""

    class Swish(Function):
        @staticmethod
        def forward(x: float) -> float:
            return x / (1.0 + math.exp(-x))

        @staticmethod
        def derivatives(x: float, out: float) -> tuple[float]:
            s = 1.0 / (1.0 + math.exp(-x))
            return (s + (1.0 if planted_bug else x) * s * (1.0 - s),)

    return Swish


def swish_loss(row: type[Function]) -> Value:
    w, b = Value(0.5, "w"), Value(-0.2, "b")
    loss = (row.apply(w * 2.0 + b) - 1.0) ** 2
    loss.backward()
    return loss


def test_the_same_computation_twice_agrees() -> None:
    report = diff(neuron(), neuron())
    assert report.ok and report.first is None and report.rows == []
    assert report.paired == report.nodes_a == report.nodes_b == 8
    assert str(report).startswith("diff: no difference: 8 nodes paired")
    assert repr(report) == "<DiffReport ok=True rows=0 origins=0 paired=8>"


def test_a_wrong_rule_is_the_first_difference_and_the_only_origin() -> None:
    student, reference = swish_loss(swish_row(True)), swish_loss(swish_row(False))
    report = diff(student, reference)
    assert not report.ok
    first = report.first
    assert first is not None and first.what == "d/d input 0" and first.origin
    assert first.node_a is not None and first.node_a.op == "Swish"
    assert first.node_b is not None and first.node_b.op == "Swish"
    assert first.difference == pytest.approx(first.a - first.b)  # type: ignore[operator]
    assert [row.what for row in report.origins] == ["d/d input 0"]
    # the gradients below the Swish node differ as a consequence, in backward order
    gradients = [row for row in report.rows if row.what == "gradient"]
    assert [row.node_b.label for row in gradients if row.node_b.label] == ["b", "w"]
    assert not any(row.origin for row in gradients)
    # nothing above it differs
    above = reading_order(reference)[reading_order(reference).index(first.node_b) + 1:]
    assert not any(row.node_b in above for row in report.rows)


def test_a_changed_leaf_is_named_and_what_follows_is_not_an_origin() -> None:
    report = diff(neuron(b=0.25), neuron())
    first = report.first
    assert first is not None
    assert (first.name, first.what, first.a, first.b) == ("#3 'b'", "value", 0.25, 0.2)
    assert first.difference == pytest.approx(0.05)
    assert [row.name for row in report.origins] == ["#3 'b'"]
    whats = [row.what for row in report.rows]
    # the forward pass's differences come first, then the backward pass's
    assert whats.index("gradient") > max(i for i, w in enumerate(whats) if w != "gradient")
    assert "first: #3 'b', value 0.25 in a, 0.2 in b" in report.summary()


@pytest.mark.parametrize(("w_a", "w_b"), [(math.inf, 1.0), (-math.inf, math.inf)])
def test_a_leaf_that_overflowed_is_where_the_graphs_part(w_a, w_b) -> None:
    """inf was "close" to every number (|inf - 1| <= rtol * inf), so the leaf and the
    product were missed and a later tanh was named the origin."""
    def model(w0: float) -> Value:
        w, x = Value(w0, "w"), Value(0.5, "x")
        y = (w * x).tanh() * 3.0
        y.backward()
        return y

    report = diff(model(w_a), model(w_b))
    first = report.first
    assert first is not None and (first.name, first.what) == ("#0 'w'", "value")
    assert [row.name for row in report.origins] == ["#0 'w'"]
    assert (first.a, first.b) == (w_a, w_b)


def test_tolerances_decide_what_agrees() -> None:
    a, b = neuron(b=0.2 + 1e-13), neuron()
    assert diff(a, b).ok
    assert not diff(a, b, rtol=0.0, atol=0.0).ok
    assert diff(neuron(b=0.2001), b, rtol=1e-2).ok


def test_a_different_seed_of_backward_starts_at_the_output() -> None:
    a, b = neuron(backward=False), neuron()
    a.backward(2.0)
    report = diff(a, b)
    assert report.first is not None and report.first.node_a is a
    assert report.first.what == "gradient" and report.first.origin
    assert [row.node_a for row in report.origins] == [a]
    assert diff(a, b, grads=False).ok


def test_accumulated_gradients_start_at_the_leaves() -> None:
    a, b = neuron(), neuron()
    a.backward()  # leaves accumulate, interior nodes hold this pass's gradient
    report = diff(a, b)
    assert {row.node_a.label for row in report.origins} == {"x", "w", "b", ""}
    assert all(not row.node_a.children for row in report.origins)


def test_a_node_only_in_one_graph_is_structure() -> None:
    x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.2, "b")
    extra = ((x * w) * 1.0 + b).tanh() * 2.0
    extra.backward()
    report = diff(extra, neuron())
    assert [(row.what, row.origin) for row in report.rows] == [
        ("only in a", True), ("only in a", True), ("input 0", True)]
    assert report.rows[1].node_b is None and report.rows[1].node_a.op == "*"
    added = report.rows[2]
    assert added.node_a.op == added.node_b.op == "+"
    assert added.a == "#4 *" and added.b == "#2 *"
    reverse = diff(neuron(), extra)
    assert [row.what for row in reverse.rows] == ["only in b", "only in b", "input 0"]


def test_a_different_op_is_paired_and_its_numbers_compared() -> None:
    report = diff(neuron(act="sigmoid"), neuron())
    assert report.first is not None
    assert (report.first.what, report.first.a, report.first.b) == ("op", "sigmoid", "tanh")
    assert report.first.node_a.op == "sigmoid" and report.first.node_b.op == "tanh"
    assert [row.what for row in report.rows][:3] == ["op", "value", "d/d input 0"]


def test_leaves_are_anchored_by_name() -> None:
    x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.2, "b")
    swapped = (w * x + b).tanh() * 2.0  # the same numbers, the operands in the other order
    swapped.backward()
    report = diff(swapped, neuron())
    assert report.paired == 8
    assert [row.what for row in report.origins] == ["input 0", "input 1"]
    assert [row.what for row in report.rows][2:] == ["d/d input 0", "d/d input 1"]
    assert report.rows[0].a == "#0 leaf 'w'" and report.rows[0].b == "#0 leaf 'x'"
    renamed = neuron()
    renamed.children[0].children[0].children[0].children[0].label = "y"
    named = diff(renamed, neuron())
    assert [(row.what, row.a, row.b) for row in named.rows] == [("name", "'y'", "'x'")]


def two_chains(swap: bool) -> Value:
    """tanh(exp(x * 2)) + tanh(sin(y * 3)), the sum's operands swapped or not."""
    x, y = Value(0.3, "x"), Value(-0.7, "y")
    p, q = (x * 2.0).exp().tanh(), (y * 3.0).sin().tanh()
    out = q + p if swap else p + q
    out.backward()
    return out


def test_swapped_subgraphs_are_paired_by_content_and_the_swap_is_one_row() -> None:
    report = diff(two_chains(False), two_chains(True))
    assert report.paired == report.nodes_a == report.nodes_b == 11
    assert [(row.name, row.what, row.a, row.b, row.origin) for row in report.rows] == [
        ("#10 +", "input order", "#4 tanh, #9 tanh", "#9 tanh, #4 tanh", True)]
    assert report.first is report.rows[0] and report.first.node_a.op == "+"
    assert "first: #10 +, input order" in str(report)
    x, y = Value(0.3, "x"), Value(-0.7, "y")
    a, b = x.exp() + y.sin(), y.sin() + x.exp()
    small = diff(a, b, grads=False)
    assert [(row.what, row.a, row.b) for row in small.rows] == [
        ("input order", "#1 exp, #3 sin", "#3 sin, #1 exp")]


def test_a_changed_constant_in_a_swapped_subgraph_is_still_a_value() -> None:
    x, y = Value(0.3, "x"), Value(-0.7, "y")
    a = (x * 2.0).exp() + (y * 3.0).sin()
    b = (y * 3.0).sin() + (x * 2.5).exp()
    report = diff(a, b, grads=False)
    assert report.first is not None
    assert (report.first.what, report.first.a, report.first.b) == ("value", 2.0, 2.5)
    assert [row.what for row in report.structure] == ["input order"]


def models(seed_b: int = 0) -> tuple[nn.MLP, nn.MLP, Value, Value]:
    model_a, model_b = nn.MLP(2, [3, 1], seed=0), nn.MLP(2, [3, 1], seed=seed_b)
    loss_a = (model_a([0.5, -1.0]) - 1.0) ** 2
    loss_b = (model_b([0.5, -1.0]) - 1.0) ** 2
    loss_a.backward()
    loss_b.backward()
    return model_a, model_b, loss_a, loss_b


def test_parameters_are_named_and_compared_by_their_names() -> None:
    model_a, model_b, loss_a, loss_b = models()
    assert diff(loss_a, loss_b, names_a=model_a, names_b=model_b).ok
    model_b.layers[0].neurons[1].w[0].data += 0.5
    loss_b = (model_b([0.5, -1.0]) - 1.0) ** 2
    loss_b.backward()
    report = diff(loss_a, loss_b, names_a=model_a, names_b=model_b, grads=False)
    first = report.first
    assert first is not None and first.what == "value"
    assert first.name.endswith("'layers.0.neurons.1.w[0]'")
    assert [row.name for row in report.origins] == [first.name]
    only_one = diff(loss_a, loss_b, names_a=model_a)
    assert only_one.rows[0].what == "name"


def test_a_model_before_and_after_a_step() -> None:
    model, _, before, _ = models()
    snapshot = nn.MLP(2, [3, 1], seed=0)
    snapshot.load_state_dict(model.state_dict())
    nn.optim.SGD(model.parameters(), lr=0.1).step()
    after = (model([0.5, -1.0]) - 1.0) ** 2
    earlier = (snapshot([0.5, -1.0]) - 1.0) ** 2
    report = diff(earlier, after, names_a=snapshot, names_b=model, grads=False)
    changed = {row.node_b for row in report.origins}
    stepped = {p for p in model.parameters() if p.grad != 0.0}
    assert changed == stepped and all(row.what == "value" for row in report.origins)
    del before


def test_lists_of_outputs_are_compared_together() -> None:
    model_a, model_b = nn.MLP(2, [3, 2], seed=0), nn.MLP(2, [3, 2], seed=1)
    report = diff(model_a([1.0, 2.0]), model_b([1.0, 2.0]))
    assert report.nodes_a == report.nodes_b and not report.ok
    assert diff(model_a([1.0, 2.0]), model_a([1.0, 2.0])).ok


def test_long_reports_print_their_first_rows() -> None:
    model_a, model_b = nn.MLP(2, [8, 8, 1], seed=0), nn.MLP(2, [8, 8, 1], seed=1)
    report = diff(model_a([1.0, 2.0]), model_b([1.0, 2.0]), grads=False)
    text = str(report)
    assert len(report.rows) > 100
    assert f"... and {len(report.rows) - 20:,} more rows" in text
    assert text.count("<-- starts here") <= 20
    assert len(report.table(limit=None)) == len(report.rows) + 1
    assert "<table>" in report._repr_html_() and "more rows" in report._repr_html_()


def test_explore_and_draw_graph_mark_where_differences_start() -> None:
    student, reference = swish_loss(swish_row(True)), swish_loss(swish_row(False))
    report = diff(student, reference)
    view = explore(reference, highlight=report)
    data = view.data
    assert [data["ops"][data["op"][k]][0] for k in data["failed"]] == ["Swish"]
    assert data["failures"][0][0] == "node" and data["failures"][1][1] == "d/d input 0"
    assert data["summary"].startswith("diff: ")
    view_a = explore(student, highlight=report)
    assert len(view_a.data["failed"]) == 1
    drawing = draw_graph(reference, highlight=report)
    swish = report.origins[0].node_b
    assert swish is not None
    assert report.highlighted() == {report.origins[0].node_a, swish}
    assert "penwidth" in drawing.source


def test_a_graph_deeper_than_the_recursion_limit_is_compared() -> None:
    def chain(seed: float, n: int = 20_000) -> Value:
        x = Value(seed, "x")
        y = x
        for _ in range(n):
            y = (y * 0.5 + x).tanh()
        y.backward()
        return y

    report = diff(chain(0.3), chain(0.3))
    assert report.ok and report.paired == 80_001


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), [
    (("x", Value(1.0)), {}, TypeError,
     "diff: a must be a Value or a list or tuple of Values, got str"),
    ((Value(1.0), [Value(1.0), 2.0]), {}, TypeError, r"diff: b\[1\] is a float, expected a Value"),
    (({Value(1.0), Value(2.0)}, [Value(1.0), Value(2.0)]), {}, TypeError,
     "got a set, which has no order"),
    (([], Value(1.0)), {}, ValueError, "a is an empty list"),
    (([Value(1.0)], [Value(1.0), Value(2.0)]), {}, ValueError,
     "a has 1 outputs and b has 2"),
    ((Value(1.0), Value(1.0)), {"rtol": -1.0}, ValueError, "rtol must be finite and >= 0"),
    ((Value(1.0), Value(1.0)), {"atol": math.nan}, ValueError, "atol must be finite"),
    ((Value(1.0), Value(1.0)), {"atol": "0"}, TypeError, "atol must be a real number, got str"),
    ((Value(1.0), Value(1.0)), {"grads": 1}, TypeError, "grads must be True or False"),
    ((Value(1.0), Value(1.0)), {"names_a": 3}, TypeError, "diff: names expects a model"),
])
def test_bad_arguments_say_what_was_expected(args: tuple, kwargs: dict, error: type,
                                             message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        diff(*args, **kwargs)


def test_the_report_is_exported() -> None:
    assert ag.diff is diff and ag.DiffReport is DiffReport
    assert isinstance(diff(Value(1.0), Value(1.0)), DiffReport)


def test_one_graph_without_backward_is_named_not_diffed_gradient_by_gradient() -> None:
    """b never went through backward(): the report said "first: gradient 1 in a, 0 in b"
    and listed every gradient as a difference."""
    x = Value(0.3, "x")

    def graph():
        return (x * 2.0).exp() + x  # both over one x: its grad is no sign of b's backward

    a, b = graph(), graph()
    a.backward()
    with pytest.raises(ValueError, match=r"^diff: b has no gradients \(its outputs' grads are "
                                         r"0\) while the other has: run backward\(\) on b"):
        ag.diff(a, b)
    assert ag.diff(a, b, grads=False).ok
