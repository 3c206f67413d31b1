"""fit and predict: train a model on arrays of examples, and run it on new ones.

One epoch of ``fit`` shuffles the examples (with ``batch_size``; full batch keeps
the order), and for each mini-batch: zeroes the gradients, computes the batch's
mean loss and backpropagates it, optionally clips the global gradient norm, and
takes one optimizer step. Compiled (the default, ``compiled="auto"``), the loss,
its gradient and the update run on the batched NumPy tape with the parameters as
arrays (:mod:`nn.compiled`, :mod:`nn.steps`), and the Values are brought up to
date before anything reads them: validation and callbacks at the end of an epoch,
and the caller when ``fit`` returns (or raises); after the callbacks, which may
change the model, the arrays are read back. Eager (``compiled=False``), one graph
per example. The updates are the same.

The tape lives with the model across calls (see :class:`nn.compiled.CompiledTraining`):
when the model's key is unchanged, ``fit`` also takes the model's parameter list and
number of outputs from it, and trusts the optimizer it already checked, instead of
walking the model and running it eagerly once more.

Every argument is checked before the first update, so a bad call changes nothing; an
example an op refuses later stops the call at that step, which is not taken, and the
message says how many updates of the call stand.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_scalar import Value, no_grad, tape_dtype
from autograd_scalar.validate import all_finite, flag, integer, real, real_array

from . import losses as losses_module
from .callbacks import History
from .compiled import compiled_predict, kept_key, kept_training
from .init import generator
from .losses import Loss
from .model_key import model_key
from .optim import NOTHING_UPDATED, NonFiniteGradientError, Optimizer
from .progress import progress_bar
from .schedules import Schedule
from .steps import CHECKED_ROWS, Trainer, example_inputs, output_data, trainer


def fit(model: Any, X: Any, y: Any, *, loss: str | Loss, optimizer: Optimizer, epochs: int,
        batch_size: int | None = None, val: tuple[Any, Any] | None = None,
        progress: bool = True, callbacks: Iterable[Any] = (),
        seed: int | np.random.Generator | None = None,
        compiled: bool | str = "auto", schedule: Schedule | None = None,
        clip: float | None = None, dtype: str = "float64") -> History:
    """Train ``model`` on inputs ``X`` (n, d) and targets ``y`` for ``epochs`` epochs.

    ``loss`` is a Loss or its name (see ``nn.losses``); ``optimizer`` an
    ``nn.optim`` optimizer over (some of) the model's parameters; ``batch_size``
    None means full batch; ``val=(X_val, y_val)`` adds validation loss and accuracy
    after each epoch; ``seed`` fixes the shuffling (None: seeded from Python's
    ``random``; a ``numpy.random.Generator`` is drawn from as it stands, so that fit
    called twice for 2 epochs with one Generator shuffles as one call for 4 does; to
    resume in another process, save ``rng.bit_generator.state`` beside the model and
    set it back); ``schedule`` is stepped once per
    epoch; ``clip`` is a maximum global gradient norm. ``callbacks`` get
    ``on_epoch_end(epoch, history)`` and stop training by returning True. With
    ``progress``, a bar shows the epochs on a terminal and in a notebook
    (``nn.progress``).

    ``compiled``: "auto" traces the model at the first batch, checks the tape
    against the eager graph on a few of its examples and trains compiled, or
    eagerly with one line on stderr saying why; True compiles (an error if it
    cannot); False trains eagerly. Inside compiled steps BLAS uses one thread
    (``Tape.threads``; see ``autograd_scalar.tape.threads``).
    The tape (and the check's verdict) stays with the model between calls and is
    traced again only when what it stands for changed: the model (its
    :func:`nn.model_key.model_key`), the loss, the width of the inputs or targets,
    or the optimizer's parameters (see :class:`nn.compiled.CompiledTraining`).

    ``dtype``: the compiled tape's arithmetic, "float64" (the default: the same
    numbers as eager training to rounding) or "float32" (half the memory per
    example, faster products; the inputs and targets are rounded to float32 once,
    the parameters live in float32 arrays and are written back to the Values as
    they are). float32 needs compiled training; if "auto" falls back to eager
    training, that runs in float64 on the rounded inputs.
    """
    key = model_key(model, kept_key(model))
    run = checked_run(model, X, y, loss=loss, optimizer=optimizer, epochs=epochs,
                      batch_size=batch_size, val=val, progress=progress, callbacks=callbacks,
                      seed=seed, compiled=compiled, schedule=schedule, clip=clip,
                      dtype=dtype,
                      kept=kept_training(model, key) if compiled is not False else None)
    history = _begin(run)
    if any(hasattr(callback, "on_train_begin") for callback in run.callbacks):
        run, key = _as_callbacks_left_it(run, key, "on_train_begin")
    step = trainer(compiled, model, run.loss, run.optimizer, run.params, run.clip, key,
                   run.dtype)
    rng = generator(seed)
    bar = progress_bar(run.epochs, progress)
    try:
        for epoch in range(run.epochs):
            batches = epoch_batches(rng, len(run.X), run.batch_size)
            _train_epoch(run, step, batches, epoch, history)
            if run.validation is not None or run.callbacks:
                step.push()  # they read the model
            _evaluate(run, history, step.compiled, epoch)
            if run.schedule is not None:
                run.schedule.step()
            _show_progress(bar, history)
            stop = _callbacks_stop(run.callbacks, epoch, history)
            if run.callbacks:
                step.pull()  # they may have changed it
            if stop:
                history.stopped_early = epoch + 1 < run.epochs
                break
            if run.callbacks and epoch + 1 < run.epochs:  # another update is coming
                run, key = _as_callbacks_left_it(run, key, f"epoch {epoch}'s on_epoch_end")
                step.use_parameters(run.params)
    finally:
        step.push()
        bar.close()
    _end(run, history)
    return history


@dataclass(frozen=True)
class Run:
    """A training run as ``fit`` checked it: the arrays, the settings, what it measures."""

    model: Any
    params: Sequence[Value]
    X: np.ndarray
    encoded: np.ndarray
    loss: Loss
    optimizer: Optimizer
    epochs: int
    batch_size: int
    validation: tuple[np.ndarray, np.ndarray] | None
    callbacks: list[Any]
    compiled: bool | str
    schedule: Schedule | None
    clip: float | None
    classify: bool
    dtype: str
    start_steps: int = 0
    """The optimizer's step count when the call began: a refused step says whether the
    updates before it, in this call, stand."""

    def updates(self) -> str:
        """The updates this call has made, as a message counts them ("" for none)."""
        done = self.optimizer.steps - self.start_steps
        return f"the {done} update{'s' if done > 1 else ''}" if done > 0 else ""

    def outcome(self) -> str:
        """How a refused step leaves the training: "nothing was updated" in a call that
        has not updated yet, else that this step was not taken and the earlier ones stand."""
        updates = self.updates()
        if not updates:
            return NOTHING_UPDATED
        return f"this step was not taken; {updates} before it in this call stand"


def checked_run(model: Any, X: Any, y: Any, *, loss: str | Loss, optimizer: Optimizer,
                epochs: int, batch_size: int | None, val: tuple[Any, Any] | None,
                progress: bool, callbacks: Iterable[Any], seed: int | np.random.Generator | None,
                compiled: bool | str,
                schedule: Schedule | None, clip: float | None, dtype: str = "float64",
                kept: Any = None) -> Run:
    """Every argument of ``fit`` checked (before anything changes) and put in a :class:`Run`.

    The inputs become a float array, the targets the loss's encoding of them. The
    training playground (:mod:`nn.playground`) checks its arguments here too, so it
    accepts exactly what ``fit`` accepts. ``kept``, the model's kept training record
    (:func:`nn.compiled.kept_training`) when it still describes the model, gives the
    parameters, the number of outputs and the optimizer it already checked.
    """
    params = kept.parameters if kept is not None else _model_parameters(model)
    X = check_inputs(X, "X")
    loss = losses_module.get(loss)
    width = kept.output_width(X.shape[1]) if kept is not None else None
    if width is None:
        width = _output_width(model, X)
    encoded = _encode(loss, y, len(X), width, "y")
    if kept is None or not kept.knows(optimizer):
        _check_optimizer(optimizer, params)
        if _same_values(optimizer.params, params):
            params = optimizer.params  # the same Values in order: no second list of them
    epochs = _positive_int("epochs", epochs)
    size = len(X) if batch_size is None else min(_positive_int("batch_size", batch_size), len(X))
    validation = None if val is None else _checked_validation(val, X, loss, width)
    callbacks = _callbacks(callbacks)
    _check_settings(seed, compiled, progress, schedule, optimizer)
    if clip is not None:
        clip = _positive_number("clip", clip)
    kind = _checked_dtype(dtype, compiled)
    classify = loss.target_classes(encoded) is not None
    if kind != "float64":  # rounded once here, not batch by batch
        _within_range(kind, ("X", X), ("y", encoded))  # validation stays in float64
        if compiled is True:  # "auto" trains such a model eagerly, in float64
            _parameters_within_range(kind, model, params)
        X, encoded = X.astype(kind), encoded.astype(kind)
    return Run(model, params, X, encoded, loss, optimizer, epochs, size, validation,
               callbacks, compiled, schedule, clip, classify=classify, dtype=kind,
               start_steps=optimizer.steps)


def _begin(run: Run) -> History:
    """The run's empty History, naming what it will record, after ``on_train_begin``.

    Accuracy is recorded for a classification loss, val_* with a validation set.
    """
    metrics = ["loss", "accuracy"] if run.classify else ["loss"]
    if run.validation is not None:
        metrics += ["val_loss", "val_accuracy"] if run.classify else ["val_loss"]
    history = History(metrics=tuple(metrics))
    for callback in run.callbacks:
        if hasattr(callback, "on_train_begin"):
            callback.on_train_begin(run.model, history)
    return history


def epoch_batches(rng: np.random.Generator, n: int, size: int) -> Iterator[np.ndarray]:
    """One epoch's mini-batches of example indices: shuffled, or in order for a full batch.

    The playground draws its batches here as well, so its steps follow ``fit``'s order.
    """
    order = rng.permutation(n) if size < n else np.arange(n)
    for start in range(0, n, size):
        yield order[start:start + size]


def _train_epoch(run: Run, step: Trainer, batches: Iterable[np.ndarray], epoch: int,
                 history: History) -> None:
    """One update per batch; records the learning rate, and the epoch's loss (and accuracy)
    as the mean over its batches, each measured just before its update."""
    total_loss, outputs = 0.0, []
    history.lr.append(run.optimizer.lr)
    for batch in batches:
        value, raw = _train_batch(run, step, batch, epoch)
        total_loss += value * len(batch)
        outputs.append((batch, raw))
    history.loss.append(total_loss / len(run.X))
    if run.classify:
        history.accuracy.append(_batch_accuracy(run.loss, outputs, run.encoded))


def _train_batch(run: Run, step: Trainer, batch: np.ndarray, epoch: int
                 ) -> tuple[float, np.ndarray | None]:
    """Zero the gradients, backpropagate the batch's mean loss, clip, take one optimizer
    step (see :mod:`nn.steps`); returns the batch's loss and (for accuracy) its raw
    outputs. A batch of every example in order (``epoch_batches``' full batch) is the
    data itself, not a copy."""
    X, encoded = run.X, run.encoded
    if len(batch) != len(X) or not _in_order(batch):
        X, encoded = X[batch], encoded[batch]

    def vet(losses: np.ndarray) -> None:  # a compiled batch loss that is not finite
        # the eager graphs read the Values: the parameters before this step; its
        # gradients, of a batch that may be refused, are not written
        step.push(grads=False)
        _name_refused(run, _suspects(batch, losses), epoch)

    try:
        return step.step(X, encoded, run.classify, vet)
    except NonFiniteGradientError as error:
        step.push()
        _refuse_a_model_not_finite(run, epoch)
        raise _renamed(error, run, epoch) from None
    except (ValueError, ArithmeticError) as error:
        if not hasattr(error, "example"):  # an op's own error, its example not yet named
            if step.compiled:  # the Values first, as the step's start found them
                step.push(grads=False)
            _name_refused(run, _refusing_rows(batch, error, step.compiled), epoch)
        raise


SUSPECTS = 8
"""The most examples a refused compiled step runs eagerly to find one the graph refuses."""


def _suspects(rows: np.ndarray, results: np.ndarray) -> np.ndarray:
    """The first SUSPECTS of ``rows`` whose compiled ``results`` (one per row, or a row
    each) are not finite: NaN ones first (an op outside its domain gives NaN on the
    tape), then infinite ones (often an overflow the eager graph computes too)."""
    values = results.reshape(len(rows), -1)
    nan, inf = np.isnan(values).any(axis=1), np.isinf(values).any(axis=1)
    return np.concatenate([rows[nan], rows[inf & ~nan]])[:SUSPECTS]


def _refusing_rows(batch: np.ndarray, error: Exception, compiled: bool) -> np.ndarray:
    """Where an op's error raised in a step came from: eagerly, anywhere in the batch;
    compiled, the example the tape names (a Function raising on the tape), else the rows
    the first batch's check ran eagerly (elsewhere the tape computes NaN: see vet)."""
    if not compiled:
        return batch
    k = getattr(error, "batch_example", None)
    return batch[[k]] if k is not None else batch[:CHECKED_ROWS]


def _refuse_a_model_not_finite(run: Run, epoch: int) -> None:
    """After a refused step (a non-finite gradient), a ValueError when the cause is not
    the learning rate but a parameter that was not finite before the step (a model
    that diverged earlier). (An example outside an op's domain, whose loss the tape
    computes as NaN, was named before the update: see ``vet``.)"""
    for name, p in getattr(run.model, "named_parameters", list)():
        if not math.isfinite(p.data):
            raise ValueError(f"epoch {epoch}: parameter {name} is {p.data} before the step; a "
                             "model must be finite to train (load it again or make it anew); "
                             f"{run.outcome()}")


def _name_refused(run: Run, examples: np.ndarray, epoch: int) -> None:
    """The op's error, of its own class (a ValueError, a ZeroDivisionError, ...), said
    as "epoch E: example i of X: <the error>; nothing was updated" (or that the call's
    earlier updates stand, see :meth:`Run.outcome`), for the first of
    ``examples`` (indices into X) whose eager graph, model and loss, an op refuses;
    nothing if every one of them runs. The error's ``example`` is i."""
    found = _refused_example(run.model, run.X, examples, run.loss, run.encoded)
    if found is not None:
        i, error = found
        raise _said_of(error, f"epoch {epoch}: example {i} of X: {error}; {run.outcome()}",
                       i) from error


def _name_refused_row(model: Any, X: np.ndarray, rows: Iterable[int], name: str) -> None:
    """The op's error, of its own class, said as "row i of <name>: <the error>", for the
    first of ``rows`` whose eager graph an op refuses; nothing if each runs."""
    found = _refused_example(model, X, rows)
    if found is not None:
        raise _said_of(found[1], f"row {found[0]} of {name}: {found[1]}", found[0]) from found[1]


def _said_of(error: Exception, message: str, example: int) -> Exception:
    """``error``'s class (ValueError, ZeroDivisionError: what a caller catches) with
    ``message``, its ``example`` attribute the row it names; a ValueError for a class
    that takes no message."""
    try:
        named = type(error)(message)
    except Exception:  # a class of its own with another signature
        named = ValueError(message)
    named.example = example  # type: ignore[attr-defined]
    return named


def _refused_example(model: Any, X: np.ndarray, rows: Iterable[int], loss: Loss | None = None,
                    encoded: np.ndarray | None = None) -> tuple[int, Exception] | None:
    """The first of ``rows`` (indices into X) whose eager graph an op refuses, with the
    op's error: the model's output, and with ``loss`` the example's loss against its
    row of ``encoded``. None if each of them runs. The compiled tape computes such an
    example as NaN (log(-1)), where the eager graph names the op and its argument:
    run on the examples a compiled result left not finite, it finds the cause."""
    with no_grad():
        for i in map(int, rows):
            try:
                output = model(example_inputs(X[i].tolist()))
                if loss is not None and encoded is not None:
                    loss.reduce([output], encoded[i:i + 1])
            except (ValueError, ArithmeticError) as error:
                return i, error
    return None


def _in_order(batch: np.ndarray) -> bool:
    """Whether a batch of indices is 0, 1, 2, ... in order."""
    return bool(batch[0] == 0 and (np.diff(batch) == 1).all())


def _evaluate(run: Run, history: History, compiled: bool, epoch: int) -> None:
    """Validation loss (and accuracy) after the epoch, when ``fit`` was given ``val``; a
    row of X_val an op refuses is named with the epoch (whose updates stand)."""
    if run.validation is not None:
        try:
            _validate(run.model, run.loss, run.validation, history, compiled, run.classify)
        except (ValueError, ArithmeticError) as error:
            raise _said_of(error, f"epoch {epoch}, validation: {error}",
                          getattr(error, "example", -1)) from error


def _show_progress(bar: Any, history: History) -> None:
    """Advance the progress bar by one epoch, showing the epoch's metrics."""
    bar.set_postfix({name: f"{getattr(history, name)[-1]:.4g}" for name in history.metrics},
                    refresh=False)
    bar.update(1)


def _callbacks_stop(callbacks: list[Any], epoch: int, history: History) -> bool:
    """Every callback's ``on_epoch_end``; True if any of them asks to stop."""
    stop = [bool(callback.on_epoch_end(epoch, history)) for callback in callbacks]
    return any(stop)


def _as_callbacks_left_it(run: Run, key: Any, when: str) -> tuple[Run, Any]:
    """The run with the model's parameters as its callbacks left them (``when``: which
    calls), and the model's key. A callback that replaced parameters the optimizer
    steps (a layer swapped in) would leave it updating Values the model no longer
    uses while the new ones never train: refused before the next update, naming one
    (the updates so far stand). Parameters outside the optimizer may change (a frozen
    layer swapped): the steps then zero the new ones' gradients."""
    now = model_key(run.model, key)
    if now == key:
        return run, key
    params = _model_parameters(run.model)
    try:
        _check_optimizer(run.optimizer, params)
    except ValueError as error:
        updates = run.updates()
        stand = f"{updates} of this call stand" if updates else "nothing was trained"
        raise ValueError(f"after the callbacks' {when}: {error}; a callback changed the "
                         f"model ({stand})") from None
    return dataclasses.replace(run, params=params), now


def _end(run: Run, history: History) -> None:
    """``on_train_end`` of each callback that has one, after the last epoch."""
    for callback in run.callbacks:
        if hasattr(callback, "on_train_end"):
            callback.on_train_end(run.model, history)


def predict(model: Any, X: Any, compiled: bool = False) -> np.ndarray:
    """The model's raw outputs for each row of ``X`` (n, d), without building a graph.

    Shape (n,) when the model has one output, (n, k) for k outputs. A row an op
    refuses (log of a negative number) is a ValueError naming the row, compiled or
    not: the compiled tape's NaN outputs are run again eagerly to find it.
    """
    X = check_inputs(X, "X")
    flag("compiled", compiled)
    return _predicted(model, X, compiled, "X")


def _predicted(model: Any, X: np.ndarray, compiled: bool, name: str) -> np.ndarray:
    """:func:`predict` of checked inputs called ``name`` in its messages."""
    if compiled:
        try:
            raw = compiled_predict(model, X)
        except (ValueError, ArithmeticError) as error:  # the trace at row 0, or a Function
            _name_refused_row(model, X, [getattr(error, "batch_example", None) or 0], name)
            raise
        if not all_finite(raw):
            _name_refused_row(model, X, _suspects(np.arange(len(X)), raw), name)
        return raw
    rows = []
    with no_grad():
        for i, x in enumerate(X.tolist()):
            try:
                rows.append(output_data(model(example_inputs(x))))
            except (ValueError, ArithmeticError) as error:
                raise _said_of(error, f"row {i} of {name}: {error}", i) from error
            if len(rows[-1]) != len(rows[0]):
                raise ValueError(f"row {i} of {name}: the model gave {len(rows[-1])} "
                                 f"output(s) where row 0 gave {len(rows[0])}; a model gives "
                                 "every example the same number of outputs")
    raw = np.array(rows, dtype=np.float64)
    return raw[:, 0] if raw.shape[1] == 1 else raw


def _batch_accuracy(loss: Loss, outputs: list[tuple[np.ndarray, Any]],
                    encoded: np.ndarray) -> float:
    """The epoch's training accuracy from each batch's raw outputs (the targets' classes
    found once for the epoch, not batch by batch)."""
    targets = loss.target_classes(encoded)
    assert targets is not None
    correct = 0
    for batch, raw in outputs:
        correct += int(np.count_nonzero(loss.predicted_classes(raw) == targets[batch]))
    return correct / len(encoded)


def _validate(model: Any, loss: Loss, validation: tuple[np.ndarray, np.ndarray],
              history: History, compiled: bool, classify: bool) -> None:
    X_val, encoded = validation
    raw = _predicted(model, X_val, compiled, "X_val")
    rows = raw.reshape(len(X_val), -1)
    with no_grad():
        history.val_loss.append(loss.reduce(rows.tolist(), encoded).data)
    if classify:
        predicted = loss.predicted_classes(raw)
        history.val_accuracy.append(float(np.mean(predicted == loss.target_classes(encoded))))


def _renamed(error: NonFiniteGradientError, run: Run, epoch: int) -> NonFiniteGradientError:
    """The error with the parameter's name in the model, the epoch it happened in, and
    whether earlier updates of the call stand."""
    names = {id(p): name for name, p in getattr(run.model, "named_parameters", list)()}
    return error.renamed(f"epoch {epoch}", names.get(id(error.parameter), error.name),
                         run.outcome())


# ---------------------------------------------------------------------------
# Argument checks (all before the first update)
# ---------------------------------------------------------------------------

def _model_parameters(model: Any) -> list[Value]:
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"model must be a callable nn Module with parameters(), got "
                        f"{type(model).__name__}")
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters to train")
    return params


