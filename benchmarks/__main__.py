"""Run every benchmark, print one table, and write it to benchmarks/RESULTS.md.

    python -m benchmarks            # the full run (about 13 minutes on 2 cores)
    python -m benchmarks --quick    # fewer rounds, no 1M-node graph, no MNIST

All timings come from one process, the libraries alternating round by round, and
every ratio is a ratio of medians from that same run. Each figure with a target is
marked met or missed, and the misses are listed on top (:mod:`benchmarks.verdicts`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib.util
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import autograd_scalar as ag

from . import (
    blas_threads,
    check_explore_scale,
    compiled_step,
    demo_step,
    explore_view,
    fit_calls,
    fit_memory,
    float32_step,
    gpt_compiled,
    memory,
    microgpt,
    mnist,
    narrow_graph,
    notebook_view,
    playground,
    scale,
    verdicts,
)
from .timing import alternating, alternating_rounds, ratio_by_round

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
    try:
        from threadpoolctl import threadpool_info

        pools = [f"{pool['num_threads']} threads, kernel {pool.get('architecture', '?')}"
                 for pool in threadpool_info() if pool["user_api"] == "blas"]
        name = f"{name} ({'; '.join(pools)})" if pools else name
    except ImportError:
        pass
    settings = [f"{key}={value}" for key, value in sorted(os.environ.items())
                if key.startswith(("OPENBLAS_", "OMP_", "MKL_", "GOTO"))]
    return ", ".join([name, *settings]) if settings else f"{name}, no BLAS variables set"


def demo_rows(rounds: int) -> tuple[list[tuple[str, float]], dict[str, float],
                                    dict[str, list[float]]]:
    """Each implementation's median seconds per step, as rows and by name, and the
    samples of the rounds (for ratios taken within a round)."""
    X, y = demo_step.data()
    steps = {
        "micrograd 0.1.0": (demo_step.micrograd_step(X, y), 5),
        "ours, eager, same graph (+ * relu)": (demo_step.ours_same_graph_step(X, y), 8),
        "ours, eager, nn.MLP (affine)": (demo_step.ours_mlp_step(X, y), 15),
        "ours, compiled (nn.compiled)": (demo_step.ours_compiled_step(X, y), 100),
        "hand-written NumPy": (demo_step.numpy_step(X, y), 500),
    }
    samples = alternating_rounds(steps, rounds)
    times = {name: statistics.median(seconds) for name, seconds in samples.items()}
    # torch is imported only now: its many long-lived objects would make every full
    # collection of the cyclic garbage collector slower for the libraries above
    torch = demo_step.torch_step(X, y)
    if torch is not None:
        times.update(alternating({"PyTorch (CPU)": (torch, 100)}, rounds))
    return list(times.items()), times, samples


def microgpt_rows(args: argparse.Namespace, interpreted: bool) -> list[str]:
    """``python -m benchmarks.microgpt`` in a fresh process, which loads the compiled core
    or (``interpreted``) the interpreted one: its steps are timed apart from the state
    the other benchmarks leave in this process."""
    import subprocess

    variables = {"AUTOGRAD_SCALAR_PURE_PYTHON": "1"} if interpreted else {}
    done = subprocess.run([sys.executable, "-m", "benchmarks.microgpt",
                           *(["--quick"] if args.quick else [])],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, **variables},
                          cwd=Path(__file__).resolve().parents[1])
    return done.stdout.splitlines()


def table(args: argparse.Namespace) -> str:
    lines = [f"Machine: {machine()}.", ""]
    rows, times, samples = demo_rows(2 if args.quick else 5)
    micro = times["micrograd 0.1.0"]
    lines += ["### micrograd's demo step (100 examples, MLP 2-16-16-1, hinge + L2, backward, "
              "SGD update)", "",
              "| implementation | time per step | micrograd / this |",
              "| --- | ---: | ---: |"]
    for name, seconds in rows:
        lines.append(f"| {name} | {_duration(seconds)} | {micro / seconds:,.1f}x |")
    compiled = times["ours, compiled (nn.compiled)"]
    over_numpy = ratio_by_round(samples, "ours, compiled (nn.compiled)", "hand-written NumPy")
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
              f"| compiled / hand-written NumPy, within each round: median (range) | <= 5x | "
              f"{over_numpy[0]:.1f}x ({over_numpy[1]:.1f}-{over_numpy[2]:.1f}) |",
              f"| memory per node (chain of x*c, relu; constants counted): micrograd / ours "
              f"| >= 4x | {micro_bytes / ours_bytes:.1f}x ({micro_bytes:.0f} B vs "
              f"{ours_bytes:.0f} B) |"]
    lines += compiled_rows(args)
    lines += ["", *blas_threads.rows(3 if args.quick else 9)]
    lines += ["", *narrow_graph.rows(3 if args.quick else 9)]
    lines += ["", "### microgpt's training step (4,192-parameter GPT, one name per step)", "",
              *microgpt_rows(args, interpreted=False)]
    lines += ["", "### microgpt's training step on the interpreted core (no C compiler)", "",
              *microgpt_rows(args, interpreted=True)]
    rounds, steps = (3, 4) if args.quick else (7, 8)
    lines += ["", "### microgpt's step as nn.gpt's GPT module, eager", "",
              "nn.gpt.GPT (Embedding and target through the gather row, softmax through "
              "logsumexp, nn.optim.Adam with LinearLR) from microgpt's weights, against "
              "microgpt's own code and Value; same names, alternating blocks of steps.", "",
              "| cyclic collector | microgpt's Value | nn.gpt.GPT | microgpt / ours "
              "| largest loss difference (target <= 1e-12) |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for collector in (True, False):
        reference, ours, worst = microgpt.compare_module(rounds, steps, collector)
        lines.append(f"| {'on' if collector else 'off'} | {_duration(reference)} "
                     f"| {_duration(ours)} | {reference / ours:.2f}x | {worst:.1e} |")
    lines += gpt_rows(args)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    lines += ["", "### backward() at scale (chain of (x * w + x).tanh())", "",
              "| op nodes | backward time | time per node | peak memory during backward |",
              "| ---: | ---: | ---: | ---: |"]
    for nodes in sizes:
        seconds, peak = scale.measure(nodes)
        lines.append(f"| {nodes:,} | {_duration(seconds)} | {seconds / nodes * 1e9:.0f} ns "
                     f"| {peak:.1f} MiB |")
    lines += ["", *check_explore_scale.rows(2 if args.quick else check_explore_scale.ROUNDS)]
    lines += ["", "### The explore view: time to first paint and per interaction", ""]
    if explore_view.available():
        rounds = 2 if args.quick else explore_view.ROUNDS
        try:
            lines.append(explore_view.markdown(explore_view.measure(rounds=rounds), rounds))
        except Exception as error:  # the page changed under the driver: say so, keep the rest
            lines.append(f"Not measured: the page driver failed ({type(error).__name__}: "
                         f"{str(error).splitlines()[0]}).")
    else:
        lines.append("Not measured: needs chromium and chromium-driver.")
    lines += ["", "### The explore view in a notebook: Enter to first paint, a big Value's display",
              ""]
    if notebook_view.available():
        rounds = 2 if args.quick else notebook_view.ROUNDS
        lines.append(notebook_view.markdown(notebook_view.measure(rounds=rounds), rounds))
    else:
        lines.append("Not measured: needs chromium and chromium-driver.")
    lines += ["", "### The training playground: updates per second while playing", "",
              playground.markdown(rounds=2 if args.quick else playground.ROUNDS)]
    return "\n".join(lines) + "\n"


def compiled_rows(args: argparse.Namespace) -> list[str]:
    """Compiled training at network sizes: step times against hand NumPy and PyTorch,
    single-threaded and with default threads; MNIST fit time; trace time; memory."""
    from threadpoolctl import threadpool_limits

    rounds = 3 if args.quick else 9
    pairs = compiled_step.pairs()
    has_torch = any("torch" in steps for _, steps in pairs)
    lines = ["", "### Compiled training step at batch 64 (relu MLP, mean loss, backward, SGD)",
             "", "Ours is `nn.compiled.CompiledTraining` (the tape on parameter arrays; once "
             "a product reaches 65,536 multiply-adds it runs BLAS on one thread, "
             "`Tape.threads = 1`, the default), hand "
             "NumPy the same network "
             "with matrices, PyTorch 2 CPU eager in float64 "
             + ("" if has_torch else "(not installed: `pip install torch`; optional, as "
                "its wheels are too large for the project's own install) ")
             + f"from the same weights. {rounds} rounds of alternating blocks; times are "
             "medians over the rounds, each ratio the median (and range) over the rounds of "
             "the ratio within a round.", "",
             "| network | parameters | BLAS threads | hand NumPy | ours | ours / NumPy "
             "(target <= 2x) | PyTorch | PyTorch / NumPy | ours / PyTorch (target <= 1x) |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for threads in (1, None):
        limit = threadpool_limits(limits=threads) if threads else contextlib.nullcontext()
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(threads or os.cpu_count() or 1)
        with limit:
            for sizes, steps in pairs:
                blocks = {name: (step, 20 if sizes[0] < 10 else 5)
                          for name, step in steps.items()}
                samples = alternating_rounds(blocks, rounds)
                ours, hand = (statistics.median(samples[k]) for k in ("ours", "numpy"))
                torch_cells = "- | - | -"
                if "torch" in samples:
                    torch_cells = (f"{_duration(statistics.median(samples['torch']))} | "
                                   f"{_ratio(ratio_by_round(samples, 'torch', 'numpy'))} | "
                                   f"{_ratio(ratio_by_round(samples, 'ours', 'torch'))}")
                lines.append(f"| {compiled_step.label(sizes)} | "
                             f"{compiled_step.parameter_count(sizes):,} | "
                             f"{threads or 'default'} | {_duration(hand)} | {_duration(ours)} | "
                             f"{_ratio(ratio_by_round(samples, 'ours', 'numpy'))} | "
                             f"{torch_cells} |")
    lines += ["", "| measure | target | measured |", "| --- | --- | ---: |"]
    traces = sorted(compiled_step.trace_seconds() for _ in range(1 if args.quick else 5))
    lines.append(f"| trace of 784-256-256-10 with its loss, median (range) | < 1 s | "
                 f"{statistics.median(traces):.2f} s ({traces[0]:.2f}-{traces[-1]:.2f}) |")
    ours_bytes, numpy_bytes = compiled_step.step_memory()
    lines.append(f"| memory of one step of 784-256-256-10 at batch 1,024: ours / hand NumPy "
                 f"| <= 3x | {ours_bytes / numpy_bytes:.1f}x ({ours_bytes / 2**20:.1f} MiB vs "
                 f"{numpy_bytes / 2**20:.1f} MiB) |")
    if not args.quick:
        for threads in (1, None):
            limit = threadpool_limits(limits=threads) if threads else contextlib.nullcontext()
            with limit:
                fits = [(mnist.train(), mnist.numpy_train()) for _ in range(3)]
            fit_time = statistics.median(f[0][0] for f in fits)
            hand_time = statistics.median(f[1][0] for f in fits)
            ratios = sorted(f[0][0] / f[1][0] for f in fits)
            lines.append(
                f"| MNIST-5k, 784-16-16-10, 10 epochs of batch 64 of Adam: `nn.fit` (default "
                f"compiled=\"auto\", trace and check included) / hand NumPy, "
                f"{'one BLAS thread' if threads else 'default BLAS threads'}, 3 pairs | <= 2x | "
                f"{_ratio((ratios[1], ratios[0], ratios[-1]))} ({fit_time:.2f} s vs "
                f"{hand_time:.2f} s; training accuracy {fits[0][0][1]:.2%} vs "
                f"{fits[0][1][1]:.2%}) |")
    return lines + training_rows(args)


def training_rows(args: argparse.Namespace) -> list[str]:
    """Compiled training as people run it: repeated one-epoch fit calls, whole-process
    memory in fresh processes, and float32 against PyTorch on one thread."""
    rounds = 3 if args.quick else 9
    has_torch = importlib.util.find_spec("torch") is not None
    lines = ["", "### fit called again and again (one epoch of 16 batches of 64 per call)", "",
             "`nn.fit(model, X, y, epochs=1, batch_size=64)` on 1,024 examples, SGD, "
             "cross-entropy, after a first call that traced and checked the model, "
             "against one epoch of the same training by hand in NumPy (the same shuffle "
             f"and batches); {rounds} rounds of alternating blocks of 3 calls, each ratio "
             "taken within a round (median and range over the rounds).", "",
             *fit_calls.HEADER, *fit_calls.rows(rounds)]
    runs = 1 if args.quick else 3
    lines += ["", "### Memory of compiled training, 784-256-256-10 at batch 1,024", "",
              f"Model and {fit_memory.EPOCHS} epochs of one batch of 1,024 (nn.fit with its "
              "defaults: trace, eager check of 4 examples, steps) against the same steps by "
              f"hand in NumPy, each side in a fresh process, {runs} pair(s); medians "
              "(ranges). RSS is the peak over the process's resident set after its imports "
              "and data; tracemalloc the peak of Python's traced allocations during fit (or "
              "the hand steps), the model already built.", "",
              "| measure | target | ours / hand NumPy |", "| --- | --- | ---: |",
              *fit_memory.rows(runs)]
    lines += ["", "### float32 training step at batch 64, one thread", "",
              "`CompiledTraining(..., dtype=\"float32\")` against the same step by hand in "
              "float32 NumPy and "
              + ("PyTorch 2 CPU eager in float32" if has_torch else
                 "(PyTorch is not installed: `pip install torch` adds its columns)")
              + f", BLAS and PyTorch on one thread, from the same weights; {rounds} rounds "
              "of alternating blocks, ratios within a round (median and range).", "",
              *float32_step.HEADER, *float32_step.rows(rounds)]
    return lines


def _ratio(found: tuple[float, float, float]) -> str:
    """A ratio's median and range: "1.6x (1.5-1.8)"."""
    middle, low, high = found
    return f"{middle:.2f}x ({low:.2f}-{high:.2f})"


