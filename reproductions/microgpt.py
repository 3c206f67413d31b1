"""microgpt (Karpathy, 2026), reproduced: its 30-line ``Value`` and its training step.

microgpt trains a 4,192-parameter GPT (16-dim embeddings, 4 heads, 1 layer, block size
16, RMSNorm, no biases, ReLU MLP) one name at a time with a scalar ``Value`` that stores
its local gradients at forward time. The algorithm below follows it step for step: the
same initialisation (Gaussian, std 0.08, from ``random.seed(42)``), the same model, the
same softmax (minus the max of the logits' data), the same loss, the same Adam with
linear decay. ``Trainer(value_class, docs)`` runs it with any ``Value`` class dropped
in, so ``nn.gpt`` can be checked against it number for number, and the benchmarks time
the engines alone.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

N_EMBD, N_HEAD, N_LAYER, BLOCK_SIZE = 16, 4, 1, 16
HEAD_DIM = N_EMBD // N_HEAD
LEARNING_RATE, BETA1, BETA2, EPS_ADAM = 0.01, 0.85, 0.99, 1e-8


class MicrogptValue:
    """microgpt's scalar node: data, grad, children and their local gradients."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()) -> None:
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other: Any) -> MicrogptValue:
        other = other if isinstance(other, MicrogptValue) else MicrogptValue(other)
        return MicrogptValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other: Any) -> MicrogptValue:
        other = other if isinstance(other, MicrogptValue) else MicrogptValue(other)
        return MicrogptValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other: float) -> MicrogptValue:
        return MicrogptValue(self.data ** other, (self,), (other * self.data ** (other - 1),))

    def log(self) -> MicrogptValue:
        return MicrogptValue(math.log(self.data), (self,), (1 / self.data,))

    def exp(self) -> MicrogptValue:
        return MicrogptValue(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self) -> MicrogptValue:
        return MicrogptValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> MicrogptValue:
        return self * -1

    def __radd__(self, other: Any) -> MicrogptValue:
        return self + other

    def __sub__(self, other: Any) -> MicrogptValue:
        return self + (-other)

    def __rsub__(self, other: Any) -> MicrogptValue:
        return other + (-self)

    def __rmul__(self, other: Any) -> MicrogptValue:
        return self * other

    def __truediv__(self, other: Any) -> MicrogptValue:
        return self * other ** -1

    def __rtruediv__(self, other: Any) -> MicrogptValue:
        return other * self ** -1

    def backward(self) -> None:
        topo: list[MicrogptValue] = []
        visited: set[MicrogptValue] = set()

        def build_topo(v: MicrogptValue) -> None:
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


