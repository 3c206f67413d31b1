"""BLAS threads in compiled training: the old load-average rule against fixed rules.

The same compiled MLP training step (``nn.compiled.CompiledTraining``, relu hidden
layers, mean loss, backward, SGD; :mod:`benchmarks.compiled_step`) runs under three
rules for BLAS's threads, each on its own copy of the model from the same weights:

- ``load average``: the rule the tape's default ``Tape.threads = "auto"`` used to
  apply, kept here only as the comparison (:class:`LoadAverageRule`): before every
  run whose largest product reaches 65,536 multiply-adds, BLAS is lowered to as many
  threads as the 1-minute load average (less this process's own averaged CPU use)
  leaves idle cores, at least 1, sampled at most once a second; restored after;
- ``left alone``: BLAS's threads are not touched (``Tape.threads = None``);
- ``1 thread``: BLAS limited to one thread for the tape's run (``Tape.threads = 1``,
  the default, :mod:`autograd_scalar.tape.threads`).

Each is measured as the machine is found and again while a second process keeps one
core busy (a Python loop, started and stopped by the benchmark): the case a limit
is for. The rules alternate in blocks of steps round by round; times are medians
(range) over the rounds, each ratio the median (range) of the ratios within a round.
``python -m benchmarks.blas_threads [--quick]`` prints the table.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import compiled_step
from .timing import alternating_rounds, ratio_by_round, run_alone

SIZES: tuple[tuple[tuple[int, ...], int], ...] = (
    ((2, 16, 16, 1), 64), ((784, 128, 128, 10), 64), ((784, 128, 128, 10), 1024))
RULES = ("load average", "left alone", "1 thread")
SMALL_PRODUCT = 65_536


def idle_limit(load: float, cores: int, own: float) -> int:
    """The old rule's limit: ``max(1, floor(cores - max(0, load - own) + 1/2))``."""
    return max(1, math.floor(cores - max(0.0, load - own) + 0.5))


class LoadAverageRule:
    """The old ``"auto"`` rule, as a context around a run: BLAS lowered to the idle cores
    the load average leaves (sampled at most once a second), restored after."""

    def __init__(self) -> None:
        from threadpoolctl import ThreadpoolController

        self.libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
        self.own, self.since = 0.0, (time.monotonic(), time.process_time())
        self.next, self.current = -math.inf, 1
        self.chosen: list[int] = []

    def limit(self) -> int:
        now = time.monotonic()
        if now >= self.next:
            (then, cpu_then), cpu_now = self.since, time.process_time()
            if now > then:
                keep = math.exp(-(now - then) / 60.0)
                rate = max(0.0, cpu_now - cpu_then) / (now - then)
                self.own = keep * self.own + (1.0 - keep) * rate
            self.since, self.next = (now, cpu_now), now + 1.0
            self.current = idle_limit(os.getloadavg()[0], self.cores, self.own) \
                if hasattr(os, "getloadavg") else 1
        return self.current

    @contextlib.contextmanager
    def run(self, work: int) -> Iterator[None]:
        if work < SMALL_PRODUCT:
            yield
            return
        threads, restore = self.limit(), []
        self.chosen.append(threads)
        for library in self.libraries:
            count = library.get_num_threads()
            if count is not None and count > threads:
                library.set_num_threads(threads)
                restore.append((library, count))
        try:
            yield
        finally:
            for library, count in restore:
                library.set_num_threads(count)


def largest_product(sizes: Sequence[int], n: int) -> int:
    """Multiply-adds of the step's largest matrix product: a layer times the batch."""
    return max(a * b for a, b in itertools.pairwise(sizes)) * n


