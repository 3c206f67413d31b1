"""A training playground in the notebook: watch a real model learn, step by step.

What it shows and how to drive it is in :func:`playground`'s docstring and
docs/tutorials/train-in-a-notebook.md. The parts: :mod:`.session` (the training
state, no display), :mod:`.frames` (what is shown, as data), :mod:`.picture` (a
static SVG of it) and :mod:`.widget` (the anywidget widget and its play loop). The
widget's module loads anywidget, so it is imported when a playground is first made,
not by ``import nn``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..optim import Optimizer

if TYPE_CHECKING:
    import numpy as np

    from .widget import Playground

__all__ = ["Playground", "playground"]


def playground(model: Any, X: Any, y: Any, *, loss: Any, optimizer: Optimizer,
               batch_size: int | None = None, compiled: bool | str = "auto",
               seed: int | np.random.Generator | None = None, clip: float | None = None,
               resolution: int = 48, steps_per_update: int = 1, max_rate: float = 30.0,
               title: str = "") -> Playground:
    """A training playground widget for ``model`` on inputs ``X`` (n, d) and labels ``y``.

    ``loss``, ``optimizer``, ``batch_size`` (None: the whole data set), ``compiled``,
    ``seed`` (the mini-batches' order; a Generator is copied, so the playground's steps
    and ``reset`` leave yours as it is) and ``clip`` are ``nn.fit``'s, checked as
    ``fit`` checks them; one step is one of ``fit``'s updates. ``y`` holds one class
    label per example: the model's output index with ``cross_entropy``, else one of
    2 to 10 distinct labels for a one-output model. With 2-D inputs the plane shows
    the predicted class on a ``resolution`` x ``resolution`` grid; other widths show
    the network and the curves only. Play takes ``steps_per_update`` steps per
    update, at most ``max_rate`` updates per second. ``title`` heads the widget.

    From Python: ``step(count)``, ``play()``, ``pause()``, ``reset()``, ``lr``,
    ``batch_size``, ``add_point(x, y, label)``, ``remove_nearest(x, y)``, ``X``,
    ``y``, ``history`` and ``picture()`` (the static SVG).
    """
    from .widget import Playground

    return Playground(model, X, y, loss=loss, optimizer=optimizer, batch_size=batch_size,
                      compiled=compiled, seed=seed, clip=clip, resolution=resolution,
                      steps_per_update=steps_per_update, max_rate=max_rate, title=title)


def __getattr__(name: str) -> Any:
    """``Playground``, imported (with anywidget) on first use."""
    if name == "Playground":
        from .widget import Playground

        return Playground
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
