"""Which strategy runs each group of a compiled program: a cost model, measured.

A group of k like nodes with a operands each can run three ways on a batch of n:

- **grouped** (:mod:`autograd_scalar.tape.groups`): a few NumPy calls for the
  whole group, forward and backward, whatever k: cost ~ w (group + group_element k n);
  a group that runs through its row's ``stacked`` form (``sum``, ``dot``,
  ``logsumexp``, with every operand read alike) makes its calls on all operands at
  once, so its calls cost as a one-operand row's, 2 group, and only its elements
  w group_element k n;
- **vector** code (:mod:`autograd_scalar.tape.source`): a NumPy expression per node
  over the batch's columns: ~ w k (vector + vector_element n);
- **scalar** code: a Python float expression per node, per example: ~ w k n scalar;

with w = 1 + a (the forward, and one term of the backward per operand). A NumPy
call costs microseconds however small its arrays, a float statement tens of
nanoseconds: narrow groups at small batches run as scalar code, wide groups and
large batches grouped, and in between vector code wins. Each code segment also
pays once per call (``segment``, plus ``segment_example`` per example, for scalar
code; ``vector_segment`` for vector code), so a lone narrow group between grouped ones stays
grouped unless its code saves more than that.

The unit costs are measured, not guessed: :func:`calibrate` runs two small chain
programs (one node per level: what straight-line code is for) through each
strategy at two batch sizes, and reads the constants off the times.
:func:`costs` calibrates once per process; ``tape_cost.COSTS`` may be set to
fixed :class:`Costs` instead (the tests do, for plans that do not depend on the
machine).

Code that runs as machine code from its first run (``Tape.native = "always"``) costs
nanoseconds a node, and is planned with its own constants (:func:`calibrate_machine`,
``tape_cost.MACHINE_COSTS``): the same chains, compiled, timed as whole runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

STRATEGIES = ("auto", "grouped", "scalar", "vector")
"""What ``Tape.strategy`` may be: the cost model's choice, or one strategy for every
group (dense layers included) ("auto" may still pick grouped for everything)."""


@dataclass(frozen=True)
class Costs:
    """Seconds per unit of work of each strategy (see the module docstring)."""

    scalar: float
    vector: float
    vector_element: float
    group: float
    group_element: float
    segment: float
    segment_example: float
    vector_segment: float
    lanes: int = 1
    """Examples that vector code computes at once (machine code's vector registers; 1 for
    NumPy): on a smaller batch it computes padding, and scalar code runs instead."""

    def grouped(self, k: int, arity: int, n: int, stacked: bool = False) -> float:
        calls = 2 if stacked else 1 + arity
        return calls * self.group + (1 + arity) * self.group_element * k * n

    def code(self, k: int, arity: int, n: int, vector: bool) -> float:
        work = (1 + arity) * k
        if vector and n < self.lanes:
            return float("inf")
        if vector:
            return work * (self.vector + self.vector_element * n)
        return work * self.scalar * n

    def overhead(self, n: int, vector: bool) -> float:
        """The cost of one call of a code segment on a batch of n (scalar code is
        called once per example)."""
        return self.vector_segment if vector else self.segment + self.segment_example * n


COSTS: Costs | None = None
"""The process's measured costs (None until first needed), or costs set by hand."""


def costs(runner: Callable[..., Any]) -> Costs:
    """The unit costs, measured on first use with the runner class ``runner`` (see
    :func:`calibrate`)."""
    global COSTS
    if COSTS is None:
        COSTS = calibrate(runner)
    return COSTS


@dataclass(frozen=True)
class Choice:
    """A group of the program, as the cost model sees it: its size and operand count,
    whether it must stay grouped (a dense layer and its activation), and whether it
    runs grouped through its row's stacked form
    (:func:`~autograd_scalar.tape.groups.runs_stacked`)."""

    k: int
    arity: int
    fixed: bool
    stacked: bool = False


