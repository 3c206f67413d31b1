"""Rogozhnikov's narrow graph: the compiled tape against a flat-index Python tape.

A. Rogozhnikov's "Fastest autograd in the West" (2023) benchmarks graphs that are
the opposite of a network: scalar ops wired irregularly, each reading earlier
nodes at fixed offsets, every graph traced once and run many times. From 100
inputs, op k appends (by k mod 4):

    0  softplus(nodes[-10])
    1  sum(nodes[-30:-10:5])            four nodes
    2  nodes[-20] * nodes[-10]
    3  softmax(nodes[-4:])              four nodes, appended all

then the forward and backward of the last node. At 10,000 ops the traced graph
has 24,990 nodes over 7,501 levels of two or three nodes each: a batched tape's
groups hold a node or two. The reference is what one writes for this by hand: a
flat-index tape (:class:`FlatTape`), the graph recorded once as instructions over
one list of floats, run by a loop with one branch per op, forward then backward.

Measured, in one process, the implementations alternating round by round:

- ours compiled, batch 1: ``tape.gradients`` (outputs and input gradients), against
  the flat tape's run, same inputs, its straight-line code run as Python
  (``tape.native = "off"``) and as machine code (``"always"``: translated to C and
  compiled; ``"auto"``, the default, compiles once the Python runs have taken as
  long as the compilation is expected to);
- ours eager: the graph rebuilt from Values at every run, then ``backward()``;
- the trace, ``autograd_scalar.compile`` of the graph, and separately the first
  run, which writes the straight-line code and compiles it (as Python, or to C and
  then machine code, each on a fresh trace and with no compiled library kept);
- ours compiled on a batch of 1,000 examples, per example, both ways (Python: NumPy
  over the batch's columns; machine code: the same code in the lanes dialect, several
  examples a call in the machine's vector registers, with glibc's vector math
  functions where the C library has them; its first run writes and compiles it);
  the same at 1,000 ops, the size the batch target (10 µs an example) was set at.

Every figure is a median, with its range, over the rounds; each ratio is taken
within a round. ``python -m benchmarks.narrow_graph [--quick]`` prints the table.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_scalar as ag
from autograd_scalar.tape import native as native_code
from autograd_scalar.tape.code import Code
from autograd_scalar.tape.source import compile_function

from .timing import alternating_rounds, ratio_by_round, run_alone

OPS = 10_000
INPUTS = 100
BATCH = 1_000
BATCH_OPS = 1_000
"""The graph size of the batch target (10 µs an example), set against 120 µs an example
measured at 1,000 ops. At 10,000 ops the math functions alone take about 32 µs an example
at NumPy's vector speed, so both sizes are printed and the target read at 1,000."""


def graph(inputs: Sequence[Any], n_ops: int, softplus: Callable[[Any], Any],
          total: Callable[[list[Any]], Any], softmax: Callable[[list[Any]], list[Any]]) -> Any:
    """The last node of Rogozhnikov's graph over ``inputs`` (see the module docstring),
    built with the given ops (Values, or a flat tape's indices)."""
    nodes = list(inputs)
    for op in range(n_ops):
        kind = op % 4
        if kind == 0:
            nodes.append(softplus(nodes[-10]))
        elif kind == 1:
            nodes.append(total(nodes[-30:-10:5]))
        elif kind == 2:
            nodes.append(nodes[-20] * nodes[-10])
        else:
            nodes.extend(softmax(nodes[-4:]))
    return nodes[-1]


def value_softmax(xs: list[ag.Value]) -> list[ag.Value]:
    """softmax(x)_i = exp(x_i - logsumexp(x)), as Value nodes."""
    shift = ag.logsumexp(xs)
    return [(x - shift).exp() for x in xs]


def value_graph(inputs: Sequence[ag.Value], n_ops: int = OPS) -> ag.Value:
    return graph(inputs, n_ops, ag.Value.softplus, ag.sum, value_softmax)


