"""microgpt's training step, with microgpt's own 30-line ``Value`` or ours dropped in.

The reference (:mod:`reproductions.microgpt`) follows microgpt step for step; only the
``Value`` class (or, in :func:`compare_module`, the whole model: ``nn.gpt.GPT``)
changes, so the two runs compute the same numbers and their times compare the engines
alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reproductions.microgpt import (
    BETA1,
    BETA2,
    BLOCK_SIZE,
    EPS_ADAM,
    LEARNING_RATE,
    N_EMBD,
    N_HEAD,
    N_LAYER,
    MicrogptValue,
    Trainer,
    gpt_state,
    names,
)

__all__ = ["MicrogptValue", "Trainer", "alternate", "compare", "compare_module", "gpt_state"]


def compare(value: Callable[[float], Any], rounds: int, steps: int,
            collector: bool | str) -> tuple[float, float, float]:
    """Median seconds per step of microgpt's own Value and of ``value``, and the
    largest loss difference between them, over ``rounds`` alternating blocks.

    The two trainers start from the same weights and see the same names, so their
    losses must agree step for step. ``collector`` keeps Python's cyclic garbage
    collector on (as in any training script), turns it off during the blocks, or
    turns it off and collects each step's garbage in its time (see :func:`alternate`).
    """
    docs = names()
    reference, ours = Trainer(MicrogptValue, docs), Trainer(value, docs)
    return alternate(reference.step, ours.step, rounds, steps, collector)


def compare_module(rounds: int, steps: int, collector: bool | str
                   ) -> tuple[float, float, float]:
    """As :func:`compare`, with ``nn.gpt.GPT`` (its modules, ``gather`` and ``logsumexp``,
    ``nn.optim.Adam`` and ``LinearLR``) in place of microgpt's code and our Value."""
    from nn.gpt import GPT, CharTokenizer, train_step
    from nn.optim import Adam
    from nn.schedules import LinearLR

    reference = Trainer(MicrogptValue, names())
    tokenizer = CharTokenizer.from_documents(reference.docs)
    model = GPT(tokenizer.vocab_size, n_embd=N_EMBD, n_head=N_HEAD, n_layer=N_LAYER,
                block_size=BLOCK_SIZE)
    model.load_state_dict(gpt_state(reference))
    optimizer = Adam(model, lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPS_ADAM)
    schedule = LinearLR(optimizer, 1.0, 0.0, 1000)  # Trainer.step decays over 1,000 steps
    documents = [tokenizer.encode(doc) for doc in reference.docs]
    done = [0]

    def step() -> float:
        loss = train_step(model, optimizer, [documents[done[0] % len(documents)]])
        schedule.step()
        done[0] += 1
        return loss

    return alternate(reference.step, step, rounds, steps, collector)


def alternate(reference: Callable[[], float], ours: Callable[[], float], rounds: int,
              steps: int, collector: bool | str) -> tuple[float, float, float]:
    """Median seconds per step of two step functions run in alternating blocks of
    ``steps``, and the largest difference between the losses they return.

    ``collector``: True leaves Python's cyclic collector on, False turns it off during
    the blocks. "step" turns it off too, and collects after every step, inside the
    step's time, what the step left, with everything older frozen out of the
    collection (``gc.freeze``). microgpt's ``backward`` keeps its graph alive in a
    reference cycle (its recursive closure): with the collector off its graphs are
    freed only by the collection between blocks, outside the timed region, while a
    graph of ours is freed at once by reference counting, inside it.
    """
    import gc
    import statistics
    import time

    times: dict[str, list[float]] = {"reference": [], "ours": []}
    worst = 0.0
    each_step = collector == "step"
    for _ in range(rounds):
        losses = {}
        for name, step in (("reference", reference), ("ours", ours)):
            gc.collect()
            if each_step:
                gc.freeze()
            if collector is not True:
                gc.disable()
            start = time.perf_counter()
            found = []
            for _ in range(steps):
                found.append(step())
                if each_step:
                    gc.collect()
            losses[name] = found
            times[name].append((time.perf_counter() - start) / steps)
            gc.enable()
            if each_step:
                gc.unfreeze()
        worst = max([worst] + [abs(a - b) for a, b in zip(losses["reference"], losses["ours"])])
    return statistics.median(times["reference"]), statistics.median(times["ours"]), worst


def core_rows(rounds: int = 7, steps: int = 8) -> list[str]:
    """The table of microgpt's step with its Value and ours, for the core this process
    loaded (compiled, or interpreted under ``AUTOGRAD_SCALAR_PURE_PYTHON=1``): medians of
    the alternating blocks, and the ratio's median and range over rounds of one block
    each (target: microgpt / ours >= 1.5 on the compiled core, >= 1 on the interpreted
    one with the collector off: its "on" row is not the target's). A third row, with
    each step's garbage collected in its time, shows what the collector-off row leaves
    out (see :func:`alternate`)."""
    import statistics

    import autograd_scalar as ag

    core = "compiled" if ag.compiled() else "interpreted (AUTOGRAD_SCALAR_PURE_PYTHON=1)"
    target = ">= 1.5x" if ag.compiled() else ">= 1x"
    lines = [f"Core: {core}. microgpt's algorithm verbatim with its own 30-line Value, then "
             "with ours dropped in; same weights, same names; rounds of alternating blocks "
             f"of {steps} steps, in a process of their own.", "",
             f"| cyclic collector | microgpt's Value | ours | microgpt / ours, median (range) "
             f"(target {target}) | largest loss difference |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for collector in (True, False, "step"):
        ratios, refs, ourss, worst = [], [], [], 0.0
        for _ in range(rounds):
            reference, ours, difference = compare(ag.Value, 1, steps, collector)
            ratios.append(reference / ours)
            refs.append(reference)
            ourss.append(ours)
            worst = max(worst, difference)
        setting = {True: "on" if ag.compiled() else "on (not the target's row: the target "
                   "is with the collector off)", False: "off",
                   "step": "off, each step's garbage collected in its time (not the target's "
                   "row)"}[collector]
        lines.append(f"| {setting} | {statistics.median(refs) * 1e3:.1f} ms "
                     f"| {statistics.median(ourss) * 1e3:.1f} ms | "
                     f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) "
                     f"| {worst:.1e} |")
    return lines


if __name__ == "__main__":
    import sys

    quick = "--quick" in sys.argv
    print("\n".join(core_rows(*((2, 2) if quick else (7, 8)))))
