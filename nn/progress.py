"""fit's progress bar: tqdm's text bar on a terminal, one line redrawn in place in a notebook.

In a Jupyter notebook neither of tqdm's bars leaves a clean record: its text bar writes
each refresh to stderr, which a stored notebook keeps as a stack of lines, and its
widget (with ipywidgets) is stored as the picture it had when first shown, a frozen
"0%". :class:`NotebookBar` instead shows one output through an IPython display handle
and redraws that same output, live and in the saved file alike, with or without
ipywidgets. Elsewhere (piped output, ``progress=False``) there is no bar at all.
"""

from __future__ import annotations

import html
import math
import sys
import time
from collections.abc import Callable
from typing import Any

from tqdm.std import tqdm

REFRESH = 0.5
"""Seconds between redraws of a bar (the last state is always drawn)."""


def progress_bar(total: int, progress: bool, unit: str = "epoch") -> Any:
    """A bar over ``total`` units (epochs, steps) where someone is watching, a silent
    stand-in elsewhere."""
    if not progress:
        return QuietBar()
    if in_notebook():
        from IPython.display import display

        return NotebookBar(total, display, unit)
    if hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
        return tqdm(total=total, unit=unit, leave=True, mininterval=REFRESH)
    return QuietBar()


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython's ZMQ shell)."""
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    return get_ipython is not None and type(get_ipython()).__name__ == "ZMQInteractiveShell"


class NotebookBar:
    """tqdm's text line (``7/10 [00:01<00:00, 5.2epoch/s, loss=0.31]``) in one notebook
    output, redrawn in place at most every :data:`REFRESH` seconds and on ``close``."""

    def __init__(self, total: int, display: Callable[..., Any], unit: str = "epoch") -> None:
        self.n, self.total, self.unit = 0, total, unit
        self.postfix: dict[str, str] = {}
        self.start = time.perf_counter()
        self.drawn = -math.inf
        self.handle = display(self._bundle(), raw=True, display_id=True)

    def line(self) -> str:
        """The bar as one line of text, as tqdm draws it."""
        postfix = ", ".join(f"{name}={value}" for name, value in self.postfix.items())
        return tqdm.format_meter(self.n, self.total, time.perf_counter() - self.start,
                                 unit=self.unit, postfix=postfix or None)

    def update(self, n: int) -> None:
        self.n += n
        if time.perf_counter() - self.drawn >= REFRESH:
            self._draw()

    def set_postfix(self, values: dict[str, str], refresh: bool = True) -> None:
        self.postfix = dict(values)

    def close(self) -> None:
        self._draw()

    def _draw(self) -> None:
        self.drawn = time.perf_counter()
        if self.handle is not None:
            self.handle.update(self._bundle(), raw=True)

    def _bundle(self) -> dict[str, str]:
        """The line as text, and as HTML that wraps a line too wide for its cell between
        its parts, never inside a number (a front end's own text output may break it
        anywhere: ``val_accuracy=0.9`` / ``067``)."""
        line = self.line()
        return {"text/plain": line,
                "text/html": '<pre style="margin: 0; white-space: pre-wrap; word-break: normal; '
                             f'overflow-wrap: normal">{html.escape(line)}</pre>'}


class QuietBar:
    """The bar's interface, drawing nothing."""

    def update(self, n: int) -> None:
        pass

    def set_postfix(self, values: dict[str, str], refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass
