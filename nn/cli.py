"""The command ``autograd-scalar``: the library's main jobs from a terminal.

``demo`` trains a small network on the two-moons data and writes its pictures;
``train`` does the same with every choice open; ``graph`` draws the computation
graph of a formula after backward; ``gradcheck`` compares a formula's analytic
gradient with central differences. Formulas are read by :mod:`nn.formula`, which
evaluates nothing: it builds Values from a whitelisted syntax tree.

Exit status: 0 on success; 1 when ``gradcheck`` finds a mismatch or a command
fails (a file that cannot be written, a missing optional dependency, training
that diverges); 2 for a bad command line (unknown option, bad formula, bad
``--at``); 130 when interrupted. Every error is one line on stderr, never a
traceback; an unexpected one (a bug) too, unless the environment variable
``AUTOGRAD_SCALAR_TRACEBACK`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import optim
from .activations import ACTIVATIONS
from .formula import FUNCTIONS, FormulaError, parse_formula, parse_point
from .init import SCHEMES
from .losses import LOSSES

PROG = "autograd-scalar"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TRACEBACK_VARIABLE = "AUTOGRAD_SCALAR_TRACEBACK"
"""Set this environment variable to see the traceback of an unexpected error."""
MAX_SAMPLES = 1_000_000
MAX_LAYER_SIZE = 10_000


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

_SYNTHETIC = ("moons", "circles", "spirals", "xor", "blobs")
_DATA_SETS = (*_SYNTHETIC, "digits", "mnist_5k")
_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "linear")
_LOSSES = tuple(LOSSES)
_OPTIMIZERS: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSProp,
    "adagrad": optim.Adagrad,
}

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
    except (FormulaError, ValueError, TypeError) as error:
        return _fail(command, str(error), EXIT_USAGE)
    except (ArithmeticError, OSError, RuntimeError, ImportError) as error:
        return _fail(command, _one_line(error), EXIT_FAILED)
    except Exception as error:
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        return _fail(command, f"internal error: {type(error).__name__}: {error} (this is a "
                              f"bug; run again with {TRACEBACK_VARIABLE}=1 to see where)",
                     EXIT_FAILED)


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
    _add_demo(commands)
    _add_train(commands)
    _add_graph(commands)
    _add_gradcheck(commands)
    return parser


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", formatter_class=_FORMATTER,
        help="train a small network on two moons and draw what it learned",
        description=_paragraph(
            "Train an MLP 2-16-16-1 on 100 points of the two-moons data (hinge loss, SGD "
            "with weight decay, learning rate falling from 1.0 to 0.1: micrograd's demo "
            "recipe), then write the decision boundary and the loss curves as PNG and the "
            "computation graph of one neuron as SVG into --out, and print their paths. "
            "Needs matplotlib (pip install \"autograd-scalar[plots]\"); no display and no "
            "Graphviz install are needed."),
        epilog="examples:\n"
               f"  {PROG} demo\n"
               f"  {PROG} demo --out pictures --epochs 50 --seed 7\n",
    )
    demo.add_argument("--out", default="out", metavar="DIR",
                      help="folder for the pictures, made if missing (default: out)")
    demo.add_argument("--epochs", type=_count, default=100, metavar="N",
                      help="training epochs, one full-batch step each (default: 100)")
    demo.add_argument("--seed", type=_seed, default=1337,
                      help="seed of the data and the initial weights (default: 1337)")
    _add_mode_arguments(demo)
    demo.set_defaults(run=_run_demo)


def _add_train(commands: Any) -> None:
    train = commands.add_parser(
        "train", formatter_class=_FORMATTER,
        help="train an MLP on a data set with every choice open",
        description=_paragraph(
            "Train an MLP on one of the bundled data sets, print the final loss and "
            "accuracy (training and validation), and optionally save the model as JSON "
            "and the pictures (loss curves; decision boundary for 2-D data) into a folder."),
        epilog="examples:\n"
               f"  {PROG} train --data circles --hidden 8,8 --activation tanh --epochs 100\n"
               f"  {PROG} train --data spirals --classes 3 --hidden 32,32 "
               "--optimizer adam --lr 0.02\n"
               f"  {PROG} train --data digits --hidden 32 --loss cross_entropy "
               "--batch-size 64 --epochs 10 --save digits.json\n"
               f"  {PROG} train --data moons --optimizer sgd --lr 0.5 --momentum 0.9 "
               "--plots out",
    )
    data = train.add_argument_group("data")
    data.add_argument("--data", choices=_DATA_SETS, default="moons",
                      help="the data set (default: moons); digits and mnist_5k need "
                           "the data extra")
    data.add_argument("--samples", type=_sample_count, default=None, metavar="N",
                      help="number of examples: generated for the synthetic sets "
                           "(default 200), a random subset of the real ones (default all)")
    data.add_argument("--noise", type=_non_negative, default=None,
                      help="noise of the synthetic sets (default: each set's own)")
    data.add_argument("--classes", type=_class_count, default=None, metavar="K",
                      help="number of classes of spirals and blobs (default: 2 and 3)")
    data.add_argument("--val", type=_fraction, default=0.2, metavar="FRACTION",
                      help="fraction held out for validation, 0 for none (default: 0.2)")
    data.add_argument("--standardize", action="store_true",
                      help="scale every input to mean 0 and variance 1 (training statistics)")
    model = train.add_argument_group("model")
    model.add_argument("--hidden", type=_sizes, default=[16, 16], metavar="SIZES",
                       help="hidden layer sizes, comma separated; 'none' for a linear "
                            "model (default: 16,16)")
    model.add_argument("--activation", choices=_ACTIVATIONS, default="relu",
                       help="activation of the hidden layers (default: relu)")
    model.add_argument("--init", choices=SCHEMES, default="uniform",
                       help="weight initialisation (default: uniform, micrograd's U(-1, 1))")
    training = train.add_argument_group("training")
    training.add_argument("--loss", choices=_LOSSES, default=None,
                          help="loss (default: hinge for two classes, cross_entropy for more)")
    training.add_argument("--optimizer", choices=tuple(_OPTIMIZERS), default="adam",
                          help="optimizer (default: adam)")
    training.add_argument("--lr", type=_positive, default=0.01,
                          help="learning rate (default: 0.01)")
    training.add_argument("--momentum", type=_non_negative, default=0.0,
                          help="momentum, for sgd only (default: 0)")
    training.add_argument("--weight-decay", type=_non_negative, default=0.0,
                          help="L2 weight decay (default: 0)")
    training.add_argument("--epochs", type=_count, default=50, metavar="N",
                          help="passes over the training set (default: 50)")
    training.add_argument("--batch-size", type=_count, default=None, metavar="N",
                          help="examples per step (default: the whole training set)")
    training.add_argument("--seed", type=_seed, default=0,
                          help="seed of the data, the weights and the shuffling (default: 0)")
    _add_mode_arguments(training)
    output = train.add_argument_group("output")
    output.add_argument("--save", metavar="PATH", default=None,
                        help="write the trained model here as JSON (load with Module.load)")
    output.add_argument("--plots", metavar="DIR", default=None,
                        help="write loss.png (and decision_boundary.png for 2-D data) here")
    train.set_defaults(run=_run_train)


def _add_mode_arguments(parser: Any) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--compiled", dest="compiled", action="store_true", default=True,
                      help="run each batch on the compiled NumPy tape (the default)")
    mode.add_argument("--eager", dest="compiled", action="store_false",
                      help="build one graph of Values per example instead (slower, same "
                           "result)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


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
               f"  {PROG} gradcheck 'softplus(x) - log(1 + exp(x))' --at x=0.7 --atol 1e-8\n"
               f"  {PROG} gradcheck 'x ** 3 * tanh(y)' --at x=0.5,y=-1 --second",
    )
    _add_formula_arguments(check)
    check.add_argument("--eps", type=_positive, default=1e-6,
                       help="finite-difference step (default: 1e-6)")
    check.add_argument("--atol", type=_non_negative, default=1e-5,
                       help="absolute tolerance (default: 1e-5)")
    check.add_argument("--rtol", type=_non_negative, default=1e-3,
                       help="relative tolerance (default: 1e-3)")
    check.add_argument("--second", action="store_true",
                       help="also check the second derivatives (the Hessian from "
                            "grad(create_graph=True)) against differences of the gradient")
    check.set_defaults(run=_run_gradcheck)


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=78)


def _add_formula_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("formula", metavar="FORMULA", help=_FORMULA_HELP)
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE,...",
                        help="the value of every variable, e.g. --at x=1.5,y=0.3 "
                             "(may be repeated)")


def _seed(text: str) -> int:
    """A seed: a whole number >= 0, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def _fraction(text: str) -> float:
    """A fraction in [0, 1), for argparse."""
    value = _number(text, 0.0, inclusive=True)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def _sizes(text: str) -> list[int]:
    """Hidden layer sizes "16,16" (or "none"), for argparse."""
    if text.strip().lower() == "none":
        return []
    try:
        sizes = [_count(part.strip()) for part in text.split(",")]
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes are whole numbers >= 1 "
                                         f"separated by commas, e.g. 16,16 ({error})") from None
    if max(sizes) > MAX_LAYER_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r}: at most {MAX_LAYER_SIZE:,} neurons "
                                         "per layer")
    return sizes


