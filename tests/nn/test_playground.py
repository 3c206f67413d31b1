"""The training playground's kernel side: its steps are fit's, its edits, reset, controls,
play loop, static picture and its refusals of bad input."""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import time
import warnings
import xml.etree.ElementTree as ElementTree
from typing import Any

import numpy as np
import pytest

import nn
from autograd_scalar import Value
from nn import optim
from nn.data import moons, spirals
from nn.playground.session import Session, classes_and_confidence

ADAM_LR = 0.03


def parameters(model: Any) -> list[float]:
    return [p.data for p in model.parameters()]


def make(n: int = 40, seed: int = 0, optimizer: str = "adam", **options: Any) -> Any:
    X, y = moons(n, noise=0.1, seed=seed)
    model = nn.MLP(2, [16, 16, 1], seed=seed)
    opt = (optim.Adam(model.parameters(), lr=ADAM_LR) if optimizer == "adam"
           else optim.SGD(model.parameters(), lr=0.1))
    options.setdefault("loss", "bce_with_logits")
    return nn.playground(model, X, y, optimizer=opt, **options), model, X, y


def answering(pg: Any) -> Any:
    """A page stand-in: answers every frame the moment it is published."""
    pg.observe(lambda change: pg._on_message(pg, {"type": "received", "frame": json.loads(
        change["new"])["id"]}, []), names="_frame")
    return pg


def page(pg: Any, **message: Any) -> None:
    """A command as the page sends it."""
    pg._on_message(pg, message, [])


# -- steps are fit's steps --------------------------------------------------------

@pytest.mark.parametrize("compiled", [True, "auto", False])
def test_a_step_changes_the_parameters_exactly_as_one_fit_step(compiled: Any) -> None:
    pg, model, X, y = make(compiled=compiled)
    twin = nn.MLP(2, [16, 16, 1], seed=0)
    history = nn.fit(twin, X, y, loss="bce_with_logits",
                     optimizer=optim.Adam(twin.parameters(), lr=ADAM_LR), epochs=1,
                     compiled=compiled, progress=False)
    loss = pg.step()
    assert parameters(model) == parameters(twin)
    assert loss == history.loss[0]
    assert pg.history["accuracy"] == history.accuracy
    assert pg.session.optimizer.steps == 1
    assert pg.frame["mode"] == ("eager" if compiled is False else "compiled")


@pytest.mark.parametrize("compiled", [True, False])
def test_a_ctrl_c_during_an_update_comes_after_the_step_is_counted(
        compiled: bool, monkeypatch: pytest.MonkeyPatch, ctrl_c: None) -> None:
    """A Ctrl-C held through the optimizer's update was raised as it ended, before the
    session counted the step: the optimizer had taken 3 steps, the session 2."""
    import signal

    pg, _, _, _ = make(compiled=compiled)
    name = "step_arrays" if compiled else "step"
    original, calls = getattr(optim.Adam, name), []

    def interrupted(self: Any, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # arrives during the update
        return original(self, *args)

    monkeypatch.setattr(optim.Adam, name, interrupted)
    with pytest.raises(KeyboardInterrupt):
        pg.session.step(5)
    assert pg.session.count == len(pg.session.losses) == pg.session.optimizer.steps == 3


@pytest.mark.parametrize("compiled", [True, False])
def test_mini_batch_steps_follow_fits_seeded_order_across_epochs(compiled: bool) -> None:
    X, y = moons(30, noise=0.1, seed=2)
    model, twin = nn.MLP(2, [8, 1], seed=2), nn.MLP(2, [8, 1], seed=2)
    pg = nn.playground(model, X, y, loss="bce_with_logits", compiled=compiled,
                       optimizer=optim.SGD(model.parameters(), lr=0.2), batch_size=7, seed=5)
    nn.fit(twin, X, y, loss="bce_with_logits", optimizer=optim.SGD(twin.parameters(), lr=0.2),
           epochs=3, batch_size=7, seed=5, compiled=compiled, progress=False)
    pg.step(15)  # 30 points in batches of 7: 5 batches an epoch
    assert parameters(model) == parameters(twin)


def test_a_model_the_tape_cannot_follow_trains_eagerly_and_says_why(capsys) -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            self.inner = nn.MLP(2, [4, 1], seed=0)

        def forward(self, x: Any) -> Any:
            out = self.inner(x)
            first = x[0].data if isinstance(x[0], Value) else x[0]
            return out if first > 0 else out * 2.0

    X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -0.3], [-0.4, 0.9], [0.3, 0.3], [-2, 1]])
    y = np.array([0, 1, 0, 1, 0, 1])
    model, twin = Branchy(), Branchy()
    pg = nn.playground(model, X, y, loss="bce_with_logits",
                       optimizer=optim.SGD(model.parameters(), lr=0.1))
    pg.step()
    nn.fit(twin, X, y, loss="bce_with_logits", optimizer=optim.SGD(twin.parameters(), lr=0.1),
           epochs=1, compiled=False, progress=False)
    assert parameters(model) == parameters(twin)
    assert pg.frame["mode"] == "eager"
    assert pg.frame["reason"]
    assert "training eagerly" in capsys.readouterr().err
    assert "network is not drawn" in pg._network["reason"]  # no .nin: not drawn, still trains


