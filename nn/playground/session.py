"""The playground's training state in the kernel: data, model, optimizer, steps and history.

A :class:`Session` is what the widget drives; it has no display code and can be
used (and tested) on its own. Its arguments are checked by ``fit``'s own checks
(:func:`nn.train.checked_run`), its updates are taken by ``fit``'s trainer
(:func:`nn.steps.trainer`: the compiled tape on arrays, traced at the first step
and again only when the data's width changes, or the eager graph when compiling
is refused), and its mini-batches come from ``fit``'s epoch order
(:func:`nn.train.epoch_batches`). So ``k`` steps of a session take exactly the
updates that ``fit`` takes in its first ``k`` batches, from the same seed.

Between steps the model's Values hold the parameters (the trainer's arrays are
read from them before a step and written back after it), so a parameter changed
by hand between steps is trained from, and a cell reading the model sees the
current weights.

The points are coloured by class and the plane by the class the model predicts
there: the classes are :func:`_classes`'s, the class of an output is
:func:`classes_and_confidence`'s, which is the class ``fit``'s accuracy counts for
``bce_with_logits`` and ``hinge``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from autograd_scalar import interrupts_deferred
from autograd_scalar.validate import integer, is_integer

from ..init import generator
from ..losses import BCEWithLogits, CrossEntropy
from ..optim import NonFiniteGradientError, Optimizer
from ..plot import PALETTE
from ..steps import trainer
from ..train import checked_run, epoch_batches

MAX_CLASSES = len(PALETTE)
"""The most classes a playground colours apart (one colour each)."""


class Session:
    """A model, its data and its optimizer, stepped on demand (see the module docstring).

    Every argument is checked before anything is kept; a bad one is an error
    naming it, and nothing (model, optimizer, data) changes.
    """

    def __init__(self, model: Any, X: Any, y: Any, *, loss: Any, optimizer: Optimizer,
                 batch_size: int | None = None, compiled: bool | str = "auto",
                 seed: int | np.random.Generator | None = None, clip: float | None = None
                 ) -> None:
        run = checked_run(model, X, y, loss=loss, optimizer=optimizer, epochs=1,
                          batch_size=batch_size, val=None, progress=False, callbacks=(),
                          seed=seed, compiled=compiled, schedule=None, clip=clip)
        self.model = model
        self.loss = run.loss
        self.optimizer = optimizer
        self.params = run.params
        self.width = run.encoded.shape[1]
        self.classes, labels = _classes(self.loss, y, len(run.X), self.width)
        self.X = run.X
        self.labels = labels
        self.encoded = run.encoded
        self.batch_size = None if batch_size is None else int(batch_size)
        self.trainer = trainer(compiled, model, self.loss, optimizer, self.params, run.clip)
        # a Generator of the caller's is copied: steps draw from the copy, and reset()
        # rewinds the copy, not the caller's own
        self.rng = copy.deepcopy(seed) if isinstance(seed, np.random.Generator) else \
            generator(seed)
        self._start_rng = self.rng.bit_generator.state
        self._pending: list[np.ndarray] = []
        self._initial_params = [p.data for p in self.params]
        self._initial_optimizer = optimizer.state_dict()
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.accuracies: list[float] = []
        self.count = 0

    # -- what the session holds ----------------------------------------------

    @property
    def codes(self) -> np.ndarray:
        """Each class's label as the loss encodes it (hinge: -1/+1), one output models."""
        return self.loss.encode(np.asarray(self.classes, dtype=np.float64),
                                width=1)[:, 0] if self.width == 1 else np.arange(self.width)

    @property
    def class_index(self) -> np.ndarray:
        """Each point's class, as an index into ``classes``."""
        return class_indices(self.labels, self.classes)

    @property
    def compiled(self) -> bool:
        """Whether the steps run on the compiled tape (False once it fell back to eager)."""
        return bool(self.trainer.compiled)

    @property
    def eager_reason(self) -> str | None:
        """Why the model is trained eagerly when compiling was tried and refused."""
        return getattr(self.trainer, "reason", None)

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def set_lr(self, value: Any) -> None:
        """Set the optimizer's learning rate; ValueError unless a finite number > 0."""
        rate = _number("learning rate", value)
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"learning rate must be a finite number > 0, got {value!r}")
        self.optimizer.lr = rate

    def set_batch_size(self, value: Any) -> None:
        """None (or "full" or "") for the full batch, else a positive int; a new epoch
        order starts at the next step."""
        if isinstance(value, str):
            text = value.strip().lower()
            value = None if text in ("", "full", "none") else _number("batch size", text)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
        if value is not None and (not is_integer(value) or value < 1):
            raise ValueError(f"batch size must be a positive whole number (or 'full' for the "
                             f"whole data set), got {value!r}")
        self.batch_size = None if value is None else int(value)
        self._pending = []

    @property
    def effective_batch(self) -> int:
        """The size of the next batches: ``batch_size`` capped at the number of points."""
        n = len(self.X)
        return n if self.batch_size is None else min(self.batch_size, n)

    # -- training -------------------------------------------------------------

    def step(self, count: int = 1) -> float:
        """Take ``count`` optimizer updates, each on the next batch; return the last loss.

        Each update is ``fit``'s: the batch's mean loss, its gradient, clipping, one
        optimizer step. The loss and accuracy recorded are the batch's, measured just
        before its update (as ``fit`` measures them). A non-finite gradient raises
        :class:`nn.optim.NonFiniteGradientError` naming the parameter and the step;
        that update changes nothing, the ones before it stay.
        """
        integer("count", count, 1, who="step")
        value = math.nan
        for _ in range(int(count)):
            value = self._one_step()
        return value

    def _one_step(self) -> float:
        batch = self._next_batch()
        self.trainer.pull()
        try:  # a step on the playground's few points is short: it and its record are one
            with interrupts_deferred():  # (a Ctrl-C during the update comes after both)
                value, raw = self.trainer.step(self.X[batch], self.encoded[batch], True)
                self.count += 1
                self.steps.append(self.count)
                self.losses.append(float(value))
                if raw is not None:
                    predicted = self.predicted_classes(raw)
                    self.accuracies.append(float(np.mean(predicted == self.class_index[batch])))
        except NonFiniteGradientError as error:
            self._pending = []
            named: list[tuple[str, Any]] = list(getattr(self.model, "named_parameters",
                                                        list)())
            name = {id(p): n for n, p in named}.get(id(error.parameter), error.name)
            raise error.renamed(f"step {self.count + 1}", name) from None
        finally:
            self.trainer.push()
        return float(value)

    def _next_batch(self) -> np.ndarray:
        if not self._pending:
            self._pending = list(epoch_batches(self.rng, len(self.X), self.effective_batch))
        return self._pending.pop(0)

    def reset(self) -> None:
        """Put back the parameters, the optimizer's state (moments, step count) and the
        batch order as they were when the session was made, and clear the history.

        The data (with the points added or removed) and the learning rate and batch
        size last set stay as they are.
        """
        lr = self.optimizer.lr
        for p, value in zip(self.params, self._initial_params):
            p.data = value
        self.optimizer.load_state_dict(self._initial_optimizer)
        self.optimizer.lr = lr
        self.rng.bit_generator.state = self._start_rng
        self._pending = []
        self.trainer.pull()
        self.steps, self.losses, self.accuracies = [], [], []
        self.count = 0

    # -- predictions ------------------------------------------------------------

    def predicted_classes(self, raw: np.ndarray) -> np.ndarray:
        """The class (index into ``classes``) the model predicts from raw outputs."""
        return classes_and_confidence(self.loss, raw, self.codes)[0]

    # -- editing the data -------------------------------------------------------

    def add_point(self, x: Any, y: Any, class_index: Any) -> int:
        """Add the point (x, y) of class ``classes[class_index]``; returns the new count.

        2-D data only; the coordinates must be finite numbers.
        """
        self._check_plane("add a point")
        where = point(x, y)
        if not is_integer(class_index) or not 0 <= class_index < len(self.classes):
            shown = ", ".join(map(class_label, self.classes))
            raise ValueError(f"class must be an index from 0 to {len(self.classes) - 1} "
                             f"(classes {shown}), got {class_index!r}")
        labels = np.append(self.labels, self.classes[int(class_index)])
        encoded = self.loss.encode(labels, width=self.width)
        self.X = np.vstack([self.X, where])
        self.labels, self.encoded = labels, encoded
        self._pending = []
        return len(self.X)

    def nearest(self, x: Any, y: Any) -> int:
        """The index of the point nearest to (x, y), finite numbers."""
        self._check_plane("find a point")
        return int(np.argmin(((self.X - point(x, y)) ** 2).sum(axis=1)))

    def remove_point(self, index: Any) -> int:
        """Remove the point at ``index``; returns the new count. The last point stays."""
        n = len(self.X)
        if not is_integer(index) or not -n <= index < n:
            raise ValueError(f"index must be a point's index from 0 to {n - 1}, got {index!r}")
        if n == 1:
            raise ValueError("cannot remove the last point: training needs at least one")
        keep = np.ones(n, dtype=bool)
        keep[int(index)] = False
        self.X, self.labels, self.encoded = self.X[keep], self.labels[keep], self.encoded[keep]
        self._pending = []
        return len(self.X)

    def _check_plane(self, what: str) -> None:
        if self.X.shape[1] != 2:
            raise ValueError(f"cannot {what}: the data has {self.X.shape[1]} input columns; "
                             "points are placed on the plane of 2-D data only")


