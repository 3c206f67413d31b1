"""Reading DOT text back in tests: nodes, edges and attributes, and small test graphs."""

from __future__ import annotations

import math
import re

from autograd_scalar import Value

STATEMENT = re.compile(r'^\s*("?[\w.]+"?)(?: -> ("?[\w.]+"?))?(?: \[(.*)\])?$')
ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^ \]]+)')

W1_BIAS = 6.8813735870195432


def attributes(text: str) -> dict[str, str]:
    """``a=1 b="x y"`` -> {"a": "1", "b": "x y"} (DOT escapes kept as written)."""
    found = {}
    for key, value in ATTRIBUTE.findall(text or ""):
        found[key] = value[1:-1] if value.startswith('"') else value
    return found


def nodes(source: str) -> dict[str, dict[str, str]]:
    """Node id -> attributes, for every node statement (not graph/node/edge defaults)."""
    found = {}
    for line in source.splitlines():
        match = STATEMENT.match(line)
        if match and match.group(2) is None and match.group(1) not in ("graph", "node", "edge"):
            found[match.group(1).strip('"')] = attributes(match.group(3))
    return found


def edges(source: str) -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for line in source.splitlines():
        match = STATEMENT.match(line)
        if match and match.group(2) is not None:
            found.append((match.group(1).strip('"'), match.group(2).strip('"'),
                          attributes(match.group(3))))
    return found


def records(source: str) -> dict[str, dict[str, str]]:
    """The Value records only (shape=record, or Mrecord for a compact op node)."""
    return {k: v for k, v in nodes(source).items() if v.get("shape") in ("record", "Mrecord")}


def record_fields(attrs: dict[str, str]) -> list[str]:
    label = attrs["label"].strip()
    assert label.startswith("{") and label.endswith("}")
    return [part.strip() for part in re.split(r"(?<!\\)\|", label[1:-1])]


def by_label(source: str, label: str) -> dict[str, str]:
    """The record whose fields include ``label``."""
    matches = [a for a in records(source).values() if label in record_fields(a)]
    assert len(matches) == 1, f"{len(matches)} records labelled {label!r}"
    return matches[0]


def neuron() -> dict[str, Value]:
    """The classic single neuron o = tanh(x1 w1 + x2 w2 + b), with tanh(n) = 1/sqrt(2)."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(W1_BIAS, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n, "o": o}


def expected_neuron_grads() -> dict[str, float]:
    """Closed forms: do/dn = 1 - tanh(n)^2, do/dx1 = w1 do/dn, do/dw1 = x1 do/dn, ..."""
    t = math.tanh(-6.0 + W1_BIAS)
    dn = 1.0 - t * t
    return {"o": 1.0, "n": dn, "b": dn, "x1": -3.0 * dn, "w1": 2.0 * dn, "x2": 1.0 * dn,
            "w2": 0.0 * dn}
