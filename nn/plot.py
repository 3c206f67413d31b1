"""Pictures of training: decision boundaries, learning curves, confusion matrices and
Hinton diagrams of weights.

Each function returns a matplotlib ``Figure`` and, given ``path``, also writes it
there (format from the suffix: .png, .svg, .pdf, ...; written to a temporary file
first and then moved into place, so a failed save leaves no partial file). The
figures are made with the object-oriented API on the Agg canvas, outside pyplot's
list of open figures: they display in a notebook as a cell's result, need no
display to save, and are freed like any object. matplotlib is the optional extra
``plots``.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
from typing import Any

import numpy as np

from autograd_scalar import output_file, write_atomically
from autograd_scalar.validate import integer, printable, real

from .callbacks import History
from .metrics import class_indices, classes_from_outputs
from .train import check_inputs, predict

INSTALL_HINT = 'pip install matplotlib (the "plots" extra)'

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
"""Class colours: class k is drawn in PALETTE[k % 10]."""

REGION_ALPHA = 0.35
"""Opacity of the class regions behind the data points in a decision-boundary plot."""


def literal(text: str) -> str:
    """``text`` as a figure shows it, as written: ``printable`` (a control character
    from a data set's names would leave a saved SVG unreadable) and each ``$`` escaped,
    which matplotlib reads as the start of math ("$5 or $10" would come out "5or10")."""
    return printable(str(text)).replace("$", r"\$")


def require_matplotlib() -> Any:
    """Import matplotlib (choosing the Agg backend when there is no display), or raise
    ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(f"plotting needs matplotlib; install it with {INSTALL_HINT}"
                          ) from error
    headless = sys.platform.startswith("linux") and not os.environ.get("DISPLAY") \
        and not os.environ.get("WAYLAND_DISPLAY")
    if headless and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot  # in a notebook kernel this registers how figures display

    return matplotlib


def new_figure(width: float, height: float) -> Any:
    """A Figure on an Agg canvas, not registered with pyplot, that a notebook shows as a
    PNG picture (IPython's ``_repr_png_``) whether or not pyplot has set up its own
    display of figures (the inline backend does so only once pyplot has drawn)."""
    figure_class = _figure_class()  # first: without matplotlib, the error says what to install
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = figure_class(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


_FIGURE: list[type] = []
_FIGURE_MADE = threading.Lock()


def _figure_class() -> type:
    """``nn.plot.Figure``: a matplotlib Figure with ``_repr_png_``, made once, when first
    asked for (matplotlib is an optional extra, imported only then)."""
    with _FIGURE_MADE:
        if not _FIGURE:
            require_matplotlib()
            from matplotlib import figure

            class Figure(figure.Figure):
                """A matplotlib Figure that a notebook shows as a PNG picture."""

                def _repr_png_(self) -> bytes:
                    buffer = io.BytesIO()
                    self.savefig(buffer, format="png")
                    return buffer.getvalue()

            Figure.__module__, Figure.__qualname__ = __name__, "Figure"
            _FIGURE.append(Figure)
    return _FIGURE[0]


def __getattr__(name: str) -> Any:
    """``nn.plot.Figure`` made on first use, so that a pickled figure loads in a process
    that has drawn none yet (PEP 562's module ``__getattr__``)."""
    if name == "Figure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def figure_path(path: Any, who: str) -> str:
    """``path`` as a string, checked to name a file a figure can be written to
    (:func:`autograd_scalar.output_file`) whose suffix matplotlib's Agg canvas writes
    (.png, .svg, .pdf, ...). ``who`` names the caller in the errors."""
    target = str(output_file(path, who))
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    formats = FigureCanvasAgg.get_supported_filetypes()
    suffix = os.path.splitext(target)[1].lower().lstrip(".")
    if suffix not in formats:
        raise ValueError(f"{who}: cannot save a figure as {target!r}: the suffix "
                         f"must be one of {sorted('.' + f for f in formats)}")
    return target


def save(figure: Any, path: str | os.PathLike[str] | None, dpi: int = 100,
         who: str = "save") -> None:
    """Write ``figure`` to ``path`` atomically (nothing is written if it fails); ``who``
    names the caller in the errors."""
    if path is None:
        return
    path = figure_path(path, who)
    suffix = os.path.splitext(path)[1].lower().lstrip(".")  # figure_path checked it
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix, dpi=dpi)
    write_atomically(path, buffer.getvalue())


# ---------------------------------------------------------------------------
# Decision boundary
# ---------------------------------------------------------------------------

def grid_outputs(model: Any, X: np.ndarray, resolution: int, margin: float,
                 compiled: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's raw outputs on a resolution x resolution grid covering X plus
    ``margin``: returns (xs, ys, raw), raw (resolution**2,) or (resolution**2, k), row
    by row of the grid (y), each row along x."""
    low = X.min(axis=0) - margin
    high = X.max(axis=0) + margin
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, predict(model, np.column_stack([gx.ravel(), gy.ravel()]), compiled=compiled)


def decision_grid(model: Any, X: np.ndarray, resolution: int, margin: float,
                  threshold: float, compiled: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The class the model predicts at each point of a resolution x resolution grid
    covering X plus ``margin``: returns (xs, ys, classes[row=y, column=x])."""
    xs, ys, raw = grid_outputs(model, X, resolution, margin, compiled)
    return xs, ys, classes_from_outputs(raw, threshold).reshape(resolution, resolution)


def plot_decision_boundary(model: Any, X: Any, y: Any, *, path: str | None = None,
                           resolution: int = 100, margin: float = 0.5,
                           threshold: float = 0.0, compiled: bool = False,
                           title: str = "") -> Any:
    """The regions where a 2-D classifier predicts each class, with the data on top.

    Class decisions follow :func:`nn.metrics.classes_from_outputs`: one output is
    thresholded at ``threshold`` (0 suits logits and hinge scores), several take the
    argmax. Region and point colours are ``PALETTE[class]``.
    """
    X = check_inputs(X, "X")
    if X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D inputs, got X with {X.shape[1]} "
                         "columns")
    labels = _class_indices(y, len(X))
    integer("resolution", resolution, 2)
    margin = real("margin", margin, 0.0, who="plot_decision_boundary")
    threshold = real("threshold", threshold, who="plot_decision_boundary")
    xs, ys, raw = grid_outputs(model, X, resolution, margin, compiled)
    classes = classes_from_outputs(raw, threshold).reshape(resolution, resolution)
    one_output = raw.ndim == 1 or raw.shape[1] == 1
    score = raw.reshape(resolution, resolution) - threshold if one_output else None
    count = int(max(classes.max(), labels.max())) + 1
    figure = new_figure(5, 5)
    from matplotlib.colors import ListedColormap

    colours = ListedColormap([PALETTE[k % len(PALETTE)] for k in range(count)])
    ax = figure.add_subplot()
    # filled contours, their edges interpolated between grid points: one score where it
    # crosses the threshold; several, each class's margin where it crosses 0
    if score is not None:
        ax.contourf(xs, ys, _contour_field(score, score > 0), levels=[-3.0, 0.0, 3.0],
                    colors=PALETTE[:2], alpha=REGION_ALPHA)
    else:
        rows = raw.reshape(resolution, resolution, -1)
        for k in range(rows.shape[2]):
            if (classes == k).any():
                field = _contour_field(class_margin(rows, k), classes == k)
                ax.contourf(xs, ys, field, levels=[0.0, 3.0],
                            colors=[PALETTE[k % len(PALETTE)]], alpha=REGION_ALPHA)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=colours, vmin=-0.5, vmax=count - 0.5,
               s=25, edgecolors="black", linewidths=0.5)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(literal(title) or "decision boundary")
    save(figure, path, who="plot_decision_boundary")
    return figure


