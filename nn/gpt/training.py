"""Next-token training on a list of documents, one document per step (as microgpt).

Step s reads document s mod len(docs) as tokens [bos, c_1, ..., c_m, bos], computes the
mean loss of predicting each next token (``GPT.loss``), backpropagates it and takes one
Adam step. microgpt's recipe is the default: Adam with lr 0.01, betas (0.85, 0.99),
eps 1e-8, and the learning rate decaying linearly to zero over the run,
lr_s = 0.01 (1 - s / steps) (``nn.schedules.LinearLR(opt, 1.0, 0.0, steps)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..callbacks import History
from ..layers import check_size
from ..optim import Adam
from ..progress import progress_bar
from ..schedules import LinearLR
from .model import GPT
from .tokenizer import CharTokenizer


def encode_documents(tokenizer: CharTokenizer, docs: Sequence[str]) -> list[list[int]]:
    """Every document's tokens, [bos, ..., bos]; an error names the first bad document."""
    if isinstance(docs, str) or not isinstance(docs, Sequence) or not docs:
        raise ValueError(f"docs must be a non-empty list of strings, got {docs!r}"[:200])
    encoded = []
    for i, doc in enumerate(docs):
        if not isinstance(doc, str):
            raise TypeError(f"document {i} is a {type(doc).__name__}, expected a str")
        try:
            encoded.append(tokenizer.encode(doc))
        except ValueError as error:
            raise ValueError(f"document {i}: {error}") from None
    return encoded


def train(model: GPT, tokenizer: CharTokenizer, docs: Sequence[str], *, steps: int,
          lr: float = 0.01, betas: tuple[float, float] = (0.85, 0.99),
          eps: float = 1e-8, decay: bool = True, progress: bool = True) -> History:
    """Train ``model`` for ``steps`` steps, one document of ``docs`` per step, in order.

    Returns a :class:`~nn.History` with one entry per step: ``loss`` (the document's
    mean next-token loss before the step's update) and ``lr``. Everything is checked
    before the first update (the documents against the tokenizer, the tokenizer against
    the model), so a bad call changes nothing. ``decay`` False keeps lr constant.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"train expects a GPT, got {type(model).__name__}")
    if not isinstance(tokenizer, CharTokenizer):
        raise TypeError(f"train expects a CharTokenizer, got {type(tokenizer).__name__}")
    if tokenizer.vocab_size != model.vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's "
                         f"vocab_size is {model.vocab_size}")
    steps = check_size("steps", steps)
    encoded = encode_documents(tokenizer, docs)
    if not isinstance(progress, bool) or not isinstance(decay, bool):
        raise TypeError(f"progress and decay must be True or False, got progress={progress!r}, "
                        f"decay={decay!r}")
    opt = Adam(model, lr=lr, betas=betas, eps=eps)
    schedule = LinearLR(opt, 1.0, 0.0, steps) if decay else None
    history = History(metrics=("loss",))
    bar: Any = progress_bar(steps, progress, unit="step")
    try:
        for step in range(steps):
            history.lr.append(opt.lr)
            history.loss.append(train_step(model, opt, encoded[step % len(encoded)]))
            if schedule is not None:
                schedule.step()
            bar.set_postfix({"loss": f"{history.loss[-1]:.4f}"}, refresh=False)
            bar.update(1)
    finally:
        bar.close()
    return history


def train_step(model: GPT, optimizer: Adam, tokens: Sequence[int]) -> float:
    """One update on one document's tokens; returns its loss before the update."""
    optimizer.zero_grad()
    loss = model.loss(tokens)
    loss.backward()
    optimizer.step()
    return loss.data
