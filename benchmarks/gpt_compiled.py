"""The GPT compiled: microgpt's 1,000-step recipe against microgpt's own Value, and batched
training against PyTorch running the same model on the same batches.

``recipe`` trains ``nn.gpt.GPT`` compiled (``train(..., compiled=True)``, its traces
included in the time) from microgpt's initial weights on microgpt's names, and runs
microgpt's own code and 30-line Value on the same steps. ``torch_step`` is the same
GPT in PyTorch (float64, a padded batch with a mask, Adam with the same settings);
``ours_batched_step`` is ours on the same batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from reproductions.microgpt import BETA1, BETA2, EPS_ADAM, LEARNING_RATE, Trainer, gpt_state

RECIPE_STEPS = 1000
TAIL = 50
"""The final loss of a run is the mean of its last ``TAIL`` steps (one name each)."""


def microgpt_model(reference: Trainer) -> tuple[Any, Any, list[str]]:
    """Our GPT with the reference trainer's weights, its tokenizer, and its names in order."""
    from nn.gpt import GPT, CharTokenizer

    tokenizer = CharTokenizer.from_documents(reference.docs)
    model = GPT(tokenizer.vocab_size)
    model.load_state_dict(gpt_state(reference))
    return model, tokenizer, reference.docs


def compiled_recipe(steps: int = RECIPE_STEPS) -> tuple[float, list[float]]:
    """Seconds (traces included) and losses of microgpt's recipe trained compiled."""
    from nn.gpt import train
    from reproductions.microgpt import MicrogptValue, names

    model, tokenizer, docs = microgpt_model(Trainer(MicrogptValue, names()))
    start = time.perf_counter()
    history = train(model, tokenizer, docs, steps=steps, compiled=True, progress=False)
    return time.perf_counter() - start, history.loss


def reference_recipe(steps: int, total: int = RECIPE_STEPS) -> tuple[float, list[float]]:
    """Seconds and losses of the first ``steps`` steps of microgpt's own code and Value
    (the learning rate decaying over ``total`` steps, as in the full recipe)."""
    from reproductions.microgpt import MicrogptValue, names

    reference = Trainer(MicrogptValue, names())
    start = time.perf_counter()
    losses = [reference.step(num_steps=total) for _ in range(steps)]
    return time.perf_counter() - start, losses


def microgpt_order(documents: list[str]) -> list[str]:
    """The names in microgpt's order (its ``Trainer`` shuffles them with seed 42)."""
    import random

    shuffled = list(documents)
    random.Random(42).shuffle(shuffled)
    return shuffled


def positions(docs: list[str], block_size: int = 16) -> int:
    """Tokens predicted when training on ``docs``: min(block_size, len + 1) per name."""
    return sum(min(block_size, len(doc) + 1) for doc in docs)


# ---------------------------------------------------------------------------
# batched training: ours and PyTorch on the same batches
# ---------------------------------------------------------------------------

def batches(batch_size: int, count: int) -> tuple[Any, Any, list[list[list[int]]]]:
    """A GPT with microgpt's weights, its tokenizer, and ``count`` batches of encoded names."""
    from reproductions.microgpt import MicrogptValue, names

    model, tokenizer, docs = microgpt_model(Trainer(MicrogptValue, names()))
    encoded = [tokenizer.encode(doc) for doc in docs[:batch_size * count]]
    return model, tokenizer, [encoded[i:i + batch_size]
                              for i in range(0, len(encoded), batch_size)]


def ours_batched_step(model: Any, batches: list[list[list[int]]],
                      steps: int) -> Callable[[], float]:
    """Our compiled step on the batches in turn (Adam, microgpt's settings and decay),
    every program it needs traced beforehand (the recipe's row times the traces)."""
    from nn.gpt.compiled import gpt_training, pad_batch
    from nn.optim import Adam
    from nn.schedules import LinearLR

    optimizer = Adam(model, lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPS_ADAM)
    schedule = LinearLR(optimizer, 1.0, 0.0, steps)
    runner = gpt_training(model, optimizer)

    def padded(batch: list[list[int]]) -> tuple[Any, Any]:
        return pad_batch(batch, model.vocab_size, model.block_size)

    for batch in batches:
        runner.trace(*padded(batch))
    done = [0]

    def step() -> float:
        loss, _ = runner.step(*padded(batches[done[0] % len(batches)]))
        schedule.step()
        done[0] += 1
        return loss

    return step


