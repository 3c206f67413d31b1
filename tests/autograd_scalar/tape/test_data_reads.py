"""compile refuses a function whose graph may depend on the data, naming the place.

A trace sees one example: a Python branch on a traced Value's number, or a number
made from it, would be replayed for every other example. The trace records every
such read by the function (not by the engine itself) and ``compile`` raises
DataDependenceError naming the file and line, unless ``allow_data_reads=True``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import autograd_scalar as ag
from autograd_scalar import (
    DataDependenceError,
    TraceError,
    TraceMismatchError,
    Value,
    compile,
    no_grad,
    peek,
    scope,
)
from tests.autograd_scalar.sample_functions import Cube

W = Value(2.0, label="w")


def branch(x):
    return x[0] * W if x[0].data > 1.5 else x[0] * W * W  # READ


def branch_on_a_node(x):
    z = x[0] * W + x[1]
    return z.relu() if z.data > 0 else -z  # READ


def frozen_float(x):
    scale = float(x[0].data)  # READ
    return x[1] * scale


def frozen_value(x):
    return x[1] * Value(x[0].data)  # READ


def frozen_max(x):
    top = max(v.data for v in x)  # READ
    return x[0] - top


def item(x):
    return x[1] * x[0].item()  # READ


def detach(x):
    return x[1] * (x[0] * 2).detach()  # READ


def inside_no_grad_and_a_scope(x):
    with scope("inner"), no_grad():
        positive = x[0].data > 0  # READ
    return x[1] if positive else x[0]


def slope_by_grad(x):
    y = (W * x[0]).tanh()
    (slope,) = ag.grad(y, [x[0]])  # READ
    return y * slope


def slope_by_gradients(x):
    y = x[0] * x[1]
    return x[0] * ag.gradients(y)[x[1]]  # READ


def slope_by_backward(x):
    (x[1] * x[1]).backward()  # READ
    return x[0] * x[1].grad


def slope_by_jvp(x):
    return x[0] * ag.jvp(lambda v: v * v, [x[1]], [1.0])[1]  # READ


def relus_local_derivative(x):
    return x[0] * x[1].relu().local_grads[0]  # READ


def copied(x):
    return x[0] * __import__("copy").copy(x[1])  # READ


def deep_copied(x):
    return x[0] * __import__("copy").deepcopy(x[1] * 2)  # READ


def pickled(x):
    return x[0] * __import__("pickle").loads(__import__("pickle").dumps(x[1]))  # READ


def item_as_a_key(x):
    return max(x, key=Value.item) * 1.0  # READ


def detached_as_a_function(x):
    return x[1] * Value.detach(x[0])  # READ


def copied_as_a_function(x):
    return x[0] * Value.__copy__(x[1])  # READ


def an_op_under_no_grad(x):
    """A stop-gradient: the product, a number under no_grad, was replayed as the traced
    example's for every example (and fit trained on it)."""
    with no_grad():
        c = x[0] * 2  # READ
    return x[1] * c


def an_int_asked_of_a_value(x):
    """A Value refuses int(), so the function stopped with a TypeError, not the trace's
    refusal (and fit(compiled="auto") did not fall back to eager training)."""
    return x[1] * (1.0, 3.0)[int(x[0]) % 2]  # READ


def a_comparison_of_values(x):
    return x[1] if x[0] > 0.5 else -x[1]  # READ


def a_truth_value(x):
    return x[1] if x[0] - 1.0 else -x[1]  # READ


READERS = [an_int_asked_of_a_value, a_comparison_of_values, a_truth_value,
           branch, branch_on_a_node, frozen_float, frozen_value, frozen_max, item, detach,
           inside_no_grad_and_a_scope, slope_by_grad, slope_by_gradients, slope_by_backward,
           slope_by_jvp, relus_local_derivative, copied, deep_copied, pickled,
           item_as_a_key, detached_as_a_function, copied_as_a_function, an_op_under_no_grad]


