"""What the playground shows, as plain data: the network's layout, the plane, and frames.

The page (``playground.js``) and the static picture (:mod:`.picture`) draw the same
data, so every colour and number is decided here, once:

- the network: units in columns (inputs, then each layer, ranked by their longest
  path from the inputs, as :func:`nn.draw.draw_network` ranks them), weights as
  lines whose width grows with |w| and whose colour gives its sign;
- the gradient heat map: each unit coloured by the mean |grad| of its own
  parameters (weights into it and its bias) at the last step, relative to the
  largest unit on a square-root scale (so units a hundred times quieter than the
  loudest still show), on a white-to-dark-red ramp;
- the plane (2-D data only): a square around the data, the model's predicted
  class on a ``resolution`` x ``resolution`` grid (compiled prediction at the cell
  centres, one batched forward), the class's colour faded towards white as the
  model is less sure (see :func:`.session.classes_and_confidence`), each cell the
  mean colour over its area (:func:`grid_rgba`), as RGBA bytes, top row first;
- a frame: the step count, the loss and accuracy curves (at most CURVE_POINTS
  points, evenly thinned), the optimizer's state (its step count, learning rate
  and the norm of each of its state buffers, e.g. Adam's moments m and v) and
  the heat map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_scalar import TraceError

from ..compiled import compiled_predict
from ..draw import NEGATIVE, POSITIVE, ranks, short_name, trace_network
from ..plot import PALETTE
from ..train import predict
from .session import Session, classes_and_confidence

CURVE_POINTS = 500
"""The most points of the loss curve a frame carries (older ones are thinned)."""
MAX_UNITS = 300
MAX_EDGES = 5000
"""Networks with more units or weights than these are not drawn (the rest still works)."""
HEAT = ("#ffffff", "#fee8c8", "#fdbb84", "#e34a33", "#7f0000")
"""The heat map's colour ramp, from no gradient to the largest."""
PADDING = 0.15
"""The plane extends this fraction of the data's range beyond it on each side."""
SAMPLES = 4
"""A grid cell's colour is the mean of SAMPLES x SAMPLES points spread over the cell."""
NAME_LINE = 11
"""Drawing units between the input names written beside the network (9 units high): where
inputs are closer (a digit's 64 pixels), every k-th one is named, each keeping its name as
a tooltip."""
FAR = 1e300
"""An infinite output is read as this far out, so that reading between cells stays finite."""


def network_layout(session: Session) -> dict[str, Any]:
    """Units (label, column, row, whether an input) and weights (source, target) of the
    model, with each weight's and each unit's parameters as indices into
    ``session.params``; or ``{"reason": ...}`` when the model cannot be drawn so."""
    try:
        net = trace_network(session.model)
    except (TypeError, ValueError, AttributeError) as error:
        return {"reason": f"the network is not drawn: {error}"}
    units = [*net.inputs, *net.neurons]
    if len(units) > MAX_UNITS or len(net.connections) > MAX_EDGES:
        return {"reason": f"the network is not drawn: {len(units)} units and "
                          f"{len(net.connections)} weights are more than a picture can show"}
    index = {id(p): i for i, p in enumerate(session.params)}
    column = ranks(net.inputs, net.neurons, net.connections)
    rows: dict[int, int] = {}
    placed = []
    for unit in units:
        c = column.get(unit, 0)
        placed.append({"name": unit, "label": short_name(unit), "column": c,
                       "row": rows.get(c, 0), "input": unit in net.inputs})
        rows[c] = rows.get(c, 0) + 1
    every = math.ceil(NAME_LINE / row_spacing(max(rows.values()), len(net.inputs)))
    for k, drawn in enumerate(placed[:len(net.inputs)]):  # the inputs, rows 0, 1, ...
        drawn["named"] = k % every == 0  # a line apart: every k-th where rows are closer
    for drawn in placed[len(net.inputs):]:
        drawn["named"] = False
    position = {unit: i for i, unit in enumerate(units)}
    owned: list[list[int]] = [[] for _ in units]
    for name, p in net.params.items():
        unit = name.rsplit(".", 1)[0]
        if unit in position and id(p) in index:
            owned[position[unit]].append(index[id(p)])
    edges = [[position[c.source], position[c.target]] for c in net.connections]
    weights = [index.get(id(net.params[c.name]), -1) for c in net.connections]
    return {"units": placed, "edges": edges, "weights": weights, "owned": owned,
            "columns": max(column.values(), default=0) + 1,
            "rows": max(rows.values(), default=1), "positive": POSITIVE,
            "negative": NEGATIVE}


def panel_height(rows: int) -> float:
    """The network panel's height in its drawing units, for a column of ``rows`` units
    at most (as the page and the static picture draw it)."""
    return min(420, max(170, max(rows, 2) * 16 + 20))


