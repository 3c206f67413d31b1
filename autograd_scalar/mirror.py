"""Many Values at once, in one pass: the mirror of compiled training.

Compiled training keeps the parameters in contiguous arrays (see
:mod:`autograd_scalar.tape.layout`) and brings the Values up to date from them, or
them from the Values, at the edges of a run; and before it reuses a tape it
compares the model's parameters, Value by Value, with those it traced (see
``nn.model_key``). ``fit`` does both at every call, so each pass must cost little
beside a training step even for 100,000 parameters. Compiled, each function is one
C loop over the nodes (``mirror.pxd`` types them: about a nanosecond a node in the
cache, ten from memory, where 100,000 parameters are after an epoch); interpreted,
the same loop in Python, with the same results. A pass that writes ``data`` counts as
one write (:func:`autograd_scalar.value.data_writes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .value import Value, note_data_writes

try:
    import cython

    COMPILED = bool(cython.compiled)
    """Whether this module runs as compiled C (Cython's own test of itself)."""
except ImportError:  # no Cython installed: this module runs as plain Python
    COMPILED = False


def read_data(nodes: tuple[Value, ...], out: np.ndarray) -> None:
    """``out[i] = nodes[i].data`` for every node; ``out`` is a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, out, "out")
    view = out
    for i in range(count):
        node = nodes[i]
        view[i] = node.data


def read_grad(nodes: tuple[Value, ...], out: np.ndarray) -> None:
    """``out[i] = nodes[i].grad`` for every node; ``out`` is a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, out, "out")
    view = out
    for i in range(count):
        node = nodes[i]
        view[i] = node.grad


def write_grad(nodes: tuple[Value, ...], grad: np.ndarray) -> None:
    """``nodes[i].grad = grad[i]`` for every node; ``grad`` a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, grad, "grad")
    view = grad
    for i in range(count):
        node = nodes[i]
        node.grad = float(view[i])


def write_data(nodes: tuple[Value, ...], data: np.ndarray) -> None:
    """``nodes[i].data = data[i]`` for every node; ``data`` a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, data, "data")
    view = data
    for i in range(count):
        node = nodes[i]
        node.data = float(view[i])
    note_data_writes()


def write_data_and_grad(nodes: tuple[Value, ...], data: np.ndarray, grad: np.ndarray) -> None:
    """``nodes[i].data = data[i]`` and ``nodes[i].grad = grad[i]`` for every node, in one
    pass (both fields of a node share its memory: one visit, where two passes over
    100,000 nodes would fetch each from memory twice)."""
    count = len(nodes)
    _check(count, data, "data")
    _check(count, grad, "grad")
    numbers = data
    gradients = grad
    for i in range(count):
        node = nodes[i]
        node.data = float(numbers[i])
        node.grad = float(gradients[i])
    note_data_writes()


def only_values(items: list[Any] | tuple[Any, ...]) -> tuple[Value, ...] | None:
    """``items`` as a tuple if every item is exactly a Value (no subclass), else None.

    Such a tuple compares equal to another exactly when they hold the same Value
    objects in the same order (a Value's ``==`` is identity).
    """
    found = tuple(items)
    for i in range(len(found)):
        if type(found[i]) is not Value:
            return None
    return found


def same_items(items: list[Any] | tuple[Any, ...], previous: tuple[Any, ...]) -> bool:
    """Whether a list or tuple holds exactly the objects of ``previous``, in order.

    Compiled, it compares the addresses in the two arrays of pointers without reading
    the objects themselves (not even their reference counts): after an epoch a
    model's Values are not in the processor's caches, and a pass that touches each
    costs about 10 ns a Value, ten times the comparison. ``items`` must be exactly a
    list or a tuple.
    """
    count = len(items)
    if count != len(previous):
        return False
    if COMPILED:  # borrowed pointers: the C API's macros, cimported in mirror.pxd
        if type(items) is list:
            for i in range(count):
                if (PyList_GET_ITEM(items, i)  # type: ignore[name-defined]  # noqa: F821
                        != PyTuple_GET_ITEM(previous, i)):  # type: ignore[name-defined]  # noqa: F821
                    return False
            return True
        for i in range(count):
            if (PyTuple_GET_ITEM(items, i)  # type: ignore[name-defined]  # noqa: F821
                    != PyTuple_GET_ITEM(previous, i)):  # type: ignore[name-defined]  # noqa: F821
                return False
        return True
    for i in range(count):  # noqa: SIM110 (the loop as it runs interpreted)
        if items[i] is not previous[i]:
            return False
    return True


def repeats(values: list[Any] | tuple[Any, ...]) -> bool:
    """Whether an object is listed twice, by identity: their ids sorted, 8 bytes an item.

    A set or dict of 100,000 Values would take 30 to 60 bytes each, briefly, and the
    process's allocator keeps much of such a peak from the system afterwards.
    """
    ids = np.fromiter(map(id, values), np.intp, len(values))
    ids.sort()
    return bool((ids[1:] == ids[:-1]).any())


def first_made(nodes: tuple[Value, ...]) -> int:
    """The index of the first node an op made (one with children), or -1 if all are leaves:
    one pass over a model's 100,000 parameters, in C where the core is compiled."""
    for i in range(len(nodes)):
        node = nodes[i]
        if node.children:
            return i
    return -1


def _check(count: int, array: np.ndarray, name: str) -> None:
    """ValueError unless ``array`` is a contiguous float64 array of ``count`` numbers."""
    if (type(array) is not np.ndarray or array.dtype != np.float64 or array.ndim != 1
            or len(array) != count or not array.flags.c_contiguous):
        raise ValueError(f"{name} must be a contiguous float64 array of {count} numbers "
                         f"(one per node), got {getattr(array, 'dtype', type(array).__name__)} "
                         f"of shape {getattr(array, 'shape', '?')}")
