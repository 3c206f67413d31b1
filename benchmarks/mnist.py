"""MNIST-5k, 784-16-16-10, 10 epochs of batch 64, trained compiled with nn.fit."""

from __future__ import annotations

import time

import numpy as np

import nn


def train(epochs: int = 10, batch_size: int = 64) -> tuple[float, float]:
    """(seconds for fit, training accuracy afterwards)."""
    X, y = nn.data.mnist_5k()
    model = nn.MLP(784, [16, 16, 10], init="he", seed=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    start = time.perf_counter()
    nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=epochs,
           batch_size=batch_size, seed=0, compiled=True, progress=False)
    seconds = time.perf_counter() - start
    predicted = np.argmax(nn.predict(model, X, compiled=True), axis=1)
    return seconds, float(np.mean(predicted == y))
