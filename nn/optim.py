"""Optimizers: update parameters from their gradients, and gradient clipping.

Each optimizer follows the algorithm PyTorch documents for the class of the same
name (g is the gradient, p the parameter, t = 1, 2, ... the step number):

    SGD      g += wd p;  b = mu b + (1 - dampening) g  (b = g at t = 1);
             g = g + mu b (Nesterov) or b;  p -= lr g
    Adam     g += wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
             p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    AdamW    p -= lr wd p (decoupled decay), then Adam's step without the g += wd p
    RMSProp  g += wd p;  v = alpha v + (1 - alpha) g^2;  u = g / (sqrt(v) + eps);
             b = mu b + u (with momentum) or b = u;  p -= lr b
    Adagrad  g += wd p;  s += g^2;  p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)

A step works on all parameters at once as NumPy arrays. It first checks every
gradient: a NaN or infinite gradient raises :class:`NonFiniteGradientError` naming
the parameter, and nothing changes (parameters, momentum buffers, step count). A
step whose result would not be finite is refused the same way, and so is one whose
state would not be (a gradient of 1e200, finite, squared into Adam's v: inf, after
which the parameter would never move again).

The hyperparameters beside ``lr`` (momentum, betas, eps, ...) are :class:`Setting`
attributes: setting one later is checked as the constructor checks it.

A step is all or nothing, also under Ctrl-C: the new values and state are computed
first, changing nothing, and then written in one block during which a
KeyboardInterrupt is held back (:func:`interrupts_deferred`) and raised once the
parameters, the state buffers and the step count all hold the new step.

``step()`` reads the parameters' Values and writes them back; ``step_arrays(data,
grad)`` is the same update on arrays that mirror the parameters in the optimizer's
order (compiled training keeps them so), in place, without reading or writing a
Value. Both share one update and one step count, so a run may switch between them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, ItemsView, Iterable, KeysView, Sequence
from collections.abc import Set as AbstractSet
from itertools import repeat
from typing import Any, overload

import numpy as np

from autograd_scalar import Value, interrupts_deferred, mirror
from autograd_scalar.validate import all_finite, flag, integer, is_real, real

State = dict[str, np.ndarray]
MAX_STEPS = 2 ** 53
"""The most steps a loaded state may count: every count up to it is exact as a float (a
step's bias corrections and decays take t as one)."""
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
"""What :meth:`Optimizer.step_arrays` steps: a tape's arrays, in either of its dtypes."""


NOTHING_UPDATED = "nothing was updated"
"""How a refused step ends its message: the parameters and the state are as they were."""


class NonFiniteGradientError(FloatingPointError):
    """A NaN or infinite gradient (or update) met by an optimizer or a clipping function.

    ``problem`` says what happened, ``hint`` what to do (the message is both); ``name``
    names the parameter and ``parameter`` is its Value; ``buffer`` names the state
    buffer that would have become infinite ("" when the gradient or the step was not
    finite): then the gradient is too large to square, whatever the learning rate.
    """

    HINT = ("Lower the learning rate, clip gradients, or find the op with "
            "autograd_scalar.detect_anomaly()")

    def __init__(self, problem: str, name: str, parameter: Value, hint: str = HINT,
                 buffer: str = "") -> None:
        super().__init__(f"{problem}. {hint}")
        self.problem, self.hint = problem, hint
        self.name = name
        self.parameter = parameter
        self.buffer = buffer

    def renamed(self, where: str, name: str, outcome: str = "") -> NonFiniteGradientError:
        """The same error said of ``where`` (an epoch, a step), the parameter called
        ``name`` (its name in the model); ``outcome``, if given, in place of "nothing was
        updated" (a training call whose earlier updates stand says so)."""
        problem = self.problem.replace(self.name, name, 1)
        if outcome:
            problem = problem.replace(NOTHING_UPDATED, outcome)
        return NonFiniteGradientError(f"{where}: {problem}", name, self.parameter, self.hint,
                                      self.buffer)


# ---------------------------------------------------------------------------
# Parameters and gradients as arrays
# ---------------------------------------------------------------------------

class PositionNames(Sequence[str]):
    """The names of parameters given as plain Values: "parameter i" and the label, made
    when asked for (an error message, clipping eagerly) rather than one string per
    parameter up front, which for a large model would hold as much memory as its
    Values."""

    def __init__(self, values: Sequence[Value]) -> None:
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        label = self._values[i].label
        return f"parameter {i}" + (f" ({label!r})" if label else "")

    def __eq__(self, other: object) -> bool:
        """Equal to a list or tuple (or another one) of the same names, in order."""
        if not isinstance(other, (list, tuple, PositionNames)):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PositionNames({len(self)} parameters)"


def named_parameter_list(params: Any) -> tuple[tuple[Value, ...], Sequence[str]]:
    """Parameters and their names from a model (``named_parameters()``), (name, Value)
    pairs or Values (named by position and label, see :class:`PositionNames`). Each
    parameter may appear once. The parameters come as a tuple: a compiled tape takes
    the same tuple as its leading shared leaves, with no second copy of it."""
    if hasattr(params, "named_parameters"):
        items = tuple(params.named_parameters())
    elif isinstance(params, Value) or not isinstance(params, Iterable):
        raise TypeError("params must be a model, an iterable of Values or of (name, Value) "
                        f"pairs, got {type(params).__name__}")
    elif isinstance(params, AbstractSet) and not isinstance(params, (KeysView, ItemsView)):
        raise TypeError(f"params must be in an order of your own (a list, a tuple, or "
                        f"model.parameters()), got a {type(params).__name__}, whose order "
                        "changes from run to run: a saved state would meet other parameters")
    else:
        items = tuple(params)
    names: Sequence[str]
    values: tuple[Value, ...]
    if all(map(isinstance, items, repeat(Value))):
        values = items
        names = PositionNames(values)
    else:
        found, pairs = [], []
        for i, item in enumerate(items):
            if isinstance(item, Value):
                value = item
                name = f"parameter {i}" + (f" ({item.label!r})" if item.label else "")
            elif (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                  and isinstance(item[1], Value)):
                name, value = item
            else:
                raise TypeError(f"params[{i}] must be a Value or a (name, Value) pair, "
                                f"got {type(item).__name__}")
            found.append(value)
            pairs.append(name)
        values, names = tuple(found), pairs
    if not values:
        raise ValueError("params is empty; an optimizer needs at least one parameter")
    if mirror.repeats(values):
        first: dict[Value, int] = {}
        for i, value in enumerate(values):
            if value in first:
                raise ValueError(f"{names[i]} is the same Value as {names[first[value]]}; "
                                 "each parameter must be listed once (it would be updated "
                                 "twice per step)")
            first[value] = i
    return values, names


def gradient_array(params: Sequence[Value], names: Sequence[str]) -> np.ndarray:
    """The parameters' gradients as floats; NonFiniteGradientError at the first NaN or inf."""
    grads = np.empty(len(params))
    for i, p in enumerate(params):
        g = p.grad
        if type(g) is not float and not is_real(g):
            raise TypeError(f"{names[i]}: gradient must be a real number, got "
                            f"{type(g).__name__}: {g!r}"[:200])
        grads[i] = g
    check_finite_gradients(grads, params, names)
    return grads


def check_finite_gradients(grads: np.ndarray, params: Sequence[Value], names: Sequence[str]
                           ) -> None:
    """NonFiniteGradientError naming the first parameter whose gradient is NaN or inf.

    One pass, and no temporary unless some gradient is not finite (:func:`all_finite`).
    """
    if not all_finite(grads):
        i = int(np.flatnonzero(~np.isfinite(grads))[0])
        raise NonFiniteGradientError(
            f"{names[i]} has a non-finite gradient ({grads[i]}); {NOTHING_UPDATED}",
            names[i], params[i])


def _write(params: Sequence[Value], values: np.ndarray, attribute: str) -> None:
    """Set ``attribute`` of every parameter from ``values``, with Ctrl-C held back until
    all are set (a float store cannot fail, so the loop runs to its end)."""
    floats = values.tolist()
    with interrupts_deferred():
        for p, v in zip(params, floats):
            setattr(p, attribute, v)


# ---------------------------------------------------------------------------
# Hyperparameter checks
# ---------------------------------------------------------------------------

def hyperparameter(name: str, value: object, low: float, high: float = math.inf,
            closed_low: bool = True, closed_high: bool = False) -> float:
    """``value`` as a float if it is a finite number in the interval from ``low`` to
    ``high`` (each end closed or open as said); ValueError in interval notation."""
    left, right = "[" if closed_low else "(", "]" if closed_high else ")"
    return real(name, value, low, high, low_open=not closed_low, high_open=not closed_high,
                what=f"a number in {left}{low:g}, {high:g}{right}")


def check_lr(lr: object) -> float:
    """``lr`` as a float; ValueError unless it is a finite number > 0."""
    return hyperparameter("lr", lr, 0.0, closed_low=False)


class Setting:
    """A hyperparameter beside ``lr`` (momentum, betas, eps, ...): an attribute checked
    by ``check(name, value)`` whenever it is set, in the constructor or later, so that
    ``opt.eps = -1`` is refused as ``Adam(..., eps=-1)`` is, and the optimizer is left
    as it was. Once the optimizer is made, the settings must also agree with each other
    (:meth:`Optimizer.check_settings`). The settings a class declares are what
    :meth:`Optimizer.state_dict` saves (``Optimizer.settings``), and
    :meth:`Optimizer.load_state_dict` checks saved ones by calling the constructor of
    the last class that declared a setting with all of them as keywords: a subclass
    that declares one takes every setting of its bases as a keyword too."""

    def __init__(self, check: Callable[[str, Any], Any]) -> None:
        self.check = check
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Setting: ...

    @overload
    def __get__(self, instance: Optimizer, owner: type) -> Any: ...

    def __get__(self, instance: Optimizer | None, owner: type) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            raise AttributeError(f"{type(instance).__name__} has no {self.name} yet (its "
                                 "constructor sets it)") from None

    def __set__(self, instance: Optimizer, value: Any) -> None:
        checked = self.check(self.name, value)
        if "params" in instance.__dict__:  # made: the settings must still agree
            instance._agreeing({self.name: checked})
        instance.__dict__[self.name] = checked


def _at_least_zero(name: str, value: object) -> float:
    return hyperparameter(name, value, 0.0)


def _above_zero(name: str, value: object) -> float:
    return hyperparameter(name, value, 0.0, closed_low=False)


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------

class Optimizer:
    """Holds parameters, a learning rate ``lr`` and per-parameter state arrays.

    Subclasses implement ``update(p, g, t) -> (new p, new state)`` on arrays, without
    touching ``self.state``; ``step`` commits the result only if it is finite.
    ``buffers`` names the state arrays a subclass may keep, ``squares`` those that sum
    or average squares (never negative).
    """

    buffers: tuple[str, ...] = ()
    squares: tuple[str, ...] = ()
    weight_decay = Setting(_at_least_zero)
    settings: tuple[str, ...] = ("weight_decay",)
    """The constructor's arguments beside ``params`` and ``lr``, each a :class:`Setting`
    of its name (a class that declares new ones gets them added here): saved by
    :meth:`~Optimizer.state_dict` and restored by :meth:`~Optimizer.load_state_dict`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = [name for name, thing in vars(cls).items() if isinstance(thing, Setting)]
        if own:
            inherited = [name for name in cls.settings if name not in own]
            cls.settings = (*own, *inherited)

    def buffers_of_a_step(self) -> tuple[str, ...]:
        """The buffers every step leaves in the state with these settings (a state of
        one step or more without one of them comes from other settings)."""
        return ()

    def __init__(self, params: Any, lr: float, weight_decay: float = 0.0) -> None:
        self._lr = check_lr(lr)
        self.weight_decay = weight_decay
        self.check_settings()
        self.params, self.names = named_parameter_list(params)
        made = mirror.first_made(self.params)
        if made >= 0:
            raise ValueError(f"{self.names[made]} is the result of an op "
                             f"({self.params[made].op}), not a leaf: an optimizer updates "
                             "leaves only, the Values a computation starts from (a step "
                             "would overwrite what the op computed)")
        self.state: State = {}
        self.steps = 0
        self._scratch: dict[tuple[int, Any, int], np.ndarray] = {}

    def _agreeing(self, changes: dict[str, Any]) -> None:
        """ValueError, this optimizer unchanged, unless its settings with ``changes`` (new
        values by name, each checked on its own) pass :meth:`check_settings`: they are
        tried on a copy."""
        trial = copy.copy(self)
        vars(trial).update(changes)
        trial.check_settings()

    def check_settings(self) -> None:
        """ValueError unless the settings agree with each other (each :class:`Setting`
        checks itself): run when the optimizer is made and when a setting changes."""

    @property
    def lr(self) -> float:
        """The learning rate of the next step.

        It must be > 0 when the optimizer is made; schedules change it between steps
        and may take it down to 0 (cosine annealing ends there).
        """
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = hyperparameter("lr", value, 0.0)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (backward accumulates into leaves)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """One update of every parameter from its current gradient, all or nothing: an
        error or a Ctrl-C leaves the parameters, the state and the step count all as
        they were or all updated (see the module docstring)."""
        grads = gradient_array(self.params, self.names)
        data = np.fromiter((p.data for p in self.params), dtype=np.float64,
                           count=len(self.params))
        new, state = self._prepare(data, grads)
        floats = new.tolist()
        with interrupts_deferred():
            for p, v in zip(self.params, floats):
                p.data = v
            self.state, self.steps = state, self.steps + 1

    def step_arrays(self, data: np.ndarray, grad: np.ndarray) -> None:
        """One update of ``data`` in place from ``grad``: arrays (len(params),) in the order
        of ``self.params``, standing for their data and gradients. No Value is touched.

        A non-finite gradient or result raises NonFiniteGradientError naming the
        parameter, and changes nothing (``data``, state, step count); as with
        ``step``, a Ctrl-C never leaves ``data`` updated and the state not, or the
        other way round.
        """
        self._check_arrays(data, grad)
        self._step_checked_arrays(data, grad)

    def _step_checked_arrays(self, data: np.ndarray, grad: np.ndarray) -> None:
        """:meth:`step_arrays` on arrays already checked."""
        new, state = self._prepare(data, grad)
        with interrupts_deferred():
            data[:] = new
            self.state, self.steps = state, self.steps + 1

    def _check_arrays(self, data: Any, grad: Any) -> None:
        """TypeError unless ``data`` and ``grad`` are float arrays (float64 or float32: an
        int array cannot take a step, a complex or bool gradient is no gradient),
        ValueError unless both are (len(params),) and ``data`` is writable."""
        for name, array in (("data", data), ("grad", grad)):
            if not isinstance(array, np.ndarray) or array.dtype not in FLOAT_DTYPES:
                kind = (f"an array of {array.dtype}" if isinstance(array, np.ndarray)
                        else type(array).__name__)
                raise TypeError(f"step_arrays: {name} must be a NumPy array of float64 or "
                                f"float32, got {kind}")
        if data.shape != (len(self.params),) or grad.shape != data.shape:
            raise ValueError(f"step_arrays: data and grad must both have shape "
                             f"({len(self.params)},), one entry per parameter, got "
                             f"{data.shape} and {grad.shape}")
        if not data.flags.writeable:
            raise ValueError("step_arrays: data is read-only; a tape's parameters are "
                             "stepped in place through tape.arrays.writable(), not "
                             "tape.arrays.data")

    def _prepare(self, data: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, State]:
        """The next step's parameters and state, computed without changing anything;
        NonFiniteGradientError for a non-finite gradient or result."""
        check_finite_gradients(grad, self.params, self.names)
        with np.errstate(all="ignore"):  # a non-finite result is refused below, not warned of
            new, state = self.update(data, grad, self.steps + 1)
        if not all_finite(new):
            i = int(np.flatnonzero(~np.isfinite(new))[0])
            raise NonFiniteGradientError(
                f"{self.names[i]} would become {new[i]} (gradient {grad[i]}); nothing was "
                "updated", self.names[i], self.params[i],
                "Lower the learning rate or clip gradients")
        for name in self.squares:  # g^2 past float range: the parameter, stuck (an inf in
            buffer = state.get(name)  # another buffer makes the new parameter inf or NaN)
            if buffer is not None and not all_finite(buffer):
                i = int(np.flatnonzero(~np.isfinite(buffer))[0])
                raise NonFiniteGradientError(
                    f"{self.names[i]}'s {name} buffer would become {buffer[i]} (gradient "
                    f"{grad[i]}); {NOTHING_UPDATED}", self.names[i], self.params[i],
                    "Clip gradients (fit's clip, nn.optim.clip_grad_norm) or scale the "
                    "data or the loss down", buffer=name)
        return new, state

    def update(self, p: np.ndarray, g: np.ndarray, t: int) -> tuple[np.ndarray, State]:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's progress and settings as plain numbers (JSON-ready): its kind,
        ``lr``, the step count, each state buffer as a list with one entry per parameter,
        and ``settings``, the other hyperparameters (momentum, betas, ...)."""
        settings = {name: getattr(self, name) for name in self.settings}
        return {"optimizer": type(self).__name__, "lr": self.lr, "steps": self.steps,
                "state": {name: buffer.tolist() for name, buffer in self.state.items()},
                "settings": {name: list(value) if isinstance(value, tuple) else value
                             for name, value in settings.items()}}

    def load_state_dict(self, state: Any) -> None:
        """Restore what ``state_dict`` gave, settings included (as PyTorch restores a
        param group's), checked whole first: a different optimizer, settings its
        constructor refuses, unknown buffers, wrong lengths or non-finite numbers are
        ValueErrors that change nothing. A state without ``settings`` (saved before they
        were kept) leaves this optimizer's own."""
        kind = type(self).__name__
        lr, steps = saved_header(self, state, ("optimizer", "lr", "steps", "state", "settings"),
                                 optional="settings")
        settled = self._settled(state.get("settings"))
        buffers = state["state"]
        if not isinstance(buffers, dict) or not set(buffers) <= set(self.buffers):
            raise ValueError(f"{kind}.load_state_dict: state buffers must be among "
                             f"{list(self.buffers)}, got {buffers!r}"[:300])
        kept = settled.buffers_of_a_step()
        missing = [name for name in kept if name not in buffers]
        if steps and missing:
            raise ValueError(f"{kind}.load_state_dict: after {steps} step(s) this optimizer "
                             f"keeps the buffers {list(kept)}; the state has no {missing} "
                             "(it comes from other settings)")
        foreign = [name for name in buffers if name not in kept]
        if foreign:  # they would be dropped at the next step
            raise ValueError(f"{kind}.load_state_dict: this optimizer's settings keep "
                             f"{list(kept) or 'no buffers'}; the state has {foreign} (it "
                             "comes from other settings, e.g. momentum > 0)")
        if not steps and buffers:
            raise ValueError(f"{kind}.load_state_dict: a state of 0 steps has no buffers, "
                             f"got {list(buffers)} (they would skew the next step)")
        arrays = {}
        for name, values in buffers.items():
            numbers = isinstance(values, (list, tuple)) and all(map(is_real, values))
            try:
                array = np.asarray(values, dtype=np.float64) if numbers else np.full(0, np.nan)
            except OverflowError:  # an int past float range (from an edited file)
                array = np.full(0, np.nan)
            if array.shape != (len(self.params),) or not np.isfinite(array).all():
                raise ValueError(f"{kind}.load_state_dict: buffer {name!r} must be a list of "
                                 f"{len(self.params):,} finite numbers, one per parameter; "
                                 f"got {_what_is_wrong(values, len(self.params))}")
            if name in self.squares and (array < 0).any():
                raise ValueError(f"{kind}.load_state_dict: buffer {name!r} sums squares, so "
                                 "none of its numbers can be negative")
            arrays[name] = array
        # checked as a whole by _settled, and by this optimizer's own check_settings on a
        # copy: written together, not one by one against the rest
        chosen = {name: getattr(settled, name) for name in self.settings}
        try:
            self._agreeing(chosen)
        except ValueError as error:
            raise ValueError(f"{kind}.load_state_dict: the saved settings are refused: "
                             f"{error}") from None
        with interrupts_deferred():  # every field, or none
            vars(self).update(chosen)
            self._lr, self.steps, self.state = lr, steps, arrays

    def _settled(self, settings: Any) -> Optimizer:
        """An optimizer with the saved ``settings`` (this one if there are none), made by
        the constructor of the class that declares them (a subclass may take other
        arguments), so that they are checked as its arguments are."""
        if settings is None:
            return self
        return remade_with(self, settings, [Value(0.0)], 1.0)

    def _buffer(self, name: str, like: np.ndarray) -> np.ndarray:
        return self.state.get(name, np.zeros_like(like))

    def _temporary(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A work array of ``like``'s dtype and length, reused step after step (never
        state, never returned to a caller that keeps it): the update is computed into it
        and copied into the parameters only once it is known to be finite, without a new
        array per step."""
        key = (slot, like.dtype, len(like))
        found = self._scratch.get(key)
        if found is None:
            found = self._scratch[key] = np.empty_like(like)
        return found

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr:g})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2
    weight decay (which adds ``weight_decay * p`` to the gradient)."""

    buffers = ("momentum",)
    momentum = Setting(_at_least_zero)
    dampening = Setting(lambda name, value: hyperparameter(name, value, 0.0, 1.0,
                                                           closed_high=True))
    nesterov = Setting(lambda name, value: flag(name, value))

    def buffers_of_a_step(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum else ()

    def __init__(self, params: Any, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        super().__init__(params, lr, weight_decay)

    def check_settings(self) -> None:
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={self.momentum!r}, dampening={self.dampening!r}")

    CHUNK = 1 << 16
    """Parameters per block of :meth:`step_arrays`' plain step (a block's work array
    stays in the cache)."""

    def step_arrays(self, data: np.ndarray, grad: np.ndarray) -> None:
        """As :meth:`Optimizer.step_arrays`. The plain step p -= lr g (no momentum, no
        weight decay) is written in one pass, block by block, when two dot products
        show every new value finite beforehand (``finite_step``); otherwise the
        general step checks each value and names the one that is not. The numbers are
        the same either way, with no work array of the parameters' size."""
        self._check_arrays(data, grad)
        if self.momentum != 0.0 or self.weight_decay or not finite_step(data, grad, self.lr):
            self._step_checked_arrays(data, grad)
            return
        lr, n, size = self.lr, len(data), self.CHUNK
        work = self._temporary(data[:size])
        with interrupts_deferred():
            for start in range(0, n, size):
                block = work[:min(size, n - start)]
                np.multiply(grad[start:start + size], lr, out=block)
                np.subtract(data[start:start + size], block, out=data[start:start + size])
            self.state, self.steps = {}, self.steps + 1

    def update(self, p: np.ndarray, g: np.ndarray, t: int) -> tuple[np.ndarray, State]:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum == 0.0:  # p - lr * g, without a new array per step
            new = np.multiply(g, self.lr, out=self._temporary(p))
            return np.subtract(p, new, out=new), {}
        if "momentum" in self.state:
            b = self.momentum * self.state["momentum"] + (1 - self.dampening) * g
        else:
            b = g.copy()  # kept as state: never the caller's gradient array itself
        direction = g + self.momentum * b if self.nesterov else b
        return p - self.lr * direction, {"momentum": b}


def _what_is_wrong(values: Any, count: int) -> str:
    """What a saved buffer holds instead of ``count`` finite numbers (for a message):
    another type, another length, or the first entry that is not a finite number."""
    if not isinstance(values, (list, tuple)):
        return f"{type(values).__name__} {values!r:.60}"
    for i, value in enumerate(values):
        if not is_real(value):
            return f"{type(value).__name__} {value!r:.40} at index {i}"
    if len(values) != count:
        return f"{len(values):,} numbers (a state of another model?)"
    for i, value in enumerate(values):
        try:
            if not math.isfinite(value):
                return f"{value!r} at index {i}"
        except OverflowError:  # an int past float range (from an edited file)
            return f"a number past float range at index {i}"
    return "a number that is not finite"


def finite_step(data: np.ndarray, grad: np.ndarray, lr: float) -> bool:
    """Whether every p - lr g is sure to be finite, from two dot products (one pass each
    in BLAS, no work array): for any i, |p_i| <= sqrt(p . p) and |g_i| <= sqrt(g . g), so

        |p_i - lr g_i| <= sqrt(p . p) + lr sqrt(g . g),

    and rounding adds a few ulps to that. A NaN or infinity in either array makes its
    dot product one, and so does a sum of squares past the largest float (values over
    about 1e154 in float64): then the answer is False, never wrongly True, and the
    caller checks value by value. A dot product of n squares is computed to a
    relative error below n eps (all its terms are positive); it is allowed for, and
    past n eps = 1/2 (float32 with 8 million values) the answer is False."""
    info = np.finfo(data.dtype)
    slack = 1.0 - len(data) * float(info.eps)
    if slack < 0.5:
        return False
    with np.errstate(all="ignore"):
        squares = float(np.dot(data, data)), float(np.dot(grad, grad))
    if not (math.isfinite(squares[0]) and math.isfinite(squares[1])):
        return False
    bound = math.sqrt(squares[0] / slack) + lr * math.sqrt(squares[1] / slack)
    return bound < float(info.max) / 4


def saved_header(thing: Any, state: Any, keys: tuple[str, ...], optional: str = ""
                 ) -> tuple[float, int]:
    """The rate and step count of a saved optimizer's or schedule's ``state``, whose
    ``keys`` are (kind, rate, steps, ...): ValueError (prefixed with
    ``Kind.load_state_dict``) for another dict, another kind of ``thing``, a rate that
    is not a finite number >= 0 or a count that is not an int from 0 to 2**53.
    ``optional``: a key the state may lack."""
    kind = type(thing).__name__
    who = f"{kind}.load_state_dict"
    required = set(keys) - {optional}
    expected = f"expected a dict with keys {', '.join(keys[:-1])} and {keys[-1]}"
    if not isinstance(state, dict):
        raise ValueError(f"{who}: {expected}, got {type(state).__name__} {state!r}"[:300])
    missing = [key for key in keys if key in required and key not in state]
    extra = [key for key in state if key not in keys]
    if missing or extra:
        said = [f"lacks {', '.join(map(repr, missing))}"] if missing else []
        said += [f"has {', '.join(repr(key)[:40] for key in extra[:5])} too"] if extra else []
        raise ValueError(f"{who}: {expected}; this one {' and '.join(said)}")
    role, rate, steps = keys[:3]
    if state[role] != kind:
        raise ValueError(f"{who}: the state is from a {state[role]!r} {role}"[:300])
    try:  # 0 when made on an optimizer at rate 0 (as lr may be)
        found = hyperparameter(rate, state[rate], 0.0)
    except ValueError as error:
        raise ValueError(f"{who}: {error}") from None
    return found, integer("steps", state[steps], 0, MAX_STEPS, who=who,
                          what="an int from 0 to 2**53")


def remade_with(thing: Any, settings: Any, *first: Any) -> Any:
    """A new object like ``thing`` (an optimizer or a schedule) with saved ``settings``,
    made by the constructor of the class that declares them (``settings`` in its body;
    a subclass may take other arguments) from ``first`` and the settings as keywords,
    so that they are checked as its arguments are. ValueError (prefixed with
    ``Kind.load_state_dict``) for settings of other names, or refused."""
    kind = type(thing).__name__
    if not isinstance(settings, dict) or set(settings) != set(thing.settings):
        raise ValueError(f"{kind}.load_state_dict: settings must be a dict of "
                         f"{', '.join(thing.settings) or 'nothing'}, got {settings!r}"[:300])
    owner = next(c for c in type(thing).__mro__ if "settings" in vars(c))
    try:
        return owner(*first, **settings)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{kind}.load_state_dict: the saved settings are refused: "
                         f"{error}") from None


def _betas(betas: object) -> tuple[float, float]:
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return (hyperparameter("betas[0]", betas[0], 0.0, 1.0),
            hyperparameter("betas[1]", betas[1], 0.0, 1.0))


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): steps scaled by bias-corrected running averages of the
    gradient (m) and of its square (v); ``weight_decay`` is L2 added to the gradient."""

    decoupled = False
    buffers = ("m", "v")
    squares = ("v",)
    betas = Setting(lambda name, value: _betas(value))
    eps = Setting(_above_zero)

    def buffers_of_a_step(self) -> tuple[str, ...]:
        return self.buffers

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.betas = betas
        self.eps = eps
        super().__init__(params, lr, weight_decay)

    def update(self, p: np.ndarray, g: np.ndarray, t: int) -> tuple[np.ndarray, State]:
        b1, b2 = self.betas
        if self.decoupled:
            p = p - self.lr * self.weight_decay * p
        else:
            g = g + self.weight_decay * p
        # the formulas' operations in their order, into two reused work arrays: only m, v
        # (the new state) are new arrays each step
        work, other = self._temporary(p), self._temporary(p, 1)
        m = b1 * self._buffer("m", p)
        m += np.multiply(g, 1 - b1, out=work)
        v = b2 * self._buffer("v", p)
        term = np.multiply(g, 1 - b2, out=work)
        term *= g
        v += term
        m_hat = np.divide(m, 1 - b1 ** t, out=work)
        root = np.divide(v, 1 - b2 ** t, out=other)  # v_hat
        np.sqrt(root, out=root)
        root += self.eps
        change = np.multiply(m_hat, self.lr, out=work)
        change /= root
        return np.subtract(p, change, out=work), {"m": m, "v": v}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019): p shrinks by
    ``lr * weight_decay * p`` each step, apart from the adaptive gradient step."""

    decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSProp(Optimizer):
    """RMSProp (Hinton, 2012): divide the gradient by a running root mean square of
    recent gradients (decay ``alpha``); optional momentum on the scaled step."""

    buffers = ("square_avg", "momentum")
    squares = ("square_avg",)
    alpha = Setting(lambda name, value: hyperparameter(name, value, 0.0, 1.0))
    eps = Setting(_above_zero)
    momentum = Setting(_at_least_zero)

    def buffers_of_a_step(self) -> tuple[str, ...]:
        return self.buffers if self.momentum else ("square_avg",)

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        self.alpha = alpha
        self.eps = eps
        self.momentum = momentum
        super().__init__(params, lr, weight_decay)

    def update(self, p: np.ndarray, g: np.ndarray, t: int) -> tuple[np.ndarray, State]:
        g = g + self.weight_decay * p
        v = self.alpha * self._buffer("square_avg", p) + (1 - self.alpha) * g * g
        scaled = g / (np.sqrt(v) + self.eps)
        if self.momentum == 0.0:
            return p - self.lr * scaled, {"square_avg": v}
        b = self.momentum * self._buffer("momentum", p) + scaled
        return p - self.lr * b, {"square_avg": v, "momentum": b}


RMSprop = RMSProp
"""PyTorch's spelling of :class:`RMSProp` (the same class: saved states name it RMSProp)."""


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011): each parameter's step is divided by the
    root of the sum of all its squared gradients so far."""

    buffers = ("sum",)
    squares = ("sum",)
    lr_decay = Setting(_at_least_zero)
    initial_accumulator_value = Setting(_at_least_zero)
    eps = Setting(_above_zero)

    def buffers_of_a_step(self) -> tuple[str, ...]:
        return self.buffers

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        self.lr_decay = lr_decay
        self.initial_accumulator_value = initial_accumulator_value
        self.eps = eps
        super().__init__(params, lr, weight_decay)

    def update(self, p: np.ndarray, g: np.ndarray, t: int) -> tuple[np.ndarray, State]:
        g = g + self.weight_decay * p
        start = np.full_like(p, self.initial_accumulator_value)
        s = self.state.get("sum", start) + g * g
        lr = self.lr / (1 + (t - 1) * self.lr_decay)
        return p - lr * g / (np.sqrt(s) + self.eps), {"sum": s}


# ---------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------

def clip_grad_norm(params: Any, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    The norm is ||g|| = sqrt(sum_i g_i^2) over every parameter; when it exceeds
    ``max_norm`` each gradient is multiplied by max_norm / (||g|| + 1e-6), which keeps
    the direction of the whole gradient. Returns ||g|| before clipping.
    """
    limit = hyperparameter("max_norm", max_norm, 0.0, closed_low=False)
    values, names = named_parameter_list(params)
    grads = gradient_array(values, names)
    norm = clip_norm_arrays(grads, limit)
    if norm > limit:
        _write(values, grads, "grad")
    return norm


