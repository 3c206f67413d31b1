"""Whole-process memory of compiled training against hand NumPy, each in a fresh process.

The work: a relu MLP 784-256-256-10 (269,322 parameters) trained for ``EPOCHS``
epochs of one batch of 1,024 examples (cross-entropy, SGD). Ours builds the model
(its Values) and runs ``nn.fit`` with its defaults (compiled="auto": the trace, the
eager check of 4 examples, the steps); hand NumPy makes the same layers as arrays
and takes the same steps with matrices.

Each side runs in its own fresh Python process, so neither inherits the other's
heap. After the imports and the data (both sides hold the same inputs), the
process's resident set is read and its peak reset (Linux's ``clear_refs``); the
figures are then

- ``rss``: the peak resident set during the work minus that baseline: what the work
  itself made the process hold, the model included;
- ``whole``: the process's peak resident set, imports included (ours imports more);
- ``tracemalloc``: in a second fresh process, the peak of Python's traced
  allocations during ``fit`` (the model already built) or during the hand steps
  (the layers already built), beyond what was allocated before.

    python -m benchmarks.fit_memory          # three runs of each, medians and ranges
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
from pathlib import Path

SIZES = (784, 256, 256, 10)
EXAMPLES = 1024
EPOCHS = 2
LR = 0.01
ROOT = Path(__file__).resolve().parents[1]


def _status() -> dict[str, float]:
    """VmRSS and VmHWM of this process in MiB (Linux)."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(rest.split()[0]) / 1024
    return found


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def work(side: str, traced: bool, dtype: str = "float64") -> dict[str, float]:
    """Run one side in this process and return its figures (see the module docstring)."""
    import tracemalloc

    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(EXAMPLES, SIZES[0]))
    y = rng.integers(0, SIZES[-1], EXAMPLES)
    if side == "ours":
        import nn
    else:
        from benchmarks import hand_numpy
    baseline = _status()["VmRSS"]
    _reset_peak()
    before = 0
    if side == "ours":
        model = nn.MLP(SIZES[0], list(SIZES[1:]), init="he", seed=0)
        optimizer = nn.optim.SGD(model.parameters(), lr=LR)
        if traced:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
        nn.fit(model, X, y, loss="cross_entropy", optimizer=optimizer, epochs=EPOCHS,
               progress=False, dtype=dtype)
    else:
        kind = np.dtype(dtype)
        layers = [(rng.normal(size=(a, b)).astype(kind) * np.sqrt(2.0 / a),
                   np.zeros(b, dtype=kind)) for a, b in itertools.pairwise(SIZES)]
        inputs = X.astype(kind, copy=False)
        T = np.eye(SIZES[-1], dtype=kind)[y]
        if traced:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
        for _ in range(EPOCHS):
            hs, zs = hand_numpy.forward(layers, inputs)
            exp = np.exp(zs[-1] - zs[-1].max(axis=1, keepdims=True))
            d = (exp / exp.sum(axis=1, keepdims=True) - T) / len(inputs)
            grads = hand_numpy.backward(layers, hs, zs, d)
            for (W, b), gW, gb in zip(layers, grads[::2], grads[1::2]):
                W -= LR * gW
                b -= LR * gb
    found = _status()
    result = {"rss": found["VmHWM"] - baseline, "whole": found["VmHWM"]}
    if traced:
        result["tracemalloc"] = (tracemalloc.get_traced_memory()[1] - before) / 2**20
        tracemalloc.stop()
    return result


def fresh(side: str, traced: bool, dtype: str = "float64") -> dict[str, float]:
    """:func:`work` in a fresh Python process."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.fit_memory", "--side", side,
                           "--dtype", dtype] + (["--traced"] if traced else []),
                          capture_output=True, text=True, cwd=ROOT, check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(runs: int = 3, dtype: str = "float64") -> dict[str, dict[str, list[float]]]:
    """Each side's figures over ``runs`` pairs of fresh processes (RSS, then tracemalloc)."""
    found: dict[str, dict[str, list[float]]] = {"ours": {}, "numpy": {}}
    for _ in range(runs):
        for side in ("ours", "numpy"):
            for traced in (False, True):
                for name, value in fresh(side, traced, dtype).items():
                    if traced == (name == "tracemalloc"):
                        found[side].setdefault(name, []).append(value)
    return found


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} MiB ({min(values):.1f}-{max(values):.1f})"


def rows(runs: int = 3) -> list[str]:
    """Markdown rows: peak RSS of the work, whole process, tracemalloc peak; ours / NumPy."""
    found = measure(runs)
    ours, numpy = found["ours"], found["numpy"]
    lines = []
    for name, label, target in (("rss", "peak RSS of the work (model and training), fresh "
                                 "process", "<= 3x"),
                                ("whole", "whole-process peak RSS, imports included", "-"),
                                ("tracemalloc", "tracemalloc peak during fit / the hand "
                                 "steps", "<= 3x")):
        ratios = sorted(a / b for a, b in zip(ours[name], numpy[name]))
        lines.append(f"| {label} | {target} | {statistics.median(ratios):.2f}x "
                     f"({ratios[0]:.2f}-{ratios[-1]:.2f}): {_cell(ours[name])} vs "
                     f"{_cell(numpy[name])} |")
    return lines


def main(argv: list[str]) -> int:
    if "--side" in argv:
        side = argv[argv.index("--side") + 1]
        dtype = argv[argv.index("--dtype") + 1] if "--dtype" in argv else "float64"
        print(json.dumps(work(side, "--traced" in argv, dtype)))
        return 0
    print(f"784-256-256-10, {EPOCHS} epochs of one batch of {EXAMPLES:,}: ours (nn.fit, "
          "compiled='auto') / hand NumPy, medians (ranges) of 3 fresh-process pairs\n")
    print("| measure | target | ours / hand NumPy |\n| --- | --- | ---: |")
    print("\n".join(rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
