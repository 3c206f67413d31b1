"""The playground's static picture: one SVG of its current state, for where no widget runs.

A stored notebook opened without its kernel, an untrusted one, GitHub or nbviewer
cannot run the widget; they show this picture instead (it is in the widget's MIME
bundle, see :meth:`nn.playground.widget.Playground._repr_mimebundle_`). It draws
the same data the page draws (:mod:`.frames`): the network with its heat map, the
plane as an embedded PNG of the grid's colours (smoothed up to the panel's size, as
the page's canvas is) with the points on top, and the loss and accuracy curves with
their keys above the axes, laid out as the page lays them out. It needs nothing
beyond the standard library and NumPy.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from typing import Any

from autograd_scalar.validate import printable

from .frames import panel_height, row_spacing

PANEL = 300
GAP = 20
TOP = 52
HEIGHT = 420


def png(rgba: bytes, width: int, height: int) -> bytes:
    """A PNG file of an RGBA image (8 bits per channel, rows top first)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    stride = 4 * width
    rows = b"".join(b"\x00" + rgba[r * stride:(r + 1) * stride] for r in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def _number(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "0"
    return f"{x:.2e}" if abs(x) >= 1e4 or abs(x) < 1e-3 else f"{x:.{digits}g}"


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "start",
          fill: str = "#424a53", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{html.escape(printable(text))}</text>')


def network_svg(layout: dict[str, Any], frame: dict[str, Any], left: float) -> list[str]:
    """The network panel: weights as lines, units coloured by the heat map."""
    parts = [_text(left, TOP - 8, "network: |grad| of each unit's parameters", 12,
                   weight="bold")]
    if "units" not in layout:
        parts.append(_text(left, TOP + 16, layout.get("reason", ""), 11))
        return parts
    units = layout["units"]
    height = panel_height(layout["rows"])
    scale = min(1.0, (HEIGHT - TOP - 50) / height)
    columns = max(layout["columns"], 2)
    counts: dict[int, int] = {}
    for unit in units:
        counts[unit["column"]] = counts.get(unit["column"], 0) + 1
    place = []
    for unit in units:
        x = 34 + unit["column"] * (PANEL - 68) / (columns - 1)
        spacing = row_spacing(layout["rows"], counts[unit["column"]])
        place.append((left + x, TOP + (12 + spacing * (unit["row"] + 0.5)) * scale,
                      max(2.5, min(9.0, spacing * 0.38)) * scale))
    widths = frame.get("width", [0.5] * len(layout["edges"]))
    signs = frame.get("sign", [1] * len(layout["edges"]))
    strokes: dict[tuple[int, float], list[str]] = {}
    for (source, target), width, sign in zip(layout["edges"], widths, signs):
        (x1, y1, _), (x2, y2, _) = place[source], place[target]
        key = (sign, round(width * scale * 4) / 4)
        strokes.setdefault(key, []).append(f"M{x1:.1f} {y1:.1f}L{x2:.1f} {y2:.1f}")
    for (sign, width), segments in sorted(strokes.items()):
        colour = layout["positive"] if sign else layout["negative"]
        parts.append(f'<path d="{"".join(segments)}" stroke="{colour}" '
                     f'stroke-width="{max(width, 0.25):g}" stroke-opacity="0.65" fill="none"/>')
    fills = frame.get("fill", ["#ffffff"] * len(units))
    for unit, (x, y, r), fill in zip(units, place, fills):
        if unit["input"]:
            parts.append(f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
                         f'height="{2 * r:.1f}" rx="2" fill="#f0f0f0" stroke="#57606a" '
                         f'stroke-width="0.8"/>')
            if unit["named"]:
                parts.append(_text(x - r - 3, y + 3, unit["name"], 9, "end"))
        else:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" '
                         f'stroke="#57606a" stroke-width="0.8"/>')
    if "grad_max" in frame:
        parts.append(_text(left, HEIGHT - 40, f"heat: mean |grad| up to "
                                              f"{_number(frame['grad_max'])}", 10))
        parts.append(_text(left, HEIGHT - 27, "lines: blue w > 0, red w < 0, width ∝ |w|", 10))
    return parts


def plane_svg(grid: bytes, resolution: int, points: list[list[float]],
              classes: list[dict[str, str]], bounds: list[float], note: str,
              frame: dict[str, Any], left: float) -> list[str]:
    """The plane panel: the grid's colours as an embedded PNG, the points on top."""
    parts = [_text(left, TOP - 8, "decision boundary", 12, weight="bold")]
    if len(bounds) != 4 or len(grid) != resolution * resolution * 4:
        parts.append(_text(left, TOP + 16, note, 11))
        return parts
    encoded = base64.b64encode(png(grid, resolution, resolution)).decode("ascii")
    parts.append(f'<image x="{left}" y="{TOP}" width="{PANEL}" height="{PANEL}" '
                 f'preserveAspectRatio="none" image-rendering="optimizeQuality" '
                 f'href="data:image/png;base64,{encoded}"/>')
    parts.append(f'<rect x="{left}" y="{TOP}" width="{PANEL}" height="{PANEL}" fill="none" '
                 f'stroke="#d0d7de"/>')
    x0, x1, y0, y1 = bounds
    by_class: dict[int, list[str]] = {}
    for x, y, c in points:
        if x0 <= x <= x1 and y0 <= y <= y1:
            # in halves: the same numbers, and no inf where a side passes float range
            cx = left + (x / 2 - x0 / 2) / (x1 / 2 - x0 / 2) * PANEL
            cy = TOP + (y1 / 2 - y / 2) / (y1 / 2 - y0 / 2) * PANEL
            by_class.setdefault(int(c), []).append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" '
                                                   f'r="3.6"/>')
    for c, circles in sorted(by_class.items()):
        parts.append(f'<g fill="{classes[c]["colour"]}" stroke="#1d1d1f" stroke-width="0.8">'
                     + "".join(circles) + "</g>")
    parts.append(_text(left, TOP + PANEL + 16, f"{frame['points']} points · batches of "
                                               f"{frame['batch']}", 10))
    return parts


