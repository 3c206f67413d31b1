"""Each figure against its target, marked in the results' tables and summed up on top.

The benchmarks print a target beside each figure that has one, in one of two forms:

- a column named ``target`` (``<= 3x``, ``>= 30x``, ``< 1 s``; a bare ``1 s`` is an
  upper bound), the figure in the next column;
- a column whose header ends in ``(target <= 1.3x)`` (or ``(aim >= 1x)``): every row's
  figure in that column, except in rows whose first cell says ``not the target's row``.

A figure is its cell's first number (a median, before its range), in the target's unit
(``x``, ``s``/``ms``/``µs``/``ns``, ``B``/``kB``/``MB``/``KiB``/``MiB``, or none). A figure
that meets its target gets ``(met)`` after it, one that does not ``(**missed**)``; a cell
that cannot be read against its target is left as it is. :func:`summary` lists the misses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"": ("", 1.0), "x": ("x", 1.0),
         "ns": ("s", 1e-9), "µs": ("s", 1e-6), "ms": ("s", 1e-3), "s": ("s", 1.0),
         "B": ("B", 1.0), "kB": ("B", 1e3), "MB": ("B", 1e6), "KiB": ("B", 1024.0),
         "MiB": ("B", 1024.0 ** 2)}
"""Each unit a figure may have: its dimension and its size in that dimension's base."""

_NUMBER = r"(\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?)"
_UNIT = r"(x|ns|µs|ms|s|B|kB|MB|KiB|MiB)?(?![\w/])"
FIGURE = re.compile(rf"^\s*{_NUMBER}\s*(?:\([^)]*\)\s*)?{_UNIT}")
"""A cell's first number, an optional range in brackets, then its unit."""
TARGET = re.compile(rf"^\s*(<=|>=|<|>)?\s*{_NUMBER}\s*{_UNIT}\s*$")
IN_HEADER = re.compile(rf"\((?:target|aim) (<=|>=|<|>) {_NUMBER}\s*{_UNIT}\)\s*$")
NOT_THE_TARGETS_ROW = "not the target's row"
MET, MISSED = " (met)", " (**missed**)"


@dataclass(frozen=True)
class Verdict:
    """One figure read against its target."""

    section: str
    measure: str
    figure: str
    target: str
    met: bool


def quantity(number: str, unit: str | None) -> tuple[str, float] | None:
    """(dimension, value in its base unit) of a number written with a unit."""
    found = UNITS.get(unit or "")
    if found is None:
        return None
    dimension, scale = found
    return dimension, float(number.replace(",", "")) * scale


def judged(cell: str, comparison: str, bound: tuple[str, float]) -> bool | None:
    """Whether the figure in ``cell`` meets ``comparison`` (<=, >=, < or >) ``bound``; None
    if the cell holds no figure in the bound's dimension."""
    match = FIGURE.match(cell)
    if match is None:
        return None
    figure = quantity(match.group(1), match.group(2))
    if figure is None or figure[0] != bound[0]:
        return None
    value, limit = figure[1], bound[1]
    return {"<=": value <= limit, ">=": value >= limit, "<": value < limit,
            ">": value > limit}[comparison]


def _cells(line: str) -> list[str] | None:
    """A table row's cells, or None for a line that is not a row."""
    text = line.strip()
    if not (text.startswith("|") and text.endswith("|")) or len(text) < 2:
        return None
    return [cell.strip() for cell in text[1:-1].split("|")]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _is_rule(cells: list[str]) -> bool:
    return all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells)


def mark(text: str) -> tuple[str, list[Verdict]]:
    """``text`` (markdown) with every figure that has a target marked, and the verdicts."""
    lines = text.split("\n")
    verdicts: list[Verdict] = []
    section = ""
    header: list[str] | None = None
    for i, line in enumerate(lines):
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        cells = _cells(line)
        if cells is None:
            header = None
            continue
        if header is None:
            header = cells
            continue
        if _is_rule(cells) or len(cells) != len(header):
            continue
        changed = False
        for column, target, comparison, bound in _targets(header, cells):
            if column == 0 or NOT_THE_TARGETS_ROW in cells[0]:
                continue
            met = judged(cells[column], comparison, bound)
            if met is None:
                continue
            measure = cells[0] if header[column - 1] == "target" else \
                f"{cells[0]}: {IN_HEADER.sub('', header[column]).strip()}"
            verdicts.append(Verdict(section, measure, cells[column], target, met))
            cells[column] += MET if met else MISSED
            changed = True
        if changed:
            lines[i] = _row(cells)
    return "\n".join(lines), verdicts


def _targets(header: list[str], cells: list[str]
             ) -> list[tuple[int, str, str, tuple[str, float]]]:
    """(column of the figure, the target as written, <= or >=, the bound) in one row."""
    found = []
    for column, name in enumerate(header):
        if name == "target" and column + 1 < len(cells):
            match = TARGET.match(cells[column])
            if match is not None:
                comparison, number, unit = match.groups()
                bound = quantity(number, unit)
                if bound is not None:
                    found.append((column + 1, cells[column], comparison or "<=", bound))
            continue
        match = IN_HEADER.search(name)
        if match is not None:
            comparison, number, unit = match.groups()
            bound = quantity(number, unit)
            if bound is not None:
                found.append((column, f"{comparison} {number}{unit or ''}", comparison, bound))
    return found


def summary(verdicts: list[Verdict]) -> str:
    """A short section: how many targets are met, and each one missed."""
    missed = [v for v in verdicts if not v.met]
    lines = ["### Targets at a glance", "",
             f"{len(verdicts) - len(missed)} of {len(verdicts)} figures with a target meet it "
             f"(each marked (met) or (**missed**) in its table below)."]
    if missed:
        lines += ["", "| section | measure | figure | target |", "| --- | --- | ---: | --- |"]
        lines += [f"| {v.section} | {v.measure} | {v.figure} | {v.target} |" for v in missed]
    return "\n".join(lines)
