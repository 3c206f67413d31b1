"""nn's models written as PyTorch modules, in float64: what ``nn.to_torch`` returns.

Each computes what the nn model computes, on a batch at once: an MLP becomes a plain
``torch.nn.Sequential`` (:func:`mlp_module`), so its state_dict reads as any PyTorch
MLP's; a Network, a GPT and a Standardized become :class:`NetworkModule`,
:class:`GPTModule` and :class:`StandardizedModule`. nn's GPT reads one position at a
time against a key/value cache; :class:`GPTModule` computes every position at once
under a causal mask, which is the same arithmetic.

This module imports torch; ``nn.torch_bridge`` imports it only once torch is known
to be installed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

DTYPE = torch.float64


class Softplus(torch.nn.Module):
    """log(1 + e^x) = logaddexp(x, 0), stable for any x, with derivative sigmoid(x).

    ``torch.nn.Softplus`` returns x itself above its threshold (20), which is off by
    up to 2e-9 there; nn's softplus is exact everywhere, and so is this.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logaddexp(x, torch.zeros_like(x))


def activation_module(name: str) -> torch.nn.Module | None:
    """The PyTorch module of nn's activation ``name`` (None for ``linear``)."""
    modules: dict[str, Any] = {
        "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
        "softplus": Softplus, "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
        "linear": lambda: None,
    }
    return modules[name]()


def activation_name(module: torch.nn.Module) -> str | None:
    """nn's name for an activation module, or None if nn has no such activation."""
    if isinstance(module, torch.nn.ReLU):
        return "relu"
    if isinstance(module, torch.nn.Tanh):
        return "tanh"
    if isinstance(module, torch.nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, Softplus) or (isinstance(module, torch.nn.Softplus)
                                        and module.beta == 1 and module.threshold == 20):
        return "softplus"  # torch's default threshold: within 2e-9 of nn's exact softplus
    if isinstance(module, torch.nn.LeakyReLU) and module.negative_slope == 0.01:
        return "leaky_relu"
    if isinstance(module, torch.nn.Identity):
        return "linear"
    return None


def mlp_module(sizes: Sequence[int], activations: Sequence[str]) -> torch.nn.Sequential:
    """Linear layers of ``sizes`` (nin, n1, n2, ...), each followed by its activation's
    module (none for ``linear``)."""
    layers: list[torch.nn.Module] = []
    for nin, nout, name in zip(sizes, sizes[1:], activations):
        layers.append(torch.nn.Linear(nin, nout, dtype=DTYPE))
        module = activation_module(name)
        if module is not None:
            layers.append(module)
    return torch.nn.Sequential(*layers)


def check_width(x: torch.Tensor, width: int, what: str) -> None:
    """ValueError unless ``x`` is (..., width): a narrower x would fail deep inside, and a
    wider one (or, against the scaling, one column broadcast) would run on the wrong
    numbers."""
    if x.dim() == 0 or x.shape[-1] != width:
        raise ValueError(f"expected inputs of shape (..., {width}), one per {what}, "
                         f"got {tuple(x.shape)}")


