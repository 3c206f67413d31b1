"""Numbers between Values and float64 arrays, in one pass: the mirror of compiled training.

Compiled training keeps the parameters in contiguous arrays (see
:mod:`autograd_scalar.tape_layout`) and brings the Values up to date from them, or
them from the Values, at the edges of a run: ``fit`` does so at every call, so the
copy must cost little beside a training step even for 100,000 parameters. Compiled,
each function is one C loop over the nodes' fields (``mirror.pxd`` types them, about a
nanosecond a node); interpreted, the same loop in Python, with the same results.
"""

from __future__ import annotations

import numpy as np

from .value import Value


def read_data(nodes: tuple[Value, ...], out: np.ndarray) -> None:
    """``out[i] = nodes[i].data`` for every node; ``out`` is a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, out, "out")
    view = out
    for i in range(count):
        node = nodes[i]
        view[i] = node.data


def write_data(nodes: tuple[Value, ...], data: np.ndarray) -> None:
    """``nodes[i].data = data[i]`` for every node; ``data`` a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, data, "data")
    view = data
    for i in range(count):
        node = nodes[i]
        node.data = float(view[i])


def write_grad(nodes: tuple[Value, ...], grad: np.ndarray) -> None:
    """``nodes[i].grad = grad[i]`` for every node; ``grad`` a float64 array (len(nodes),)."""
    count = len(nodes)
    _check(count, grad, "grad")
    view = grad
    for i in range(count):
        node = nodes[i]
        node.grad = float(view[i])


def _check(count: int, array: np.ndarray, name: str) -> None:
    """ValueError unless ``array`` is a contiguous float64 array of ``count`` numbers."""
    if (type(array) is not np.ndarray or array.dtype != np.float64 or array.ndim != 1
            or len(array) != count or not array.flags.c_contiguous):
        raise ValueError(f"{name} must be a contiguous float64 array of {count} numbers "
                         f"(one per node), got {getattr(array, 'dtype', type(array).__name__)} "
                         f"of shape {getattr(array, 'shape', '?')}")