def gpt_rows(args: argparse.Namespace) -> list[str]:
    """microgpt's 1,000-step recipe compiled against microgpt's own Value; batched
    training (32 names per step) against PyTorch on the same batches."""
    import gc

    from reproductions.microgpt import names

    g = gpt_compiled
    rounds = 1 if args.quick else 3
    ours_runs = []
    for _ in range(rounds):
        gc.collect()
        ours_runs.append(g.compiled_recipe())
    ours_times = [seconds for seconds, _ in ours_runs]
    losses = ours_runs[0][1]
    reference_steps = 20 if args.quick else g.RECIPE_STEPS
    reference_time, reference_losses = g.reference_recipe(reference_steps)
    docs = g.microgpt_order(names())
    full = reference_steps == g.RECIPE_STEPS
    # the reference's time for the whole recipe: measured, or scaled by tokens predicted
    scale_up = 1.0 if full else (g.positions(docs[:g.RECIPE_STEPS])
                                 / g.positions(docs[:reference_steps]))
    reference_total = reference_time * scale_up
    worst = max(abs(a - b) for a, b in zip(losses, reference_losses))
    median = statistics.median(ours_times)
    lines = ["", "### microgpt's 1,000-step recipe, compiled (nn.gpt.train(compiled=True))", "",
             f"One name per step, Adam (0.01, 0.85, 0.99) with linear decay, from microgpt's "
             f"initial weights; ours traces one program per name length (the traces are in "
             f"the time), median of {rounds} run(s). microgpt's own code and 30-line Value "
             + ("ran the whole recipe once." if full else
                f"ran the first {reference_steps} steps, scaled to 1,000 steps by the tokens "
                "predicted (`--quick`; the full run times all 1,000)."), "",
             "| measure | target | measured |", "| --- | --- | ---: |",
             f"| microgpt's Value / ours, 1,000 steps | >= 30x | "
             f"{reference_total / median:.1f}x ({_duration(reference_total)} vs "
             f"{_duration(median)}, ours {_duration(min(ours_times))} to "
             f"{_duration(max(ours_times))}) |",
             f"| largest loss difference over the {reference_steps} steps compared | <= 1e-9 "
             f"| {worst:.1e} |"]
    ours_final = float(np.mean(losses[-g.TAIL:]))
    if full:
        theirs_final = float(np.mean(reference_losses[-g.TAIL:]))
        lines.append(f"| final loss (mean of the last {g.TAIL} steps): ours - microgpt's "
                     f"| within 0.05 | {ours_final - theirs_final:+.1e} ({ours_final:.4f} vs "
                     f"{theirs_final:.4f}) |")
    else:
        lines.append(f"| final loss (mean of the last {g.TAIL} steps) | within 0.05 of "
                     f"microgpt's | ours {ours_final:.4f}; microgpt's not run in `--quick` |")
    lines += batched_rows(args)
    return lines


