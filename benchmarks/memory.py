"""Memory per node: tracemalloc around a long chain x -> (x * c).relu() -> ...

Each link makes two op nodes and one constant leaf (the lifted c); the bytes of all
three count, divided by the number of op nodes. Both libraries build the same chain.
"""

from __future__ import annotations

import gc
import tracemalloc


def bytes_per_node(value: type, links: int = 50_000) -> float:
    """Bytes allocated and still alive per op node of the chain (constants included)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    x = value(0.5)
    for _ in range(links):
        x = (x * 1.0).relu()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del x
    return (after - before) / (2 * links)
