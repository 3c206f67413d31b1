"""Neuron, Layer and MLP: the fully connected building blocks.

A neuron computes act(w . x + b): the affine map is one n-ary ``affine`` node
(d/dw_i = x_i, d/dx_i = w_i, d/db = 1), then the activation's node.
Weights start by PyTorch's rule for its Linear layer (``init="fan_in"``: w and b
uniform in +-1/sqrt(fan_in)). With ``init="uniform"`` (micrograd's U(-1, 1) weights,
zero biases), relu hidden layers and a linear output layer, an MLP computes exactly
what micrograd's MLP computes from the same weights, with the same gradients.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np

from autograd_scalar import Value, affine, current_scope, joined_scope, linear
from autograd_scalar.validate import integer, is_real

from . import activations
from . import init as weight_init
from .init import Seed
from .module import Fixed, Module


def check_size(name: str, n: Any) -> int:
    """``n`` if it is a positive int; ValueError naming ``name`` otherwise."""
    return integer(name, n, 1)


def as_inputs(x: Any, nin: int, who: str,
              names: Sequence[str] | None = None) -> tuple[Value, ...]:
    """``x`` as ``nin`` Values: a sequence of numbers or Values, a 1-D NumPy row,
    or a single number or Value when ``nin == 1``. Numbers become constant leaves,
    labelled by position (``x[0]``, ``x[1]``, ...) or by ``names``, so drawings and
    reports name them; a Value given is used as it is, with its own label.

    A list or tuple of Values (what one layer hands the next) is checked by
    exact type in one pass, without the abstract ``Sequence`` test.
    """
    kind = type(x)
    if kind is tuple or kind is list:
        items: Sequence[Any] = x
    elif isinstance(x, Value) or is_real(x):
        items = (x,)
    elif isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"{who} expects one example as a 1-D row of {nin} inputs, got "
                             f"an array of shape {x.shape}")
        items = x.tolist()
    elif isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
        items = x
    else:
        raise TypeError(f"{who} expects {nin} inputs as a sequence of numbers or Values or a "
                        f"1-D NumPy row, got {type(x).__name__}")
    if len(items) != nin:
        raise ValueError(f"{who} expects {nin} input{'s' if nin != 1 else ''}, got {len(items)}")
    if set(map(type, items)) == _ONLY_VALUES:
        return items if type(items) is tuple else tuple(items)
    labels = input_labels(nin) if names is None else names
    return tuple(v if isinstance(v, Value) else Value(v, label)
                 for v, label in zip(items, labels))


def layer_sizes(nouts: Any) -> list[int]:
    """``nouts`` as a list of positive ints; ValueError if it is not a non-empty sequence
    of them."""
    if (isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence)
            or len(nouts) == 0):
        raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
    return [check_size(f"nouts[{i}]", n) for i, n in enumerate(nouts)]


_ONLY_VALUES = {Value}


@cache
def input_labels(nin: int) -> tuple[str, ...]:
    """``("x[0]", ..., "x[nin-1]")``, made once per width."""
    return tuple(f"x[{i}]" for i in range(nin))


@cache
def weight_labels(nin: int) -> tuple[str, ...]:
    """``("w[0]", ..., "w[nin-1]")``, made once per width and shared by every neuron of
    that width: a label string per weight would hold as much memory as the Values."""
    return tuple(f"w[{i}]" for i in range(nin))


class Neuron(Module):
    """One unit: act(w . x + b), with ``nin`` weights ``w[i]`` and a bias ``b``.

    ``fan_out`` (the width of the neuron's layer) matters only to Glorot's init.
    """

    activation = Fixed()

    def __init__(self, nin: int, activation: str = "relu", init: str = weight_init.DEFAULT,
                 seed: Seed = None, fan_out: int = 1) -> None:
        self.nin = check_size("nin", nin)
        self.activation = activation
        self._act = activations.get(activation)
        self.init = init
        self.fan_out = check_size("fan_out", fan_out)
        drawn, bias = weight_init.neuron(init, self.nin, self.fan_out, seed)
        self.w = [Value(float(v), label) for v, label in zip(drawn, weight_labels(self.nin))]
        self.b = Value(bias, "b")

    def forward(self, x: Any) -> Value:
        return self.compute(as_inputs(x, self.nin, "Neuron"))

    def compute(self, xs: tuple[Value, ...]) -> Value:
        """act(w . xs + b) on inputs already checked (``nin`` Values)."""
        return self._act(affine(self.w, xs, self.b))

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation, "init": self.init,
                "fan_out": self.fan_out}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """nin weights and a bias: nin + 1."""
        args = cls.config_arguments(config)
        return None if args is None else check_size("nin", args["nin"]) + 1

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation!r}"



_ONLY_NEURONS = {Neuron}
_weights = operator.attrgetter("w")
_bias = operator.attrgetter("b")


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs.

    Returns a list of ``nout`` Values, or a single Value when ``nout == 1`` (as
    micrograd). The neurons draw their weights in turn from one generator made
    from ``seed``.
    """

    activation = Fixed()

    repr_children = False

    def __init__(self, nin: int, nout: int, activation: str = "relu",
                 init: str = weight_init.DEFAULT, seed: Seed = None) -> None:
        self.nin = check_size("nin", nin)
        self.nout = check_size("nout", nout)
        self.activation = activation
        activations.get(activation)
        weight_init.check_scheme(init)
        self.init = init
        rng = weight_init.generator(seed)
        self.neurons = [Neuron(self.nin, activation, init, rng, fan_out=self.nout)
                        for _ in range(self.nout)]

    def forward(self, x: Any) -> Value | list[Value]:
        """Every neuron on the same inputs, checked and read once for the whole layer.

        The neurons' affine nodes are made together (``linear``: W x + b). Each
        neuron's affine node and activation are then tagged with the neuron's own
        scope (``layers.1.neurons.3``), as if it had been called, so drawings box
        them under its name. A subclass of Neuron is called as it is.
        """
        xs = as_inputs(x, self.nin, "Layer")
        neurons = self.neurons
        if set(map(type, neurons)) != _ONLY_NEURONS:
            out = [neuron(xs) for neuron in neurons]
        else:
            pre = linear(list(map(_weights, neurons)), xs, list(map(_bias, neurons)))
            outer = current_scope()
            out = []
            for neuron, z in zip(neurons, pre):
                activated = neuron._act(z)
                name = neuron._scope_name
                if name:
                    z.scope = activated.scope = joined_scope(outer, name)
                out.append(activated)
        return out[0] if self.nout == 1 else out

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation,
                "init": self.init}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """nout neurons of nin + 1 parameters each: (nin + 1) * nout."""
        args = cls.config_arguments(config)
        if args is None:
            return None
        return (check_size("nin", args["nin"]) + 1) * check_size("nout", args["nout"])

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}, activation={self.activation!r}"


