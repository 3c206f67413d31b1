"""One float32 training step at batch 64: ours compiled in float32, PyTorch and hand NumPy.

The step of :mod:`benchmarks.compiled_step` (relu MLP, mean cross-entropy, backward,
one SGD update) with every array in float32, on one thread: BLAS limited to one
thread for NumPy and ours, ``torch.set_num_threads(1)`` for PyTorch. All three
start from the same weights (rounded to float32) and take the same step.

- ``ours``: :class:`nn.compiled.CompiledTraining` with ``dtype="float32"``;
- ``numpy``: the same network by hand with float32 matrices (always measured);
- ``torch``: ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` in float32, only if
  torch is installed (an optional, large dependency).

    python -m benchmarks.float32_step
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import compiled_step, hand_numpy
from .timing import alternating_rounds, ratio_by_round

NETWORKS = ((784, 128, 128, 10), (784, 256, 256, 10))
LR = compiled_step.LR


def problem(sizes: tuple[int, ...], n: int = 64) -> tuple[np.ndarray, np.ndarray, Any]:
    X, T, loss = compiled_step.problem(sizes, n)
    return X.astype(np.float32), T.astype(np.float32), loss


def ours(sizes: tuple[int, ...], X: np.ndarray, T: np.ndarray, loss: Any
         ) -> Callable[[], float]:
    return compiled_step.ours(sizes, X, T, loss, dtype="float32")


def numpy_step(sizes: tuple[int, ...], X: np.ndarray, T: np.ndarray, loss: Any
               ) -> Callable[[], float]:
    return compiled_step.numpy_step(sizes, X, T, loss, dtype="float32")


def torch_step(sizes: tuple[int, ...], X: np.ndarray, T: np.ndarray, loss: Any
               ) -> Callable[[], float] | None:
    try:
        import torch
    except ImportError:
        return None
    modules: list[Any] = []
    for i, (W, b) in enumerate(hand_numpy.layers_of(compiled_step.model(sizes))):
        linear = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W.T, dtype=torch.float32))
            linear.bias.copy_(torch.tensor(b, dtype=torch.float32))
        modules += [linear] if i == len(sizes) - 2 else [linear, torch.nn.ReLU()]
    net = torch.nn.Sequential(*modules)
    inputs = torch.tensor(X)
    classes = torch.tensor(T).argmax(dim=1)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)

    def step() -> float:
        value = torch.nn.functional.cross_entropy(net(inputs), classes)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return float(value.item())

    return step


def measure(rounds: int = 9) -> list[tuple[tuple[int, ...], dict[str, list[float]]]]:
    """Per network, seconds per step of each implementation in each round (one thread)."""
    from threadpoolctl import threadpool_limits

    torch: Any = None
    if importlib.util.find_spec("torch") is not None:
        import torch
    threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    found: list[tuple[tuple[int, ...], dict[str, list[float]]]] = []
    try:
        with threadpool_limits(limits=1):
            for sizes in NETWORKS:
                X, T, loss = problem(sizes)
                steps = {"ours": ours(sizes, X, T, loss), "numpy": numpy_step(sizes, X, T, loss)}
                theirs = torch_step(sizes, X, T, loss)
                if theirs is not None:
                    steps["torch"] = theirs
                found.append((sizes, alternating_rounds({k: (s, 10) for k, s in steps.items()},
                                                        rounds)))
    finally:
        if torch is not None and threads is not None:
            torch.set_num_threads(threads)
    return found


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def _ratio(found: tuple[float, float, float]) -> str:
    middle, low, high = found
    return f"{middle:.2f}x ({low:.2f}-{high:.2f})"


def rows(rounds: int = 9) -> list[str]:
    """Markdown rows: per network, the three step times and ours against each."""
    lines = []
    for sizes, samples in measure(rounds):
        torch_cells = "- | -"
        if "torch" in samples:
            torch_cells = (f"{_duration(statistics.median(samples['torch']))} | "
                           f"{_ratio(ratio_by_round(samples, 'ours', 'torch'))}")
        lines.append(f"| {compiled_step.label(sizes)} | "
                     f"{_duration(statistics.median(samples['ours']))} | "
                     f"{_duration(statistics.median(samples['numpy']))} | "
                     f"{_ratio(ratio_by_round(samples, 'ours', 'numpy'))} | {torch_cells} |")
    return lines


HEADER = ["| network | ours float32 | hand NumPy float32 | ours / NumPy | PyTorch float32 "
          "| ours / PyTorch |", "| --- | ---: | ---: | ---: | ---: | ---: |"]


def main(argv: list[str]) -> int:
    print("\n".join(HEADER + rows(3 if "--quick" in argv else 9)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
