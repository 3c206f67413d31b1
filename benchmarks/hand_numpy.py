"""The hand-written NumPy reference: a relu MLP's forward and backward with matrices.

Layers are (W, b) pairs, W of shape (inputs, outputs); hidden layers apply relu, the
last is linear. With z_i = h_i W_i + b_i and h_{i+1} = relu(z_i), the backward pass
from d = dL/dz_last is dL/dW_i = h_i^T d, dL/db_i = sum of d's rows, and
d <- (d W_i^T) * [z_{i-1} > 0] for the layer below.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Layers = list[tuple[np.ndarray, np.ndarray]]


def layers_of(model: Any, dtype: Any = np.float64) -> Layers:
    """An nn.MLP's weights as hand-written code holds them: (W (nin, nout), b (nout,))
    per layer, each a C-ordered array of its own (as ``rng.normal(size=(nin, nout))``
    makes it; a transposed view would make every update ``W -= lr * gW`` a strided
    pass, slower than hand-written code is)."""
    return [(np.array([[w.data for w in neuron.w] for neuron in layer.neurons],
                      dtype=dtype).T.copy(),
             np.array([neuron.b.data for neuron in layer.neurons], dtype=dtype))
            for layer in model.layers]


def forward(layers: Layers, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each layer's input h_i (X first) and pre-activation z_i."""
    hs, zs = [X], []
    for i, (W, b) in enumerate(layers):
        z = hs[-1] @ W + b
        zs.append(z)
        if i < len(layers) - 1:
            hs.append(np.maximum(z, 0.0))
    return hs, zs


def backward(layers: Layers, hs: list[np.ndarray], zs: list[np.ndarray], d: np.ndarray
             ) -> list[np.ndarray]:
    """Gradients in the order W0, b0, W1, b1, ... from d = dL/d(last pre-activation)."""
    grads: list[np.ndarray] = []
    for i in range(len(layers) - 1, -1, -1):
        grads = [hs[i].T @ d, d.sum(axis=0), *grads]
        if i:
            d = (d @ layers[i][0].T) * (zs[i - 1] > 0)
    return grads
