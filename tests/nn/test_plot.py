"""Plots: files are written whole, and the pictures show the data they were given."""

from __future__ import annotations

import builtins
import itertools
import os
import re
import types

import numpy as np
import pytest
from matplotlib.colors import to_rgb

import nn
from nn import plot
from nn.callbacks import History
from nn.liveplot import LivePlot


def linear_neuron(w0, w1, b=0.0):
    neuron = nn.Neuron(2, activation="linear")
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = w0, w1, b
    return neuron


def pixels(figure):
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255.0


def colour_at(figure, ax, x, y):
    image = pixels(figure)
    column, row = ax.transData.transform((x, y))
    return image[image.shape[0] - round(float(row)), round(float(column))]


def region_colour(k):
    alpha = plot.REGION_ALPHA
    return alpha * np.array(to_rgb(plot.PALETTE[k])) + (1 - alpha) * np.ones(3)


# -- decision boundary ----------------------------------------------------------------

@pytest.mark.parametrize("compiled", [False, True])
def test_decision_boundary_colours_each_side_by_the_predicted_class(tmp_path, compiled):
    # output = x[0] - x[1]: class 1 below the diagonal y = x, class 0 above it
    model = linear_neuron(1.0, -1.0)
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    y = np.array([0, 0, 0, 1])
    path = tmp_path / "boundary.png"
    figure = plot.plot_decision_boundary(model, X, y, path=path, resolution=40,
                                         compiled=compiled)
    ax = figure.axes[0]
    for point, k in [((0.8, -0.4), 1), ((-0.4, 0.8), 0), ((1.3, 0.2), 1), ((-1.3, -0.2), 0)]:
        assert np.allclose(colour_at(figure, ax, *point), region_colour(k), atol=0.02), point
    faces = ax.collections[-1].get_facecolors()[:, :3]  # the points, drawn last
    assert np.allclose(faces, [to_rgb(plot.PALETTE[k]) for k in y], atol=1e-3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_decision_boundary_of_one_output_is_where_it_crosses_the_threshold():
    """Between grid points the boundary follows the score, not the grid: output
    x[0] - 0.3 on a grid at -1, 0 and 1 changes class at x[0] = 0.3 (the score is
    linear, so interpolating it is exact), not half way between 0 and 1."""
    model = linear_neuron(1.0, 0.0, -0.3)
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    figure = plot.plot_decision_boundary(model, X, np.array([0, 1]), resolution=3, margin=0.0)
    ax = figure.axes[0]
    for point, k in [((0.22, 0.5), 0), ((0.38, 0.5), 1), ((0.45, -0.5), 1), ((-0.8, 0.0), 0)]:
        assert np.allclose(colour_at(figure, ax, *point), region_colour(k), atol=0.02), point


def test_decision_boundary_fills_scores_at_the_ends_of_float_range():
    """Scores of 1e308 and more (inf where the two terms add up past the largest
    float) still colour each side by its class."""
    model = linear_neuron(1e308, 1e308)
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    figure = plot.plot_decision_boundary(model, X, np.array([0, 1]), resolution=20, margin=0.0)
    ax = figure.axes[0]
    for point, k in [((0.8, 0.8), 1), ((-0.8, -0.8), 0), ((0.9, -0.5), 1), ((-0.9, 0.5), 0)]:
        assert np.allclose(colour_at(figure, ax, *point), region_colour(k), atol=0.02), point


def test_decision_boundary_of_several_outputs_takes_the_argmax():
    layer = nn.Layer(2, 3, activation="linear")
    for j, (w0, w1) in enumerate([(-1.0, 0.0), (1.0, 0.0), (0.0, 1.5)]):
        layer.neurons[j].w[0].data, layer.neurons[j].w[1].data = w0, w1
    X = np.array([[-2.0, -2.0], [2.0, 2.0]])
    figure = plot.plot_decision_boundary(layer, X, np.array([0, 2]), resolution=30, margin=0.0)
    ax = figure.axes[0]
    for point, k in [((-1.5, -1.0), 0), ((1.5, -1.0), 1), ((0.0, 1.5), 2)]:
        assert np.allclose(colour_at(figure, ax, *point), region_colour(k), atol=0.02), point


def test_decision_boundary_between_two_classes_shows_no_third():
    """Where classes 0 and 2 meet, class 1 (lower than both there) does not appear as a
    band between them: each region is its own margin's, z_k - max_{j != k} z_j, and the
    edge follows it between grid points (here exactly x[0] = 0)."""
    layer = nn.Layer(2, 3, activation="linear")
    for j, (w0, b) in enumerate([(-1.0, 0.0), (0.0, -1.0), (1.0, 0.0)]):
        neuron = layer.neurons[j]
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = w0, 0.0, b
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    figure = plot.plot_decision_boundary(layer, X, np.array([0, 2]), resolution=4, margin=0.0)
    ax = figure.axes[0]
    for point, k in [((-0.12, 0.5), 0), ((0.12, 0.5), 2), ((-0.9, -0.8), 0), ((0.9, 0.8), 2)]:
        assert np.allclose(colour_at(figure, ax, *point), region_colour(k), atol=0.02), point
    image = pixels(figure)
    (left, row), (right, _) = ax.transData.transform([(-0.95, 0.3), (0.95, 0.3)])
    line = image[image.shape[0] - round(float(row)), round(float(left)):round(float(right))]
    assert not np.isclose(line, region_colour(1), atol=0.06).all(axis=1).any()


@pytest.mark.parametrize("X, y, options, message", [
    (np.zeros((3, 3)), [0, 1, 0], {}, "needs 2-D inputs"),
    (np.zeros((3, 2)), [0, 1], {}, "one class index >= 0 per row of X (3)"),
    (np.zeros((3, 2)), [0.5, 1, 0], {}, "y must hold integer class indices, got 0.5"),
    (np.zeros((3, 2)), [0, 1, 0], {"resolution": 1}, "resolution must be an int >= 2"),
    (np.zeros((3, 2)), [0, 1, 0], {"threshold": float("nan")},
     "plot_decision_boundary: threshold must be a finite number, got nan"),
    (np.zeros((3, 2)), [0, 1, 0], {"threshold": "0"}, "threshold must be a finite number"),
    (np.zeros((3, 2)), [0, 1, 0], {"margin": float("nan")},
     "plot_decision_boundary: margin must be a finite number >= 0, got nan"),
    (np.zeros((3, 2)), [0, 1, 0], {"margin": -5}, "margin must be a finite number >= 0"),
    (np.zeros((3, 2)), [0, 1, 0], {"margin": "a"}, "margin must be a finite number >= 0"),
])
def test_decision_boundary_rejects_bad_inputs(X, y, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plot.plot_decision_boundary(linear_neuron(1, 0), X, np.asarray(y), **options)


@pytest.mark.parametrize("labels", [[False, True, True], [0.0, 1.0, 1.0]])
def test_decision_boundary_takes_the_labels_fit_takes(labels):
    """Bools and whole floats, as fit takes them for a binary loss, colour the points as
    the same class indices do."""
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [0.5, 0.5]])
    colours = [plot.plot_decision_boundary(linear_neuron(1, 0), X, np.asarray(y),
                                           resolution=4).axes[0].collections[-1].get_array()
               for y in (labels, [0, 1, 1])]
    np.testing.assert_array_equal(colours[0], colours[1])


