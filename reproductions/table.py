"""The reproduction table (docs/howto/reproductions.md): each published figure beside ours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .family_trees import PAPER_HELD_OUT_RIGHT, FamilyTreesRun
from .mnist import REFERENCE_ACCURACY, MnistRun
from .symmetry import PAPER_SWEEPS, SymmetrySummary, mirror_pattern


def symmetry_rows(summary: SymmetrySummary) -> list[tuple[str, str, str]]:
    """(what, published, ours) for sweeps to solution and for the weight pattern."""
    n, solved = len(summary.runs), len(summary.solved)
    median = summary.median_sweeps
    ours = (f"median {median:,.0f} sweeps over the {solved} of {counted(n, 'seed')} that "
            f"solved it within {summary.max_sweeps:,}" if median is not None
            else f"0 of {counted(n, 'seed')} solved it within {summary.max_sweeps:,} sweeps")
    pattern = len(summary.with_paper_pattern)
    return [
        ("Mirror symmetry (6-2-1): sweeps to solution", f"{PAPER_SWEEPS:,}", ours),
        ("Mirror symmetry: learned weights",
         "mirror pairs equal and opposite, magnitudes 1:2:4",
         f"{pattern} of {solved} solved runs show both (within 10%)"),
    ]


def counted(n: int, thing: str) -> str:
    """"1 run", "2 runs"."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def family_row(runs: Sequence[FamilyTreesRun]) -> tuple[str, str, str]:
    """(what, published, ours) for one set of family-trees runs with the same settings."""
    settings = runs[0].settings
    right = [r.test_right for r in runs]
    first = ", ".join(f"{k} of 4" for k in right[:2])
    train = int(np.median([r.train_right for r in runs]))
    ours = (f"{'first two runs' if len(runs) > 1 else 'one run'} {first}; over "
            f"{counted(len(runs), 'run')} mean {np.mean(right):.1f} of 4, "
            f"{right.count(4)} with 4 of 4, {sum(k >= 3 for k in right)} with 3 or more "
            f"(median {train} of {runs[0].n_train} training facts right)")
    first_run, second_run = PAPER_HELD_OUT_RIGHT
    published = (f"{first_run} of 4 (the paper), and {second_run} of 4 on a second run "
                 "(Hinton 1986)")
    return (f"Family trees, held-out facts right ({settings.name} settings: "
            f"{settings.describe()})", published, ours)


def mnist_row(runs: Sequence[MnistRun]) -> tuple[str, str, str]:
    """(what, published, ours): the first run's accuracy, and the mean and range over all
    (each seed its own split, initial weights and batches)."""
    run, accuracies = runs[0], [100 * r.test_accuracy for r in runs]
    spread = (f"; over {counted(len(runs), 'seed')} mean {np.mean(accuracies):.2f}% "
              f"({min(accuracies):.2f}-{max(accuracies):.2f})" if len(runs) > 1 else "")
    return ("MNIST 784-16-16-10, test accuracy after 5 epochs of batch 64",
            f"{100 * REFERENCE_ACCURACY:.2f}% (a hand-written NumPy network, 60,000 training "
            "images)",
            f"seed 0 {accuracies[0]:.2f}%{spread} ({run.n_train:,} training and "
            f"{run.n_test:,} test images of mnist_5k, {run.seconds:.1f} s a run)")


def table(symmetry: SymmetrySummary, family: Sequence[Sequence[FamilyTreesRun]],
          mnist: Sequence[MnistRun]) -> str:
    """The markdown table: one row per figure, published beside ours."""
    rows = [*symmetry_rows(symmetry), *(family_row(runs) for runs in family), mnist_row(mnist)]
    lines = ["| Experiment | Published | Ours |", "| --- | --- | --- |"]
    lines += [f"| {what} | {published} | {ours} |" for what, published, ours in rows]
    return "\n".join(lines)


def details(symmetry: SymmetrySummary, family: Sequence[Sequence[FamilyTreesRun]],
            mnist: Sequence[MnistRun]) -> str:
    """Per-run figures behind the table, one line each."""
    lines = ["Mirror symmetry, per seed:"]
    for run in symmetry.runs:
        shape = "; ".join(
            f"hidden unit {k}: antisymmetry {p.antisymmetry:.3f}, ratios "
            + ":".join(f"{r:.2f}" for r in p.ratios)
            for k, p in enumerate(mirror_pattern(w) for w in run.hidden_weights)
        ) if run.solved else ""
        lines.append(f"  seed {run.seed}: "
                     + (f"{run.sweeps} sweeps; {shape}" if run.solved else "not solved"))
    for runs in family:
        lines.append(f"Family trees ({runs[0].settings.describe()}), per seed:")
        for r in runs:
            held = ", ".join(f"{f.person} {f.relationship}" for f in r.test)
            lines.append(f"  seed {r.seed}: {r.test_right} of 4 held out ({held}); "
                         f"{r.train_right} of {r.n_train} training facts")
    lines.append("MNIST test accuracy per seed: "
                 + ", ".join(f"{100 * r.test_accuracy:.2f}%" for r in mnist))
    lines.append("MNIST seed 0, validation accuracy per epoch: "
                 + ", ".join(f"{100 * a:.2f}%" for a in mnist[0].history.val_accuracy))
    return "\n".join(lines)
