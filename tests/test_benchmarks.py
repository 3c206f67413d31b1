"""The benchmarks compare like with like: every implementation takes the same step."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import autograd_scalar as ag
import nn
from benchmarks import demo_step, hand_numpy, scale


def test_hand_numpy_eager_and_compiled_steps_agree() -> None:
    X, y = demo_step.data(30)
    eager_model = nn.MLP(2, [16, 16, 1], seed=3)
    compiled_model = nn.MLP(2, [16, 16, 1], seed=3)
    by_hand = demo_step.numpy_step(X, y, hand_numpy.layers_of(eager_model))
    eager = demo_step.ours_mlp_step(X, y, eager_model)
    compiled = demo_step.ours_compiled_step(X, y, compiled_model)
    for _ in range(3):
        losses = by_hand(), eager(), compiled()
        assert losses[1] == pytest.approx(losses[0], rel=1e-12)
        assert losses[2] == pytest.approx(losses[0], rel=1e-12)
    for model in (eager_model, compiled_model):
        for (W, b), (W_hand, b_hand) in zip(hand_numpy.layers_of(model),
                                            zip(by_hand.Ws, by_hand.bs)):
            np.testing.assert_allclose(W, W_hand, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(b, b_hand, rtol=1e-10, atol=1e-13)


def test_same_graph_step_matches_micrograd() -> None:
    engine = pytest.importorskip("micrograd.engine")
    X, y = demo_step.data(20)
    ours = demo_step.MicrogradStyleMLP(ag.Value, demo_step.SIZES, seed=1)
    theirs = demo_step.MicrogradStyleMLP(engine.Value, demo_step.SIZES, seed=1)
    ours_step = demo_step.elementwise_step(ag.Value, ours, X, y)
    theirs_step = demo_step.elementwise_step(engine.Value, theirs, X, y)
    for _ in range(2):
        assert ours_step() == pytest.approx(theirs_step(), rel=1e-12)
    np.testing.assert_allclose([p.data for p in ours.parameters()],
                               [p.data for p in theirs.parameters()], rtol=1e-12)


@pytest.mark.parametrize("nodes", [30, 3000])
def test_scale_graph_has_the_stated_size(nodes) -> None:
    root, weights = scale.build(nodes)
    order = ag.topological_order(root)
    assert sum(1 for node in order if node.children) == 3 * (nodes // 3)
    root.backward()
    assert all(np.isfinite(w.grad) for w in weights)


@pytest.mark.parametrize("sizes", [(2, 5, 1), (6, 4, 3)])
def test_compiled_step_numpy_and_torch_take_the_same_step(sizes) -> None:
    from benchmarks import compiled_step

    X, T, loss = compiled_step.problem(sizes, 16)
    steps = {"ours": compiled_step.ours(sizes, X, T, loss),
             "numpy": compiled_step.numpy_step(sizes, X, T, loss)}
    torch = compiled_step.torch_step(sizes, X, T, loss)
    if torch is not None:
        steps["torch"] = torch
    for _ in range(3):
        losses = {name: step() for name, step in steps.items()}
        for value in losses.values():
            assert value == pytest.approx(losses["numpy"], rel=1e-10)


def test_mnist_fit_and_hand_numpy_train_alike() -> None:
    from benchmarks import mnist

    _fit_seconds, fit_accuracy = mnist.train(epochs=1, batch_size=500)
    _hand_seconds, hand_accuracy = mnist.numpy_train(epochs=1, batch_size=500)
    assert fit_accuracy == hand_accuracy and fit_accuracy > 0.5


def test_the_gpt_module_row_takes_microgpts_step() -> None:
    from benchmarks import microgpt

    reference, ours, worst = microgpt.compare_module(rounds=1, steps=2, collector=True)
    assert worst <= 1e-12 and reference > 0 and ours > 0


def test_the_compiled_gpt_recipe_takes_microgpts_steps() -> None:
    from benchmarks import gpt_compiled

    seconds, ours = gpt_compiled.compiled_recipe(steps=4)
    reference_seconds, theirs = gpt_compiled.reference_recipe(4, total=4)
    assert seconds > 0 and reference_seconds > 0
    assert ours == pytest.approx(theirs, rel=0, abs=1e-9)


def test_batched_gpt_steps_of_ours_and_torch_agree() -> None:
    """With PyTorch installed its step gives our losses; without it (it is not a
    dependency) the benchmark's row has no PyTorch step to time."""
    from benchmarks import gpt_compiled

    model, _, batches = gpt_compiled.batches(8, 3)
    twin, _, _ = gpt_compiled.batches(8, 3)
    ours = gpt_compiled.ours_batched_step(model, batches, 3)
    theirs = gpt_compiled.torch_step(twin, batches, 3)
    if importlib.util.find_spec("torch") is None:
        assert theirs is None
        return
    assert theirs is not None
    for _ in range(3):
        assert ours() == pytest.approx(theirs(), rel=1e-10)
    assert gpt_compiled.tokens_per_batch(batches) == [
        sum(len(doc) - 1 for doc in batch) for batch in batches]


