"""``demo`` and ``train``: train a network, report it, and write its pictures."""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograd_scalar import GraphvizNotFound, Value, draw_graph, render

from .. import data as datasets
from .. import losses, optim
from .. import train as training  # fit is looked up when called, so it can be replaced
from ..compiled import compiled_memory
from ..data import Standardizer, moons, split
from ..layers import MLP
from ..metrics import accuracy, classes_from_outputs
from ..plot import plot_decision_boundary, plot_history, require_matplotlib
from ..schedules import LinearLR
from ..standardized import Standardized
from .common import (
    DEFAULT_EPOCHS,
    EXIT_OK,
    OPTIMIZERS,
    SYNTHETIC,
    UsageError,
    check_file_target,
    loss_text,
    made,
    output_folder,
    trained,
)


def run_demo(args: argparse.Namespace) -> int:
    require_matplotlib()
    out = output_folder("--out", args.out, DEMO_PICTURES)
    X, y = moons(100, noise=0.1, seed=args.seed)
    model = MLP(2, [16, 16, 1], init="uniform", seed=args.seed)  # micrograd's own init
    optimizer = optim.SGD(model.parameters(), lr=1.0, weight_decay=2e-4)
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total=args.epochs)
    print(f"moons: {len(X)} points; {_describe(model)}; hinge loss; SGD, learning rate "
          f"1.0 falling to 0.1; {_epochs(args)}")
    history, seconds = _timed_fit(model, X, y, args, None, loss="hinge",
                                  optimizer=optimizer, epochs=args.epochs, schedule=schedule)
    print(f"done in {seconds:.1f} s: {_summary(model, 'hinge', history, (X, y), None, args)}")
    boundary, curves, svg, source = (made(out) / name for name in DEMO_PICTURES)
    plot_decision_boundary(model, X, y, path=str(boundary), compiled=args.compiled,
                           title="MLP 2-16-16-1 on two moons")
    print(f"wrote {boundary}")  # each as it is written: a failure or Ctrl-C after it
    plot_history(history, path=str(curves), title="training on two moons")
    print(f"wrote {curves}")
    activation = _active_neuron(model, X)
    model.zero_grad()
    activation.backward()
    drawing = draw_graph(activation, names=model)
    try:
        graph = render(drawing, svg)
    except GraphvizNotFound as missing:  # no dot, and Python 3.10: no WebAssembly build
        graph = render(drawing, source)
        print(f"{svg.name} not drawn: {missing}. Its Graphviz source is in {graph}.",
              file=sys.stderr)
    print(f"wrote {graph}")
    return EXIT_OK


DEMO_PICTURES = ("decision_boundary.png", "loss.png", "neuron.svg", "neuron.gv")
"""The files ``demo`` writes into its folder (the last only where Graphviz is missing)."""


def run_train(args: argparse.Namespace) -> int:
    if args.save is not None:
        check_file_target("--save", args.save)
    if args.momentum and args.optimizer != "sgd":
        raise UsageError("--momentum is for --optimizer sgd")
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS["synthetic" if args.data in SYNTHETIC else "real"]
    X, y, classes = _load_data(args)
    loss = args.loss or ("hinge" if classes == 2 else "cross_entropy")
    if classes > 2 and loss != "cross_entropy":
        raise UsageError(f"--loss {loss} is for two classes, and {args.data} has {classes}; "
                         "use --loss cross_entropy")
    plots = None
    if args.plots is not None:
        require_matplotlib()
        plots = output_folder("--plots", args.plots, TRAINING_PICTURES)
        if args.save is not None and Path(args.save).resolve() in {
                (plots / name).resolve() for name in TRAINING_PICTURES}:
            raise UsageError(f"--save {args.save}: --plots {args.plots} writes a picture of "
                             "that name; save the model elsewhere")
    X, y, val, scaler = _hold_out(X, y, args)
    nout = classes if loss == "cross_entropy" else 1
    _check_memory(args, [X.shape[1], *args.hidden, nout], len(X))
    model = MLP(X.shape[1], [*args.hidden, nout], activation=args.activation, init=args.init,
                seed=args.seed)
    extra = {"momentum": args.momentum} if args.optimizer == "sgd" else {}
    if args.weight_decay is not None:  # else the optimizer's own default (adamw's is 0.01)
        extra["weight_decay"] = args.weight_decay
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr, **extra)
    held = f", {len(val[0])} held out" if val is not None else ""
    print(f"{args.data}: {len(X)} training examples{held}, {X.shape[1]} inputs, "
          f"{classes} classes; {_describe(model)}; {loss} loss; {args.optimizer} "
          f"lr={args.lr:g}; {_epochs(args)}")
    history, seconds = _timed_fit(model, X, y, args, "--lr", loss=loss, optimizer=optimizer,
                                  epochs=args.epochs, batch_size=args.batch_size, val=val)
    print(f"done in {seconds:.1f} s: {_summary(model, loss, history, (X, y), val, args)}")
    if args.save is not None:
        (model if scaler is None else Standardized(model, scaler)).save(args.save)
        print(f"wrote {args.save}")
    if plots is not None:
        _training_pictures(model, loss, history, X, y, plots, args)
    return EXIT_OK


