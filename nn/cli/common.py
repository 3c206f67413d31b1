"""What the command line's parts share: its name, exit statuses, errors and choices."""

from __future__ import annotations

import argparse
import math
import os
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from autograd_scalar.validate import folder_refusal, names_a_folder, refused_folder

from .. import optim
from ..activations import ACTIVATIONS
from ..formula import FUNCTIONS, FormulaError, parse_formula
from ..losses import LOSSES

PROG = "autograd-scalar"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TRACEBACK_VARIABLE = "AUTOGRAD_SCALAR_TRACEBACK"
"""Set this environment variable to see the traceback of an unexpected error."""
MAX_SAMPLES = 1_000_000
MAX_LAYER_SIZE = 10_000
GPT_SIZES = {"n_embd": 16, "n_head": 4, "n_layer": 1, "block_size": 16}
"""The ``gpt`` command's model sizes when none is given: microgpt's."""

MAX_GPT_PARAMETERS = 1_000_000
"""The largest GPT the ``gpt`` command builds: every parameter is a Value and every
training step a graph through all of them, so 1,000,000 parameters (240 times microgpt's)
already take gigabytes."""


class UsageError(Exception):
    """A command line that cannot be run as given (exit status 2)."""

    def __init__(self, message: str, prog: str = "") -> None:
        super().__init__(message)
        self.prog = prog