def row_spacing(rows: int, count: int) -> float:
    """The distance between the units of a column of ``count`` in the network panel."""
    return (panel_height(rows) - 24) / max(count, 1)


def plane_bounds(X: np.ndarray) -> list[float]:
    """[x0, x1, y0, y1]: a square holding every point of 2-D ``X`` with some room, within
    float range (halves first: points at +-1e308 have a span past it, whose inf made the
    grid NaN)."""
    low, high = X.min(axis=0), X.max(axis=0)
    centre = low / 2 + high / 2
    half = max(float((high / 2 - low / 2).max()), 1e-6) * (1 + 2 * PADDING)
    top = float(np.finfo(np.float64).max)
    return [float(np.clip(value, -top, top)) for value in
            (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)]


def grid_points(bounds: list[float], resolution: int) -> np.ndarray:
    """The centres of the grid's cells (resolution^2, 2), the top row first. Bounds whose
    span passes float range (points near +-1e308) are interpolated instead, each centre
    a weighted mean of the two ends."""
    x0, x1, y0, y1 = bounds
    step_x, step_y = (x1 - x0) / resolution, (y1 - y0) / resolution
    offsets = np.arange(resolution) + 0.5
    if math.isfinite(step_x * resolution) and math.isfinite(step_y * resolution):
        xs, ys = x0 + offsets * step_x, y1 - offsets * step_y
    else:
        t = offsets / resolution
        xs, ys = x0 * (1 - t) + x1 * t, y1 * (1 - t) + y0 * t
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def grid_outputs(session: Session, points: np.ndarray) -> np.ndarray:
    """The model's raw outputs on the grid: compiled (one batched forward) while the
    session trains compiled, eagerly when compiling was refused."""
    if session.compiled:
        try:
            return compiled_predict(session.model, points)
        except TraceError:
            pass
    return predict(session.model, points)


def rgb_rows(colours: Sequence[str]) -> np.ndarray:
    """Hex colours ``#rrggbb`` as RGB rows (len(colours), 3) of 0..255."""
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours],
                    dtype=np.float64)


