"""compile: the batched tape against the eager graph, example by example."""

from __future__ import annotations

import collections
import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Function, TraceError, TraceMismatchError, Value, compile, no_grad
from tests.autograd_scalar.random_programs import programs, run, with_shared_leaves
from tests.autograd_scalar.sample_functions import Cube
from tests.autograd_scalar.test_edge_values import same

RTOL = 1e-12


def assert_close(found, expected, rtol=RTOL):
    """Equal to ``rtol`` relative to the largest magnitude (sums differ in order only)."""
    found, expected = np.asarray(found, dtype=float), np.asarray(expected, dtype=float)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    # an absolute floor: terms of order 1 that cancel leave rounding of order 1e-16 each
    np.testing.assert_allclose(found, expected, rtol=rtol, atol=max(rtol * scale, 1e-14))


def eager(fn, params, *batches):
    """Outputs, shared-leaf gradient sums and input gradients, one eager graph per row."""
    n = len(batches[0])
    outputs, inputs = [], [np.zeros_like(np.asarray(b, dtype=float)) for b in batches]
    totals = dict.fromkeys(params, 0.0)
    for i in range(n):
        args = [[Value(v) for v in b[i]] if np.ndim(b[i]) else Value(b[i]) for b in batches]
        out = fn(*args)
        outs = [out] if isinstance(out, Value) else list(out)
        outputs.append([o.data for o in outs])
        for o in outs:
            found = ag.gradients(o)
            for p in params:
                totals[p] += found.get(p, 0.0)
            for j, arg in enumerate(args):
                leaves = arg if isinstance(arg, list) else [arg]
                row = [found.get(leaf, 0.0) for leaf in leaves]
                inputs[j][i] = row if isinstance(arg, list) else row[0]
    return np.array(outputs), totals, inputs


@given(programs(), st.integers(0, 3), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_random_graphs_match_eager(program, n_shared, n, seed) -> None:
    fn, params, inputs = with_shared_leaves(program, n_shared)
    width = len(inputs)

    tape = compile(fn, inputs)
    # Inputs in [-1, 1]: much further out, chains such as tanh(2 x^2) saturate, and a
    # one-ulp difference between NumPy's and math's tanh becomes 1e-10 in 1 - tanh^2.
    X = np.random.default_rng(seed).uniform(-1, 1, size=(n, width))
    found = tape.gradients(X)
    outputs, totals, inputs = eager(fn, params, X)
    assert_close(found.outputs, outputs[:, 0])
    assert_close([found.shared.get(p, 0.0) for p in params], [totals[p] for p in params])
    assert_close(found.inputs[0], inputs[0])


@st.composite
def mlps(draw):
    sizes = [draw(st.integers(1, 4))] + [draw(st.integers(1, 5)) for _ in range(draw(
        st.integers(1, 3)))]
    activation = draw(st.sampled_from(["relu", "tanh", "sigmoid", "softplus", "leaky"]))
    return sizes, activation, draw(st.integers(0, 2**32 - 1))


def build(sizes, activation, seed):
    rng = np.random.default_rng(seed)
    layers = [[([Value(w) for w in rng.normal(size=a)], Value(rng.normal()))
               for _ in range(b)] for a, b in itertools.pairwise(sizes)]
    act = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
           "softplus": Value.softplus, "leaky": lambda v: v.leaky_relu(0.1)}[activation]

    def model(x):
        for i, layer in enumerate(layers):
            out = [ag.dot(w, x) + b for w, b in layer]
            x = out if i == len(layers) - 1 else [act(o) for o in out]
        return x

    params = [p for layer in layers for w, b in layer for p in (*w, b)]
    return model, params


@given(mlps(), st.integers(1, 20))
def test_random_mlps_with_a_loss_match_eager_backward(mlp, n) -> None:
    sizes, activation, seed = mlp
    model, params = build(sizes, activation, seed)

    def loss(x, t):
        return ag.sum([(o - ti) ** 2 for o, ti in zip(model(x), t)]) + 0.01 * ag.sum(
            [p * p for p in params[:2]])

    rng = np.random.default_rng(seed + 1)
    X, T = rng.normal(size=(n, sizes[0])), rng.normal(size=(n, sizes[-1]))
    tape = compile(loss, X[0], T[0])
    for p in params:
        p.grad = 0.5
    batch_loss = tape.backward(X, T, reduction="mean", wrt=params)
    compiled = [p.grad for p in params]
    for p in params:
        p.grad = 0.5
    total = ag.sum([loss([Value(v) for v in x], [Value(v) for v in t]) for x, t in zip(X, T)])
    mean = total / n
    mean.backward()
    assert batch_loss == pytest.approx(mean.data, rel=RTOL)
    assert_close(compiled, [p.grad for p in params])