def test_ratios_are_taken_round_by_round() -> None:
    from benchmarks.timing import alternating_rounds, ratio_by_round

    samples = {"a": [2.0, 4.0, 9.0], "b": [1.0, 4.0, 3.0]}
    assert ratio_by_round(samples, "a", "b") == (2.0, 1.0, 3.0)
    calls = {"x": 0}

    def step() -> None:
        calls["x"] += 1

    found = alternating_rounds({"x": (step, 4)}, rounds=3, warmup=2)
    assert len(found["x"]) == 3 and calls["x"] == 2 + 3 * (1 + 4)


def test_a_fit_call_and_the_hand_epoch_train_alike() -> None:
    """The repeated-fit row: each fit call and each hand epoch take the same batches in
    the same order from the same weights, so their epoch losses agree call by call."""
    from benchmarks import fit_calls

    sizes = (12, 8, 8, 3)
    X, y = fit_calls.problem(sizes, n=200)
    ours, first = fit_calls.ours(sizes, X, y)
    hand = fit_calls.by_hand(sizes, X, y)
    hand()  # the epoch of ours's first call
    assert first > 0
    for _ in range(3):
        assert ours() == pytest.approx(hand(), rel=1e-10)


@pytest.mark.parametrize("sizes", [(6, 5, 4, 3)])
def test_float32_steps_of_ours_numpy_and_torch_agree(sizes) -> None:
    from benchmarks import float32_step

    X, T, loss = float32_step.problem(sizes, 16)
    steps = {"ours": float32_step.ours(sizes, X, T, loss),
             "numpy": float32_step.numpy_step(sizes, X, T, loss)}
    torch = float32_step.torch_step(sizes, X, T, loss)
    if torch is not None:
        steps["torch"] = torch
    for _ in range(3):
        losses = {name: step() for name, step in steps.items()}
        for value in losses.values():
            assert value == pytest.approx(losses["numpy"], rel=1e-5)


def test_the_memory_rows_measure_both_sides_alike() -> None:
    from benchmarks import fit_memory

    found = {side: fit_memory.fresh(side, traced=True) for side in ("ours", "numpy")}
    for figures in found.values():
        assert figures["rss"] > 0 and figures["whole"] > figures["rss"]
        assert figures["tracemalloc"] > 0


def test_the_narrow_graph_is_rogozhnikovs_and_every_tape_agrees() -> None:
    """At 1,000 ops his graph traces to 2,490 ops over 751 levels; the flat tape, our
    compiled tape and our eager graph give the same value and input gradients."""
    from benchmarks import narrow_graph

    tape = narrow_graph.trace(1_000)
    assert tape.size - tape.traced.first_interior == 2_490 and tape.levels == 751
    assert narrow_graph.largest_difference(400) < 1e-12
    runs, _ = narrow_graph.steps(400)
    value, grads = runs["flat"]()
    assert any(g != 0.0 for g in grads) and math.isfinite(value)


def test_the_narrow_graphs_math_calls_are_counted_as_run() -> None:
    """The floor row counts each math call the code makes for one example: one log1p per
    softplus and one log per log-sum-exp (250 each at 1,000 ops), exps for the rest."""
    from benchmarks import narrow_graph

    tape = narrow_graph.trace(1_000)
    counts = narrow_graph.math_calls(tape, narrow_graph.inputs(1)[0].tolist())
    assert counts["log1p"] == 250 and counts["log"] == 250 and counts["exp"] > 1_000
    assert narrow_graph.math_floor(counts, 100, repeats=2) > 0


def test_the_playground_benchmark_page_stand_in_answers_every_frame() -> None:
    """Play with the stand-in page runs at the cap, not at the no-page timeout's pace."""
    from benchmarks import playground

    rates = playground.kernel_rates(rounds=1)
    assert rates[0] > 5


