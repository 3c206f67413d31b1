"""How a drawing of a graph reads: the order of its nodes, their names, their modules.

Plain functions over Values, shared by every view of a graph (``draw_graph``, the
backward animation, the interactive view), so that all of them put the same nodes
in the same order with the same names and the same module boxes:

- :func:`reading_order`: the nodes in the order a person reads the computation,
  inputs and weights by index (``x[0]`` before ``x[1]``, ``w[0]`` before ``w[15]``,
  neuron 0 before neuron 7). Drawings emit nodes in this order, so that Graphviz
  lays each column out in it, first at the top.
- :func:`parameter_names` and :func:`display_name`: a parameter's dotted name from a
  model (``layers.0.neurons.3.w[1]``) is what a drawing shows for it; other nodes
  show their label.
- :func:`home_scope`, :func:`parent_module` and :func:`module_path`: the module box
  a node belongs in and how the boxes nest (``layers.0.neurons.3`` inside
  ``layers.0``; ``layers`` names a list of modules, not a module, so gets no box).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..value import Value
from .dot_text import shown


def reading_order(root: Value, within: Iterable[Value] | None = None) -> list[Value]:
    """The nodes ``root`` was computed from, each after its inputs, inputs in operand order.

    A depth-first walk from ``root`` that finishes a node once all its inputs are
    finished, visiting inputs in the order the op received them: for
    ``affine(w[0], w[1], x[0], x[1], b)`` that is ``w[0], w[1], x[0], x[1], b``, then
    the affine node. So a layer's neurons come out in index order (neuron 0's
    subgraph is finished before neuron 1's is started), and a node reused by several
    users comes out where its first user needs it. Iterative, so a chain of any
    length is fine. With ``within``, only those nodes are walked and returned (and
    ``root`` must be among them).
    """
    allowed = None if within is None else set(within)
    order: list[Value] = []
    entered = {root}
    stack = [(root, iter(root.children))]
    while stack:
        node, inputs = stack[-1]
        for child in inputs:  # the iterator resumes where this node's walk stopped
            if child not in entered and (allowed is None or child in allowed):
                entered.add(child)
                stack.append((child, iter(child.children)))
                break
        else:
            stack.pop()
            order.append(node)  # each node is entered, so finished, once
    return order


def reading_order_of(outputs: Iterable[Value]) -> list[Value]:
    """Every node behind the outputs in reading order, the first output's first."""
    seen: dict[Value, None] = {}
    for output in outputs:
        seen.update(dict.fromkeys(reading_order(output)))
    return list(seen)


def parameter_names(names: Any, who: str) -> dict[Value, str]:
    """Value -> dotted name, from a model's ``named_parameters()``, (name, Value) pairs
    or a {name: Value} dict; ``None`` gives no names. TypeError for anything else, naming
    ``who``, the function the user called."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        pairs = names.named_parameters()
    elif isinstance(names, Mapping):
        pairs = names.items()
    else:
        pairs = names
    found: dict[Value, str] = {}
    entry = ""
    try:
        for name, value in pairs:
            if not isinstance(name, str) or not isinstance(value, Value):
                entry = (f" whose entry {name!r:.60}: {value!r:.60} is not a str name "
                         "and its Value")
                raise TypeError
            found[value] = name
    except (TypeError, ValueError):
        raise TypeError(f"{who}: names expects a model with named_parameters(), "
                        f"(name, Value) pairs or a {{name: Value}} dict, "
                        f"got {type(names).__name__}{entry}") from None
    return found


def display_name(node: Value, names: Mapping[Value, str]) -> str:
    """What a drawing calls ``node``: its parameter name if ``names`` has one
    (``layers.0.neurons.3.w[1]``, which says which neuron's weight it is, where the
    label alone, ``w[1]``, does not), else its label ("" when it has neither), with no
    direction control to reorder what is written beside it (:func:`~.dot_text.shown`)."""
    return shown(names.get(node) or node.label)


def home_scope(node: Value, names: Mapping[Value, str]) -> str:
    """The module a node belongs in: the scope it was made in, or for a named
    parameter (made outside any call, so with no scope) the module its name says:
    ``layers.0.neurons.3`` for ``layers.0.neurons.3.w[1]``."""
    name = names.get(node, "")
    if node.scope or "." not in name:
        return node.scope
    return name.rsplit(".", 1)[0]


def parent_module(scope: str) -> str:
    """The module around ``scope``: ``layers.0`` for ``layers.0.neurons.3``, "" at the top.

    An index names a place in a list of modules, so ``layers.0.neurons.3`` is inside
    ``layers.0`` (the list ``neurons`` is skipped), and ``layers.0`` is at the top.
    """
    parts = scope.split(".")
    last = parts.pop()
    if last.isdigit() and parts:
        parts.pop()
    return ".".join(parts)


def module_path(scope: str) -> list[str]:
    """The boxes around a node made in ``scope``, outermost first:
    ``["layers.0", "layers.0.neurons.3"]`` for ``layers.0.neurons.3``."""
    path: list[str] = []
    while scope:
        path.append(scope)
        scope = parent_module(scope)
    return path[::-1]
