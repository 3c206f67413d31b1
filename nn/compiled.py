"""Compiled training and prediction: a model and a loss run on whole batches with NumPy.

``CompiledLoss(model, loss)`` traces ``loss.example(model(x), t)`` for one example
with :func:`autograd_scalar.compile`, then each ``step(X, T)`` runs the traced tape
on the batch: the forward, the backward, and the gradient of the reduced loss
(summed over the batch) added to every parameter's ``grad``, as the eager
``loss(outputs, targets).backward()`` would. ``compiled_predict(model, X)`` does the
same for the model's raw outputs.

Parameter values are read at every step, so optimizer updates and
``load_state_dict`` are seen. Everything else a trace saw is frozen into it (which
Value objects the parameters are, the structure, other numbers such as a
``Standardized`` model's scaling), so a kept trace is used only while the model's
key (:func:`nn.model_key.model_key`) is unchanged: ``compiled_predict`` compares it
at every call and ``CompiledTraining`` at ``pull()``, and both trace anew when it
changed. A ``CompiledLoss`` stands for the model as it was at its first step
(comparing the key at every step would cost about as much as a small model's
step): make a new one after changing the model other than its parameters' numbers.
A model or loss that reads ``.data`` of a traced Value (a Python branch on it) is
refused at the trace with :class:`autograd_scalar.DataDependenceError` naming the
line (see :mod:`autograd_scalar.tape`). ``CompiledLoss(..., check=True)`` also
compares the first batch with the eager graph and raises
:class:`autograd_scalar.TraceMismatchError` if they differ.

``CompiledTraining(model, loss, optimizer)`` is what ``nn.fit`` runs: the whole
training step on arrays. Its tape lays the optimizer's parameters out first in
``tape.arrays`` (in the optimizer's order, so its state lines up), reads them
there, writes the batch's gradient there, clips it there and lets the optimizer
step there (``Optimizer.step_arrays``): a step reads and writes no Value. The
Values are brought up to date by ``push()`` (``fit`` calls it before validation
and callbacks read the model, and when it returns) and the arrays from the Values
by ``pull()`` (after callbacks, which may change parameters, or the model itself:
then the tape is dropped and the next step traces anew). The tape traces the
model's outputs beside the loss, so each step also returns the batch's raw
outputs (for training accuracy) without a second forward. With ``keep=True``
(``fit``'s) the tape outlives the object and serves the next one made for the
same model, loss, widths, dtype and optimizer parameters (see
:class:`CompiledTraining`); ``dtype="float32"`` runs it in float32.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import operator
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_scalar import Tape, Value, compile, interrupts_deferred, tape_dtype
from autograd_scalar.validate import flag

from .losses import check_reduction
from .model_key import model_key, object_key
from .optim import Optimizer, clip_norm_arrays

__all__ = ["CompiledLoss", "CompiledTraining", "compiled_memory", "compiled_predict"]


_UNSET: Any = object()
"""``CompiledTraining.trace``'s key when the caller has none (None is a key: not a Module)."""


def _rows(X: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, d), got shape {array.shape}")
    return array


def _fits(tape: Tape, X: Any, T: Any) -> bool:
    """Whether 2-D arrays X and T have the widths the tape was traced for (the tape
    checks them fully when it runs; anything else goes through ``_rows``)."""
    return (type(X) is np.ndarray and type(T) is np.ndarray and X.ndim == 2 and T.ndim == 2
            and tape.widths == (X.shape[1], T.shape[1]))


