"""The command ``autograd-scalar``: the library's main jobs from a terminal.

``demo`` trains a small network on the two-moons data and writes its pictures;
``train`` does the same with every choice open; ``graph`` draws the computation
graph of a formula after backward; ``gradcheck`` compares a formula's analytic
gradient with central differences. Formulas are read by :mod:`nn.formula`, which
evaluates nothing: it builds Values from a whitelisted syntax tree.

Exit status: 0 on success, 1 when ``gradcheck`` finds a mismatch or a file cannot
be written, 2 for a bad command line (unknown option, bad formula, bad ``--at``).
Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .formula import FUNCTIONS, FormulaError, parse_formula, parse_point

PROG = "autograd-scalar"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command line that cannot be run as given (exit status 2)."""

    def __init__(self, message: str, prog: str = "") -> None:
        super().__init__(message)
        self.prog = prog


class CommandFailed(Exception):
    """A command that ran but did not succeed (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line raises UsageError instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)", self.prog)


_FORMATTER = argparse.RawDescriptionHelpFormatter

_FORMULA_HELP = (
    "a formula in Python syntax: numbers, variables, + - * / **, unary -, and "
    f"the functions {', '.join(FUNCTIONS)}; quote it for the shell"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    command = PROG
    try:
        args = parser.parse_args(argv)
        command = f"{PROG} {args.command}"
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_OK
    except UsageError as error:
        return _fail(error.prog or command, str(error), EXIT_USAGE)
    except CommandFailed as error:
        return _fail(command, str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", 130)
    except (FormulaError, ValueError, TypeError, ArithmeticError) as error:
        return _fail(command, str(error), EXIT_USAGE)
    except (OSError, RuntimeError, ImportError) as error:
        return _fail(command, _one_line(error), EXIT_FAILED)


def _fail(command: str, message: str, status: int) -> int:
    print(f"{command}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror or error}: {error.filename}"
    return str(error) or type(error).__name__


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``autograd-scalar`` and its four subcommands."""
    parser = _Parser(
        prog=PROG, formatter_class=_FORMATTER,
        description=_paragraph(
            "A scalar autodiff engine and a small neural-network library: train a network, "
            "draw a computation graph, check a gradient."),
        epilog="examples:\n"
               f"  {PROG} demo\n"
               f"  {PROG} graph 'tanh(x * w + b)' --at x=2,w=-0.5,b=0.3 -o graph.svg\n"
               f"  {PROG} gradcheck 'x * sin(y) / y' --at x=1.5,y=0.3\n\n"
               "exit status: 0 success, 1 gradient mismatch or failure, 2 bad command line",
    )
    from autograd_scalar import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)
    _add_graph(commands)
    _add_gradcheck(commands)
    return parser


def _add_graph(commands: Any) -> None:
    graph = commands.add_parser(
        "graph", formatter_class=_FORMATTER,
        help="draw the computation graph of a formula, after backward",
        description=_paragraph(
            "Build the graph of FORMULA at the point --at, run backward, print the value and "
            "the gradient, and draw the graph (data, grad and op at every node). SVG needs "
            "no Graphviz install; PNG and PDF need its dot program."),
        epilog="examples:\n"
               f"  {PROG} graph 'tanh(x * w + b)' --at x=2,w=-0.5,b=0.3 -o graph.svg\n"
               f"  {PROG} graph 'log(x) * y ** 2' --at x=3,y=2 -o graph.png --rankdir TB\n"
               f"  {PROG} graph 'exp(-x * x) * sin(y)' --at x=0.5,y=1 --heatmap --compact\n"
               f"  {PROG} graph 'sum(a, b, a * b)' --at a=1 --at b=2 -o graph.dot",
    )
    _add_formula_arguments(graph)
    graph.add_argument("-o", "--output", default="graph.svg", metavar="PATH",
                       help="where to write the drawing; the suffix picks the format: "
                            ".svg .png .pdf .dot (default: graph.svg)")
    graph.add_argument("--rankdir", choices=("LR", "RL", "TB", "BT"), default="LR",
                       help="direction of the graph, inputs first (default: LR)")
    graph.add_argument("--precision", type=_count, default=4, metavar="N",
                       help="significant digits shown (default: 4)")
    graph.add_argument("--compact", action="store_true",
                       help="put each op inside its node instead of a separate bubble")
    graph.add_argument("--heatmap", action="store_true",
                       help="shade each node by the size of its gradient")
    graph.set_defaults(run=_run_graph)