def test_sum_reduction_and_forward_shapes() -> None:
    w = Value(2.0)
    tape = compile(lambda x, c: [x[0] * w + c, x[1] * w], [1.0, 2.0], 3.0)
    X, C = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([1.0, 0.0, -1.0])
    np.testing.assert_array_equal(tape.forward(X, C), [[3.0, 4.0], [6.0, 8.0], [9.0, 12.0]])
    single = compile(lambda x: x[0] * w + x[1], [1.0, 2.0])
    assert single(X).shape == (3,)
    assert single.backward(X, reduction="sum") == pytest.approx(2 * 9 + 12)
    assert w.grad == 9.0  # d/dw sum_i x_i0 w = 1 + 3 + 5
    assert single.backward(X, reduction="mean") == pytest.approx(10.0)
    assert w.grad == 9.0 + 3.0


@pytest.mark.parametrize("output", [lambda x, w: w, lambda x, w: Value(2.5),
                                    lambda x, w: w * 2.0])
def test_an_output_the_same_for_every_example_has_one_row_per_example(output) -> None:
    """A parameter, a constant or a node of parameters alone was read once: forward gave
    shape (1,) for a batch of 3, and backward's mean divided its one number by 3."""
    w = Value(0.7)
    tape = compile(lambda x: output(x, w), [0.3])
    X = np.ones((3, 1))
    value = output([Value(1.0)], w).data
    np.testing.assert_array_equal(tape.forward(X), [value] * 3)
    assert tape.gradients(X).outputs.shape == (3,)
    assert tape.backward(X, reduction="mean") == pytest.approx(value)
    assert tape.backward(X, reduction="sum") == pytest.approx(3 * value)
    both = compile(lambda x: [output(x, w), x[0]], [0.3])
    assert both.forward(X).shape == (3, 2)


def test_shared_leaves_read_their_current_data() -> None:
    w = Value(1.0)
    tape = compile(lambda x: (x[0] * w).tanh(), [0.5])
    w.data = 3.0
    assert tape(np.array([[0.5]]))[0] == pytest.approx(math.tanh(1.5), rel=RTOL)


def test_groups_are_levelled_by_depth_and_op() -> None:
    ws = [Value(0.5), Value(-0.25)]
    tape = compile(lambda x: [ag.dot(ws, x).relu(), ag.dot(ws[::-1], x).relu()], [1.0, 2.0])
    assert [(g.row.name, g.size) for g in tape.groups] == [("dot", 2), ("relu", 2)]


class MathCos(Function):
    @staticmethod
    def forward(x):
        return math.cos(x)

    @staticmethod
    def derivatives(x, out):
        return (-math.sin(x),)


def test_user_function_rows_run_on_arrays() -> None:
    w = Value(0.7)
    tape = compile(lambda x: Cube.apply(x[0] * w), [1.5])
    X = np.array([[1.5], [-2.0], [0.25]])
    found = tape.gradients(X)
    assert_close(found.outputs, (0.7 * X[:, 0]) ** 3)
    assert_close(found.shared[w], np.sum(3 * 0.7 ** 2 * X[:, 0] ** 3))


def test_a_function_whose_rule_needs_floats_is_a_clear_error() -> None:
    with pytest.raises(TraceError, match=r"derivatives of op 'MathCos' cannot run on NumPy"):
        compile(lambda x: MathCos.apply(x[0]), [0.5])


def test_an_example_outside_an_ops_domain_at_a_run_is_named() -> None:
    """An index out of range in one example was "compile: the forward of op 'gather'
    cannot run on NumPy arrays; write it with arithmetic...": a trace-time message,
    blaming correct code, naming no example."""
    tape = compile(lambda x: ag.gather([x[0], x[1], x[2]], x[3]), [1.0, 2.0, 3.0, 0.0])
    tape.strategy = "grouped"
    X = np.array([[1.0, 2.0, 3.0, 0.0], [1.0, 2.0, 3.0, 1.0], [1.0, 2.0, 3.0, 3.0]])
    with pytest.raises(ValueError, match=r"^gather: expected every index to be an integer "
                                         r"from 0 to 2, got 3\.0 \(at example 2 of the batch"):
        tape.forward(X)