class CompiledLoss:
    """A model and a loss, traced at the first step (again if the widths change) and
    stepped on batches; it stands for the model as it was traced (see the module
    docstring)."""

    def __init__(self, model: Any, loss: Any, check: bool = False) -> None:
        _check_model_and_loss("CompiledLoss", model, loss)
        self.model = model
        self.loss = loss
        self.check = check
        self.tape: Tape | None = None
        self._parameters: tuple[Value, ...] = ()

    def _example(self, x: Sequence[Value], t: Sequence[Value]) -> Value:
        return self.loss.example(self.model(x), t)

    def _traced(self, X: np.ndarray, T: np.ndarray) -> tuple[Tape, bool]:
        tape = self.tape
        fresh = tape is None or tape.widths != (X.shape[1], T.shape[1])
        if fresh:
            self._parameters = tuple(self.model.parameters())
            tape = compile(self._example, X[0], T[0])
            self.tape = tape
        assert tape is not None
        return tape, fresh

    def step(self, X: Any, encoded_targets: Any, reduction: str = "mean") -> float:
        """Add d(reduced loss)/d p to ``p.grad`` for every parameter; return the loss.

        ``X`` is (n, d), ``encoded_targets`` is (n, k) as ``loss.encode`` gives it;
        ``reduction`` is "mean" or "sum" over the batch.
        """
        check_reduction(reduction, "CompiledLoss.step")
        X = _rows(X, "X")
        T = _rows(encoded_targets, "encoded_targets")
        if len(T) != len(X):
            raise ValueError(f"X has {len(X)} rows but encoded_targets has {len(T)}; "
                             "they need one row per example")
        tape, fresh = self._traced(X, T)
        if fresh and self.check:
            tape.check(X, T)
        return tape.backward(X, T, reduction=reduction, wrt=self._parameters)


