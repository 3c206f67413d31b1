"""The command ``autograd-scalar``: the library's main jobs from a terminal.

``demo`` trains a small network on the two-moons data and writes its pictures;
``train`` does the same with every choice open; ``graph`` draws the computation
graph of a formula after backward; ``gradcheck`` compares a formula's analytic
gradient with central differences. Formulas are read by :mod:`nn.formula`, which
evaluates nothing: it builds Values from a whitelisted syntax tree.

Exit status: 0 on success; 1 when ``gradcheck`` finds a mismatch or a command
fails (a file that cannot be written, a missing optional dependency, training
that diverges, memory running out); 2 for a bad command line (unknown option, bad formula, bad
``--at``); 130 when interrupted. Every error is one line on stderr, never a
traceback; an unexpected one (a bug) too, unless the environment variable
``AUTOGRAD_SCALAR_TRACEBACK`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
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
        return run(args)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_OK
    except UsageError as error:
        return _fail(error.prog or command, str(error), EXIT_USAGE)
    except CommandFailed as error:
        return _fail(command, str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", 130)
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


def _fail(command: str, message: str, status: int) -> int:
    print(f"{command}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror or error}: {error.filename}"
    return str(error) or type(error).__name__