def steps(sizes: tuple[int, ...], n: int, old: LoadAverageRule
          ) -> dict[str, Callable[[], float]]:
    """The step under each rule, each on its own model from the same weights."""
    X, T, loss = compiled_step.problem(sizes, n)
    work = largest_product(sizes, n)
    found: dict[str, Callable[[], float]] = {}
    for rule in RULES:
        step = compiled_step.ours(sizes, X, T, loss)
        tape = step.training.tape  # type: ignore[attr-defined]
        tape.threads = 1 if rule == "1 thread" else None
        if rule == "load average":
            def limited(step: Callable[[], float] = step) -> float:
                with old.run(work):
                    return step()

            found[rule] = limited
        else:
            found[rule] = step
    return found


@contextlib.contextmanager
def busy_core(busy: bool) -> Iterator[None]:
    """A second process spinning on one core for the duration, if ``busy``."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def measure(rounds: int, sizes: Sequence[tuple[tuple[int, ...], int]] = SIZES,
            conditions: Sequence[bool] = (False, True)) -> list[dict[str, Any]]:
    """Per size and condition: samples (seconds per step) of every rule, and the
    thread counts the load-average rule chose."""
    found = []
    for busy in conditions:
        with busy_core(busy):
            for network, n in sizes:
                old = LoadAverageRule()
                calls = 20 if network[1] < 64 else 5 if n < 256 else 2
                samples = alternating_rounds(
                    {rule: (step, calls) for rule, step in steps(network, n, old).items()},
                    rounds)
                found.append({"sizes": network, "n": n, "busy": busy, "samples": samples,
                              "chosen": old.chosen})
    return found


def _spread(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    low, middle, high = ordered[0], statistics.median(ordered), ordered[-1]
    if middle >= 1e-3:
        return f"{middle * 1e3:.2f} ms ({low * 1e3:.2f}-{high * 1e3:.2f})"
    return f"{middle * 1e6:.0f} µs ({low * 1e6:.0f}-{high * 1e6:.0f})"


def _ratio(found: tuple[float, float, float]) -> str:
    middle, low, high = found
    return f"{middle:.2f}x ({low:.2f}-{high:.2f})"


def _chosen(counts: Sequence[int]) -> str:
    if not counts:
        return "not limited"
    return ", ".join(f"{k}: {counts.count(k)}" for k in sorted(set(counts)))


def rows(rounds: int, sizes: Sequence[tuple[tuple[int, ...], int]] = SIZES,
         conditions: Sequence[bool] = (False, True)) -> list[str]:
    """The benchmark's section of the results table, as Markdown lines."""
    lines = ["### BLAS threads in compiled training steps: three rules side by side", "",
             "One process; relu MLP, mean loss, backward, SGD step "
             "(`nn.compiled.CompiledTraining`). Rules: the old load-average rule "
             "(the default `Tape.threads = \"auto\"` before), BLAS left alone "
             "(`Tape.threads = None`), BLAS on one thread for the tape's run "
             "(`Tape.threads = 1`, the default now). \"one core "
             "busy\": a second process spins on one core throughout. "
             f"{rounds} rounds of alternating blocks; time per step, median (range) over "
             "the rounds; ratios taken within a round (below 1x: faster than the "
             "load-average rule).", "",
             "| network, batch | largest product | machine | load average | left alone "
             "| 1 thread | left alone / load average | 1 thread / load average "
             "| threads the load average chose (runs) |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for row in measure(rounds, sizes, conditions):
        samples = row["samples"]
        lines.append(
            f"| {compiled_step.label(row['sizes'])}, {row['n']:,} | "
            f"{largest_product(row['sizes'], row['n']):,} | "
            f"{'one core busy' if row['busy'] else 'as found'} | "
            + " | ".join(_spread(samples[rule]) for rule in RULES) + " | "
            f"{_ratio(ratio_by_round(samples, 'left alone', 'load average'))} | "
            f"{_ratio(ratio_by_round(samples, '1 thread', 'load average'))} | "
            f"{_chosen(row['chosen'])} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    return run_alone("python -m benchmarks.blas_threads", __doc__, rows, argv)


if __name__ == "__main__":
    raise SystemExit(main())
