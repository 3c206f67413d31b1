"""LivePlot: the callback that redraws the learning curves while ``fit`` trains.

It uses the pictures of :mod:`nn.plot` and the callback protocol of
:mod:`nn.callbacks`; neither of them, nor ``fit``, depends on it.
"""

from __future__ import annotations

import os
from io import BytesIO
from typing import Any

from autograd_scalar.validate import integer

from .callbacks import Callback, History
from .plot import figure_path, plot_history, require_matplotlib


class LivePlot(Callback):
    """Redraw the loss and accuracy curves after every ``every`` epochs.

    In a notebook the figure is replaced in place (one output, updated; each ``fit``
    run draws its own, below the cell that runs it); with ``path`` it is also written
    to that file each time (checked here, before any training). Needs matplotlib.
    """

    def __init__(self, every: int = 1, path: str | os.PathLike[str] | None = None) -> None:
        integer("every", every, 1, who="LivePlot")
        require_matplotlib()
        self.every = every
        self.path = None if path is None else figure_path(path, "LivePlot")
        self.handle: Any = None
        self.redraws = 0

    def on_train_begin(self, model: Any, history: History) -> None:
        self.handle = None  # a new run draws in its own output, not over the last one's

    def on_epoch_end(self, epoch: int, history: History) -> bool:
        if (epoch + 1) % self.every == 0:
            self.redraw(history)
        return False

    def on_train_end(self, model: Any, history: History) -> None:
        if history.epochs % self.every != 0:
            self.redraw(history)

    def redraw(self, history: History) -> None:
        """Draw the curves now: update the notebook output and write ``path``."""
        figure = plot_history(history, path=self.path)
        display = notebook_display()
        if display is not None:
            from IPython.display import Image

            png = BytesIO()
            figure.savefig(png, format="png")
            image = Image(data=png.getvalue(), format="png")
            if self.handle is None:
                self.handle = display(image, display_id=True)
            else:
                self.handle.update(image)
        self.redraws += 1


def notebook_display() -> Any:
    """IPython's ``display`` when running in a Jupyter kernel, else None."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and hasattr(shell, "kernel") else None