def test_a_second_derivative_as_a_graph_is_no_read() -> None:
    """grad(create_graph=True) gives Values, which the tape replays per example; it was
    refused by the compiled core, which reads a product's number to keep a zero
    local derivative's contribution at 0."""
    def fn(x):
        (slope,) = ag.grad((W * x[0]).tanh() * x[1], [x[0]], create_graph=True)
        return slope * x[1]

    tape = compile(fn, [0.5, 2.0])
    X = np.array([[0.1, 1.0], [-0.7, 3.0], [2.0, -0.5]])
    expected = [fn([Value(a), Value(b)]).data for a, b in X]
    np.testing.assert_allclose(tape.forward(X), expected, rtol=1e-12)
    with ag.detect_anomaly():  # which checks each contribution's number, as the engine's
        np.testing.assert_allclose(compile(fn, [0.5, 2.0]).forward(X), expected, rtol=1e-12)


def marked_line(fn) -> int:
    """The line of ``fn``'s source marked READ."""
    lines, first = __import__("inspect").getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if line.rstrip().endswith("# READ"))


@pytest.mark.parametrize("fn", READERS, ids=lambda fn: fn.__name__)
def test_a_read_of_a_traced_number_is_refused_naming_file_and_line(fn) -> None:
    with pytest.raises(DataDependenceError) as caught:
        compile(fn, [1.0, 2.0])
    error = caught.value
    assert isinstance(error, TraceError)
    [read] = error.reads
    assert (read.file, read.line) == (__file__, marked_line(fn))
    assert read.function == ("<genexpr>" if fn is frozen_max else fn.__name__)
    assert read.code.endswith("# READ")
    first = str(error).splitlines()[0]
    assert first.startswith("compile: the function reads the number of a traced Value at "
                            f"{__file__}:{read.line} in {read.function} (")
    assert first.endswith("so its graph may depend on the data")
    assert "allow_data_reads=True" in str(error)


def test_a_refused_number_the_function_catches_is_no_read() -> None:
    """int(v) or a comparison refused by a Value is a read only if its TypeError ends
    the trace: caught by the function, the graph does not depend on the number; and an
    unrelated TypeError stays a TypeError, with allow_data_reads too."""
    def caught(x):
        try:
            scale = float(x[0])
        except TypeError:
            scale = 2.0
        return x[1] * scale

    tape = compile(caught, [1.0, 3.0])
    np.testing.assert_array_equal(tape.forward(np.array([[1.0, 3.0], [5.0, -1.0]])), [6.0, -2.0])

    def unrelated(x):
        if peek(x[0]) > 0:
            pass
        return len(x[0])

    with pytest.raises(TypeError, match="has no len"):
        compile(unrelated, [1.0, 3.0], allow_data_reads=True)


def test_every_place_is_listed_once() -> None:
    def twice(x):
        total = x[0] * 0
        for v in x:
            if v.data > 0:
                total = total + v
        return total + (x[0] if x[1].item() > 0 else x[1])

    with pytest.raises(DataDependenceError, match=r"\(and 1 more place\)") as caught:
        compile(twice, [1.0, -1.0, 3.0])
    assert [read.code for read in caught.value.reads] == [
        "if v.data > 0:", "return total + (x[0] if x[1].item() > 0 else x[1])"]
    assert "  also at " in str(caught.value)


def test_the_engines_own_reads_are_not_counted() -> None:
    """Every op reads its operands' numbers to compute its forward and rule; the tape
    replays those per example, so they are not a dependence on the data."""

    def many_ops(x, t):
        a = ag.sum(x) + ag.dot(x, x) + ag.gather(x, t) + ag.logsumexp(x)
        b = ag.exp(x[0]) + x[1].tanh() + (2 - x[0]) ** 2 + 3.0 / x[1] + abs(x[0]) - x[0]
        c = ag.affine([W, W], x, 1.0) + ag.linear([[W, 0.5], [1.5, W]], x, [0.0, 1.0])[1]
        d = Cube.apply(x[0]) + x[1].erf() + x[0].leaky_relu(0.1) + x[1].sqrt().log()
        return [a + b + c, d]

    tape = compile(many_ops, [0.5, 2.0], 1.0)
    assert tape.data_reads == ()
    X = np.array([[0.5, 2.0], [1.5, 0.25]])
    tape.check(X, np.array([0.0, 1.0]))


