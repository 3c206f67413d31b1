"""GPT: microgpt's transformer on single numbers, one position at a time.

For token k at position t (with the cache of the positions before it):

    x = rmsnorm(wte[k] + wpe[t])
    for each block:   x = x + attn(rmsnorm(x))              (causal, multi-head)
                      x = x + fc2(relu(fc1(rmsnorm(x))))    (4 n_embd hidden units)
    logits = lm_head(x)

No biases, RMSNorm without a gain, ReLU in the MLP. With microgpt's sizes
(``GPT(27)``: 16-number embeddings, 4 heads, 1 block, 16 positions) it has
27*16 + 16*16 + 4*16*16 + 2*4*16*16 + 27*16 = 4,192 parameters. The loss of a document
is the mean over its positions of -log p(next token) = logsumexp(logits) - logits[target],
the target's logit read through a ``gather`` node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd_scalar import Value, gather, logsumexp, scope
from autograd_scalar import sum as value_sum
from autograd_scalar.validate import is_integer, real

from ..init import Seed, generator
from ..layers import check_size
from ..module import Module
from .attention import CausalSelfAttention, KVCache
from .layers import Embedding, Linear, RMSNorm


class FeedForward(Module):
    """fc2(relu(fc1(x))): ``n_embd`` -> ``hidden`` -> ``n_embd``, no biases."""

    def __init__(self, n_embd: int, hidden: int, std: float = 0.08, seed: Seed = None) -> None:
        rng = generator(seed)
        self.fc1 = Linear(n_embd, hidden, std, rng)
        self.fc2 = Linear(hidden, n_embd, std, rng)

    def forward(self, x: Sequence[Any]) -> list[Value]:
        return self.fc2([h.relu() for h in self.fc1(x)])


class Block(Module):
    """One transformer block: attention then MLP, each on RMS-normed input, each added
    back to its input (the residual stream)."""

    def __init__(self, n_embd: int, n_head: int, std: float = 0.08, seed: Seed = None) -> None:
        rng = generator(seed)
        self.norm1 = RMSNorm()
        self.attn = CausalSelfAttention(n_embd, n_head, std, rng)
        self.norm2 = RMSNorm()
        self.mlp = FeedForward(n_embd, 4 * n_embd, std, rng)

    def step(self, x: Sequence[Any], cache: KVCache) -> list[Value]:
        """The block at the next position of ``cache``."""
        normed = self.norm1(x)
        with scope("attn"):
            attended = self.attn.attend(normed, cache)
        x = [a + r for a, r in zip(attended, x)]
        return [m + r for m, r in zip(self.mlp(self.norm2(x)), x)]

    def forward(self, x: Sequence[Any]) -> list[Value]:
        """The block on one position alone (a fresh cache)."""
        return self.step(x, KVCache())


class GPT(Module):
    """A GPT over ``vocab_size`` tokens: microgpt's architecture, sizes as arguments.

    ``std`` is the standard deviation of every initial weight (microgpt's 0.08) and
    ``seed`` makes them reproducible. ``model.step(token, position, caches)`` gives the
    logits of the next token; ``model(tokens)`` the logits at every position of a
    sequence; ``model.loss(tokens)`` the mean next-token loss of a document.
    """

    def __init__(self, vocab_size: int, n_embd: int = 16, n_head: int = 4, n_layer: int = 1,
                 block_size: int = 16, std: float = 0.08, seed: Seed = None) -> None:
        self.vocab_size = check_size("vocab_size", vocab_size)
        self.n_embd = check_size("n_embd", n_embd)
        self.n_head = check_size("n_head", n_head)
        self.n_layer = check_size("n_layer", n_layer)
        self.block_size = check_size("block_size", block_size)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head}): "
                             "each head takes an equal slice")
        self.std = real("std", std, 0.0, who="GPT")
        rng = generator(seed)
        self.wte = Embedding(self.vocab_size, self.n_embd, self.std, rng)
        self.wpe = Embedding(self.block_size, self.n_embd, self.std, rng)
        self.norm = RMSNorm()
        self.blocks = [Block(self.n_embd, self.n_head, self.std, rng) for _ in range(self.n_layer)]
        self.lm_head = Linear(self.n_embd, self.vocab_size, self.std, rng)

    def new_caches(self) -> list[KVCache]:
        """An empty key/value cache for each block: the start of a sequence."""
        return [KVCache() for _ in self.blocks]

    def step(self, token: Any, position: int, caches: list[KVCache]) -> list[Value]:
        """The logits of the token after ``token`` at ``position`` (0-based); the
        position's keys and values join ``caches`` (one per block, from ``new_caches``)."""
        if not is_integer(position) or not 0 <= position < self.block_size:
            raise ValueError(f"GPT: position must be an int from 0 to {self.block_size - 1} "
                             f"(block_size {self.block_size}), got {position!r}")
        position = int(position)
        if len(caches) != self.n_layer or any(len(c) != position for c in caches):
            raise ValueError(f"GPT: expected {self.n_layer} cache(s) holding the {position} "
                             f"position(s) before position {position}, got lengths "
                             f"{[len(c) for c in caches]}")
        x = [t + p for t, p in zip(self.wte(token), self.wpe(position))]
        x = self.norm(x)
        for i, (block, cache) in enumerate(zip(self.blocks, caches)):
            with scope(f"blocks.{i}"):
                x = block.step(x, cache)
        return self.lm_head(x)

    def forward(self, tokens: Sequence[Any]) -> list[list[Value]]:
        """The logits after each token of ``tokens`` (at most ``block_size`` of them)."""
        if len(tokens) > self.block_size:
            raise ValueError(f"GPT: at most block_size = {self.block_size} tokens, "
                             f"got {len(tokens)}")
        caches = self.new_caches()
        return [self.step(token, t, caches) for t, token in enumerate(tokens)]

    def loss(self, tokens: Sequence[Any], caches: list[KVCache] | None = None) -> Value:
        """Mean next-token loss of a document's tokens: each token predicts the next,
        for the first min(block_size, len - 1) positions (``position_losses``, averaged).

        ``caches`` (from ``new_caches``) keep the attention weights for a picture.
        """
        losses = self.position_losses(tokens, caches)
        return (1 / len(losses)) * value_sum(losses)

    def position_losses(self, tokens: Sequence[Any],
                        caches: list[KVCache] | None = None) -> list[Value]:
        """-log p(tokens[t + 1] | tokens[:t + 1]) for t < min(block_size, len - 1):
        logsumexp(logits) - gather(logits, target), the target read through a ``gather``
        node. ``tokens`` may be ints or Values holding them (a traced program's inputs).
        """
        if len(tokens) < 2:
            raise ValueError(f"GPT.loss: a document needs at least 2 tokens (one to read, one "
                             f"to predict), got {len(tokens)}")
        caches = self.new_caches() if caches is None else caches
        losses = []
        for t in range(min(self.block_size, len(tokens) - 1)):
            logits = self.step(tokens[t], t, caches)
            losses.append(logsumexp(logits) - gather(logits, tokens[t + 1]))
        return losses

    def config(self) -> dict[str, Any]:
        """The sizes that make this architecture again: ``nn.load`` rebuilds a GPT with them."""
        return {"vocab_size": self.vocab_size, "n_embd": self.n_embd, "n_head": self.n_head,
                "n_layer": self.n_layer, "block_size": self.block_size, "std": self.std}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """Token and position tables and the output map, (2 vocab_size + block_size)
        n_embd, and per block 4 n_embd^2 for attention and 8 n_embd^2 for the MLP."""
        args = cls.config_arguments(config)
        if args is None:
            return None
        vocab, embd = check_size("vocab_size", args["vocab_size"]), check_size(
            "n_embd", args["n_embd"])
        layers, block = check_size("n_layer", args["n_layer"]), check_size(
            "block_size", args["block_size"])
        return (2 * vocab + block) * embd + layers * 12 * embd * embd

    def graph_ops(self, positions: int) -> int:
        """The op nodes of the loss graph of one document read at ``positions`` positions:
        what a training step keeps per document (eagerly as Values, compiled as rows of
        its arrays, the shorter documents of a batch padded to its longest).

        With E = n_embd, H = n_head, L = n_layer, V = vocab_size and n = positions: at
        each position t (from 0), the embeddings and their sum 3E, the first RMSNorm
        E + 4, the logits and the loss V + 3; per block its two RMSNorms 2E + 8, q, k,
        v and the output map 4E, the heads' outputs E, the MLP 9E, the residuals 2E,
        and per head the scores, their scaling and softmax over the t + 1 positions
        seen, 4 (t + 1) + 1; then 2 for the mean:

            n (4E + 7 + V + L (18E + 8 + H)) + 2 H L n (n + 1) + 2
        """
        n = check_size("positions", positions)
        E, H, L, V = self.n_embd, self.n_head, self.n_layer, self.vocab_size
        return n * (4 * E + 7 + V + L * (18 * E + 8 + H)) + 2 * H * L * n * (n + 1) + 2

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, n_embd={self.n_embd}, n_head={self.n_head}, "
                f"n_layer={self.n_layer}, block_size={self.block_size}")