def test_a_non_finite_gradient_names_the_step_and_parameter_and_changes_nothing() -> None:
    pg, model, _, _ = make(optimizer="sgd")
    pg.lr = 1e300
    with pytest.raises(optim.NonFiniteGradientError) as caught:
        for _ in range(10):
            before = parameters(model)
            pg.step()
    taken = pg.session.count
    assert re.match(rf"step {taken + 1}: layers\.\d\.neurons\.\d+\.(w\[\d\]|b) ",
                    str(caught.value))
    assert parameters(model) == before
    assert len(pg.history["loss"]) == taken


@pytest.mark.parametrize("compiled", [False, "auto"])
def test_points_near_the_end_of_float_range_draw_and_a_steps_error_is_not_hidden(
        compiled: Any) -> None:
    """Points at +-1e308, which fit takes, were refused as "X must be finite; row 0 is
    [nan, nan]": the plane's span overflowed, and so did rounding the points for the
    page. The refusal came again after a step, in place of the step's own error."""
    X = np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 1.0], [0.0, -1.0]])
    model = nn.MLP(2, [4, 1], seed=0)
    with warnings.catch_warnings():  # not even an overflow NumPy would warn about
        warnings.simplefilter("error", RuntimeWarning)
        pg = nn.playground(model, X, np.array([0, 1, 0, 1]), loss="bce_with_logits",
                           optimizer=optim.SGD(model.parameters(), lr=1e300),
                           compiled=compiled)
    assert all(math.isfinite(b) for b in pg._bounds) and pg._bounds[0] < -1e308 < 1e308 < \
        pg._bounds[1]
    assert np.isfinite(pg._grid_at).all()
    assert [point[:2] for point in pg._points] == X.tolist()
    drawn = re.findall(r'<circle cx="([^"]+)" cy="([^"]+)" r="3.6"', pg.picture())  # points
    assert len(drawn) == 4 and all(math.isfinite(float(v)) for xy in drawn for v in xy)
    xs = [float(x) for x, _ in drawn]                     # by class: rows 0, 2, then 1, 3
    assert xs[2] < xs[1] == xs[3] < xs[0]                 # -1e308 < 0 < 1e308, not on edges
    with pytest.raises(ValueError, match="off the plane shown"):
        pg.add_point(1.7e308, 1e300, 0)
    before = parameters(model)
    with pytest.raises(optim.NonFiniteGradientError, match=r"^step 1: layers\.0"):
        pg.step()
    assert parameters(model) == before


# -- the data ---------------------------------------------------------------------