# -- learning curves ------------------------------------------------------------------

def test_history_curves_show_the_recorded_numbers(tmp_path):
    history = History(metrics=("loss", "accuracy", "val_loss", "val_accuracy"),
                      loss=[0.9, 0.5, 0.3], accuracy=[0.5, 0.7, 0.9],
                      val_loss=[1.0, 0.6, 0.5], val_accuracy=[0.4, 0.6, 0.8])
    figure = plot.plot_history(history, path=tmp_path / "curves.svg")
    loss_ax, accuracy_ax = figure.axes[:2]
    assert [list(line.get_ydata()) for line in loss_ax.lines] == [history.loss, history.val_loss]
    assert [list(line.get_ydata()) for line in accuracy_ax.lines] == [history.accuracy,
                                                                    history.val_accuracy]
    assert list(loss_ax.lines[0].get_xdata()) == [0, 1, 2]  # as History numbers them
    assert (tmp_path / "curves.svg").read_text().lstrip().startswith("<?xml")


def test_history_axis_counts_whole_epochs_from_zero():
    """The epochs of the axis are those callbacks see (EarlyStopping.best_epoch), and
    its ticks whole numbers at any length; a single epoch shows as a point."""
    figure = plot.plot_history(History(metrics=("loss",), loss=list(np.linspace(1, 0, 20))))
    ax = figure.axes[0]
    figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert len(ticks) >= 3 and all(float(t).is_integer() for t in ticks)
    assert ax.lines[0].get_xdata()[[0, -1]].tolist() == [0, 19]
    one = plot.plot_history(History(metrics=("loss",), loss=[0.5]))
    single = one.axes[0].lines[0]
    assert single.get_marker() == "o" and list(single.get_xdata()) == [0]
    one.canvas.draw()
    low, high = one.axes[0].get_xlim()
    assert [t for t in one.axes[0].get_xticks() if low <= t <= high] == [0]


