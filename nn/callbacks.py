"""Callbacks for ``fit``: the training history, the callback protocol and early stopping.

A callback is any object with ``on_epoch_end(epoch, history) -> bool``; returning
True stops training after that epoch. It may also define
``on_train_begin(model, history)`` (called after ``fit`` has checked its arguments
and before the first update; the place to reject a bad setting) and
``on_train_end(model, history)``. :class:`Callback` provides all three as no-ops.

This module depends on no other part of nn, so that ``fit`` (:mod:`nn.train`) and
the pictures (:mod:`nn.plot`) can both use it; the live-plotting callback lives
with the pictures, in :mod:`nn.liveplot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from autograd_scalar import interrupts_deferred
from autograd_scalar.validate import choice, flag, integer, real

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


SHOWN = 3
"""Epochs shown at each end of a History's table when there are more than twice as many."""


@dataclass(repr=False)
class History:
    """What ``fit`` measured, one entry per epoch run.

    ``loss`` and ``accuracy`` are averaged over the epoch's mini-batches as they
    were trained on (each batch measured just before its update, weighted by its
    size); ``val_loss`` and ``val_accuracy`` are measured on the validation set
    after the epoch. ``lr`` is the learning rate the epoch used. ``metrics`` names
    the lists this run fills (accuracy needs a classification loss, val_* needs
    ``val``); the others stay empty.
    """

    metrics: tuple[str, ...] = ("loss",)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """The number of epochs run."""
        return len(self.loss)

    def __len__(self) -> int:
        return self.epochs

    def __repr__(self) -> str:
        """A short table: one row per epoch (numbered from 0, as callbacks see them), the
        first and last :data:`SHOWN` only when there are many, numbers to 4 digits."""
        plural = "" if self.epochs == 1 else "s"
        head = f"History({self.epochs} epoch{plural}{', stopped early' * self.stopped_early})"
        names = [n for n in (*self.metrics, "lr") if len(getattr(self, n)) == self.epochs]
        if not self.epochs:
            return head
        epochs: list[int | None] = list(range(self.epochs))
        if self.epochs > 2 * SHOWN + 1:
            epochs = [*epochs[:SHOWN], None, *epochs[-SHOWN:]]
        rows = [["epoch", *names]]
        for i in epochs:
            rows.append(["..."] * (len(names) + 1) if i is None else
                        [str(i), *(f"{getattr(self, n)[i]:.4g}" for n in names)])
        widths = [max(len(row[c]) for row in rows) for c in range(len(names) + 1)]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]
        return "\n".join([head, *lines])

    def as_dict(self) -> dict[str, list[float]]:
        """The recorded lists by name (the ones this run fills, and ``lr``)."""
        return {name: list(getattr(self, name)) for name in (*self.metrics, "lr")}


class Callback:
    """Base class with no-op hooks; override the ones you need."""

    def on_train_begin(self, model: Any, history: History) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, history: History) -> bool:
        """Called after each epoch (numbered from 0); True stops training."""
        return False

    def on_train_end(self, model: Any, history: History) -> None:
        """Called once after the last epoch (also after an early stop)."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; with ``restore_best`` put back the parameters of the best epoch.

    Losses improve by going down, accuracies by going up. A validation metric is
    measured after the epoch's updates, so the best epoch's parameters are those it
    ended with; a training metric (``loss``, ``accuracy``) is measured during the
    epoch, each batch before its update, so they are those it began with (with one
    batch per epoch, exactly the ones that scored it).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True) -> None:
        choice("monitor", monitor, tuple(METRICS), who="EarlyStopping")
        patience = integer("patience", patience, 1, who="EarlyStopping")
        min_delta = real("min_delta", min_delta, 0, who="EarlyStopping", what="a number >= 0")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.restore_best = flag("restore_best", restore_best, who="EarlyStopping")
        self.sign = 1.0 if monitor.endswith("loss") else -1.0
        self.best = math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self._params: list[Any] = []
        self._best_data: list[float] = []
        self._began: list[float] = []  # the epoch's first numbers, for a training metric

    def on_train_begin(self, model: Any, history: History) -> None:
        if self.monitor not in history.metrics:
            raise ValueError(f"EarlyStopping: this run does not record {self.monitor!r} "
                             f"(it records {list(history.metrics)}); val_* needs fit(val=...) "
                             "and accuracy a classification loss")
        self._params = list(model.parameters())
        self.best, self.best_epoch, self.wait = math.inf, None, 0
        self._best_data = []
        self._began = self._numbers() if self._during_the_epoch else []

    @property
    def _during_the_epoch(self) -> bool:
        """Whether the monitored metric is measured during the epoch (see the class)."""
        return self.restore_best and not self.monitor.startswith("val_")

    def _numbers(self) -> list[float]:
        return [p.data for p in self._params]

    def on_epoch_end(self, epoch: int, history: History) -> bool:
        score = self.sign * getattr(history, self.monitor)[-1]
        ended = self._numbers() if self._during_the_epoch else []
        improved = score < self.best - self.min_delta
        if improved:
            self.best, self.best_epoch, self.wait = score, epoch, 0
            if self.restore_best:
                self._best_data = self._began if self._during_the_epoch else self._numbers()
        self._began = ended
        if improved:
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_train_end(self, model: Any, history: History) -> None:
        if self.restore_best and self._best_data:
            with interrupts_deferred():  # never some parameters of one epoch, some of another
                for p, data in zip(self._params, self._best_data):
                    p.data = data

    @property
    def best_value(self) -> float:
        """The best value of the monitored metric seen (inf or -inf before any)."""
        return self.sign * self.best