class Trainer:
    """microgpt's model, loss and Adam over one ``Value`` class, one name per step."""

    def __init__(self, value: Callable[[float], Any], docs: list[str], seed: int = 42) -> None:
        rng = random.Random(seed)
        self.docs = list(docs)
        rng.shuffle(self.docs)
        self.chars = sorted(set("".join(self.docs)))
        self.bos = len(self.chars)
        vocab = len(self.chars) + 1

        def matrix(nout: int, nin: int, std: float = 0.08) -> list[list[Any]]:
            return [[value(rng.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]

        self.state = {"wte": matrix(vocab, N_EMBD), "wpe": matrix(BLOCK_SIZE, N_EMBD),
                      "lm_head": matrix(vocab, N_EMBD)}
        for i in range(N_LAYER):
            for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
                self.state[f"layer{i}.{name}"] = matrix(N_EMBD, N_EMBD)
            self.state[f"layer{i}.mlp_fc1"] = matrix(4 * N_EMBD, N_EMBD)
            self.state[f"layer{i}.mlp_fc2"] = matrix(N_EMBD, 4 * N_EMBD)
        self.params = [p for mat in self.state.values() for row in mat for p in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.step_count = 0

    def gpt(self, token_id: int, pos_id: int, keys: list, values: list) -> list[Any]:
        state = self.state
        x = [t + p for t, p in zip(state["wte"][token_id], state["wpe"][pos_id])]
        x = rmsnorm(x)
        for li in range(N_LAYER):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, state[f"layer{li}.attn_wq"])
            k = linear(x, state[f"layer{li}.attn_wk"])
            v = linear(x, state[f"layer{li}.attn_wv"])
            keys[li].append(k)
            values[li].append(v)
            x_attn: list[Any] = []
            for h in range(N_HEAD):
                hs = h * HEAD_DIM
                q_h = q[hs:hs + HEAD_DIM]
                k_h = [ki[hs:hs + HEAD_DIM] for ki in keys[li]]
                v_h = [vi[hs:hs + HEAD_DIM] for vi in values[li]]
                attn_logits = [sum(q_h[j] * k_h[t][j] for j in range(HEAD_DIM)) / HEAD_DIM ** 0.5
                               for t in range(len(k_h))]
                attn_weights = softmax(attn_logits)
                x_attn.extend(sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h)))
                              for j in range(HEAD_DIM))
            x = linear(x_attn, state[f"layer{li}.attn_wo"])
            x = [a + b for a, b in zip(x, x_residual)]
            x_residual = x
            x = rmsnorm(x)
            x = linear(x, state[f"layer{li}.mlp_fc1"])
            x = [xi.relu() for xi in x]
            x = linear(x, state[f"layer{li}.mlp_fc2"])
            x = [a + b for a, b in zip(x, x_residual)]
        return linear(x, state["lm_head"])

    def step(self, num_steps: int = 1000) -> float:
        """One training step on the next name; returns its loss."""
        step = self.step_count
        doc = self.docs[step % len(self.docs)]
        tokens = [self.bos] + [self.chars.index(ch) for ch in doc] + [self.bos]
        n = min(BLOCK_SIZE, len(tokens) - 1)
        keys: list[list[Any]] = [[] for _ in range(N_LAYER)]
        values: list[list[Any]] = [[] for _ in range(N_LAYER)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            probs = softmax(self.gpt(token_id, pos_id, keys, values))
            losses.append(-probs[target_id].log())
        loss = (1 / n) * sum(losses)
        loss.backward()
        lr_t = LEARNING_RATE * (1 - step / num_steps)
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            m[i] = BETA1 * m[i] + (1 - BETA1) * p.grad
            v[i] = BETA2 * v[i] + (1 - BETA2) * p.grad ** 2
            m_hat = m[i] / (1 - BETA1 ** (step + 1))
            v_hat = v[i] / (1 - BETA2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat ** 0.5 + EPS_ADAM)
            p.grad = 0
        self.step_count += 1
        return float(loss.data)


def linear(x: list[Any], w: list[list[Any]]) -> list[Any]:
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def softmax(logits: list[Any]) -> list[Any]:
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: list[Any]) -> list[Any]:
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def names() -> list[str]:
    """makemore's names, as shipped inside the package."""
    from nn.data import names as shipped

    return shipped()


def gpt_state(trainer: Trainer) -> dict[str, float]:
    """The trainer's weights under the parameter names of ``nn.gpt.GPT`` (a state dict)."""
    names = {"wte": "wte", "wpe": "wpe", "lm_head": "lm_head"}
    for i in range(N_LAYER):
        for ours, theirs in (("attn.wq", "attn_wq"), ("attn.wk", "attn_wk"),
                             ("attn.wv", "attn_wv"), ("attn.wo", "attn_wo"),
                             ("mlp.fc1", "mlp_fc1"), ("mlp.fc2", "mlp_fc2")):
            names[f"layer{i}.{theirs}"] = f"blocks.{i}.{ours}"
    return {f"{names[key]}.weight[{r}][{c}]": float(w.data)
            for key, matrix in trainer.state.items()
            for r, row in enumerate(matrix) for c, w in enumerate(row)}