class CompiledTraining:
    """A model, a loss and an optimizer: training steps on arrays (see the module docstring).

    ``clip`` is a maximum global gradient norm, as in ``fit``. The tape is traced
    at the first ``step`` (or by ``trace``) from that batch's first row.
    ``dtype`` is the tape's arithmetic, "float64" (the default) or "float32" (see
    :func:`autograd_scalar.compile`): the parameters live in arrays of that dtype
    between pushes, and the optimizer steps on them (its state takes their dtype).

    ``keep=True`` (what ``fit`` uses) keeps the tape with the model after this
    object is gone, so that the next ``CompiledTraining(..., keep=True)`` for the
    same model takes it over instead of tracing again, as long as everything the
    tape stands for is the same: the model's key (:func:`nn.model_key.model_key`:
    parameters by identity, structure, other attributes), the loss (by identity
    and attributes), the input and target widths, the dtype, and the optimizer's
    parameters (the same Values in the same order: they are laid out first). Nothing else
    is traced: the optimizer itself, its learning rate and other hyperparameters,
    ``clip`` and the batch size may all differ. The kept tape holds no reference
    to the model (it is kept in a dictionary weakly keyed on the model), and it
    reads the Values into its arrays when taken over. One tape serves one
    model: a new ``CompiledTraining(..., keep=True)`` takes it from the last.

    One tape per input shape: a batch of other widths (a GPT's documents of another
    length) is traced once and kept in ``tapes``, keyed by (input width, target
    width); switching shapes carries the parameters and gradients over, so the
    optimizer steps on one set of numbers whichever tape runs.

    ``example`` (x, t) -> Value replaces ``loss.example(model(x), t)`` as the traced
    function of one example (``loss`` is then unused and ``step`` returns no model
    outputs): the GPT traces its masked sequence loss this way
    (:func:`nn.gpt.compiled.gpt_training`). ``strategy`` is each tape's
    ``Tape.strategy``.
    """

    def __init__(self, model: Any, loss: Any, optimizer: Optimizer,
                 clip: float | None = None, keep: bool = False, dtype: Any = "float64",
                 example: Callable[[Any, Any], Value] | None = None,
                 strategy: str = "auto") -> None:
        if example is None:
            _check_model_and_loss("CompiledTraining", model, loss)
        elif not callable(example):
            raise TypeError(f"example must be a function (x, t) -> the loss of one example, "
                            f"got {type(example).__name__}")
        self.dtype = tape_dtype(dtype)
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CompiledTraining expects an nn.optim optimizer, got "
                            f"{type(optimizer).__name__}")
        flag("keep", keep)
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.clip = clip
        self.keep = keep
        self.example = example
        self.strategy = strategy
        self.tape: Tape | None = None
        self.tapes: dict[tuple[int, int], Tape] = {}
        self._count = 0
        self._key: tuple[Any, ...] | None = None
        self._kept: _Kept | None = None
        self._unpushed = False

    def trace(self, X: Any, encoded_targets: Any, key: Any = _UNSET) -> Tape:
        """Trace the model and loss on the first row (again if the widths or the model
        changed); with ``keep``, take over the model's kept tape if it stands for the
        same function. ``key`` is ``model_key(model)`` if the caller has it; without
        one, a shape traced before is taken as it is (the model is compared at
        :meth:`pull`, which costs a walk over the model: not once per batch)."""
        X = _rows(X, "X")
        T = _rows(encoded_targets, "encoded_targets")
        widths = (X.shape[1], T.shape[1])
        tape = self.tape
        if key is _UNSET:
            other = self.tapes.get(widths) if tape is not None else None
            if other is not None:  # a shape traced before: a change of model shows at pull()
                return tape if other is tape else self._switch(other)
            key = model_key(self.model, self._key)
        if tape is not None and key == self._key:
            if tape.widths == widths:
                return tape
            other = self.tapes.get(widths)
            if other is not None:  # another shape of the same function: take the numbers along
                return self._switch(other)
        else:
            self.tapes = {}
        previous = tape if tape is not None and key == self._key else None
        kept = self._kept_record(key, widths)
        if kept is not None and kept.tape is not None and kept.takes(self.optimizer):
            tape = kept.tape
            tape.arrays.pull()
            count = kept.count
        else:
            own = self.optimizer.params
            parameters = self.model.parameters()
            if type(parameters) is not list:
                parameters = list(parameters)
            listed: list[Value] | None = parameters
            if len(own) == len(parameters) and all(map(operator.is_, own, parameters)):
                others = []  # the usual case, seen without a set of every parameter
                listed = None  # the tape's leading shared leaves are they
            else:
                chosen = set(own)
                others = [p for p in parameters if p not in chosen]
            function = (_loss_and_outputs(self.model, self.loss) if self.example is None
                        else self.example)
            tape = compile(function, X[0], T[0], parameters=[*own, *others] if others else own,
                           dtype=self.dtype)
            tape.strategy = self.strategy
            tape.plan_for(len(X), tape.strategy)  # ready to run this batch: no plan made mid-run
            count = len(own) + len(others)
            kept = _Kept(tape, key, object_key(self.loss), widths, self.dtype,
                         listed,
                         count, own, weakref.ref(self.optimizer))
            if self.keep and key is not None:
                with contextlib.suppress(TypeError):
                    _kept_tapes[self.model] = kept
        if previous is not None:  # the Values may be behind the arrays of the last shape
            self.tape, self._key, self._count, self._kept = previous, key, count, kept
            self.tapes[widths] = tape
            return self._switch(tape)
        self.tape, self._key, self._count, self._kept = tape, key, count, kept
        self.tapes = {widths: tape}
        self._unpushed = False
        return tape

    def _switch(self, tape: Tape) -> Tape:
        """Make ``tape`` (the function traced at other widths) the current one, its
        parameters and gradients taken from the current tape's arrays."""
        current = self.tape
        assert current is not None
        count = self._count
        tape.arrays.writable()[:count] = current.arrays.data[:count]
        tape.arrays.grad[:count] = current.arrays.grad[:count]
        current.release()  # one batch's arrays at a time, not one per shape met
        self.tape = tape
        return tape

    def _kept_record(self, key: Any, widths: tuple[int, int]) -> _Kept | None:
        """The model's kept record if ``keep`` and it stands for this model, loss and
        widths (its tape may still need another optimizer's check: ``_Kept.takes``)."""
        if not self.keep or key is None:
            return None
        try:
            kept = _kept_tapes.get(self.model)
        except TypeError:  # an unhashable model
            return None
        if kept is None or kept.widths != widths or kept.dtype != self.dtype or kept.key != key:
            return None
        return kept if kept.loss_key == object_key(self.loss) else None

    def reference(self, X: Any, encoded_targets: Any) -> Any:
        """The eager run of the traced function (the loss and the model's outputs) on
        these rows, for :meth:`autograd_scalar.Tape.check` of the tape :meth:`trace` makes
        next: made first, so that the check's eager graphs and the trace's graph never
        live at once (see :meth:`autograd_scalar.Tape.eager_reference`)."""
        X = _rows(X, "X")
        T = _rows(encoded_targets, "encoded_targets")
        function = (_loss_and_outputs(self.model, self.loss) if self.example is None
                    else self.example)
        return Tape.eager_reference(function, X, T, parameters=self.optimizer.params)

    def checked_for(self, X: np.ndarray, encoded_targets: np.ndarray, key: Any) -> bool:
        """Whether the tape kept for this model (as ``key`` describes it), loss and widths
        passed :meth:`autograd_scalar.Tape.check` (then :meth:`trace` takes it over, and
        it needs no check)."""
        kept = self._kept_record(key, (X.shape[1], encoded_targets.shape[1]))
        return kept is not None and kept.tape is not None and kept.checked

    @property
    def key(self) -> tuple[Any, ...] | None:
        """The model's key when the tape was traced (None before, or for a plain function)."""
        return self._key

    @property
    def checked(self) -> bool:
        """Whether the tape was checked against the eager graph (``Tape.check``), by this
        object or by one that kept it before."""
        return self._kept is not None and self._kept.checked

    def mark_checked(self) -> None:
        """Record that the tape passed ``Tape.check``, for whoever takes it over later."""
        if self._kept is not None:
            self._kept.checked = True

    def refusal(self, X: np.ndarray, encoded_targets: np.ndarray, key: Any) -> str | None:
        """Why this model could not be compiled, if a kept record says so for the same
        model, loss and widths (see :meth:`refuse`); else None."""
        kept = self._kept_record(key, (X.shape[1], encoded_targets.shape[1]))
        return None if kept is None else kept.refused

    def refuse(self, X: np.ndarray, encoded_targets: np.ndarray, key: Any, reason: str) -> None:
        """Drop the tape and, with ``keep``, remember ``reason`` (the model's trace or check
        failed) for the same model, loss and widths, so that they are not traced again."""
        self.tape, self.tapes, self._kept = None, {}, None
        if self.keep and key is not None:
            widths = (X.shape[1], encoded_targets.shape[1])
            refused = _Kept(None, key, object_key(self.loss), widths, self.dtype, [], 0, [],
                            weakref.ref(self.optimizer), refused=reason)
            with contextlib.suppress(TypeError):
                _kept_tapes[self.model] = refused

    def step(self, X: Any, encoded_targets: Any, then: Callable[[float], Any] | None = None,
             vet: Callable[[np.ndarray], None] | None = None) -> tuple[float, np.ndarray]:
        """One training step on a batch: (mean loss before the update, raw outputs (n, k)).

        The gradient of the batch's mean loss is computed into the arrays,
        clipped, and the optimizer steps on the arrays. On an error (a non-finite
        gradient) the arrays, the optimizer and the Values are left as they were.
        ``then(loss)``, if given, runs as the update is applied, with it as one: a
        Ctrl-C held through the update is raised after both (a caller's record of
        the step never lags the parameters). ``vet(losses)``, if given, is shown the
        examples' losses when their mean is not finite, before the update: it raises
        to refuse the step (an example the eager graph refuses), or returns.
        """
        tape = self.tape
        if tape is None or not _fits(tape, X, encoded_targets):
            tape = self.trace(X, encoded_targets)
        with tape.blas_limit(len(X)):  # the optimizer's products too (Tape.threads)
            value, outputs = tape.backward_arrays(X, encoded_targets, reduction="mean")
            if vet is not None and not math.isfinite(value):
                vet(outputs[:, 0])
            count = len(self.optimizer.params)
            grad = tape.arrays.grad[:count]
            if self.clip is not None:
                clip_norm_arrays(grad, self.clip)
            steps = self.optimizer.steps
            try:
                with interrupts_deferred():
                    self.optimizer.step_arrays(tape.arrays.writable()[:count], grad)
                    if then is not None:
                        then(value)
            finally:  # a Ctrl-C held through the update is raised as it ends: push it still
                if self.optimizer.steps != steps:
                    self._unpushed = True
        return value, outputs[:, 1:]

    def push(self, grads: bool = True) -> None:
        """Write the arrays' parameters and gradients to the model's Values (if a step
        changed them since the last ``push`` or ``pull``). ``grads=False`` writes the
        parameters only: the arrays' gradients are a refused batch's, and the Values'
        keep theirs (what they held when the Values were last written)."""
        if self.tape is not None and self._unpushed:
            self.tape.arrays.push(self._count, grads=grads, changed=len(self.optimizer.params))
            self._unpushed = False

    def pull(self) -> None:
        """Read every parameter's Value into the arrays (after anyone changed them).

        If the model itself changed (its key: a parameter or layer replaced, a
        scaling loaded, see :func:`nn.model_key.model_key`), the tape no longer stands for it
        and is dropped instead; the next ``step`` (or ``trace``) traces anew.
        """
        if self.tape is None:
            return
        if model_key(self.model, self._key) != self._key:
            self.tape, self.tapes = None, {}
            return
        self.tape.arrays.pull()
        self._unpushed = False