def test_adding_and_removing_points_changes_the_data_the_next_step_uses() -> None:
    pg, _, X, _ = make(n=40)
    pg.step()
    tape = pg.session.trainer.training.tape
    assert pg.add_point(0.25, -0.5, 1) == 41
    assert pg.X[-1].tolist() == [0.25, -0.5] and pg.y[-1] == 1
    assert pg._points[-1] == [0.25, -0.5, 1]
    assert pg.frame["points"] == 41
    pg.step()
    assert pg.frame["batch"] == 41
    assert pg.session.trainer.training.tape is tape  # a new batch size needs no new trace
    nearest = int(np.argmin(((X - [2.0, 2.0]) ** 2).sum(axis=1)))
    assert pg.remove_nearest(2.0, 2.0) == 40
    kept = np.delete(np.vstack([X, [0.25, -0.5]]), nearest, axis=0)
    np.testing.assert_array_equal(pg.X, kept)
    assert len(pg.y) == 40 and len(pg._points) == 40


def test_points_from_the_page_are_added_and_removed() -> None:
    pg, _, _, _ = make(n=40)
    page(pg, type="add", x=0.1, y=0.2, label=0)
    assert len(pg.X) == 41 and pg.y[-1] == 0
    page(pg, type="remove", x=0.1, y=0.2)
    assert len(pg.X) == 40
    assert pg.frame["error"] == ""


@pytest.mark.parametrize(("call", "message"), [
    (lambda pg: pg.add_point(float("nan"), 0.0, 0), "finite coordinates"),
    (lambda pg: pg.add_point(0.0, "left", 0), "y must be a number"),
    (lambda pg: pg.add_point(0.0, 0.0, 2),
     re.escape("class must be an index from 0 to 1 (classes 0, 1), got 2")),
    (lambda pg: pg.remove_nearest(float("nan"), 0.0), "finite coordinates"),
    (lambda pg: pg.add_point(1e6, 0.0, 0), r"the point \(1000000\.0, 0\.0\) is off the "
                                            r"plane shown, which spans x from -?\d"),
    (lambda pg: pg.add_point("1e6", "0", 0), r"the point \('1e6', '0'\) is off the plane"),
    (lambda pg: pg.remove_nearest(0.0, float("inf")), "finite coordinates"),
    (lambda pg: pg.add_point(0.0, 0.0, True), "class must be an index"),
    (lambda pg: pg.remove_point(40), "from 0 to 39"),
])
def test_bad_edits_are_refused_and_change_nothing(call: Any, message: str) -> None:
    pg, _, X, y = make(n=40)
    with pytest.raises(ValueError, match=message):
        call(pg)
    np.testing.assert_array_equal(pg.X, X)
    np.testing.assert_array_equal(pg.y, y)


def test_a_click_on_the_planes_far_edge_is_on_the_plane() -> None:
    """The page sends x0 + 1 * (x1 - x0) for a click on the right edge, which rounding
    may put a hair past x1: it is still a point of the plane."""
    pg = make(n=40)[0]
    x0, x1, y0, y1 = pg._bounds
    for x, y in [(x1, y0), (x0 + 1.0 * (x1 - x0) * (1 + 1e-15), y1), (x0, y1)]:
        pg.add_point(x, y, 0)
    assert len(pg.X) == 43


def test_the_last_point_stays() -> None:
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    model = nn.MLP(2, [3, 1], seed=0)
    pg = nn.playground(model, X, y, loss="bce_with_logits",
                       optimizer=optim.SGD(model.parameters(), lr=0.1))
    pg.remove_point(0)
    with pytest.raises(ValueError, match="last point"):
        pg.remove_point(0)
    pg.step()


def test_hinge_labels_minus_one_and_one_are_the_classes() -> None:
    X, y = moons(20, noise=0.1, seed=0)
    signs = np.where(y == 1, 1, -1)
    model = nn.MLP(2, [4, 1], seed=0)
    pg = nn.playground(model, X, signs, loss="hinge",
                       optimizer=optim.SGD(model.parameters(), lr=0.1))
    assert [c["label"] for c in pg._classes] == ["-1", "1"]
    pg.add_point(0.0, 0.0, 1)
    assert pg.y[-1] == 1
    pg.add_point(0.0, 0.0, 0)
    assert pg.y[-1] == -1
    pg.step()


def test_cross_entropy_shows_one_class_per_output() -> None:
    X, y = spirals(60, classes=3, seed=0)
    model = nn.MLP(2, [8, 3], seed=0)
    pg = nn.playground(model, X, y, loss="cross_entropy",
                       optimizer=optim.Adam(model.parameters(), lr=0.05), resolution=16)
    assert [c["label"] for c in pg._classes] == ["0", "1", "2"]
    pg.step(3)
    assert len(pg._grid) == 16 * 16 * 4
    assert 0 <= pg.frame["accuracy"] <= 1


