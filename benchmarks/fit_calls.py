"""Compiled training as people run it: ``fit`` called again and again, one epoch each.

A notebook cell ``fit(model, X, y, epochs=1, ...)`` run repeatedly (or a callback
loop, or a playground step) pays whatever a call costs beside its steps. This
measures one call of ``nn.fit(compiled="auto", epochs=1)`` of a relu MLP on 1,024
examples in batches of 64 (16 SGD steps, cross-entropy for 10 classes), after a
first call that traced and checked the model, against one epoch of the same
training by hand in NumPy: the same shuffle (``fit``'s generator), the same
batches taken with the same fancy indexing, the same loss recorded per batch.

    python -m benchmarks.fit_calls          # 784-128-128-10, one BLAS thread and default

On BLAS's default threads the hand epoch uses them all, while fit holds its steps to
one (``Tape.threads = 1``, see ``autograd_scalar.tape.threads``); a third row lets fit
use them too, so that the ratio is the cost of a call on equal threads.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import nn

from . import hand_numpy
from .timing import alternating_rounds, ratio_by_round

SIZES = (784, 128, 128, 10)
EXAMPLES = 1024
BATCH = 64
LR = 0.01


def problem(sizes: tuple[int, ...] = SIZES, n: int = EXAMPLES, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], n)


def ours(sizes: tuple[int, ...], X: np.ndarray, y: np.ndarray, dtype: str = "float64"
         ) -> tuple[Callable[[], float], float]:
    """One call of fit per call of the step; and the seconds of the first call (the trace
    and the check)."""
    model = nn.MLP(sizes[0], list(sizes[1:]), init="he", seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    calls = [0]
    options: dict[str, Any] = {} if dtype == "float64" else {"dtype": dtype}

    def step() -> float:
        calls[0] += 1
        history = nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=1,
                         batch_size=BATCH, seed=calls[0], progress=False, **options)
        return history.loss[-1]

    start = time.perf_counter()
    step()
    return step, time.perf_counter() - start


def by_hand(sizes: tuple[int, ...], X: np.ndarray, y: np.ndarray, dtype: str = "float64"
            ) -> Callable[[], float]:
    """One epoch by hand per call: shuffle, then per batch forward, backward, SGD."""
    model = nn.MLP(sizes[0], list(sizes[1:]), init="he", seed=0)
    kind = np.dtype(dtype)
    layers = hand_numpy.layers_of(model, kind)
    data = X.astype(kind)
    targets = np.eye(sizes[-1], dtype=kind)[y]
    calls = [0]

    def step() -> float:
        calls[0] += 1
        rng = nn.init.generator(calls[0])
        order = rng.permutation(len(data))
        total = 0.0
        for first in range(0, len(data), BATCH):
            batch = order[first:first + BATCH]
            inputs, T = data[batch], targets[batch]
            hs, zs = hand_numpy.forward(layers, inputs)
            shifted = zs[-1] - zs[-1].max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            sums = exp.sum(axis=1, keepdims=True)
            total += float(np.sum(np.log(sums[:, 0]) - (shifted * T).sum(axis=1)))
            d = (exp / sums - T) / len(batch)
            grads = hand_numpy.backward(layers, hs, zs, d)
            for (W, b), gW, gb in zip(layers, grads[::2], grads[1::2]):
                W -= LR * gW
                b -= LR * gb
        return total / len(data)

    return step


def measure(sizes: tuple[int, ...] = SIZES, rounds: int = 9, threads: int | None = 1,
            dtype: str = "float64", tape_threads: int | None = 1) -> dict[str, Any]:
    """Seconds per call (median and range over the rounds), the ratio per round, and
    the first call's seconds, with BLAS on ``threads`` threads (None: its default) and
    ``Tape.threads`` (fit's own limit during its steps, 1 by default) at ``tape_threads``."""
    import contextlib

    from threadpoolctl import threadpool_limits

    import autograd_scalar as ag

    X, y = problem(sizes)
    limit = threadpool_limits(limits=threads) if threads else contextlib.nullcontext()
    default, ag.Tape.threads = ag.Tape.threads, tape_threads
    try:
        with limit:
            fit_step, first = ours(sizes, X, y, dtype)
            hand_step = by_hand(sizes, X, y, dtype)
            samples = alternating_rounds({"fit": (fit_step, 3), "hand": (hand_step, 3)},
                                         rounds)
    finally:
        ag.Tape.threads = default
    return {"first": first, "fit": samples["fit"], "hand": samples["hand"],
            "ratio": ratio_by_round(samples, "fit", "hand")}


def _range(times: list[float]) -> str:
    return (f"{statistics.median(times) * 1e3:.1f} ms ({min(times) * 1e3:.1f}-"
            f"{max(times) * 1e3:.1f})")


SETTINGS = (
    (1, 1, "1 BLAS thread"),
    (None, 1, "default BLAS threads (fit's steps on one, as Tape.threads = 1 holds them)"),
    (None, None, "default BLAS threads, fit's too (Tape.threads = None)"),
)
"""(BLAS threads, Tape.threads, how the row says it): the hand epoch runs on BLAS's
threads; fit's steps on at most Tape.threads of them."""


def rows(rounds: int = 9) -> list[str]:
    """Markdown rows: per thread setting, fit per call, hand epoch, ratio, first call."""
    lines = []
    for threads, tape_threads, said in SETTINGS:
        found = measure(rounds=rounds, threads=threads, tape_threads=tape_threads)
        ratio, low, high = found["ratio"]
        lines.append(f"| {'-'.join(map(str, SIZES))}, {said} | {_range(found['fit'])} | "
                     f"{_range(found['hand'])} | {ratio:.2f}x ({low:.2f}-{high:.2f}) | "
                     f"{found['first']:.2f} s |")
    return lines


HEADER = ["| network, BLAS | `fit(epochs=1)` per call after the first, median (range) "
          "| hand NumPy epoch | fit / hand (target <= 1.3x) | first call (trace and check) |",
          "| --- | ---: | ---: | ---: | ---: |"]


def main(argv: list[str] | None = None) -> int:
    rounds = 3 if argv and "--quick" in argv else 9
    print("\n".join(HEADER + rows(rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
