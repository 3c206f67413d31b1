"""The training step of ``fit``, eager or compiled, behind one interface.

A trainer takes a batch and does the whole step: zero the gradients, the batch's
mean loss and its gradient, clipping, one optimizer update. It returns the loss
and the batch's raw outputs (for training accuracy). ``push()`` makes the
parameters' Values current and ``pull()`` reads changes made to them; the eager
trainer works on the Values themselves, so both do nothing there.

``fit(compiled=...)`` picks one with :func:`trainer`:

- ``False``: :class:`EagerTrainer`, one graph per example;
- ``True``: :class:`CompiledTrainer`, the traced tape on arrays
  (:class:`nn.compiled.CompiledTraining`); a model it cannot trace is an error,
  such as :class:`autograd_scalar.DataDependenceError` naming the line of a model
  that reads ``.data`` of a traced Value (a Python branch on it);
- ``"auto"`` (the default): compiled, after tracing at the first batch and
  checking the tape against the eager graph on the first ``CHECKED_ROWS``
  examples of that batch (``Tape.check``). If the model cannot be traced (as when
  it reads ``.data`` of a traced Value: seen at the trace, however few rows the
  read would change), or the tape disagrees, one line on stderr says why (naming
  the file and line of such a read) and training goes on eagerly, from the same
  parameters.

When the model itself changes during training (a callback replaces a frozen layer or
loads a file), ``pull()`` drops the tape and the next batch traces, and checks,
anew. Between ``fit`` calls the tape and the check's verdict stay with the model
(see :class:`CompiledTrainer`), so a cell that runs ``fit`` for one epoch again and
again traces once.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from autograd_scalar import TraceError, TraceMismatchError, Value

from .compiled import CompiledTraining
from .losses import Loss
from .model_key import model_key
from .optim import Optimizer, clip_grad_norm

CHECKED_ROWS = 4
"""How many examples of the first batch ``compiled="auto"`` checks eagerly."""

Vet = Callable[[np.ndarray], None]
"""Given the examples' losses of a compiled batch whose mean loss is not finite, raises if
the eager graph would refuse one of them (an op outside its domain, which the tape
computes as NaN), before the update; else returns, and the step goes on as eagerly."""


class Trainer(Protocol):
    compiled: bool

    def step(self, X: np.ndarray, encoded: np.ndarray, want_outputs: bool,
             vet: Vet | None = None) -> tuple[float, np.ndarray | None]: ...

    def push(self, grads: bool = True) -> None: ...

    def pull(self) -> None: ...

    def use_parameters(self, params: Sequence[Value]) -> None: ...


class EagerTrainer:
    """One graph per example, ``backward()``, and the optimizer on the Values."""

    compiled = False

    def __init__(self, model: Any, loss: Loss, optimizer: Optimizer, params: Sequence[Value],
                 clip: float | None) -> None:
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.params, self.clip = params, clip

    def step(self, X: np.ndarray, encoded: np.ndarray, want_outputs: bool,
             vet: Vet | None = None) -> tuple[float, np.ndarray | None]:
        """The step; an op's error in the forward leaves the gradients as they were (they
        are zeroed once the loss is built). ``vet`` is for compiled steps only: an
        eager graph raises the op's error itself."""
        outputs = [self.model(example_inputs(x)) for x in X.tolist()]
        total = self.loss.reduce(outputs, encoded)
        for p in self.params:
            p.grad = 0.0
        total.backward()
        raw = np.array([output_data(o) for o in outputs]) if want_outputs else None
        if self.clip is not None:
            clip_grad_norm(list(zip(self.optimizer.names, self.optimizer.params)), self.clip)
        self.optimizer.step()
        return total.data, raw

    def push(self, grads: bool = True) -> None:
        pass

    def pull(self) -> None:
        pass

    def use_parameters(self, params: Sequence[Value]) -> None:
        """The model's parameters, whose gradients each step zeroes, after a callback
        changed them (the optimizer's stay its own)."""
        self.params = params


