"""The playground widget: a :class:`Session` shown and driven from the notebook page.

An ``anywidget.AnyWidget``: its page side is ``playground.js`` (an ES module shipped
beside this file), drawn inside a shadow root with ``playground.css`` inside that
root, so the host page's style cannot reach it. Only anywidget's documented model
API is used on either side, so it runs in JupyterLab, Notebook 7, VS Code and Colab.

State flows one way, from the kernel to the page, through synced traits: the
network's layout, the classes, the plane's bounds (fixed when the widget is made),
the points, the grid's pixels and a frame (:func:`.frames.frame`, sent as one JSON
string: ipywidgets walks a dict's every list looking for binary buffers, which
for a frame's few thousand numbers cost more than the step itself). The page sends
commands as custom messages ({"type": "step"}, {"type": "lr", "value": "0.1"},
{"type": "add", "x": ..., "y": ..., "label": 1}, ...); the kernel checks each one,
applies it or shows why not, and pushes the new state. A control never changes a
trait itself, so what the page shows is always what the kernel holds.

Play runs in the kernel: a background thread takes ``steps_per_update`` steps and
publishes the frame; a page answers each frame it receives ({"type": "received"})
and draws the latest one at its next paint. Before publishing frame k + 1 the
thread waits until frame k - 1 was answered (so at most IN_FLIGHT frames are on
their way: the round trip's latency is paid once per two updates, not once per
update), or ACK_TIMEOUT passed (no page shows the widget), and at least
1 / max_rate seconds since the last update began. So the kernel drives the pace, a
slow page slows it instead of queueing frames, and a cell run meanwhile is not
blocked. A lock serialises the thread and the commands, so each sees a whole step.
Play with no page (started from code, the widget never shown) goes on at the
timeout's pace; but once a page has answered during this play, play pauses when no
page has answered for PAGE_GONE_AFTER seconds and PAGE_GONE_FRAMES frames: its view
was closed, or its cell run again, and nothing could show or stop the training.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import html
import json
import math
import threading
import time
from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from autograd_scalar.validate import integer, is_integer, is_real

from ..optim import Optimizer
from ..plot import PALETTE
from .frames import frame, grid_points, grid_rgba, network_layout, plane_bounds, point_list
from .picture import picture
from .session import Session, class_label, point

ACK_TIMEOUT = 0.5
"""Seconds the play loop waits for a page to answer a frame before going on."""
IN_FLIGHT = 2
"""Frames the play loop sends ahead of the page's answers."""
PAGE_GONE_AFTER = 10.0
"""Seconds without an answer, once a page has answered, after which play pauses."""
PAGE_GONE_FRAMES = 10
"""Frames published without an answer (as well as the seconds) before play pauses."""
RATE_WINDOW = 50
"""Updates over which ``updates_per_second`` is measured."""
_PRIVATE = ("owned", "weights")
"""Parts of the network layout the kernel keeps to itself (indices into the parameters)."""