class _Kept:
    """A training tape kept with its model between :class:`CompiledTraining` objects, and
    what it stands for; or (``tape`` None) why the model could not be compiled.

    ``parameters`` is ``model.parameters()`` at the trace and ``count`` how many of
    them lead the tape's shared leaves (the optimizer's first); when the optimizer
    lists them all in the model's order (the usual case) they are those leaves, and
    no list of them is kept beside the tape's. ``optimizer`` is the
    last optimizer known to list ``optimizer_params`` (held weakly): ``fit`` need not
    check it against the model again while the key is the same.
    """

    __slots__ = ("_parameters", "checked", "count", "dtype", "key", "loss_key", "optimizer",
                 "optimizer_params", "refused", "tape", "widths")

    def __init__(self, tape: Tape | None, key: Any, loss_key: Any, widths: tuple[int, int],
                 dtype: np.dtype[Any], parameters: Sequence[Value] | None, count: int,
                 optimizer_params: Sequence[Value], optimizer: weakref.ReferenceType[Optimizer],
                 refused: str | None = None) -> None:
        self.tape, self.key, self.loss_key, self.widths = tape, key, loss_key, widths
        self.dtype = dtype
        self._parameters, self.count = parameters, count
        self.optimizer_params, self.optimizer = optimizer_params, optimizer
        self.checked, self.refused = False, refused

    @property
    def parameters(self) -> Sequence[Value]:
        """``model.parameters()`` at the trace (None given: the tape's first ``count``
        shared leaves, which are they)."""
        if self._parameters is not None:
            return self._parameters
        if self.tape is None:
            return []
        shared = self.tape.shared
        return shared if len(shared) == self.count else shared[:self.count]

    def knows(self, optimizer: Optimizer) -> bool:
        """Whether ``optimizer`` is the one this tape was last used with, its parameter
        list unchanged (the same list object, of the same length)."""
        return (self.optimizer() is optimizer and optimizer.params is self.optimizer_params
                and len(optimizer.params) == len(self.optimizer_params))

    def takes(self, optimizer: Optimizer) -> bool:
        """Whether the tape serves ``optimizer``: it lists the same Values, in the same
        order, as the tape's first shared leaves (then it becomes the known one)."""
        if self.knows(optimizer):
            return True
        assert self.tape is not None
        own = optimizer.params
        if len(own) != len(self.optimizer_params) or not all(
                map(operator.is_, own, self.tape.shared)):
            return False
        self.optimizer, self.optimizer_params = weakref.ref(optimizer), own
        return True

    def output_width(self, input_width: int) -> int | None:
        """The model's number of outputs for inputs of this width, if the tape knows it."""
        if self.tape is None or self.widths[0] != input_width:
            return None
        return len(self.tape.outputs) - 1


