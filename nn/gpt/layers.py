"""The GPT's building blocks on single numbers: a bias-free linear map, an embedding
table read through the ``gather`` row, and RMSNorm.

Weights are matrices of Values, ``weight[i][j]`` (row i, column j), drawn from
N(0, std^2) (microgpt draws every matrix with std 0.08). A linear map is one ``dot``
node per output, y_i = sum_j W[i][j] x_j, added left to right as microgpt's
``sum(wi * xi ...)`` adds, so the same weights give the same bits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from autograd_scalar import Value, dot, gather, peek
from autograd_scalar.validate import is_real, real

from ..init import Seed, generator
from ..layers import check_size
from ..module import Module

Matrix = list[list[Value]]


def gaussian_matrix(rows: int, columns: int, std: float, seed: Seed) -> Matrix:
    """A rows x columns matrix of Values drawn from N(0, std^2), row after row."""
    real("std", std, 0)
    drawn = generator(seed).normal(0.0, std, size=(rows, columns))
    return [[Value(float(w)) for w in row] for row in drawn.tolist()]


class MatrixModule(Module):
    """A module whose parameters are one matrix, ``weight``, named ``weight[i][j]``."""

    weight: Matrix

    def named_own_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, row in enumerate(self.weight):
            for j, w in enumerate(row):
                yield f"weight[{i}][{j}]", w


class Linear(MatrixModule):
    """y = W x without a bias: ``nout`` outputs, each one ``dot`` node over ``nin`` inputs."""

    repr_children = False

    def __init__(self, nin: int, nout: int, std: float = 0.08, seed: Seed = None) -> None:
        self.nin = check_size("nin", nin)
        self.nout = check_size("nout", nout)
        self.weight = gaussian_matrix(self.nout, self.nin, std, seed)

    def forward(self, x: Sequence[Any]) -> list[Value]:
        if len(x) != self.nin:
            raise ValueError(f"Linear expects {self.nin} inputs, got {len(x)}")
        return [dot(row, x) for row in self.weight]

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}, bias=False"


class Embedding(MatrixModule):
    """A table of ``num`` vectors of ``dim`` numbers; ``embedding(k)`` is row k.

    Row k is read through ``dim`` gather nodes, one per column: out_j = gather(W[:, j], k).
    The token is an operand of the graph, not a Python index, so the graph has the same
    shape for every token; the gradient reaches row k only (d out_j / d W[i][j] = [i == k]).
    """

    repr_children = False

    def __init__(self, num: int, dim: int, std: float = 0.08, seed: Seed = None) -> None:
        self.num = check_size("num", num)
        self.dim = check_size("dim", dim)
        self.weight = gaussian_matrix(self.num, self.dim, std, seed)

    def forward(self, index: Any) -> list[Value]:
        # peek: the number only checks the index (a tape's gather checks each example's)
        k = peek(index) if isinstance(index, Value) else index
        if not is_real(k) or not float(k).is_integer() or not 0 <= k < self.num:
            raise ValueError(f"Embedding: expected an index from 0 to {self.num - 1} (a row of "
                             f"its {self.num} x {self.dim} table), got {index!r}")
        return [gather(column, index) for column in zip(*self.weight)]

    def extra_repr(self) -> str:
        return f"{self.num}, {self.dim}"


class RMSNorm(Module):
    """x / rms(x): y_i = x_i (mean_j x_j^2 + eps)^(-1/2), without a gain (as microgpt).

    The mean square is one ``dot`` node, x . x / n; the scale one ``**-0.5`` node.
    """

    def __init__(self, eps: float = 1e-5) -> None:
        self.eps = real("eps", eps, 0, low_open=True, who="RMSNorm")

    def forward(self, x: Sequence[Any]) -> list[Value]:
        if not len(x):
            raise ValueError("RMSNorm expects at least one input, got none")
        scale = (dot(x, x) / len(x) + self.eps) ** -0.5
        return [xi * scale for xi in x]

    def extra_repr(self) -> str:
        return f"eps={self.eps:g}"