def batched_rows(args: argparse.Namespace) -> list[str]:
    """Tokens per second of batched training, ours against PyTorch, alternating rounds."""
    try:
        import torch  # only now: see demo_rows
    except ImportError:
        return ["", "Batched GPT training against PyTorch: not measured (PyTorch is not "
                "installed: `pip install torch`)."]
    g = gpt_compiled
    rounds, steps, batch = (2, 3, 32) if args.quick else (15, 20, 32)
    model, _, batches = g.batches(batch, rounds * steps)
    twin, _, _ = g.batches(batch, rounds * steps)
    ours = g.ours_batched_step(model, batches, rounds * steps)
    theirs = g.torch_step(twin, batches, rounds * steps)
    assert theirs is not None
    torch.set_num_threads(1)
    ours(), theirs()  # warm-up
    tokens = g.tokens_per_batch(batches)
    rates: dict[str, list[float]] = {"ours": [], "torch": []}
    gc.collect()
    gc.freeze()  # what exists now (PyTorch's objects, both models) is not scanned again
    try:
        for r in range(rounds):
            count = sum(tokens[(1 + r * steps + i) % len(tokens)] for i in range(steps))
            for name, step in (("ours", ours), ("torch", theirs)):
                start = time.perf_counter()
                for _ in range(steps):
                    step()
                rates[name].append(count / (time.perf_counter() - start))
    finally:
        gc.unfreeze()
        torch.set_num_threads(os.cpu_count() or 1)
    ratio, low, high = g.ratio_range(rates["torch"], rates["ours"])
    return ["", f"### Batched GPT training: {batch} names per step, tokens per second", "",
            "The same GPT (microgpt's sizes and initial weights) and the same padded batches "
            "with a mask; ours compiled (`nn.gpt.train(batch_size=32, compiled=True)`), "
            "PyTorch CPU eager in float64; both on one thread (ours traced beforehand), "
            "alternating rounds of "
            f"{steps} steps, {rounds} rounds. Tokens are the predicted ones, padding not "
            "counted. The objects made before the rounds are frozen out of Python's cyclic "
            "collector (`gc.freeze()`): with PyTorch imported, a full collection scans its "
            "objects too, about 150 ms, and would land in whichever round it fell.", "",
            "| ours | PyTorch | ours / PyTorch (aim >= 1x) |", "| ---: | ---: | ---: |",
            f"| {statistics.median(rates['ours']):,.0f} tokens/s | "
            f"{statistics.median(rates['torch']):,.0f} tokens/s | {ratio:.2f}x "
            f"({low:.2f}x to {high:.2f}x) |"]


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
    text, found = verdicts.mark(table(args))
    machine_line, rest = text.split("\n", 1)
    text = f"{machine_line}\n\n{verdicts.summary(found)}\n{rest}"
    print(text)
    if not args.no_write:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        RESULTS.write_text(f"# Benchmark results\n\nWritten by `python -m benchmarks` on "
                           f"{stamp}.\n\n{text}")
        print(f"written to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
