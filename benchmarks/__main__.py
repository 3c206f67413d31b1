"""Run every benchmark, print one table, and write it to benchmarks/RESULTS.md.

    python -m benchmarks            # the full run (about two minutes)
    python -m benchmarks --quick    # fewer rounds, no 1M-node graph, no MNIST

All timings come from one process, the libraries alternating round by round, and
every ratio is a ratio of medians from that same run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

import numpy as np

import autograd_scalar as ag

from . import demo_step, explore_view, memory, microgpt, mnist, scale
from .timing import alternating

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    """The CPU, cores, Python and library versions, and the load when the run began."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, NumPy {np.__version__} ({blas()}); "
            f"load average at start {load}")


def blas() -> str:
    """NumPy's BLAS library and the environment variables that change its threads or kernel."""
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"BLAS {info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # older NumPy: no dict form of its build configuration
        name = "BLAS unknown"
    settings = [f"{key}={value}" for key, value in sorted(os.environ.items())
                if key.startswith(("OPENBLAS_", "OMP_", "MKL_"))]
    return ", ".join([name, *settings]) if settings else f"{name}, no BLAS variables set"


def demo_rows(rounds: int) -> tuple[list[tuple[str, float]], dict[str, float]]:
    X, y = demo_step.data()
    steps = {
        "micrograd 0.1.0": (demo_step.micrograd_step(X, y), 5),
        "ours, eager, same graph (+ * relu)": (demo_step.ours_same_graph_step(X, y), 8),
        "ours, eager, nn.MLP (affine)": (demo_step.ours_mlp_step(X, y), 15),
        "ours, compiled (nn.compiled)": (demo_step.ours_compiled_step(X, y), 100),
        "hand-written NumPy": (demo_step.numpy_step(X, y), 500),
    }
    times = alternating(steps, rounds)
    # torch is imported only now: its many long-lived objects would make every full
    # collection of the cyclic garbage collector slower for the libraries above
    torch = demo_step.torch_step(X, y)
    if torch is not None:
        times.update(alternating({"PyTorch (CPU)": (torch, 100)}, rounds))
    return list(times.items()), times


def table(args: argparse.Namespace) -> str:
    lines = [f"Machine: {machine()}.", ""]
    rows, times = demo_rows(2 if args.quick else 5)
    micro = times["micrograd 0.1.0"]
    lines += ["### micrograd's demo step (100 examples, MLP 2-16-16-1, hinge + L2, backward, "
              "SGD update)", "",
              "| implementation | time per step | micrograd / this |",
              "| --- | ---: | ---: |"]
    for name, seconds in rows:
        lines.append(f"| {name} | {_duration(seconds)} | {micro / seconds:,.1f}x |")
    compiled = times["ours, compiled (nn.compiled)"]
    numpy_time = times["hand-written NumPy"]
    same = times["ours, eager, same graph (+ * relu)"]
    mlp = times["ours, eager, nn.MLP (affine)"]
    ours_bytes = memory.bytes_per_node(ag.Value)
    from micrograd.engine import Value as MicrogradValue

    micro_bytes = memory.bytes_per_node(MicrogradValue)
    lines += ["", "### Targets", "",
              "| measure | target | measured |", "| --- | --- | ---: |",
              f"| eager, same graph: micrograd / ours | >= 5x | {micro / same:.1f}x |",
              f"| eager, each library's own MLP: micrograd / ours | >= 30x | "
              f"{micro / mlp:.1f}x |",
              f"| compiled: micrograd / ours | >= 300x | {micro / compiled:,.0f}x |",
              f"| compiled / hand-written NumPy | <= 5x | {compiled / numpy_time:.1f}x |",
              f"| memory per node (chain of x*c, relu; constants counted): micrograd / ours "
              f"| >= 4x | {micro_bytes / ours_bytes:.1f}x ({micro_bytes:.0f} B vs "
              f"{ours_bytes:.0f} B) |"]
    if not args.quick:
        seconds, accuracy = mnist.train()
        lines.append(f"| MNIST-5k, 784-16-16-10, 10 epochs of batch 64, compiled fit "
                     f"| < 20 s | {seconds:.1f} s (training accuracy {accuracy:.1%}) |")
    lines += ["", "### microgpt's training step (4,192-parameter GPT, one name per step)", "",
              f"Core: {'compiled' if ag.compiled() else 'pure Python'}. microgpt's algorithm "
              "verbatim with its own 30-line Value, then with ours dropped in; same weights, "
              "same names, alternating blocks of steps.", "",
              "| cyclic collector | microgpt's Value | ours | microgpt / ours (target >= 1.5x) "
              "| largest loss difference |", "| --- | ---: | ---: | ---: | ---: |"]
    rounds, steps = (3, 4) if args.quick else (7, 8)
    for collector in (True, False):
        reference, ours, worst = microgpt.compare(ag.Value, rounds, steps, collector)
        lines.append(f"| {'on' if collector else 'off'} | {_duration(reference)} "
                     f"| {_duration(ours)} | {reference / ours:.2f}x | {worst:.1e} |")
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    lines += ["", "### backward() at scale (chain of (x * w + x).tanh())", "",
              "| op nodes | backward time | time per node | peak memory during backward |",
              "| ---: | ---: | ---: | ---: |"]
    for nodes in sizes:
        seconds, peak = scale.measure(nodes)
        lines.append(f"| {nodes:,} | {_duration(seconds)} | {seconds / nodes * 1e9:.0f} ns "
                     f"| {peak:.1f} MiB |")
    lines += ["", "### The explore view: time to first paint and per interaction", ""]
    if explore_view.available():
        rounds = 2 if args.quick else explore_view.ROUNDS
        lines.append(explore_view.markdown(explore_view.measure(rounds=rounds), rounds))
    else:
        lines.append("Not measured: needs chromium and chromium-driver.")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds, no 1M-node graph and no MNIST")
    parser.add_argument("--no-write", action="store_true",
                        help=f"print only; do not write {RESULTS.name}")
    args = parser.parse_args(argv)
    text = table(args)
    print(text)
    if not args.no_write:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        RESULTS.write_text(f"# Benchmark results\n\nWritten by `python -m benchmarks` on "
                           f"{stamp}.\n\n{text}")
        print(f"written to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