class _Reciprocal(Function):
    """1 / x by Python's division: it raises at 0, where the eager graph gives inf."""

    @staticmethod
    def forward(x):
        return 1.0 / x

    @staticmethod
    def derivatives(x, out):
        return (-out * out,)


@pytest.mark.parametrize("strategy", ["grouped", "scalar", "vector"])
def test_a_function_raising_where_ieee_has_an_answer_runs_as_eagerly(strategy) -> None:
    """Eagerly, a Function's forward that raises past its domain check (1 / 0) is retried
    on NumPy scalars and gives inf; the tape refused the batch ("at example 1 of the
    batch"), so fit and predict failed compiled where eager trained."""
    tape = compile(lambda x: _Reciprocal.apply(x[0]).tanh(), [1.0])
    tape.strategy = strategy
    X = np.array([[1.0], [0.0], [-0.0]])
    eager = [_Reciprocal.apply(Value(float(x))).tanh().data for x in X[:, 0]]
    assert tape.forward(X).tolist() == eager == [math.tanh(1.0), 1.0, -1.0]


def test_check_catches_python_branches_on_data() -> None:
    w = Value(2.0)

    def branchy(x):
        return x[0] * w if x[0].data > 0 else x[0] * w * w

    tape = compile(branchy, [1.0], allow_data_reads=True)  # else refused at the trace
    tape.check(np.array([[1.0], [2.0]]))
    with pytest.raises(TraceMismatchError, match="example 1"):
        tape.check(np.array([[1.0], [-2.0]]))


def test_the_check_compares_finite_outputs_to_rounding_beside_an_infinite_one() -> None:
    """An infinite loss beside other outputs made the whole row compare exactly, so one
    rounding in another output was reported as a graph that depends on the data."""
    from autograd_scalar.tape.check import close

    inf, nan = math.inf, math.nan
    assert close(np.array([inf, 0.21696847607996175]), np.array([inf, 0.21696847607996173]),
                 1e-12)
    assert close(np.array([nan, 1.0]), np.array([nan, 1.0 + 1e-15]), 1e-12)
    assert not close(np.array([inf, 1.0]), np.array([-inf, 1.0]), 1e-12)
    assert not close(np.array([1.0, 1.0]), np.array([inf, 1.0]), 1e-12)
    assert not close(np.array([inf, 1.0]), np.array([inf, 1.1]), 1e-12)


def test_check_catches_gradient_differences() -> None:
    w = Value(2.0)

    def frozen(x):
        scale = w.data if x[0].data > 0 else 1.0
        return x[0] * w * 0.0 + x[0] * scale

    tape = compile(frozen, [1.0], allow_data_reads=True)
    with pytest.raises(TraceMismatchError):
        tape.check(np.array([[1.0], [-1.0]]))


def test_checks_message_names_a_real_difference_and_blames_no_branch_for_inf() -> None:
    """A tape and an eager graph that differ only in inf against NaN (sqrt(p) at p = 0: the
    tape sums the batch's upstream gradient before the infinite derivative multiplies
    it) were said to depend on the data; and two equal infinities (inf - inf is NaN,
    which argmax took for the largest difference) were named as the difference. A run
    at the end of float range was blamed on a branch too."""
    p = Value(0.0, "p")
    tape = compile(lambda x: p.sqrt() * x[0], [1.0], parameters=[p])
    with pytest.raises(TraceMismatchError, match=r"leaf 'p' is inf on the tape and nan "
                                                 r"eagerly; a value is not finite") as caught:
        tape.check(np.array([[1.0], [0.0]]))
    assert "branch" not in str(caught.value)
    q, w = Value(0.0, "q"), Value(2.0, "w")

    def detached_below_zero(x):  # the same outputs; w's gradient differs on one side
        return q.sqrt() * x[0] + (w if x[0].data > 0 else w.detach()) * x[0]

    tape = compile(detached_below_zero, [1.0], parameters=[q, w], allow_data_reads=True)
    with pytest.raises(TraceMismatchError, match=r"leaf 'w' is -1\.0 on the tape and 0\.0 "
                                                 r"eagerly; the function's graph depends on "
                                                 r"the data"):
        tape.check(np.array([[-1.0]]))           # q's -inf on both sides is no difference

    def doubled_above_zero(x):
        return x[0] * (2.0 if x[0].data > 0 else 1.0)

    tape = compile(doubled_above_zero, [1.0], allow_data_reads=True)
    with pytest.raises(TraceMismatchError, match=r"end of float range \(up to 2\.0e\+301\), "
                                                 r".*; if they still differ, the graph depends "
                                                 r"on the data"):
        tape.check(np.array([[-1e301]]))