_kept_tapes: weakref.WeakKeyDictionary[Any, _Kept] = weakref.WeakKeyDictionary()


def kept_key(model: Any) -> tuple[Any, ...] | None:
    """The model's key when its kept training tape was traced (to pass to
    :func:`nn.model_key.model_key` as ``previous``), or None."""
    try:
        kept = _kept_tapes.get(model)
    except TypeError:
        return None
    return None if kept is None else kept.key


def kept_training(model: Any, key: Any) -> _Kept | None:
    """The training tape's record kept for ``model`` (by ``CompiledTraining(...,
    keep=True)``) if it was traced for the model as its key ``key`` now describes it;
    else None."""
    if key is None:
        return None
    try:
        kept = _kept_tapes.get(model)
    except TypeError:
        return None
    if kept is None or kept.tape is None or kept.key != key:
        return None
    return kept


def _loss_and_outputs(model: Any, loss: Any) -> Callable[[Any, Any], list[Value]]:
    """The traced function: [loss of the example, the model's outputs...], one tape for
    both. It calls the model through a weak reference, so a kept tape keeps no model
    alive."""
    try:
        call = _called_weakly(model)
    except TypeError:  # a model that cannot be referred to weakly is held
        call = model

    def example(x: Sequence[Value], t: Sequence[Value]) -> list[Value]:
        output = call(x)
        outputs = [output] if isinstance(output, Value) else list(output)
        return [loss.example(output, t), *outputs]

    return example


