"""A 784-16-16-10 network on MNIST digits, against a hand-written NumPy network.

The reference figure: a network of this shape, written with NumPy by hand and
trained for 5 epochs in mini-batches of 64 on the full MNIST set (60,000
training images), is reported at 88.97% test accuracy; the report gives neither
its code nor its test set, so the figure is a point of comparison, not a result
repeated exactly. We train the same shape (relu hidden units, softmax
cross-entropy, SGD with momentum 0.9) for the same 5 epochs of batch 64 on
:func:`nn.data.mnist_5k`, 5,000 MNIST images, of which a stratified fifth (1,000)
is held out for testing, so we see 15 times fewer training images. A run's
accuracy on 1,000 images moves by a point or two from seed to seed (its binomial
standard error alone is about one point), so ``python -m reproductions`` reports the
mean and range over its seeds beside seed 0's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nn import MLP, accuracy, confusion_matrix, fit, predict
from nn.callbacks import History
from nn.data import mnist_5k, split
from nn.optim import SGD

REFERENCE_ACCURACY = 0.8897
EPOCHS, BATCH_SIZE, LEARNING_RATE, MOMENTUM = 5, 64, 0.1, 0.9
SIZES = (16, 16, 10)


@dataclass
class MnistRun:
    """The trained model, its test accuracy, the per-epoch history and the training time."""

    model: MLP
    test_accuracy: float
    history: History
    confusion: np.ndarray
    seconds: float
    n_train: int
    n_test: int


def mnist_data(seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray],
                                       tuple[np.ndarray, np.ndarray]]:
    """``(train, test)``: mnist_5k split 4,000 / 1,000, stratified by digit."""
    X, y = mnist_5k()
    return split(X, y, fraction=0.2, seed=seed, stratify=True)


def train_mnist(seed: int = 0, epochs: int = EPOCHS, compiled: bool = True,
                n_train: int | None = None) -> MnistRun:
    """Train 784-16-16-10 with SGD (lr 0.1, momentum 0.9), batches of 64, and test it.

    ``n_train`` trains on only the first that many training images (for quick runs).
    """
    (X_train, y_train), (X_test, y_test) = mnist_data(seed)
    if n_train is not None:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    model = MLP(784, list(SIZES), activation="relu", init="he", seed=seed)
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    start = time.perf_counter()
    history = fit(model, X_train, y_train, loss="cross_entropy", optimizer=optimizer,
                  epochs=epochs, batch_size=BATCH_SIZE, val=(X_test, y_test), seed=seed,
                  compiled=compiled, progress=False)
    seconds = time.perf_counter() - start
    predicted = np.argmax(predict(model, X_test, compiled=compiled), axis=1)
    return MnistRun(model, accuracy(y_test, predicted), history,
                    confusion_matrix(y_test, predicted, num_classes=10), seconds,
                    len(X_train), len(X_test))