def choose(groups: Sequence[Choice], n: int, strategy: str, model: Costs | None
           ) -> list[str]:
    """Each group's strategy ("grouped", "scalar" or "vector") for a batch of n.

    ``groups`` are in the order they run. For "auto" each group takes its cheapest
    strategy; a run of grouped groups between two code segments of the same kind
    joins them if its code costs no more than running it grouped plus the call of
    the segment that joining saves; then each segment is checked as a whole, its
    call included, against running its groups grouped.
    """
    if strategy != "auto":
        return [strategy] * len(groups)
    assert model is not None
    chosen = []
    for group in groups:
        if group.fixed:
            chosen.append("grouped")
            continue
        options = {"grouped": model.grouped(group.k, group.arity, n, group.stacked),
                   "scalar": model.code(group.k, group.arity, n, False),
                   "vector": model.code(group.k, group.arity, n, True)}
        chosen.append(min(options, key=options.__getitem__))
    runs = _runs(chosen)
    for (before, _, _), (kind, start, stop), (after, _, _) in zip(runs, runs[1:], runs[2:]):
        # grouped groups between two code segments of one kind: as code, they join the two
        # into one, which saves a segment's call
        span = groups[start:stop]
        if kind != "grouped" or before != after or any(g.fixed for g in span):
            continue
        vector = before == "vector"
        code = sum(model.code(g.k, g.arity, n, vector) for g in span)
        grouped = sum(model.grouped(g.k, g.arity, n, g.stacked) for g in span)
        if code <= grouped + model.overhead(n, vector):
            chosen[start:stop] = [before] * (stop - start)
    for kind, start, stop in _runs(chosen):
        if kind != "grouped":
            span = groups[start:stop]
            code = model.overhead(n, kind == "vector") + sum(
                model.code(g.k, g.arity, n, kind == "vector") for g in span)
            if code > sum(model.grouped(g.k, g.arity, n, g.stacked) for g in span):
                chosen[start:stop] = ["grouped"] * (stop - start)
    return chosen


def _runs(chosen: Sequence[str]) -> list[tuple[str, int, int]]:
    """The maximal runs of one strategy: (strategy, start, stop)."""
    found = []
    start = 0
    while start < len(chosen):
        stop = start + 1
        while stop < len(chosen) and chosen[stop] == chosen[start]:
            stop += 1
        found.append((chosen[start], start, stop))
        start = stop
    return found


CHAINS = (6, 48)
"""Nodes of the two calibration chains: x -> tanh -> * w -> + x -> tanh -> ..."""

WIDE = 256
"""The larger batch of the calibration (the smaller is 1)."""

FEW = 16
"""The larger batch of scalar code's calibration (a loop over the examples)."""

ACROSS = 4
"""Nodes per level of the calibration program for a grouped step's cost per example."""