def test_regression_history_has_one_panel_and_no_validation_line():
    figure = plot.plot_history(History(metrics=("loss",), loss=[3.0, 2.0]))
    assert len(figure.axes) == 1 and len(figure.axes[0].lines) == 1
    with pytest.raises(TypeError, match="needs the History"):
        plot.plot_history({"loss": [1.0]})


# -- confusion matrix -------------------------------------------------------------------

def test_confusion_matrix_picture_holds_the_counts():
    matrix = nn.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    figure = plot.plot_confusion_matrix(matrix, labels=["a", "b", "c"])
    ax = figure.axes[0]
    assert np.array_equal(ax.images[0].get_array(), matrix)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}
    assert texts == {index: str(count) for index, count in np.ndenumerate(matrix)}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="square array of counts"):
        plot.plot_confusion_matrix(np.ones((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"square array of counts .* got rows of several "
                                         r"lengths"):
        plot.plot_confusion_matrix([[1, 2], [3]])
    with pytest.raises(ValueError, match="labels has 2 names for 3 classes"):
        plot.plot_confusion_matrix(matrix, labels=["a", "b"])


@pytest.mark.parametrize("matrix, labels", [
    (np.zeros((2, 2), dtype=int), None),
    (np.array([[1, 0], [0, 1]]), None),
    (np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]]), ["a very long class name", "another", "c"]),
    (np.arange(100).reshape(10, 10), [f"digit {k}" for k in range(10)]),
])
def test_confusion_matrix_text_is_whole_and_apart(matrix, labels):
    """Every label, tick and title lies inside the figure, column names do not run into
    each other, and the colour bar counts in whole numbers."""
    figure = plot.plot_confusion_matrix(matrix, labels=labels)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    inside = figure.bbox.padded(1)
    colour_bar = figure.axes[1]
    low, high = colour_bar.get_ylim()
    shown = [t for t in colour_bar.get_yticklabels() if low <= t.get_position()[1] <= high]
    texts = [figure.axes[0].title, *figure.axes[0].get_xticklabels(),
             *figure.axes[0].get_yticklabels(), *shown]
    for text in texts:
        if text.get_text():
            box = text.get_window_extent(renderer)
            assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1), text
    columns = [t.get_window_extent(renderer) for t in figure.axes[0].get_xticklabels()]
    assert not any(a.overlaps(b) for a, b in itertools.pairwise(columns))
    assert shown and all(float(t.get_position()[1]).is_integer() for t in shown)


# -- Hinton diagram -------------------------------------------------------------------------

def test_hinton_squares_have_area_proportional_to_the_weight_and_colour_by_sign():
    """Area is |w| / max_weight of the largest square's, which is HINTON_FILL of its cell's
    side; a weight past max_weight gets the largest square too."""
    weights = np.array([[1.0, -0.25], [0.0, -0.5]])
    figure = plot.plot_hinton(weights)
    squares = {(round(p.get_x() + p.get_width() / 2), round(p.get_y() + p.get_height() / 2)):
               p for p in figure.axes[0].patches}
    for (row, column), w in np.ndenumerate(weights):
        square = squares[(column, row)]
        assert square.get_width() == square.get_height()
        assert square.get_width() ** 2 == pytest.approx(plot.HINTON_FILL ** 2 * abs(w))
        assert to_rgb(square.get_facecolor()) == to_rgb("white" if w > 0 else "black")
    capped = plot.plot_hinton(np.array([[2.0, 0.5]]), max_weight=1.0).axes[0].patches
    assert [p.get_width() for p in capped] == pytest.approx(
        [plot.HINTON_FILL, plot.HINTON_FILL * np.sqrt(0.5)])