class CompiledTrainer:
    """The traced tape on arrays; with ``check`` ("auto"), checked at the first batch
    and replaced by an :class:`EagerTrainer` if it cannot be used.

    The tape is kept with the model between ``fit`` calls
    (``CompiledTraining(..., keep=True)``), and so is the check's verdict: a kept tape
    that passed it is not checked again, and a model whose trace or check failed
    trains eagerly at once (the line on stderr is printed again) until it changes.
    ``key`` is the model's key as ``fit`` found it, used for the first trace only
    (a callback may change the model before a later one).
    """

    def __init__(self, model: Any, loss: Loss, optimizer: Optimizer, params: Sequence[Value],
                 clip: float | None, check: bool, key: Any, dtype: str = "float64") -> None:
        self.training = CompiledTraining(model, loss, optimizer, clip, keep=True, dtype=dtype)
        self.eager = EagerTrainer(model, loss, optimizer, params, clip)
        self.check = check
        self.key = key
        self.first = True
        self.compiled = True
        self.reason: str | None = None

    def _start(self, X: np.ndarray, encoded: np.ndarray) -> None:
        """Trace at this batch, or take the kept tape (and with ``check``, check it unless
        it was, or fall back to eager)."""
        training = self.training
        key = self.key if self.first else model_key(training.model, training.key)
        self.first = False
        if not self.check:
            training.trace(X, encoded, key)
            return
        reason = training.refusal(X, encoded, key)
        if reason is None:
            try:
                rows = X[:CHECKED_ROWS], encoded[:CHECKED_ROWS]
                # the eager graphs before the trace: their memory serves the trace after
                reference = None
                if not training.checked_for(X, encoded, key):
                    with contextlib.suppress(TypeError):  # int(v), v > 0: the trace says where
                        reference = training.reference(*rows)
                tape = training.trace(X, encoded, key)
                if not training.checked:
                    tape.check(*rows, reference=reference)
                    training.mark_checked()
                del reference
            except (TraceError, TraceMismatchError) as error:
                reason = str(error).splitlines()[0]
                training.refuse(X, encoded, key, reason)
        if reason is not None:
            self.compiled = False
            self.reason = reason
            print(f"fit: training eagerly, the model could not be compiled: {reason}",
                  file=sys.stderr)

    def step(self, X: np.ndarray, encoded: np.ndarray, want_outputs: bool,
             vet: Vet | None = None) -> tuple[float, np.ndarray | None]:
        if self.compiled and self.training.tape is None:
            self._start(X, encoded)
        if not self.compiled:
            return self.eager.step(X, encoded, want_outputs)
        return self.training.step(X, encoded, vet=vet)

    def push(self, grads: bool = True) -> None:
        self.training.push(grads)

    def pull(self) -> None:
        self.training.pull()

    def use_parameters(self, params: Sequence[Value]) -> None:
        self.eager.use_parameters(params)


def trainer(compiled: bool | str, model: Any, loss: Loss, optimizer: Optimizer,
            params: Sequence[Value], clip: float | None, key: Any = None,
            dtype: str = "float64") -> EagerTrainer | CompiledTrainer:
    """The trainer for ``fit(compiled=...)``: False, True or "auto" (see the module
    docstring); ``key`` is ``model_key(model)`` if the caller has it (else it is taken
    here: the training playground's), ``dtype`` the tape's."""
    if compiled is False:
        return EagerTrainer(model, loss, optimizer, params, clip)
    if key is None:
        key = model_key(model)
    return CompiledTrainer(model, loss, optimizer, params, clip, check=compiled == "auto",
                           key=key, dtype=dtype)


def example_inputs(row: list[float]) -> list[Value]:
    """One example as ``fit`` and ``predict`` hand it to the model: a list of Values, one
    per input (constants here; the trace hands placeholders in their place), so that a
    ``forward`` may call Value methods on its inputs whichever way it is run."""
    return [Value(x) for x in row]


def output_data(output: Any) -> list[float]:
    """A model's output for one example (a Value or a list of Values) as floats."""
    if isinstance(output, Value):
        return [output.data]
    if isinstance(output, (list, tuple)) and output and all(isinstance(o, Value)
                                                            for o in output):
        return [o.data for o in output]
    if isinstance(output, (list, tuple)) and output:
        i, item = next((i, o) for i, o in enumerate(output) if not isinstance(o, Value))
        raise TypeError(f"the model must return a Value or a list of Values, got a "
                        f"{type(output).__name__} whose item {i} is {type(item).__name__}")
    raise TypeError(f"the model must return a Value or a list of Values, "
                    f"got {type(output).__name__}")