def _add_gradcheck(commands: Any) -> None:
    check = commands.add_parser(
        "gradcheck", formatter_class=_FORMATTER,
        help="compare a formula's gradient with central differences",
        description=_paragraph(
            "Compute the gradient of FORMULA at --at by backward and by central differences "
            "(f(x+eps) - f(x-eps)) / 2eps, and print them side by side with their errors. "
            "Exit status 0 when every input agrees within atol + rtol * |numeric|, 1 when "
            "one does not."),
        epilog="examples:\n"
               f"  {PROG} gradcheck 'x * sin(y) / y' --at x=1.5,y=0.3\n"
               f"  {PROG} gradcheck 'softplus(x) - log(1 + exp(x))' --at x=0.7 --atol 1e-8",
    )
    _add_formula_arguments(check)
    check.add_argument("--eps", type=_positive, default=1e-6,
                       help="finite-difference step (default: 1e-6)")
    check.add_argument("--atol", type=_non_negative, default=1e-5,
                       help="absolute tolerance (default: 1e-5)")
    check.add_argument("--rtol", type=_non_negative, default=1e-3,
                       help="relative tolerance (default: 1e-3)")
    check.set_defaults(run=_run_gradcheck)


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=78)


def _add_formula_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("formula", metavar="FORMULA", help=_FORMULA_HELP)
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE,...",
                        help="the value of every variable, e.g. --at x=1.5,y=0.3 "
                             "(may be repeated)")


def _count(text: str) -> int:
    """A whole number >= 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _number(text: str, low: float, inclusive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value >= low if inclusive else value > low) or value == float("inf"):
        expected = f">= {low:g}" if inclusive else f"> {low:g}"
        raise argparse.ArgumentTypeError(f"expected a finite number {expected}, got {text}")
    return value


def _positive(text: str) -> float:
    """A finite number > 0, for argparse."""
    return _number(text, 0.0, inclusive=False)


def _non_negative(text: str) -> float:
    """A finite number >= 0, for argparse."""
    return _number(text, 0.0, inclusive=True)


# ---------------------------------------------------------------------------
# graph and gradcheck
# ---------------------------------------------------------------------------

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


def _run_graph(args: argparse.Namespace) -> int:
    from autograd_scalar.graph import draw_graph
    from autograd_scalar.render import render

    text, out, leaves = _formula_at(args)
    out.backward()
    drawing = draw_graph(out, rankdir=args.rankdir, precision=args.precision,
                         compact=args.compact, heatmap=args.heatmap)
    path = render(drawing, args.output)
    _print_point(text, out, leaves, args.precision)
    for name, leaf in leaves.items():
        print(f"df/d{name} = {leaf.grad:.{args.precision}g}")
    print(f"wrote {path}")
    return EXIT_OK


def _run_gradcheck(args: argparse.Namespace) -> int:
    from autograd_scalar import GradcheckError, gradcheck

    formula = parse_formula(args.formula)
    _, leaves = formula.build(parse_point(args.at))
    if not leaves:
        raise UsageError(f"{formula.text!r} has no variables, so there is no gradient to check")

    def f(*inputs: Any) -> Any:
        return formula(*inputs)

    f.__name__ = f.__qualname__ = f"f = {formula.text}"
    try:
        gradcheck(f, list(leaves.values()), eps=args.eps, atol=args.atol, rtol=args.rtol)
    except GradcheckError as mismatch:
        print(mismatch.report)
        return EXIT_FAILED
    print(f"gradcheck of f = {formula.text}: all {len(leaves)} derivatives agree with central "
          f"differences (eps={args.eps:g}, atol={args.atol:g}, rtol={args.rtol:g})")
    return EXIT_OK
