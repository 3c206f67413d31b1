"""``python -m reproductions``: run every reproduction and print the table of the docs.

Options: ``--seeds N`` runs of each experiment (default 10), ``--max-sweeps`` the symmetry
budget per run (default 20000), ``--eager`` to build one graph per example instead
of the compiled tape (same numbers, much slower).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .family_trees import ADJUSTED, PAPER, reproduce_family_trees
from .mnist import train_mnist
from .symmetry import reproduce_symmetry
from .table import details, table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reproductions",
                                     description="Reproduce the published figures of the "
                                                 "reproductions table and print the table.")
    parser.add_argument("--seeds", type=int, default=10,
                        help="runs (seeds 0..N-1) of each experiment (default 10)")
    parser.add_argument("--max-sweeps", type=int, default=20000,
                        help="symmetry: give up on a run after this many sweeps (default 20000)")
    parser.add_argument("--eager", action="store_true",
                        help="one graph per example instead of the compiled tape (slow)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.max_sweeps < 1:
        parser.error("--seeds and --max-sweeps must be positive")
    compiled = not args.eager
    seeds = range(args.seeds)
    symmetry = reproduce_symmetry(seeds, args.max_sweeps, compiled=compiled)
    family = [reproduce_family_trees(seeds, settings, compiled) for settings in (PAPER, ADJUSTED)]
    mnist = [train_mnist(seed, compiled=compiled) for seed in seeds]
    print(table(symmetry, family, mnist))
    print()
    print(details(symmetry, family, mnist))
    return 0


if __name__ == "__main__":
    sys.exit(main())
