"""Timing helpers: alternating blocks in one process, medians of per-step times."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping


def alternating(steps: Mapping[str, tuple[Callable[[], object], int]], rounds: int,
                warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of each step, measured in alternating blocks
    (see :func:`alternating_rounds`)."""
    samples = alternating_rounds(steps, rounds, warmup)
    return {name: statistics.median(times) for name, times in samples.items()}


def ratio_by_round(samples: Mapping[str, list[float]], name: str, reference: str
          ) -> tuple[float, float, float]:
    """(median, lowest, highest) over the rounds of ``name``'s time over ``reference``'s
    in the same round: blocks that ran seconds apart, so a change of the machine's load
    between rounds cancels out."""
    ratios = [a / b for a, b in zip(samples[name], samples[reference])]
    return statistics.median(ratios), min(ratios), max(ratios)


def alternating_rounds(steps: Mapping[str, tuple[Callable[[], object], int]], rounds: int,
                       warmup: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each step in each round, measured in alternating blocks.

    Each entry is (step, calls per block). In every round each library runs its
    block of consecutive steps, as in its own training loop, so it pays for its own
    garbage (micrograd's closures make reference cycles that only the cyclic
    collector frees). Before each block a full collection keeps the previous
    library's garbage out of this one's time, and one untimed step puts the library
    back in the state of a running training loop, with the garbage of the step
    before still to be collected; the block's timed steps follow. Alternating the
    blocks round by round spreads any slowdown of the machine over all libraries alike.
    """
    for step, _ in steps.values():
        for _ in range(warmup):
            step()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (step, calls) in steps.items():
            gc.collect()
            step()
            start = time.perf_counter()
            for _ in range(calls):
                step()
            samples[name].append((time.perf_counter() - start) / calls)
    gc.collect()
    return samples


def run_alone(prog: str, doc: str | None, rows: Callable[[int], list[str]],
              argv: list[str] | None = None) -> int:
    """A benchmark module run on its own (``python -m benchmarks.<name> [--quick]``): the
    machine line, then its rows at 9 rounds (3 with ``--quick``)."""
    import argparse

    from .__main__ import machine

    parser = argparse.ArgumentParser(prog=prog, description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 9")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}.\n")
    print("\n".join(rows(3 if args.quick else 9)))
    return 0