def test_the_confidence_is_zero_on_the_boundary_and_grows_away_from_it() -> None:
    bce = nn.losses.get("bce_with_logits")
    classes, confidence = classes_and_confidence(bce, np.array([-8.0, 0.0, 8.0]),
                                                 np.array([0.0, 1.0]))
    assert classes.tolist() == [0, 0, 1]
    assert confidence[1] == 0 and confidence[0] > 0.99 and confidence[2] > 0.99
    ce = nn.losses.get("cross_entropy")
    classes, confidence = classes_and_confidence(ce, np.array([[1.0, 1.0], [5.0, -5.0]]),
                                                 np.arange(2))
    assert classes.tolist() == [0, 0] and confidence[0] == 0 and confidence[1] > 0.99


# -- reset and controls ---------------------------------------------------------------

def test_reset_restores_the_initial_parameters_and_optimizer_but_keeps_data_and_lr() -> None:
    pg, model, _, _ = make()
    initial = parameters(model)
    pg.step(5)
    pg.add_point(0.0, 0.0, 0)
    pg.lr = 0.01
    assert parameters(model) != initial
    pg.reset()
    assert parameters(model) == initial
    assert pg.session.optimizer.steps == 0 and pg.session.optimizer.state == {}
    assert pg.history == {"step": [], "loss": [], "accuracy": []}
    assert pg.frame["step"] == 0
    assert len(pg.X) == 41 and pg.lr == 0.01
    first = pg.step()
    pg.reset()
    assert pg.step() == first  # the same start, the same first step


def test_a_learning_rate_set_from_the_page_reaches_the_optimizer_and_its_step() -> None:
    pg, model, _, _ = make(optimizer="sgd", compiled=False)
    page(pg, type="lr", value="0.25")
    assert pg.session.optimizer.lr == 0.25 and pg.frame["lr"] == 0.25
    before = parameters(model)
    pg.step()
    grads = [p.grad for p in model.parameters()]
    np.testing.assert_allclose(parameters(model), np.array(before) - 0.25 * np.array(grads),
                               rtol=0, atol=1e-15)


@pytest.mark.parametrize(("value", "message"), [
    ("-0.5", r"learning rate must be a finite number > 0, got '-0.5'"),
    ("0", "learning rate must be a finite number > 0"),
    ("fast", "learning rate must be a number, got 'fast'"),
    ("inf", "learning rate must be a finite number"),
])
def test_a_bad_learning_rate_from_the_page_is_shown_and_changes_nothing(
        value: str, message: str) -> None:
    pg, _, _, _ = make()
    sent = []
    pg.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    page(pg, type="lr", value=value)
    assert pg.session.optimizer.lr == ADAM_LR and pg.frame["lr"] == ADAM_LR
    assert re.search(message, pg.frame["error"])
    assert sent and re.search(message, sent[0]["message"])
    page(pg, type="step")
    assert pg.frame["error"] == ""


def test_bad_learning_rates_from_python_are_value_errors() -> None:
    pg, _, _, _ = make()
    for bad in (-1, 0, float("nan"), "x", None, True):
        with pytest.raises(ValueError, match="learning rate"):
            pg.lr = bad
    assert pg.lr == ADAM_LR


def test_the_batch_size_control() -> None:
    pg, _, _, _ = make(n=40)
    page(pg, type="batch", value="16")
    assert pg.batch_size == 16 and pg.frame["batch"] == 16
    pg.step()
    assert pg.frame["batch"] == 16
    page(pg, type="batch", value="full")
    assert pg.batch_size is None and pg.frame["batch"] == 40
    for bad in ("0", "-3", "2.5", "many"):
        page(pg, type="batch", value=bad)
        assert "batch size" in pg.frame["error"]
        assert pg.batch_size is None
    with pytest.raises(ValueError, match="batch size"):
        pg.batch_size = 0


