"""What the command line's parts share: its name, exit statuses, errors and choices."""

from __future__ import annotations

import argparse
import textwrap
from typing import NoReturn

from .. import optim
from ..activations import ACTIVATIONS
from ..formula import FUNCTIONS
from ..losses import LOSSES

PROG = "autograd-scalar"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TRACEBACK_VARIABLE = "AUTOGRAD_SCALAR_TRACEBACK"
"""Set this environment variable to see the traceback of an unexpected error."""
MAX_SAMPLES = 1_000_000
MAX_LAYER_SIZE = 10_000


class UsageError(Exception):
    """A command line that cannot be run as given (exit status 2)."""

    def __init__(self, message: str, prog: str = "") -> None:
        super().__init__(message)
        self.prog = prog


class CommandFailed(Exception):
    """A command that ran but did not succeed (exit status 1)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line raises UsageError instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)", self.prog)


FORMATTER = argparse.RawDescriptionHelpFormatter


SYNTHETIC = ("moons", "circles", "spirals", "xor", "blobs")
DATA_SETS = (*SYNTHETIC, "digits", "mnist_5k")
ACTIVATION_CHOICES = tuple(name for name in ACTIVATIONS if name != "linear")
LOSS_CHOICES = tuple(LOSSES)
OPTIMIZERS: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSProp,
    "adagrad": optim.Adagrad,
}

FORMULA_HELP = (
    "a formula in Python syntax: numbers, variables, + - * / **, unary -, and "
    f"the functions {', '.join(FUNCTIONS)}; quote it for the shell"
)


def paragraph(text: str) -> str:
    """``text`` wrapped for a --help screen."""
    return textwrap.fill(text, width=78)
