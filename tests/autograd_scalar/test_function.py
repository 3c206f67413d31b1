"""Function: a user-defined op is a row of the op table like any other."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Function, Value, grad, no_grad, ops
from tests.autograd_scalar.sample_functions import Cube, MathLog
from tests.finite_differences import close, gradient


class Sinc(Function):
    """sin(x) / x for x != 0, written with table rows so it differentiates again."""

    @staticmethod
    def forward(x):
        return math.sin(x) / x

    @staticmethod
    def derivatives(x, out):
        return ((ops.COS(x) - out) / x,)


class Hypot(Function):
    """sqrt(sum x_i^2): any number of inputs; d/dx_i = x_i / out."""

    @staticmethod
    def forward(*xs):
        return math.sqrt(sum(x * x for x in xs))

    @staticmethod
    def derivatives(*xs_out):
        *xs, out = xs_out
        return tuple(x / out for x in xs)


class LogOf(MathLog):
    expected = "x > 0"
    kinks = ()

    @staticmethod
    def domain(x):
        return x > 0


class Ramp(Function):
    kinks = (1.0,)

    @staticmethod
    def forward(x):
        return max(x - 1.0, 0.0)

    @staticmethod
    def derivatives(x, out):
        return (ops.STEP(x - 1.0),)


reals = st.floats(-3, 3, allow_nan=False)


def test_each_class_is_one_row_named_after_it() -> None:
    assert isinstance(Cube.row, ag.Op)
    assert Cube.row.name == "Cube" and Cube.row.arity == 1
    assert Cube.row.formula == "d/dx = 3 x**2"
    assert Hypot.row is not None and Hypot.row.arity is None
    first = Cube.apply(Value(1.0)).row
    assert first is Cube.apply(Value(2.0)).row is Cube.row


def test_a_node_shows_its_class_name_and_stores_the_rule() -> None:
    x = Value(2.0)
    y = Cube.apply(x)
    assert y.op == "Cube" and y.children == (x,)
    assert y.data == 8.0 and y.local_grads == (12.0,)


@given(reals, reals)
def test_backward_through_a_function_matches_finite_differences(a, b) -> None:
    def f(x, y):
        return (Cube.apply(x) * y + Hypot.apply(x, y, 1.0)).tanh()

    x, y = Value(a), Value(b)
    f(x, y).backward()
    numeric = gradient(lambda p, q: f(Value(p), Value(q)).data, [a, b])
    assert close(x.grad, numeric[0]) and close(y.grad, numeric[1])


def test_numbers_are_lifted_and_the_row_runs_on_floats_and_arrays() -> None:
    node = Hypot.apply(3, Value(4.0))
    assert node.data == 5.0 and node.local_grads == (0.6, 0.8)
    assert Cube.row(2.0) == 8.0
    assert np.array_equal(Cube.row(np.array([1.0, 2.0])), [1.0, 8.0])


@pytest.mark.parametrize("count", [3, 70])
def test_a_rows_array_form_takes_any_number_of_inputs(count: int) -> None:
    """The row's forward on arrays, element by element after broadcasting, past the 32
    (NumPy 1) and 64 (NumPy 2) operands a ufunc takes; the compiled tape runs it."""

    class Total(Function):
        @staticmethod
        def forward(*xs):
            return math.fsum(x * (i + 1) for i, x in enumerate(xs))

        @staticmethod
        def derivatives(*xs_out):
            return tuple(float(i + 1) for i in range(len(xs_out) - 1))

    rng = np.random.default_rng(count)
    columns = [rng.normal(size=(4, 1)) for _ in range(count - 1)] + [np.float64(0.5)]
    found = Total.row.vector(*columns)
    assert found.shape == (4, 1)
    for j in range(4):
        numbers = [float(c[j, 0]) for c in columns[:-1]] + [0.5]
        assert found[j, 0] == Total.forward(*numbers)
    tape = ag.compile(lambda x: Total.apply(*x), np.zeros(count))
    tape.strategy = "grouped"
    X = rng.normal(size=(3, count))
    assert np.array_equal(np.ravel(tape.gradients(X).outputs), [Total.forward(*r) for r in X])


def test_higher_order_through_a_rule_written_with_table_rows() -> None:
    x = Value(0.7)
    (d1,) = grad(Sinc.apply(x), [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    s, c, t = math.sin(0.7), math.cos(0.7), 0.7
    assert math.isclose(d1.data, (t * c - s) / t ** 2, rel_tol=1e-12)
    assert math.isclose(d2.data, -s / t - 2 * c / t ** 2 + 2 * s / t ** 3, rel_tol=1e-12)
    expected = -c / t + 3 * s / t ** 2 + 6 * c / t ** 3 - 6 * s / t ** 4
    assert math.isclose(d3, expected, rel_tol=1e-9)


def test_cube_third_derivative_is_six() -> None:
    x = Value(-1.3)
    (d1,) = grad(Cube.apply(x), [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    assert (d1.data, d2.data, grad(d2, [x])[0]) == pytest.approx((3 * 1.69, -7.8, 6.0))


def test_no_grad_makes_a_leaf() -> None:
    with no_grad():
        y = Cube.apply(Value(2.0))
    assert y.data == 8.0 and y.op == "" and y.children == ()


def test_domain_check_and_kinks_are_part_of_the_row() -> None:
    with pytest.raises(ValueError, match=r"LogOf: expected x > 0, got -1.0"):
        LogOf.apply(-1.0)
    assert Ramp.row is not None and Ramp.row.kinks == (1.0,)
    assert LogOf.row is not None and LogOf.row.kinks == ()


def _returns(value):
    class Returns(Function):
        @staticmethod
        def forward(x):
            return value

        @staticmethod
        def derivatives(x, out):
            return (1.0,)

    return Returns


@pytest.mark.parametrize("bad", [None, "1.0", 1j, [1.0], True, np.array([1.0])])
def test_a_forward_that_returns_no_real_number_is_a_type_error(bad) -> None:
    with pytest.raises(TypeError, match=r"Returns.forward must return a real number"):
        _returns(bad).apply(Value(1.0))


def test_a_numpy_scalar_from_forward_is_a_float() -> None:
    node = _returns(np.float32(2.5)).apply(Value(1.0))
    assert type(node.data) is float and node.data == 2.5


class TwoPartials(Function):
    @staticmethod
    def forward(x):
        return x

    @staticmethod
    def derivatives(x, out):
        return (1.0, 2.0)


class NotATuple(Function):
    @staticmethod
    def forward(x):
        return x

    @staticmethod
    def derivatives(x, out):
        return 1.0


class NonePartial(Function):
    @staticmethod
    def forward(x, y):
        return x + y

    @staticmethod
    def derivatives(x, y, out):
        return (1.0, None)


def _partials(*given):
    """A Function of len(given) inputs whose rule returns ``given``."""
    def forward(*xs):
        return sum(xs)

    def derivatives(*xs_out):
        return given
    return type("Partials", (Function,), {"forward": staticmethod(forward),
                                          "derivatives": staticmethod(derivatives)})


@pytest.mark.parametrize("count", [1, 3])
def test_a_value_for_a_partial_on_numbers_is_refused_at_the_call(count: int) -> None:
    """On floats the interpreted core stored the Value and backward made x.grad a Value;
    the compiled core failed with float()'s message, for three inputs only in backward."""
    xs = [Value(1.0) for _ in range(count)]
    with pytest.raises(TypeError, match=r"Partials.derivatives: the partial derivative for "
                                        r"input 0 must be a real number on these inputs, "
                                        r"got Value"):
        _partials(*([Value(3.0)] * count)).apply(*xs)


