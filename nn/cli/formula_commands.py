"""``graph`` and ``gradcheck``: a formula's computation graph, and its gradient checked."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from autograd_scalar import DRAWING_SUFFIXES, draw_graph, explore, gradcheck_report, render

from ..formula import parse_formula, parse_point
from .common import EXIT_FAILED, EXIT_OK, UsageError, check_file_target


def _formula_at(args: argparse.Namespace) -> tuple[str, Any, dict[str, Any]]:
    """The formula's text, output node and input leaves at the point ``--at``."""
    formula = parse_formula(args.formula)
    point = parse_point(args.at)
    out, leaves = formula.build(point)
    return formula.text, out, leaves


def _print_point(text: str, out: Any, leaves: dict[str, Any], precision: int) -> None:
    print(f"f({', '.join(leaves)}) = {text}")
    if leaves:
        print("at " + ", ".join(f"{name} = {leaf.data:g}" for name, leaf in leaves.items()))
    print(f"f = {out.data:.{precision}g}")


def run_graph(args: argparse.Namespace) -> int:
    check_file_target("-o", args.output)
    suffix = Path(args.output).suffix.lower()
    if suffix not in PAGES and suffix not in DRAWING_SUFFIXES:
        endings = ", ".join(sorted({*DRAWING_SUFFIXES, *PAGES}))
        raise UsageError(f"-o {args.output}: expected a file name ending in one of {endings} "
                         "(.html: the interactive page)")
    text, out, leaves = _formula_at(args)
    out.backward()
    if Path(args.output).suffix.lower() in PAGES:
        path = _write_page(args, out)
    else:
        drawing = draw_graph(out, rankdir=args.rankdir, precision=args.precision,
                             compact=args.compact, heatmap=args.heatmap)
        path = render(drawing, args.output)
    _print_point(text, out, leaves, args.precision)
    _warn_if_not_finite(args, out)
    for name, leaf in leaves.items():
        print(f"df/d{name} = {leaf.grad:.{args.precision}g}")
    print(f"wrote {path}")
    return EXIT_OK


def _warn_if_not_finite(args: argparse.Namespace, out: Any) -> None:
    """Say on stderr where a non-finite f became so; the drawing still shows it, as
    computed, since seeing where is what the drawing is for."""
    if math.isfinite(out.data):
        return
    first = parse_formula(args.formula).first_not_finite(parse_point(args.at))
    where = f": {first[0]} = {first[1]} first" if first else ""
    print(f"warning: f is {out.data} at this point{where}", file=sys.stderr)


PAGES = (".html", ".htm")
"""Output suffixes that write the interactive view as a page instead of a drawing."""


def _write_page(args: argparse.Namespace, out: Any) -> Path:
    """The interactive view (``explore``) as a self-contained page at ``args.output``."""
    if args.compact:
        raise UsageError("--compact shapes a drawing's records; the interactive page (-o "
                         "*.html) draws its own nodes: drop --compact or write .svg/.png")
    if args.rankdir not in ("LR", "TB"):
        raise UsageError(f"the interactive page (-o *.html) is laid out LR or TB, "
                         f"got --rankdir {args.rankdir}")
    view = explore(out, rankdir=args.rankdir, precision=args.precision, heatmap=args.heatmap)
    return view.save(args.output)


def run_gradcheck(args: argparse.Namespace) -> int:
    formula = parse_formula(args.formula)
    _, leaves = formula.build(parse_point(args.at))
    if not leaves:
        raise UsageError(f"{formula.text!r} has no variables, so there is no gradient to check")

    def f(*inputs: Any) -> Any:
        return formula(*inputs)

    f.__name__ = f.__qualname__ = f"f = {formula.text}"
    agree = True
    for order in (1, 2) if args.second else (1,):
        report = gradcheck_report(f, list(leaves.values()), order=order, eps=args.eps,
                                  atol=args.atol, rtol=args.rtol)
        print(report)
        agree = agree and report.ok
    return EXIT_OK if agree else EXIT_FAILED