def class_indices(labels: np.ndarray, classes: list[float]) -> np.ndarray:
    """Each label's index in ``classes`` (labels are all among them)."""
    return np.searchsorted(np.asarray(classes, dtype=np.float64), labels)


def classes_and_confidence(loss: Any, raw: np.ndarray, codes: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class indices and a confidence in [0, 1] for raw outputs (n,) or (n, k).

    Several outputs (cross-entropy): the largest logit's class; confidence
    (p_max - 1/K) / (1 - 1/K) from the softmax, 0 where all classes are equally
    likely. One output: the class whose encoded label is nearest to the output in
    the targets' space (sigmoid for ``bce_with_logits``); confidence 1 - d / h, with
    d the distance to that label and h half the smallest gap between labels, and 1
    beyond the outermost labels. A NaN output (a diverged model) has confidence 0.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 2 and raw.shape[1] > 1:
        shifted = raw - raw.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        p /= p.sum(axis=1, keepdims=True)
        k = raw.shape[1]
        confidence = np.clip((p.max(axis=1) - 1 / k) / (1 - 1 / k), 0, 1)
        return np.argmax(raw, axis=1), np.nan_to_num(confidence, nan=0.0)
    z = raw.reshape(-1)
    if isinstance(loss, BCEWithLogits):
        with np.errstate(over="ignore"):
            z = 1 / (1 + np.exp(-z))
    distance = np.abs(z[:, None] - codes[None, :])
    nearest = np.argmin(distance, axis=1)
    half = float(np.min(np.diff(codes))) / 2
    confidence = np.clip(1 - distance[np.arange(len(z)), nearest] / half, 0, 1)
    confidence[(z <= codes[0]) | (z >= codes[-1])] = 1.0
    return nearest, np.nan_to_num(confidence, nan=0.0)


def _labels(y: Any, n: int) -> np.ndarray:
    """The targets as one label per example (n,): (n, 1) is flattened."""
    labels = np.asarray(y, dtype=np.float64)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (n,):
        raise ValueError(f"the playground colours the points by class, so y must hold one "
                         f"label per example, shape ({n},); got shape {labels.shape}")
    return labels


def _classes(loss: Any, y: Any, n: int, width: int) -> tuple[list[float], np.ndarray]:
    """The classes a playground shows (the model's outputs for cross-entropy, else the
    distinct labels of a one-output model, 2 to MAX_CLASSES of them) and the labels."""
    if isinstance(loss, CrossEntropy):
        if width > MAX_CLASSES:
            raise ValueError(f"the playground colours at most {MAX_CLASSES} classes; the "
                             f"model has {width} outputs")
        return [float(k) for k in range(width)], _labels(y, n)
    if width != 1:
        raise ValueError(f"the playground needs a model with one output (or cross_entropy "
                         f"over one output per class); this model has {width} outputs "
                         f"and the loss is {loss.name}")
    labels = _labels(y, n)
    found = sorted(set(labels.tolist()))
    if not 2 <= len(found) <= MAX_CLASSES:
        raise ValueError(f"the playground colours the points by class: y must hold from 2 "
                         f"to {MAX_CLASSES} distinct labels, got {len(found)}")
    return found, labels


def class_label(value: float) -> str:
    """How a class is shown: 1 rather than 1.0, 0.5 as it is."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def point(x: Any, y: Any) -> np.ndarray:
    """(x, y) as an array of two finite numbers; ValueError saying which is not."""
    point = np.array([_number("x", x), _number("y", y)])
    if not np.isfinite(point).all():
        raise ValueError(f"a point needs finite coordinates, got ({x!r}, {y!r})")
    return point


def _number(name: str, value: Any) -> float:
    """``value`` (a number, or text typed in a control) as a float; ValueError naming
    ``name`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