class MLP(Module):
    """A multilayer perceptron: layers of sizes ``nin -> nouts[0] -> ... -> nouts[-1]``.

    Hidden layers use ``activation``, the last one ``output_activation``.
    ``MLP(2, [16, 16, 1])`` has (2+1)*16 + (16+1)*16 + (16+1)*1 = 337 parameters.
    """

    activation = Fixed()
    output_activation = Fixed()

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output_activation: str = "linear", init: str = weight_init.DEFAULT,
                 seed: Seed = None) -> None:
        self.nin = check_size("nin", nin)
        self.nouts = layer_sizes(nouts)
        activations.get(activation)
        activations.get(output_activation)
        weight_init.check_scheme(init)
        self.activation = activation
        self.output_activation = output_activation
        self.init = init
        rng = weight_init.generator(seed)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1],
                             output_activation if i == last else activation, init, rng)
                       for i in range(len(self.nouts))]

    def forward(self, x: Any) -> Value | list[Value]:
        out: Any = as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            out = layer(out)
        return out

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "output_activation": self.output_activation, "init": self.init}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """Each layer's (inputs + 1) * outputs, summed over the layers."""
        args = cls.config_arguments(config)
        if args is None:
            return None
        sizes = [check_size("nin", args["nin"]), *layer_sizes(args["nouts"])]
        return sum((a + 1) * b for a, b in pairwise(sizes))

    def extra_repr(self) -> str:
        sizes = " -> ".join(str(n) for n in [self.nin, *self.nouts])
        return (f"{sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}")