def test_a_numpy_float32_partial_is_stored_as_the_float_it_stands_for() -> None:
    """The interpreted core kept np.float32, so gradients then added in single precision."""
    x = Value(2.0)
    node = _partials(np.float32(0.1)).apply(x)
    node.backward()
    node.backward()
    assert type(x.grad) is float and x.grad == 2 * float(np.float32(0.1))


def test_a_forward_past_float_range_names_the_class() -> None:
    with pytest.raises(OverflowError, match=r"Returns\.forward"):
        _returns(10 ** 400).apply(Value(1.0))


def test_wrong_rules_are_errors_naming_the_class_and_make_no_node() -> None:
    x = Value(1.0)
    with pytest.raises(ValueError, match=r"TwoPartials.derivatives returned 2 partial "
                                         r"derivative\(s\) for 1 input\(s\)"):
        TwoPartials.apply(x)
    with pytest.raises(TypeError, match=r"NotATuple.derivatives must return a tuple"):
        NotATuple.apply(x)
    with pytest.raises(TypeError, match=r"NonePartial.derivatives: the partial derivative "
                                        r"for input 1 must be a real number on these "
                                        r"inputs, got NoneType"):
        NonePartial.apply(x, 2.0)
    assert x.grad == 0.0


def test_wrong_number_of_inputs_to_apply() -> None:
    with pytest.raises(TypeError, match=r"Cube.apply takes 1 input\(s\), as its forward "
                                        r"does, got 2"):
        Cube.apply(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match=r"Hypot.apply takes at least one input"):
        Hypot.apply()
    with pytest.raises(TypeError, match=r"Cube: an operand expects a real number"):
        Cube.apply("x")