def calibrate(runner: Callable[..., Any], repeats: int = 5) -> Costs:
    """Measure the unit costs on two chains, of :data:`CHAINS` nodes, one node per level.

    Grouped: each chain's run (forward and backward) on a batch of 1; the difference
    between the chains, over the difference of their work (sum over nodes of 1 +
    operands), is a unit's cost. Its cost per example comes from :data:`ACROSS`
    chains side by side, each node reading its neighbour's (groups of several nodes,
    gathered and scattered), on batches of 1 and :data:`WIDE`. Code: the long chain's compiled
    function itself, called on the tape's arrays (scalar code on one example,
    vector code on 1 and :data:`WIDE` columns), over its work; a segment's cost per
    call (and per example) is what a whole run of the short chain costs beyond its
    function and the grouped run's fixed cost (which every run pays). Times are CPU
    times, the fastest of ``repeats``, so that other work on the machine counts least.
    ``runner`` is :class:`~autograd_scalar.tape.run.Runner` (passed in: it imports
    this module).
    """
    import numpy as np

    from ..value import Value
    from .program import trace

    (short, short_work), (long, long_work) = _chains(runner, "off")
    w = Value(0.5)

    def crossed(x: Any) -> Any:
        """:data:`ACROSS` chains side by side, each node reading its neighbour's."""
        vs = list(x)
        for _ in range(CHAINS[1] // 3):
            vs = [(vs[(j + 1) % ACROSS].tanh() * w) + vs[j] for j in range(ACROSS)]
        return vs

    program = trace(crossed, (ACROSS,), [0.1 * j for j in range(ACROSS)], ())
    wide = runner(program, (ACROSS,))
    wide.native = "off"  # Python's costs, whatever AUTOGRAD_SCALAR_NATIVE says
    wide_work = _work(program)

    def function(made: Any, strategy: str, n: int, calls: int) -> float:
        """The time of the plan's one code function alone, on a batch of n."""
        _run_time(made, strategy, n, repeats)  # compiles it and sizes the arrays
        (step,) = made.plan_for(n, strategy).steps
        code = step.function("both", False, False)
        values, grads = made.buffer(n, 0), made.buffer(n, 1)
        arrays = made.arrays
        if strategy == "vector":
            def once() -> Any:
                with np.errstate(all="ignore"):
                    for _ in range(calls):
                        code(values, arrays.data, grads, arrays.grad)
        else:
            operands = step.operands(values, arrays)[0]
            upstream = [1.0] * len(step.upstream_rows)

            def once() -> Any:
                for _ in range(calls):
                    code(operands, upstream)
        return _fastest(once, repeats) / calls

    def run(made: Any, strategy: str, n: int) -> float:
        return _run_time(made, strategy, n, repeats)

    group = (run(long, "grouped", 1) - run(short, "grouped", 1)) / (long_work - short_work)
    # per example, on groups of ACROSS nodes whose operands are gathered and scattered
    group_element = (run(wide, "grouped", WIDE) - run(wide, "grouped", 1)) / (
        wide_work * (WIDE - 1))
    fixed = run(short, "grouped", 1) - short_work * group  # what every run pays
    scalar = function(long, "scalar", 1, 50) / long_work
    vector = function(long, "vector", 1, 5) / long_work
    vector_wide = function(long, "vector", WIDE, 5) / long_work
    segment = run(short, "scalar", 1) - function(short, "scalar", 1, 50) - fixed
    few = run(short, "scalar", FEW) - FEW * function(short, "scalar", 1, 50) - fixed
    vector_segment = run(short, "vector", 1) - function(short, "vector", 1, 5) - fixed
    example = max(few - segment, 0.0) / (FEW - 1)
    return Costs(scalar=scalar, vector=vector,
                 vector_element=max(vector_wide - vector, 0.0) / (WIDE - 1),
                 group=max(group, 0.0), group_element=max(group_element, 0.0),
                 segment=max(segment - example, 0.0), segment_example=example,
                 vector_segment=max(vector_segment, 0.0))


LANES = 8
"""The smaller batch of the machine code calibration of vector code: a multiple of the
lanes of every vector unit's float64 registers (up to 512 bits), so no run pads."""

MACHINE_CALLS = 20
"""Runs per timing in :func:`calibrate_machine`: a run of machine code takes tens of
microseconds, which one timing alone overstates (its first touch of the arrays)."""

MACHINE_COSTS: Costs | None = None
"""Costs of machine code set by hand (as :data:`COSTS` may be; the tests do), else None:
they are measured, once per process and C compiler (:func:`machine_costs`)."""

_MEASURED: dict[tuple[str, ...] | None, Costs] = {}
"""The measured machine code costs, by compiler command."""

_MEASURING = threading.Lock()
"""Held while machine code costs are measured: plans made meanwhile in other threads wait
for the figures (and two calibrations would compile the same files at once)."""


def machine_costs(runner: Callable[..., Any]) -> Costs:
    """The unit costs of code compiled to machine code: :data:`MACHINE_COSTS` if set,
    else measured on first use with this compiler (see :func:`calibrate_machine`), or
    Python's costs where no kernel could be built with it."""
    if MACHINE_COSTS is not None:
        return MACHINE_COSTS
    from .native import compiler

    command = compiler()
    key = None if command is None else tuple(command)
    with _MEASURING:
        found = _MEASURED.get(key)
        if found is None:
            found = _MEASURED[key] = calibrate_machine(runner, costs(runner)) or costs(runner)
    return found


def calibrate_machine(runner: Callable[..., Any], python: Costs, repeats: int = 5
                      ) -> Costs | None:
    """Code's unit costs as machine code: the chains of :func:`calibrate` run whole,
    forward and backward, compiled at their first run (``native = "always"``).

    Machine code costs nanoseconds a node, too little to time one function call
    against the call's own cost, so the figures come from whole runs, each timed
    over :data:`MACHINE_CALLS` runs: the long chain's time beyond the short one's,
    over the work between them, is a unit's cost on that batch. Scalar code is timed
    on batches of 1 and :data:`WIDE`; vector code (lanes of examples at once) on
    :data:`LANES` and :data:`WIDE`, batches that fill its lanes (on a batch smaller than
    its kernel's lanes, scalar code runs). What the short chain's
    run costs beyond its work and the fixed cost of every run (the grouped runs', as
    :func:`calibrate` reads it) is a segment's call. Grouped steps make the same NumPy
    calls either way: those costs are ``python``'s. None where a kernel was not built
    (no compiler).
    """
    (short, short_work), (long, long_work) = _chains(runner, "always")
    extra = long_work - short_work

    def run(made: Any, strategy: str, n: int) -> float:
        return _run_time(made, strategy, n, repeats, MACHINE_CALLS)

    grouped = [run(made, "grouped", 1) for made in (short, long)]
    fixed = grouped[0] - short_work * max(grouped[1] - grouped[0], 0.0) / extra
    batches = {"scalar": (1, WIDE), "vector": (LANES, WIDE)}
    times = {(strategy, n): (run(short, strategy, n), run(long, strategy, n))
             for strategy, pair in batches.items() for n in pair}
    kernels = [_kernel(made, strategy, n) for made in (short, long) for strategy, n in times]
    if any(kernel is None for kernel in kernels):
        return None

    def unit(strategy: str, n: int) -> float:
        """A unit of work's cost on a batch of n: the long run's beyond the short's."""
        found_short, found_long = times[strategy, n]
        return max(found_long - found_short, 0.0) / extra

    def call(strategy: str, n: int, per_unit: float) -> float:
        """A segment's call on a batch of n: the short run beyond its work and ``fixed``."""
        return times[strategy, n][0] - fixed - short_work * per_unit

    scalar = unit("scalar", WIDE) / WIDE
    vector_element = max(unit("vector", WIDE) - unit("vector", LANES), 0.0) / (WIDE - LANES)
    vector = max(unit("vector", LANES) - LANES * vector_element, 0.0)
    segments = [call("scalar", n, scalar * n) for n in (1, WIDE)]
    segment_example = max(segments[1] - segments[0], 0.0) / (WIDE - 1)
    vector_segment = call("vector", LANES, vector + LANES * vector_element)
    return replace(python, scalar=scalar, vector=vector, vector_element=vector_element,
                   segment=max(segments[0] - segment_example, 0.0),
                   segment_example=segment_example, vector_segment=max(vector_segment, 0.0),
                   lanes=max(kernel.lanes for kernel in kernels))


def _chains(runner: Callable[..., Any], native: str) -> list[tuple[Any, int]]:
    """The two calibration chains, each a runner of its own (its code run under the
    ``native`` policy) and its work: x -> tanh -> * w -> + x -> tanh -> ...,
    :data:`CHAINS` nodes long."""
    from ..value import Value
    from .program import trace

    w = Value(0.5)
    found = []
    for length in CHAINS:
        def chain(x: Any, length: int = length) -> Any:
            v = x[0]
            for i in range(length // 3):
                v = (v.tanh() * w) + x[i % 2]
            return v

        program = trace(chain, (2,), [0.25, -0.5], ())
        made = runner(program, (2,))
        made.native = native
        found.append((made, _work(program)))
    return found


def _work(program: Any) -> int:
    """A program's work: the sum over its nodes of 1 + operands."""
    return sum((1 + group.children.shape[0]) * group.size for group in program.groups)


def _run_time(made: Any, strategy: str, n: int, repeats: int, calls: int = 1) -> float:
    """The time of a whole run of ``made`` (forward and backward) on a batch of n: the
    fastest of ``repeats`` timings of ``calls`` runs, over ``calls``."""
    import numpy as np

    rng = np.random.default_rng(0)
    columns = [rng.uniform(-1, 1, size=(n, made.widths[0]))]
    seed = np.ones((len(made.outputs), n))

    def once() -> Any:
        with np.errstate(all="ignore"):
            for _ in range(calls):
                made.run(columns, seed, False, strategy=strategy)

    return _fastest(once, repeats) / calls


def _kernel(made: Any, strategy: str, n: int) -> Any:
    """The machine code the plan's one code step ran as (None if it was not built)."""
    (step,) = made.plan_for(n, strategy).steps
    return step.kernel("both", False, False)


def _fastest(run: Callable[[], Any], repeats: int) -> float:
    """The least CPU time of ``repeats`` calls of ``run`` (after one untimed call)."""
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best