def test_steps_per_update() -> None:
    pg, _, _, _ = make()
    page(pg, type="speed", value="5")
    assert pg.steps_per_update == 5 and pg.frame["steps_per_update"] == 5
    page(pg, type="speed", value="lots")
    assert "steps per update must be a whole number" in pg.frame["error"]
    with pytest.raises(ValueError, match="steps_per_update"):
        pg.steps_per_update = 0


# -- play -------------------------------------------------------------------------

def recorded_waits(pg: Any) -> list[list[Any]]:
    """The play loop's waits for a page's answer, each as [its timeout, whether it ended
    answered (or stopped) rather than timed out], the second None while it lasts."""
    waits: list[list[Any]] = []
    wait_for = pg._answered.wait_for

    def recording(predicate: Any, timeout: float | None = None) -> bool:
        wait = [timeout, None]
        waits.append(wait)
        wait[1] = wait_for(predicate, timeout)
        return wait[1]

    pg._answered.wait_for = recording
    return waits


def wait_until(condition: Any) -> None:
    """Wait for ``condition()`` to hold: a guard against a hang, not a time limit."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, "waited two minutes"
        time.sleep(0.01)


def test_play_runs_steps_in_the_kernel_until_paused() -> None:
    pg = answering(make()[0])
    waits = recorded_waits(pg)
    pg.play()
    assert pg.playing and pg.frame["playing"]
    thread = pg._thread
    wait_until(lambda: pg.session.count >= 10)
    pg.pause()
    assert not thread.is_alive()  # stopped, not left running past the join
    stopped = pg.session.count
    time.sleep(0.2)
    assert pg.session.count == stopped >= 10
    assert not pg.playing and not pg.frame["playing"]
    # the page set the pace: every wait for its answer ended answered, none timed out
    assert len(waits) >= 9 and all(answered for _, answered in waits)
    assert pg.updates_per_second is not None and pg.updates_per_second > 0


def test_play_without_a_page_goes_on_at_the_timeout_pace(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nn.playground import widget

    pg = make()[0]
    waits = recorded_waits(pg)
    monkeypatch.setattr(widget, "ACK_TIMEOUT", 0.05)
    pg.play()
    thread = pg._thread
    wait_until(lambda: pg.session.count >= 3)
    # no answer came: each update waited the whole timeout, then went on
    assert [timeout for timeout, _ in waits[:2]] == [0.05, 0.05]
    assert [answered for _, answered in waits[:2]] == [False, False]
    # a wait that is not cut short now outlasts the test
    monkeypatch.setattr(widget, "ACK_TIMEOUT", 3600.0)
    wait_until(lambda: waits[-1][0] == 3600.0)
    pg.pause()
    assert not thread.is_alive()
    assert waits[-1] == [3600.0, True]  # the wait for an answer is cut short
    assert pg.session.count == len(waits) * pg.steps_per_update


def test_play_pauses_when_the_page_that_answered_is_gone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A view closed, or its cell run again, while playing: the page stops answering,
    and play pauses instead of training on with nothing to show or stop it."""
    from nn.playground import widget

    pg = make()[0]
    monkeypatch.setattr(widget, "ACK_TIMEOUT", 0.01)
    monkeypatch.setattr(widget, "PAGE_GONE_AFTER", 0.3)
    monkeypatch.setattr(widget, "PAGE_GONE_FRAMES", 3)
    answering(pg)
    pg.play()
    wait_until(lambda: pg.session.count >= 5)
    pg.unobserve_all("_frame")  # the page is gone
    wait_until(lambda: not pg.frame["playing"])
    assert not pg.playing and not pg._thread.is_alive()
    assert pg.frame["error"].startswith("paused: no page answered for 0.3 s")
    stopped = pg.session.count
    time.sleep(0.1)
    assert pg.session.count == stopped


def test_play_stops_at_a_non_finite_gradient_and_shows_why() -> None:
    pg = answering(make(optimizer="sgd")[0])
    pg.lr = 1e300
    pg.play()
    # the frame, not pg.playing: the loop clears playing a moment before it publishes
    # the frame with the error
    wait_until(lambda: not pg.frame["playing"])
    assert not pg.playing
    assert pg.frame["error"].startswith("stopped playing: NonFiniteGradientError: step ")
    pg.pause()


