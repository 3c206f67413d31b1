"""A tape's shared arrays and the Values they mirror (``tape.layout.SharedArrays``).

Whatever happens between them (Values changed from Python, the arrays stepped in
place, pushes of some or all leaves, a second tape's arrays over the same Values),
a ``pull`` must leave the arrays holding exactly the Values' numbers; the pass it
skips when nothing changed is only a saving, never a different answer.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar
from autograd_scalar import Value
from autograd_scalar.tape.layout import SharedArrays

LEAVES = 5


def numbers(leaves: tuple[Value, ...]) -> list[float]:
    return [leaf.data for leaf in leaves]


def test_data_is_read_only_and_writable_asks_for_a_pull() -> None:
    leaves = tuple(Value(float(i)) for i in range(LEAVES))
    arrays = SharedArrays(leaves)
    with pytest.raises(ValueError, match="read-only"):
        arrays.data[0] = 9.0
    arrays.writable()[0] = 9.0  # a step: the arrays are ahead of the Values
    assert arrays.data[0] == 9.0
    arrays.pull()  # the Values win
    assert arrays.data.tolist() == numbers(leaves)


def test_an_unchanged_pull_skips_its_pass_only_where_writes_are_counted() -> None:
    """The skip made visible: a store through the slot's own descriptor is not counted
    (the one store the count cannot see, which the package never makes on a
    parameter). Compiled, pull then keeps the arrays; interpreted, it always reads."""
    leaves = tuple(Value(float(i)) for i in range(LEAVES))
    arrays = SharedArrays(leaves)
    Value.__dict__["data"].__set__(leaves[1], 7.0)
    arrays.pull()
    assert arrays.data[1] == (1.0 if autograd_scalar.compiled() else 7.0)
    leaves[3].data = -2.0  # a counted store: every leaf is read again
    arrays.pull()
    assert arrays.data.tolist() == numbers(leaves)


def test_a_pull_after_a_partial_push_reads_again() -> None:
    leaves = tuple(Value(float(i)) for i in range(LEAVES))
    arrays = SharedArrays(leaves)
    arrays.writable()[:] = 10.0
    arrays.push(2)  # leaves 0 and 1 only: the arrays differ from the rest
    assert numbers(leaves) == [10.0, 10.0, 2.0, 3.0, 4.0]
    arrays.pull()
    assert arrays.data.tolist() == numbers(leaves)


def test_float32_arrays_skip_only_when_they_hold_the_rounded_numbers() -> None:
    leaves = (Value(0.1), Value(1 / 3))
    arrays = SharedArrays(leaves, np.float32)
    assert arrays.data.tolist() == np.float32([0.1, 1 / 3]).tolist()
    arrays.push()  # the Values take the float32 numbers, exactly
    arrays.pull()
    assert arrays.data.astype(np.float64).tolist() == numbers(leaves)
    leaves[0].data = 0.2
    arrays.pull()
    assert arrays.data[0] == np.float32(0.2)


EVENTS = st.one_of(
    st.tuples(st.just("set"), st.integers(0, LEAVES - 1), st.floats(-4, 4)),
    st.tuples(st.just("step"), st.integers(0, 1), st.integers(0, LEAVES - 1),
              st.floats(-4, 4)),
    st.tuples(st.just("push"), st.integers(0, 1), st.integers(0, LEAVES)),
    st.tuples(st.just("pull"), st.integers(0, 1)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS, max_size=40))
def test_every_pull_leaves_the_arrays_equal_to_the_values(events: list[tuple]) -> None:
    """Two tapes' arrays over the same Values, and any sequence of: a Value changed from
    Python, an array stepped in place, a push of the first k leaves, a pull. After
    every pull the arrays hold the Values' numbers; after every push the first k
    Values hold the arrays'."""
    leaves = tuple(Value(float(i)) for i in range(LEAVES))
    tapes = (SharedArrays(leaves), SharedArrays(leaves))
    for event in events:
        kind, *rest = event
        if kind == "set":
            index, number = rest
            leaves[index].data = number
        elif kind == "step":
            which, index, number = rest
            tapes[which].writable()[index] = number
        elif kind == "push":
            which, count = rest
            tapes[which].push(count)
            assert numbers(leaves)[:count] == tapes[which].data[:count].tolist()
        else:
            (which,) = rest
            tapes[which].pull()
            assert tapes[which].data.tolist() == numbers(leaves)


def test_a_store_landing_with_the_write_back_is_not_taken_for_it(monkeypatch) -> None:
    """Another thread's store just before or after ``push`` writes the Values (the
    playground steps in a thread while a cell may set a parameter): the arrays are
    then not marked in sync, and the next pull reads it."""
    from autograd_scalar.tape import layout

    leaves = tuple(Value(float(i)) for i in range(LEAVES))
    arrays = SharedArrays(leaves)
    write_back = layout.write_data_and_grad

    def with_a_store_after(nodes, data, grad) -> None:
        write_back(nodes, data, grad)
        leaves[2].data = 99.0  # as if another thread ran here

    monkeypatch.setattr(layout, "write_data_and_grad", with_a_store_after)
    arrays.writable()[:] = 1.0
    arrays.push()
    monkeypatch.undo()
    arrays.pull()
    assert arrays.data[2] == 99.0 and arrays.data.tolist() == numbers(leaves)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_keeps_data_a_read_only_view_and_reads_again(how: str) -> None:
    import copy
    import pickle

    leaves = tuple(Value(float(i)) for i in range(LEAVES))
    original = SharedArrays(leaves)
    arrays = copy.deepcopy(original) if how == "deepcopy" else pickle.loads(
        pickle.dumps(original))
    assert np.shares_memory(arrays.data, arrays.writable()) and not arrays.data.flags.writeable
    copied = arrays.leaves
    copied[0].data = 10.0
    arrays.pull()
    assert arrays.data.tolist() == numbers(copied)
