"""Make the README's pictures: python docs/images/make_images.py (PNG needs Graphviz's dot)."""

from __future__ import annotations

from pathlib import Path

import nn
from autograd_scalar import Function, Value, animate_backward, check_graph, draw_graph, render

HERE = Path(__file__).resolve().parent


class Softsign(Function):
    """x / (1 + |x|), with a planted mistake: the rule forgets to square the denominator."""

    formula = "d/dx = 1 / (1 + |x|)   (wrong: should be squared)"

    @staticmethod
    def forward(x):
        return x / (1 + abs(x))

    @staticmethod
    def derivatives(x, out):
        return (1 / (1 + abs(x)),)


def neuron() -> Value:
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def planted_mistake():
    x, w, b = Value(0.7, "x"), Value(-1.3, "w"), Value(0.4, "b")
    z = x * w + b
    z.label = "z"
    y = Softsign.apply(z)
    y.label = "y"
    out = (y * y).tanh()
    out.label = "out"
    out.backward()
    return out, check_graph(out)


def summary():
    """A loss over six examples: 427 nodes, drawn within a budget of 60 boxes."""
    model = nn.MLP(2, [8, 8, 1], seed=0)
    rows = [(0.3, -1.2), (1.1, 0.4), (-0.7, 0.9), (0.05, 0.5), (-1.5, -0.2), (0.8, 1.6)]
    loss = sum((model(list(row)) ** 2 for row in rows), Value(0.0, "zero"))
    loss.label = "loss"
    loss.backward()
    return draw_graph(loss, max_nodes=60, cluster=True, heatmap=True, names=model)


def main() -> None:
    pictures = {"neuron": draw_graph(neuron())}
    out, report = planted_mistake()
    pictures["check_graph"] = draw_graph(out, highlight=report,
                                         title="check_graph blames the Softsign node")
    pictures["heatmap"] = draw_graph(out, heatmap=True)
    model = nn.MLP(2, [2, 1], seed=0)
    prediction = model([0.5, -1.0])
    prediction.backward()
    pictures["mlp_modules"] = draw_graph(prediction, cluster=True, compact=True, names=model)
    pictures["network"] = nn.draw_network(nn.MLP(2, [4, 4, 1], seed=0))
    pictures["summary"] = summary()
    for name, drawing in pictures.items():
        for suffix in (".svg", ".png"):
            print(render(drawing, HERE / f"{name}{suffix}").relative_to(HERE.parent.parent))
    gif = animate_backward(neuron(), HERE / "backward.gif", seconds_per_step=1.5)
    print(gif.relative_to(HERE.parent.parent))


if __name__ == "__main__":
    main()
