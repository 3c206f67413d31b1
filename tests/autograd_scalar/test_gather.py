"""The gather row: values[k] with the index k an operand, one-hot derivatives, clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, check_graph, gather, grad, ops
from tests.finite_differences import close, partial

real = st.floats(-5, 5, allow_nan=False)


@given(xs=st.lists(real, min_size=1, max_size=8), data=st.data())
def test_gather_selects_and_backpropagates_one_hot(xs: list[float], data) -> None:
    k = data.draw(st.integers(0, len(xs) - 1))
    leaves = [Value(x) for x in xs]
    index = Value(k)
    out = gather(leaves, index)
    assert out.op == "gather" and out.data == xs[k]
    assert out.children == (*leaves, index)
    (out * out).backward()
    assert [v.grad for v in leaves] == [2 * xs[k] if i == k else 0.0 for i in range(len(xs))]
    assert index.grad == 0.0


@given(xs=st.lists(real, min_size=2, max_size=6), data=st.data())
def test_gather_inside_a_function_matches_central_differences(xs: list[float], data) -> None:
    k = data.draw(st.integers(0, len(xs) - 1))

    def f(*point: float) -> float:
        return math.tanh(point[k] * point[0]) + sum(point)

    leaves = [Value(x) for x in xs]
    out = (gather(leaves, k) * leaves[0]).tanh() + ag.sum(leaves)
    out.backward()
    for i, leaf in enumerate(leaves):
        assert close(leaf.grad, partial(f, xs, i)), (i, leaf.grad, partial(f, xs, i))


def test_second_derivatives_through_gather_are_those_of_the_selected_value() -> None:
    x, y = Value(0.7), Value(-1.3)
    out = gather([x, y], 1) ** 3  # d/dy = 3 y^2, d2/dy2 = 6 y, nothing in x
    dx, dy = grad(out, [x, y], create_graph=True)
    assert float(getattr(dx, "data", dx)) == 0.0
    assert math.isclose(dy.data, 3 * 1.3 ** 2)
    assert grad(dy, [x, y]) == [0.0, pytest.approx(6 * -1.3)]


def test_the_index_may_be_an_int_a_float_a_numpy_integer_or_a_value() -> None:
    values = [Value(1.0), Value(2.0), Value(3.0)]
    for index in (2, 2.0, np.int64(2), Value(2.0)):
        assert gather(values, index).data == 3.0
    assert gather([4.0, 5.0], 0).data == 4.0  # numbers become constant leaves


@pytest.mark.parametrize("index, expected", [
    (1.5, r"gather: expected the index \(the last operand\) to be an integer from 0 to 2, "
          r"selecting one of 3 values, got 1\.5"),
    (3, "integer from 0 to 2, selecting one of 3 values, got 3.0"),
    (-1, "integer from 0 to 2, selecting one of 3 values, got -1.0"),
    (math.nan, "got nan"),
    (math.inf, "got inf"),
])
def test_a_bad_index_is_a_clear_error(index: float, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        gather([Value(1.0), Value(2.0), Value(3.0)], index)


def test_bad_values_and_index_types_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="at least one value to select from, got none"):
        gather([], 0)
    with pytest.raises(TypeError, match="gather: values must be a sequence, got Value"):
        gather(Value(1.0), 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gather: an operand expects a real number"):
        gather([Value(1.0)], True)
    with pytest.raises(ValueError, match=r"expected operands v_0, \.\.\., v_\{n-1\} and an"):
        ops.GATHER(Value(0.0))


def test_on_arrays_the_forward_is_a_gather_and_the_backward_a_scatter() -> None:
    rng = np.random.default_rng(0)
    values = [rng.normal(size=6) for _ in range(4)]
    index = np.array([0.0, 3.0, 1.0, 1.0, 2.0, 3.0])
    out = ops.GATHER(*values, index)
    assert out.tolist() == [values[int(k)][b] for b, k in enumerate(index)]
    partials = ops.GATHER.derivatives(*values, index, out)
    upstream = rng.normal(size=6)
    dense = np.array([np.broadcast_to(p, (6,)) * upstream for p in partials[:-1]])
    one_hot = [[upstream[b] if int(k) == i else 0.0 for b, k in enumerate(index)]
               for i in range(4)]
    assert np.array_equal(dense, np.array(one_hot))
    assert np.all(np.asarray(partials[-1]) == 0.0)
    with pytest.raises(ValueError, match=r"every index to be an integer from 0 to 3, got 4\.0"):
        ops.GATHER(*values, np.array([0.0, 4.0, 1.0, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"got 0\.5"):
        ops.GATHER(*values, np.full(6, 0.5))


@pytest.mark.parametrize("n", [3, 40])  # 40 > 32 operands: differenced on arrays, all at once
def test_check_graph_holds_the_index_fixed_and_checks_the_values(n: int) -> None:
    leaves = [Value(0.1 * i - 1.0) for i in range(n)]
    out = (gather(leaves, n - 2) * leaves[0]).exp()
    report = check_graph(out)
    assert report.ok and not report.skipped, str(report)
    assert report.checked == 3


@pytest.mark.parametrize("n", [3, 40])
def test_check_graph_finds_a_wrong_gather_rule(n: int) -> None:
    def shifted(*operands_out: float) -> tuple[float, ...]:  # one-hot one place too far
        k = int(operands_out[-2]) + 1
        return (*[1.0 if i == k else 0.0 for i in range(len(operands_out) - 2)], 0.0)

    def index_moves(*operands_out: float) -> tuple[float, ...]:
        return (*ops.GATHER.derivatives(*operands_out)[:-1], 1.0)

    leaves = [Value(float(i)) for i in range(n)]
    for rule, wrong in ((shifted, (0, 1)), (index_moves, (n,))):
        node = ops.GATHER.replace(name="my_gather", derivatives=rule)(*leaves, 0)
        (failure,) = check_graph(node).failures
        assert (failure.op, failure.wrong) == ("my_gather", wrong)


def test_the_compiled_tape_takes_the_index_as_a_per_example_input() -> None:
    table = [Value(1.0), Value(2.0), Value(3.0)]
    tape = ag.compile(lambda x, k: gather(table, k) * x, 2.0, 1.0)
    X, K = np.array([2.0, 3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0, 1.0])
    assert tape.forward(X, K).tolist() == [2.0, 6.0, 12.0, 10.0]
    tape.backward(X, K, reduction="sum")  # d/dtable[i] = sum of x over the examples picking i
    assert [v.grad for v in table] == [2.0, 3.0 + 5.0, 4.0]
