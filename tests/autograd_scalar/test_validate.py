"""The argument checkers: bools are never numbers, NumPy scalars are, and every message
names the argument, what was expected and what came."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from autograd_scalar.validate import (
    choice,
    flag,
    integer,
    is_integer,
    is_real,
    real,
    real_array,
)


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_bool_is_not_a_number(value) -> None:
    assert not is_integer(value) and not is_real(value)
    with pytest.raises(ValueError, match=r"epochs must be a positive int, got .*(True|False)"):
        integer("epochs", value, 1)
    with pytest.raises(ValueError, match="lr must be"):
        real("lr", value, 0)


def test_numpy_scalars_count_and_come_back_as_python_numbers() -> None:
    n = integer("n", np.int64(3), 1)
    x = real("x", np.float32(0.5), 0, 1)
    assert (n, type(n)) == (3, int) and (x, type(x)) == (0.5, float)
    assert is_integer(np.uint8(2)) and not is_integer(2.0) and is_real(np.float16(1))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: integer("precision", 0, 1, 17, who="draw"),
     "draw: precision must be an int from 1 to 17, got 0"),
    (lambda: integer("depth", -1, 0), "depth must be an int >= 0, got -1"),
    (lambda: integer("k", 2.0), "k must be an int, got 2.0"),
    (lambda: integer("size", 9, 8, 256, what="a whole number from 8 to 256"),
     None),
    (lambda: real("eps", 0.0, 0, low_open=True), "eps must be a finite number > 0, got 0.0"),
    (lambda: real("p", 1.0, 0, 1, low_open=True, high_open=True),
     "p must be a finite number strictly between 0 and 1, got 1.0"),
    (lambda: real("std", math.inf, 0), "std must be a finite number >= 0, got inf"),
    (lambda: real("t", math.nan, finite=False), "t must be a number, got nan"),
    (lambda: real("lr", "0.1"), "lr must be a finite number, got '0.1'"),
])
def test_messages_name_the_argument_the_expectation_and_the_value(call, message) -> None:
    if message is None:
        assert call() == 9
        return
    with pytest.raises(ValueError) as raised:
        call()
    assert str(raised.value) == message


def test_bounds_are_closed_unless_said_open_and_infinity_passes_only_when_allowed() -> None:
    assert real("x", 0, 0) == 0.0 and real("x", 1, 0, 1) == 1.0
    assert real("x", math.inf, 0, finite=False) == math.inf
    assert integer("n", 17, 1, 17) == 17


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0])
def test_a_flag_is_true_or_false_only(value) -> None:
    with pytest.raises(TypeError, match=f"heatmap must be True or False, got {value!r}"):
        flag("heatmap", value, who="explore")
    assert flag("x", True) is True and flag("x", np.bool_(False)) is False


@pytest.mark.parametrize("value", ["up", "lr", ["LR"], None, 10 ** 400])
def test_a_choice_is_one_of_the_named_strings_only(value) -> None:
    with pytest.raises(ValueError, match=r"^draw: rankdir must be one of 'LR', 'TB', got ") \
            as caught:
        choice("rankdir", value, ("LR", "TB"), who="draw")
    assert len(str(caught.value)) < 120  # a huge int said by its size, not its digits
    assert choice("rankdir", "TB", ("LR", "TB")) == "TB"


@pytest.mark.parametrize(("x", "error", "message"), [
    ([[1 + 5j]], TypeError, r"got complex numbers \(dtype complex128\); pass the real part"),
    ([["0.5"]], TypeError, r"got an array of dtype <U3"),
    ([[None]], TypeError, r"got NoneType: None"),  # once passed: None was the 'not found'
    (np.array([[1.0, None]], dtype=object), TypeError, r"got NoneType: None"),
    ([[1.0, 2.0], [3.0]], ValueError, r"must be a rectangular array, every row of one "
                                      r"length"),
])
def test_a_real_array_refuses_what_a_float_conversion_would_hide(x, error, message) -> None:
    with pytest.raises(error, match=r"^X " + message if message.startswith("must") else
                       message):
        real_array(x, "X")


def test_a_real_array_takes_numbers_of_every_real_kind() -> None:
    for x in ([[1, 2]], [[True, False]], np.array([[1.5]], dtype=np.float32),
              np.array([[1.0, np.int64(2)]], dtype=object)):
        found = real_array(x, "X")
        assert found.dtype == np.float64 and found.shape == np.shape(x)



class Unreadable:
    """What NumPy cannot read, as a torch tensor that needs grad (RuntimeError) or holds
    bfloat16 (TypeError)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __array__(self, *args: object, **kwargs: object) -> None:
        raise self.error


@pytest.mark.parametrize("error", [RuntimeError("Can't call numpy() on Tensor that requires "
                                                "grad. Use tensor.detach().numpy() instead."),
                                   TypeError("Got unsupported ScalarType BFloat16")])
def test_an_array_numpy_cannot_read_is_refused_with_numpys_reason(error) -> None:
    """A tensor that needs grad raised torch's own RuntimeError; one of bfloat16 was 'not
    real numbers' with no reason."""
    with pytest.raises(TypeError, match=r"^X must be real numbers, got Unreadable that NumPy "
                                        r"cannot read: " + re.escape(str(error))):
        real_array(Unreadable(error), "X")
