"""Compiled GPT training: one traced program per sequence length, parameters as arrays.

A document of m + 1 tokens is read at n = min(block_size, m) positions. Its loss graph
has the same shape for every document of n positions, because the tokens enter it as
data, through ``gather`` nodes (the token embeddings and the targets' logits). So
:class:`CompiledGPT` traces, the first time it meets n positions,

    loss(tokens, weights) = sum_t weights_t (logsumexp(logits_t) - gather(logits_t, tokens_{t+1}))

with ``autograd_scalar.compile``: the n + 1 tokens and the n weights are per-example
inputs, and the program is kept and reused for every later document, or batch of
documents, of that length.

A batch of B documents runs as one batch of the program of its longest document,
n_max positions. A document of n_d < n_max positions is padded with ``bos`` tokens
and a mask in the weights: weights_t = 1 / n_d for t < n_d and 0 after. Attention is
causal, so the padding never changes the positions before it, and with weight 0 it
sends no gradient: each document's loss is exactly its own mean loss (``GPT.loss``).
The batch's loss is the mean over its documents, as eager training computes it:

    L = (1/B) sum_d (1/n_d) sum_{t < n_d} -log p(x_{d,t+1} | x_{d,<=t})

The parameters live in one array, in the optimizer's order (``self.data``). Each
step copies it into the program's shared arrays, runs the forward and backward on
the batch, and lets the optimizer update the array (``Optimizer.step_arrays``): no
``Value`` is read or written. ``push()`` writes the array (and the last gradient)
to the model's Values, ``pull()`` reads the Values back (after someone changed them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd_scalar import Tape, Value, compile, dot

from ..optim import Optimizer
from .model import GPT


class CompiledGPT:
    """Training steps of a GPT on traced programs, one per sequence length.

    ``CompiledGPT(model, optimizer)``; ``step(documents)`` takes a list of encoded
    documents (token lists from ``CharTokenizer.encode``, each [bos, ..., bos]) and
    returns the batch's mean loss before the update. ``programs`` maps each number
    of positions met so far to its :class:`~autograd_scalar.Tape`.
    """

    def __init__(self, model: GPT, optimizer: Optimizer) -> None:
        if not isinstance(model, GPT):
            raise TypeError(f"CompiledGPT expects a GPT, got {type(model).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CompiledGPT expects an nn.optim optimizer, got "
                            f"{type(optimizer).__name__}")
        if set(optimizer.params) != set(model.parameters()):
            missing = [name for name, p in model.named_parameters()
                       if p not in set(optimizer.params)]
            raise ValueError(f"CompiledGPT: the optimizer must hold exactly the model's "
                             f"{len(model.parameters())} parameters; it holds "
                             f"{len(optimizer.params)}, missing {missing[:3]}")
        self.model = model
        self.optimizer = optimizer
        self.params: tuple[Value, ...] = tuple(optimizer.params)
        self.data = np.array([p.data for p in self.params])
        self.grad = np.zeros(len(self.params))
        self.programs: dict[int, Tape] = {}

    def program(self, n: int) -> Tape:
        """The traced program of n positions (traced now if it is the first)."""
        tape = self.programs.get(n)
        if tape is None:
            bos = self.model.vocab_size - 1
            tape = compile(self._loss, [bos] * (n + 1), [1.0 / n] * n, parameters=self.params)
            self.programs[n] = tape
        return tape

    def _loss(self, tokens: Sequence[Value], weights: Sequence[Value]) -> Value:
        return dot(weights, self.model.position_losses(tokens))

    def batch(self, documents: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The padded tokens and the weights of a batch for this model (:func:`pad_batch`)."""
        return pad_batch(documents, self.model.vocab_size, self.model.block_size)

    def loss_and_gradient(self, documents: Sequence[Sequence[int]]) -> float:
        """The batch's mean loss at ``self.data``; its gradient goes to ``self.grad``."""
        tokens, weights = self.batch(documents)
        tape = self.program(weights.shape[1])
        count = len(self.params)
        tape.arrays.data[:count] = self.data
        loss, _ = tape.backward_arrays(tokens, weights, reduction="mean")
        self.grad[:] = tape.arrays.grad[:count]
        return loss

    def step(self, documents: Sequence[Sequence[int]]) -> float:
        """One update on a batch of documents; returns its mean loss before the update.

        On a non-finite gradient the optimizer raises and nothing is updated.
        """
        loss = self.loss_and_gradient(documents)
        self.optimizer.step_arrays(self.data, self.grad)
        return loss

    def push(self) -> None:
        """Write the parameters' array and the last gradient to the model's Values."""
        for p, x, g in zip(self.params, self.data.tolist(), self.grad.tolist()):
            p.data = x
            p.grad = g

    def pull(self) -> None:
        """Read the model's Values into the parameters' array."""
        self.data[:] = [p.data for p in self.params]

    def __repr__(self) -> str:
        return (f"CompiledGPT({len(self.params):,} parameters, programs for "
                f"{sorted(self.programs)} positions)")



def pad_batch(documents: Sequence[Sequence[int]], vocab_size: int, block_size: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (B, n_max + 1) and weights (B, n_max) of a batch of encoded documents.

    Document d is read at n_d = min(block_size, len - 1) positions; n_max is the
    largest n_d. Its row of tokens is padded with ``bos`` (token vocab_size - 1) and its
    weights are 1 / n_d on its positions, 0 on the padding (see the module docstring).
    Every token is checked against the vocabulary.
    """
    if not documents:
        raise ValueError("a batch needs at least one document, got none")
    lengths = []
    for i, doc in enumerate(documents):
        if len(doc) < 2:
            raise ValueError(f"document {i}: a document needs at least 2 tokens (one to read, "
                             f"one to predict), got {len(doc)}")
        lengths.append(min(block_size, len(doc) - 1))
    n = max(lengths)
    tokens = np.full((len(documents), n + 1), vocab_size - 1, dtype=np.float64)
    weights = np.zeros((len(documents), n))
    for i, (doc, length) in enumerate(zip(documents, lengths)):
        row = np.asarray(doc[:length + 1], dtype=np.float64)
        if not (np.all(row == np.floor(row)) and np.all((row >= 0) & (row < vocab_size))):
            raise ValueError(f"document {i}: expected token ids from 0 to {vocab_size - 1}, "
                             f"got {list(doc)!r}"[:300])
        tokens[i, :length + 1] = row
        weights[i, :length] = 1.0 / length
    return tokens, weights
