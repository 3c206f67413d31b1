"""Compiled GPT training: one traced program per sequence length, parameters as arrays.

A document of m + 1 tokens is read at n = min(block_size, m) positions. Its loss graph
has the same shape for every document of n positions, because the tokens enter it as
data, through ``gather`` nodes (the token embeddings and the targets' logits). So
its trainer traces, the first time it meets n positions,

    loss(tokens, weights) = sum_t weights_t (logsumexp(logits_t) - gather(logits_t, tokens_{t+1}))

with ``autograd_scalar.compile``: the n + 1 tokens and the n weights are per-example
inputs, and the program is kept and reused for every later document, or batch of
documents, of that length. This is ``fit``'s trainer, :class:`nn.compiled.CompiledTraining`,
given that function of one example (:func:`gpt_training`).

A batch of B documents runs as one batch of the program of its longest document,
n_max positions. A document of n_d < n_max positions is padded with ``bos`` tokens
and a mask in the weights: weights_t = 1 / n_d for t < n_d and 0 after. Attention is
causal, so the padding never changes the positions before it, and with weight 0 it
sends no gradient: each document's loss is exactly its own mean loss (``GPT.loss``).
The batch's loss is the mean over its documents, as eager training computes it:

    L = (1/B) sum_d (1/n_d) sum_{t < n_d} -log p(x_{d,t+1} | x_{d,<=t})

The parameters live in the current program's shared arrays, in the optimizer's
order; a step runs the forward and backward on the batch and lets the optimizer
update the arrays (``Optimizer.step_arrays``): no ``Value`` is read or written. A
batch of another length switches programs and carries the numbers over. ``push()``
writes the arrays (and the last gradient) to the model's Values, ``pull()`` reads
the Values back (after someone changed them).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from autograd_scalar import Value, dot
from autograd_scalar.validate import integer, is_real

from ..compiled import CompiledTraining
from ..optim import Optimizer
from .model import GPT


def gpt_training(model: GPT, optimizer: Optimizer, dtype: str = "float64"
                 ) -> CompiledTraining:
    """Compiled training of ``model``: :class:`nn.compiled.CompiledTraining` on the masked
    sequence loss, one tape per number of positions (see the module docstring). Step it
    on a padded batch: ``training.step(*pad_batch(documents, vocab_size, block_size))``
    returns the batch's mean loss before the update (and no outputs)."""
    if not isinstance(model, GPT):
        raise TypeError(f"gpt_training expects a GPT, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"gpt_training expects an nn.optim optimizer, got "
                        f"{type(optimizer).__name__}")
    held = set(optimizer.params)
    if held != set(model.parameters()):
        missing = [name for name, p in model.named_parameters() if p not in held]
        raise ValueError(f"gpt_training: the optimizer must hold exactly the model's "
                         f"{len(model.parameters())} parameters; it holds "
                         f"{len(optimizer.params)}, missing {missing[:3]}")

    def example(tokens: Sequence[Value], weights: Sequence[Value]) -> Value:
        return dot(weights, model.position_losses(tokens))

    # grouped steps, not the cost model's mix with straight-line code: the per-position maps
    # run as batched matrix products and the embedding and target gathers as lookups, which
    # code cannot do, and training meets each length a few dozen times, so writing the code
    # of a length costs more than it saves (see the recipe and the batched row in
    # benchmarks/gpt_compiled.py)
    return CompiledTraining(model, None, optimizer, dtype=dtype, example=example,
                            strategy="grouped")


def pad_batch(documents: Sequence[Sequence[int]], vocab_size: int, block_size: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (B, n_max + 1) and weights (B, n_max) of a batch of encoded documents.

    Document d is read at n_d = min(block_size, len - 1) positions; n_max is the
    largest n_d. Its row of tokens is padded with ``bos`` (token vocab_size - 1) and its
    weights are 1 / n_d on its positions, 0 on the padding (see the module docstring).
    Every token read (a document's first n_d + 1) is checked against the vocabulary.
    """
    integer("vocab_size", vocab_size, 1, who="pad_batch")
    integer("block_size", block_size, 1, who="pad_batch")
    if not documents:
        raise ValueError("a batch needs at least one document, got none")
    lengths = []
    for i, doc in enumerate(documents):
        if len(doc) < 2:
            raise ValueError(f"document {i}: a document needs at least 2 tokens (one to read, "
                             f"one to predict), got {len(doc)}")
        lengths.append(min(block_size, len(doc) - 1))
    for i, (doc, length) in enumerate(zip(documents, lengths)):
        for j, token in enumerate(doc[:length + 1]):
            if isinstance(token, bool) or not is_real(token):  # True would read as 1
                raise TypeError(f"document {i}: token {j} is {type(token).__name__} "
                                f"{token!r}, expected int token ids from 0 to "
                                f"{vocab_size - 1}"[:300])
    n = max(lengths)
    counts = np.array(lengths) + 1  # tokens read from each document
    flat = np.fromiter(chain.from_iterable(doc[:length + 1] for doc, length
                                           in zip(documents, lengths)),
                       dtype=np.float64, count=int(counts.sum()))
    bad = ~((flat == np.floor(flat)) & (flat >= 0) & (flat < vocab_size))
    if bad.any():
        i = int(np.searchsorted(np.cumsum(counts), np.argmax(bad), side="right"))
        raise ValueError(f"document {i}: expected token ids from 0 to {vocab_size - 1}, "
                         f"got {list(documents[i])!r}"[:300])
    tokens = np.full((len(documents), n + 1), vocab_size - 1, dtype=np.float64)
    tokens[np.arange(n + 1) < counts[:, None]] = flat  # row after row, as flat holds them
    read = np.arange(n) < counts[:, None] - 1
    weights = np.where(read, 1.0 / (counts[:, None] - 1), 0.0)
    return tokens, weights
