"""check_graph and explore at 10k and 100k nodes: time per node, seconds, megabytes.

    python -m benchmarks.check_explore_scale [--quick]

Two graphs of each size, built once per size:

- an MLP loss: ``nn.MLP(2, [16, 16, 1])`` squared errors over as many examples as
  make the size (affine nodes of 5 and 33 inputs, tanh, relu, a sum over examples);
- a long chain: ``y = (y * 0.5 + x).tanh()``, three op nodes a step.

Measured in one process, the graphs alternating round by round, each figure the
median over the rounds with its range:

- ``check_graph(output)``: microseconds per node (all nodes, leaves included);
- ``explore(output)``: the seconds to construct the widget (the view's data, the
  layouts of the boxes that open with it, the payload sent to the front end: a
  graph over 5,000 nodes lays out the other boxes when they are opened), and the
  size of the payload (the widget's synced ``payload`` trait, its initial message);
- ``view.save(path)``: the size of the self-contained page, every box laid out.

Targets: check_graph at most 10 µs a node; explore of 100k nodes within 2 s and its
payload within 5 MB.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import autograd_scalar as ag
import nn

SIZES = (10_000, 100_000)
ROUNDS = 5


def mlp_loss(nodes: int) -> tuple[nn.MLP, ag.Value]:
    """An MLP(2, [16, 16, 1]) squared-error loss over enough examples for ``nodes`` nodes."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    rng = np.random.default_rng(0)

    def example() -> ag.Value:
        return (model(rng.normal(size=2)) - 1.0) ** 2

    first = [example(), example()]
    one = len(ag.topological_order(ag.sum(first[:1])))
    each = len(ag.topological_order(ag.sum(first))) - one
    count = max(2, 1 + -(-(nodes - one) // each))
    loss = ag.sum(first + [example() for _ in range(count - 2)])
    loss.backward()
    return model, loss


def chain(nodes: int) -> ag.Value:
    """``y = (y * 0.5 + x).tanh()`` repeated: three op nodes a step, ``nodes`` op nodes."""
    x, y = ag.Value(0.3, "x"), ag.Value(0.1, "y0")
    for _ in range(nodes // 3):
        y = (y * 0.5 + x).tanh()
    y.backward()
    return y


def graphs(size: int) -> dict[str, tuple[ag.Value, Any]]:
    """The two graphs of about ``size`` nodes: (output, names for explore)."""
    model, loss = mlp_loss(size)
    return {"MLP loss": (loss, model), "chain": (chain(size), None)}


T = TypeVar("T")


@dataclass
class Measured:
    """One graph at one size: its nodes, check_graph's µs per node and explore's seconds
    (one sample per round), the payload's and the saved page's bytes."""

    graph: str
    nodes: int
    check: list[float] = field(default_factory=list)
    explore: list[float] = field(default_factory=list)
    payload: int = 0
    page: int = 0


def timed(step: Callable[[], T]) -> tuple[float, T]:
    gc.collect()
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def measure(sizes: tuple[int, ...] = SIZES, rounds: int = ROUNDS) -> list[Measured]:
    """Every graph at every size, the graphs alternating round by round."""
    from autograd_scalar.explorer import widget  # noqa: F401  (anywidget loads once, here)

    found: list[Measured] = []
    for size in sizes:
        built = graphs(size)
        rows = {name: Measured(name, len(ag.topological_order(output)))
                for name, (output, _) in built.items()}
        for _ in range(rounds):
            for name, (output, names) in built.items():
                row = rows[name]
                seconds, _ = timed(partial(ag.check_graph, output))
                row.check.append(seconds / row.nodes * 1e6)
                seconds, view = timed(partial(ag.explore, output, names=names))
                row.explore.append(seconds)
                row.payload = len(view.payload.encode("utf-8"))
        for name, (output, names) in built.items():
            view = ag.explore(output, names=names)
            with tempfile.TemporaryDirectory() as folder:
                rows[name].page = view.save(Path(folder) / "view.html").stat().st_size
        found.extend(rows.values())
    return found


def _spread(samples: list[float], digits: int) -> str:
    ordered = sorted(samples)
    return (f"{statistics.median(ordered):.{digits}f} ({ordered[0]:.{digits}f}-"
            f"{ordered[-1]:.{digits}f})")


def rows(rounds: int = ROUNDS, sizes: tuple[int, ...] = SIZES) -> list[str]:
    """The benchmark's section of the results table, as Markdown lines."""
    found = measure(sizes, rounds)
    lines = ["### check_graph and explore at scale", "",
             f"One process, {rounds} rounds, the graphs alternating; medians (range). "
             "An MLP(2, [16, 16, 1]) squared-error loss over many examples, and a chain "
             "y = (y * 0.5 + x).tanh(). explore: the widget built (data, opening layouts, "
             "payload); payload: its synced trait; page: `view.save()`, every box laid out. "
             "The targets are set for 100k nodes; smaller graphs are held to them too.", "",
             "| graph | nodes | check_graph per node (target <= 10 µs) | explore() (target "
             "<= 2 s) | payload (target <= 5 MB) | saved page |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in found:
        lines.append(f"| {row.graph} | {row.nodes:,} | {_spread(row.check, 1)} µs | "
                     f"{_spread(row.explore, 2)} s | {row.payload / 1e6:.2f} MB | "
                     f"{row.page / 1e6:.2f} MB |")
    return lines


def main(argv: list[str] | None = None) -> int:
    from .__main__ import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.check_explore_scale",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds instead of 5")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}.\n")
    print("\n".join(rows(2 if args.quick else ROUNDS)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