def torch_step(model: Any, batches: list[list[list[int]]], steps: int
               ) -> Callable[[], float] | None:
    """The same GPT in PyTorch (CPU, float64) on the same padded batches; None without torch.

    x = rmsnorm(wte[tokens] + wpe); per block x += Wo attn(rmsnorm(x)) with a causal
    mask, x += W2 relu(W1 rmsnorm(x)); logits = W_lm x; the loss of a batch is the mean
    over its names of sum_t weights_t (logsumexp(logits_t) - logits_t[target_t]), with
    the weights and padding of :func:`nn.gpt.compiled.pad_batch`.
    """
    try:
        import torch
    except ImportError:
        return None
    from nn.gpt.compiled import pad_batch

    def tensor(module: Any) -> Any:
        rows = [[w.data for w in row] for row in module.weight]
        return torch.tensor(rows, dtype=torch.float64, requires_grad=True)

    wte, wpe, lm_head = tensor(model.wte), tensor(model.wpe), tensor(model.lm_head)
    blocks = [{name: tensor(getattr(module, part)) for name, module, part in (
        ("wq", block.attn, "wq"), ("wk", block.attn, "wk"), ("wv", block.attn, "wv"),
        ("wo", block.attn, "wo"), ("fc1", block.mlp, "fc1"), ("fc2", block.mlp, "fc2"))}
        for block in model.blocks]
    params = [wte, wpe, lm_head, *[w for block in blocks for w in block.values()]]
    optimizer = torch.optim.Adam(params, lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPS_ADAM)
    heads, dim = model.n_head, model.n_embd // model.n_head
    prepared = []
    for batch in batches:
        tokens, weights = pad_batch(batch, model.vocab_size, model.block_size)
        prepared.append((torch.tensor(tokens, dtype=torch.long),
                         torch.tensor(weights, dtype=torch.float64)))

    def rmsnorm(x: Any) -> Any:
        return x * ((x * x).mean(-1, keepdim=True) + 1e-5) ** -0.5

    def loss_of(tokens: Any, weights: Any) -> Any:
        b, t = weights.shape
        x = rmsnorm(wte[tokens[:, :t]] + wpe[:t])
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        for block in blocks:
            h = rmsnorm(x)
            q, k, v = ((h @ block[name].T).view(b, t, heads, dim).transpose(1, 2)
                       for name in ("wq", "wk", "wv"))
            scores = (q @ k.transpose(-1, -2) / dim ** 0.5).masked_fill(~mask, float("-inf"))
            attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, heads * dim)
            x = x + attended @ block["wo"].T
            x = x + torch.relu(rmsnorm(x) @ block["fc1"].T) @ block["fc2"].T
        logits = x @ lm_head.T
        picked = logits.gather(-1, tokens[:, 1:t + 1, None])[..., 0]
        return ((logits.logsumexp(-1) - picked) * weights).sum(1).mean()

    done = [0]

    def step() -> float:
        tokens, weights = prepared[done[0] % len(prepared)]
        for group in optimizer.param_groups:
            group["lr"] = LEARNING_RATE * (1 - done[0] / steps)
        optimizer.zero_grad()
        loss = loss_of(tokens, weights)
        loss.backward()
        optimizer.step()
        done[0] += 1
        return float(loss.item())

    return step


def tokens_per_batch(batches: list[list[list[int]]]) -> list[int]:
    """The tokens each batch predicts (its names' positions, padding not counted)."""
    return [sum(min(16, len(doc) - 1) for doc in batch) for batch in batches]


def ratio_range(ours: list[float], theirs: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of theirs / ours, round by round."""
    ratios = np.array(theirs) / np.array(ours)
    return float(np.median(ratios)), float(ratios.min()), float(ratios.max())