def test_hinton_keeps_a_grey_margin_between_the_largest_squares():
    """Squares of the largest |w| side by side stay apart: grey shows between them and
    around them, so a row or column of big weights does not merge into a stripe."""
    figure = plot.plot_hinton(np.array([[1.0, 1.0], [-1.0, -1.0]]))
    ax = figure.axes[0]
    grey = to_rgb("grey")
    assert 0 < plot.HINTON_FILL < 1
    assert np.allclose(colour_at(figure, ax, 0.5, 0.0), grey, atol=0.02)    # white | white
    assert np.allclose(colour_at(figure, ax, 0.5, 1.0), grey, atol=0.02)    # black | black
    assert np.allclose(colour_at(figure, ax, 0.0, 0.5), grey, atol=0.02)    # white over black
    assert np.allclose(colour_at(figure, ax, 0.0, 0.0), (1, 1, 1), atol=0.02)
    assert np.allclose(colour_at(figure, ax, 1.0, 1.0), (0, 0, 0), atol=0.02)


def test_hinton_of_an_array_has_only_the_figure_title():
    figure = plot.plot_hinton(np.array([[1.0, -0.5]]), title="input -> hidden")
    assert figure.get_suptitle() == "input -> hidden"
    assert [ax.get_title() for ax in figure.axes] == [""]
    figure.canvas.draw()
    texts = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))
             if t.get_visible() and t.get_text()]
    assert texts.count("input -> hidden") == 1 and "weights" not in texts


def test_hinton_of_a_model_draws_one_panel_per_layer(tmp_path):
    model = nn.MLP(3, [4, 2], seed=0)
    figure = plot.plot_hinton(model, path=tmp_path / "weights.png")
    assert [ax.get_title() for ax in figure.axes] == ["layers.0", "layers.1"]
    assert [len(ax.patches) for ax in figure.axes] == [4 * 3, 2 * 4]
    largest = max(abs(p.data) for name, p in model.named_parameters() if ".w[" in name)
    first = dict(model.named_parameters())["layers.0.neurons.0.w[0]"].data
    square = next(p for p in figure.axes[0].patches
                  if abs(p.get_x() + p.get_width() / 2) < 1e-9
                  and abs(p.get_y() + p.get_height() / 2) < 1e-9)
    assert square.get_width() ** 2 == pytest.approx(
        plot.HINTON_FILL ** 2 * abs(first) / largest)
    assert os.path.getsize(tmp_path / "weights.png") > 0


def test_hinton_rejects_what_it_cannot_draw():
    with pytest.raises(ValueError, match="non-empty finite 2-D array"):
        plot.plot_hinton(np.ones(3))
    with pytest.raises(ValueError, match="no layers of neurons"):
        plot.plot_hinton(nn.Network())
    with pytest.raises(ValueError, match="max_weight must be"):
        plot.plot_hinton(np.ones((2, 2)), max_weight=0)
    with pytest.raises(ValueError, match="max_weight must be a finite number > 0, got True"):
        plot.plot_hinton(np.ones((2, 2)), max_weight=True)
    assert plot.plot_hinton(np.ones((2, 2)), max_weight=np.float32(2.0)) is not None


# -- saving ---------------------------------------------------------------------------------

def test_a_failed_save_writes_nothing(tmp_path):
    figure = plot.plot_history(History(loss=[1.0]))
    with pytest.raises(ValueError, match="the suffix must be one of"):
        plot.save(figure, tmp_path / "curves.xyz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.save(figure, tmp_path / "missing" / "curves.png")
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def without_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_matplotlib)
    with pytest.raises(ImportError, match=r'pip install matplotlib \(the "plots" extra\)'):
        plot.require_matplotlib()
    monkeypatch.setattr(plot, "_FIGURE", [])  # as in a process that has drawn nothing yet
    history = History(metrics=("loss",), loss=[1.0, 0.5])
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    calls = [lambda: plot.plot_history(history),
             lambda: plot.plot_confusion_matrix(np.eye(2, dtype=int)),
             lambda: plot.plot_hinton(np.ones((2, 2))),
             lambda: plot.plot_decision_boundary(linear_neuron(1, 0), X, y, resolution=2)]
    for call in calls:  # each says what to install, none fails on its own import
        with pytest.raises(ImportError, match=r'pip install matplotlib'):
            call()