def test_check_leaves_every_grad_as_it_was_and_compares_unreached_parameters() -> None:
    w, v = Value(2.0), Value(-1.5)
    w.grad, v.grad = 0.25, -3.0
    switch = {"on": True}

    def uses_v_when_switched(x):  # a branch the trace cannot see: on Python state
        # x v - x (v's number): zero, but its gradient with respect to v is x
        return x[0] * w + (x[0] * v - x[0] * Value(v.data) if switch["on"] else 0.0)

    tape = compile(uses_v_when_switched, [1.0], parameters=[w, v])
    tape.check(np.array([[1.0], [2.0]]))
    assert (w.grad, v.grad) == (0.25, -3.0)
    switch["on"] = False  # the same outputs, but eagerly v is not reached now
    with pytest.raises(TraceMismatchError, match="gradient for leaf"):
        tape.check(np.array([[1.0], [2.0]]))
    assert (w.grad, v.grad) == (0.25, -3.0)


def test_out_of_domain_inputs_give_ieee_results() -> None:
    tape = compile(lambda x: x[0].log(), [1.0])
    assert np.isnan(tape(np.array([[-1.0]]))[0])


@pytest.mark.parametrize("strategy", ["grouped", "scalar", "vector"])
@pytest.mark.parametrize(("power", "base"), [(-0.5, -math.inf), (math.inf, -1.0),
                                             (-math.inf, -1.0), (1.5, -math.inf)])
def test_a_power_outside_its_domain_is_nan_where_ieee_has_a_number(strategy, power,
                                                                    base) -> None:
    """(-inf) ** -0.5 is 0 and (-1) ** inf is 1 by IEEE's pow, while the eager graph refuses
    a negative base for a power that is not a whole number: the tape gave those numbers,
    and fit, which runs again only the rows whose results are not finite, trained on them
    silently. It now gives NaN there, as for log(-1)."""
    with pytest.raises(ValueError, match="a base"):
        Value(base) ** power
    tape = compile(lambda x: x[0] ** power, [2.0])
    tape.strategy = strategy
    found = tape(np.array([[base], [2.0]]))
    assert np.isnan(found[0]) and found[1] == 2.0 ** power
    slopes = tape.gradients(np.array([[base], [2.0]])).inputs[0][:, 0]  # the rule too: it
    two = Value(2.0)                                                    # gave 0 or inf
    assert np.isnan(slopes[0]) and same(slopes[1], ag.grad(two ** power, [two])[0])


def test_bad_examples_and_outputs_are_errors() -> None:
    with pytest.raises(TraceError, match="example argument 0"):
        compile(lambda x: x, [[1.0, 2.0]])
    with pytest.raises(TraceError, match="must return a Value"):
        compile(lambda x: 3.0, [1.0])
    with pytest.raises(TypeError, match="expects a function"):
        compile(3, [1.0])
    with pytest.raises(TypeError, match="needs an example"):
        compile(lambda: Value(1.0))
    with no_grad(), pytest.raises(TraceError, match="no_grad"):
        compile(lambda x: x[0] * 2, [1.0])


Pair = collections.namedtuple("Pair", "first second")


@pytest.mark.parametrize(("batch", "message"), [
    ([[1 + 5j]], "batch argument 0 must be real numbers, got complex numbers"),
    ([["0.5"]], "batch argument 0 must be real numbers, got an array of dtype <U3"),
    ([[None]], "batch argument 0 must be real numbers, got NoneType"),
    ([[True]], "batch argument 0 must be real numbers, got booleans"),
    (np.array([[True]], dtype=object), "batch argument 0 must be real numbers, got booleans"),
    ([[0.5], [True]], "batch argument 0 must be real numbers, got booleans"),  # made 1.0
    ([np.array([0.5]), np.array([np.True_])], "batch argument 0 must be real numbers, got "
                                              "booleans"),
    ([Pair(True, 0.5)], "batch argument 0 must be real numbers, got booleans"),  # a tuple too
])
def test_a_batch_of_what_is_not_real_numbers_is_refused_as_eager_refuses_it(
        batch, message) -> None:
    """The imaginary part was dropped with a warning, text was parsed, None became NaN,
    True became 1 (where Value(True) is refused)."""
    tape = compile(lambda x: x[0] * 2, [0.1])
    with pytest.raises(TypeError, match=re.escape(message)):
        tape.forward(batch)
    with pytest.raises(TypeError, match="the example's argument 0 must be real numbers"):
        compile(lambda x: x[0] * 2, ["0.1"])
    with pytest.raises(TypeError, match="the example's argument 0 must be real numbers, got "
                                        "booleans"):
        compile(lambda x: x[0] * 2, [True])
    with pytest.raises(TypeError):
        Value(True)