def curve_svg(frame: dict[str, Any], left: float) -> list[str]:
    """The loss and accuracy curves over the steps, and the optimizer's state."""
    parts = [_text(left, TOP - 8, "loss and accuracy per step", 12, weight="bold")]
    box_left, box_right, box_top, box_bottom = left + 40, left + PANEL - 8, TOP + 22, TOP + 162
    parts.append(f'<rect x="{box_left}" y="{box_top}" width="{box_right - box_left}" '
                 f'height="{box_bottom - box_top}" fill="#ffffff" stroke="#d0d7de"/>')
    curve = frame["curve"]
    steps = curve["step"]
    if steps:
        first, last = steps[0], max(steps[-1], steps[0] + 1)
        losses = [v for v in curve["loss"] if v is not None]
        highest = max([*losses, 1e-12])

        def line(values: list[float | None], scale: float, style: str) -> str:
            points = " ".join(
                f"{box_left + (s - first) / (last - first) * (box_right - box_left):.1f},"
                f"{box_bottom - v / scale * (box_bottom - box_top):.1f}"
                for s, v in zip(steps, values) if v is not None)
            return f'<polyline points="{points}" fill="none" {style}/>'

        if curve["accuracy"]:
            parts.append(line(curve["accuracy"], 1.0, 'stroke="#2ca02c" stroke-width="1.2" '
                                                      'stroke-dasharray="4 3"'))
        parts.append(line(curve["loss"], highest, 'stroke="#1f77b4" stroke-width="1.6"'))
        # the keys sit above the axes, where no curve can run over them (as on the page)
        key_right = box_right - 92 if curve["accuracy"] else box_right
        parts.append(_text(key_right, box_top - 7, "loss", 10, "end", fill="#1f77b4"))
        if curve["accuracy"]:
            parts.append(_text(box_right, box_top - 7, "accuracy (0 to 1)", 10, "end",
                               fill="#2ca02c"))
        parts.append(_text(box_left - 4, box_top + 8, _number(highest, 3), 10, "end"))
        parts.append(_text(box_left - 4, box_bottom, "0", 10, "end"))
        parts.append(_text(box_left, box_bottom + 14, str(first), 10))
        parts.append(_text(box_right, box_bottom + 14, f"step {steps[-1]}", 10, "end"))
    else:
        parts.append(_text((box_left + box_right) / 2, (box_top + box_bottom) / 2,
                           "no steps yet", 10, "middle"))
    accuracy = frame.get("accuracy")
    summary = f"step {frame['step']} · loss {_number(frame.get('loss'))}" + (
        "" if accuracy is None else f" · accuracy {accuracy:.2f}")
    parts.append(_text(left, box_bottom + 38, summary, 12, fill="#1d1d1f"))
    optimizer = frame["optimizer"]
    state = [f"|{name}| {_number(norm, 3)}" for name, norm in optimizer["state"]]
    steps = f"{optimizer['steps']} step{'' if optimizer['steps'] == 1 else 's'}"
    parts.append(_text(left, box_bottom + 56, " · ".join(
        [f"{optimizer['name']}: {steps}", f"lr {_number(optimizer['lr'])}", *state]), 10))
    mode = frame["mode"] + (f" ({frame['reason']})" if frame.get("reason") else "")
    parts.append(_text(left, box_bottom + 72, f"training {mode}", 10))
    return parts


def picture(title: str, layout: dict[str, Any], frame: dict[str, Any], grid: bytes,
            resolution: int, points: list[list[float]], classes: list[dict[str, str]],
            bounds: list[float], note: str) -> str:
    """The whole picture as an SVG document (three panels side by side, a title above)."""
    width = 3 * PANEL + 2 * GAP + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
             f'viewBox="0 0 {width} {HEIGHT}" font-family="Helvetica, Arial, sans-serif">',
             f'<rect width="{width}" height="{HEIGHT}" fill="#ffffff"/>',
             _text(10, 22, title or "Training playground", 14, fill="#1d1d1f",
                   weight="bold")]
    parts += network_svg(layout, frame, 10)
    parts += plane_svg(grid, resolution, points, classes, bounds, note, frame,
                       10 + PANEL + GAP)
    parts += curve_svg(frame, 10 + 2 * (PANEL + GAP))
    parts.append("</svg>")
    return "\n".join(parts)