class FlatTape:
    """A flat-index tape: instructions (op, operand indices, first output) over one list
    of floats, recorded once, run by a loop with one branch per op."""

    SOFTPLUS, SUM, MUL, SOFTMAX = range(4)

    def __init__(self, inputs: int) -> None:
        self.size = inputs
        self.code: list[tuple[int, Any, int]] = []

    def _emit(self, op: int, operands: Any, outputs: int = 1) -> int:
        self.code.append((op, operands, self.size))
        self.size += outputs
        return self.size - outputs

    def run(self, x: list[float]) -> tuple[list[float], list[float]]:
        """Every node's value, and d(last node)/d(node) for every node."""
        exp, log1p = math.exp, math.log1p
        v = x + [0.0] * (self.size - len(x))
        for op, a, out in self.code:
            if op == 0:
                z = v[a]
                v[out] = max(z, 0.0) + log1p(exp(-abs(z)))
            elif op == 1:
                v[out] = sum(map(v.__getitem__, a))
            elif op == 2:
                v[out] = v[a[0]] * v[a[1]]
            else:
                top = max(v[i] for i in a)
                es = [exp(v[i] - top) for i in a]
                s = sum(es)
                for k, e in enumerate(es):
                    v[out + k] = e / s
        g = [0.0] * self.size
        g[-1] = 1.0
        for op, a, out in reversed(self.code):
            if op == 0:
                z = v[a]
                e = exp(-abs(z))
                g[a] += g[out] * (1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e))
            elif op == 1:
                for i in a:
                    g[i] += g[out]
            elif op == 2:
                i, j = a
                g[i] += g[out] * v[j]
                g[j] += g[out] * v[i]
            else:
                n = len(a)
                dot = sum(g[out + k] * v[out + k] for k in range(n))
                for k in range(n):
                    g[a[k]] += v[out + k] * (g[out + k] - dot)
        return v, g


class FlatNode:
    """An index into a flat tape, recording ``*`` as an instruction."""

    __slots__ = ("tape", "index")

    def __init__(self, tape: FlatTape, index: int) -> None:
        self.tape, self.index = tape, index

    def __mul__(self, other: FlatNode) -> FlatNode:
        return FlatNode(self.tape, self.tape._emit(FlatTape.MUL, (self.index, other.index)))


def flat_tape(n_ops: int = OPS) -> FlatTape:
    """Rogozhnikov's graph recorded on a flat tape."""
    tape = FlatTape(INPUTS)

    def softmax(xs: list[FlatNode]) -> list[FlatNode]:
        first = tape._emit(FlatTape.SOFTMAX, tuple(x.index for x in xs), len(xs))
        return [FlatNode(tape, first + k) for k in range(len(xs))]

    graph([FlatNode(tape, i) for i in range(INPUTS)], n_ops,
          lambda x: FlatNode(tape, tape._emit(FlatTape.SOFTPLUS, x.index)),
          lambda xs: FlatNode(tape, tape._emit(FlatTape.SUM, tuple(x.index for x in xs))),
          softmax)
    return tape


def inputs(n: int, seed: int = 0) -> np.ndarray:
    """n examples: his inputs 0, 1, ..., 99, each moved by a standard normal number."""
    rng = np.random.default_rng(seed)
    return np.arange(INPUTS, dtype=np.float64) + rng.normal(size=(n, INPUTS))


def trace(n_ops: int = OPS) -> ag.Tape:
    return ag.compile(lambda x: value_graph(x, n_ops), np.arange(INPUTS, dtype=np.float64))