def test_parameters_are_a_list_of_values_or_one_value() -> None:
    """A single Value raised the bare "'Value' object is not iterable"."""
    w = Value(3.0, "w")
    tape = compile(lambda x: x[0] * w, [2.0], parameters=w)
    assert tape.gradients(np.array([[2.0]])).shared[w] == 2.0
    with pytest.raises(TypeError, match=r"compile: parameters must be a list of Values, got "
                                        r"float"):
        compile(lambda x: x[0] * w, [2.0], parameters=3.0)


def test_a_list_that_holds_itself_is_refused_not_walked_for_ever() -> None:
    tape = compile(lambda x: x[0] * 2, [0.1])
    rows: list = [[0.5]]
    rows.append(rows)
    with pytest.raises(ValueError, match="batch argument 0 must be a rectangular array"):
        tape.forward(rows)


def test_a_masked_batch_is_refused_rather_than_read_under_its_mask() -> None:
    """np.asarray drops a mask: the hidden numbers were used as they are."""
    tape = compile(lambda x: x[0] * 2 + x[1], [1.0, 2.0])
    masked = np.ma.array([[1.0, 2.0]], mask=[[True, False]])
    with pytest.raises(ValueError, match=r"batch argument 0 has masked entries"):
        tape.forward(masked)
    assert tape.forward(np.ma.array([[1.0, 2.0]], mask=False))[0] == 4.0
    rows = [np.ma.array([1.0, 2.0], mask=[False, True]), np.array([3.0, 4.0])]
    with pytest.raises(ValueError, match=r"batch argument 0 has masked entries"):
        tape.forward(rows)                                   # a list's rows lost theirs too
    assert tape.forward([np.ma.array([1.0, 2.0]), (3.0, 4.0)]).tolist() == [4.0, 10.0]


def test_wrt_is_a_value_or_a_list_of_values() -> None:
    """A float in wrt raised AttributeError ('float' has no attribute 'grad'), a single
    Value 'not iterable'; a single Value is taken as a list of one."""
    p, q = Value(2.0), Value(5.0)
    tape = compile(lambda x: x[0] * p * q, [1.0])
    X = np.ones((2, 1))
    assert tape.backward(X, wrt=p) == 10.0 and (p.grad, q.grad) == (5.0, 0.0)
    with pytest.raises(TypeError, match=r"backward: wrt\[1\] is a float, expected a Value"):
        tape.backward(X, wrt=[q, 1.0])
    with pytest.raises(TypeError, match="wrt must be a Value or a list or tuple of Values, "
                                        "got a set, which has no order"):
        tape.backward(X, wrt={p})
    assert (p.grad, q.grad) == (5.0, 0.0)


