"""What a run allocates: per-example rows only for what some step reads or writes.

The interior nodes have rows; the placeholders of an argument that only dense layers
read (straight from the batch) have none, and no placeholder has a gradient row
unless the inputs' gradients are asked for. The sizes are counted on the arrays
themselves, and the results compared with runs that do allocate every row.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_scalar as ag
import nn
from autograd_scalar import compile
from autograd_scalar.tape.layout import Layout


def _mlp_loss(sizes, seed=0, extra=False):
    model = nn.MLP(sizes[0], list(sizes[1:]), seed=seed)
    ce = nn.losses.get("cross_entropy")

    def fn(x, t):
        loss = ce.example(model(x), t)
        return loss + x[0] * x[1] if extra else loss  # extra: the inputs read by an op too

    return model, fn


def _batch(sizes, n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, sizes[0])), np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]


def test_layout_puts_interior_rows_first_and_the_first_argument_last() -> None:
    layout = Layout(first_shared=5, first_interior=9, size=12, widths=(3, 2))
    assert layout.rows == 8 and layout.interior == 3
    assert [layout.row(i) for i in (9, 10, 11)] == [0, 1, 2]
    assert [layout.row(i) for i in range(5)] == [5, 6, 7, 3, 4]   # argument 1 before 0
    assert layout.row(np.array([0, 11, 4])).tolist() == [5, 2, 4]
    assert layout.argument_rows(0) == slice(5, 8) and layout.argument_rows(1) == slice(3, 5)
    assert layout.row(slice(9, 12)) == slice(0, 3)


def test_a_network_input_read_only_by_its_first_layer_gets_no_rows() -> None:
    sizes = (30, 8, 4)
    model, fn = _mlp_loss(sizes)
    X, T = _batch(sizes, 50)
    tape = compile(fn, X[0], T[0], parameters=model.parameters())
    tape.strategy = "grouped"
    interior = tape.size - tape.layout.first_interior
    assert tape.layout.interior == interior
    tape.backward_arrays(X, T)
    values, grads = tape._buffers
    # the values: interior nodes and the targets (read by the loss); no row for the 30
    # inputs, nor for the 8 pre-activations of the relu layer (relu runs in place)
    assert tape.layout.kept == interior - 8
    assert values.shape == (interior - 8 + 4, 50)
    assert grads.shape == (interior - 8 + 4, 50)
    assert tape.memory(50) == values.nbytes + grads.nbytes + 2 * 8 * len(tape.shared)
    assert tape.memory(50) < 8 * 2 * tape.layout.rows * 50


def test_layout_sets_runs_apart_after_the_placeholders() -> None:
    layout = Layout(first_shared=2, first_interior=3, size=9, apart=[slice(4, 6)])
    assert layout.kept == 4 and layout.rows == 8
    assert [layout.row(i) for i in range(3, 9)] == [0, 6, 7, 1, 2, 3]
    assert [layout.row(i) for i in range(2)] == [4, 5]
    assert layout.row(slice(4, 6)) == slice(6, 8) and layout.row(slice(6, 9)) == slice(1, 4)
    assert layout.row(np.array([8, 0, 5])).tolist() == [3, 4, 7]
    assert layout.interior_rows == (slice(0, 4), slice(6, 8))
    with pytest.raises(ValueError, match="not one run of rows"):
        layout.row(slice(3, 6))
    with pytest.raises(ValueError, match="distinct runs of interior"):
        Layout(first_shared=2, first_interior=3, size=9, apart=[slice(4, 6), slice(5, 7)])
    # two arguments: their runs after the kept rows, the last argument's first
    two = Layout(first_shared=5, first_interior=6, size=12, widths=(3, 2),
                 apart=[slice(9, 11), slice(6, 7)])
    assert two.kept == 3 and two.rows == 11
    assert [two.row(i) for i in range(5)] == [5, 6, 7, 3, 4]
    assert [two.row(i) for i in range(6, 12)] == [8, 0, 1, 9, 10, 2]
    assert two.argument_rows(0) == slice(5, 8) and two.argument_rows(1) == slice(3, 5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_relu_layers_in_place_give_the_results_of_a_run_with_every_row(dtype) -> None:
    """A relu layer's pre-activations have no rows in a training run (relu runs in place in
    the activations' rows, its derivative read from them); a run that writes every node
    (as ``Tape.check``'s) has them. Both give the same loss and gradients bit for bit, at
    relu's edges (-0.0, exact zeros) too, and agree with the eager graph."""
    sizes = (6, 5, 4, 3)
    model, fn = _mlp_loss(sizes, seed=9)
    X, T = _batch(sizes, 11, seed=10)
    X[3] = 0.0  # every pre-activation of example 3 is a bias alone
    for neuron in model.layers[0].neurons[:2]:
        neuron.b.data = -0.0  # relu(-0.0) and relu(0.0) at example 3
    tape = compile(fn, X[0], T[0], parameters=model.parameters(), dtype=dtype)
    tape.strategy = "grouped"
    mean, _ = tape.backward_arrays(X, T)
    in_place = tape.arrays.grad.copy()
    assert tape._buffers[0].shape[0] == tape.layout.kept + 3  # the targets' rows after
    assert tape.layout.rows - tape.layout.kept - tape.layout.first_shared == 9
    # the same run writing every node's value (a private entry: no public run does both)
    seeds = np.zeros((len(tape.outputs), len(X)), tape.dtype)
    seeds[0] = tape.dtype.type(1 / len(X))
    values, _ = tape._execute(tape._columns((X, T)), False, seeds, everything=True)
    assert tape._buffers[0].shape[0] == tape.layout.rows
    assert float(np.add.reduce(tape.output_values(values)[0])) / len(X) == mean
    assert in_place.tobytes() == tape.arrays.grad.tobytes()
    tape.check(X, T)


def test_only_dense_layers_set_their_pre_activations_apart() -> None:
    """A relu over an elementwise group (no dense step to run it in place) keeps its input's
    rows among the others: nothing is set apart, and nothing more allocated."""
    W = [[ag.Value(0.5), ag.Value(-1.0)], [ag.Value(2.0), ag.Value(0.25)]]

    def fn(x):
        dense = [z.relu() for z in ag.linear(W, x, [ag.Value(0.0), ag.Value(0.1)])]
        squares = [(h * h - 0.5).relu() for h in dense]  # relu of an elementwise group
        return ag.sum(squares)

    X = np.random.default_rng(2).normal(size=(9, 2))
    tape = compile(fn, X[0], parameters=[w for row in W for w in row])
    tape.strategy = "grouped"
    assert tape.layout.rows - tape.layout.kept - tape.layout.first_shared == 2  # dense only
    tape.backward_arrays(X)
    assert tape._buffers[0].shape[0] == tape.layout.kept  # no input rows, none apart
    tape.check(X)


def test_training_results_are_those_of_a_run_with_every_row() -> None:
    """backward_arrays (no input rows) and gradients (every row, the inputs' gradients
    too) give the same loss, outputs and parameter gradients, bit for bit."""
    sizes = (12, 6, 3)
    model, fn = _mlp_loss(sizes, seed=2)
    X, T = _batch(sizes, 9, seed=3)
    tape = compile(fn, X[0], T[0], parameters=model.parameters())
    tape.strategy = "grouped"
    mean, _outputs = tape.backward_arrays(X, T)
    short = tape.arrays.grad.copy()
    assert tape._buffers[0].shape[0] < tape.layout.rows
    full = tape.gradients(X, T, seed=np.full(len(X), 1 / len(X)))
    assert tape._buffers[1].shape[0] == tape.layout.rows          # input gradient rows now
    assert np.array_equal(tape.arrays.grad, short)
    assert float(np.add.reduce(full.outputs)) / len(X) == mean
    again, _ = tape.backward_arrays(X, T)                           # the taller arrays reused
    assert again == mean and np.array_equal(tape.arrays.grad, short)
    tape.check(X, T)
    for i in range(len(X)):                                         # the inputs' gradients
        xs = [ag.Value(v) for v in X[i]]
        grads = ag.gradients(fn(xs, [ag.Value(v) for v in T[i]]))
        expected = [grads.get(x, 0.0) / len(X) for x in xs]
        np.testing.assert_allclose(full.inputs[0][i], expected, rtol=1e-12, atol=1e-15)


def test_inputs_read_by_another_op_too_are_copied_and_get_their_rows() -> None:
    sizes = (10, 5, 3)
    model, fn = _mlp_loss(sizes, seed=4, extra=True)
    X, T = _batch(sizes, 7, seed=5)
    tape = compile(fn, X[0], T[0], parameters=model.parameters())
    tape.strategy = "grouped"
    assert tape.copied[0] is not None
    tape.backward_arrays(X, T)
    # every placeholder's row; none for the 5 pre-activations of the relu layer
    assert tape._buffers[0].shape == (tape.layout.kept + tape.layout.first_shared, 7)
    assert tape.layout.kept + tape.layout.first_shared == tape.layout.rows - 5
    tape.check(X, T)


def test_every_strategy_sizes_its_arrays_for_what_it_reads() -> None:
    """Code reads the inputs from the array (no dense step reads the batch): each
    strategy's run matches the eager graph whatever rows it allocates."""
    sizes = (6, 4, 3)
    model, fn = _mlp_loss(sizes, seed=6)
    X, T = _batch(sizes, 5, seed=7)
    for strategy in ("scalar", "vector", "grouped", "auto"):
        tape = compile(fn, X[0], T[0], parameters=model.parameters())
        tape.strategy = strategy
        tape.backward_arrays(X, T)
        value_rows, grad_rows = tape.plan_for(5, strategy).rows
        assert tape._buffers[0].shape[0] == value_rows
        assert tape._buffers[1].shape[0] == grad_rows
        tape.check(X, T)


def test_an_eager_run_made_before_the_trace_serves_the_check() -> None:
    """Tape.eager_reference runs the function eagerly before the tape exists; check then
    compares with it instead of running the function again, and still finds a mismatch."""
    sizes = (5, 4, 3)
    model, fn = _mlp_loss(sizes, seed=8)
    calls = [0]

    def counted(x, t):
        calls[0] += 1
        return fn(x, t)

    X, T = _batch(sizes, 4, seed=9)
    params = model.parameters()
    before = [p.grad for p in params]
    reference = ag.Tape.eager_reference(counted, X, T, parameters=params)
    assert calls[0] == 4 and [p.grad for p in params] == before     # grads put back
    tape = compile(counted, X[0], T[0], parameters=params)
    calls[0] = 0
    tape.check(X, T, reference=reference)
    assert calls[0] == 0                                            # no eager run again
    tape.check(X[:3], T[:3], reference=reference)                   # other rows: run here
    assert calls[0] == 3
    wrong = ag.Tape.eager_reference(lambda x, t: counted(x, t) * 2, X, T, parameters=params)
    with pytest.raises(ag.TraceMismatchError, match="example 0"):
        tape.check(X, T, reference=wrong)
