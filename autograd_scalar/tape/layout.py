"""Where a compiled tape keeps its numbers: per-example rows, and shared leaves as arrays.

A traced program numbers its nodes in one index space: the placeholders
[0, first_shared), the shared leaves [first_shared, first_interior) and the
interior nodes after them. A run stores them in two places:

- per-example arrays (rows, n), values and gradients, with one column per example:
  the interior nodes first (row = index - first_interior), then the placeholders,
  argument by argument in reverse order (the first argument's last), then the
  interior runs set ``apart``: the pre-activations of dense layers whose relu a
  dense step runs in place, in the activations' rows. A run allocates only the
  rows it uses: the interior nodes, the placeholders of the arguments some step
  reads from the array, and the runs apart only when its plan writes them (one
  that runs those layers as code, or a run that writes every node's value, then
  allocates every row). A network's inputs (usually the first argument), which its
  first dense layer reads straight from the batch, every placeholder's gradient
  row unless the inputs' gradients are asked for, and a relu layer's
  pre-activations are then never allocated in training (see
  :mod:`autograd_scalar.tape.run`);
- ``SharedArrays``: the shared leaves' data and gradients as two 1-D arrays
  (shared,) of the tape's dtype, never widened to the batch. The leaves given as
  ``parameters`` come first, in the order given, so an optimizer over those
  parameters steps on a prefix of the arrays (its own order); a dense layer's
  weights are then a strided 2-D view of them.

Memory is therefore O((placeholders read + ops) x n + shared), whatever the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..mirror import read_data, write_data, write_data_and_grad, write_grad
from ..value import Value, data_writes


class SharedArrays:
    """The shared leaves of a tape and their data and gradients as contiguous arrays.

    ``leaves[i]`` is mirrored by ``data[i]`` and ``grad[i]``, of the tape's ``dtype``
    (float64, or float32: then the Values' numbers are rounded to it when pulled).
    The arrays are made once and then only written in place, so views of them (a
    layer's weights) stay valid. ``pull`` copies the Values' data in; ``push`` writes
    the first ``count`` leaves' data and gradients back to their Values (the
    user-visible truth).

    ``data`` is read-only: what changes the numbers in place (an optimizer's step)
    asks for :meth:`writable` first, so that the arrays know they no longer hold
    the Values' numbers. Knowing when they still do, ``pull`` skips its pass over
    the leaves (about 10 ns a Value, memory-bound: a millisecond at 100,000
    parameters, at every ``fit`` call): it is skipped when the arrays were last
    pulled or pushed whole, not made writable since, and no Value's ``data`` has
    been written since (:func:`autograd_scalar.value.data_writes`, counted by the
    compiled core; the interpreted core always reads).
    """

    _numbers: np.ndarray
    data: np.ndarray
    _synced: int | None
    """``data_writes()`` when ``data`` last held every leaf's number, or None."""

    def __init__(self, leaves: Sequence[Value], dtype: Any = np.float64) -> None:
        self.leaves = tuple(leaves)
        self.dtype = np.dtype(dtype)
        self.grad = np.zeros(len(self.leaves), dtype=self.dtype)
        self.__setstate__({"_numbers": np.zeros(len(self.leaves), dtype=self.dtype),
                           "_synced": None})
        self.pull()

    def __len__(self) -> int:
        return len(self.leaves)

    def writable(self) -> np.ndarray:
        """``data`` as an array to write in place, for changes made right away (the
        next :meth:`pull` then reads every Value, or :meth:`push` writes them)."""
        self._synced = None
        return self._numbers

    def pull(self) -> None:
        """data[i] = leaves[i].data for every leaf (what the user may have changed),
        unless the arrays are known to hold those numbers already (see the class)."""
        now = data_writes()
        if now is not None and now == self._synced:
            return
        if self.dtype == np.float64:
            read_data(self.leaves, self._numbers)
        else:
            numbers = np.empty(len(self.leaves))
            read_data(self.leaves, numbers)
            self._numbers[:] = numbers
        self._synced = now

    def push(self, count: int | None = None, grads: bool = True,
             changed: int | None = None) -> None:
        """leaves[i].data = data[i] (and .grad = grad[i]) for the first ``count`` leaves;
        of those past the first ``changed`` (default: all), which the caller did not
        change (parameters left out of a training's optimizer), only the gradients:
        in float32 their data would come back rounded."""
        count = len(self.leaves) if count is None else count
        changed = count if changed is None else min(changed, count)
        leaves = self.leaves if changed == len(self.leaves) else self.leaves[:changed]
        data = self._numbers[:changed].astype(np.float64, copy=False)
        before = data_writes()
        if grads:
            write_data_and_grad(leaves, data, self.grad[:changed].astype(np.float64, copy=False))
            if changed < count:
                write_grad(self.leaves[changed:count],
                           self.grad[changed:count].astype(np.float64, copy=False))
        else:
            write_data(leaves, data)
        after = data_writes()
        # in sync only if this write-back was the one write since ``before``: a store of
        # another thread's around it (the playground steps in one) may be newer
        whole = changed == len(self.leaves)
        self._synced = after if whole and before is not None and after == before + 1 else None

    def __getstate__(self) -> dict[str, Any]:
        """For copy and pickle: the numbers without the view of them, and not in sync
        (a copy's count means nothing to the Values it is later used with)."""
        state = dict(self.__dict__)
        del state["data"]
        state["_synced"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.data = self._numbers.view()
        self.data.flags.writeable = False

    def __repr__(self) -> str:
        return f"SharedArrays({len(self.leaves)} leaves)"


class Layout:
    """The program's index space and where each index is stored (see the module docstring).

    ``widths``: how many placeholders each argument has, in argument order (they sum
    to ``first_shared``; by default all of them are one argument). ``apart``: runs
    of interior indices (distinct, each one group's nodes) whose rows come after the
    placeholders', in order, so that a run that never writes them can leave them out
    (``kept`` interior rows come first).
    """

    def __init__(self, first_shared: int, first_interior: int, size: int,
                 widths: Sequence[int] | None = None, apart: Sequence[slice] = ()) -> None:
        widths = (first_shared,) if widths is None else tuple(widths)
        if sum(widths) != first_shared:
            raise ValueError(f"the arguments' widths {widths} must add up to the "
                             f"{first_shared} placeholders")
        self.first_shared = first_shared
        self.first_interior = first_interior
        self.size = size
        self.widths = widths
        self.interior = size - first_interior
        runs = sorted(apart, key=lambda run: run.start)
        set_apart = sum(run.stop - run.start for run in runs)
        self.kept = self.interior - set_apart
        """Rows of the interior nodes not set apart: rows [0, kept)."""
        # each placeholder's row: the arguments' runs after the kept interior rows, last
        # first; then the runs set apart, in order
        rows = np.empty(first_shared, dtype=np.intp)
        start, row = 0, self.kept + first_shared
        for width in widths:
            row -= width
            rows[start:start + width] = np.arange(row, row + width)
            start += width
        self._placeholder_rows = rows
        self._interior_rows: np.ndarray | None = None
        self.apart: tuple[slice, ...] = ()
        if runs:
            interior_rows = np.empty(self.interior, dtype=np.intp)
            keep = np.ones(self.interior, dtype=bool)
            at = self.kept + first_shared
            for run in runs:
                local = slice(run.start - first_interior, run.stop - first_interior)
                if local.start < 0 or local.stop > self.interior or not keep[local].all():
                    raise ValueError(f"the runs set apart must be distinct runs of interior "
                                     f"indices, got {run.start}..{run.stop - 1}")
                keep[local] = False
                interior_rows[local] = np.arange(at, at + local.stop - local.start)
                at += local.stop - local.start
            interior_rows[keep] = np.arange(self.kept)
            self._interior_rows = interior_rows
            self.apart = (slice(self.kept + first_shared, self.rows),)

    @property
    def shared(self) -> int:
        return self.first_interior - self.first_shared

    @property
    def rows(self) -> int:
        """Rows of the per-example arrays when every one is allocated: interior nodes and
        placeholders."""
        return self.size - self.shared

    @property
    def interior_rows(self) -> tuple[slice, ...]:
        """The runs of rows that hold interior nodes: the kept ones, then those apart."""
        return (slice(0, self.kept), *self.apart)

    def argument_rows(self, argument: int) -> slice:
        """The rows of one argument's placeholders (a run, in the argument's order)."""
        start = sum(self.widths[:argument])
        return self.row(slice(start, start + self.widths[argument]))

    def is_shared(self, indices: np.ndarray) -> np.ndarray:
        return (indices >= self.first_shared) & (indices < self.first_interior)

    def row(self, indices: Any) -> Any:
        """The per-example row of each index (none of them a shared leaf); a slice of
        interior nodes in one run of rows, or of one argument's placeholders, gives a
        slice."""
        first = self.first_interior
        moved = self._interior_rows
        if isinstance(indices, slice):
            start, stop = indices.start, indices.stop
            if stop <= start:
                return slice(0, 0)
            if start >= first:
                if moved is None:
                    return slice(start - first, stop - first)
                row = int(moved[start - first])
                if int(moved[stop - 1 - first]) != row + stop - 1 - start or not np.array_equal(
                        moved[start - first:stop - first], np.arange(row, row + stop - start)):
                    raise ValueError(f"indices {start}..{stop - 1} are not one run of rows")
                return slice(row, row + stop - start)
            row = int(self._placeholder_rows[start])
            if stop > self.first_shared or int(self._placeholder_rows[stop - 1]) != \
                    row + stop - 1 - start:
                raise ValueError(f"indices {start}..{stop - 1} are not one run of rows")
            return slice(row, row + stop - start)
        if isinstance(indices, (int, np.integer)):
            if indices >= first:
                return int(indices) - first if moved is None else int(moved[indices - first])
            return int(self._placeholder_rows[indices])
        indices = np.asarray(indices)
        found = indices - first
        if moved is not None:
            interior = indices >= first
            found[interior] = moved[found[interior]]
        inputs = indices < self.first_shared
        if inputs.any():
            found[inputs] = self._placeholder_rows[indices[inputs]]
        return found

    def reader(self, indices: np.ndarray, one_column: bool) -> Read:
        """How to read these indices' values into a (k, n) array ((k, 1) if ``one_column``)."""
        indices = np.asarray(indices, dtype=np.intp)
        shared = self.is_shared(indices)
        leaf_positions = np.flatnonzero(shared)
        row_positions = np.flatnonzero(~shared)
        leaves = as_rows(indices[leaf_positions] - self.first_shared)
        rows = as_rows(self.row(indices[row_positions]))
        if not len(row_positions):
            return Read(len(indices), one_column, None, leaves, None, None)
        if not len(leaf_positions):
            return Read(len(indices), one_column, rows, None, None, None)
        return Read(len(indices), one_column, rows, leaves, as_rows(row_positions),
                    as_rows(leaf_positions))


@dataclass(frozen=True)
class Read:
    """Values of k indices as an array (k, n) or (k, 1): from the rows, the shared data,
    or both (then into a fresh array, each kind into its own positions)."""

    k: int
    one_column: bool
    rows: Any
    leaves: Any
    row_positions: Any
    leaf_positions: Any

    def __call__(self, values: np.ndarray, shared: np.ndarray) -> np.ndarray:
        if self.rows is None:
            return shared[self.leaves][:, None]
        if self.leaves is None:
            return values[self.rows, :1] if self.one_column else values[self.rows]
        out = np.empty((self.k, 1 if self.one_column else values.shape[1]), dtype=values.dtype)
        out[self.row_positions] = values[self.rows, :1] if self.one_column else values[self.rows]
        out[self.leaf_positions] = shared[self.leaves][:, None]
        return out


def distinct(indices: np.ndarray) -> bool:
    """Whether no index repeats: at once for an increasing run (the usual case: a
    layer's nodes, its weights laid out in order), by sorting otherwise."""
    flat = np.asarray(indices).ravel()
    if len(flat) < 2 or bool((flat[1:] > flat[:-1]).all()):
        return True
    return len(np.unique(flat)) == len(flat)


def add_at(array: np.ndarray, indices: Any, contribution: Any, unique: bool) -> None:
    """array[indices] += contribution where ``indices`` may repeat: ``unique`` (found once
    by :func:`distinct`) takes the plain ``+=``, which would keep one add of a repeated
    index, and otherwise ``np.add.at``, which adds each."""
    if unique:
        array[indices] += contribution
    else:
        np.add.at(array, indices, contribution)


def as_rows(indices: np.ndarray) -> Any:
    """A slice when the indices are a contiguous increasing run (no fancy-index copy)."""
    n = len(indices)
    if n and indices[0] >= 0 and np.array_equal(indices, np.arange(indices[0], indices[0] + n)):
        return slice(int(indices[0]), int(indices[0]) + n)
    return indices


def strided(indices: np.ndarray) -> tuple[int, int, int] | None:
    """(start, row step, column step) when ``indices[j, i] == start + j a + i b``, a, b >= 0.

    Then the (k, m) block is a strided view of a 1-D array, as a layer's weights
    are when each neuron's weights and bias follow each other.
    """
    k, m = indices.shape
    start = int(indices[0, 0])
    a = int(indices[1, 0]) - start if k > 1 else 0
    b = int(indices[0, 1]) - start if m > 1 else 0
    if start < 0 or a < 0 or b < 0 or (k > 1 and a == 0) or (m > 1 and b == 0):
        return None
    expected = start + a * np.arange(k)[:, None] + b * np.arange(m)[None, :]
    if not np.array_equal(indices, expected):
        return None
    return start, a, b


def strided_view(array: np.ndarray, layout: tuple[int, int, int], shape: tuple[int, int]
                 ) -> np.ndarray:
    """The (k, m) view ``array[start + j a + i b]`` of a 1-D array (see :func:`strided`)."""
    start, a, b = layout
    item = array.itemsize
    return as_strided(array[start:], shape=shape, strides=(a * item, b * item), writeable=True)