def test_reads_of_constants_and_of_nodes_after_the_trace_are_not_counted() -> None:
    def constant_read(x):
        c = Value(3.0)
        return x[0] * c.data + W * 2  # a constant is the same for every example

    tape = compile(constant_read, [1.0])
    assert tape.data_reads == ()
    assert tape.placeholders[0].data == 1.0  # outside the trace: a Value as any other
    assert type(tape.placeholders[0]).__name__ == "TracedValue"


def test_allow_data_reads_traces_and_lists_the_places() -> None:
    tape = compile(branch, [1.0, 0.0], allow_data_reads=True)
    [read] = tape.data_reads
    assert read.line == marked_line(branch)
    assert str(read) == f"{__file__}:{read.line} in branch ({read.code})"
    tape.check(np.array([[0.5, 0.0], [1.0, 0.0]]))  # both on the traced side
    with pytest.raises(TraceMismatchError, match="example 1"):
        tape.check(np.array([[1.0, 0.0], [2.0, 0.0]]))


def test_allow_data_reads_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="allow_data_reads must be True or False, got 'yes'"):
        compile(branch, [1.0, 0.0], allow_data_reads="yes")


def test_peek_reads_without_counting() -> None:
    def checked(x):
        if not 0 <= peek(x[0]) < 10:
            raise ValueError("out of range")
        return x[0] * W

    tape = compile(checked, [3.0])
    assert tape.data_reads == ()
    assert peek(Value(2.5)) == 2.5
    with pytest.raises(TypeError, match="peek expects a Value, got float"):
        peek(2.5)


def test_a_refused_trace_leaves_the_mode_as_it_was() -> None:
    with pytest.raises(DataDependenceError):
        compile(branch, [1.0, 0.0])
    made = W * 2
    assert type(made) is Value and made.data == 4.0
    assert ag.current_scope() == "" and ag.is_grad_enabled()


def test_an_error_inside_the_traced_function_leaves_the_mode_as_it_was() -> None:
    def failing(x):
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        compile(failing, [1.0])
    assert type(W * 2) is Value


def test_a_traced_value_reads_and_writes_as_a_value() -> None:
    tape = compile(lambda x: x[0] * W, [1.0])
    leaf = tape.placeholders[0]
    leaf.data = 4.0
    assert leaf.data == 4.0 and leaf.item() == 4.0 and math.isclose((leaf * 2).data, 8.0)
    assert type(leaf.detach()) is Value and leaf.detach().data == 4.0


def test_a_copy_of_an_op_node_is_no_read() -> None:
    """A copy of an op node keeps its inputs, so the graph goes on through it per example;
    only a copy of a placeholder is a number frozen."""
    import copy

    def fn(x):
        return copy.copy(x[0] * W) + x[1]

    tape = compile(fn, [1.0, 2.0])
    X = np.array([[0.5, 1.0], [-2.0, 3.0]])
    np.testing.assert_allclose(tape.forward(X), [fn([Value(a), Value(b)]).data for a, b in X])


@pytest.mark.parametrize(("fn", "error", "op"), [
    (lambda x: x[0].log(), ValueError, "log: expected x > 0"),
    (lambda x: 1 / x[0], ZeroDivisionError, "/: expected a non-zero divisor"),
])
def test_an_example_outside_an_ops_domain_is_named_as_the_traced_example(fn, error, op) -> None:
    """Zeros are a natural placeholder example; the message says it is the example that
    must change, since the tape takes any example once traced."""
    with pytest.raises(error, match=rf"^compile: the function raised at the example it was "
                                    rf"traced at: {re.escape(op)}.*inside every op's domain"):
        compile(fn, [0.0])
    assert compile(fn, [1.0]).forward(np.array([[0.0]])).shape == (1,)


def test_a_mismatch_names_changed_or_random_numbers_as_a_cause_too() -> None:
    scale = [2.0]
    tape = compile(lambda x: x[0] * scale[0], [1.0])  # a Python number: frozen at 2
    scale[0] = 3.0
    with pytest.raises(TraceMismatchError, match="changed since the trace or is random"):
        tape.check(np.array([[1.0]]))


def test_an_error_of_the_functions_own_is_not_said_to_be_the_examples_domain() -> None:
    def f(x):
        if len(x) != 3:
            raise ValueError(f"expected 3 features, got {len(x)}")
        return x[0]

    with pytest.raises(ValueError, match=r"^expected 3 features, got 2$"):
        compile(f, [1.0, 2.0])
