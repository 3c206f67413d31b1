"""Next-token training on a list of documents, one document (or a batch) per step.

Step s reads documents sB, ..., sB + B - 1 (mod len(docs)) as tokens [bos, c_1, ...,
c_m, bos], computes the mean over the batch of each document's mean loss of predicting
each next token (``GPT.loss``), backpropagates it and takes one Adam step. B = 1 is
microgpt's one document per step. microgpt's recipe is the default: Adam with lr 0.01,
betas (0.85, 0.99), eps 1e-8, and the learning rate decaying linearly to zero over the
run, lr_s = 0.01 (1 - s / steps) (``nn.schedules.LinearLR(opt, 1.0, 0.0, steps)``).

``compiled=True`` runs the same steps on traced programs, one per sequence length,
with the parameters as arrays (:func:`nn.gpt.compiled.gpt_training`): the same losses
to rounding, many times faster. The model's Values are brought up to date at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd_scalar import interrupts_deferred
from autograd_scalar import sum as value_sum
from autograd_scalar.validate import flag as check_flag

from ..callbacks import History
from ..layers import check_size
from ..optim import Adam
from ..progress import progress_bar
from ..schedules import LinearLR
from .compiled import gpt_training, pad_batch
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
          eps: float = 1e-8, decay: bool = True, batch_size: int = 1,
          compiled: bool = False, progress: bool = True,
          history: History | None = None) -> History:
    """Train ``model`` for ``steps`` steps, ``batch_size`` documents of ``docs`` per step,
    in order (see the module docstring).

    Returns a :class:`~nn.History` with one entry per step: ``loss`` (the batch's mean
    next-token loss before the step's update) and ``lr``. Everything is checked before
    the first update (the documents against the tokenizer, the tokenizer against the
    model), so a bad call changes nothing. ``decay`` False keeps lr constant.
    ``compiled`` True trains on traced programs (the model's Values are written at the
    end, also when training stops on an error or an interrupt). ``history``: a
    :class:`~nn.History` to append the steps to (a new one by default), which keeps
    the steps done when training stops on an error or Ctrl-C: their count is
    ``len(history.loss)``.

    Each call is a new run: a new Adam and schedule, from the first document. Calling
    it again continues from the model's weights, not from where a run stopped.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"train expects a GPT, got {type(model).__name__}")
    if not isinstance(tokenizer, CharTokenizer):
        raise TypeError(f"train expects a CharTokenizer, got {type(tokenizer).__name__}")
    if tokenizer.vocab_size != model.vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's "
                         f"vocab_size is {model.vocab_size}")
    steps = check_size("steps", steps)
    batch_size = check_size("batch_size", batch_size)
    encoded = encode_documents(tokenizer, docs)
    if batch_size > len(encoded):  # a batch would hold some documents twice
        raise ValueError(f"batch_size must be at most the number of documents "
                         f"({len(encoded):,}), got {batch_size:,}")
    flags = {"progress": progress, "decay": decay, "compiled": compiled}
    for name, flag in flags.items():
        check_flag(name, flag)
    opt = Adam(model, lr=lr, betas=betas, eps=eps)
    schedule = LinearLR(opt, 1.0, 0.0, steps) if decay else None
    runner = gpt_training(model, opt) if compiled else None
    if history is None:
        history = History(metrics=("loss",))
    elif not isinstance(history, History):
        raise TypeError(f"history must be an nn.History, got {type(history).__name__}")
    bar: Any = progress_bar(steps, progress, unit="step")
    try:
        for step in range(steps):
            first = step * batch_size
            batch = [encoded[(first + i) % len(encoded)] for i in range(batch_size)]
            rate = opt.lr

            def record(loss: float, rate: float = rate) -> None:
                """A step is in the history as its update is applied: a Ctrl-C held
                through the update is raised after both."""
                history.loss.append(loss)
                history.lr.append(rate)

            if runner is not None:
                tokens, weights = pad_batch(batch, model.vocab_size, model.block_size)
                runner.step(tokens, weights, then=record)
            else:
                loss = _backpropagated(model, opt, batch)
                with interrupts_deferred():
                    opt.step()
                    record(loss)
            if schedule is not None:
                schedule.step()
            bar.set_postfix({"loss": f"{history.loss[-1]:.4f}"}, refresh=False)
            bar.update(1)
    finally:
        bar.close()
        if runner is not None:
            runner.push()
    return history


def train_step(model: GPT, optimizer: Adam, documents: Sequence[Sequence[int]]) -> float:
    """One eager update on a batch of encoded documents (one document is a batch of
    one): the mean of their mean losses, backpropagated; returns it before the update.

    L = (1/B) sum_d loss_d, with loss_d = ``model.loss(tokens_d)``; for B = 1 the
    document's own loss node, with no extra node.
    """
    loss = _backpropagated(model, optimizer, documents)
    optimizer.step()
    return loss


def _backpropagated(model: GPT, optimizer: Adam, documents: Sequence[Sequence[int]]) -> float:
    """:func:`train_step` up to its update: the batch's loss, the gradients in place."""
    if not documents:
        raise ValueError("train_step needs at least one document, got none")
    if not isinstance(documents[0], (list, tuple)):
        raise TypeError("train_step expects a list of encoded documents (token lists), "
                        f"got {type(documents).__name__} {documents!r:.60}")
    optimizer.zero_grad()
    losses = [model.loss(tokens) for tokens in documents]
    loss = losses[0] if len(losses) == 1 else (1 / len(losses)) * value_sum(losses)
    loss.backward()
    return loss.data
