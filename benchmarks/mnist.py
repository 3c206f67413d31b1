"""MNIST-5k, 784-16-16-10, 10 epochs of batch 64 of Adam: nn.fit against hand NumPy.

Both start from the same weights and take the same batches in the same order
(``fit``'s shuffling with the same seed), so they end at the same accuracy.
``nn.fit`` runs with its default ``compiled="auto"``: the time includes tracing
the model and checking the tape against the eager graph.
"""

from __future__ import annotations

import time

import numpy as np

import nn

from . import hand_numpy

SIZES = (784, 16, 16, 10)
LR = 0.01


def train(epochs: int = 10, batch_size: int = 64) -> tuple[float, float]:
    """(seconds for fit, training accuracy afterwards)."""
    X, y = nn.data.mnist_5k()
    model = nn.MLP(784, [16, 16, 10], init="he", seed=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)
    start = time.perf_counter()
    nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=epochs,
           batch_size=batch_size, seed=0, progress=False)
    seconds = time.perf_counter() - start
    predicted = np.argmax(nn.predict(model, X, compiled=True), axis=1)
    return seconds, float(np.mean(predicted == y))


def numpy_train(epochs: int = 10, batch_size: int = 64) -> tuple[float, float]:
    """The same training by hand: (seconds, training accuracy afterwards)."""
    X, y = nn.data.mnist_5k()
    model = nn.MLP(784, [16, 16, 10], init="he", seed=0)
    layers = hand_numpy.layers_of(model)
    params = [p for W, b in layers for p in (W, b)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    T = np.eye(10)[y]
    rng = np.random.default_rng(0)
    b1, b2, eps = 0.9, 0.999, 1e-8
    t = 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for first in range(0, len(X), batch_size):
            batch = order[first:first + batch_size]
            grads = _gradients(layers, X[batch], T[batch])
            t += 1
            for i, (p, g) in enumerate(zip(params, grads)):
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                p -= LR * (m[i] / (1 - b1 ** t)) / (np.sqrt(v[i] / (1 - b2 ** t)) + eps)
    seconds = time.perf_counter() - start
    outputs = hand_numpy.forward(layers, X)[1][-1]
    return seconds, float(np.mean(np.argmax(outputs, axis=1) == y))


def _gradients(layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, T: np.ndarray
               ) -> list[np.ndarray]:
    """Gradients of the mean softmax cross-entropy, in the order W0, b0, W1, b1, ..."""
    hs, zs = hand_numpy.forward(layers, X)
    exp = np.exp(zs[-1] - zs[-1].max(axis=1, keepdims=True))
    d = (exp / exp.sum(axis=1, keepdims=True) - T) / len(X)
    return hand_numpy.backward(layers, hs, zs, d)
