"""micrograd's demo training step, written for each library.

The step (micrograd's demo.ipynb): 100 two-moons examples, an MLP 2-16-16-1 with
relu, the hinge loss mean(relu(1 - y * score)) plus the L2 term alpha * sum(p^2),
zero_grad, backward, and one SGD update of every parameter.

- ``micrograd``: micrograd 0.1.0's own engine and ``nn.MLP``;
- ``ours, same graph``: our Value in micrograd's code (the same elementwise graph
  of ``+ * relu``, one node per operation);
- ``ours, nn.MLP``: our ``nn.MLP`` (per neuron one ``affine`` node, b + w . x, and its
  relu), ``sum`` nodes for the loss and the L2 term;
- ``ours, compiled``: the same model and loss traced once (``nn.compiled``), each
  step run batched on NumPy;
- ``hand NumPy``: the same network and loss written by hand with matrices;
- ``PyTorch``: the same, on the CPU, only if torch is installed (timed after the others,
  see ``benchmarks/__main__.py``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_scalar as ag
import nn
from nn.compiled import CompiledLoss

ALPHA = 1e-4
LR = 0.05
SIZES = (2, 16, 16, 1)


def data(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Two moons with labels -1 / +1, as in micrograd's demo."""
    X, y = nn.data.moons(n, noise=0.1, seed=0)
    return X, 2.0 * y - 1.0


class MicrogradStyleMLP:
    """micrograd's nn.MLP, written against any Value class (the same graph)."""

    def __init__(self, value: type, sizes: tuple[int, ...], seed: int = 0) -> None:
        rng = random.Random(seed)
        self.layers = [[([value(rng.uniform(-1, 1)) for _ in range(nin)], value(0.0))
                        for _ in range(nout)] for nin, nout in itertools.pairwise(sizes)]

    def __call__(self, x: list[Any]) -> Any:
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            out = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act if last else act.relu())
            x = out
        return x[0]

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


def elementwise_step(value: type, model: Any, X: np.ndarray, y: np.ndarray
                     ) -> Callable[[], float]:
    """micrograd's demo step, verbatim in structure, for ``value`` (either library)."""
    rows, labels = X.tolist(), y.tolist()
    params = model.parameters()

    def step() -> float:
        inputs = [list(map(value, row)) for row in rows]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        total = data_loss + reg_loss
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total.data

    return step


def micrograd_step(X: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    from micrograd.engine import Value as MicrogradValue
    from micrograd.nn import MLP as MicrogradMLP

    random.seed(0)
    return elementwise_step(MicrogradValue, MicrogradMLP(2, [16, 16, 1]), X, y)


def ours_same_graph_step(X: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    return elementwise_step(ag.Value, MicrogradStyleMLP(ag.Value, SIZES), X, y)


def ours_mlp_step(X: np.ndarray, y: np.ndarray, model: Any = None) -> Callable[[], float]:
    model = nn.MLP(2, [16, 16, 1], seed=0) if model is None else model
    params = model.parameters()
    hinge = nn.losses.get("hinge")
    encoded = hinge.encode((y > 0).astype(int))
    rows = X.tolist()

    def step() -> float:
        data_loss = hinge.reduce([model(x) for x in rows], encoded)
        total = data_loss + ALPHA * ag.sum([p * p for p in params])
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total.data

    return step


class HingeWithL2:
    """The hinge loss of one example plus the L2 term, as a loss for CompiledLoss.

    The L2 term is the same for every example, so the mean over the batch of
    (hinge_i + alpha * sum p^2) is the demo's loss.
    """

    def __init__(self, params: list[ag.Value]) -> None:
        self.hinge = nn.losses.get("hinge")
        self.params = params

    def example(self, output: Any, encoded_row: Any) -> ag.Value:
        return self.hinge.example(output, encoded_row) + ALPHA * ag.sum(
            [p * p for p in self.params])


def ours_compiled_step(X: np.ndarray, y: np.ndarray, model: Any = None
                       ) -> Callable[[], float]:
    model = nn.MLP(2, [16, 16, 1], seed=0) if model is None else model
    params = model.parameters()
    compiled = CompiledLoss(model, HingeWithL2(params))
    encoded = nn.losses.get("hinge").encode((y > 0).astype(int))

    def step() -> float:
        for p in params:
            p.grad = 0.0
        total = compiled.step(X, encoded)
        for p in params:
            p.data -= LR * p.grad
        return total

    return step


def numpy_step(X: np.ndarray, y: np.ndarray,
               weights: list[tuple[np.ndarray, np.ndarray]] | None = None
               ) -> Callable[[], float]:
    """The same network and loss by hand: matrices, and the backward written out.

    ``weights`` (copied) start the network where an nn.MLP is (``hand_numpy.layers_of``);
    the step's ``Ws`` and ``bs`` attributes expose the current ones.
    """
    if weights is None:
        rng = np.random.default_rng(0)
        weights = [(rng.uniform(-1, 1, (nin, nout)), np.zeros(nout))
                   for nin, nout in itertools.pairwise(SIZES)]
    Ws = [W.copy() for W, _ in weights]
    bs = [b.copy() for _, b in weights]
    n = len(X)

    def step() -> float:
        z1 = X @ Ws[0] + bs[0]
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ Ws[1] + bs[1]
        h2 = np.maximum(z2, 0.0)
        scores = (h2 @ Ws[2] + bs[2])[:, 0]
        margins = 1.0 - y * scores
        reg = sum(float(np.sum(W * W)) + float(np.sum(b * b)) for W, b in zip(Ws, bs))
        total = float(np.maximum(margins, 0.0).mean()) + ALPHA * reg
        d_scores = (-((margins > 0) * y) / n)[:, None]
        d_z2 = (d_scores @ Ws[2].T) * (z2 > 0)
        d_z1 = (d_z2 @ Ws[1].T) * (z1 > 0)
        grads = [(X.T @ d_z1, d_z1.sum(0)), (h1.T @ d_z2, d_z2.sum(0)),
                 (h2.T @ d_scores, d_scores.sum(0))]
        for W, b, (gW, gb) in zip(Ws, bs, grads):
            W -= LR * (gW + 2 * ALPHA * W)
            b -= LR * (gb + 2 * ALPHA * b)
        return total

    step.Ws, step.bs = Ws, bs  # type: ignore[attr-defined]
    return step


def torch_step(X: np.ndarray, y: np.ndarray) -> Callable[[], float] | None:
    """The same in PyTorch on the CPU, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
    inputs = torch.tensor(X)
    labels = torch.tensor(y)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> float:
        scores = model(inputs)[:, 0]
        total = torch.relu(1 - labels * scores).mean() + ALPHA * sum(
            (p * p).sum() for p in model.parameters())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        return total.item()

    return step
