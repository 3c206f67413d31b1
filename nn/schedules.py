"""Learning-rate schedules: set an optimizer's ``lr`` from the number of steps taken.

A schedule is attached to an optimizer when it is made; it remembers the
optimizer's learning rate then as ``base_lr``, sets ``lr = lr_at(0)`` at once and
``lr = lr_at(t)`` at its t-th ``step()`` (``fit`` steps it once per epoch). With
base rate a and step count t (formulas as PyTorch documents them):

    StepLR             a gamma^floor(t / step_size)
    ExponentialLR      a gamma^t
    LinearLR           a (s + (e - s) min(t, T) / T)        s, e: start and end factors
    CosineAnnealingLR  m + (a - m) (1 + cos(pi min(t, T) / T)) / 2     m: the minimum

``LinearLR(opt, 1.0, 0.1, 100)`` is micrograd's demo schedule, 1.0 - 0.9 t / 100, and
``LinearLR(opt, 1.0, 0.0, T)`` microgpt's linear decay to zero, a (1 - t / T).
"""

from __future__ import annotations

import math

from autograd_scalar.validate import integer

from .optim import Optimizer, hyperparameter


class Schedule:
    """Base class: subclasses define ``lr_at(t)`` from ``self.base_lr``."""

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
        self.optimizer.lr = lr
        self.steps += 1
        return lr

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_lr={self.base_lr:g}, steps={self.steps})"


def _require_optimizer(optimizer: object) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a schedule attaches to an nn.optim optimizer, got "
                        f"{type(optimizer).__name__}")
    return optimizer


class StepLR(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = integer("step_size", step_size, 1)
        self.gamma = hyperparameter("gamma", gamma, 0.0, 1.0, closed_low=False, closed_high=True)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(Schedule):
    """Multiply the learning rate by ``gamma`` every step."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = hyperparameter("gamma", gamma, 0.0, 1.0, closed_low=False, closed_high=True)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** t


class LinearLR(Schedule):
    """Scale the learning rate by a factor going linearly from ``start_factor`` (in (0, 1])
    to ``end_factor`` (in [0, 1]) over ``total`` steps, then staying there."""

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
    over ``total`` steps, then stay at ``min_lr``."""

    def __init__(self, optimizer: Optimizer, total: int, min_lr: float = 0.0) -> None:
        self.total = integer("total", total, 1)
        self.min_lr = hyperparameter("min_lr", min_lr, 0.0)
        if self.min_lr >= _require_optimizer(optimizer).lr:
            raise ValueError(f"min_lr ({min_lr!r}) must be below the optimizer's lr "
                             f"({optimizer.lr:g})")
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        progress = min(t, self.total) / self.total
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2
