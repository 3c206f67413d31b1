"""backward() over 10k, 100k and 1M nodes: time and peak memory, for linear growth.

The graph is a deep chain with fan-in: each step multiplies the running value by a
weight leaf, adds the previous value and takes tanh, so every node is used twice
and the order must be found over a million nodes without recursion.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import autograd_scalar as ag


def build(nodes: int) -> tuple[ag.Value, list[ag.Value]]:
    """About ``nodes`` op nodes: (x * w_i + x).tanh() per step, three ops per step."""
    weights = [ag.Value(0.5 + 1e-6 * i) for i in range(nodes // 3)]
    x = ag.Value(0.1)
    for w in weights:
        x = (x * w + x).tanh()
    return x, weights


def measure(nodes: int) -> tuple[float, float]:
    """(seconds, peak MiB allocated during backward) for a graph of ``nodes`` op nodes."""
    root, _ = build(nodes)
    gc.collect()
    start = time.perf_counter()
    root.backward()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    root.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak / 2**20