def clip_norm_arrays(grad: np.ndarray, max_norm: float) -> float:
    """:func:`clip_grad_norm` on an array of gradients, in place; returns the norm before.

    Past about 1e154 the squares overflow: then, with m = max_i |g_i| finite, the norm is
    m ||g / m|| and the gradients become (g / m) max_norm / ||g / m|| (the 1e-6 is below
    their rounding there), not g times max_norm / inf = 0, which lost the direction."""
    limit = hyperparameter("max_norm", max_norm, 0.0, closed_low=False)
    with np.errstate(over="ignore"):
        norm = float(np.linalg.norm(grad))
    if norm > limit:
        top = float(np.max(np.abs(grad))) if math.isinf(norm) else math.inf
        if math.isfinite(top):
            np.divide(grad, top, out=grad)
            ratio = float(np.linalg.norm(grad))
            grad *= limit / ratio
            return top * ratio
        grad *= limit / (norm + 1e-6)
    return norm


def clip_grad_value(params: Any, clip_value: float) -> None:
    """Clamp every gradient to [-clip_value, clip_value], each on its own."""
    limit = hyperparameter("clip_value", clip_value, 0.0, closed_low=False)
    values, names = named_parameter_list(params)
    grads = gradient_array(values, names)
    _write(values, np.clip(grads, -limit, limit), "grad")
