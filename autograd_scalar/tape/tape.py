"""compile: trace a per-example function once, then run it on whole batches with NumPy.

``tape = compile(fn, *example)`` calls ``fn`` once on placeholder Values holding the
``example``'s numbers (one list of Values per argument, or one Value for a scalar
argument) and records the graph it builds. The graph's leaves are of two kinds:

- placeholders: a fresh column per example of the batch (the inputs, the targets);
- shared leaves: every other leaf the graph reached, such as the model's parameters
  (and constants). Their ``.data`` is read at every run, so parameter updates are
  seen, and their gradient is summed over the batch.

The interior nodes are levelled by depth (1 + the largest depth of their children)
and grouped by op within a level (:mod:`~autograd_scalar.tape.program`). A run keeps
one array of shape (rows, batch) and runs each group one of three ways, as a cost
model measured on the machine finds cheapest for the batch's size
(:mod:`~autograd_scalar.tape.cost`; ``Tape.strategy`` forces one):

- grouped: one vectorized call per group, for the forward and for the backward
  alike: the group's row's ``vector`` forward on the gathered children, then the
  row's own ``derivatives`` rule on the same arrays, times the upstream gradient,
  scattered back onto the children (:mod:`~autograd_scalar.tape.groups`); for wide
  levels and large batches;
- straight-line code (written by :mod:`~autograd_scalar.tape.source`, run by
  :mod:`~autograd_scalar.tape.code`): consecutive groups written out as one Python
  function, a statement per node, forward and backward
  (reverse accumulation into local variables), compiled once; scalar code runs
  each example on floats, vector code the batch's columns with NumPy; for narrow,
  irregular graphs, where a group is a node or two and NumPy's cost per call would
  dominate. ``tape.source(n)`` shows the code a batch of n runs.

Either way the op table stays the only definition of every op, ``Function`` rows
included: the code writes each row's own expression (``Op.template``) and its rule,
read as an expression graph (:mod:`~autograd_scalar.tape.rules`).

What rows declare picks shorter roads to the same numbers. Nodes made from shared
leaves only (an L2 term) run once per batch, on one column. A group of a
``bilinear`` row that is a dense layer, or one weight matrix applied to several input
vectors (a sequence's positions), runs as matrix products
(:mod:`~autograd_scalar.tape.matrix`), fused with the one-input row applied to its
nodes (its activation) into one step (:mod:`~autograd_scalar.tape.dense`). A group of
an ``index`` row selects by fancy indexing (:mod:`~autograd_scalar.tape.lookup`). A row with
a ``stacked`` form (``sum``, ``dot``, ``logsumexp``) runs on one stacked array. The
shared leaves are laid out in the order the groups read them, so a layer's weights
and biases are views of the shared arrays (:mod:`~autograd_scalar.tape.layout`).

What a trace cannot capture: anything that depends on ``.data`` in Python. A branch
(``if x.data > 0``) would be taken as it was for the traced example, and a number
computed from ``.data`` (``Value(max(v.data for v in vs))``) frozen as a constant.
So the trace records every read of a traced Value's number by the function (the
placeholders' and every node made from them; see :mod:`~autograd_scalar.tape.program`)
and ``compile`` raises :class:`DataDependenceError` naming the file and line of the
first, as JAX refuses to branch on a tracer; ``compile(..., allow_data_reads=True)``
traces anyway and lists the places in ``tape.data_reads``. Ops themselves (``relu``,
``abs``, ``logsumexp``'s shift) act per example correctly. Out-of-domain inputs
give IEEE results (``log(-1)`` is NaN) instead of errors. :meth:`Tape.check` runs
``fn`` eagerly on every row of a batch and raises :class:`TraceMismatchError` if the
tape disagrees, which also catches what the trace cannot see (a read of a
parameter's own ``.data``).
"""

from __future__ import annotations

import contextlib
import functools
import operator
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
from typing import Any

import numpy as np

from ..backward import value_list
from ..mode import is_grad_enabled
from ..validate import choice, flag, integer, real_array, shown
from ..value import Value
from . import check as tape_check
from .batched import Batched
from .check import EagerRun, TraceMismatchError, magnitude
from .code import Code
from .cost import STRATEGIES
from .native import POLICIES
from .program import (
    DataDependenceError,
    DataRead,
    Program,
    TraceError,
    parameter_list,
    trace,
    width_of,
)
from .ragged import Ragged
from .run import Runner
from .threads import Threads, blas_threads, check_threads

