"""One training step of an MLP at batch 64: ours compiled, hand-written NumPy, PyTorch.

The step: relu hidden layers, a linear output, the mean loss (cross-entropy for 10
classes, mean squared error for one output), its gradient, and one SGD update of
every parameter. All three start from the same weights and take the same step.

- ``ours``: :class:`nn.compiled.CompiledTraining` (the tape on parameter arrays);
- ``numpy``: the same network with matrices and the backward written out;
- ``torch``: ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` in float64, only if
  torch is installed (it is an optional, large dependency: ``pip install torch``).
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import nn
from nn.compiled import CompiledTraining

from . import hand_numpy

LR = 0.01
NETWORKS = ((2, 16, 16, 1), (784, 16, 16, 10), (784, 128, 128, 10))


def problem(sizes: tuple[int, ...], n: int = 64, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray, Any]:
    """Inputs (n, nin), encoded targets (n, nout) and the loss for a network's output."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    if sizes[-1] == 1:
        loss = nn.losses.get("mse")
        return X, loss.encode(rng.normal(size=n)), loss
    loss = nn.losses.get("cross_entropy")
    return X, loss.encode(rng.integers(0, sizes[-1], n), width=sizes[-1]), loss


def model(sizes: tuple[int, ...]) -> Any:
    return nn.MLP(sizes[0], list(sizes[1:]), init="he", seed=0)


def ours(sizes: tuple[int, ...], X: np.ndarray, T: np.ndarray, loss: Any,
         dtype: str = "float64") -> Callable[[], float]:
    mlp = model(sizes)
    training = CompiledTraining(mlp, loss, nn.optim.SGD(mlp.parameters(), lr=LR), dtype=dtype)
    training.trace(X, T)

    def step() -> float:
        return training.step(X, T)[0]

    step.training = training  # type: ignore[attr-defined]
    return step


def numpy_step(sizes: tuple[int, ...], X: np.ndarray, T: np.ndarray, loss: Any,
               dtype: str = "float64") -> Callable[[], float]:
    """The same step by hand with matrices, the layers in ``dtype`` (X and T given in it)."""
    layers = hand_numpy.layers_of(model(sizes), dtype)
    n = len(X)
    classify = T.shape[1] > 1

    def step() -> float:
        hs, zs = hand_numpy.forward(layers, X)
        out = zs[-1]
        if classify:
            shifted = out - out.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            value = float(np.mean(np.log(total[:, 0]) - (shifted * T).sum(axis=1)))
            d = (exp / total - T) / n
        else:
            diff = out - T
            value = float(np.mean(diff * diff))
            d = 2.0 * diff / diff.size
        grads = hand_numpy.backward(layers, hs, zs, d)
        for (W, b), gW, gb in zip(layers, grads[::2], grads[1::2]):
            W -= LR * gW
            b -= LR * gb
        return value

    return step


def torch_step(sizes: tuple[int, ...], X: np.ndarray, T: np.ndarray, loss: Any
               ) -> Callable[[], float] | None:
    try:
        import torch
    except ImportError:
        return None
    modules: list[Any] = []
    for i, (W, b) in enumerate(hand_numpy.layers_of(model(sizes))):
        linear = torch.nn.Linear(*W.shape).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W.T))
            linear.bias.copy_(torch.tensor(b))
        modules += [linear] if i == len(sizes) - 2 else [linear, torch.nn.ReLU()]
    net = torch.nn.Sequential(*modules)
    inputs, targets = torch.tensor(X), torch.tensor(T)
    classes = targets.argmax(dim=1)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    classify = T.shape[1] > 1

    def step() -> float:
        out = net(inputs)
        value = (torch.nn.functional.cross_entropy(out, classes) if classify
                 else torch.nn.functional.mse_loss(out, targets))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return float(value.item())

    return step


def trace_seconds(sizes: tuple[int, ...] = (784, 256, 256, 10)) -> float:
    """Seconds to trace the network with its loss (the tape made, checked on 2 rows)."""
    X, T, loss = problem(sizes, 2)
    mlp = model(sizes)
    training = CompiledTraining(mlp, loss, nn.optim.SGD(mlp.parameters(), lr=LR))
    start = time.perf_counter()
    training.trace(X, T)
    return time.perf_counter() - start


def step_memory(sizes: tuple[int, ...] = (784, 256, 256, 10), n: int = 1024
                ) -> tuple[float, float]:
    """Peak bytes allocated by one step at batch ``n`` (the tape's run arrays included),
    beyond the model and data: (ours, hand NumPy)."""
    X, T, loss = problem(sizes, n)
    found = []
    for make in (ours, numpy_step):
        step = make(sizes, X[:2], T[:2], loss) if make is ours else make(sizes, X, T, loss)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        if make is ours:
            step.training.step(X, T)  # type: ignore[attr-defined]
        else:
            step()
        found.append(tracemalloc.get_traced_memory()[1] - before)
        tracemalloc.stop()
    return found[0], found[1]


def pairs() -> list[tuple[tuple[int, ...], dict[str, Callable[[], float]]]]:
    """For each network, its steps by implementation (torch left out when missing)."""
    found: list[tuple[tuple[int, ...], dict[str, Callable[[], float]]]] = []
    for sizes in NETWORKS:
        X, T, loss = problem(sizes)
        steps = {"ours": ours(sizes, X, T, loss), "numpy": numpy_step(sizes, X, T, loss)}
        torch = torch_step(sizes, X, T, loss)
        if torch is not None:
            steps["torch"] = torch
        found.append((sizes, steps))
    return found


def label(sizes: tuple[int, ...]) -> str:
    return "-".join(map(str, sizes))


def parameter_count(sizes: tuple[int, ...]) -> int:
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))
