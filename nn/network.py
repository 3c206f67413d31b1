"""Network: a free-form feed-forward net, built one unit and one connection at a time.

Units are inputs or neurons. A neuron computes act(sum_j w_j x_j + b) over the
units connected into it; any unit may feed any neuron, so skip connections are
allowed, as in the XOR network of Rumelhart, Hinton and Williams (1986): two
inputs, one hidden unit, one output unit, and direct input -> output connections
besides the path through the hidden unit. Connections that would close a cycle
are refused, and the net is evaluated in topological order.

Parameter names read as the drawing does: ``"h.w[x1]"`` is the weight of the
connection x1 -> h and ``"h.b"`` the bias of h; the nodes of unit h are made in
scope ``"h"``. The outputs are the neurons that feed no other unit, in the order
they were added.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from autograd_scalar import Value, affine, dot, scope
from autograd_scalar.validate import flag, real

from . import activations
from .init import Seed, generator
from .layers import as_inputs
from .module import Module


@dataclass
class Unit:
    """One unit: an input (no parameters) or a neuron with weights from earlier units."""

    name: str
    activation: str | None = None
    bias: Value | None = None
    weights: dict[str, Value] = field(default_factory=dict)

    @property
    def is_input(self) -> bool:
        return self.activation is None


class Network(Module):
    """A feed-forward network of individually added units and connections.

    New weights are drawn from U(-weight_range, weight_range) with a generator
    made from ``seed``, unless ``connect`` is given a weight; biases start at 0.
    """

    def __init__(self, weight_range: float = 1.0, seed: Seed = None) -> None:
        real("weight_range", weight_range, 0)
        self.weight_range = float(weight_range)
        self._rng = generator(seed)
        self._units: dict[str, Unit] = {}
        self._feeds: dict[str, list[str]] = {}  # each unit's targets, kept as connected
        self._order: list[Unit] | None = None

    # -- building --------------------------------------------------------------

    def add_input(self, name: str) -> str:
        """Add an input unit; inputs take the values of ``x`` in the order they were added."""
        self._units[self._new_name(name)] = Unit(name)
        self._order = None
        return name

    def add_neuron(self, name: str, activation: str = "sigmoid", bias: bool = True) -> str:
        """Add a neuron computing act(sum of weighted inputs + b); connect into it next."""
        self._new_name(name)
        activations.get(activation)
        flag("bias", bias)
        self._units[name] = Unit(name, activation, Value(0.0, "b") if bias else None)
        self._order = None
        return name

    def connect(self, source: str, target: str, weight: float | None = None) -> Value:
        """Connect unit ``source`` into neuron ``target``; returns the new weight.

        ValueError for an unknown unit, a target that is an input, a connection that
        exists already or one that would close a cycle; nothing changes then.
        """
        given = None if weight is None else Value(weight).data
        if given is not None and not math.isfinite(given):
            raise ValueError(f"Network.connect: weight must be finite, got {given}")
        dst = self._connectable(source, target)
        path = self._path(target, source)
        if path is not None:
            raise ValueError(f"connecting {source!r} -> {target!r} would make a cycle: "
                             f"{' -> '.join([source, *path])}")
        if given is None:
            given = float(self._rng.uniform(-self.weight_range, self.weight_range))
        return self._link(source, dst, given)

    def _connectable(self, source: str, target: str) -> Unit:
        """The unit ``target``, after checking that ``source`` -> ``target`` may be added
        (both known, the target a neuron, not connected yet); cycles are not checked."""
        self._unit(source)
        dst = self._unit(target)
        if dst.is_input:
            raise ValueError(f"cannot connect into {target!r}: it is an input unit")
        if source in dst.weights:
            raise ValueError(f"{source!r} -> {target!r} is connected already")
        return dst

    def _link(self, source: str, dst: Unit, weight: float) -> Value:
        """Add the checked connection ``source`` -> ``dst`` with ``weight``."""
        w = Value(weight, f"w[{source}]")
        dst.weights[source] = w
        self._feeds.setdefault(source, []).append(dst.name)
        self._order = None
        return w

    def _new_name(self, name: str) -> str:
        if not isinstance(name, str) or not name or any(c in name for c in ".[] "):
            raise ValueError(f"a unit name must be a non-empty str without '.', '[', ']' or "
                             f"spaces, got {name!r}")
        if name in self._units:
            raise ValueError(f"there is already a unit named {name!r}")
        return name

    def _unit(self, name: str) -> Unit:
        try:
            return self._units[name]
        except (KeyError, TypeError):
            known = ", ".join(repr(n) for n in self._units) or "none yet"
            raise ValueError(f"unknown unit {name!r}; the units are {known}") from None

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path start -> ... -> goal along existing connections, or None (a search of
        the units reachable from ``start`` only)."""
        feeds = self._feeds
        came_from: dict[str, str | None] = {start: None}
        stack = [start]
        while stack:
            here = stack.pop()
            if here == goal:
                path = [here]
                while (previous := came_from[path[-1]]) is not None:
                    path.append(previous)
                return path[::-1]
            for nxt in feeds.get(here, []):
                if nxt not in came_from:
                    came_from[nxt] = here
                    stack.append(nxt)
        return None

    # -- reading ---------------------------------------------------------------

    @property
    def inputs(self) -> list[str]:
        """The input units' names, in the order ``x`` supplies them."""
        return [u.name for u in self._units.values() if u.is_input]

    @property
    def neurons(self) -> list[str]:
        """The neurons' names, in the order they were added."""
        return [u.name for u in self._units.values() if not u.is_input]

    @property
    def outputs(self) -> list[str]:
        """The neurons that feed no other unit, in the order they were added."""
        sources = {s for u in self._units.values() for s in u.weights}
        return [n for n in self.neurons if n not in sources]

    @property
    def connections(self) -> list[tuple[str, str, Value]]:
        """Every connection as (source, target, weight)."""
        return [(s, u.name, w) for u in self._units.values() for s, w in u.weights.items()]

    def weight(self, source: str, target: str) -> Value:
        """The weight of the connection source -> target."""
        dst = self._unit(target)
        self._unit(source)
        if source not in dst.weights:
            raise ValueError(f"{source!r} is not connected into {target!r}")
        return dst.weights[source]

    def bias(self, name: str) -> Value:
        """The bias of neuron ``name``."""
        unit = self._unit(name)
        if unit.bias is None:
            raise ValueError(f"{name!r} has no bias")
        return unit.bias

    def topological_order(self) -> list[str]:
        """Every unit, each after all the units that feed it (Kahn's algorithm)."""
        return [u.name for u in self._ordered()]

    def _ordered(self) -> list[Unit]:
        if self._order is None:
            order, waiting = self._kahn()
            if waiting:  # connect refuses cycles, so only a bug could bring one here
                made = [(source, target) for source, target, _ in self.connections]
                raise ValueError(self._cycle_message(waiting, made))
            self._order = order
        return self._order

    def _kahn(self) -> tuple[list[Unit], dict[str, int]]:
        """Kahn's algorithm: the units in an order where each comes after the units feeding
        it, and the units left out with how many of their sources were left out too (none
        unless the connections hold a cycle).

        Of the units ready at once, the one added first goes first (a heap on the order
        of ``add_input``/``add_neuron``, in time (units + connections) log units). The
        order thus depends on the units and which feed which, not on the order the
        connections were made, which a saved network's config does not keep: a network
        rebuilt from it (``nn.load``, ``nn.from_torch``) orders its units the same, and
        the PyTorch export's ``units.K`` name the same neurons in both."""
        place = {name: k for k, name in enumerate(self._units)}
        waiting = {u.name: len(u.weights) for u in self._units.values()}
        ready = [(place[n], n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[Unit] = []
        while ready:
            _, name = heapq.heappop(ready)
            del waiting[name]
            order.append(self._units[name])
            for nxt in self._feeds.get(name, ()):
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    heapq.heappush(ready, (place[nxt], nxt))
        return order, waiting

    def _cycle_message(self, waiting: dict[str, int], made: list[Any]) -> str:
        """Why the units in ``waiting`` (left out by :meth:`_kahn`) have no order: one
        cycle among them, named by the connection on it that comes last in ``made``
        (the (source, target) pairs in the order they were made).

        Each unit left out has a source that was left out too, so walking from any of
        them to such a source must come back to a unit already seen: that is a cycle.
        """
        seen: dict[str, int] = {}
        walk: list[str] = []
        name = next(iter(waiting))
        while name not in seen:
            seen[name] = len(walk)
            walk.append(name)
            name = next(s for s in self._units[name].weights if s in waiting)
        cycle = walk[seen[name]:][::-1]  # sources first: cycle[i] feeds cycle[i + 1]
        edges = [(cycle[i - 1], cycle[i]) for i in range(len(cycle))]
        position = {(s, t): i for i, (s, t) in enumerate(made) if s in seen and t in seen}
        source, target = max(edges, key=position.__getitem__)
        start = cycle.index(target)
        around = cycle[start:] + cycle[:start]  # target -> ... -> source
        return (f"connecting {source!r} -> {target!r} would make a cycle: "
                f"{' -> '.join([source, *around])}")

    def named_own_parameters(self) -> Iterator[tuple[str, Value]]:
        for unit in self._units.values():
            for source, w in unit.weights.items():
                yield f"{unit.name}.w[{source}]", w
            if unit.bias is not None:
                yield f"{unit.name}.b", unit.bias

    # -- saving ----------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The units in the order they were added and the connections (source, target) in
        the order of ``connections``: enough to build the same network again."""
        units = [{"name": u.name, "activation": u.activation, "bias": u.bias is not None}
                 for u in self._units.values()]
        return {"weight_range": self.weight_range, "units": units,
                "connections": [[source, target] for source, target, _ in self.connections]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Network:
        """A network with the units and connections of ``config`` (weights 0, to be loaded)."""
        units, connections = config.get("units"), config.get("connections")
        if set(config) != {"weight_range", "units", "connections"} or not (
                isinstance(units, list) and isinstance(connections, list)):
            raise ValueError("a Network's config has \"weight_range\", \"units\" (a list) "
                             "and \"connections\" (a list)")
        network = cls(config["weight_range"], seed=0)
        for unit in units:
            if not isinstance(unit, dict) or set(unit) != {"name", "activation", "bias"}:
                raise ValueError(f"a unit is an object with \"name\", \"activation\" and "
                                 f"\"bias\", got {str(unit)[:100]}")
            if unit["activation"] is None:
                network.add_input(unit["name"])
            else:
                network.add_neuron(unit["name"], unit["activation"], unit["bias"])
        for pair in connections:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"a connection is a [source, target] pair, got "
                                 f"{str(pair)[:100]}")
            network._link(pair[0], network._connectable(pair[0], pair[1]), 0.0)
        order, waiting = network._kahn()  # one sort for all of them, not a search per pair
        if waiting:
            raise ValueError(network._cycle_message(waiting, [tuple(p) for p in connections]))
        network._order = order
        return network

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """One weight per connection and one bias per neuron made with ``bias`` true;
        None for a config ``from_config`` would refuse anyway."""
        units, connections = config.get("units"), config.get("connections")
        if not (isinstance(units, list) and isinstance(connections, list)
                and all(isinstance(unit, dict) for unit in units)
                and all(isinstance(pair, list) and len(pair) == 2 for pair in connections)):
            return None
        biases = sum(1 for unit in units
                     if unit.get("activation") is not None and unit.get("bias") is True)
        return len(connections) + biases

    # -- computing -------------------------------------------------------------

    def forward(self, x: Any) -> Value | list[Value]:
        """The outputs for one example ``x`` (one value per input unit)."""
        outputs = self.outputs
        if not outputs:
            raise ValueError("the network has no neurons; add_neuron and connect first")
        inputs = self.inputs
        values: dict[str, Value] = dict(zip(inputs, as_inputs(x, len(inputs), "Network", inputs)))
        for unit in self._ordered():
            if unit.is_input:
                continue
            with scope(unit.name):
                ws = list(unit.weights.values())
                xs = [values[s] for s in unit.weights]
                if unit.bias is None:
                    z = dot(ws, xs)
                elif ws:
                    z = affine(ws, xs, unit.bias)
                else:  # a neuron with no connections in: its bias alone, as a node
                    z = dot(ws, xs) + unit.bias
                values[unit.name] = activations.get(unit.activation or "linear")(z)
        result = [values[n] for n in outputs]
        return result[0] if len(result) == 1 else result

    def extra_repr(self) -> str:
        parts = [f"inputs={self.inputs}"]
        for unit in self._units.values():
            if unit.is_input:
                continue
            sources = [*unit.weights, *(["bias"] if unit.bias is not None else [])]
            parts.append(f"{unit.name}={unit.activation}({', '.join(sources)})")
        return ", ".join(parts)
