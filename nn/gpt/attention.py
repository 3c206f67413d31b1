"""Multi-head causal self-attention, one position at a time, with a key/value cache.

At position t the input x_t gives a query, a key and a value (q = W_q x_t, k = W_k
x_t, v = W_v x_t); the key and value join the cache of the positions before. Head h
looks at its own slice of d = n_embd / n_head numbers:

    a_s = q_h . k_{s,h} / sqrt(d)               for every cached position s <= t
    w_s = exp(a_s - logsumexp(a))               (softmax: one ``logsumexp`` node)
    out_h = sum_s w_s v_{s,h}                   (one ``dot`` node per number)

and W_o maps the heads' outputs, side by side, back to n_embd numbers. Attending only
to the cache (the past and the present) is what makes it causal. It is microgpt's
computation, with the softmax taken through ``logsumexp`` instead of subtracting the
logits' largest data (a Python ``max`` a traced program would freeze).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd_scalar import Value, dot, logsumexp, peek, scope

from ..init import Seed, generator
from ..layers import check_size
from ..module import Module
from .layers import Linear


@dataclass
class KVCache:
    """One attention layer's memory of a sequence: the keys and values of the positions
    seen so far, and (data only) the attention weights each position gave them,
    ``weights[t][h][s]`` for head h at position t on position s."""

    keys: list[list[Value]] = field(default_factory=list)
    values: list[list[Value]] = field(default_factory=list)
    weights: list[list[list[float]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)


def softmax(logits: Sequence[Any]) -> list[Value]:
    """exp(l_i - logsumexp(l)): stable at any magnitude, with no ``max`` over data."""
    total = logsumexp(logits)
    return [(logit - total).exp() for logit in logits]


class CausalSelfAttention(Module):
    """``n_head`` heads over ``n_embd`` numbers; call ``attend(x, cache)`` per position."""

    def __init__(self, n_embd: int, n_head: int, std: float = 0.08, seed: Seed = None) -> None:
        self.n_embd = check_size("n_embd", n_embd)
        self.n_head = check_size("n_head", n_head)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head}): "
                             "each head takes an equal slice")
        self.head_dim = self.n_embd // self.n_head
        rng = generator(seed)
        self.wq = Linear(n_embd, n_embd, std, rng)
        self.wk = Linear(n_embd, n_embd, std, rng)
        self.wv = Linear(n_embd, n_embd, std, rng)
        self.wo = Linear(n_embd, n_embd, std, rng)

    def attend(self, x: Sequence[Any], cache: KVCache) -> list[Value]:
        """The attention output at the next position of ``cache``, whose key and value
        are added to it. The nodes of head h are tagged with scope ``head{h}``."""
        q, k, v = self.wq(x), self.wk(x), self.wv(x)
        cache.keys.append(k)
        cache.values.append(v)
        d = self.head_dim
        root = math.sqrt(d)
        heads: list[Value] = []
        shown: list[list[float]] = []
        for h in range(self.n_head):
            lo, hi = h * d, (h + 1) * d
            with scope(f"head{h}"):
                q_h = q[lo:hi]
                logits = [dot(q_h, key[lo:hi]) / root for key in cache.keys]
                weights = softmax(logits)
                heads.extend(dot(weights, [value[j] for value in cache.values])
                             for j in range(lo, hi))
            shown.append([peek(w) for w in weights])
        cache.weights.append(shown)
        return self.wo(heads)

    def forward(self, x: Sequence[Any]) -> list[Value]:
        """Attention of one position on itself alone (a fresh cache)."""
        return self.attend(x, KVCache())

    def extra_repr(self) -> str:
        return f"n_embd={self.n_embd}, n_head={self.n_head}"
