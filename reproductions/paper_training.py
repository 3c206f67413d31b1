"""Training as the 1986 paper does it: full sweeps, summed error, momentum, uniform weights.

Rumelhart, Hinton and Williams measure the error over a whole sweep through the
training cases,

    E = 1/2 sum_c sum_j (y_jc - d_jc)^2,

change every weight once per sweep by

    dw(t) = -epsilon dE/dw(t) + alpha dw(t - 1),

which is :class:`nn.optim.SGD` with ``lr=epsilon`` and ``momentum=alpha`` (its
buffer b = alpha b + g gives -lr b = -epsilon g + alpha dw(t - 1)), and start
from weights drawn uniformly from [-0.3, 0.3]; biases are weights from a unit that
is always on, so they are drawn the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_scalar as ag
from autograd_scalar import Value, ops
from nn import Module, predict
from nn.losses import Loss


class PaperError(Loss):
    """E for one case: 1/2 sum_j (y_j - d_j)^2, optionally with the family-trees margin.

    With ``margin`` m > 0 an output within m of its 0 or 1 target has no error
    (the paper: "the error was considered to be zero if output units that should
    be on had activities above 0.8 and output units that should be off had
    activities below 0.2"); outside the margin the error is 1/2 (y - d)^2 as usual:

        e_j = 1/2 (y_j - d_j)^2 step(|y_j - d_j| - m).

    The step has derivative 0, so the gradient is (y_j - d_j) outside the margin
    and 0 inside it, and the same expression runs eagerly and on the compiled tape.
    """

    name = "paper_error"

    def __init__(self, margin: float = 0.0) -> None:
        if not 0.0 <= margin < 0.5:
            raise ValueError(f"PaperError: margin must be in [0, 0.5), got {margin!r}")
        self.margin = float(margin)

    def encode_array(self, targets: np.ndarray, width: int | None) -> np.ndarray:
        return targets.reshape(-1, 1) if targets.ndim == 1 else targets

    def example(self, output: Any, encoded_row: Sequence[Any]) -> Value:
        ys, ds = self._row(output, encoded_row)
        terms = []
        for y, d in zip(ys, ds):
            term = 0.5 * (y - d) ** 2
            if self.margin:
                term = term * ops.STEP(abs(y - d) - self.margin)
            terms.append(term)
        return ag.sum(terms)


def check_count(name: str, n: object, least: int) -> int:
    """``n`` if it is an int >= ``least``; ValueError naming ``name`` otherwise."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least:
        raise ValueError(f"{name} must be an int >= {least}, got {n!r}")
    return int(n)


def uniform_weights(model: Module, bound: float, seed: int) -> None:
    """Set every parameter of ``model`` (weights and biases) to U(-bound, bound)."""
    params = model.parameters()
    drawn = np.random.default_rng(seed).uniform(-bound, bound, size=len(params))
    for p, value in zip(params, drawn):
        p.data = float(value)


class SweepGradient:
    """dE/dw summed over every case of (X, T), written to each parameter's ``grad``.

    ``compiled=True`` runs the sweep on the compiled tape (:mod:`nn.compiled`),
    which gives the same numbers as the eager graph, batched on NumPy.
    """

    def __init__(self, model: Module, loss: Loss, X: np.ndarray, T: np.ndarray,
                 compiled: bool = False) -> None:
        self.model, self.loss = model, loss
        self.parameters = model.parameters()
        self.X = np.asarray(X, dtype=float)
        self.T = loss.encode(T)
        self._compiled: Any = None
        if compiled:
            from nn.compiled import CompiledLoss

            self._compiled = CompiledLoss(model, loss)

    def __call__(self, with_outputs: bool = True) -> tuple[float, np.ndarray | None]:
        """Zero the gradients, accumulate dE/dw over the sweep; return E and the outputs.

        The outputs (shape (n, k), or None unless ``with_outputs``) are those of the
        weights the gradient was taken at.
        """
        for p in self.parameters:
            p.grad = 0.0
        if self._compiled is not None:
            error = float(self._compiled.step(self.X, self.T, reduction="sum"))
            found = outputs(self.model, self.X, compiled=True) if with_outputs else None
            return error, found
        results = [self.model(x) for x in self.X]
        total = self.loss.reduce(results, self.T, reduction="sum")
        total.backward()
        if not with_outputs:
            return total.data, None
        return total.data, np.array([[v.data for v in _as_list(r)] for r in results])


def outputs(model: Module, X: np.ndarray, compiled: bool = False) -> np.ndarray:
    """The model's outputs for every row of X as an (n, k) array (:func:`nn.predict`)."""
    return np.asarray(predict(model, X, compiled=compiled), dtype=float).reshape(len(X), -1)


def _as_list(output: Any) -> list[Value]:
    return list(output) if isinstance(output, (list, tuple)) else [output]