def _class_count(text: str) -> int:
    """A number of classes: 2 or more, for argparse."""
    value = _count(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 classes, got {value}")
    return value


def _sample_count(text: str) -> int:
    """A number of examples: 1 to MAX_SAMPLES, for argparse."""
    value = _count(text)
    if value > MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"at most {MAX_SAMPLES:,} examples, got {value:,}")
    return value


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
    from autograd_scalar import draw_graph, render

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
    from autograd_scalar import gradcheck_report

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


# ---------------------------------------------------------------------------
# demo and train
# ---------------------------------------------------------------------------

def _run_demo(args: argparse.Namespace) -> int:
    from autograd_scalar import draw_graph, render

    from .data import moons
    from .layers import MLP
    from .plot import plot_decision_boundary, plot_history, require_matplotlib
    from .schedules import LinearLR

    require_matplotlib()
    out = _folder(args.out)
    X, y = moons(100, noise=0.1, seed=args.seed)
    model = MLP(2, [16, 16, 1], seed=args.seed)
    optimizer = optim.SGD(model.parameters(), lr=1.0, weight_decay=2e-4)
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total=args.epochs)
    print(f"moons: {len(X)} points; {_describe(model)}; hinge loss; SGD, learning rate "
          f"1.0 falling to 0.1; {_epochs(args)}")
    history, seconds = _timed_fit(model, X, y, args, loss="hinge", optimizer=optimizer,
                                  epochs=args.epochs, schedule=schedule)
    print(f"done in {seconds:.1f} s: {_summary(model, 'hinge', history, (X, y), None, args)}")
    boundary = out / "decision_boundary.png"
    plot_decision_boundary(model, X, y, path=str(boundary), compiled=args.compiled,
                           title="MLP 2-16-16-1 on two moons")
    curves = out / "loss.png"
    plot_history(history, path=str(curves), title="training on two moons")
    activation = _active_neuron(model, X)
    model.zero_grad()
    activation.backward()
    graph = render(draw_graph(activation, names=model), out / "neuron.svg")
    for path in (boundary, curves, graph):
        print(f"wrote {path}")
    return EXIT_OK