def test_commands_from_the_page_while_playing_see_whole_steps() -> None:
    pg = answering(make()[0])
    page(pg, type="play")
    for i in range(20):
        page(pg, type="add", x=0.01 * i, y=0.0, label=i % 2)
        page(pg, type="lr", value=str(0.01 + 0.001 * i))
    page(pg, type="pause")
    assert len(pg.X) == 60 and pg.lr == pytest.approx(0.029)
    assert pg.frame["error"] == ""


# -- what is shown ----------------------------------------------------------------------

def test_the_frame_is_plain_json_with_the_optimizers_state() -> None:
    pg = make()[0]
    pg.step(3)
    frame = json.loads(pg._frame)
    assert frame["step"] == 3 and frame["optimizer"]["name"] == "Adam"
    assert frame["optimizer"]["steps"] == 3
    assert [name for name, _ in frame["optimizer"]["state"]] == ["m", "v"]
    assert len(frame["fill"]) == len(pg._network["units"]) == 2 + 16 + 16 + 1
    assert len(frame["width"]) == len(pg._network["edges"]) == 2 * 16 + 16 * 16 + 16
    assert frame["curve"]["step"] == [1, 2, 3] and len(frame["curve"]["loss"]) == 3


def test_the_curve_is_thinned_to_a_bounded_size() -> None:
    pg = make(n=10)[0]
    pg.step(1200)
    curve = pg.frame["curve"]
    assert len(curve["loss"]) <= 500 and curve["step"][0] == 1 and curve["step"][-1] == 1200


def test_the_mime_bundle_carries_a_picture_and_a_line_of_text() -> None:
    pg = make()[0]
    pg.step(2)
    data, _ = pg._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("Playground: MLP(2 -> 16 -> 16 -> 1")
    assert "object at 0x" not in data["text/plain"] and "step 2" in data["text/plain"]
    svg = ElementTree.fromstring(data["image/svg+xml"])
    assert svg.tag.endswith("svg")
    images = [e for e in svg.iter() if e.tag.endswith("image")]
    png = base64.b64decode(images[0].get("href").split(",", 1)[1])
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == 48
    circles = [e for e in svg.iter() if e.tag.endswith("circle")]
    assert len(circles) >= 40 + 33  # the points and the neurons
    assert "step 2 · loss" in data["image/svg+xml"]
    html = data["text/html"]
    assert html.startswith("<img") and "data:image/svg+xml;base64," in html


def svg_texts(svg: str) -> dict[str, ElementTree.Element]:
    return {e.text or "": e for e in ElementTree.fromstring(svg).iter() if e.tag.endswith("text")}