def check_inputs(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a float array (n, d); TypeError unless real numbers (complex and text
    refused), ValueError unless 2-D, non-empty and finite."""
    array = real_array(X, f"{name} (a numeric array (n, d))")
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n examples, d inputs), "
                         f"got shape {array.shape}")
    if not all_finite(array):
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(f"{name} must be finite; row {row} is {array[row].tolist()}")
    return array


def _output_width(model: Any, X: np.ndarray) -> int:
    """The model's number of outputs, from its output for X's first row (an op refusing
    that row is said of it, as a step would)."""
    with no_grad():
        try:
            return len(output_data(model(example_inputs(X[0].tolist()))))
        except (ValueError, ArithmeticError) as error:
            raise _said_of(error, f"example 0 of X (run before training, to count the "
                                  f"model's outputs): {error}; {NOTHING_UPDATED}", 0) from error


def _encode(loss: Loss, y: Any, n: int, width: int, name: str) -> np.ndarray:
    try:
        targets = np.asarray(y) if not isinstance(y, np.ndarray) else y
    except ValueError:  # rows of several lengths
        raise ValueError(f"{name} must be a rectangular array of targets, every row of one "
                         "length") from None
    if targets.ndim == 0 or len(targets) != n:
        raise ValueError(f"{name} must have one target per example ({n}), got "
                         f"{_a_scalar(y) if targets.ndim == 0 else len(targets)}")
    try:
        return loss.encode(targets, width=width)
    except ValueError as error:  # the loss's message says "the targets": y_val's are named
        if name == "y":
            raise
        raise ValueError(f"{name}: {error}") from None


def _a_scalar(y: Any) -> str:
    """How a message names targets given as one object: None as itself, else a scalar."""
    return "None" if y is None else f"a scalar ({type(y).__name__})"


def _checked_validation(val: Any, X: np.ndarray, loss: Loss, width: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``val=(X_val, y_val)`` as inputs with as many columns as X and encoded targets."""
    if not (isinstance(val, (tuple, list)) and len(val) == 2):
        got = (f"a {type(val).__name__} of {len(val)}" if isinstance(val, (tuple, list))
               else type(val).__name__)
        raise ValueError(f"val must be a pair (X_val, y_val), got {got}")
    X_val = check_inputs(val[0], "X_val")
    if X_val.shape[1] != X.shape[1]:
        raise ValueError(f"X_val has {X_val.shape[1]} columns but X has {X.shape[1]}")
    return X_val, _encode(loss, val[1], len(X_val), width, "y_val")


def _check_settings(seed: Any, compiled: Any, progress: Any, schedule: Any,
                    optimizer: Optimizer) -> None:
    """``seed`` None, an int >= 0 or a NumPy Generator, ``compiled`` and ``progress``
    bools, and ``schedule`` None or a schedule of this optimizer."""
    if seed is not None and not isinstance(seed, np.random.Generator):
        integer("seed", seed, 0, what="None, an int >= 0 or a numpy.random.Generator")
    if not (isinstance(compiled, bool) or (isinstance(compiled, str) and compiled == "auto")):
        raise TypeError(f"compiled must be True, False or 'auto', got {compiled!r}")
    flag("progress", progress)
    if schedule is not None and (not isinstance(schedule, Schedule)
                                 or schedule.optimizer is not optimizer):
        raise ValueError("schedule must be an nn.schedules schedule attached to this optimizer")


def _same_values(a: Sequence[Value], b: Sequence[Value]) -> bool:
    """Whether two sequences hold the same Values (by identity) in the same order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _check_optimizer(optimizer: Any, params: Sequence[Value]) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.optim optimizer (e.g. nn.optim.SGD("
                        f"model.parameters(), lr=0.1)), got {type(optimizer).__name__}")
    own = optimizer.params
    if _same_values(own, params):
        return  # the usual case, seen without a set of every parameter
    ours = set(params)  # Values hash by identity
    if ours.issuperset(own):
        return
    i = next(i for i, p in enumerate(optimizer.params) if p not in ours)
    raise ValueError(f"the optimizer's {optimizer.names[i]} is not a parameter of this model; "
                     "make the optimizer from model.parameters()")


def _checked_dtype(dtype: Any, compiled: bool | str) -> str:
    """The tape's dtype by name, "float64" or "float32"; float32 only for compiled training."""
    kind = tape_dtype(dtype).name
    if kind != "float64" and compiled is False:
        raise ValueError(f"dtype={kind!r} needs compiled training (compiled=True or 'auto'); "
                         "eager training computes in float64")
    return kind


def _within_range(kind: str, *arrays: tuple[str, np.ndarray]) -> None:
    """ValueError naming the first row of a named array with a number beyond ``kind``'s
    range (float32's 3.4e38), which rounding to it would make infinite."""
    top = float(np.finfo(kind).max)
    for name, array in arrays:
        rows = np.abs(array.reshape(len(array), -1)) > top
        if rows.any():
            row = int(np.flatnonzero(rows.any(axis=1))[0])
            raise ValueError(f"{name} row {row} holds {array[row].tolist()!r:.80}, beyond "
                             f"{kind}'s range (about {top:.1e}); train it in float64 "
                             "(dtype='float64', the default)")


def _parameters_within_range(kind: str, model: Any, params: Sequence[Value]) -> None:
    """ValueError naming a parameter beyond ``kind``'s range (its array would hold inf)."""
    top = float(np.finfo(kind).max)
    if not any(abs(p.data) > top for p in params):
        return
    names = {id(p): name for name, p in getattr(model, "named_parameters", list)()}
    name, value = next((names.get(id(p), f"parameter {i}"), p.data)
                       for i, p in enumerate(params) if abs(p.data) > top)
    raise ValueError(f"{name} is {value:g}, beyond {kind}'s range (about {top:.1e}); train "
                     "in float64 (dtype='float64', the default)")


def _positive_int(name: str, value: Any) -> int:
    return integer(name, value, 1)


def _positive_number(name: str, value: Any) -> float:
    return real(name, value, 0, low_open=True,
                what="a positive number (a maximum gradient norm)")


HOOKS = (("on_epoch_end", "(epoch, history)"), ("on_train_begin", "(model, history)"),
         ("on_train_end", "(model, history)"))
"""A callback's methods as fit calls them: on_epoch_end (required), and the optional
hooks at either end of the training."""


def _callbacks(callbacks: Iterable[Any]) -> list[Any]:
    """The callbacks as a list, each checked before anything trains: an object whose
    hooks are methods taking fit's two arguments (a class serves if its hooks are static
    methods). A hook that could not be called would otherwise raise only once an epoch
    had trained, or all of them."""
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"callbacks must be a list of callbacks, got {type(callbacks).__name__}")
    found = list(callbacks)
    for i, callback in enumerate(found):
        for k, (name, arguments) in enumerate(HOOKS):
            if not hasattr(callback, name):
                if k > 0:
                    continue  # an optional hook it does not have
                raise TypeError(f"callbacks[{i}] ({type(callback).__name__}) has no "
                                f"{name}{arguments} method")
            hook = getattr(callback, name)
            if not callable(hook):
                raise TypeError(f"callbacks[{i}].{name} must be a method {name}{arguments}, "
                                f"got {type(hook).__name__}")
            if _takes_two(hook):
                continue
            if isinstance(callback, type):
                raise TypeError(f"callbacks[{i}] is the class {callback.__name__}, whose "
                                f"{name} needs an object of it: pass {callback.__name__}(...)")
            raise TypeError(f"callbacks[{i}].{name} must take {arguments}; its signature is "
                            f"{name}{inspect.signature(hook, follow_wrapped=False)}")
    return found


def _takes_two(hook: Any) -> bool:
    """Whether ``hook(a, b)`` binds to the hook's own signature (not the one a decorator's
    ``functools.wraps`` copies from what it wraps); True when it has none to read, as
    some built-in callables."""
    try:
        signature = inspect.signature(hook, follow_wrapped=False)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True