def _run_train(args: argparse.Namespace) -> int:
    from .layers import MLP

    if args.save is not None and not Path(args.save).parent.is_dir():
        raise UsageError(f"--save {args.save}: the folder {Path(args.save).parent} "
                         "does not exist")
    if args.momentum and args.optimizer != "sgd":
        raise UsageError("--momentum is for --optimizer sgd")
    X, y = _load_data(args)
    classes = int(y.max()) + 1
    loss = args.loss or ("hinge" if classes == 2 else "cross_entropy")
    if classes > 2 and loss != "cross_entropy":
        raise UsageError(f"--loss {loss} is for two classes, and {args.data} has {classes}; "
                         "use --loss cross_entropy")
    plots = None
    if args.plots is not None:
        from .plot import require_matplotlib

        require_matplotlib()
        plots = _folder(args.plots)
    X, y, val = _hold_out(X, y, args)
    nout = classes if loss == "cross_entropy" else 1
    model = MLP(X.shape[1], [*args.hidden, nout], activation=args.activation, init=args.init,
                seed=args.seed)
    extra = {"momentum": args.momentum} if args.optimizer == "sgd" else {}
    optimizer = _OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr,
                                            weight_decay=args.weight_decay, **extra)
    held = f", {len(val[0])} held out" if val is not None else ""
    print(f"{args.data}: {len(X)} training examples{held}, {X.shape[1]} inputs, "
          f"{classes} classes; {_describe(model)}; {loss} loss; {args.optimizer} "
          f"lr={args.lr:g}; {_epochs(args)}")
    history, seconds = _timed_fit(model, X, y, args, loss=loss, optimizer=optimizer,
                                  epochs=args.epochs, batch_size=args.batch_size, val=val)
    print(f"done in {seconds:.1f} s: {_summary(model, loss, history, (X, y), val, args)}")
    if args.save is not None:
        model.save(args.save)
        print(f"wrote {args.save}")
    if plots is not None:
        for path in _training_pictures(model, history, X, y, plots, args):
            print(f"wrote {path}")
    return EXIT_OK


