"""Function: an op of your own, as a new row of the op table.

Subclass :class:`Function` with two static methods, the forward on floats and the
partial derivative of the output with respect to each input::

    class Cube(Function):
        @staticmethod
        def forward(x):
            return x * x * x

        @staticmethod
        def derivatives(x, out):
            return (3 * x * x,)

    y = Cube.apply(Value(2.0))        # a node whose op is "Cube"

Defining the class builds its row once (``Cube.row``, an :class:`~autograd_scalar.Op`
named after the class), so a ``Cube`` node is like any other. The optional class
attributes (``domain`` with ``expected``, ``kinks``, ``formula``) and the errors raised
at the call, before any node is made: ``docs/tutorials/check-derivatives.md``, "Your own
op".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .ops import Op, is_real, requires
from .value import Value, apply, as_float

_RESERVED_FIRST = ("self", "ctx", "cls")


def _any_of(kind: type, items: tuple[Any, ...]) -> bool:
    """Whether any of ``items`` is a ``kind``."""
    return any(isinstance(item, kind) for item in items)


def _describe(x: object) -> str:
    return f"{type(x).__name__}: {x!r}"[:120]


class Function:
    """Base class of user-defined ops; see the module docstring for an example.

    Subclasses define static ``forward(*xs) -> float`` and
    ``derivatives(*xs, out) -> tuple`` (one partial derivative per input);
    ``forward(*xs)`` with a star argument makes an op of any number of inputs.
    """

    row: ClassVar[Op | None] = None
    """The op-table row built from this class (None for an abstract class)."""

    kinks: ClassVar[tuple[float, ...]] = ()
    formula: ClassVar[str] = ""
    domain: ClassVar[Callable[..., bool] | None] = None
    expected: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        forward = getattr(cls, "forward", None)
        derivatives = getattr(cls, "derivatives", None)
        if forward is None and derivatives is None:
            cls.row = None
            return
        if forward is None or derivatives is None:
            missing = "forward" if forward is None else "derivatives"
            raise TypeError(f"Function {cls.__name__} defines no static {missing}; "
                            "a Function needs forward(*xs) and derivatives(*xs, out)")
        cls.row = _build_row(cls, forward, derivatives)

    def __call__(self, *inputs: Any) -> Any:
        """A Function is not made into an object to call (as a torch.nn module is): its
        op is the class's ``apply``, as torch.autograd.Function's."""
        kind = type(self).__name__
        raise TypeError(f"{kind}() is an object of the class, not the op: call "
                        f"{kind}.apply(...) on the inputs, as torch.autograd.Function's")

    @classmethod
    def apply(cls, *inputs: Any) -> Value:
        """The node ``cls(*inputs)``; numbers among the inputs become constant leaves."""
        row = cls.row
        if row is None:
            raise TypeError(f"{cls.__name__} is abstract: define static forward(*xs) and "
                            "derivatives(*xs, out) in a subclass, then call apply on it")
        if row.arity is not None and len(inputs) != row.arity:
            raise TypeError(f"{cls.__name__}.apply takes {row.arity} input(s), "
                            f"as its forward does, got {len(inputs)}")
        if not inputs:
            raise TypeError(f"{cls.__name__}.apply takes at least one input, got none")
        return apply(row, inputs)


def _arity(cls: type, forward: Callable[..., Any]) -> int | None:
    """The number of inputs ``forward`` takes, or None if it takes ``*xs``."""
    try:
        parameters = list(inspect.signature(forward).parameters.values())
    except (TypeError, ValueError) as error:
        raise TypeError(f"Function {cls.__name__}: forward must be a function") from error
    if parameters and parameters[0].name in _RESERVED_FIRST:
        raise TypeError(f"Function {cls.__name__}: forward takes the inputs only; make it a "
                        f"@staticmethod without '{parameters[0].name}'")
    count = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
        elif parameter.default is parameter.empty:
            raise TypeError(f"Function {cls.__name__}: forward may take positional inputs "
                            f"only, got the keyword-only parameter '{parameter.name}'")
    return count


def _check_rule_signature(cls: type, derivatives: Callable[..., Any], arity: int | None) -> None:
    """``derivatives`` must accept the inputs followed by ``out``."""
    try:
        signature = inspect.signature(derivatives)
    except (TypeError, ValueError) as error:
        raise TypeError(f"Function {cls.__name__}: derivatives must be a function") from error
    counts = (arity + 1,) if arity is not None else (2, 3)
    for count in counts:
        try:
            signature.bind(*([0.0] * count))
        except TypeError:
            wanted = (f"{arity} input(s) and then out" if arity is not None
                      else "the inputs and then out (*xs_out)")
            raise TypeError(f"Function {cls.__name__}: derivatives must take {wanted}, "
                            f"its signature is {signature}") from None


def _on_floats(error: AttributeError, name: str, method: str, xs: tuple[Any, ...]
               ) -> Exception:
    """A Value method called on a float inside a Function (``x.exp()`` in forward): a
    TypeError saying that the method is given numbers; any other AttributeError as it is."""
    if not any(type(x) is float for x in xs) or "'float' object" not in str(error):
        return error
    return TypeError(f"{name}.{method} is given numbers, not Values ({error}): write it with "
                     "math's functions (math.exp(x)), and the derivative in derivatives")


def _build_row(cls: type, forward: Callable[..., Any], derivatives: Callable[..., Any]) -> Op:
    name = cls.__name__
    arity = _arity(cls, forward)
    _check_rule_signature(cls, derivatives, arity)

    def checked_forward(*xs: Any) -> float:
        try:
            out = forward(*xs)
        except AttributeError as error:
            raise _on_floats(error, name, "forward", xs) from error
        if is_real(out):
            return as_float(out, f"{name}.forward")
        raise TypeError(f"{name}.forward must return a real number (int or float), "
                        f"got {_describe(out)}")

    def checked_derivatives(*xs_out: Any) -> tuple[Any, ...]:
        try:
            partials = derivatives(*xs_out)
        except AttributeError as error:
            raise _on_floats(error, name, "derivatives", xs_out) from error
        inputs = len(xs_out) - 1
        if not isinstance(partials, (tuple, list)):
            raise TypeError(f"{name}.derivatives must return a tuple with one partial "
                            f"derivative per input ({inputs}), got {_describe(partials)}")
        if len(partials) != inputs:
            raise ValueError(f"{name}.derivatives returned {len(partials)} partial "
                             f"derivative(s) for {inputs} input(s); expected one per input")
        found: list[Any] = []
        for i, partial in enumerate(partials):
            if type(partial) is float:  # the usual case, first
                found.append(partial)
            elif is_real(partial):  # NumPy's float32 widened, as the core stores a number
                found.append(as_float(partial, f"{name}.derivatives"))
            elif ((isinstance(partial, Value) and _any_of(Value, xs_out))  # create_graph
                  or (isinstance(partial, np.ndarray) and _any_of(np.ndarray, xs_out))):
                found.append(partial)  # the tape's arrays
            else:
                kind = ("a real number or a Value" if _any_of(Value, xs_out)
                        else "a real number")
                raise TypeError(f"{name}.derivatives: the partial derivative for input {i} "
                                f"must be {kind} on these inputs, got {_describe(partial)}")
        return tuple(found)

    for wrapper, method in ((checked_forward, "forward"), (checked_derivatives, "derivatives")):
        wrapper.__name__, wrapper.__qualname__ = method, f"{name}.{method}"  # in messages
    domain = getattr(cls, "domain", None)
    check = None
    if domain is not None:
        expected = getattr(cls, "expected", "") or f"inputs inside the domain of {name}"
        check = requires(domain, name, expected)
    row = Op(name, checked_forward, elementwise(checked_forward),
             checked_derivatives, arity=arity, check=check,
             formula=getattr(cls, "formula", ""), kinks=_kinks(cls))
    return row


UFUNC_OPERANDS = 32
"""The most operands a NumPy ufunc takes, so :func:`np.vectorize` too: 32 in NumPy 1, 64
in NumPy 2 (a sum of 60 inputs fails in one, of 70 in both)."""


def elementwise(function: Callable[..., float]) -> Callable[..., Any]:
    """``function`` of floats as a function of arrays, applied element by element after
    broadcasting, for any number of arguments: :func:`np.vectorize` up to
    :data:`UFUNC_OPERANDS` of them, a loop over the broadcast elements beyond."""
    vectorized = np.vectorize(function, otypes=[float])

    def on_arrays(*arrays: Any) -> Any:
        if len(arrays) < UFUNC_OPERANDS:
            return vectorized(*arrays)
        columns = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
        flat = [column.ravel().tolist() for column in columns]
        found = np.array([function(*numbers) for numbers in zip(*flat)], dtype=float)
        return found.reshape(columns[0].shape)

    return on_arrays


def _kinks(cls: type) -> tuple[float, ...]:
    points = getattr(cls, "kinks", ())
    if not isinstance(points, (tuple, list)) or not all(is_real(p) for p in points):
        raise TypeError(f"Function {cls.__name__}: kinks must be a tuple of real numbers "
                        f"(the points where forward has no derivative), got {points!r}")
    return tuple(float(p) for p in points)