EAGER_BYTES_PER_PARAMETER = 114
"""What an MLP's parameter costs eagerly (its Value, its place in the lists), measured with
tracemalloc on 2-300-300-1."""
EAGER_BYTES_PER_EDGE = 63
"""What one example's graph costs per parameter at its peak: the affine node's children
and local derivatives, one float and two references per weight (measured alike)."""


def eager_memory(sizes: list[int], batch: int) -> int:
    """Estimated bytes of eager training of an MLP of ``sizes`` on batches of ``batch``:
    the parameters, and every example's graph of the batch, alive until backward."""
    parameters = sum((nin + 1) * nout for nin, nout in itertools.pairwise(sizes))
    return parameters * (EAGER_BYTES_PER_PARAMETER + batch * EAGER_BYTES_PER_EDGE)


def _check_memory(args: argparse.Namespace, sizes: list[int], n: int) -> None:
    """Refuse, before anything is allocated, a run over ``--memory-budget``: compiled (the
    tape's arrays) or eager (the Values)."""
    batch = n if args.batch_size is None else min(args.batch_size, n)
    how = "a compiled" if args.compiled else "an eager"
    needed = compiled_memory(sizes, batch) if args.compiled else eager_memory(sizes, batch)
    budget = args.memory_budget * 2**30
    if needed > budget:
        hint = "" if args.compiled else " (compiled, the default, needs far less)"
        raise UsageError(f"{how} {'-'.join(map(str, sizes))} network on batches of {batch} "
                         f"needs about {needed / 2**30:.1f} GiB{hint}, over the memory budget "
                         f"of {args.memory_budget:g} GiB; use a smaller --batch-size or "
                         "--hidden, or raise --memory-budget")


def _summary(model: Any, loss_name: str, history: Any, train: tuple[Any, Any],
             val: tuple[Any, Any] | None, args: argparse.Namespace) -> str:
    """The last epoch's loss, and the trained model's accuracy for a classification loss."""
    loss = losses.get(loss_name)
    parts = [f"loss {loss_text(history.loss[-1])}"]
    for name, data in (("training", train), ("validation", val)):
        if data is None:
            continue
        raw = training.predict(model, data[0], compiled=args.compiled)
        predicted = (classes_from_outputs(raw, LABELS_THRESHOLD) if not loss.classification
                     else loss.predicted_classes(raw))
        if predicted is not None:
            parts.append(f"{name} accuracy {100 * accuracy(data[1], predicted):.1f}%")
    return ", ".join(parts)


LABELS_THRESHOLD = 0.5
"""Where a regression loss's one output (``--loss mse`` or ``l1``, fitted to the class
labels 0 and 1) changes class: half way between the two."""


TRAINING_PICTURES = ("loss.png", "decision_boundary.png")
"""The files ``train --plots`` writes into its folder."""


def _training_pictures(model: Any, loss_name: str, history: Any, X: Any, y: Any,
                       folder: Path, args: argparse.Namespace) -> None:
    """Write the loss curves, and the decision boundary of 2-D data, into ``folder``
    (``TRAINING_PICTURES``), saying each as it is written. A regression loss's boundary
    is drawn at :data:`LABELS_THRESHOLD`, the others' at 0 (logits, hinge scores)."""
    curves = made(folder) / TRAINING_PICTURES[0]
    plot_history(history, path=str(curves), title=f"training on {args.data}")
    print(f"wrote {curves}")
    if X.shape[1] != 2:
        return
    boundary = folder / TRAINING_PICTURES[1]
    regression = not losses.get(loss_name).classification
    plot_decision_boundary(model, X, y, path=str(boundary), compiled=args.compiled,
                           title=f"{_describe(model)} on {args.data}",
                           threshold=LABELS_THRESHOLD if regression else 0.0)
    print(f"wrote {boundary}")