def _summary(model: Any, loss_name: str, history: Any, train: tuple[Any, Any],
             val: tuple[Any, Any] | None, args: argparse.Namespace) -> str:
    """The last epoch's loss, and the trained model's accuracy for a classification loss."""
    from .losses import get
    from .metrics import accuracy
    from .train import predict

    loss = get(loss_name)
    parts = [f"loss {history.loss[-1]:.4f}"]
    for name, data in (("training", train), ("validation", val)):
        if data is None:
            continue
        predicted = loss.predicted_classes(predict(model, data[0], compiled=args.compiled))
        if predicted is not None:
            parts.append(f"{name} accuracy {100 * accuracy(data[1], predicted):.1f}%")
    return ", ".join(parts)


def _training_pictures(model: Any, history: Any, X: Any, y: Any, folder: Path,
                       args: argparse.Namespace) -> list[Path]:
    """Write the loss curves, and the decision boundary of 2-D data, into ``folder``."""
    from .plot import plot_decision_boundary, plot_history

    curves = folder / "loss.png"
    plot_history(history, path=str(curves), title=f"training on {args.data}")
    if X.shape[1] != 2:
        return [curves]
    boundary = folder / "decision_boundary.png"
    plot_decision_boundary(model, X, y, path=str(boundary), compiled=args.compiled,
                           title=f"{_describe(model)} on {args.data}")
    return [curves, boundary]


def _hold_out(X: Any, y: Any, args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The training set and the validation pair (or None), standardised if asked."""
    from .data import split, standardize

    val = None
    if args.val > 0:
        (X, y), val = split(X, y, fraction=args.val, seed=args.seed, stratify=True)
    if args.standardize:
        if val is None:
            (X,) = standardize(X)
        else:
            X, X_val = standardize(X, val[0])
            val = (X_val, val[1])
    return X, y, val


def _active_neuron(model: Any, X: Any) -> Any:
    """The output of the first neuron of the first layer that fires (> 0) on some example.

    Its inputs are leaves labelled x[0], x[1], ..., so that the drawing shows the
    whole of one neuron: inputs and weights into ``dot``, the bias, the activation.
    """
    from autograd_scalar import Value

    first = None
    for row in X:
        for neuron in model.layers[0].neurons:
            out = neuron([Value(float(x), label=f"x[{i}]") for i, x in enumerate(row)])
            if out.data > 0:
                return out
            first = out if first is None else first
    return first


def _load_data(args: argparse.Namespace) -> tuple[Any, Any]:
    """The data set ``--data`` with the size, noise and classes asked for."""
    import numpy as np

    from . import data

    if args.classes is not None and args.data not in ("spirals", "blobs"):
        raise UsageError(f"--classes is for spirals and blobs, not {args.data}")
    if args.data not in _SYNTHETIC:
        if args.noise is not None:
            raise UsageError(f"--noise is for the synthetic data sets, not {args.data}")
        X, y = _read(args, getattr(data, args.data))
        if args.samples is not None and args.samples < len(X):
            keep = np.random.default_rng(args.seed).permutation(len(X))[:args.samples]
            X, y = X[keep], y[keep]
        return X, y
    options: dict[str, Any] = {"n": args.samples or 200, "seed": args.seed}
    if args.noise is not None:
        options["std" if args.data == "blobs" else "noise"] = args.noise
    if args.classes is not None:
        options["centers" if args.data == "blobs" else "classes"] = args.classes
    return _read(args, getattr(data, args.data), **options)


def _read(args: argparse.Namespace, load: Callable[..., Any], **options: Any) -> Any:
    """``load(**options)``, its complaints about them put in terms of the command line."""
    try:
        return load(**options)
    except ValueError as error:
        given = [f"--{name} {getattr(args, name)}" for name in ("samples", "noise", "classes")
                 if getattr(args, name) is not None]
        raise UsageError(f"{' '.join(['--data', args.data, *given])}: {error}") from None


def _timed_fit(model: Any, X: Any, y: Any, args: argparse.Namespace,
               **settings: Any) -> tuple[Any, float]:
    import time

    from .train import fit

    start = time.perf_counter()
    history = fit(model, X, y, compiled=args.compiled, progress=not args.quiet,
                  seed=args.seed, **settings)
    return history, time.perf_counter() - start


def _describe(model: Any) -> str:
    sizes = "-".join(str(n) for n in [model.nin, *model.nouts])
    return f"MLP {sizes} ({len(model.parameters())} parameters)"


def _epochs(args: argparse.Namespace) -> str:
    count = f"{args.epochs} epoch" + ("s" if args.epochs != 1 else "")
    return f"{count}, {'compiled' if args.compiled else 'eager'}"


def _folder(name: str) -> Path:
    """The folder ``name``, made (with its parents) if it does not exist."""
    folder = Path(name)
    if folder.exists() and not folder.is_dir():
        raise CommandFailed(f"{name} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