def test_bad_batches_are_errors_and_change_nothing() -> None:
    w = Value(1.0)
    tape = compile(lambda x, t: (x[0] * w - t) ** 2, [1.0, 2.0], 0.5)
    w.grad = 0.25
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        tape.backward(np.ones((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="3 rows, argument 0 has 2"):
        tape.backward(np.ones((2, 2)), np.ones(3))
    with pytest.raises(TypeError, match="2 batch argument"):
        tape.backward(np.ones((2, 2)))
    with pytest.raises(ValueError, match="empty"):
        tape.backward(np.ones((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match="reduction"):
        tape.backward(np.ones((2, 2)), np.ones(2), reduction="max")
    with pytest.raises(TypeError, match="real numbers"):
        tape.backward([["a", "b"]], [1.0])
    assert w.grad == 0.25
    many = compile(lambda x: [x[0] * w, x[1] * w], [1.0, 2.0])
    with pytest.raises(TypeError, match="one Value"):
        many.backward(np.ones((2, 2)))
    with pytest.raises(ValueError, match="seed"):
        many.gradients(np.ones((2, 2)), seed=np.ones(2))
    with pytest.raises(TypeError, match="seed must be real numbers"):
        many.gradients(np.ones((2, 2)), seed=[["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="batch argument 0 must be numbers within float range"):
        tape.forward([[10**400, 1.0]], [1.0])


def _dot_like(name: str, bilinear: bool) -> ag.Op:
    """A copy of the dot row under another name, bilinear or not as asked."""
    dot = ag.ops.DOT
    return ag.Op(name, dot.scalar, dot.vector, dot.derivatives, arity=None, check=dot.check,
                 bilinear=bilinear)


@pytest.mark.parametrize(("row", "dense"), [
    (ag.ops.DOT, True), (_dot_like("mydot", True), True), (_dot_like("plaindot", False), False),
])
def test_the_dense_matrix_form_is_decided_by_the_rows_layout(row, dense) -> None:
    from autograd_scalar.value import apply

    W = [[Value(0.5), Value(-1.0), Value(2.0)], [Value(0.25), Value(1.5), Value(-0.75)]]
    tape = compile(lambda x: [apply(row, [*ws, *x]).tanh() for ws in W], [1.0, 2.0, 3.0])
    (group, _) = tape.groups
    assert group.row is row and (group.matrix is not None) == dense
    X = np.array([[1.0, 2.0, 3.0], [-0.5, 0.25, 4.0]])
    found = tape.gradients(X)
    for n, x in enumerate(X):
        outputs = [apply(row, [*ws, *map(Value, x)]).tanh() for ws in W]
        assert_close(found.outputs[n], [o.data for o in outputs])
    for ws in W:
        for w in ws:
            expected = sum(ag.grad(apply(row, [*ws, *map(Value, x)]).tanh(), [w])[0]
                           for x in X)
            assert found.shared[w] == pytest.approx(expected, rel=1e-12)


def test_an_affine_groups_bias_comes_from_the_row() -> None:
    ws, b = [Value(0.5), Value(-1.0)], Value(0.125)
    tape = compile(lambda x: ag.affine(ws, x, b), [1.0, 2.0])
    (group,) = tape.groups
    assert ag.ops.AFFINE.bias and group.matrix is not None and group.matrix.biases is not None
    assert_close(tape(np.array([[1.0, 2.0], [3.0, -4.0]])), [0.125 - 1.5, 0.125 + 5.5])


def test_check_compares_each_examples_input_gradients() -> None:
    """A branch on the data that detaches x on one side leaves the outputs and the
    (absent) parameters' gradients alike: only d/dx differs, and check must see it."""
    def gated(x):
        return x[0] * 3 if x[0].data >= 0 else x[0].detach() * 3

    tape = compile(gated, [1.0], allow_data_reads=True)
    tape.check(np.array([[2.0], [5.0]]))  # the traced side only: the tape is right there
    with pytest.raises(TraceMismatchError, match=r"example 1: the gradient with respect to "
                                                 r"input 0 is 3\.0 on the tape and 0\.0 "
                                                 r"eagerly"):
        tape.check(np.array([[2.0], [-2.0]]))


@given(programs())
def test_check_passes_every_random_program_input_gradients_included(program) -> None:
    steps, point = program
    tape = compile(lambda x: run(steps, x), point)
    rng = np.random.default_rng(0)
    tape.check(np.asarray(point) + rng.normal(scale=0.01, size=(3, len(point))))


def test_a_bad_setting_made_on_the_class_is_refused_at_the_next_run() -> None:
    tape = compile(lambda x: x[0] * 2.0, [1.0])
    for name, bad in (("strategy", "Vector"), ("native", "on")):
        setattr(ag.Tape, name, bad)  # type.__setattr__: Tape's own check does not run
        try:
            with pytest.raises(ValueError, match=f"Tape.{name} must be"):
                tape(np.ones((1, 1)))
        finally:
            delattr(ag.Tape, name) if name == "native" else setattr(ag.Tape, name, "auto")


def test_check_allows_float32_rounding_of_input_gradients_summed_from_large_terms() -> None:
    w1, w2 = Value(1e5), Value(-1e5 + 1.003)
    tape = compile(lambda x: w1 * x[0] + w2 * x[0], [1.0], parameters=[w1, w2],
                   dtype="float32")
    tape.check(np.ones((3, 1)))  # d/dx is 1.0 in float32, 1.003 eagerly: rounding only


def test_a_tape_is_not_copied_or_pickled_and_says_why() -> None:
    import copy
    import pickle

    tape = compile(lambda x: x[0] * 2.0, [1.0])
    for make in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match=r"a Tape cannot be copied or pickled .*compile "
                                            "the function again"):
            make(tape)
