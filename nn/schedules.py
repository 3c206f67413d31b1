"""Learning-rate schedules: set an optimizer's ``lr`` from the number of steps taken.

A schedule is attached to an optimizer when it is made; it remembers the
optimizer's learning rate then as ``base_lr``, sets ``lr = lr_at(0)`` at once and
``lr = lr_at(t)`` at its t-th ``step()`` (``fit`` steps it once per epoch). With
base rate a and step count t (PyTorch's formulas, but for one difference: past T
steps CosineAnnealingLR stays at its minimum, where PyTorch's turns back up along
the cosine):

    StepLR             a gamma^floor(t / step_size)
    ExponentialLR      a gamma^t
    LinearLR           a (s + (e - s) min(t, T) / T)        s, e: start and end factors
    CosineAnnealingLR  m + (a - m) (1 + cos(pi min(t, T) / T)) / 2     m: the minimum

``LinearLR(opt, 1.0, 0.1, 100)`` is micrograd's demo schedule, 1.0 - 0.9 t / 100, and
``LinearLR(opt, 1.0, 0.0, T)`` microgpt's linear decay to zero, a (1 - t / T).

A schedule's ``state_dict()`` (its base rate, step count and settings, JSON-ready) and
``load_state_dict`` carry it across a save, as an optimizer's do: a run resumed with
both goes on with the rates it would have had.
"""

from __future__ import annotations

import math
from typing import Any

from autograd_scalar import Value, interrupts_deferred
from autograd_scalar.validate import integer

from .optim import SGD, Optimizer, hyperparameter, remade_with, saved_header


class Schedule:
    """Base class: subclasses define ``lr_at(t)`` from ``self.base_lr``, and list their
    constructor's arguments beside the optimizer in ``settings``."""

    settings: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = _require_optimizer(optimizer)
        self.base_lr = optimizer.lr
        self.steps = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, t: int) -> float:
        """The learning rate after ``t`` schedule steps."""
        raise NotImplementedError

    def step(self) -> float:
        """Advance one step and set the optimizer's learning rate; returns it."""
        lr = self.lr_at(self.steps + 1)
        with interrupts_deferred():  # the rate and the count, never one without the other
            self.optimizer.lr = lr
            self.steps += 1
        return lr

    def state_dict(self) -> dict[str, Any]:
        """The schedule's kind, base rate, step count and settings, as plain numbers."""
        return {"schedule": type(self).__name__, "base_lr": self.base_lr, "steps": self.steps,
                "settings": {name: getattr(self, name) for name in self.settings}}

    def load_state_dict(self, state: Any) -> None:
        """Go on from what ``state_dict`` gave: its base rate, step count and settings (the
        optimizer's ``lr`` set to the rate at that step). Checked whole first: another
        kind of schedule, or numbers its constructor refuses, are ValueErrors that change
        nothing."""
        base_lr, steps = saved_header(self, state, ("schedule", "base_lr", "steps", "settings"))
        settled = self._settled(state["settings"], base_lr)
        lr = settled.lr_at(steps)
        with interrupts_deferred():  # every field, or none
            for name in self.settings:
                setattr(self, name, getattr(settled, name))
            self.base_lr, self.steps = base_lr, steps
            self.optimizer.lr = lr

    def _settled(self, settings: Any, base_lr: float) -> Schedule:
        """A schedule with the saved ``settings`` on an optimizer of rate ``base_lr``
        (:func:`nn.optim.remade_with`)."""
        stand_in = SGD([Value(0.0)], lr=1.0)
        stand_in.lr = base_lr  # as a rate set later, it may be 0
        return remade_with(self, settings, stand_in)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_lr={self.base_lr:g}, steps={self.steps})"


def _require_optimizer(optimizer: object) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a schedule attaches to an nn.optim optimizer, got "
                        f"{type(optimizer).__name__}")
    return optimizer


class StepLR(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps."""

    settings = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = integer("step_size", step_size, 1)
        self.gamma = hyperparameter("gamma", gamma, 0.0, 1.0, closed_low=False, closed_high=True)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(Schedule):
    """Multiply the learning rate by ``gamma`` every step."""

    settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = hyperparameter("gamma", gamma, 0.0, 1.0, closed_low=False, closed_high=True)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** t


class LinearLR(Schedule):
    """Scale the learning rate by a factor going linearly from ``start_factor`` (in (0, 1])
    to ``end_factor`` (in [0, 1]) over ``total`` steps, then staying there."""

    settings = ("start_factor", "end_factor", "total")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0,
                 end_factor: float = 0.1, total: int = 100) -> None:
        self.start_factor = hyperparameter("start_factor", start_factor, 0.0, 1.0,
                                    closed_low=False, closed_high=True)
        self.end_factor = hyperparameter("end_factor", end_factor, 0.0, 1.0, closed_high=True)
        self.total = integer("total", total, 1)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        fraction = min(t, self.total) / self.total
        return self.base_lr * (self.start_factor
                               + (self.end_factor - self.start_factor) * fraction)


class CosineAnnealingLR(Schedule):
    """Anneal the learning rate from ``base_lr`` to ``min_lr`` along half a cosine
    over ``total`` steps, then stay at ``min_lr`` (PyTorch's turns back up)."""

    settings = ("total", "min_lr")

    def __init__(self, optimizer: Optimizer, total: int, min_lr: float = 0.0) -> None:
        self.total = integer("total", total, 1)
        self.min_lr = hyperparameter("min_lr", min_lr, 0.0)
        if self.min_lr >= _require_optimizer(optimizer).lr:
            raise ValueError(f"min_lr ({min_lr!r}) must be below the rate it anneals from, "
                             f"{optimizer.lr:g} (the optimizer's lr; in a state being loaded, "
                             "its base_lr)")
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        progress = min(t, self.total) / self.total
        # the half-cosine's weight first: (base - min) * 2 overflows for a rate near 1e308
        return self.min_lr + (self.base_lr - self.min_lr) * ((1 + math.cos(math.pi * progress)) / 2)