def _hold_out(X: Any, y: Any, args: argparse.Namespace
              ) -> tuple[Any, Any, Any, Standardizer | None]:
    """The training set, the validation pair (or None), both standardised if asked with
    the training set's statistics, and that scaling (or None), which is saved with the
    model so that the saved model takes raw features."""
    val = None
    if args.val > 0:
        try:
            (X, y), val = split(X, y, fraction=args.val, seed=args.seed, stratify=True)
        except ValueError as error:
            raise UsageError(f"--val {args.val:g}: {error}; give more --samples, or --val 0 "
                             "to hold nothing out") from None
    if not args.standardize:
        return X, y, val, None
    scaler = Standardizer.fit(X)
    if val is not None:
        val = (scaler(val[0]), val[1])
    return scaler(X), y, val, scaler


def _active_neuron(model: Any, X: Any) -> Any:
    """The output of the first neuron of the first layer that fires (> 0) on some example.

    Its inputs are leaves labelled x[0], x[1], ..., so that the drawing shows the
    whole of one neuron: inputs and weights into ``dot``, the bias, the activation.
    """
    first = None
    for row in X:
        for neuron in model.layers[0].neurons:
            out = neuron([Value(float(x), label=f"x[{i}]") for i, x in enumerate(row)])
            if out.data > 0:
                return out
            first = out if first is None else first
    return first


def _load_data(args: argparse.Namespace) -> tuple[Any, Any, int]:
    """The data set ``--data`` with the size, noise and classes asked for, and its number
    of classes: the data set's, not the largest label of a ``--samples`` subset (five
    digits may hold no 9, and the model still needs ten outputs)."""
    if args.classes is not None and args.data not in ("spirals", "blobs"):
        raise UsageError(f"--classes is for spirals and blobs, not {args.data}")
    if args.data not in SYNTHETIC:
        if args.noise is not None:
            raise UsageError(f"--noise is for the synthetic data sets, not {args.data}")
        X, y = _read(args, getattr(datasets, args.data))
        classes = int(y.max()) + 1
        if args.samples is not None and args.samples < len(X):
            keep = np.random.default_rng(args.seed).permutation(len(X))[:args.samples]
            X, y = X[keep], y[keep]
        return X, y, classes
    options: dict[str, Any] = {"n": args.samples or 200, "seed": args.seed}
    if args.noise is not None:
        options["std" if args.data == "blobs" else "noise"] = args.noise
    if args.classes is not None:
        options["centers" if args.data == "blobs" else "classes"] = args.classes
    X, y = _read(args, getattr(datasets, args.data), **options)
    return X, y, args.classes or int(y.max()) + 1


OPTION_OF = {"n": "--samples", "noise": "--noise", "std": "--noise", "classes": "--classes",
             "centers": "--classes"}
"""The command-line option that sets each argument of the data sets' loaders."""


def _read(args: argparse.Namespace, load: Callable[..., Any], **options: Any) -> Any:
    """``load(**options)``, its complaints about them put in terms of the command line."""
    try:
        return load(**options)
    except ValueError as error:
        given = [f"--{name} {getattr(args, name)}" for name in ("samples", "noise", "classes")
                 if getattr(args, name) is not None]
        said = str(error)
        name, _, rest = said.partition(" ")
        if name in OPTION_OF and rest.startswith("must"):  # the loader's name, the user's
            said = f"{OPTION_OF[name]} {rest}"
        raise UsageError(f"{' '.join(['--data', args.data, *given])}: {said}") from None



def _timed_fit(model: Any, X: Any, y: Any, args: argparse.Namespace, cause: str | None,
               **settings: Any) -> tuple[Any, float]:
    """fit, timed; a run that diverged is a failed one, naming ``cause`` (:func:`trained`)."""
    start = time.perf_counter()
    history = trained(lambda: training.fit(model, X, y, compiled=args.compiled,
                                           progress=not args.quiet, seed=args.seed,
                                           **settings), cause)
    return history, time.perf_counter() - start


def _describe(model: Any) -> str:
    sizes = "-".join(str(n) for n in [model.nin, *model.nouts])
    return f"MLP {sizes} ({len(model.parameters())} parameters)"


def _epochs(args: argparse.Namespace) -> str:
    count = f"{args.epochs} epoch" + ("s" if args.epochs != 1 else "")
    return f"{count}, {'compiled' if args.compiled else 'eager'}"
