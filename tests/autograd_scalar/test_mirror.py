"""Numbers between Values and arrays (autograd_scalar.mirror), compiled and interpreted.

The engine's tests also run on the source core (test_core_build), so these check
both builds: each copy is exact, leaves Python floats in the Values, and refuses an
array of the wrong kind or length before changing anything.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograd_scalar import Value, mirror


def values(n: int) -> tuple[Value, ...]:
    return tuple(Value(0.25 * i - 3.0) for i in range(n))


def test_read_data_copies_every_number_exactly() -> None:
    nodes = values(50)
    out = np.full(50, np.nan)
    mirror.read_data(nodes, out)
    assert out.tolist() == [node.data for node in nodes]


def test_write_data_and_grad_leave_python_floats() -> None:
    nodes = values(20)
    numbers = np.linspace(-1.0, 1.0, 20) / 3.0
    mirror.write_data_and_grad(nodes, numbers, numbers * 2.0)
    assert [node.data for node in nodes] == numbers.tolist()
    assert [node.grad for node in nodes] == (numbers * 2.0).tolist()
    mirror.write_data(nodes, numbers / 7.0)  # the gradients stay
    assert [node.data for node in nodes] == (numbers / 7.0).tolist()
    assert [node.grad for node in nodes] == (numbers * 2.0).tolist()
    assert {type(node.data) for node in nodes} == {float}
    assert {type(node.grad) for node in nodes} == {float}


def test_an_empty_tuple_is_fine() -> None:
    mirror.read_data((), np.zeros(0))
    mirror.write_data((), np.zeros(0))


@pytest.mark.parametrize("array", [np.zeros(4), np.zeros(5, dtype=np.float32),
                                   np.zeros((5, 1)), np.zeros(10)[::2], [0.0] * 5])
def test_a_wrong_array_is_refused_before_anything_changes(array) -> None:
    nodes = values(5)
    before = [node.data for node in nodes]
    good = np.zeros(5)
    for copy in (mirror.read_data, mirror.write_data,
                 lambda nodes, a: mirror.write_data_and_grad(nodes, good, a),
                 lambda nodes, a: mirror.write_data_and_grad(nodes, a, good)):
        with pytest.raises(ValueError, match="contiguous float64 array of 5 numbers"):
            copy(nodes, array)
    assert [node.data for node in nodes] == before
    assert [node.grad for node in nodes] == [0.0] * 5


def test_only_values_is_a_tuple_of_exactly_values_or_none() -> None:
    nodes = list(values(6))
    found = mirror.only_values(nodes)
    assert type(found) is tuple and all(a is b for a, b in zip(found, nodes))
    assert mirror.only_values(tuple(nodes)) == found
    assert mirror.only_values([*nodes, 1.0]) is None
    assert mirror.only_values([*nodes, np.float64(1.0)]) is None
    assert mirror.only_values([]) == ()


def test_only_values_refuses_a_subclass() -> None:
    class Tagged(Value):
        pass

    assert mirror.only_values([Value(1.0), Tagged(2.0)]) is None


def test_same_items_compares_by_address() -> None:
    nodes = list(values(4))
    before = tuple(nodes)
    assert mirror.same_items(nodes, before) and mirror.same_items(tuple(nodes), before)
    assert not mirror.same_items(nodes[:3], before)
    nodes[2] = Value(nodes[2].data)  # the same number, another Value
    assert not mirror.same_items(nodes, before)
    assert not mirror.same_items(tuple(nodes), before)
    assert mirror.same_items([], ())


def test_mirror_is_compiled_with_the_core() -> None:
    """The compiled core's mirror takes its address-only path (mirror.COMPILED), the
    interpreted one its Python loop: same_items' speed at fit's every call rests on it."""
    import autograd_scalar

    assert autograd_scalar.compiled() == mirror.COMPILED


def test_data_writes_count_changes_of_existing_values_only() -> None:
    """Compiled, every store of ``data`` from Python and every mirror pass that writes
    data counts once; gradients, labels and new nodes do not. Interpreted, nothing is
    counted (None), and whoever relies on the count reads the Values instead."""
    import autograd_scalar
    from autograd_scalar.value import data_writes

    nodes = values(4)
    start = data_writes()
    if not autograd_scalar.compiled():
        nodes[0].data = 1.0
        assert start is None and data_writes() is None
        return
    assert isinstance(start, int)
    nodes[0].grad, nodes[1].label = 2.0, "w"
    (nodes[0] * nodes[1] + 3.0).backward()
    assert data_writes() == start
    nodes[0].data = 1.5
    assert data_writes() == start + 1 and nodes[0].data == 1.5
    mirror.write_data(nodes, np.zeros(4))
    mirror.write_data_and_grad(nodes, np.ones(4), np.ones(4))
    mirror.read_data(nodes, np.empty(4))
    assert data_writes() == start + 3


def test_stores_keep_their_checks_with_the_count() -> None:
    """Counting goes around the field's own setter, not instead of it: a bad number is
    refused as before (by the compiled field; the interpreted slot takes any object),
    an unknown attribute too, and the node keeps its number."""
    import autograd_scalar

    node = Value(2.0)
    if autograd_scalar.compiled():
        with pytest.raises(TypeError):
            node.data = "3"  # type: ignore[assignment]
        assert node.data == 2.0
        node.data = np.float64(0.5)  # type: ignore[assignment]
        assert node.data == 0.5 and type(node.data) is float
    with pytest.raises(AttributeError):
        node.weight = 1.0  # type: ignore[attr-defined]