def test_abstract_classes_and_bad_definitions() -> None:
    class Base(Function):
        pass

    with pytest.raises(TypeError, match=r"Base is abstract"):
        Base.apply(Value(1.0))
    with pytest.raises(TypeError, match=r"Half defines no static derivatives"):
        class Half(Function):
            @staticmethod
            def forward(x):
                return x
    with pytest.raises(TypeError, match=r"Ctx: forward takes the inputs only; make it a "
                                        r"@staticmethod without 'ctx'"):
        class Ctx(Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def derivatives(ctx, x, out):
                return (1.0,)
    with pytest.raises(TypeError, match=r"Short: derivatives must take 2 input\(s\) and "
                                        r"then out"):
        class Short(Function):
            @staticmethod
            def forward(x, y):
                return x * y

            @staticmethod
            def derivatives(x, y):
                return (y, x)
    with pytest.raises(TypeError, match=r"Kw: forward may take positional inputs only"):
        class Kw(Function):
            @staticmethod
            def forward(x, *, scale):
                return x

            @staticmethod
            def derivatives(x, out):
                return (1.0,)


def test_kinks_must_be_numbers() -> None:
    with pytest.raises(TypeError, match=r"Function Kinky: kinks must be a tuple of real "
                                        r"numbers .*got 'zero'"):
        class Kinky(Function):
            kinks = "zero"

            @staticmethod
            def forward(x):
                return abs(x)

            @staticmethod
            def derivatives(x, out):
                return (ops.SIGN(x),)


def test_a_subclass_of_a_function_is_its_own_row() -> None:
    class Cube2(Cube):
        pass

    assert Cube2.row is not Cube.row and Cube2.apply(Value(2.0)).op == "Cube2"


def test_the_compiled_tape_runs_a_function_row_on_arrays() -> None:
    from autograd_scalar.tape import compile

    def f(x, y):
        return Sinc.apply(x * y + 0.5) + Cube.apply(x)

    xs, ys = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3, -0.7])
    tape = compile(f, 1.0, 2.0)
    assert np.allclose(tape.forward(xs, ys), [f(Value(a), Value(b)).data
                                              for a, b in zip(xs, ys)], rtol=1e-12)
    found = tape.gradients(xs, ys).inputs
    for k, (a, b) in enumerate(zip(xs, ys)):
        x, y = Value(a), Value(b)
        assert np.allclose([found[0][k], found[1][k]], grad(f(x, y), [x, y]), rtol=1e-12)


def test_a_rule_returning_an_array_for_scalar_inputs_is_refused_by_name() -> None:
    class Twice(Function):
        @staticmethod
        def forward(x: float) -> float:
            return 2 * x

        @staticmethod
        def derivatives(x: float, out: float) -> tuple[object]:
            return (np.array([2.0, 2.0]),)

    with pytest.raises(TypeError, match=r"Twice.derivatives: the partial derivative for "
                                        r"input 0 must be a real number on these "
                                        r"inputs, got .*ndarray"):
        Twice.apply(Value(1.0))


def test_a_value_method_in_forward_and_a_call_of_an_instance_say_what_to_do() -> None:
    """A forward written with x.exp() met a float and raised a bare AttributeError; Swish()(x),
    as a torch module is called, said only that the object is not callable."""

    class ExpOfValue(Function):
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def derivatives(x, out):
            return (out,)

    with pytest.raises(TypeError, match=r"ExpOfValue\.forward is given numbers, not Values "
                                        r"\('float' object has no attribute 'exp'\): write it "
                                        r"with math's functions"):
        ExpOfValue.apply(Value(1.0))
    with pytest.raises(TypeError, match=r"Cube\(\) is an object of the class, not the op: "
                                        r"call Cube\.apply\(\.\.\.\)"):
        Cube()(Value(2.0))