def steps(n_ops: int = OPS) -> tuple[dict[str, Callable[[], Any]], ag.Tape]:
    """The runs at batch 1 on one example, each returning the last node's value and the
    inputs' gradients, and the tape (traced, its code compiled by a first run both ways):
    the flat tape, ours compiled with Python code and with machine code, ours eager."""
    x = inputs(1)
    flat = flat_tape(n_ops)
    tape = trace(n_ops)
    row = x[0].tolist()

    def flat_run() -> tuple[float, list[float]]:
        v, g = flat.run(row)
        return v[-1], g[:INPUTS]

    def compiled_run(native: str = "off") -> tuple[float, list[float]]:
        tape.native = native
        found = tape.gradients(x)
        return float(found.outputs[0]), found.inputs[0][0].tolist()

    def native_run() -> tuple[float, list[float]]:
        return compiled_run("always")

    def eager_run() -> tuple[float, list[float]]:
        leaves = [ag.Value(v) for v in row]
        out = value_graph(leaves, n_ops)
        out.backward()
        return out.data, [leaf.grad for leaf in leaves]

    native_run()
    return {"flat": flat_run, "compiled": compiled_run, "native": native_run,
            "eager": eager_run}, tape


def largest_difference(n_ops: int = 1_000) -> float:
    """The largest relative difference of ours (compiled and eager) from the flat tape, on
    the last node's value and on its gradient with respect to the inputs (relative to
    the largest of each). At 1,000 ops, since at 10,000 the inputs' gradients (products
    of thousands of factors below 1) underflow to 0 everywhere."""
    runs, tape = steps(n_ops)
    out, grads = runs["flat"]()
    scale = max(map(abs, grads))

    def batch_run() -> tuple[float, list[float]]:  # vector code in lanes, 9 examples
        tape.strategy, tape.native = "vector", "always"
        found = tape.gradients(np.repeat(inputs(1), 9, axis=0))
        worst = max(range(9), key=lambda k: abs(found.outputs[k] - out))
        return float(found.outputs[worst]), found.inputs[0][worst].tolist()

    worst = 0.0
    for run in (runs["compiled"], runs["native"], runs["eager"], batch_run):
        found, found_grads = run()
        worst = max(worst, abs(found - out) / abs(out),
                    *(abs(a - b) / scale for a, b in zip(found_grads, grads)))
    return worst


MATH = ("exp", "log", "log1p")
"""The math functions the graph's code calls (softplus, log-sum-exp and exp, forward and
backward)."""


def math_calls(tape: ag.Tape, example: Sequence[float]) -> Counter[str]:
    """How many times each of :data:`MATH` runs in one example's forward and backward: the
    tape's straight-line code (``tape.source()``) run once as Python with counting
    functions in their place (a conditional's untaken branch runs nothing)."""
    counts: Counter[str] = Counter()

    def counting(name: str) -> Callable[[float], float]:
        function = getattr(math, name)

        def call(x: float) -> float:
            counts[name] += 1
            return function(x)
        return call

    source = tape.source()
    both = compile_function(source, {name: counting(name) for name in MATH}, False,
                            "<counted>")
    lines = source.splitlines()
    operands = [name.strip() for name in lines[1].split("=")[0].split(",") if name.strip()]
    seeds = next(line for line in lines if line.endswith("= u")).split("=")[0]
    both(tuple(example[int(name[1:])] for name in operands),
         (1.0,) * len([name for name in seeds.split(",") if name.strip()]))
    return counts


def math_floor(counts: Counter[str], batch: int, repeats: int = 200) -> float:
    """Seconds per example that ``counts`` calls per example take at the least: each at
    NumPy's vector speed (the fastest this machine offers: SIMD where NumPy has it) on
    arrays of ``batch`` numbers, and nothing else computed."""
    positive = np.random.default_rng(0).uniform(0.0, 5.0, batch)
    out = np.empty(batch)
    seconds = 0.0
    for name, count in counts.items():
        function = getattr(np, name)
        x = -positive if name == "exp" else positive  # exp's arguments here are <= 0
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                function(x, out=out)
            times.append((time.perf_counter() - start) / repeats)
        seconds += count * min(times) / batch
    return seconds