def grid_rgba(session: Session, points: np.ndarray) -> bytes:
    """The plane's picture: one RGBA pixel per grid cell, the top row first.

    ``points`` are :func:`grid_points`'s cell centres, where the model is run. A
    cell's colour is the mean over SAMPLES x SAMPLES points spread evenly over it,
    the model's raw outputs read linearly between the centres (:func:`across_cells`).
    Coloured by its centre alone, a boundary sharper than a cell shows as a chain of
    pale beads, at the cells whose centres happen to fall in its uncertain band, once
    the page smooths the grid up to its size; a cell's mean colour holds as much of
    the band as crosses the cell, so the band runs evenly along the boundary.
    """
    resolution = math.isqrt(len(points))
    if resolution * resolution != len(points):
        raise ValueError(f"grid_rgba: expected the {len(points)} points of a square grid")
    raw = np.asarray(grid_outputs(session, points), dtype=np.float64)
    raw = np.nan_to_num(raw, nan=np.nan, posinf=FAR, neginf=-FAR)
    outputs = raw.reshape(len(points), -1)
    spread = across_cells(outputs.reshape(resolution, resolution, -1), SAMPLES)
    classes, confidence = classes_and_confidence(
        session.loss, spread.reshape(-1, outputs.shape[1]), session.codes)
    # a point's colour is 255 - (255 - its class's colour) * strength, so a cell's mean
    # is 255 - sum over classes of (255 - colour) * (the class's strengths / SAMPLES^2)
    row, column = np.divmod(np.arange(len(classes)), resolution * SAMPLES)
    cell = (row // SAMPLES) * resolution + column // SAMPLES
    palette = rgb_rows(PALETTE)
    strength = np.bincount(cell * len(palette) + classes, weights=0.12 + 0.55 * confidence,
                           minlength=len(points) * len(palette)) / SAMPLES ** 2
    rgb = 255 - strength.reshape(len(points), len(palette)) @ (255 - palette)
    pixels = np.empty((len(points), 4), dtype=np.uint8)
    pixels[:, :3] = np.round(rgb).astype(np.uint8)
    pixels[:, 3] = 255
    return pixels.tobytes()


def across_cells(values: np.ndarray, samples: int) -> np.ndarray:
    """``values`` at the centres of a grid's cells (rows, columns, k), read linearly
    between the centres (and as the nearest centre's beyond the outer ones) at
    ``samples`` x ``samples`` points evenly spread over each cell: an array of
    (rows * samples, columns * samples, k), each cell's points in a square block."""
    def weights(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        at = np.clip((np.arange(n * samples) + 0.5) / samples - 0.5, 0, n - 1)
        low = np.minimum(np.floor(at).astype(np.intp), max(n - 2, 0))
        return low, np.minimum(low + 1, n - 1), at - low

    low, high, t = weights(values.shape[0])
    rows = values[low] * (1 - t)[:, None, None] + values[high] * t[:, None, None]
    low, high, t = weights(values.shape[1])
    return rows[:, low] * (1 - t)[None, :, None] + rows[:, high] * t[None, :, None]


def point_list(session: Session) -> list[list[float]]:
    """The data as [x, y, class index] rows (2-D data; rounded for a small message)."""
    points = session.X[:, :2]
    with np.errstate(over="ignore", invalid="ignore"):  # rounding scales by 1e5 first
        rounded = np.round(points, 5)
    rounded = np.where(np.isfinite(rounded), rounded, points).tolist()
    return [[x, y, c] for (x, y), c in zip(rounded, session.class_index.tolist())]


def heat_colours(values: np.ndarray) -> list[str]:
    """Hex colours on the HEAT ramp for values in [0, 1]."""
    ramp = rgb_rows(HEAT)
    position = np.clip(values, 0, 1) * (len(HEAT) - 1)
    low = np.minimum(position.astype(int), len(HEAT) - 2)
    t = (position - low)[:, None]
    rgb = np.round(ramp[low] * (1 - t) + ramp[low + 1] * t).astype(int)
    return ["#" + "".join(f"{channel:02x}" for channel in row) for row in rgb.tolist()]


def frame(session: Session, layout: dict[str, Any]) -> dict[str, Any]:
    """The state after the last step, JSON-ready (every number finite or None)."""
    data = np.fromiter((p.data for p in session.params), np.float64, len(session.params))
    grads = np.fromiter((p.grad for p in session.params), np.float64, len(session.params))
    optimizer = session.optimizer
    state = [[name, _finite(float(np.linalg.norm(buffer)))]
             for name, buffer in sorted(optimizer.state.items())]
    picked = _thinned(len(session.steps))
    result: dict[str, Any] = {
        "step": session.count,
        "points": len(session.X),
        "loss": _finite(session.losses[-1]) if session.losses else None,
        "accuracy": session.accuracies[-1] if session.accuracies else None,
        "curve": {"step": [session.steps[i] for i in picked],
                  "loss": [_finite(session.losses[i]) for i in picked],
                  "accuracy": [session.accuracies[i] for i in picked]
                  if len(session.accuracies) == len(session.steps) else []},
        "optimizer": {"name": type(optimizer).__name__, "lr": optimizer.lr,
                      "steps": optimizer.steps, "state": state},
        "lr": optimizer.lr,
        "batch_size": session.batch_size,
        "batch": session.effective_batch,
        "mode": "compiled" if session.compiled else "eager",
        "reason": session.eager_reason,
    }
    if "units" in layout:
        result.update(network_frame(layout, data, grads))
    return result


def network_frame(layout: dict[str, Any], data: np.ndarray, grads: np.ndarray
                  ) -> dict[str, Any]:
    """The heat map's unit colours and mean |grad|s, and each weight's line width and sign."""
    magnitude = np.abs(np.nan_to_num(grads, nan=0.0, posinf=0.0, neginf=0.0))
    means = np.array([magnitude[own].mean() if own else np.nan for own in layout["owned"]])
    largest = float(np.nanmax(means)) if np.isfinite(means).any() else 0.0
    relative = np.nan_to_num(np.sqrt(means / largest) if largest > 0 else means * 0, nan=0.0)
    fills = heat_colours(relative)
    fills = [fill if own else "#f0f0f0" for fill, own in zip(fills, layout["owned"])]
    index = np.array(layout["weights"], dtype=np.intp)
    weights = np.where(index >= 0, data[index], 0.0) if len(index) else np.zeros(0)
    weights = np.nan_to_num(weights, nan=0.0, posinf=0.0, neginf=0.0)
    top = float(np.abs(weights).max()) if len(weights) else 0.0
    widths = 0.3 + 3.2 * np.abs(weights) / top if top > 0 else np.full(len(weights), 0.3)
    return {"fill": fills,
            "grad": [None if np.isnan(m) else float(m) for m in means.tolist()],
            "grad_max": largest,
            "width": np.round(widths, 2).tolist(),
            "sign": (weights >= 0).astype(int).tolist()}


def _thinned(n: int) -> list[int]:
    """At most CURVE_POINTS indices of 0..n-1, evenly spread, first and last kept."""
    if n <= CURVE_POINTS:
        return list(range(n))
    return np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int)).tolist()


def _finite(x: float) -> float | None:
    return x if np.isfinite(x) else None
