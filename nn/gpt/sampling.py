"""Sampling new documents from a trained GPT, one token at a time.

From [bos] (and the tokens of a ``prompt``, if any), each step computes the logits of
the next token, divides them by ``temperature`` and draws the token from
softmax(logits / T), in proportion to exp((l - max l) / T). T < 1 sharpens the
distribution towards the likeliest tokens, T > 1 flattens it. A document ends when ``bos`` is drawn
or the model's ``block_size`` positions are used up. No graph is kept (``no_grad``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd_scalar import Value, no_grad
from autograd_scalar.validate import integer, is_integer, real

from .model import GPT
from .tokenizer import CharTokenizer

MIN_TEMPERATURE = 1e-308
"""A round lower bound of the temperatures whose reciprocal is a finite float."""


def check_temperature(temperature: float) -> float:
    """``temperature`` as a float; ValueError unless it is a finite number > 0 whose
    reciprocal is finite too (the logits are divided by it: 5e-324 would make them inf)."""
    real("temperature", temperature, 0, low_open=True)
    if not math.isfinite(1.0 / temperature):
        raise ValueError(f"temperature {temperature!r} is too small: 1 / temperature "
                         f"overflows; expected at least {MIN_TEMPERATURE:g}")
    return float(temperature)


def prompt_tokens(model: GPT, tokenizer: CharTokenizer, prompt: str) -> list[int]:
    """[bos, the prompt's tokens]: where sampling starts. ValueError if the tokenizer does
    not fit the model, a character of the prompt is not in the vocabulary, or the
    prompt does not fit in the model's ``block_size``.

    Everything ``sample`` checks, so a caller can check it before training for long.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be an nn.gpt.GPT, got {type(model).__name__}")
    if not isinstance(tokenizer, CharTokenizer):
        raise TypeError(f"tokenizer must be an nn.gpt.CharTokenizer, got "
                        f"{type(tokenizer).__name__}")
    if tokenizer.vocab_size != model.vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's "
                         f"vocab_size is {model.vocab_size}")
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str ('' for none), got {type(prompt).__name__}")
    start = [tokenizer.bos, *tokenizer.encode(prompt, boundaries=False)]
    if len(start) > model.block_size:
        raise ValueError(f"the prompt has {len(prompt)} characters; at most "
                         f"{model.block_size - 1} fit in block_size {model.block_size}")
    return start


def sample(model: GPT, tokenizer: CharTokenizer, *, temperature: float = 0.5,
           prompt: str = "", rng: random.Random | int | None = None) -> str:
    """One document drawn from ``model``, starting with ``prompt``.

    ``rng`` is a ``random.Random`` (shared across calls), an int seed, None, or a
    ``numpy.random.Generator`` (which gives the seed of this document's draws, so it
    too advances from call to call).
    """
    temperature = check_temperature(temperature)
    start = prompt_tokens(model, tokenizer, prompt)
    before = _state(rng)
    generator = python_random(rng)
    tokens = list(start)
    choices = range(model.vocab_size)
    try:
        with no_grad():
            caches = model.new_caches()
            for position in range(model.block_size):
                logits = model.step(tokens[position], position, caches)
                if position + 1 < len(tokens):
                    continue  # still reading the prompt
                token = generator.choices(choices, weights=weights(logits, temperature,
                                                                   position))[0]
                if token == tokenizer.bos:
                    break
                tokens.append(token)
    except DivergedModelError:  # the caller's generator as it was: no name was drawn
        _restore(rng, before)
        raise
    return tokenizer.decode(tokens)


def _state(rng: object) -> Any:
    """The state of a generator the caller shares (a ``random.Random`` or a NumPy
    Generator), to put back if no document comes of its draws; None for a seed."""
    if isinstance(rng, random.Random):
        return rng.getstate()
    if isinstance(rng, np.random.Generator):
        return rng.bit_generator.state
    return None


def _restore(rng: object, state: Any) -> None:
    if isinstance(rng, random.Random):
        rng.setstate(state)
    elif isinstance(rng, np.random.Generator):
        rng.bit_generator.state = state


class DivergedModelError(ValueError):
    """Sampling met logits that are not finite: the model's parameters diverged."""


def python_random(rng: object, name: str = "rng") -> random.Random:
    """The ``random.Random`` that draws the tokens, from what ``sample`` takes as ``rng``
    (``samples`` as ``seed``, its ``name``); TypeError naming what is accepted for
    anything else (a float or a str would otherwise seed Python's generator silently)."""
    if isinstance(rng, random.Random):
        return rng
    if is_integer(rng) and int(rng) < 0:  # random.Random(-3) would be random.Random(3)
        raise ValueError(f"{name}: a seed must be >= 0, got {rng}")
    if rng is None or is_integer(rng):
        return random.Random(None if rng is None else int(rng))
    if isinstance(rng, np.random.Generator):
        return random.Random(int(rng.integers(2**63)))
    raise TypeError(f"{name} must be a random.Random, an int seed, a numpy.random.Generator "
                    f"or None, got {type(rng).__name__}: {rng!r}"[:200])


def weights(logits: list[Value], temperature: float, position: int = 0) -> list[float]:
    """exp((l_i - max l) / T): softmax(logits / T) times a constant, which is all
    ``random.choices`` needs. Subtracting the largest logit before dividing keeps every
    exponent <= 0, so a tiny T cannot overflow (l / T could: 3 / 1e-308 is inf).

    DivergedModelError if a logit is not finite (a model that diverged in training),
    naming ``position``, the place of the token being drawn."""
    data = [logit.data for logit in logits]
    if not all(map(math.isfinite, data)):
        bad = next(x for x in data if not math.isfinite(x))
        raise DivergedModelError(f"cannot sample: the model's logits at position {position} are "
                         f"not finite ({bad}); its parameters have diverged (train it again "
                         "with a smaller learning rate)")
    top = max(data)
    return [math.exp((x - top) / temperature) for x in data]


def samples(model: GPT, tokenizer: CharTokenizer, n: int, *, temperature: float = 0.5,
            prompt: str = "", seed: int | None = None) -> list[str]:
    """``n`` documents drawn in turn from one generator: ``seed`` is what ``sample`` takes
    as ``rng`` (an int seed, NumPy's included, a ``random.Random``, a NumPy Generator or
    None); every argument is checked first, ``n = 0`` too."""
    return list(drawn(model, tokenizer, n, temperature=temperature, prompt=prompt, seed=seed))


def drawn(model: GPT, tokenizer: CharTokenizer, n: int, *, temperature: float = 0.5,
          prompt: str = "", seed: int | None = None) -> Iterator[str]:
    """:func:`samples` one at a time, each drawn when it is asked for (the arguments are
    checked at once): for a caller that shows each as it comes."""
    integer("n", n, 0)
    check_temperature(temperature)
    prompt_tokens(model, tokenizer, prompt)
    rng = python_random(seed, "seed")
    return (sample(model, tokenizer, temperature=temperature, prompt=prompt, rng=rng)
            for _ in range(n))
