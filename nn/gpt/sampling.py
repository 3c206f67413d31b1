"""Sampling new documents from a trained GPT, one token at a time.

From [bos] (and the tokens of a ``prompt``, if any), each step computes the logits of
the next token, divides them by ``temperature`` and draws the token from
softmax(logits / T) = exp(l / T - logsumexp(l / T)). T < 1 sharpens the distribution
towards the likeliest tokens, T > 1 flattens it. A document ends when ``bos`` is drawn
or the model's ``block_size`` positions are used up. No graph is kept (``no_grad``).
"""

from __future__ import annotations

import math
import random

from autograd_scalar import no_grad

from .attention import softmax
from .model import GPT
from .tokenizer import CharTokenizer


def sample(model: GPT, tokenizer: CharTokenizer, *, temperature: float = 0.5,
           prompt: str = "", rng: random.Random | int | None = None) -> str:
    """One document drawn from ``model``, starting with ``prompt``.

    ``rng`` is a ``random.Random`` (shared across calls), an int seed or None.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if tokenizer.vocab_size != model.vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's "
                         f"vocab_size is {model.vocab_size}")
    start = [tokenizer.bos, *tokenizer.encode(prompt, boundaries=False)]
    if len(start) > model.block_size:
        raise ValueError(f"the prompt has {len(prompt)} characters; at most "
                         f"{model.block_size - 1} fit in block_size {model.block_size}")
    generator = rng if isinstance(rng, random.Random) else random.Random(rng)
    tokens = list(start)
    choices = range(model.vocab_size)
    with no_grad():
        caches = model.new_caches()
        for position in range(model.block_size):
            logits = model.step(tokens[position], position, caches)
            if position + 1 < len(tokens):
                continue  # still reading the prompt
            probs = softmax([logit / temperature for logit in logits])
            token = generator.choices(choices, weights=[p.data for p in probs])[0]
            if token == tokenizer.bos:
                break
            tokens.append(token)
    return tokenizer.decode(tokens)


def samples(model: GPT, tokenizer: CharTokenizer, n: int, *, temperature: float = 0.5,
            prompt: str = "", seed: int | None = None) -> list[str]:
    """``n`` documents drawn in turn from one generator seeded with ``seed``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    rng = random.Random(seed)
    return [sample(model, tokenizer, temperature=temperature, prompt=prompt, rng=rng)
            for _ in range(n)]