def test_the_pictures_curve_keys_sit_above_the_axes_as_on_the_page() -> None:
    """Over noisy curves a key inside the axes cannot be read: the page puts the keys
    above the axes, right-aligned, and so does the picture."""
    X, y = spirals(60, noise=0.05, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    pg = nn.playground(model, X, y, loss="bce_with_logits", batch_size=10, seed=0,
                       optimizer=optim.Adam(model.parameters(), lr=0.05))
    pg.step(60)
    svg = pg.picture()
    texts = svg_texts(svg)
    axes = [e for e in ElementTree.fromstring(svg).iter() if e.tag.endswith("rect")
            and e.get("fill") == "#ffffff" and e.get("stroke") == "#d0d7de"]
    assert len(axes) == 1
    left, top = float(axes[0].get("x", 0)), float(axes[0].get("y", 0))
    right = left + float(axes[0].get("width", 0))
    curves = [e for e in ElementTree.fromstring(svg).iter() if e.tag.endswith("polyline")]
    highest = min(float(point.split(",")[1]) for curve in curves
                  for point in curve.get("points", "").split())
    assert highest >= top
    caption = float(texts["loss and accuracy per step"].get("y", 0))
    loss, accuracy = texts["loss"], texts["accuracy (0 to 1)"]
    for key in (loss, accuracy):
        baseline = float(key.get("y", 0))
        assert caption + 10 <= baseline <= top - 3          # between the caption and the axes
        assert key.get("text-anchor") == "end" and left < float(key.get("x", 0)) <= right
    assert float(accuracy.get("x", 0)) == right
    # "accuracy (0 to 1)" is about 85 wide at 10 px; "loss" ends before it starts
    assert float(loss.get("x", 0)) <= right - 0.5 * 10 * len("accuracy (0 to 1)")


def slanted_boundary(slope: float) -> Any:
    """A playground on a linear model whose boundary is a slanted line, as sharp as
    ``slope`` (the logit's change per unit across the line)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 2))
    normal = np.array([math.sin(0.35), -math.cos(0.35)])
    y = (X @ normal + 0.03 > 0).astype(int)
    model = nn.MLP(2, [1], seed=0)
    neuron = model.layers[0].neurons[0]
    for w, value in zip(neuron.w, slope * normal):
        w.data = float(value)
    neuron.b.data = slope * 0.03
    return nn.playground(model, X, y, loss="bce_with_logits",
                         optimizer=optim.SGD(model.parameters(), lr=0.1))


@pytest.mark.parametrize("slope", [60.0, 200.0])
def test_the_uncertain_band_runs_evenly_along_a_sharp_boundary(slope: float) -> None:
    """The band of a boundary sharper than a grid cell is as pale in every column of the
    plane, not a chain of pale beads where a cell's centre falls into it.

    Green tells the band from both classes: the two class colours at full strength have
    green 164 and 169, the faded band up to 240; what every column holds above 170 is
    how much band it shows (the page smooths the grid linearly, which keeps that sum)."""
    pg = slanted_boundary(slope)
    pixels = np.frombuffer(pg._grid, np.uint8).reshape(48, 48, 4)
    green = pixels[:, 4:-4, 1].astype(int)      # the line crosses every column
    band = np.clip(green - 170, 0, None).sum(axis=0)
    assert band.min() > 0, "columns without any of the band"
    assert band.max() - band.min() <= 0.25 * band.max() + 3, band.tolist()


def test_input_names_stay_a_line_apart() -> None:
    """64 inputs (a digit's pixels) are named every few rows, in the layout both the page
    and the picture draw from (its ``named`` units), at least NAME_LINE apart; the
    picture shows exactly those names, apart; two inputs are both named."""
    from nn.playground.frames import NAME_LINE, row_spacing

    X, y = nn.data.digits()
    X, y = X[:30], y[:30]
    model = nn.MLP(64, [4, 10], seed=0)
    pg = nn.playground(model, X, y, loss="cross_entropy",
                       optimizer=optim.SGD(model.parameters(), lr=0.1))
    inputs = [unit for unit in pg._layout["units"] if unit["input"]]
    named = [unit for unit in inputs if unit["named"]]
    assert 1 < len(named) < len(inputs) == 64
    texts = svg_texts(pg.picture())
    ys = sorted(float(texts[unit["name"]].get("y")) for unit in named)
    rows = [unit["row"] for unit in named]
    spacing = row_spacing(pg._layout["rows"], len(inputs))
    assert min(b - a for a, b in itertools.pairwise(rows)) * spacing >= NAME_LINE
    gaps = [b - a for a, b in itertools.pairwise(ys)]
    assert min(gaps) >= 9  # the picture scales its panel down a little: 9-unit names apart
    assert not any(unit["name"] in texts for unit in inputs if not unit["named"])
    small = make()[0]
    assert all(unit["named"] for unit in small._layout["units"] if unit["input"])


def test_the_pictures_plane_is_smoothed_up_to_its_size() -> None:
    pg = slanted_boundary(60.0)
    images = [e for e in ElementTree.fromstring(pg.picture()).iter() if e.tag.endswith("image")]
    assert images[0].get("image-rendering") == "optimizeQuality"
    png = base64.b64decode(images[0].get("href", "").split(",", 1)[1])
    assert int.from_bytes(png[16:20], "big") == 48 and images[0].get("width") == "300"


def test_data_that_is_not_2d_shows_the_network_and_the_curves_only() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = (X.sum(axis=1) > 0).astype(int)
    model = nn.MLP(3, [4, 1], seed=0)
    pg = nn.playground(model, X, y, loss="bce_with_logits",
                       optimizer=optim.SGD(model.parameters(), lr=0.1))
    pg.step(2)
    assert pg._bounds == [] and pg._resolution == 0 and pg._grid == b""
    assert "3 input columns" in pg._plane_note
    assert "3 input columns" in pg.picture()
    with pytest.raises(ValueError, match="3 input columns"):
        pg.add_point(0.0, 0.0, 0)
    page(pg, type="add", x=0.0, y=0.0, label=0)
    assert "3 input columns" in pg.frame["error"]


# -- bad inputs -------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "error", "message"), [
    ({"X": np.zeros(10)}, ValueError, "X must be a non-empty 2-D array"),
    ({"y": np.zeros(5)}, ValueError, "one target per example"),
    ({"X": np.zeros((40, 3))}, ValueError, "MLP expects 2 inputs, got 3"),
    ({"y": np.arange(40) / 40}, ValueError, "from 2 to 10 distinct labels, got 40"),
    ({"y": np.zeros(40)}, ValueError, "from 2 to 10 distinct labels, got 1"),
    ({"y": np.zeros((40, 2))}, ValueError, "the targets have 2 column"),
    ({"loss": "hinge2"}, ValueError, "hinge2"),
    ({"optimizer": "adam"}, TypeError, "optimizer must be an nn.optim optimizer"),
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
    ({"resolution": 4}, ValueError, "resolution must be a whole number from 8 to 256"),
    ({"steps_per_update": 0}, ValueError, "steps_per_update must be a whole number"),
    ({"max_rate": -1}, ValueError, "max_rate must be a number of updates per second > 0"),
    ({"title": 3}, TypeError, "title must be a str"),
    ({"compiled": "yes"}, TypeError, "compiled must be True, False or 'auto'"),
])
def test_bad_arguments_are_clear_errors_and_change_nothing(change: dict[str, Any], error: type,
                                                           message: str) -> None:
    X, y = moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    before = parameters(model)
    arguments: dict[str, Any] = {"X": X, "y": y, "loss": "bce_with_logits",
                                 "optimizer": optim.Adam(model.parameters(), lr=0.1)}
    arguments.update(change)
    with pytest.raises(error, match=message):
        nn.playground(model, arguments.pop("X"), arguments.pop("y"), **arguments)
    assert parameters(model) == before


def test_a_two_output_model_needs_cross_entropy() -> None:
    X, y = moons(10, noise=0.1, seed=0)
    model = nn.MLP(2, [3, 2], seed=0)
    with pytest.raises(ValueError, match=r"needs a model with one output .* this model has 2"):
        nn.playground(model, X, np.eye(2)[y], loss="mse",
                      optimizer=optim.SGD(model.parameters(), lr=0.1))


def test_an_optimizer_of_another_model_is_refused() -> None:
    X, y = moons(10, noise=0.1, seed=0)
    model, other = nn.MLP(2, [3, 1], seed=0), nn.MLP(2, [3, 1], seed=1)
    with pytest.raises(ValueError, match="not a parameter of this model"):
        nn.playground(model, X, y, loss="bce_with_logits",
                      optimizer=optim.SGD(other.parameters(), lr=0.1))


def test_a_session_steps_without_any_widget() -> None:
    X, y = moons(20, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    session = Session(model, X, y, loss="bce_with_logits",
                      optimizer=optim.SGD(model.parameters(), lr=0.1))
    assert math.isfinite(session.step(3)) and session.count == 3
    with pytest.raises(ValueError, match="count must be a positive int"):
        session.step(0)


def test_a_generator_given_as_seed_is_copied_not_rewound() -> None:
    """reset() set the caller's own Generator back to its state at the start: its next draw
    repeated one it had made."""
    rng = np.random.default_rng(0)
    X, y = moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    pg = nn.playground(model, X, y, loss="bce_with_logits", batch_size=8, seed=rng,
                       optimizer=optim.SGD(model.parameters(), lr=0.1))
    pg.step(3)
    first = rng.random()
    assert first == np.random.default_rng(0).random()  # the steps drew from a copy
    pg.reset()
    assert rng.random() != first                       # and reset rewound the copy only
