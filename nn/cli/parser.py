"""The argument parser of ``autograd-scalar``: its subcommands, options and --help."""

from __future__ import annotations

import argparse
from typing import Any

from autograd_scalar import __version__

from ..init import DEFAULT as DEFAULT_INIT
from ..init import SCHEMES
from . import arguments
from .common import (
    ACTIVATION_CHOICES,
    DATA_SETS,
    DEFAULT_EPOCHS,
    FORMATTER,
    FORMULA_HELP,
    GPT_SIZES,
    LOSS_CHOICES,
    OPTIMIZERS,
    PROG,
    Parser,
    examples,
    paragraph,
)
from .formula_commands import run_gradcheck, run_graph
from .gpt_command import run_gpt
from .training_commands import run_demo, run_train


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``autograd-scalar`` and its five subcommands."""
    parser = Parser(
        prog=PROG, formatter_class=FORMATTER,
        description=paragraph(
            "A scalar autodiff engine and a small neural-network library: train a network, "
            "draw a computation graph, check a gradient."),
        epilog=examples("demo",
                        "graph 'tanh(x * w + b)' --at x=2,w=-0.5,b=0.3 -o graph.svg",
                        "gradcheck 'x * sin(y) / y' --at x=1.5,y=0.3",
                        "gpt --steps 200")
        + "\n\nexit status: 0 success, 1 gradient mismatch or failure, 2 bad command line",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=Parser)
    _add_demo(commands)
    _add_train(commands)
    _add_graph(commands)
    _add_gradcheck(commands)
    _add_gpt(commands)
    parser.subcommands = dict(commands.choices)
    return parser


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", formatter_class=FORMATTER,
        help="train a small network on two moons and draw what it learned",
        description=paragraph(
            "Train an MLP 2-16-16-1 on 100 points of the two-moons data (hinge loss, SGD "
            "with weight decay, learning rate falling from 1.0 to 0.1: micrograd's demo "
            "recipe), then write the decision boundary and the loss curves as PNG and the "
            "computation graph of one neuron as SVG into --out, and print their paths. "
            "Needs matplotlib (pip install matplotlib, the \"plots\" extra); no display and no "
            "Graphviz install are needed."),
        epilog=examples("demo",
                        "demo --out pictures --epochs 50 --seed 7"),
    )
    demo.add_argument("--out", default="out", metavar="DIR",
                      help="folder for the pictures, made if missing (default: out)")
    demo.add_argument("--epochs", type=arguments.count, default=100, metavar="N",
                      help="training epochs, one full-batch step each (default: 100)")
    demo.add_argument("--seed", type=arguments.zero_or_more, default=1337,
                      help="seed of the data and the initial weights (default: 1337)")
    _add_mode_arguments(demo)
    demo.set_defaults(run=run_demo)


def _add_train(commands: Any) -> None:
    train = commands.add_parser(
        "train", formatter_class=FORMATTER,
        help="train an MLP on a data set with every choice open",
        description=paragraph(
            "Train an MLP on one of the bundled data sets, print the final loss and "
            "accuracy (training and validation), and optionally save the model as JSON "
            "and the pictures (loss curves; decision boundary for 2-D data) into a folder."),
        epilog=examples(
            "train --data circles --hidden 8,8 --activation tanh --epochs 100",
            "train --data spirals --classes 3 --hidden 32,32 --optimizer adam --lr 0.02",
            "train --data digits --hidden 32 --loss cross_entropy --batch-size 64 --epochs 10 "
            "--save digits.json",
            "train --data moons --optimizer sgd --lr 0.5 --momentum 0.9 --plots out"),
    )
    data = train.add_argument_group("data")
    data.add_argument("--data", choices=DATA_SETS, default="moons",
                      help="the data set (default: moons)")
    data.add_argument("--samples", type=arguments.sample_count, default=None, metavar="N",
                      help="number of examples: generated for the synthetic sets "
                           "(default 200), a random subset of the real ones (default all)")
    data.add_argument("--noise", type=arguments.non_negative, default=None,
                      help="noise of the synthetic sets (default: each set's own)")
    data.add_argument("--classes", type=arguments.class_count, default=None, metavar="K",
                      help="number of classes of spirals and blobs (default: 2 and 3)")
    data.add_argument("--val", type=arguments.fraction, default=0.2, metavar="FRACTION",
                      help="fraction held out for validation, 0 for none (default: 0.2)")
    data.add_argument("--standardize", action="store_true",
                      help="scale every input to mean 0 and variance 1 (training statistics)")
    model = train.add_argument_group("model")
    model.add_argument("--hidden", type=arguments.sizes, default=[16, 16], metavar="SIZES",
                       help="hidden layer sizes, comma separated; 'none' for a linear "
                            "model (default: 16,16)")
    model.add_argument("--activation", choices=ACTIVATION_CHOICES, default="relu",
                       help="activation of the hidden layers (default: relu)")
    model.add_argument("--init", choices=SCHEMES, default=DEFAULT_INIT,
                       help=f"weight initialisation (default: {DEFAULT_INIT}, PyTorch's "
                            "Linear rule; uniform is micrograd's U(-1, 1))")
    training = train.add_argument_group("training")
    training.add_argument("--loss", choices=LOSS_CHOICES, default=None,
                          help="loss (default: hinge for two classes, cross_entropy for more)")
    training.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam",
                          help="optimizer (default: adam)")
    training.add_argument("--lr", type=arguments.positive, default=0.01,
                          help="learning rate (default: 0.01)")
    training.add_argument("--momentum", type=arguments.fraction, default=0.0,
                          help="momentum in [0, 1), for sgd only (default: 0)")
    training.add_argument("--weight-decay", type=arguments.non_negative, default=None,
                          help="weight decay: an L2 term in the gradient, except for adamw, "
                               "whose decay is decoupled (default: 0, and adamw's own 0.01)")
    training.add_argument("--epochs", type=arguments.count, default=None, metavar="N",
                          help=f"passes over the training set (default: "
                               f"{DEFAULT_EPOCHS['synthetic']} for the generated sets, "
                               f"{DEFAULT_EPOCHS['real']} for digits and mnist_5k)")
    training.add_argument("--batch-size", type=arguments.count, default=32, metavar="N",
                          help="examples per step, shuffled each epoch (default: 32)")
    training.add_argument("--seed", type=arguments.zero_or_more, default=0,
                          help="seed of the data, the weights and the shuffling (default: 0)")
    training.add_argument("--memory-budget", type=arguments.positive, default=4.0,
                          metavar="GIB", help="refuse a run (compiled or --eager) whose "
                          "estimated memory exceeds this many GiB (default: 4)")
    _add_mode_arguments(training)
    output = train.add_argument_group("output")
    output.add_argument("--save", metavar="PATH", default=None,
                        help="write the trained model here as JSON, with the scaling of "
                             "--standardize (load it with nn.load(PATH))")
    output.add_argument("--plots", metavar="DIR", default=None,
                        help="write loss.png (and decision_boundary.png for 2-D data) here")
    train.set_defaults(run=run_train)


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
        "graph", formatter_class=FORMATTER,
        help="draw the computation graph of a formula, after backward",
        description=paragraph(
            "Build the graph of FORMULA at the point --at, run backward, print the value and "
            "the gradient, and draw the graph (data, grad and op at every node). SVG needs "
            "no Graphviz install; PNG and PDF need its dot program. A .html output is the "
            "interactive view as a page: pan, zoom, click a node for its chain rule, step "
            "through backward."),
        epilog=examples("graph 'tanh(x * w + b)' --at x=2,w=-0.5,b=0.3 -o graph.svg",
                        "graph 'log(x) * y ** 2' --at x=3,y=2 -o graph.png --rankdir TB",
                        "graph 'exp(-x * x) * sin(y)' --at x=0.5,y=1 --heatmap --compact",
                        "graph 'sum(a, b, a * b)' --at a=1 --at b=2 -o graph.dot",
                        "graph 'tanh(x * w + b)' --at x=2,w=-0.5,b=0.3 -o page.html"),
    )
    _add_formula_arguments(graph)
    graph.add_argument("-o", "--output", default="graph.svg", metavar="PATH",
                       help="where to write the drawing; the suffix picks the format: "
                            ".svg .png .pdf .dot, or .html for the interactive page "
                            "(default: graph.svg)")
    graph.add_argument("--rankdir", choices=("LR", "RL", "TB", "BT"), default="LR",
                       help="direction of the graph, inputs first (default: LR)")
    graph.add_argument("--precision", type=arguments.digits, default=4, metavar="N",
                       help="significant digits shown, 1 to 17 (default: 4)")
    graph.add_argument("--compact", action="store_true",
                       help="put each op inside its node instead of a separate bubble")
    graph.add_argument("--heatmap", action="store_true",
                       help="shade each node by the size of its gradient")
    graph.set_defaults(run=run_graph)


def _add_gradcheck(commands: Any) -> None:
    check = commands.add_parser(
        "gradcheck", formatter_class=FORMATTER,
        help="compare a formula's gradient with central differences",
        description=paragraph(
            "Compute the gradient of FORMULA at --at by backward and by central differences "
            "(f(x+eps) - f(x-eps)) / 2eps, and print them side by side with their errors. "
            "Exit status 0 when every input agrees within atol + rtol * |numeric|, 1 when "
            "one does not."),
        epilog=examples("gradcheck 'x * sin(y) / y' --at x=1.5,y=0.3",
                        "gradcheck 'softplus(x) - log(1 + exp(x))' --at x=0.7 --atol 1e-8",
                        "gradcheck 'x ** 3 * tanh(y)' --at x=0.5,y=-1 --second"),
    )
    _add_formula_arguments(check)
    check.add_argument("--eps", type=arguments.positive, default=1e-6,
                       help="finite-difference step (default: 1e-6)")
    check.add_argument("--atol", type=arguments.non_negative, default=1e-5,
                       help="absolute tolerance (default: 1e-5)")
    check.add_argument("--rtol", type=arguments.non_negative, default=1e-3,
                       help="relative tolerance (default: 1e-3)")
    check.add_argument("--second", action="store_true",
                       help="also check the second derivatives (the Hessian from "
                            "grad(create_graph=True)) against differences of the gradient")
    check.set_defaults(run=run_gradcheck)


def _add_formula_arguments(parser: Parser) -> None:
    parser.takes_formula = True
    parser.add_argument("formula", metavar="FORMULA", help=FORMULA_HELP)
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE,...",
                        help="the value of every variable, e.g. --at x=1.5,y=0.3 "
                             "(may be repeated)")


def _add_gpt(commands: Any) -> None:
    gpt = commands.add_parser(
        "gpt", formatter_class=FORMATTER,
        help="train microgpt's GPT on 32,033 names, one per step, and sample new names",
        description=paragraph(
            "Train a GPT on single numbers (microgpt's architecture: token and position "
            "embeddings, RMSNorm, causal multi-head self-attention, a ReLU MLP, no biases) on "
            "makemore's names, shuffled, one name per step, with Adam (0.85, 0.99) and the "
            "learning rate decaying linearly to zero; then print names it invents. The "
            "defaults are microgpt's recipe (4,192 parameters, 1,000 steps)."),
        epilog=examples("gpt --steps 200 --samples 10",
                        "gpt --compiled --batch-size 32 --steps 500",
                        "gpt --n-embd 32 --n-head 4 --n-layer 2 --save gpt.json",
                        "gpt --load gpt.json --steps 0 --prompt ma --temperature 0.8"),
    )
    model = gpt.add_argument_group("model", "with --load the sizes are the file's: a size "
                                   "given too must match it")
    sizes = {"n_embd": "numbers per embedding, a multiple of --n-head",
             "n_head": "attention heads", "n_layer": "transformer blocks",
             "block_size": "positions the model reads; longer names are cut"}
    for name, what in sizes.items():  # None when not given: --load tells them apart
        model.add_argument(f"--{name.replace('_', '-')}", type=arguments.count, default=None,
                           metavar="N", help=f"{what} (default: {GPT_SIZES[name]})")
    training = gpt.add_argument_group("training")
    training.add_argument("--steps", type=arguments.zero_or_more, default=1000, metavar="N",
                          help="training steps, each on --batch-size names; 0 to only "
                               "sample a model given by --load (default: 1000)")
    training.add_argument("--lr", type=arguments.positive, default=0.01,
                          help="initial learning rate of Adam (default: 0.01)")
    training.add_argument("--batch-size", type=arguments.count, default=1, metavar="N",
                          help="names per step, each step's loss their mean; eagerly a "
                               "step keeps every name's graph, about 3.6 MB a name at the "
                               "default sizes, compiled about 0.27 MB, so large batches "
                               "want --compiled (default: 1)")
    training.add_argument("--compiled", action="store_true",
                          help="train on traced programs, one per name length, with the "
                               "parameters as arrays: the same losses, many times faster")
    training.add_argument("--memory-budget", type=arguments.positive, default=4.0,
                          metavar="GIB", help="refuse a run whose step is estimated to "
                          "need more than this many GiB (default: 4)")
    training.add_argument("--seed", type=arguments.zero_or_more, default=42,
                          help="seed of the shuffling, the weights and the sampling "
                               "(default: 42)")
    training.add_argument("--load", metavar="PATH", default=None,
                          help="start from a model saved by --save (its sizes come from "
                               "the file: a size option given too must match it)")
    training.add_argument("--quiet", action="store_true", help="no progress bar")
    output = gpt.add_argument_group("sampling and output")
    output.add_argument("--samples", type=arguments.zero_or_more, default=20, metavar="N",
                        help="names to sample after training (default: 20)")
    output.add_argument("--temperature", type=arguments.positive, default=0.5,
                        help="sampling temperature: lower is safer, higher more inventive "
                             "(default: 0.5)")
    output.add_argument("--prompt", default="", metavar="TEXT",
                        help="the start of every sampled name (default: none)")
    output.add_argument("--save", metavar="PATH", default=None,
                        help="write the trained model here as JSON")
    gpt.set_defaults(run=run_gpt)