def class_margin(outputs: np.ndarray, k: int) -> np.ndarray:
    """z_k - max_{j != k} z_j over the last axis of ``outputs`` (..., K), K >= 2: positive
    exactly where class k alone is the argmax. Where k and j are the two largest the
    margins of k and j are each other's negatives, so their zero lines coincide and the
    regions of neighbouring classes meet without a gap or a band between them."""
    others = np.delete(outputs, k, axis=-1)
    with np.errstate(invalid="ignore"):
        return outputs[..., k] - others.max(axis=-1)


def _class_indices(y: Any, n: int) -> np.ndarray:
    """``y`` as n class indices >= 0 (ints, bools or whole floats, as ``fit`` takes them
    for a binary loss: :func:`nn.metrics.class_indices`); ValueError otherwise."""
    labels = class_indices(y, "y")
    if labels.shape != (n,):
        raise ValueError(f"y must hold one class index >= 0 per row of X ({n}), "
                         f"got shape {labels.shape}")
    return labels


def _contour_field(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``values`` scaled into [-1, 1] (which moves no zero crossing) for contouring at 0,
    a non-finite one set to +-2 as ``inside`` says: the region then covers exactly the
    grid points that :func:`nn.metrics.classes_from_outputs` puts in it, including
    those whose outputs are infinite or NaN."""
    finite = np.isfinite(values)
    magnitudes = np.abs(values[finite])
    largest = float(magnitudes.max()) if magnitudes.size else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values / (largest or 1.0)
    return np.where(finite, scaled, np.where(inside, 2.0, -2.0))


# ---------------------------------------------------------------------------
# Learning curves
# ---------------------------------------------------------------------------

def plot_history(history: History, *, path: str | None = None, title: str = "") -> Any:
    """Loss (and, for classification, accuracy) per epoch, training and validation.

    Epochs are numbered from 0, as ``History`` prints them and callbacks receive them
    (``EarlyStopping.best_epoch`` is a point of this axis), with whole-number ticks."""
    if not isinstance(history, History):
        raise TypeError(f"plot_history needs the History that fit returns, got "
                        f"{type(history).__name__}")
    panels = [("loss", "val_loss")]
    if "accuracy" in history.metrics:
        panels.append(("accuracy", "val_accuracy"))
    figure = new_figure(5 * len(panels), 3.5)
    from matplotlib.ticker import MaxNLocator

    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (train, validation) in zip(axes, panels):
        epochs = np.arange(history.epochs)
        marker = "o" if history.epochs == 1 else None  # one epoch: a point, not a line
        ax.plot(epochs, getattr(history, train), label="training", color=PALETTE[0],
                marker=marker)
        if getattr(history, validation):
            ax.plot(epochs, getattr(history, validation), label="validation", color=PALETTE[1],
                    marker=marker)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        if history.epochs == 1:  # else matplotlib spans -0.06..0.06 and ticks fractions
            ax.set_xlim(-0.5, 0.5)
            ax.set_xticks([0])
        ax.set_ylabel(train)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(literal(title))
    save(figure, path, who="plot_history")
    return figure


# ---------------------------------------------------------------------------
# Confusion matrix
# ---------------------------------------------------------------------------

def plot_confusion_matrix(matrix: Any, *, labels: list[str] | None = None,
                          path: str | None = None, title: str = "") -> Any:
    """A confusion matrix (rows: true class, columns: predicted) as a grid of counts,
    darker for more."""
    try:
        counts = np.asarray(matrix)
    except ValueError:  # rows of several lengths
        raise ValueError("matrix must be a square array of counts >= 0 (see "
                         "nn.confusion_matrix), got rows of several lengths") from None
    if (counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.size == 0
            or counts.dtype.kind not in "iu" or (counts < 0).any()):
        raise ValueError("matrix must be a square array of counts >= 0 (see "
                         f"nn.confusion_matrix), got shape {counts.shape}, dtype {counts.dtype}")
    k = counts.shape[0]
    names = [str(i) for i in range(k)] if labels is None else [str(n) for n in labels]
    if len(names) != k:
        raise ValueError(f"labels has {len(names)} names for {k} classes")
    longest = max(len(name) for name in names)
    slanted = longest > 3  # longer names would run into each other under the columns
    label_inches = 0.08 * longest  # about a character's width at the default 10 pt
    figure = new_figure(max(3.5, 1.8 + 0.6 * k + label_inches),
                        max(3.0, 1.4 + 0.6 * k + (0.75 * label_inches if slanted else 0)))
    from matplotlib.ticker import MaxNLocator

    ax = figure.add_subplot()
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    for (i, j), count in np.ndenumerate(counts):
        dark = count > 0.6 * counts.max()
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if dark else "black")
    ax.set_xticks(range(k), [literal(name) for name in names], rotation=45 if slanted else 0,
                  ha="right" if slanted else "center", rotation_mode="anchor")
    ax.set_yticks(range(k), [literal(name) for name in names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(literal(title) or "confusion matrix")
    figure.colorbar(image, ax=ax, shrink=0.8, ticks=MaxNLocator(integer=True))  # counts
    save(figure, path, who="plot_confusion_matrix")
    return figure


# ---------------------------------------------------------------------------
# Hinton diagram
# ---------------------------------------------------------------------------

HINTON_FILL = 0.9
"""Side of a Hinton square of |w| = max_weight, as a fraction of its cell: a grey margin
stays around even the largest squares, so neighbouring ones do not merge."""

NEURON_WEIGHT = re.compile(r"^(?:(?P<layer>.+)\.)?neurons\.(?P<neuron>\d+)\.w\[(?P<input>\d+)\]$")


def layer_weights(model: Any) -> dict[str, np.ndarray]:
    """Each layer's weight matrix W[neuron, input], keyed by the layer's name, read from
    parameter names of the form ``<layer>.neurons.<j>.w[<i>]``."""
    entries: dict[str, dict[tuple[int, int], float]] = {}
    for name, p in model.named_parameters():
        match = NEURON_WEIGHT.match(name)
        if match:
            layer = match["layer"] or "layer"
            entries.setdefault(layer, {})[(int(match["neuron"]), int(match["input"]))] = p.data
    matrices = {}
    for layer, cells in entries.items():
        shape = tuple(max(index[axis] for index in cells) + 1 for axis in (0, 1))
        matrix = np.zeros(shape)
        for index, value in cells.items():
            matrix[index] = value
        matrices[layer] = matrix
    return matrices


def plot_hinton(weights: Any, *, path: str | None = None, max_weight: float | None = None,
                title: str = "") -> Any:
    """Weights as a Hinton diagram: one square per weight, its area proportional to
    |w| / max_weight, white for positive and black for negative, on grey. A weight of
    |w| >= max_weight gets the largest square, HINTON_FILL of its cell's side.

    ``weights`` is a 2-D array (rows: neurons, columns: inputs), drawn as one panel
    without a title of its own, or a model whose layers of neurons each get a panel
    named after the layer. ``max_weight`` defaults to the largest |w|.
    """
    if hasattr(weights, "named_parameters"):
        panels = layer_weights(weights)
        if not panels:
            raise ValueError("the model has no layers of neurons (parameters named "
                             "'<layer>.neurons.<j>.w[<i>]') to draw")
    else:
        matrix = np.asarray(weights, dtype=np.float64)
        if matrix.ndim != 2 or matrix.size == 0 or not np.isfinite(matrix).all():
            raise ValueError("weights must be a model or a non-empty finite 2-D array, got "
                             f"shape {matrix.shape}")
        panels = {"": matrix}
    largest = max(float(np.abs(m).max()) for m in panels.values())
    if max_weight is None:
        max_weight = largest if largest > 0 else 1.0
    else:
        max_weight = real("max_weight", max_weight, 0.0, low_open=True, who="plot_hinton")
    widths = [m.shape[1] + 1 for m in panels.values()]
    height = max(m.shape[0] for m in panels.values())
    figure = new_figure(min(2 + 0.3 * sum(widths), 30), min(1.5 + 0.3 * height, 30))
    from matplotlib.patches import Rectangle

    axes = figure.subplots(1, len(panels), squeeze=False, width_ratios=widths)[0]
    for ax, (name, matrix) in zip(axes, panels.items()):
        ax.set_facecolor("grey")
        ax.set_aspect("equal")
        for (row, column), w in np.ndenumerate(matrix):
            side = HINTON_FILL * min(np.sqrt(abs(w) / max_weight), 1.0)
            ax.add_patch(Rectangle((column - side / 2, row - side / 2), side, side,
                                   facecolor="white" if w > 0 else "black", edgecolor="none"))
        ax.set_xlim(-0.5, matrix.shape[1] - 0.5)
        ax.set_ylim(matrix.shape[0] - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"inputs ({matrix.shape[1]})")
        ax.set_ylabel(f"neurons ({matrix.shape[0]})")
        if name:
            ax.set_title(literal(name))
    if title:
        figure.suptitle(literal(title))
    save(figure, path, who="plot_hinton")
    return figure