def measure(rounds: int, n_ops: int = OPS, batch: int = BATCH) -> dict[str, Any]:
    """Samples of every figure of the table (seconds), over ``rounds`` rounds."""
    found: dict[str, Any] = {"traces": [], "first": [], "first_native": []}
    for _ in range(max(3, rounds // 2)):
        for native in ("off", "always"):
            gc.collect()
            native_code.BUILT.clear()  # each first run compiles its own
            start = time.perf_counter()
            tape = trace(n_ops)
            middle = time.perf_counter()
            tape.native = native
            tape.gradients(inputs(1))
            found["traces"].append(middle - start)
            found["first" if native == "off" else "first_native"].append(
                time.perf_counter() - middle)
            del tape
    found["difference"] = largest_difference()
    runs, tape = steps(n_ops)
    found["plan"] = tape.program(1).splitlines()[1].strip()
    blocks = {"flat": (runs["flat"], 10), "compiled": (runs["compiled"], 30),
              "native": (runs["native"], 100), "eager": (runs["eager"], 3)}
    found["samples"] = alternating_rounds(blocks, rounds)
    X = inputs(batch, seed=1)
    for native in ("off", "always"):
        tape.native = native
        start = time.perf_counter()
        tape.gradients(X)  # the first run at this size writes its code
        found[f"first_batch_{native}"] = time.perf_counter() - start
    found["batch_plan"] = tape.program(batch).splitlines()[1].strip()

    def batch_run(native: str) -> Callable[[], Any]:
        def run() -> Any:
            tape.native = native
            return tape.gradients(X)
        return run

    batch_samples = alternating_rounds({"off": (batch_run("off"), 1),
                                        "always": (batch_run("always"), 1)}, rounds, warmup=0)
    found["batch"] = [t / batch for t in batch_samples["off"]]
    found["batch_native"] = [t / batch for t in batch_samples["always"]]
    found["lanes"] = next((kernel.lanes for step in tape.plan(batch)
                           if isinstance(step, Code) for kernel in step.kernels.kernels.values()
                           if isinstance(kernel, native_code.Kernel)), None)
    found["tape"] = repr(tape)
    found["calls"] = math_calls(tape, X[0].tolist())
    found["floor"] = math_floor(found["calls"], batch)
    found["small"] = batch_per_example(rounds, BATCH_OPS, batch)
    return found


def batch_per_example(rounds: int, n_ops: int, batch: int) -> dict[str, Any]:
    """Seconds per example of the ``n_ops`` graph compiled at ``batch``, as machine code
    (over the rounds, after a first run that writes and compiles it), and the math
    floor of that size (:func:`math_floor`)."""
    tape = trace(n_ops)
    tape.native = "always"
    X = inputs(batch, seed=1)
    tape.gradients(X)
    samples = alternating_rounds({"always": (lambda: tape.gradients(X), 1)}, rounds, warmup=0)
    calls = math_calls(tape, X[0].tolist())
    return {"per_example": [t / batch for t in samples["always"]], "calls": calls,
            "floor": math_floor(calls, batch)}


def _spread(samples: Sequence[float], scale: float = 1.0, unit: str = "s",
            digits: int = 2) -> str:
    """"median (lowest-highest)" of samples times ``scale``."""
    ordered = sorted(x * scale for x in samples)
    middle = statistics.median(ordered)
    return f"{middle:.{digits}f} {unit} ({ordered[0]:.{digits}f}-{ordered[-1]:.{digits}f})"


def _ratio(found: tuple[float, float, float]) -> str:
    middle, low, high = found
    return f"{middle:.1f}x ({low:.1f}-{high:.1f})"


def _calls(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[name]:,} {name}" for name in MATH)


def rows(rounds: int, n_ops: int = OPS, batch: int = BATCH) -> list[str]:
    """The benchmark's section of the results table, as Markdown lines."""
    found = measure(rounds, n_ops, batch)
    samples, small = found["samples"], found["small"]
    math_kind = ("glibc's vector math functions" if native_code.vector_math()
                 else "the C library's math functions lane by lane")
    lanes = ("not built: it ran as Python" if found["lanes"] is None else
             f"{found['lanes']} examples a call, {math_kind}")
    return [
        f"### Rogozhnikov's narrow graph ({n_ops:,} ops; {found['tape']})", "",
        "His benchmark graph (softplus, a sum of 4, a product, a softmax of 4, reading "
        "earlier nodes at fixed offsets), forward and backward of the last node. The "
        "reference is a flat-index pure-Python tape (`benchmarks/narrow_graph.py`, the "
        "graph recorded once as instructions over a list of floats). One process, "
        f"{rounds} rounds of alternating blocks; medians (range) over the rounds, each "
        "ratio taken within a round. Batch 1 runs as "
        f"`{found['plan']}`; batch {batch:,} as `{found['batch_plan']}`.", "",
        "| measure | target | measured |", "| --- | --- | ---: |",
        f"| flat tape, one run | reference | "
        f"{_spread(samples['flat'], 1e3, 'ms')} |",
        f"| ours compiled, batch 1 (`tape.gradients`), Python code | | "
        f"{_spread(samples['compiled'], 1e3, 'ms')} |",
        f"| ours compiled, batch 1, machine code | | "
        f"{_spread(samples['native'], 1e6, 'µs', 0)} |",
        f"| flat tape / ours compiled, batch 1, Python code | | "
        f"{_ratio(ratio_by_round(samples, 'flat', 'compiled'))} |",
        f"| flat tape / ours compiled, batch 1, machine code | >= 10x | "
        f"{_ratio(ratio_by_round(samples, 'flat', 'native'))} |",
        f"| ours eager, graph rebuilt each run, then `backward()` | | "
        f"{_spread(samples['eager'], 1e3, 'ms')} |",
        f"| flat tape / ours eager | >= 1x | "
        f"{_ratio(ratio_by_round(samples, 'flat', 'eager'))} |",
        f"| trace (`autograd_scalar.compile`) | <= 1 s | {_spread(found['traces'])} |",
        f"| first run at batch 1, Python code (writes and compiles it) | | "
        f"{_spread(found['first'])} |",
        f"| first run at batch 1, machine code (writes the code, translates it to C, "
        f"compiles it) | | {_spread(found['first_native'])} |",
        f"| ours compiled, batch {batch:,}, per example, Python code (first run at this "
        f"size {found['first_batch_off']:.2f} s) | | {_spread(found['batch'], 1e6, 'µs', 0)} |",
        f"| ours compiled, batch {batch:,}, per example, machine code ({lanes}; "
        f"first run at this size "
        f"{found['first_batch_always']:.2f} s) | | "
        f"{_spread(found['batch_native'], 1e6, 'µs', 0)} |",
        f"| the least time per example at batch {batch:,}: the code's math-function "
        f"calls per example ({_calls(found['calls'])}, counted by running "
        f"`tape.source()` once) at NumPy's vector speed per number, nothing else | | "
        f"{found['floor'] * 1e6:.0f} µs |",
        f"| the graph at {BATCH_OPS:,} ops (where the target was set), batch {batch:,}, "
        f"per example, machine code | <= 10 µs | "
        f"{_spread(small['per_example'], 1e6, 'µs', 1)} |",
        f"| its least time per example ({_calls(small['calls'])}), as above | | "
        f"{small['floor'] * 1e6:.1f} µs |",
        f"| largest difference from the flat tape at 1,000 ops (value and input gradients, "
        f"relative, ours compiled both ways, at batch 1 and as vector code in lanes, and "
        f"eager; at {n_ops:,} the gradients "
        f"underflow to 0) | <= 1e-12 | "
        f"{found['difference']:.1e} |",
    ]


def main(argv: list[str] | None = None) -> int:
    return run_alone("python -m benchmarks.narrow_graph", __doc__, rows, argv)


if __name__ == "__main__":
    raise SystemExit(main())
