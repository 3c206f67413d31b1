"""Looking inside a GPT: the attention weights of a text, their picture, and the graph of
one position.

The attention weights of head h at position t are the softmax w_s over the positions
s <= t (each row sums to 1, the positions after t get none: the model is causal).
The graph of one position is that position's loss with the positions before it run
without a graph (``no_grad``): their keys and values enter as constants, so the graph
holds one position's embedding, attention heads, MLP and head, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from textwrap import fill
from typing import Any

import numpy as np

from autograd_scalar import Value, gather, logsumexp, no_grad
from autograd_scalar.validate import integer, is_integer

from ..plot import literal, new_figure, save
from .model import GPT
from .tokenizer import CharTokenizer

MASKED = "#d9d9d9"
"""The colour of the cells a position cannot attend to (the positions after it)."""


def attention_weights(model: GPT, tokens: Sequence[int]) -> np.ndarray:
    """Array (n_layer, n_head, T, T): weights[l, h, t, s] = attention of position t on s
    in block l, head h, reading ``tokens`` (T of them); 0 above the diagonal."""
    if not 1 <= len(tokens) <= model.block_size:
        raise ValueError(f"attention_weights: expected 1 to {model.block_size} tokens, "
                         f"got {len(tokens)}")
    caches = model.new_caches()
    with no_grad():
        for t, token in enumerate(tokens):
            model.step(token, t, caches)
    n = len(tokens)
    weights = np.zeros((model.n_layer, model.n_head, n, n))
    for layer, cache in enumerate(caches):
        for t, heads in enumerate(cache.weights):
            for h, row in enumerate(heads):
                weights[layer, h, t, :t + 1] = row
    return weights


def token_labels(tokenizer: CharTokenizer, tokens: Sequence[int]) -> list[str]:
    """The characters of ``tokens``, with the boundary token shown as "<bos>"."""
    return ["<bos>" if t == tokenizer.bos else tokenizer.chars[t] for t in tokens]


def plot_attention(model: GPT, tokenizer: CharTokenizer, text: str, *, layer: int = 0,
                   path: str | None = None) -> Any:
    """One heat map per head of block ``layer``: row t shows where position t looks as
    the model reads [bos] + ``text`` (darker is more attention; the later positions,
    which the causal model cannot see, in grey: ``MASKED``)."""
    integer("layer", layer, 0, model.n_layer - 1)
    tokens = tokenizer.encode(text)[:-1][:model.block_size]
    read = text[:len(tokens) - 1]  # the characters of the block, after [bos]
    weights = attention_weights(model, tokens)[layer]
    labels = [literal(label) for label in token_labels(tokenizer, tokens)]
    width = 3.0 * model.n_head
    figure = new_figure(width, 3.6)
    from matplotlib import colormaps

    colours = colormaps["Blues"].with_extremes(bad=MASKED)
    axes = figure.subplots(1, model.n_head, squeeze=False)[0]
    for h, ax in enumerate(axes):
        shown = np.where(np.tril(np.ones_like(weights[h])) > 0, weights[h], np.nan)
        image = ax.imshow(shown, cmap=colours, vmin=0.0, vmax=1.0)
        ax.set_title(f"head {h}")
        ax.set_xticks(range(len(labels)), labels, fontsize=9, rotation=90)
        ax.set_yticks(range(len(labels)), labels, fontsize=9)
        ax.set_xlabel("attends to")
    axes[0].set_ylabel("position")
    figure.colorbar(image, ax=list(axes), shrink=0.8, label="attention weight")
    cut = f" (the first {len(read)} of its {len(text)} characters fill the block)" \
        if len(read) < len(text) else ""
    # wrapped to the figure's width (at most eight of the title's widest letters an inch)
    figure.suptitle(literal(fill(f"attention of block {layer} reading {read!r}{cut}",
                                 int(width * 8))))
    figure.get_layout_engine().set(h_pad=0.12)  # the title apart from the heads' titles
    save(figure, path, who="plot_attention")
    return figure


def position_loss(model: GPT, tokens: Sequence[int], position: int) -> Value:
    """The loss at ``position`` alone, -log p(tokens[position + 1] | tokens[:position + 1]),
    with the earlier positions run without a graph: the graph of one position."""
    if len(tokens) < 2:
        raise ValueError(f"position_loss: a document needs at least 2 tokens (one to read, "
                         f"one to predict), got {len(tokens)}")
    if not is_integer(position) \
            or not 0 <= position < min(model.block_size, len(tokens) - 1):
        raise ValueError(f"position must be an int from 0 to "
                         f"{min(model.block_size, len(tokens) - 1) - 1}, got {position!r}")
    caches = model.new_caches()
    with no_grad():
        for t in range(position):
            model.step(tokens[t], t, caches)
    logits = model.step(tokens[position], position, caches)
    return logsumexp(logits) - gather(logits, tokens[int(position) + 1])
