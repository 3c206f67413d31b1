"""The command ``autograd-scalar``: the library's main jobs from a terminal.

``demo`` and ``train`` train a network and draw it, ``graph`` draws a formula's
computation graph, ``gradcheck`` checks its gradient, ``gpt`` trains a GPT on names;
docs/howto/command-line.md describes each. :func:`main` turns every error into one
line on stderr and an exit status: 0 on success; 1 when ``gradcheck`` finds a
mismatch or a command fails; 2 for a bad command line; 130 when interrupted. An
unexpected error (a bug) shows its traceback only when the environment variable
``AUTOGRAD_SCALAR_TRACEBACK`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from ..formula import FormulaError
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    TRACEBACK_VARIABLE,
    CommandFailed,
    UsageError,
)
from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    command = PROG
    try:
        args = parser.parse_args(argv)
        command = f"{PROG} {args.command}"
        run: Callable[[argparse.Namespace], int] = args.run
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(command)
            return run(args)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_OK
    except UsageError as error:
        return _fail(error.prog or command, str(error), EXIT_USAGE)
    except CommandFailed as error:
        return _fail(command, str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", 130)
    except BrokenPipeError:  # the reader stopped (`| head`): nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (FormulaError, ValueError, TypeError) as error:
        return _fail(command, str(error), EXIT_USAGE)
    except MemoryError:
        return _fail(command, "out of memory; ask for a smaller model, batch or data set",
                     EXIT_FAILED)
    except (ArithmeticError, OSError, RuntimeError, ImportError) as error:
        return _fail(command, _one_line(error), EXIT_FAILED)
    except Exception as error:
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        return _fail(command, f"internal error: {type(error).__name__}: {error} (this is a "
                              f"bug; run again with {TRACEBACK_VARIABLE}=1 to see where)",
                     EXIT_FAILED)


def _one_line_warning(command: str) -> Callable[..., None]:
    """How a warning reads on the command line: one line on stderr, as errors do, not
    Python's file, line and source."""
    def show(message: Warning | str, *args: object, **kwargs: object) -> None:
        print(f"{command}: warning: {' '.join(str(message).split())}", file=sys.stderr)
    return show


def _fail(command: str, message: str, status: int) -> int:
    print(f"{command}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def _one_line(error: BaseException) -> str:
    """The error as the system says it: an OSError's text and file (no "[Errno 28]"),
    as Unix commands print one."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror + ("" if error.filename is None else f": {error.filename}")
    return str(error) or type(error).__name__
