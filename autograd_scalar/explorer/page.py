"""The view's one script, for the notebook widget and for the saved page alike.

``view.js`` is the core (it draws, pans, steps and explains); ``view.css`` its style,
which the core puts inside the view's own shadow root. The notebook widget loads
the core as an ES module (anywidget's ``render``); the saved page inlines the same
core as a classic script and mounts it on the data written beside it. Under the
view, in the page's host element, sits the static picture: the shadow root hides it
once the script runs, and where no script runs it is what shows.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import zlib
from functools import cache
from importlib import resources
from itertools import count
from typing import Any

import numpy as np

from ..draw.layout import svg_img
from .records import per_node, plain

_serial = count()


def asset(name: str) -> str:
    """A file shipped beside this module (the view's script and style)."""
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


@cache
def core_script() -> str:
    """The core with its style: defines ``AutogradScalarView`` (mount, render).

    Safe to inline in a ``<script>`` element: no ``</script`` occurs in it.
    """
    script = (f"var STYLE = {json.dumps(asset('view.css'))};\n"
              f"{asset('routes.js')}\n{asset('view.js')}")
    return re.sub("</(script)", r"<\\/\1", script, flags=re.IGNORECASE)


@cache
def widget_module() -> str:
    """The core as an ES module whose default export is anywidget's ``render``."""
    return (core_script() + "\nexport default { render: function (context) {\n"
            "  return AutogradScalarView.render(context.model, context.el); } };\n")


PACKED_FROM = 5_000
"""A graph of more nodes travels packed (:func:`packed`); a smaller one as plain JSON."""
FLOAT32_UP_TO = 6
"""Numbers shown to at most this many significant digits travel as float32 (which holds
every decimal of 6 digits exactly enough to give it back), others as float64."""


def payload_json(data: dict[str, Any]) -> str:
    """The view's data as compact JSON, safe inside a ``<script>`` element: plain lists
    (:func:`~autograd_scalar.explorer.records.plain`) for a small graph, :func:`packed`
    columns for one of over PACKED_FROM nodes."""
    shown = packed(data) if len(data["data"]) > PACKED_FROM else plain(data)
    text = json.dumps(shown, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")


COLUMNS = ("data", "grad", "stepGrads", "tangents", "locals", "kids", "arity", "steps", "op",
           "scope")
"""The per-node (and per-edge) columns that travel in a packed payload's bytes."""


def packed(data: dict[str, Any]) -> dict[str, Any]:
    """The data with its big columns as bytes: each column a little-endian array (int32,
    or float32 / float64 rounded to the view's precision; float64 for a column with a
    number outside float32's normal range), 8-byte aligned, all of them
    compressed together with zlib and written in base64 under ``packed``, which says
    where each column lies (name: [type, byte offset, length]); ``names`` and
    ``labels`` only where not empty, as [[node numbers], [strings]]. The script's
    ``unpack`` (and :func:`unpacked` here) give back the plain form."""
    out = {key: value for key, value in data.items() if key not in COLUMNS}
    p = data["precision"]
    kind = "f4" if p <= FLOAT32_UP_TO else "f8"
    chunks, columns, offset = [], {}, 0
    for key in COLUMNS:
        if key not in data:
            continue
        column = data[key]
        if column.dtype.kind == "f":
            column = significant(column, p)
            column = column.astype("<" + (kind if fits_float32(column) else "f8"))
        else:
            column = column.astype("<i4")
        raw = column.tobytes()
        columns[key] = [column.dtype.str[1:], offset, len(column)]
        chunks.append(raw + bytes(-len(raw) % 8))
        offset += len(chunks[-1])
    blob = zlib.compress(b"".join(chunks), 3)
    out["packed"] = {"columns": columns, "bytes": base64.b64encode(blob).decode("ascii")}
    for key in ("names", "labels"):
        at = [k for k, text in enumerate(data[key]) if text]
        out[key] = [at, [data[key][k] for k in at]]
    return out


def fits_float32(x: np.ndarray) -> bool:
    """Whether every finite number of ``x`` is 0 or a normal float32 (no overflow to inf,
    no loss of digits in a subnormal)."""
    size = np.abs(x[np.isfinite(x)])
    tiny, huge = np.finfo(np.float32).tiny, np.finfo(np.float32).max
    return bool(np.all((size == 0) | ((size >= tiny) & (size <= huge))))


def unpacked(text: str) -> dict[str, Any]:
    """A payload's data in the plain form, packed or not (what the script reads)."""
    data = json.loads(text)
    if "packed" not in data:
        return data
    packing = data.pop("packed")
    blob = zlib.decompress(base64.b64decode(packing["bytes"]))
    columns = {key: np.frombuffer(blob, "<" + kind, length, offset)
               for key, (kind, offset, length) in packing["columns"].items()}
    n = int(columns["arity"].size)
    for key in ("names", "labels"):
        at, texts = data[key]
        full = [""] * n
        for k, text_ in zip(at, texts):
            full[k] = text_
        data[key] = full
    for key, column in columns.items():
        if column.dtype.kind == "f":
            data[key] = [x if math.isfinite(x) else str(x) for x in column.tolist()]
        else:
            data[key] = column.tolist()
    for key in ("kids", "locals"):
        data[key] = per_node(data[key], columns["arity"])
    del data["arity"]
    return data


def significant(x: np.ndarray, digits: int) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits, as :func:`rounded` rounds a number
    (up to the last binary digit), non-finite numbers as they are; from 17 digits on,
    ``x`` itself (every float64 is exact there).

    Scaled by a power of ten, a number is rounded in binary: near a tie (0.10005 times
    1e4 is 1000.4999999999999) that can round the other way than its decimal value, so
    those few are rounded as :func:`rounded` does, one by one; from 10 digits on the
    scaled number's own rounding reaches the tie, and every number is."""
    if digits >= 17:
        return x.astype(np.float64)
    if digits >= 10:
        return np.array([float(f"{v:.{digits}g}") if math.isfinite(v) else v
                         for v in x.astype(np.float64).ravel().tolist()]).reshape(x.shape)
    with np.errstate(all="ignore"):
        size = np.abs(x)
        shift = (digits - 1 - np.floor(np.log10(np.where(size > 0, size, 1.0)))).astype(int)
        up = shift >= 0
        scale = 10.0 ** np.abs(shift)
        scaled = np.where(up, x * scale, x / scale)
        result = np.where(up, np.round(scaled) / scale, np.round(scaled) * scale)
        near_tie = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 1e-6
    result = np.where(np.isfinite(result), result, x)
    for i in np.flatnonzero(near_tie & np.isfinite(x)):
        result.flat[i] = float(f"{float(x.flat[i]):.{digits}g}")
    return result


def page_fragment(data: dict[str, Any], picture: str) -> str:
    """The view as an HTML fragment: a host element holding the static picture, the
    data, and the core mounting the view over the picture."""
    view_id = f"agv-{os.getpid()}-{next(_serial)}"
    shown = f"computation graph of {len(data['data']):,} nodes"
    return (f'<div class="agv-host" id="{view_id}">{svg_img(picture, shown, "agv-picture")}</div>'
            f'<script type="application/json" id="{view_id}-data">{payload_json(data)}</script>'
            f"<script>{core_script()}\n(function () {{\n"
            f'  var host = document.getElementById("{view_id}");\n'
            f'  var data = JSON.parse(document.getElementById("{view_id}-data").textContent);\n'
            f"  AutogradScalarView.unpack(data).then(function (whole) {{\n"
            f"    AutogradScalarView.mount(host, whole); }});\n}})();</script>")


def page(data: dict[str, Any], picture: str) -> str:
    """A whole self-contained HTML page holding the view (nothing is fetched). The page
    keeps room for a scrollbar from the start: the panel growing as steps are taken
    would otherwise bring one, and the view would narrow and its graph jump."""
    title = html.escape(data.get("title") or "Computation graph")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n<style>html {{ scrollbar-gutter: stable; }}</style>\n"
            f"</head>\n<body>\n{page_fragment(data, picture)}\n"
            "</body>\n</html>\n")