def test_a_figure_pickled_in_one_process_loads_in_another(tmp_path):
    """nn.plot.Figure is made on first use; a process that has drawn nothing yet still
    finds it when it loads a pickled figure."""
    import subprocess
    import sys

    path = tmp_path / "figure.pickle"
    write = ("import pickle, sys, nn\n"
             "figure = nn.plot.plot_history(nn.callbacks.History(metrics=('loss',), "
             "loss=[1.0, 0.5]))\n"
             "open(sys.argv[1], 'wb').write(pickle.dumps(figure))\n")
    read = ("import pickle, sys\n"
            "figure = pickle.loads(open(sys.argv[1], 'rb').read())\n"
            "print(type(figure).__module__, type(figure).__name__, "
            "figure._repr_png_()[:4] == b'\\x89PNG')\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", write, str(path)], check=True, env=env)
    done = subprocess.run([sys.executable, "-c", read, str(path)], check=True, env=env,
                          capture_output=True, text=True)
    assert done.stdout.split() == ["nn.plot", "Figure", "True"]


# -- live plotting ------------------------------------------------------------------------------

def test_live_plot_writes_the_file_and_updates_one_notebook_output(monkeypatch, tmp_path):
    shown = []

    class Handle:
        def update(self, image):
            shown.append(("update", image))

    def display(image, display_id):
        assert display_id is True
        shown.append(("display", image))
        return Handle()

    monkeypatch.setattr("nn.liveplot.notebook_display", lambda: display)
    live = LivePlot(every=2, path=str(tmp_path / "live.png"))
    history = History(metrics=("loss",))
    for epoch in range(5):
        history.loss.append(1.0 / (epoch + 1))
        assert live.on_epoch_end(epoch, history) is False
    live.on_train_end(None, history)
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    assert all(image.data[:8] == b"\x89PNG\r\n\x1a\n" for _, image in shown)
    assert (tmp_path / "live.png").stat().st_size > 0
    with pytest.raises(ValueError, match="every must be a positive int"):
        LivePlot(every=0)


def test_live_plot_draws_each_fit_run_in_an_output_of_its_own(monkeypatch):
    """A LivePlot given to a second ``fit`` (the next cell) shows there, and leaves the
    first run's picture as it was."""
    shown = []

    def display(image, display_id):
        shown.append("display")
        return types.SimpleNamespace(update=lambda image: shown.append("update"))

    monkeypatch.setattr("nn.liveplot.notebook_display", lambda: display)
    X, y = nn.data.moons(20, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    live = LivePlot(every=1)
    for _ in range(2):
        nn.fit(model, X, y, loss="bce_with_logits", epochs=2, callbacks=[live],
               optimizer=nn.optim.SGD(model.parameters(), lr=0.1), progress=False)
    assert shown == ["display", "update", "display", "update"]


@pytest.mark.parametrize("path, error, message", [
    (123, TypeError, "LivePlot: path must be a file path (str or Path), got int"),
    ("curves.txt", ValueError, "LivePlot: cannot save a figure as 'curves.txt': the suffix"),
    ("missing/curves.png", FileNotFoundError, "the folder"),
])
def test_live_plot_checks_its_path_before_training(tmp_path, path, error, message):
    """A bad path is refused when the LivePlot is made, not after fit's first update."""
    if isinstance(path, str) and "/" in path:
        path = str(tmp_path / path)
    with pytest.raises(error, match=re.escape(message)):
        LivePlot(path=path)


def test_live_plot_outside_a_notebook_only_writes_the_file(tmp_path):
    live = LivePlot(path=str(tmp_path / "live.png"))
    history = History(metrics=("loss",), loss=[1.0])
    live.on_epoch_end(0, history)
    assert live.handle is None and live.redraws == 1
    assert (tmp_path / "live.png").exists()