class CommandFailed(Exception):
    """A command that ran but did not succeed (exit status 1)."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line raises UsageError instead of printing usage.

    On a parser whose ``takes_formula`` is set, a word that starts with ``-``, is not
    one of its options (nor, for ``--``, an abbreviation of one) and reads as a formula
    (``-x**2``, ``-3*x``, ``--x``) is the formula, not an unknown option: argparse would
    only take it so with a space in it.
    """

    takes_formula = False
    subcommands: Mapping[str, Parser] = MappingProxyType({})
    """The parsers of its subcommands, by name (set on the top parser)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)", self.prog)

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """argparse's, but words left over are the subcommand's error: its name and its
        --help, which lists the options meant (the top parser's does not)."""
        found, extra = self.parse_known_args(args, namespace)
        if extra:
            owner = self.subcommands.get(getattr(found, "command", None) or "", self)
            owner.error(f"unrecognized arguments: {' '.join(extra)}")
        return found

    def _parse_optional(self, arg_string: str) -> Any:
        # argparse's hook that tells options from positionals: None means positional
        if self.takes_formula and _reads_as_formula(arg_string, self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


OPTION_FORM = re.compile(r"--?[A-Za-z][\w-]*")
"""What an option looks like: a word that does not is no option, whatever follows."""


def _reads_as_formula(word: str, options: Iterable[str]) -> bool:
    """Whether ``word`` is a formula that starts with a minus sign, not an option.

    A word starting with ``--`` that argparse would take as an abbreviation of a long
    option (``--a`` for ``--at``) stays the option; ``--`` alone ends the options. A word
    that does not parse is still the formula unless it has the form of an option, so
    that ``-x.real`` gets the formula's own error, not "FORMULA is required".
    """
    names = list(options)
    if not word.startswith("-") or word in names:
        return False
    if word.startswith("--") and any(name.startswith(word) for name in names):
        return False
    try:
        parse_formula(word)
    except FormulaError:
        return not OPTION_FORM.fullmatch(word)
    return True


FORMATTER = argparse.RawDescriptionHelpFormatter


SYNTHETIC = ("moons", "circles", "spirals", "xor", "blobs")
DATA_SETS = (*SYNTHETIC, "digits", "mnist_5k")
DEFAULT_EPOCHS = {"synthetic": 100, "real": 10}
"""train's epochs when --epochs is not given: the generated sets have 200 points, the real
ones 1,797 and 5,000, so with batches of 32 both get a few thousand steps."""
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


def examples(*commands: str) -> str:
    """A --help epilog listing example command lines of ``autograd-scalar``."""
    return "\n".join(["examples:", *(f"  {PROG} {command}" for command in commands)])


def check_file_target(option: str, path: str,
                      failure: type[Exception] = CommandFailed) -> None:
    """Whether the output file ``path`` given by ``option`` can be written, found before
    any work, not when the work is done and would be lost: UsageError (exit 2) for a
    path of the wrong kind (empty, the form of a folder, an existing folder, device or
    pipe); ``failure`` (by default CommandFailed, exit 1, as for any file that cannot be
    written) when its folder does not exist or cannot be written, or it is a file this
    user may not write (mode 0444: it would be refused once the work is done)."""
    check_output_file(option, path, failure)
    target, folder = Path(path), Path(path).parent
    _check_replaceable(option, path, target, failure)
    refusal = folder_refusal(folder)
    if refusal is not None:
        raise failure(f"{option} {path}: {refused_folder(folder, refusal)}")


def _check_replaceable(option: str, shown: str, target: Path,
                       failure: type[Exception] = CommandFailed) -> None:
    """UsageError if ``target`` exists and is not a regular file (a symbolic link is
    replaced, as the writers do); ``failure`` if it is one this user may not write."""
    if target.is_symlink() or not target.exists():
        return
    named = "" if str(target) == shown else f"{target} "  # a file inside the folder shown
    if not target.is_file():
        raise UsageError(f"{option} {shown}: {named}exists and is not a regular file (a "
                         "folder, device or pipe); give the path of a file")
    if not os.access(target, os.W_OK):
        raise failure(f"{option} {shown}: {named or 'it '}is read-only for this user and "
                      "would be left as it was; make it writable (chmod u+w) or write "
                      "elsewhere")


def output_folder(option: str, name: str, files: Iterable[str] = ()) -> Path:
    """The output folder ``name`` given by ``option``, checked before any work and made
    only when something is written into it (:func:`made`), so that a run that fails
    leaves no empty folder: UsageError (exit 2) when it is empty or exists and is not a
    folder, CommandFailed (exit 1) when it could not be made or written (the pictures of
    a finished run would be lost), or one of the ``files`` the command writes there
    exists and cannot be replaced (as :func:`check_file_target` says of a file)."""
    if not name:
        raise UsageError(f"{option}: the path is empty; give the path of a folder")
    folder = Path(name)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {name}: exists and is not a folder")
    if folder.is_dir():
        for file in files:
            _check_replaceable(option, name, folder / file)
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise CommandFailed(f"{option} {name}: {existing} is a file, not a folder")
    refusal = folder_refusal(existing)
    if refusal is not None:
        reason = refused_folder(existing, refusal)
        if existing != folder:  # the folder is to be made there: say so
            reason = f"it cannot be made, as {reason}"
        raise CommandFailed(f"{option} {name}: {reason}")
    return folder


def loss_text(loss: float) -> str:
    """A loss as a summary line shows it: four decimals, in powers of ten once large."""
    return f"{loss:.4f}" if abs(loss) < 1e6 else f"{loss:.4g}"


def trained(train: Callable[[], Any], cause: str | None, unit: str = "epoch",
            where: Callable[[], tuple[str, bool]] | None = None) -> Any:
    """``train()``'s history, or CommandFailed (exit 1) for a run that diverged: a gradient
    that was not finite (the optimizer refused the step), or a last loss that is not (its
    model is then neither saved nor drawn). The line names the option to lower,
    ``cause`` (None for a command without one, as ``demo``), not the library's hint of
    clipping and detect_anomaly, which the commands do not offer. ``where()``, if given,
    says where a refused step came in the run, and whether ``cause`` can be to blame."""
    try:
        history = train()
    except optim.NonFiniteGradientError as error:
        problem = error.problem
        if where is not None:
            place, blamed = where()
            problem, cause = f"{place}: {problem}", cause if blamed else None
        if error.buffer:  # a gradient too large to square: no learning rate helps
            raise CommandFailed(diverged(f"{problem}; the gradients are too large for "
                                         "the optimizer's running squares: scale the data "
                                         "down, or use sgd", None)) from None
        raise CommandFailed(diverged(problem, cause)) from None
    if history.loss and not math.isfinite(history.loss[-1]):
        raise CommandFailed(diverged(f"the loss is {history.loss[-1]} after {unit} "
                                      f"{len(history.loss)}; nothing was saved", cause))
    return history


def diverged(problem: str, cause: str | None) -> str:
    """The line saying a run diverged: ``problem``, then the option to lower, if any."""
    return f"training diverged: {problem}" + (f"; lower {cause}" if cause else "")


def made(folder: Path) -> Path:
    """``folder`` (from :func:`output_folder`), made with its parents if it is not there."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_output_file(option: str, path: str,
                      failure: type[Exception] = CommandFailed) -> None:
    """``failure`` (by default CommandFailed, exit 1, as for any file that cannot be
    written) when the folder of the output file ``path`` given by ``option`` does not
    exist; UsageError when ``path`` is empty or has the form of a folder (``out/``);
    checked before any work."""
    if not path:
        raise UsageError(f"{option}: the path is empty; give the path of a file")
    if names_a_folder(path):
        raise UsageError(f"{option} {path}: names a folder, not a file; give the path of a "
                         "file (such as out/model.json)")
    folder = Path(path).parent
    if folder.exists() and not folder.is_dir():
        raise failure(f"{option} {path}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise failure(f"{option} {path}: the folder {folder} does not exist")
