"""Activation functions by name, so a model's configuration is plain text.

Each name maps to a function from a Value to a Value made by one row of the op
table: relu(x) = max(x, 0); leaky_relu(x) = x if x > 0 else 0.01 x;
tanh(x); sigmoid(x) = 1 / (1 + e^-x); softplus(x) = log(1 + e^x); linear(x) = x.
"""

from __future__ import annotations

from collections.abc import Callable

from autograd_scalar import Value

Activation = Callable[[Value], Value]

LEAKY_RELU_SLOPE = 0.01
"""The slope of ``leaky_relu`` for x <= 0 (PyTorch's default)."""


def _linear(x: Value) -> Value:
    return x


def _leaky_relu(x: Value) -> Value:
    return x.leaky_relu(LEAKY_RELU_SLOPE)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Value.relu,
    "leaky_relu": _leaky_relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "softplus": Value.softplus,
    "linear": _linear,
}
"""Every activation by name; the names are what models store and save."""


def get(name: str) -> Activation:
    """The activation called ``name``; ValueError listing the valid names otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; expected one of {valid}") from None