class Playground(anywidget.AnyWidget):
    """A training playground for ``model`` on ``X``, ``y`` (see :func:`nn.playground`)."""

    _esm = Path(__file__).with_name("playground.js")
    _style = traitlets.Unicode("").tag(sync=True)
    _title = traitlets.Unicode("").tag(sync=True)
    _network = traitlets.Dict().tag(sync=True)
    _classes: traitlets.List[Any] = traitlets.List().tag(sync=True)
    _bounds: traitlets.List[Any] = traitlets.List().tag(sync=True)
    _plane_note = traitlets.Unicode("").tag(sync=True)
    _resolution = traitlets.Int(0).tag(sync=True)
    _points: traitlets.List[Any] = traitlets.List().tag(sync=True)
    _grid = traitlets.Bytes(b"").tag(sync=True)
    _frame = traitlets.Unicode("{}").tag(sync=True)

    def __init__(self, model: Any, X: Any, y: Any, *, loss: Any, optimizer: Optimizer,
                 batch_size: int | None = None, compiled: bool | str = "auto",
                 seed: int | np.random.Generator | None = None, clip: float | None = None,
                 resolution: int = 48, steps_per_update: int = 1, max_rate: float = 30.0,
                 title: str = "") -> None:
        resolution = _whole("resolution", resolution, 8, 256)
        steps_per_update = _whole("steps_per_update", steps_per_update, 1, 10_000)
        if not is_real(max_rate) or not (math.isfinite(max_rate) and max_rate > 0):
            raise ValueError(f"max_rate must be a number of updates per second > 0, "
                             f"got {max_rate!r}")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        session = Session(model, X, y, loss=loss, optimizer=optimizer, batch_size=batch_size,
                          compiled=compiled, seed=seed, clip=clip)
        self.session = session
        self._layout = network_layout(session)
        plane = session.X.shape[1] == 2
        bounds = plane_bounds(session.X) if plane else []
        self._grid_at = grid_points(bounds, resolution) if plane else np.zeros((0, 2))
        self._steps_per_update = steps_per_update
        self._interval = 1.0 / float(max_rate)
        self._lock = threading.RLock()
        self._answered = threading.Condition()
        self._acked = 0
        self._answered_at: float | None = None  # when a page last answered during play
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._playing = False
        self._error = ""
        self._frame_id = 0
        self._shown: dict[str, Any] = {}
        self._times: collections.deque[float] = collections.deque(maxlen=RATE_WINDOW)
        classes = [{"label": class_label(c), "colour": PALETTE[i]}
                   for i, c in enumerate(session.classes)]
        note = "" if plane else (f"no decision boundary: the data has {session.X.shape[1]} "
                                 "input columns; the plane needs 2")
        public_layout = {k: v for k, v in self._layout.items() if k not in _PRIVATE}
        super().__init__(_style=_asset("playground.css"), _title=title,
                         _network=public_layout, _classes=classes, _bounds=bounds,
                         _plane_note=note, _resolution=resolution if plane else 0)
        self.on_msg(self._on_message)
        self._publish(points=True)

    # -- training ------------------------------------------------------------

    def step(self, count: int = 1) -> float:
        """Take ``count`` updates (see ``Session.step``), show the result, return the
        last batch's loss."""
        with self._lock:
            self._error = ""
            try:
                loss = self.session.step(count)
            except BaseException:
                with contextlib.suppress(Exception):  # shown as the error left it; a failure
                    self._publish()                   # to show must not hide the error
                raise
            self._publish()
            return loss

    def play(self) -> None:
        """Train in the kernel until :meth:`pause`: ``steps_per_update`` steps per update,
        at most ``max_rate`` updates per second, paced by the page's answers (see the
        module docstring)."""
        with self._lock:
            self._error = ""
            if self._playing:
                return
            self._playing = True
            self._stop.clear()
            self._times.clear()
            self._answered_at = None
            self._publish()
            self._thread = threading.Thread(target=self._play_loop, name="nn-playground",
                                            daemon=True)
            self._thread.start()  # its first step waits for this lock

    def pause(self) -> None:
        """Stop playing after the update under way (waits for it)."""
        with self._lock:
            self._stop.set()
            with self._answered:
                self._answered.notify_all()
            thread, self._thread = self._thread, None
            if self._playing:
                self._playing = False
                self._publish()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    @property
    def playing(self) -> bool:
        return self._playing

    def _play_loop(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            with self._lock:
                if self._stop.is_set():
                    break
                try:
                    self.session.step(self._steps_per_update)
                except Exception as error:  # shown on the page; the loop must not die silently
                    self._stop.set()
                    self._playing = False
                    self._error = f"stopped playing: {type(error).__name__}: {error}"
                    self._publish()
                    break
                if self._page_gone():
                    self._stop.set()
                    self._playing = False
                    self._error = (f"paused: no page answered for {PAGE_GONE_AFTER:g} s (the "
                                   "view was closed or its cell run again)")
                    self._publish()
                    break
                self._publish()
                self._times.append(time.perf_counter())
                wanted = self._frame_id - IN_FLIGHT
            with self._answered:
                self._answered.wait_for(partial(self._answered_after, wanted), ACK_TIMEOUT)
            rest = self._interval - (time.perf_counter() - started)
            if rest > 0:
                self._stop.wait(rest)

    @property
    def frame(self) -> dict[str, Any]:
        """The state last shown (see ``frames.frame``), with the frame's ``id``,
        ``playing``, ``error`` and ``steps_per_update``; a copy."""
        return json.loads(self._frame)

    def _page_gone(self) -> bool:
        """Whether the page that answered during this play has stopped answering: for
        PAGE_GONE_AFTER seconds and the last PAGE_GONE_FRAMES frames."""
        return (self._answered_at is not None
                and self._frame_id - self._acked >= PAGE_GONE_FRAMES
                and time.monotonic() - self._answered_at > PAGE_GONE_AFTER)

    def _answered_after(self, frame_id: int) -> bool:
        """Whether a page answered a frame after ``frame_id``, or play is stopping."""
        return self._acked > frame_id or self._stop.is_set()

    @property
    def updates_per_second(self) -> float | None:
        """Updates per second over the last RATE_WINDOW updates of play (None before two)."""
        times = list(self._times)
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    def reset(self) -> None:
        """Back to the initial parameters and optimizer state (see ``Session.reset``)."""
        self._change(self.session.reset)

    def _change(self, apply: Callable[[], Any], points: bool = False) -> Any:
        """``apply()`` under the lock, then the error shown cleared and the new state shown
        (with the points when ``points``); if it raises, nothing is shown anew."""
        with self._lock:
            result = apply()
            self._error = ""
            self._publish(points)
            return result

    # -- settings --------------------------------------------------------------

    @property
    def lr(self) -> float:
        """The optimizer's learning rate; setting it checks it (a finite number > 0)."""
        return self.session.lr

    @lr.setter
    def lr(self, value: Any) -> None:
        self._change(partial(self.session.set_lr, value))

    @property
    def batch_size(self) -> int | None:
        """Examples per update, None for the whole data set; setting it checks it."""
        return self.session.batch_size

    @batch_size.setter
    def batch_size(self, value: Any) -> None:
        self._change(partial(self.session.set_batch_size, value))

    @property
    def steps_per_update(self) -> int:
        """Steps taken between two updates of the page while playing."""
        return self._steps_per_update

    @steps_per_update.setter
    def steps_per_update(self, value: Any) -> None:
        if isinstance(value, str):
            value = _parsed_int("steps per update", value)
        checked = _whole("steps_per_update", value, 1, 10_000)
        self._change(partial(setattr, self, "_steps_per_update", checked))

    # -- the data ----------------------------------------------------------------

    @property
    def X(self) -> np.ndarray:
        """The inputs as they are now (points added or removed included); a copy."""
        return self.session.X.copy()

    @property
    def y(self) -> np.ndarray:
        """The labels as they are now; a copy."""
        return self.session.labels.copy()

    @property
    def history(self) -> dict[str, list[float]]:
        """The steps since the last reset, each with its number, the batch's loss and accuracy."""
        return {"step": list(self.session.steps), "loss": list(self.session.losses),
                "accuracy": list(self.session.accuracies)}

    def add_point(self, x: float, y: float, label: int) -> int:
        """Add the point (x, y) of class index ``label``; returns the number of points.

        The point must lie on the plane shown (its bounds are fixed when the widget is
        made): a point off it would be trained on but never seen."""
        return int(self._change(partial(self._add_on_plane, x, y, label), points=True))

    def _add_on_plane(self, x: Any, y: Any, label: Any) -> int:
        """Add the point if it lies on the plane (to a millionth of its side, which a
        click's rounding never reaches past); numbers or text, as ``add_point`` takes."""
        a, b = (float(v) for v in point(x, y))
        if self._bounds:
            x0, x1, y0, y1 = self._bounds
            slack = 2e-6 * (x1 / 2 - x0 / 2)  # a millionth of the side, in halves
            if not (x0 - slack <= a <= x1 + slack and y0 - slack <= b <= y1 + slack):
                raise ValueError(f"the point ({x!r}, {y!r}) is off the plane shown, which "
                                 f"spans x from {x0:.4g} to {x1:.4g} and y from {y0:.4g} "
                                 f"to {y1:.4g}")
        return self.session.add_point(a, b, label)

    def remove_point(self, index: int) -> int:
        """Remove the point at ``index``; returns the number of points left."""
        return int(self._change(partial(self.session.remove_point, index), points=True))

    def remove_nearest(self, x: float, y: float) -> int:
        """Remove the point nearest to (x, y); returns the number of points left."""
        with self._lock:
            return self.remove_point(self.session.nearest(x, y))

    # -- showing ------------------------------------------------------------------

    def _publish(self, points: bool = False) -> None:
        """Push the current state to the page in one message (caller holds the lock)."""
        state = frame(self.session, self._layout)
        self._frame_id += 1
        state.update(id=self._frame_id, playing=self._playing, error=self._error,
                     steps_per_update=self._steps_per_update)
        with self.hold_sync():
            if points and self._resolution:
                self._points = point_list(self.session)
            if self._resolution:
                self._grid = grid_rgba(self.session, self._grid_at)
            self._shown = state
            self._frame = json.dumps(state, separators=(",", ":"), allow_nan=False)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """A command from the page: applied, or its error shown on the page."""
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        field: Callable[[str], Any] = content.get
        if kind == "received":
            frame_id = content.get("frame")
            if is_integer(frame_id):
                with self._answered:
                    self._acked = max(self._acked, int(frame_id))
                    if self._playing:
                        self._answered_at = time.monotonic()
                    self._answered.notify_all()
            return
        commands = {
            "step": lambda: self.step(),
            "play": self.play,
            "pause": self.pause,
            "reset": self.reset,
            "lr": lambda: setattr(self, "lr", field("value")),
            "batch": lambda: setattr(self, "batch_size", field("value")),
            "speed": lambda: setattr(self, "steps_per_update", field("value")),
            "add": lambda: self.add_point(field("x"), field("y"), field("label")),
            "remove": lambda: self.remove_nearest(field("x"), field("y")),
        }
        command = commands.get(kind)  # type: ignore[arg-type]
        if command is None:
            return
        try:
            command()
        except (ValueError, TypeError, ArithmeticError) as error:
            with self._lock:
                self._error = str(error)
                self._publish()
            self.send({"type": "error", "message": str(error)})

    def picture(self) -> str:
        """The current state as an SVG picture (what a page without the widget shows)."""
        with self._lock:
            return picture(self._title, self._layout, self._shown, bytes(self._grid),
                           self._resolution, list(self._points), list(self._classes),
                           list(self._bounds), self._plane_note)

    def summary(self) -> str:
        """One line: the model, the data, the optimizer and where training stands."""
        session = self.session
        model = session.model
        extra = getattr(model, "extra_repr", None)
        described = f"{type(model).__name__}({extra()})" if callable(extra) else \
            type(model).__name__
        loss = f", loss {session.losses[-1]:.4g}" if session.losses else ""
        return (f"Playground: {described} on {len(session.X)} points "
                f"({len(session.classes)} classes), {type(session.optimizer).__name__} "
                f"lr {session.lr:g}, step {session.count}{loss}")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget's view, and beside it a static picture and a line of text for
        viewers that cannot run the widget (a stored or untrusted notebook, GitHub):
        ``image/svg+xml``, the same picture in ``text/html`` as an ``<img>`` (untrusted
        notebooks show only what is safe, and sanitised HTML is), and ``text/plain``."""
        result = super()._repr_mimebundle_(**kwargs)
        data, metadata = result if isinstance(result, tuple) else (result or {}, {})
        svg = self.picture()
        encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        alt = html.escape(self.summary(), quote=True)
        return ({**data, "text/plain": self.summary(), "image/svg+xml": svg,
                 "text/html": f'<img alt="{alt}" style="max-width:100%" '
                              f'src="data:image/svg+xml;base64,{encoded}">'}, metadata)

    def close(self) -> None:
        """Stop playing and close the widget."""
        if getattr(self, "_playing", False):
            self.pause()
        super().close()


def _asset(name: str) -> str:
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


def _whole(name: str, value: Any, low: int, high: int) -> int:
    integer(name, value, low, high, what=f"a whole number from {low} to {high}")
    return int(value)


def _parsed_int(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None