_grad = operator.attrgetter("grad")

REDUCTIONS = ("mean", "sum")
"""How a batch's per-example losses combine: their mean or their sum."""

_CHECKED = np.zeros(0)
"""A program's ``numbers`` once its rows are checked: the traced example's numbers at
every index (as many as a model has parameters) are not kept with the tape."""

__all__ = ["CHECK_RTOL", "DataDependenceError", "Tape", "TapeGradients", "TraceError",
           "TraceMismatchError", "compile", "tape_dtype"]


def _one_run_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` holding the tape's lock: a run writes the tape's reused buffers and
    arrays, so runs of one tape from several threads take turns (two threads
    predicting with one model would otherwise read each other's numbers)."""

    @functools.wraps(method)
    def alone(self: Tape, *args: Any, **kwargs: Any) -> Any:
        with self._runs:
            return method(self, *args, **kwargs)

    return alone


@dataclass(frozen=True)
class TapeGradients:
    """What :meth:`Tape.gradients` returns.

    ``outputs``: (n,) or (n, k), as :meth:`Tape.forward`. ``shared``: for every shared
    leaf, d(sum over the batch of seed * outputs) / d leaf. ``inputs``: for each
    argument, the gradient with respect to its placeholders, (n, width) or (n,).
    """

    outputs: np.ndarray
    shared: dict[Value, float]
    inputs: tuple[np.ndarray, ...]


class Tape(Runner):
    """A traced per-example function, run on batches (see the module docstring).

    The seams: ``autograd_scalar.tape.program`` traces ``fn`` into an inert
    ``autograd_scalar.tape.program.Program`` (``tape.traced``, printable); a
    Tape is the ``autograd_scalar.tape.run.Runner`` of that program, which lays
    it out (``tape.arrays``, ``tape.layout``), plans each batch size's steps
    (``tape.steps``, listed by :meth:`program`) and runs them; this class adds the
    public calls on batches; ``autograd_scalar.tape.check`` verifies a run against
    the eager graph.

    ``dtype``: the arrays' float64 (the default) or float32 (see :func:`compile`),
    whichever strategy runs: grouped steps compute in it, straight-line code reads
    its operands from and writes its results to arrays of it (scalar code computes
    each example in Python floats between them, so "auto" picks it in float64 only,
    vector code in the arrays' dtype).

    ``threads``: how many threads BLAS may use during a run whose largest product
    reaches 65,536 multiply-adds: 1 (the default) or an int, at most that many, for
    the run (BLAS's count is process-wide); None, BLAS left as the user set it
    (``OPENBLAS_NUM_THREADS``; see ``autograd_scalar.tape.threads``).

    ``strategy``: how each group runs: "auto" (the default) as the measured cost
    model finds cheapest for the batch's size (``autograd_scalar.tape.cost``),
    or one strategy for every group: "grouped" (NumPy calls per group, dense
    layers as matrix products), "scalar" (straight-line Python float code per
    example) or "vector" (straight-line NumPy code over the batch's columns). The
    results are the same whichever runs, to rounding.

    A tape runs one batch at a time: calls from several threads take turns.
    """

    threads: Threads = 1
    strategy: str = "auto"

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute, checking ``strategy``, ``native`` and ``threads`` as they are
        set (a bad one would otherwise fail every later run, far from the assignment)."""
        _check_setting(name, value)
        super().__setattr__(name, value)

    def __init__(self, fn: Callable[..., Any], example: Sequence[Any],
                 parameters: Sequence[Value] = (), allow_data_reads: bool = False,
                 dtype: Any = "float64") -> None:
        self.dtype: np.dtype[Any] = tape_dtype(dtype)
        if not is_grad_enabled():
            raise TraceError("compile needs gradient tracking; it was called inside no_grad()")
        self.fn = fn
        self.widths: tuple[int | None, ...] = tuple(width_of(x, i) for i, x in enumerate(example))
        numbers = np.concatenate([
            real_array(x, f"the example's argument {i}", booleans=False).ravel()
            for i, x in enumerate(example)])
        self.traced: Program = trace(fn, self.widths, numbers.tolist(), parameters,
                                     allow_data_reads)
        tape_check.check_rows(self.traced)
        self.traced = replace(self.traced, numbers=_CHECKED)  # needed no more
        super().__init__(self.traced, self.widths, self.dtype)
        self._last_wrt: tuple[tuple[Value, ...], np.ndarray] | None = None
        self._seeds: np.ndarray | None = None  # backward_arrays' seed, kept for its batch size
        self._runs = threading.RLock()  # see _one_run_at_a_time

    # names the tests, nn and users read
    @property
    def single(self) -> bool:
        return self.traced.single

    @property
    def placeholders(self) -> tuple[Value, ...]:
        return self.traced.placeholders

    @property
    def shared(self) -> tuple[Value, ...]:
        return self.traced.shared

    @property
    def parameter_count(self) -> int:
        return self.traced.parameter_count

    @property
    def data_reads(self) -> tuple[DataRead, ...]:
        """Where the traced function read a traced Value's number (empty unless traced
        with ``allow_data_reads=True``, which is then what :meth:`check` must vouch for)."""
        return self.traced.data_reads

    @property
    def size(self) -> int:
        return self.traced.size

    @property
    def levels(self) -> int:
        return self.traced.levels

    def plan(self, n: int) -> list[Any]:
        """The steps a batch of ``n`` runs under ``strategy``: groups, dense layers and
        ``autograd_scalar.tape.code.Code`` segments (straight-line code)."""
        return self.plan_for(_batch_size(n), self.strategy).steps

    def source(self, n: int = 1, with_inputs: bool = True) -> str:
        """The Python source of the straight-line code a batch of ``n`` runs (forward and
        backward, the gradients with respect to the inputs included unless
        ``with_inputs=False``); "" where the plan has none (see
        ``autograd_scalar.tape.source``)."""
        return self._code_text(n, with_inputs, "source")

    def native_source(self, n: int = 1, with_inputs: bool = True) -> str:
        """The C that :meth:`source`'s code is compiled from, where the native path runs
        it (see ``autograd_scalar.tape.native``); "" where the plan has no code.
        Raises ``autograd_scalar.tape.translate.Untranslatable`` for code the
        C writer does not translate (it then runs as Python)."""
        return self._code_text(n, with_inputs, "native_source")

    def _code_text(self, n: int, with_inputs: bool, kind: str) -> str:
        """Each code step's text of ``kind`` ("source" or "native_source"), in order."""
        plan = self.plan_for(_batch_size(n), self.strategy)
        if plan.single is not None:
            return str(getattr(plan.single, kind)("both", with_inputs))
        parts = []
        for step in plan.steps:
            if isinstance(step, Code):
                text = getattr(step, kind)
                parts += [text("saved"), text("backward", with_inputs)]
        return "\n".join(parts)

    # -- running ------------------------------------------------------------

    def _columns(self, batches: Sequence[Any]) -> list[np.ndarray]:
        """The batches checked, as one (n, width) array per argument."""
        if len(batches) != len(self.widths):
            raise TypeError(f"the tape takes {len(self.widths)} batch argument(s) (one per "
                            f"argument of the traced function), got {len(batches)}")
        parts = []
        n = None
        for i, (batch, width) in enumerate(zip(batches, self.widths)):
            array = batch if type(batch) is np.ndarray and batch.dtype == self.dtype else (
                real_array(batch, f"batch argument {i}", booleans=False).astype(
                    self.dtype, copy=False))
            expected = "(n,)" if width is None else f"(n, {width})"
            if array.ndim != (1 if width is None else 2) or (width is not None
                                                              and array.shape[1] != width):
                raise ValueError(f"batch argument {i} must have shape {expected} as traced, "
                                 f"got {array.shape}")
            if array.shape[0] == 0:
                raise ValueError(f"batch argument {i} is empty; pass at least one example")
            if n is None:
                n = array.shape[0]
            elif array.shape[0] != n:
                raise ValueError(f"batch argument {i} has {array.shape[0]} rows, argument 0 "
                                 f"has {n}; every argument needs one row per example")
            parts.append(array.reshape(n, -1))
        return parts

    def _execute(self, columns: list[np.ndarray], pull: bool, seed: np.ndarray | None,
             with_inputs: bool = False, everything: bool = False
             ) -> tuple[np.ndarray, np.ndarray | None]:
        """Values (and, given a seed on the outputs, gradients) of the nodes.

        ``pull`` first copies the shared leaves' ``.data`` into ``self.arrays``;
        without it the tape reads the arrays as they are (compiled training).
        ``everything``: every node's value is written, not only those the outputs need.
        """
        if pull:
            self.arrays.pull()
        n = len(columns[0])
        for name in ("strategy", "native"):  # as set on the class, too
            _check_setting(name, getattr(self, name))
        with self.blas_limit(n), np.errstate(all="ignore"):
            return self.run(columns, seed, with_inputs, everything, self.strategy)

    def blas_limit(self, n: int) -> contextlib.AbstractContextManager[Any]:
        """The context a run of a batch of ``n`` holds BLAS's threads in (``threads``):
        compiled training holds it around the whole step, the optimizer's products
        (its finiteness check, clipping's norm) included, not only the tape's run."""
        return blas_threads(self.threads, self.plan_for(n, self.strategy).product * n)

    def _argument_grads(self, grads: np.ndarray) -> list[np.ndarray]:
        """Each argument's rows of a run's gradients, as (n, width) arrays of their own."""
        return [grads[self.layout.argument_rows(argument)].T.copy()
                for argument in range(len(self.widths))]

    def _magnitude(self, values: np.ndarray, columns: Sequence[np.ndarray]) -> float:
        """The largest finite |number| of a run: interior nodes, inputs and shared leaves
        (the placeholders' rows of ``values`` are not all written, see ``copied``)."""
        return max(*(magnitude(values[rows]) for rows in self.layout.interior_rows),
                   magnitude(self.arrays.data),
                   *(magnitude(part) for part in columns))

    @_one_run_at_a_time
    def backward_arrays(self, *batches: Any, reduction: str = "mean"
                        ) -> tuple[float, np.ndarray]:
        """The reduced first output, its gradient in ``self.arrays.grad``, and all outputs.

        The fast path of compiled training: the shared leaves are read from
        ``self.arrays.data`` as they are (no Value is read) and d(reduced output 0)
        / d leaf is written to ``self.arrays.grad`` (no Value is written; the
        caller syncs with ``self.arrays.push``). The other outputs (a model's raw
        outputs traced beside its loss) are returned too, as (n, k), for free.
        """
        choice("reduction", reduction, REDUCTIONS, who="Tape.backward_arrays")
        columns = self._columns(batches)
        n = len(columns[0])
        seeds = self._seeds
        weight = self.dtype.type(1.0 / n if reduction == "mean" else 1.0)
        if seeds is None or seeds.shape[1] != n or seeds[0, 0] != weight:
            seeds = np.zeros((len(self.outputs), n), self.dtype)
            seeds[0] = weight
            self._seeds = seeds
        values, _ = self._execute(columns, False, seeds)
        outputs = self.output_values(values)
        total = float(np.add.reduce(outputs[0]))
        return (total / n if reduction == "mean" else total), outputs.T.copy()

    @_one_run_at_a_time
    def forward(self, *batches: Any) -> np.ndarray:
        """The outputs for every example: (n,) for one output Value, (n, k) for k."""
        values, _ = self._execute(self._columns(batches), True, None)
        return self._shape(self.output_values(values))

    __call__ = forward

    @_one_run_at_a_time
    def gradients(self, *batches: Any, seed: Any = None) -> TapeGradients:
        """Outputs and the gradients of sum(seed * outputs); seed defaults to ones."""
        columns = self._columns(batches)
        n = len(columns[0])
        if seed is None:
            seeds = np.ones((len(self.outputs), n), self.dtype)
        else:
            seeds = real_array(seed, "seed")
            wanted = (n,) if self.single else (n, len(self.outputs))
            if seeds.shape != wanted:
                raise ValueError(f"seed must have the outputs' shape {wanted}, got {seeds.shape}")
            seeds = seeds.reshape(n, -1).T.astype(self.dtype)
        values, grads = self._execute(columns, True, seeds, True)
        assert grads is not None
        shared = dict(zip(self.shared, self.arrays.grad.tolist()))
        inputs = [block[:, 0] if width is None else block
                  for block, width in zip(self._argument_grads(grads), self.widths)]
        return TapeGradients(self._shape(self.output_values(values)), shared,
                             tuple(inputs))

    @_one_run_at_a_time
    def backward(self, *batches: Any, reduction: str = "mean",
                 wrt: Sequence[Value] | None = None) -> float:
        """Add d(reduced output)/d leaf to ``leaf.grad``; return the reduced output.

        The traced function must return one Value (a per-example loss); ``reduction``
        is "mean" or "sum" over the batch. ``wrt`` names the leaves to update, a Value or
        a list or tuple of them (default: every shared leaf); a leaf the tape does not use
        gets nothing. Nothing is
        written before everything is computed.
        """
        if not self.single:
            raise TypeError(f"backward needs a function that returns one Value; this one "
                            f"returns {len(self.outputs)}")
        choice("reduction", reduction, REDUCTIONS, who="Tape.backward")
        columns = self._columns(batches)
        n = len(columns[0])
        weight = 1.0 / n if reduction == "mean" else 1.0
        seeds = np.full((len(self.outputs), n), weight, self.dtype)
        values, _ = self._execute(columns, True, seeds)
        shared_grads = self.arrays.grad
        if wrt is None:
            leaves, updates = self.shared, shared_grads
        else:
            leaves = tuple(value_list(wrt, "backward", "wrt", "wrt[{}]"))
            positions = self._positions(leaves)
            updates = np.where(positions >= 0, shared_grads[positions], 0.0)
        try:
            current = np.fromiter(map(_grad, leaves), np.float64, len(leaves))
        except (TypeError, ValueError):
            for leaf, g in zip(leaves, updates.tolist()):
                leaf.grad += g
        else:
            deque(map(setattr, leaves, repeat("grad"), (current + updates).tolist()), maxlen=0)
        losses = self.output_values(values)[0]
        return float(losses.mean() if reduction == "mean" else losses.sum())

    def _positions(self, leaves: tuple[Value, ...]) -> np.ndarray:
        """Each leaf's place among the shared leaves (-1 if the tape does not use it)."""
        if self._last_wrt is not None and self._last_wrt[0] == leaves:
            return self._last_wrt[1]
        index = {leaf: i for i, leaf in enumerate(self.shared)}
        positions = np.array([index.get(leaf, -1) for leaf in leaves], dtype=np.intp)
        self._last_wrt = (leaves, positions)
        return positions

    def _shape(self, rows: np.ndarray) -> np.ndarray:
        return rows[0].copy() if self.single else rows.T.copy()

    # -- checking -----------------------------------------------------------

    @property
    def rtol(self) -> float:
        """The tolerance of :meth:`check` for this tape's dtype, relative to the run's
        largest magnitude: ``CHECK_RTOL``."""
        return CHECK_RTOL[self.dtype.name]

    @_one_run_at_a_time
    def check(self, *batches: Any, rtol: float | None = None,
              reference: EagerRun | None = None) -> None:
        """Compare the tape with the eager graph on every example of a batch.

        Runs the traced function eagerly on each row, and compares its outputs, the
        gradients of each row's outputs' sum with respect to its inputs, and the
        gradients of the outputs' sum with respect to every ``parameters`` leaf
        given to :func:`compile` and every other shared leaf the eager graphs reach
        too (constants made while tracing are the tape's own), to ``rtol`` relative
        to the largest magnitude (by default :attr:`rtol`: 1e-9 in float64, 1e-4 in
        float32). The leaves' ``.grad`` are used for the eager sums and left as they
        were.

        ``reference``: the eager run of the same function on the same rows, made by
        :meth:`eager_reference` before this tape was traced, used instead of running
        the function again when it stands for this tape (its parameters are the
        tape's shared leaves; else the function runs eagerly here).
        Raises :class:`TraceMismatchError` naming the first disagreement, which
        usually means the function branches in Python on ``.data``.
        """
        parts = self._columns(batches)
        n = len(parts[0])
        values, grads = self._execute(parts, True, np.ones((len(self.outputs), n), self.dtype),
                                      with_inputs=True, everything=True)
        assert grads is not None
        outputs = self._shape(self.output_values(values)).reshape(n, -1)
        inputs = np.concatenate(self._argument_grads(grads), axis=1)
        scale = self._magnitude(values, parts)
        columns = np.concatenate(parts, axis=1)
        tape_check.check(self.fn, self.widths, columns.astype(np.float64), outputs, inputs,
                         self.shared, self.arrays.grad, self.parameter_count, scale,
                         self.rtol if rtol is None else rtol, reference, self.dtype)

    @staticmethod
    def eager_reference(fn: Callable[..., Any], *batches: Any,
                        parameters: Sequence[Value]) -> EagerRun:
        """The eager graph of ``fn`` on every row of the batches (one (n, width) or (n,)
        array per argument): its outputs and the gradients of their sum with respect to
        ``parameters``, for :meth:`check` of a tape traced afterwards from ``fn`` with
        these ``parameters``. Made first, the eager graphs and the trace's graph never
        live at once, and the trace reuses the memory the eager graphs took, where the
        check made after the trace would need its own on top of the tape's."""
        parts = [np.asarray(batch, dtype=np.float64) for batch in batches]
        widths = tuple(None if part.ndim == 1 else part.shape[1] for part in parts)
        columns = np.concatenate([part.reshape(len(part), -1) for part in parts], axis=1)
        return tape_check.eager_run(fn, widths, columns, parameter_list(parameters))

    @_one_run_at_a_time
    def release(self) -> None:
        """Let go of the values and gradients arrays kept for the last batch (the next
        run makes them anew): for a tape set aside while another runs, such as a
        training's tape of another sequence length."""
        self._buffers = [None, None]
        for step in self._dense.values():
            step.unbind()

    def memory(self, n: int) -> int:
        """Bytes of the arrays a training run (:meth:`backward_arrays`) on a batch of ``n``
        keeps: the values and gradients of every op but the pre-activations of relu
        layers run in place, the values of the placeholders read from the array, for
        every example (``Plan.rows``), and the shared arrays."""
        value_rows, grad_rows = self.plan_for(_batch_size(n), self.strategy).rows
        return self.dtype.itemsize * ((value_rows + grad_rows) * n + 2 * len(self.shared))

    def program(self, n: int | None = None) -> str:
        """The traced program as text: one line per step, in the order it runs.

        The steps of a batch of ``n`` (default: every group grouped, as ``steps``).
        Each line gives the row (``affine+relu`` for a dense layer fused with its
        activation), the number of nodes, the strategy ("matrix": a dense layer as
        matrix products; "stacked": the row's stacked form on one array; "once":
        made of shared leaves only, run once per batch; "elementwise": the row's
        vector forward and rule; "ragged": groups of one level with different operand
        counts as one padded stack; "batched": a level's dots over per-example operands
        as batched matrix products; "scalar" and "vector": straight-line code, whose
        line names no row) and the index range of its nodes.
        """
        lines = [repr(self)]
        steps = self.steps if n is None else self.plan(n)
        for i, step in enumerate(steps):
            if isinstance(step, (Code, Ragged, Batched)):
                name = "code" if isinstance(step, Code) else step.row.name
                lines.append(f"  step {i:3d}: {name:<14} x{step.size:<6} "
                             f"{step.strategy:<11} nodes {step.first}..{step.last}")
                continue
            groups = getattr(step, "groups", (step,))
            name = "+".join(group.row.name for group in groups)
            first, last = groups[0].nodes.start, groups[-1].nodes.stop - 1
            lines.append(f"  step {i:3d}: {name:<14} x{groups[0].size:<6} "
                         f"{step.strategy:<11} nodes {first}..{last}")
        return "\n".join(lines)

    def __reduce__(self) -> Any:
        """A tape is not copied or pickled: it holds its function, compiled code and a
        lock, and its shared leaves are the caller's own Values (a copy's would train
        other numbers). TypeError saying so, for ``copy``, ``deepcopy`` and ``pickle``."""
        raise TypeError("a Tape cannot be copied or pickled (it holds its function, "
                        "compiled code and the caller's own parameters); compile the "
                        "function again where another is needed")

    def __repr__(self) -> str:
        kind = "" if self.dtype == np.float64 else f", {self.dtype.name}"
        return (f"Tape({len(self.placeholders)} inputs, {len(self.shared)} shared leaves, "
                f"{self.size - len(self.placeholders) - len(self.shared)} ops in "
                f"{len(self.traced.groups)} groups over {self.levels} levels{kind})")


CHECK_RTOL = {"float64": 1e-9, "float32": 1e-4}
"""How closely a tape must agree with the eager graph (float64 Values), relative to the
largest magnitude of the run, by the tape's dtype. float32 keeps 24 bits (about 7
digits); a layer's sum of hundreds of products rounded at each step, and the
backward through several layers, stay within 1e-5 of the magnitude in the tests,
so 1e-4 leaves room without hiding a wrong graph (which is off by far more)."""


def tape_dtype(dtype: Any) -> np.dtype[Any]:
    """``dtype`` as the NumPy dtype of a tape's arrays: float64 (the default, the same
    numbers as the eager graph to rounding) or float32 (half the memory, faster
    products); "float64", "float32", ``np.float32`` and the like are accepted."""
    try:
        found = None if dtype is None else np.dtype(dtype)
    except TypeError:
        found = None
    if found is None or found.name not in CHECK_RTOL or isinstance(dtype, bool):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return found


def _check_setting(name: str, value: object) -> None:
    """ValueError for a bad ``strategy`` (one of STRATEGIES), ``native`` (None or one of
    POLICIES) or ``threads`` (None or a positive int); other names pass."""
    if name == "strategy":
        choice("Tape.strategy", value, STRATEGIES)
    elif name == "native" and value is not None \
            and not (isinstance(value, str) and value in POLICIES):
        raise ValueError(f"Tape.native must be None or one of "
                         f"{', '.join(map(repr, POLICIES))}, got {shown(value)}"[:300])
    elif name == "threads":
        check_threads(value)


def _batch_size(n: Any) -> int:
    return integer("a batch size", n, 1, what="a positive integer")


def compile(fn: Callable[..., Any], *example: Any, parameters: Sequence[Value] = (),
            allow_data_reads: bool = False, dtype: Any = "float64") -> Tape:
    """Trace ``fn`` on one example and return a :class:`Tape` that runs it on batches.

    Each argument of ``example`` is a 1-D sequence of numbers (``fn`` gets a list of
    Values) or one number (``fn`` gets a Value); ``fn`` returns a Value or a list of
    Values. Then ``tape.forward(*batches)``, ``tape.gradients(*batches)`` and
    ``tape.backward(*batches, reduction="mean")`` take one array per argument, with
    one row per example::

        tape = compile(lambda x, t: loss.example(model(x), t), X[0], T[0])
        batch_loss = tape.backward(X, T)     # adds to every parameter's .grad

    ``parameters`` (leaves, e.g. an optimizer's) are laid out first in
    ``tape.arrays``, in the order given, so that ``tape.arrays.data[:len(parameters)]``
    and ``tape.arrays.grad[:len(parameters)]`` line up with that list (see
    :meth:`Tape.backward_arrays`).

    If ``fn`` reads the number of a Value made from its arguments (``.data``,
    ``item()``, ``detach()``: a Python branch or a frozen number), the trace cannot
    stand for other examples and ``compile`` raises :class:`DataDependenceError`
    naming the file and line; ``allow_data_reads=True`` traces anyway (check the
    tape with :meth:`Tape.check`).

    ``dtype`` is the tape's arithmetic: "float64" (the default and the reference) or
    "float32", for half the memory per example and faster matrix products. The trace
    itself is float64 Values either way; a float32 tape rounds the parameters and
    inputs as it reads them, and writes float64 back to the Values. It agrees with
    the eager graph to ``CHECK_RTOL["float32"]`` (1e-4) of the run's magnitude,
    which :meth:`Tape.check` uses.
    """
    if not callable(fn):
        raise TypeError(f"compile expects a function, got {type(fn).__name__}")
    if not example:
        raise TypeError("compile needs an example: one value per argument of the function")
    flag("allow_data_reads", allow_data_reads)
    return Tape(fn, example, parameters, allow_data_reads, dtype)
