"""Compiled training and prediction: a model and a loss run on whole batches with NumPy.

``CompiledLoss(model, loss)`` traces ``loss.example(model(x), t)`` for one example
with :func:`autograd_scalar.compile`, then each ``step(X, T)`` runs the traced tape
on the batch: the forward, the backward, and the gradient of the reduced loss
(summed over the batch) added to every parameter's ``grad``, as the eager
``loss(outputs, targets).backward()`` would. ``compiled_predict(model, X)`` does the
same for the model's raw outputs.

Parameter values are read at every step, so optimizer updates and
``load_state_dict`` are seen; a model whose parameters are replaced by new Value
objects needs a new ``CompiledLoss`` (and ``compiled_predict(..., retrace=True)``).
What a trace cannot capture is said in :mod:`autograd_scalar.tape`: a model or
loss that branches in Python on ``.data`` is traced for the first example only.
``CompiledLoss(..., check=True)`` compares the first batch with the eager graph and raises
:class:`autograd_scalar.TraceMismatchError` if they differ.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_scalar import Tape, Value, compile

__all__ = ["CompiledLoss", "compiled_predict"]


def _rows(X: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, d), got shape {array.shape}")
    return array


class CompiledLoss:
    """A model and a loss, traced once, stepped on batches (see the module docstring)."""

    def __init__(self, model: Any, loss: Any, check: bool = False) -> None:
        if not callable(model) or not hasattr(model, "parameters"):
            raise TypeError(f"CompiledLoss expects a model with parameters(), got "
                            f"{type(model).__name__}")
        if not hasattr(loss, "example"):
            raise TypeError(f"CompiledLoss expects a loss with example(output, encoded_row), "
                            f"got {type(loss).__name__}")
        self.model = model
        self.loss = loss
        self.check = check
        self.tape: Tape | None = None
        self._parameters: tuple[Value, ...] = ()

    def _example(self, x: Sequence[Value], t: Sequence[Value]) -> Value:
        return self.loss.example(self.model(x), t)

    def _traced(self, X: np.ndarray, T: np.ndarray) -> tuple[Tape, bool]:
        tape = self.tape
        fresh = tape is None or tape.widths != (X.shape[1], T.shape[1])
        if fresh:
            self._parameters = tuple(self.model.parameters())
            tape = compile(self._example, X[0], T[0])
            self.tape = tape
        assert tape is not None
        return tape, fresh

    def step(self, X: Any, encoded_targets: Any, reduction: str = "mean") -> float:
        """Add d(reduced loss)/d p to ``p.grad`` for every parameter; return the loss.

        ``X`` is (n, d), ``encoded_targets`` is (n, k) as ``loss.encode`` gives it;
        ``reduction`` is "mean" or "sum" over the batch.
        """
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        X = _rows(X, "X")
        T = _rows(encoded_targets, "encoded_targets")
        if len(T) != len(X):
            raise ValueError(f"X has {len(X)} rows but encoded_targets has {len(T)}; "
                             "they need one row per example")
        tape, fresh = self._traced(X, T)
        if fresh and self.check:
            tape.check(X, T)
        return tape.backward(X, T, reduction=reduction, wrt=self._parameters)


_predictors: weakref.WeakKeyDictionary[Any, Tape] = weakref.WeakKeyDictionary()


def compiled_predict(model: Any, X: Any, retrace: bool = False) -> np.ndarray:
    """The model's raw outputs for each row of ``X``: (n,) for one output, (n, k) for k.

    The tape traced for a model is kept (without keeping the model alive) and reused
    while the input width stays the same; it reads the parameters' current values.
    Pass ``retrace=True`` after replacing parameters by new Value objects.
    """
    X = _rows(X, "X")
    try:
        tape = None if retrace else _predictors.get(model)
    except TypeError:
        tape = None
    if tape is None or tape.widths != (X.shape[1],):
        tape = compile(model, X[0])
        with contextlib.suppress(TypeError):
            _predictors[model] = tape
    outputs = tape.forward(X)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return outputs[:, 0]
    return outputs