class UnitModule(torch.nn.Module):
    """One neuron of a Network: act(w . inputs + b), w one weight per source, b optional."""

    def __init__(self, sources: int, bias: bool, activation: str) -> None:
        super().__init__()
        self.act = activation_module(activation) or torch.nn.Identity()
        self.weight = torch.nn.Parameter(torch.zeros(sources, dtype=DTYPE))
        self.bias = torch.nn.Parameter(torch.zeros((), dtype=DTYPE)) if bias else None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs``: (..., sources); the result has the shape of ``inputs[..., 0]``."""
        z = inputs @ self.weight
        if self.bias is not None:
            z = z + self.bias
        return self.act(z)


class NetworkModule(torch.nn.Module):
    """nn.Network's units and wiring: input units from ``x[..., i]``, then every neuron
    in topological order, outputs side by side, (..., len(outputs)).

    ``unit_names[k]`` and ``sources[k]`` name neuron ``units[k]`` and the units it reads
    (in the order of its weights); ``config`` is the Network's own ``config()``.
    """

    def __init__(self, config: dict[str, Any], inputs: list[str],
                 neurons: list[tuple[str, list[str], bool, str]], outputs: list[str]) -> None:
        super().__init__()
        self.config = config
        self.input_names = inputs
        self.unit_names = [name for name, _, _, _ in neurons]
        self.sources = [sources for _, sources, _, _ in neurons]
        self.output_names = outputs
        self.units = torch.nn.ModuleList(UnitModule(len(sources), bias, activation)
                                         for _, sources, bias, activation in neurons)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_width(x, len(self.input_names), "input unit of the Network")
        values = {name: x[..., i] for i, name in enumerate(self.input_names)}
        for name, sources, unit in zip(self.unit_names, self.sources, self.units):
            if sources:
                inputs = torch.stack([values[s] for s in sources], dim=-1)
            else:
                inputs = x.new_zeros((*x.shape[:-1], 0))
            values[name] = unit(inputs)
        return torch.stack([values[name] for name in self.output_names], dim=-1)


class RMSNorm(torch.nn.Module):
    """x / rms(x): x (mean(x^2) + eps)^(-1/2) over the last axis, no gain."""

    def __init__(self, eps: float) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (x.pow(2).mean(dim=-1, keepdim=True) + self.eps).pow(-0.5)


def _linear(nin: int, nout: int) -> torch.nn.Linear:
    return torch.nn.Linear(nin, nout, bias=False, dtype=DTYPE)


class CausalSelfAttention(torch.nn.Module):
    """``n_head`` heads; position t attends to positions s <= t:
    softmax(q_h . k_{s,h} / sqrt(d)) weighs v_{s,h}; ``wo`` maps the heads back."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.wq, self.wk = _linear(n_embd, n_embd), _linear(n_embd, n_embd)
        self.wv, self.wo = _linear(n_embd, n_embd), _linear(n_embd, n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (B, T, C)."""
        batch, steps, width = x.shape
        d = width // self.n_head

        def heads(y: torch.Tensor) -> torch.Tensor:
            return y.view(batch, steps, self.n_head, d).transpose(1, 2)

        q, k, v = heads(self.wq(x)), heads(self.wk(x)), heads(self.wv(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)
        future = torch.ones(steps, steps, dtype=torch.bool, device=x.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
        weights = torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True))
        out = (weights @ v).transpose(1, 2).reshape(batch, steps, width)
        return self.wo(out)


class FeedForward(torch.nn.Module):
    """fc2(relu(fc1(x))), no biases."""

    def __init__(self, n_embd: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = _linear(n_embd, hidden), _linear(hidden, n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class Block(torch.nn.Module):
    """x + attn(norm1(x)), then that + mlp(norm2(that))."""

    def __init__(self, n_embd: int, n_head: int, eps: tuple[float, float]) -> None:
        super().__init__()
        self.norm1 = RMSNorm(eps[0])
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.norm2 = RMSNorm(eps[1])
        self.mlp = FeedForward(n_embd, 4 * n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GPTModule(torch.nn.Module):
    """microgpt's GPT: tokens (T,) or (B, T) in, next-token logits (T, V) or (B, T, V) out.

    ``config`` holds the sizes (nn's ``GPT.config()``); ``eps`` the RMSNorms' epsilons,
    the top one first, then each block's two.
    """

    def __init__(self, config: dict[str, Any], eps: Sequence[float]) -> None:
        super().__init__()
        self.config = dict(config)
        self.eps = list(eps)
        vocab, embd = config["vocab_size"], config["n_embd"]
        self.block_size = config["block_size"]
        self.wte = torch.nn.Embedding(vocab, embd, dtype=DTYPE)
        self.wpe = torch.nn.Embedding(self.block_size, embd, dtype=DTYPE)
        self.norm = RMSNorm(self.eps[0])
        self.blocks = torch.nn.ModuleList(
            Block(embd, config["n_head"], (self.eps[1 + 2 * i], self.eps[2 + 2 * i]))
            for i in range(config["n_layer"]))
        self.lm_head = _linear(embd, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        single = tokens.dim() == 1
        if single:
            tokens = tokens.unsqueeze(0)
        steps = tokens.shape[1]
        if steps > self.block_size:
            raise ValueError(f"GPTModule: at most block_size = {self.block_size} tokens, "
                             f"got {steps}")
        positions = torch.arange(steps, device=tokens.device)
        x = self.norm(self.wte(tokens) + self.wpe(positions))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(x)
        return logits[0] if single else logits


class StandardizedModule(torch.nn.Module):
    """``model((x - mean) / std)``, the scaling kept as buffers ``mean`` and ``std``."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: torch.nn.Module, mean: Sequence[float],
                 std: Sequence[float]) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(list(mean), dtype=DTYPE))
        self.register_buffer("std", torch.tensor(list(std), dtype=DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_width(x, len(self.mean), "feature the scaling was fitted on")
        return self.model((x - self.mean) / self.std)
