"""Running a compiled program: its steps over a batch, forward then backward.

:func:`build` lays a :class:`~autograd_scalar.tape_program.Program` out
(:mod:`autograd_scalar.tape_layout`), plans each group
(:mod:`autograd_scalar.tape_groups`) and picks the steps that run them
(:mod:`autograd_scalar.tape_dense`). A :class:`Runner` then keeps two arrays
(rows, n) of the tape's dtype for a batch of n, values and gradients, reused run
after run (a fresh array each run would cost page faults every time), and runs the
steps: the forward in order, each step keeping what its backward needs; the
backward in reverse, from a seed on the outputs. Everything it precomputes, it
precomputes once: which gradient rows need zeroing, which arguments need copying,
where the outputs are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .tape_dense import Dense, plan_steps
from .tape_groups import Group, make_group
from .tape_layout import Layout, SharedArrays, distinct
from .tape_program import Program


class Runner:
    """The steps of a program on its layout and shared arrays (see the module docstring)."""

    def __init__(self, program: Program, widths: Sequence[int | None],
                 dtype: Any = np.float64) -> None:
        layout = Layout(program.first_shared, program.first_interior, program.size)
        self.layout = layout
        self.dtype = np.dtype(dtype)
        self.arrays = SharedArrays(program.shared, dtype)
        self.groups: tuple[Group, ...] = tuple(
            make_group(g.row, g.nodes, g.children, layout, program.invariant)
            for g in program.groups)
        for group in self.groups:
            if group.matrix is not None:
                group.matrix.bind(self.arrays)
        outputs = program.outputs
        self.outputs = outputs
        self.steps, reads = plan_steps(self.groups, layout, outputs, program.size)
        # multiply-adds per example of the largest matrix product (k x m of a layer)
        self.product = max((step.affine.size * len(step.matrix.sources)
                            for step in self.steps if isinstance(step, Dense)), default=0)
        self.zero = tuple(_zeroed(layout, self.steps, w) for w in (False, True))
        self.shared_zero = _shared_zeroed(len(program.shared), self.steps)
        self.copied = _read_from_batch(widths, self.steps, reads)
        self.full = any(group.reads_invariant_in_full for group in self.groups) or bool(
            program.invariant[outputs].any())
        self.shared_outputs = layout.is_shared(outputs)
        self.any_shared_output = bool(self.shared_outputs.any())
        self.output_read = layout.reader(outputs, one_column=False)
        rows = layout.row(outputs[~self.shared_outputs])
        self.seed_rows = rows
        self.unique_seed_rows = distinct(rows)
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, columns: Sequence[np.ndarray]) -> tuple[np.ndarray, list[Any]]:
        """The value of every node for every example, and what each step keeps.

        Run inside ``np.errstate(all="ignore")``: IEEE results, as documented.
        """
        values = self.buffer(len(columns[0]), 0)
        for part, rows in zip(columns, self.copied):  # the placeholders' rows, by argument
            if rows is not None:
                values[rows] = part.T
        arrays, full = self.arrays, self.full
        return values, [step.run(values, arrays, full, columns) for step in self.steps]

    def backward(self, values: np.ndarray, saved: list[Any], seed: np.ndarray,
                 with_inputs: bool) -> np.ndarray:
        """Per-example gradients of sum(seed * outputs) for every node (the placeholders'
        rows only ``with_inputs``); the shared leaves' batch sums go to ``arrays.grad``."""
        grads = self.buffer(values.shape[1], 1)
        for rows in self.zero[with_inputs]:
            grads[rows] = 0.0
        shared_grads = self.arrays.grad
        for positions in self.shared_zero:
            shared_grads[positions] = 0.0
        if self.any_shared_output:  # an output that is a shared leaf: its seed, batch-summed
            shared = self.shared_outputs
            np.add.at(shared_grads, self.outputs[shared] - self.layout.first_shared,
                      seed[shared].sum(axis=1))
            seed = seed[~shared]
        if self.unique_seed_rows:
            grads[self.seed_rows] += seed
        else:
            np.add.at(grads, self.seed_rows, seed)
        arrays = self.arrays
        for step, kept in zip(reversed(self.steps), reversed(saved)):
            step.backward(kept, values, grads, arrays, with_inputs)
        return grads

    def output_values(self, values: np.ndarray) -> np.ndarray:
        """The outputs' rows (outputs, n) of a run."""
        return self.output_read(values, self.arrays.data)

    def buffer(self, n: int, which: int) -> np.ndarray:
        """The values (0) or gradients (1) array for a batch of n, reused run after run.

        The results handed out are copies, so reusing the two arrays is safe. Their
        rows are the placeholders and the interior nodes only (see
        :mod:`autograd_scalar.tape_layout`).
        """
        if self._buffers is None or self._buffers[0].shape[1] != n:
            rows = self.layout.rows
            self._buffers = None  # the old pair is freed before the new one is made
            self._buffers = (np.empty((rows, n), self.dtype), np.empty((rows, n), self.dtype))
        return self._buffers[which]


def _zeroed(layout: Layout, steps: Sequence[Any], with_inputs: bool) -> list[slice]:
    """The runs of per-example gradient rows to set to zero before a backward pass:
    the interior rows (and the placeholders' with ``with_inputs``), but for those a
    step assigns before anything reads them."""
    zero = np.zeros(layout.rows, dtype=bool)
    zero[0 if with_inputs else layout.first_shared:] = True
    for step in steps:
        for rows in step.owned_rows(with_inputs):
            zero[rows] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], zero.view(np.int8), [0]))))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _shared_zeroed(count: int, steps: Sequence[Any]) -> list[slice]:
    """The runs of shared leaves whose batch-summed gradient must be set to zero before a
    backward pass: all but those a dense step assigns whole (a layer's weights and
    biases that no other group reads, written by ``matmul(..., out=)``)."""
    zero = np.ones(count, dtype=bool)
    for step in steps:
        if isinstance(step, Dense):
            matrix = step.matrix
            if step._gW is not None:
                zero[matrix.weights.ravel()] = False
            if step._gb is not None and matrix.biases is not None:
                zero[matrix.biases] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], zero.view(np.int8), [0]))))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _read_from_batch(widths: Sequence[int | None], steps: Sequence[Any], reads: np.ndarray
                     ) -> list[slice | None]:
    """For each argument, the placeholders' rows to copy into the values array, or None.

    A dense step whose inputs are one argument's run of columns reads them straight
    from the batch, (n, d) as given (``Dense.external``); an argument nothing else
    reads (a network's input, usually) is not copied at all.
    """
    bounds = []
    start = 0
    for width in widths:
        stop = start + (1 if width is None else width)
        bounds.append((start, stop))
        start = stop
    others = reads.copy()
    for step in steps:
        if not isinstance(step, Dense):
            continue
        sources = step.matrix.sources
        first, last = int(sources[0]), int(sources[-1])
        for argument, (a, b) in enumerate(bounds):
            if a <= first and last < b and np.array_equal(sources, np.arange(first, last + 1)):
                step.external = (argument, first - a, last + 1 - a)
                others[sources] -= step.affine.size
    return [None if not others[a:b].any() else slice(a, b) for a, b in bounds]
