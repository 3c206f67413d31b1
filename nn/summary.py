"""A model's parameters module by module: the table ``print(nn.summary(model))`` shows.

One row per module, indented by depth: its path, its class and configuration, the
parameters it holds itself and the parameters below it in all (shared ones once).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from autograd_scalar.validate import integer

from .module import Module


@dataclass(frozen=True)
class SummaryRow:
    """One module: ``path`` (dotted, "" for the model), ``name`` (its name in its parent,
    ``blocks.0`` for a list item), ``depth`` (0 for the model), ``kind`` (class and config),
    ``own`` parameters held directly and ``total`` parameters in it and below it."""

    path: str
    name: str
    depth: int
    kind: str
    own: int
    total: int


@dataclass(frozen=True)
class ModuleSummary:
    """The rows of :func:`nn.summary` and the model's parameter count; prints as a table."""

    rows: list[SummaryRow]
    total: int

    def lines(self) -> list[str]:
        names = [("  " * row.depth) + (row.name or "(model)") for row in self.rows]
        width = max(len("module"), *map(len, names))
        kind = max(len("type"), *(len(row.kind) for row in self.rows))
        out = [f"{'module':<{width}}  {'type':<{kind}}  {'own':>6}  {'total':>7}"]
        for name, row in zip(names, self.rows):
            out.append(f"{name:<{width}}  {row.kind:<{kind}}  {row.own:>6,}  {row.total:>7,}")
        out.append(f"{self.total:,} parameters")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """A notebook's plain-text form (a viewer without HTML): the table, not the fields."""
        printer.text(str(self))

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td style='text-align:left;padding-left:{1.2 * row.depth}em'>"
            f"{html.escape(row.path or '(model)')}</td><td style='text-align:left'>"
            f"{html.escape(row.kind)}</td><td>{row.own:,}</td><td>{row.total:,}</td></tr>"
            for row in self.rows)
        return (f"<table><tr><th>module</th><th>type</th><th>own</th><th>total</th></tr>"
                f"{cells}</table><p>{self.total:,} parameters</p>")


def summary(model: Any, depth: int | None = None) -> ModuleSummary:
    """Every module of ``model`` (down to ``depth`` levels below it, all if None) with
    its own and total parameter counts."""
    if not isinstance(model, Module):
        raise TypeError(f"summary expects an nn Module, got {type(model).__name__}")
    if depth is not None:
        integer("depth", depth, 0, what="None or an int >= 0")
    rows: list[SummaryRow] = []
    stack: list[tuple[str, str, int, Module]] = [("", "", 0, model)]
    while stack:
        path, name, level, module = stack.pop()
        rows.append(SummaryRow(path, name, level, f"{type(module).__name__}({module.extra_repr()})",
                               len(list(module.named_own_parameters())),
                               len(module.parameters())))
        if depth is None or level < depth:
            children = [(f"{path}.{child}" if path else child, child, level + 1, sub)
                        for child, sub in module.named_children()]
            stack.extend(reversed(children))
    return ModuleSummary(rows, len(model.parameters()))