def test_the_blas_threads_benchmark_runs_every_rule_and_keeps_the_old_one_apart() -> None:
    """One round at two small sizes, one core busy: a row per size with the three rules;
    the old load-average rule, kept only here, restores BLAS's count after each run."""
    from benchmarks import blas_threads

    assert blas_threads.idle_limit(1.0, 2, 1.0) == 2 and blas_threads.idle_limit(2.0, 2, 1.0) == 1
    lines = blas_threads.rows(1, sizes=(((2, 4, 1), 8), ((64, 64, 1), 32)), conditions=(True,))
    table = [line for line in lines if line.startswith("| 2-4-1") or line.startswith("| 64-")]
    assert len(table) == 2 and all("one core busy" in line for line in table)
    assert "| not limited |" in table[0] and table[1].count(" ms (") + table[1].count(" µs (") == 3
    old = blas_threads.LoadAverageRule()
    before = [library.get_num_threads() for library in old.libraries]
    with old.run(blas_threads.SMALL_PRODUCT):
        pass
    assert [library.get_num_threads() for library in old.libraries] == before


def test_the_check_and_explore_scale_rows_measure_both_graphs_at_each_size() -> None:
    """One round at two small sizes: a row per graph and size, each with check_graph's
    time per node, explore's seconds and the payload's and page's megabytes."""
    from benchmarks import check_explore_scale

    _, loss = check_explore_scale.mlp_loss(600)
    assert len(ag.topological_order(loss)) >= 600 and ag.check_graph(loss).ok
    assert sum(1 for n in ag.topological_order(check_explore_scale.chain(300)) if n.children) \
        == 300
    lines = check_explore_scale.rows(rounds=1, sizes=(300, 600))
    table = [line for line in lines if line.startswith(("| MLP loss", "| chain"))]
    assert len(table) == 4
    assert all(line.count(" µs |") == 1 and line.count(" s |") == 1
               and line.count(" MB |") == 2 for line in table)


@pytest.mark.parametrize("interpreted", [False, True])
def test_the_core_tables_run_in_a_process_of_their_own(interpreted: bool) -> None:
    """``python -m benchmarks.microgpt`` in a fresh process measures the core it loads:
    the compiled one, and the interpreted one under ``AUTOGRAD_SCALAR_PURE_PYTHON=1``
    (the row for users without a C compiler), each against its own target."""
    import argparse

    from benchmarks.__main__ import microgpt_rows

    lines = microgpt_rows(argparse.Namespace(quick=True), interpreted)
    assert lines[0].startswith("Core: interpreted" if interpreted else "Core: compiled")
    assert ("(target >= 1x)" if interpreted else "(target >= 1.5x)") in "\n".join(lines)
    rows = [line for line in lines if line.startswith(("| on", "| off"))]
    on = ("| on (not the target's row: the target is with the collector off)" if interpreted
          else "| on")
    assert [row.split(" |")[0] for row in rows] == [
        on, "| off", "| off, each step's garbage collected in its time (not the target's row)"]
    assert all(line.count("x (") == 1 for line in rows)


def test_each_figure_is_marked_against_its_target_and_misses_are_listed() -> None:
    """Both forms of target, units converted, ranges and notes after the figure ignored,
    rows that are not the target's skipped, and cells without a figure left alone."""
    from benchmarks import verdicts

    text = "\n".join([
        "### Speed", "",
        "| measure | target | measured |", "| --- | --- | ---: |",
        "| trace | <= 1 s | 730 ms (660-1,000) |",
        "| first call | < 0.5 s | 0.5 s |",
        "| ratio | >= 10x | 9.5x (8.0-12.0) |",
        "| page | 500 kB | 0.7 kB |",
        "| error | <= 1e-12 | 1.1e-14 |",
        "| unreadable | <= 1 s | not measured |",
        "", "### Steps", "",
        "| network | ours / NumPy (target <= 2x) | ours / PyTorch (aim >= 1x) |",
        "| --- | ---: | ---: |",
        "| small | 2.21x (0.60-2.71) | 1.4x |",
        "| large (not the target's row) | 3.0x | 0.5x |",
        "| per node | 2.8 (2.5-3.7) µs | 1.0x |",
    ])
    marked, found = verdicts.mark(text)
    assert [(v.measure, v.met) for v in found] == [
        ("trace", True), ("first call", False), ("ratio", False), ("page", True), ("error", True),
        ("small: ours / NumPy", False), ("small: ours / PyTorch", True),
        ("per node: ours / PyTorch", True)]
    assert "| trace | <= 1 s | 730 ms (660-1,000) (met) |" in marked
    assert "| ratio | >= 10x | 9.5x (8.0-12.0) (**missed**) |" in marked
    assert "| unreadable | <= 1 s | not measured |" in marked
    assert "| large (not the target's row) | 3.0x | 0.5x |" in marked
    assert "| per node | 2.8 (2.5-3.7) µs | 1.0x (met) |" in marked
    summary = verdicts.summary(found)
    assert "5 of 8 figures with a target meet it" in summary
    assert "| Speed | ratio | 9.5x (8.0-12.0) | >= 10x |" in summary
    assert "| Steps | small: ours / NumPy | 2.21x (0.60-2.71) | <= 2x |" in summary