TRACE_BYTES_PER_PARAMETER = 512
"""Bytes a trace of a dense model takes per parameter, its check included: measured
about 400 on 784-256-256-10 and 2-300-300-2 when this bound was set, about 180 since
the trace and the check keep no dictionary of every parameter; kept as a safe bound."""


def compiled_memory(sizes: Sequence[int], batch: int, targets: int | None = None) -> int:
    """Estimated peak bytes of compiled training of an MLP with layer ``sizes`` (inputs
    first) on batches of ``batch`` examples, before anything is allocated.

    The trace: ``TRACE_BYTES_PER_PARAMETER`` per parameter. A run: the values and
    gradients of every target and op for every example (the inputs have no rows:
    the first layer reads them from the batch), and the temporaries of one group,
    about 3 x 8 bytes per (row, example), with rows = targets + 2 per unit (its
    affine node and activation) + 8 for the loss; and the parameters' data and
    gradients, 16 bytes each.
    """
    parameters = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    targets = sizes[-1] if targets is None else targets
    rows = targets + 2 * sum(sizes[1:]) + 8
    return TRACE_BYTES_PER_PARAMETER * parameters + 24 * rows * batch + 16 * parameters


_predictors: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], Tape]] = \
    weakref.WeakKeyDictionary()


def compiled_predict(model: Any, X: Any, retrace: bool = False) -> np.ndarray:
    """The model's raw outputs for each row of ``X``: (n,) for one output, (n, k) for k.

    The tape traced for an nn Module is kept (without keeping the model alive) beside
    the input width and the model's key (:func:`nn.model_key.model_key`: every
    parameter by identity, the structure, every other attribute such as a
    ``Standardized`` model's scaling), and reused only while both are the same; it
    reads the parameters' current values at every call. So ``model.load(path)``,
    replacing a layer or a parameter, or a new scaling traces anew, and training or
    ``load_state_dict`` does not need to. A model that is not a Module (its state
    cannot be seen) is traced at every call; ``retrace=True`` traces anew regardless.
    """
    X = _rows(X, "X")
    try:
        kept = None if retrace else _predictors.get(model)
    except TypeError:  # an unhashable model
        kept = None
    key = model_key(model, None if kept is None else kept[0][1])
    mark = None if key is None else (X.shape[1], key)
    if kept is not None and kept[0] == mark:
        tape = kept[1]
    elif mark is None:
        tape = compile(model, X[0])
    else:
        tape = compile(_called_weakly(model), X[0])
        with contextlib.suppress(TypeError):
            _predictors[model] = (mark, tape)
    outputs = tape.forward(X)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return outputs[:, 0]
    return outputs


def _called_weakly(model: Any) -> Callable[[Any], Any]:
    """``model(x)`` through a weak reference: a tape keeps its function, and a tape kept
    in ``_predictors`` must not keep its model (the dictionary's key) alive."""
    reference = weakref.ref(model)

    def call(x: Any) -> Any:
        found = reference()
        if found is None:
            raise ReferenceError("the model of this compiled predictor no longer exists")
        return found(x)

    return call


def _check_model_and_loss(who: str, model: Any, loss: Any) -> None:
    """TypeError naming ``who`` unless ``model`` is a callable with parameters() and
    ``loss`` an nn loss (it has ``example(output, encoded_row)``)."""
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"{who} expects a model with parameters(), got {type(model).__name__}")
    if not hasattr(loss, "example"):
        raise TypeError(f"{who} expects a loss with example(output, encoded_row), "
                        f"got {type(loss).__name__}")
