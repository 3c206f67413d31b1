"""Straight-line code as a step of a run: a segment's functions, compiled and called.

:mod:`autograd_scalar.tape.source` writes a run of a program's nodes as Python
source; a :class:`Code` step compiles it when a run first needs it and calls it.

A segment of the program is read from and written to the tape's arrays at its
edges (:mod:`autograd_scalar.tape.layout`), so it runs between grouped steps as
one more step (:class:`Code`); a program that is all one segment runs forward and
backward in one call. Scalar code follows Python's float arithmetic, which raises
where IEEE arithmetic gives inf or NaN (``math.log(-1)``, ``1 / 0``): a scalar run
that raises so is run again by the tape with NumPy, which gives the IEEE results (or
the row's own error), so the results never depend on which code ran.

A zero partial derivative sends exactly 0 back, even against an infinite or NaN
gradient (IEEE's 0 * inf is NaN), as the eager loop and the grouped steps do. The
code multiplies plainly, and only where a run's gradients hold a NaN is it run
again by a careful variant (``careful``), whose terms are
:func:`~autograd_scalar.tape.source.times_scalar` or
:func:`~autograd_scalar.tape.source.times_vector`: the fast path keeps its speed and
the results agree with eager to the bit.

A segment's scalar code may also run compiled to machine code: its Python source
translated into C (:mod:`autograd_scalar.tape.translate`), built and loaded
(:mod:`autograd_scalar.tape.native`) when ``Tape.native`` says so. The compiled
function reads the operands gathered into one array (reads, n) and writes the values
and the gradients sent into arrays the Python side puts in place as the scalar code's
results are put, so the numbers are the scalar code's to the bit (vector code's runs
several examples at once, the same numbers to rounding: see :meth:`Code.kernel`); a
run it flags (a math call, division or power that was not finite, where Python may
have raised) or whose gradients hold a NaN runs as Python instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import native
from .layout import SharedArrays
from .native import UNITS, Kernel, Kernels, default_policy
from .source import Segment, compile_function, has_nan
from .translate import Untranslatable, translate, translate_units

FLOAT_ERRORS = (ArithmeticError, ValueError)
"""What Python's float arithmetic and ``math`` raise where IEEE gives inf or NaN (and a
row's domain check raises outside its domain): scalar code that raises one of these
is run again with NumPy."""


def _vector(function: Callable[..., Any], *arrays: np.ndarray) -> Any:
    """Vector code run on the batch's arrays. It raises only where a row of the user's
    (a Function's forward or rule) does on some example: a :class:`CodeFallback`, so
    that the grouped steps run it again and name the op and the example, as they do
    whatever strategy the batch size chose."""
    try:
        return function(*arrays)
    except FLOAT_ERRORS as error:
        raise CodeFallback(str(error)) from error


class CodeFallback(Exception):
    """Scalar code raised one of :data:`FLOAT_ERRORS`: the tape runs the batch again
    with NumPy (the caller catches this; the original exception is its ``__cause__``)."""


@dataclass
class NativeSaved:
    """What a compiled forward keeps for its backward: the saved values, (kept, n)."""

    kept: np.ndarray


class Code:
    """A segment of the program as one step of a run (see the module docstring).

    ``strategy`` is "scalar" (a loop over the examples, each a call of float code)
    or "vector" (one call over the batch's columns). The functions are written and
    compiled when a run first needs them, and kept.
    """

    def __init__(self, segment: Segment, vector: bool, owner: Any = None) -> None:
        self.segment = segment
        self.owner = owner
        self.vector = vector
        self.strategy = "vector" if vector else "scalar"
        self.size = len(segment.nodes)
        layout = segment.layout
        self.first = segment.nodes[0][0]
        self.last = segment.nodes[-1][0]
        self._functions: dict[tuple[str, bool, bool, bool], Callable[..., Any]] = {}
        # scalar code reads its operands as one list per example, in the order of
        # ``segment.reads``: per-example rows, invariant rows (column 0), shared leaves
        reads, counts = segment.reads, segment.counts
        rows, once = counts["row"], counts["row"] + counts["once"]
        self._rows = np.array([layout.row(i) for i in reads[:rows]], dtype=np.intp)
        self._once = np.array([layout.row(i) for i in reads[rows:once]], dtype=np.intp)
        self._shared = np.array([i - layout.first_shared for i in reads[once:]], dtype=np.intp)
        self._sink_rows = np.array([layout.row(i) for i in reads[:once]], dtype=np.intp)
        self._sink_count = once
        nodes = [i for i, _, _ in segment.nodes]
        self.upstream_rows = np.array([layout.row(i) for i in nodes if i in segment.upstream],
                                       dtype=np.intp)
        self._write_rows = self.upstream_rows
        self._all_rows = np.array([layout.row(i) for i in nodes], dtype=np.intp)
        self._internal_rows = np.array([layout.row(i) for i in nodes
                                        if i not in segment.upstream], dtype=np.intp)
        self.kernels = Kernels(self.native_sources, self.size, lanes=vector)

    # -- machine code ----------------------------------------------------------

    @property
    def policy(self) -> str:
        """When to compile to machine code: the owner's policy for the run under way (a
        Tape's ``native``, else ``AUTOGRAD_SCALAR_NATIVE``, read as the run starts; see
        :mod:`autograd_scalar.tape.native`)."""
        found = getattr(self.owner, "run_policy", None)
        if found is None:
            found = getattr(self.owner, "native", None)
        return default_policy() if found is None else found

    def native_sources(self, key: tuple[str, bool, bool], use_mvec: bool) -> list[str]:
        """The C of one function, as files to compile apart: its scalar code (the fast
        variant) translated, in the lanes dialect for vector code."""
        kind, with_inputs, everything = key
        return translate_units(self.segment.source(False, kind, with_inputs, everything)[0],
                               UNITS, lanes=self.vector, use_mvec=use_mvec)

    def native_source(self, kind: str, with_inputs: bool = False,
                      everything: bool = False) -> str:
        """The C source of one of its functions (see :mod:`autograd_scalar.tape.translate`);
        Untranslatable names a function the code calls by what it calls (a Function's
        forward, ``Swish.forward``), not by the name the code gives it (``F0``)."""
        source, names = self.segment.source(False, kind, with_inputs, everything)
        try:
            return translate(source, lanes=self.vector,
                             use_mvec=self.vector and native.vector_math())
        except Untranslatable as error:
            text = str(error)
            for name, function in names.items():
                called = getattr(function, "__qualname__", None) or repr(function)
                text = text.replace(repr(name), f"{called} (as {name})")
            raise Untranslatable(text) from error

    def kernel(self, kind: str, with_inputs: bool, everything: bool) -> Kernel | None:
        """The compiled function, if there is one (or the policy builds it now).

        Compiled scalar code computes as scalar code does, to the bit. Vector code
        compiles to the lanes dialect, several examples at once in vector registers,
        with glibc's vector math functions where it has them: the same numbers as
        the Python vector code to rounding only (NumPy's math functions are not the C
        library's, nor are glibc's vector ones), so "auto", which switches when timing
        says so, compiles scalar code only: no result then depends on when the switch
        came. The C computes in double, so a float32 tape's vector code, which NumPy
        runs in float32, is never compiled (its scalar code computes in float64 either
        way)."""
        policy = self.policy
        if policy == "off" or (self.vector and (policy == "auto" or getattr(
                self.owner, "dtype", np.float64) != np.float64)):
            return None
        return self.kernels.get((kind, with_inputs, everything), policy)

    def _paid(self, kind: str, with_inputs: bool, everything: bool, started: float) -> None:
        """Count a Python run toward compiling its function (see ``Kernels``)."""
        self.kernels.pay((kind, with_inputs, everything), time.perf_counter() - started)

    def _reads(self, values: np.ndarray, shared: SharedArrays) -> np.ndarray:
        """The operands read from outside, (reads, n) in float64: what a kernel reads."""
        n = values.shape[1]
        found = np.empty((len(self.segment.reads), n))
        rows = len(self._rows)
        once = rows + len(self._once)
        if rows:
            found[:rows] = values[self._rows]
        if once > rows:
            found[rows:once] = values[self._once, 0][:, None]
        if len(self._shared):
            found[once:] = shared.data[self._shared][:, None]
        return found

    def _upstream(self, grads: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(grads[self.upstream_rows], dtype=np.float64)

    def _written(self, everything: bool) -> np.ndarray:
        return self._all_rows if everything else self._write_rows

    def _native_both(self, kernel: Kernel, values: np.ndarray, grads: np.ndarray,
                     shared: SharedArrays, everything: bool) -> bool:
        """Forward and backward by the kernel; False (nothing written) if it was flagged
        or a gradient sent is NaN (the Python code then runs)."""
        n = values.shape[1]
        rows = self._written(everything)
        W = np.empty((len(rows), n))
        SK = np.empty((len(self.segment.reads), n))
        if kernel(n, R=self._reads(values, shared), U=self._upstream(grads), W=W, SK=SK) \
                or has_nan(SK):
            return False
        if len(rows):
            values[rows] = W
        self._send(SK, grads, shared)
        return True

    def source(self, kind: str, with_inputs: bool = False, everything: bool = False,
               careful: bool = False) -> str:
        """The Python source of one of its functions (see
        :meth:`autograd_scalar.tape.source.Segment.source`)."""
        return self.segment.source(self.vector, kind, with_inputs, everything, careful)[0]

    def function(self, kind: str, with_inputs: bool = False, everything: bool = False,
                 careful: bool = False) -> Callable[..., Any]:
        """One of its functions, compiled on first use and kept."""
        key = (kind, with_inputs, everything, careful)
        found = self._functions.get(key)
        if found is None:
            source, names = self.segment.source(self.vector, kind, with_inputs, everything,
                                                careful)
            found = self._functions[key] = compile_function(
                source, names, self.vector, f"<tape {self.strategy} code {kind}>")
        return found

    def owned_rows(self, with_inputs: bool) -> list[Any]:
        """Gradient rows no one needs zeroed: the nodes whose gradients stay in the code's
        local variables (those other steps read come in ``G``, and are zeroed)."""
        return [self._internal_rows]

    # -- scalar code ---------------------------------------------------------

    def operands(self, values: np.ndarray, shared: SharedArrays) -> list[list[float]]:
        """Each example's operands, as scalar code unpacks them."""
        fixed = values[self._once, 0].tolist() + shared.data[self._shared].tolist()
        if not len(self._rows):
            return [fixed] * values.shape[1]
        return [column + fixed for column in values[self._rows].T.tolist()]

    def run(self, values: np.ndarray, shared: SharedArrays, full: bool,
            batch: Sequence[np.ndarray], everything: bool = False) -> Any:
        """The forward: write the values other steps and the outputs read (every value
        with ``everything``); return what the backward needs (scalar code: each
        example's saved values; vector code keeps them in ``values``)."""
        kernel = self.kernel("saved", False, everything)
        if kernel is not None:
            n = values.shape[1]
            rows = self._written(everything)
            W = np.empty((len(rows), n))
            kept = np.empty((len(self.segment.kept), n))
            if not kernel(n, R=self._reads(values, shared), W=W, KO=kept):
                if len(rows):
                    values[rows] = W
                return NativeSaved(kept)
        started = time.perf_counter()
        saved = self._python_run(values, shared, everything)
        self._paid("saved", False, everything, started)
        return saved

    def _python_run(self, values: np.ndarray, shared: SharedArrays, everything: bool) -> Any:
        if self.vector:
            _vector(self.function("saved", everything=everything), values, shared.data)
            return None
        function = self.function("saved", everything=everything)
        try:
            results = [function(r) for r in self.operands(values, shared)]
        except FLOAT_ERRORS as error:
            raise CodeFallback(str(error)) from error
        rows = self._written(everything)
        if len(rows):
            values[rows] = np.array([written for written, _ in results]).T
        return [kept for _, kept in results]

    def backward(self, saved: Any, values: np.ndarray, grads: np.ndarray,
                 shared: SharedArrays, with_inputs: bool) -> None:
        """Add the gradients sent to the operands read from outside: into ``grads`` per
        example, into the shared leaves' batch sums."""
        kernel = self.kernel("backward", with_inputs, False)
        if kernel is not None and (isinstance(saved, NativeSaved) or
                                   (saved is not None and len(saved) and len(saved[0]))):
            n = values.shape[1]
            kept = saved.kept if isinstance(saved, NativeSaved) else np.array(saved).T
            SK = np.empty((len(self.segment.reads), n))
            if not kernel(n, U=self._upstream(grads), KI=np.ascontiguousarray(kept), SK=SK) \
                    and not has_nan(SK):
                self._send(SK, grads, shared)
                return
        if isinstance(saved, NativeSaved):  # the Python backward reads the Python forward's
            saved = self._python_run(values, shared, False)
        started = time.perf_counter()
        self._python_backward(saved, values, grads, shared, with_inputs)
        self._paid("backward", with_inputs, False, started)

    def _python_backward(self, saved: Any, values: np.ndarray, grads: np.ndarray,
                         shared: SharedArrays, with_inputs: bool) -> None:
        if self.vector:
            if _vector(self.function("backward", with_inputs), values, shared.data, grads,
                       shared.grad):
                _vector(self.function("backward", with_inputs, careful=True), values,
                        shared.data, grads, shared.grad)
            return
        n = values.shape[1]
        upstream = (grads[self.upstream_rows].T.tolist() if len(self.upstream_rows)
                    else [[]] * n)
        careful = False
        while True:
            function = self.function("backward", with_inputs, careful=careful)
            try:
                sent = np.array([function(kept, u) for kept, u in zip(saved, upstream)])
            except FLOAT_ERRORS as error:
                raise CodeFallback(str(error)) from error
            if careful or not np.isnan(sent).any():
                break
            careful = True
        self._send(sent.reshape(n, -1).T, grads, shared)

    def _send(self, sent: np.ndarray, grads: np.ndarray, shared: SharedArrays) -> None:
        """Add the gradients sent to outside operands (operands, n) into the arrays."""
        count = self._sink_count
        if count:
            grads[self._sink_rows] += sent[:count]
        if len(self._shared):  # summed from one layout, so machine code and Python agree
            shared.grad[self._shared] += np.ascontiguousarray(sent[count:]).sum(axis=1)

    def both(self, values: np.ndarray, grads: np.ndarray, shared: SharedArrays,
             with_inputs: bool, everything: bool) -> None:
        """Forward and backward in one call (per example, for scalar code): the plan's
        only step."""
        kernel = self.kernel("both", with_inputs, everything)
        if kernel is not None and self._native_both(kernel, values, grads, shared, everything):
            return
        started = time.perf_counter()
        self._python_both(values, grads, shared, with_inputs, everything)
        self._paid("both", with_inputs, everything, started)

    def _python_both(self, values: np.ndarray, grads: np.ndarray, shared: SharedArrays,
                     with_inputs: bool, everything: bool) -> None:
        function = self.function("both", with_inputs, everything)
        if self.vector:
            if _vector(function, values, shared.data, grads, shared.grad):
                _vector(self.function("both", with_inputs, everything, careful=True), values,
                        shared.data, grads, shared.grad)
            return
        n = values.shape[1]
        upstream = (grads[self.upstream_rows].T.tolist() if len(self.upstream_rows)
                    else [[]] * n)
        operands = self.operands(values, shared)
        try:
            results = [function(r, u) for r, u in zip(operands, upstream)]
            if any(sent != sent for _, example in results for sent in example):
                function = self.function("both", with_inputs, everything, careful=True)
                results = [function(r, u) for r, u in zip(operands, upstream)]
        except FLOAT_ERRORS as error:
            raise CodeFallback(str(error)) from error
        rows = self._all_rows if everything else self._write_rows
        if len(rows):
            values[rows] = np.array([written for written, _ in results]).reshape(n, -1).T
        self._send(np.array([sent for _, sent in results]).reshape(n, -1).T, grads, shared)

    def forward_only(self, values: np.ndarray, shared: SharedArrays, everything: bool) -> None:
        """The forward alone, writing what other steps and the outputs read."""
        kernel = self.kernel("forward", False, everything)
        if kernel is not None:
            n = values.shape[1]
            rows = self._written(everything)
            W = np.empty((len(rows), n))
            if not kernel(n, R=self._reads(values, shared), W=W):
                if len(rows):
                    values[rows] = W
                return
        started = time.perf_counter()
        self._python_forward(values, shared, everything)
        self._paid("forward", False, everything, started)

    def _python_forward(self, values: np.ndarray, shared: SharedArrays,
                        everything: bool) -> None:
        if self.vector:
            _vector(self.function("forward", everything=everything), values, shared.data)
            return
        function = self.function("forward", everything=everything)
        try:
            results = [function(r) for r in self.operands(values, shared)]
        except FLOAT_ERRORS as error:
            raise CodeFallback(str(error)) from error
        rows = self._all_rows if everything else self._write_rows
        if len(rows):
            values[rows] = np.array(results).reshape(values.shape[1], -1).T
