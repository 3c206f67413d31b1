"""Checking arguments: the questions every public function asks of its numbers, asked once.

Python's ``bool`` is an ``int`` (``True + True == 2``), so ``isinstance(x, int)`` takes
``True`` for 1 and a flag passed in the wrong place would go unnoticed; every count, index
and size here refuses bools. NumPy's integer and floating scalars count as numbers, since
they are what indexing and reductions of arrays give back.

Each checker returns the value in its plain Python type (``int``, ``float``, ``bool``) or
raises with a message that names the argument, what was expected and what came:
``"fit: epochs must be a positive int, got 2.5"``. ``who`` (the function's name) prefixes
the message when given. Beside them: whether a folder takes new files, and where a call
into the engine came from (a read a trace counts, a warning's line).
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from itertools import chain
from types import FrameType
from typing import Any, TypeGuard

import numpy as np

from .ops import is_real  # the core's test of a number, asked here too

INTEGERS = (int, np.integer)


def is_integer(value: Any) -> TypeGuard[int | np.integer[Any]]:
    """Whether ``value`` is an int or a NumPy integer (a bool is not)."""
    return isinstance(value, INTEGERS) and not isinstance(value, bool)


def _prefix(who: str) -> str:
    return f"{who}: " if who else ""


DIRECTION_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Unicode's bidirectional formatting characters: marks, embeddings, overrides, isolates."""
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff" + DIRECTION_CONTROLS + "]")
"""Control characters other than tab and line breaks, lone surrogates and direction
controls."""


def printable(text: str) -> str:
    """``text`` as a terminal, a page or a picture shows it: a carriage return as a line
    break (a terminal would go back over the line) and each UNSAFE character replaced
    by U+FFFD, so that no name from a file moves a terminal's cursor, reorders the text
    beside it, or leaves a picture's file unreadable (XML takes no control characters,
    UTF-8 no lone surrogates)."""
    return UNSAFE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def without_nul(shown: str, who: str) -> str:
    """``shown``, a path as text; ValueError beginning with ``who`` if it holds a NUL
    character, which no system takes in a file name (Python's own error, "embedded
    null byte", names neither the call nor the path)."""
    if "\0" in shown:
        raise ValueError(f"{who}: {shown!r} holds a NUL character (\\0), which no file "
                         "name can; expected a file path")
    return shown


def shown(value: Any) -> str:
    """``repr(value)`` for a message, an int of more than 20 digits said by its size (its
    digits are noise there, and past 4,300 of them ``str`` itself refuses)."""
    if is_integer(value) and abs(int(value)).bit_length() > 66:
        digits = int(abs(int(value)).bit_length() * math.log10(2)) + 1
        return f"{'a negative' if value < 0 else 'an'} int of about {digits} digits"
    return repr(value)


def integer(name: str, value: Any, low: int | None = None, high: int | None = None, *,
            who: str = "", what: str | None = None) -> int:
    """``value`` as an int if it is an integer with ``low <= value <= high`` (either bound
    may be None); ValueError otherwise. ``what`` replaces the generated description
    ("a positive int", "an int >= 0", "an int from 1 to 17")."""
    if is_integer(value) and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    if what is None:
        if low is not None and high is not None:
            what = f"an int from {low} to {high}"
        elif low == 1:
            what = "a positive int"
        elif low is not None:
            what = f"an int >= {low}"
        elif high is not None:
            what = f"an int <= {high}"
        else:
            what = "an int"
    raise ValueError(f"{_prefix(who)}{name} must be {what}, got {shown(value)}"[:300])


def real(name: str, value: Any, low: float | None = None, high: float | None = None, *,
         low_open: bool = False, high_open: bool = False, finite: bool = True,
         who: str = "", what: str | None = None) -> float:
    """``value`` as a float if it is a real number within the bounds (closed unless
    ``low_open`` / ``high_open``) and, with ``finite``, neither infinite nor NaN;
    ValueError otherwise. ``what`` replaces the generated description
    ("a finite number > 0", "a number from 0 to 1")."""
    if is_real(value):
        try:
            x = float(value)
        except OverflowError:  # an int past float range: out of any finite bound
            x = math.inf if value > 0 else -math.inf
        inside = ((low is None or (x > low if low_open else x >= low))
                  and (high is None or (x < high if high_open else x <= high)))
        if inside and not math.isnan(x) and (math.isfinite(x) or not finite):
            return x
    if what is None:
        kind = "a finite number" if finite else "a number"
        if low is not None and high is not None:
            if low_open and high_open:
                what = f"{kind} strictly between {low:g} and {high:g}"
            else:
                what = (f"{kind} from {low:g}{' (excluded)' if low_open else ''} "
                        f"to {high:g}{' (excluded)' if high_open else ''}")
        elif low is not None:
            what = f"{kind} {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            what = f"{kind} {'<' if high_open else '<='} {high:g}"
        else:
            what = kind
    raise ValueError(f"{_prefix(who)}{name} must be {what}, got {shown(value)}"[:300])


def flag(name: str, value: Any, *, who: str = "") -> bool:
    """``value`` if it is True or False; TypeError otherwise (1, "yes" and None are not
    flags: a flag in the wrong position should not pass silently)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{_prefix(who)}{name} must be True or False, got {value!r}")


def choice(name: str, value: Any, options: tuple[str, ...], *, who: str = "") -> str:
    """``value`` if it is one of ``options`` (strings); ValueError naming them otherwise."""
    if isinstance(value, str) and value in options:
        return value
    raise ValueError(f"{_prefix(who)}{name} must be one of {', '.join(map(repr, options))}, "
                     f"got {shown(value)}"[:300])


def names_a_folder(path: str) -> bool:
    """Whether ``path`` has the form of a folder (``out/``, ``out/.``, ``..``, ""), so that
    writing it as a file would make one named otherwise than the caller wrote."""
    return os.path.basename(path) in ("", ".", "..") or path.endswith(("/", os.sep))


CLEANUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                        if hasattr(signal, name))
"""Signals whose default action (ending the process) waits until the temporary is removed."""


class _Terminated(BaseException):
    """Raised inside a write by a termination signal, so that ``finally`` blocks run."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum} during a file write")
        self.signum = signum


@contextlib.contextmanager
def signals_clean_up() -> Iterator[None]:
    """While the body runs, SIGTERM and SIGHUP (if left at their default, ending the
    process) raise instead; once the body has cleaned up, the signal is sent again
    with the default action restored, so the process ends as it would have."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def interrupt(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    for number in CLEANUP_SIGNALS:
        if signal.getsignal(number) is signal.SIG_DFL:
            previous[number] = signal.signal(number, interrupt)
    try:
        yield
    except _Terminated as stopped:
        _restore(previous)
        os.kill(os.getpid(), stopped.signum)
        raise  # reached only if the signal is blocked: the caller still sees the write fail
    finally:
        _restore(previous)


def _restore(previous: dict[int, Any]) -> None:
    for number, handler in previous.items():
        signal.signal(number, handler)
    previous.clear()


def folder_refusal(folder: str | os.PathLike[str]) -> OSError | None:
    """Why no file can be made in ``folder`` (the system's error: no permission, a
    read-only or full file system), or None; found by making (and removing) an empty one:
    permission bits answer yes to root for folders that take no new files (such as
    ``/proc``), whose files would then fail only once the work is done."""
    tried: list[str] = []
    try:
        with signals_clean_up():
            try:
                os.close(new_private_file(os.path.join(folder, ".writable"), tried))
            finally:  # also on an interrupt or a signal: the probe never stays
                if tried:
                    with contextlib.suppress(OSError):
                        os.unlink(tried[-1])
    except OSError as error:
        return error
    return None


def new_private_file(stem: str, tried: list[str]) -> int:
    """A new file ``stem.XXXXXXXX.tmp`` (eight random hex digits, as long as
    ``tempfile.mkstemp``'s names), private and open for writing: its descriptor. Each
    name is put in ``tried`` before the file is made (``O_EXCL``: never one that is
    there already, which is passed over), so that a signal or an error at any point
    leaves the caller the name to remove, which ``mkstemp`` gives only once it returns."""
    for _ in range(100):
        tried.append(f"{stem}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tried[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL
                           | getattr(os, "O_BINARY", 0), 0o600)  # Windows' flag for bytes
        except FileExistsError:
            tried.pop()  # another file's: not the caller's to remove
    raise FileExistsError(errno.EEXIST, "no free name for a new file", stem)


def refused_folder(folder: object, refusal: OSError) -> str:
    """How a folder that takes no new files is said (``folder`` as it should be shown),
    with the system's reason from :func:`folder_refusal`."""
    return f"the folder {folder} takes no new files ({refusal.strerror or refusal})"


# -- where a call came from: the engine's files and its user's --------------------

ENGINE_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep
"""The package's folder: code there is the engine's, not its user's."""
_IN_ENGINE: dict[str, bool] = {}


def in_engine(file: str) -> bool:
    """Whether the source file ``file`` is one of the engine's own (kept per name), or
    the pseudo-file ``<Value.name>`` of a method the interpreted core writes out from
    its row (:func:`autograd_scalar.value.written_out`)."""
    found = _IN_ENGINE.get(file)
    if found is None:
        found = _IN_ENGINE[file] = (file.startswith("<Value.")
                                    or os.path.abspath(file).startswith(ENGINE_FOLDER))
    return found


def first_outside(frame: FrameType | None, also: frozenset[str] = frozenset()
                  ) -> tuple[FrameType | None, int]:
    """The first frame, from ``frame`` outward, whose file is neither the engine's nor in
    ``also`` (absolute paths), and how many frames were passed on the way."""
    passed = 0
    while frame is not None and (in_engine(frame.f_code.co_filename) or (
            also and os.path.abspath(frame.f_code.co_filename) in also)):
        frame, passed = frame.f_back, passed + 1
    return frame, passed


# -- arrays of numbers: what a float conversion would hide --------------------------
# ``np.asarray(x, dtype=float)`` drops the imaginary part of complex numbers (with a
# warning at most) and parses strings such as "1.5"; either would compute with something
# other than what the user holds.

REAL_ELEMENTS = (int, float, np.integer, np.floating, np.bool_)
_NONE = object()
"""What :func:`real_array`'s search for a non-number finds when there is none."""


def real_array(x: Any, what: str, booleans: bool = True) -> np.ndarray:
    """``x`` as a float64 array (``x`` itself if it is one: a copy of a large array would
    cost every call); TypeError naming ``what`` for complex, text or other non-numbers,
    and for booleans unless ``booleans`` (targets may be True/False; a Value's number may
    not, as ``Value(True)`` is refused); ValueError for a masked array with masked
    entries, whose hidden numbers would be used as they are (the array is not checked
    for shape or finiteness here)."""
    masked = sys.modules.get("numpy.ma")  # not np.ma: that would import it, 5 MiB
    inside = _lost_in_conversion(x, masked, booleans)
    if inside == "masked" or (masked is not None and isinstance(x, masked.MaskedArray)
                              and masked.is_masked(x)):
        raise ValueError(f"{what} has masked entries (a numpy.ma array): fill them "
                         "(x.filled(value)) or drop their rows; the numbers under the mask "
                         "would be used as they are")
    try:
        array = np.asarray(x)
    except (TypeError, RuntimeError) as error:  # a torch tensor needing grad, of bfloat16
        reason = str(error).splitlines()[0][:160] if str(error) else ""
        raise TypeError(f"{what} must be real numbers, got {type(x).__name__}"
                        + (f" that NumPy cannot read: {reason}" if reason else "")) from error
    except ValueError as error:  # rows of several lengths
        raise ValueError(f"{what} must be a rectangular array, every row of one length: "
                         f"{str(error).splitlines()[0]}"[:300]) from None
    kind = array.dtype.kind
    if not booleans and (inside == "bool" or kind == "b" or (kind == "O" and any(
            isinstance(e, (bool, np.bool_)) for e in array.flat))):
        raise TypeError(f"{what} must be real numbers, got booleans: a bool is not a number "
                        "of the graph (Value(True) is refused too); pass x.astype(float) "
                        "for 0 and 1")
    if kind == "c":
        raise TypeError(f"{what} must be real numbers, got complex numbers (dtype "
                        f"{array.dtype}); pass the real part (x.real) if that is what you mean")
    if kind == "O":
        bad = next((e for e in array.flat if not isinstance(e, REAL_ELEMENTS)), _NONE)
        if bad is not _NONE:  # not None as the default: the element may itself be None
            raise TypeError(f"{what} must be real numbers, got {type(bad).__name__}: "
                            f"{bad!r}"[:200])
    elif kind not in "biuf":
        raise TypeError(f"{what} must be real numbers, got an array of dtype {array.dtype}")
    try:
        return array.astype(np.float64, copy=False)
    except OverflowError:  # Python ints past 1.8e308, kept as objects
        raise ValueError(f"{what} must be numbers within float range (up to about 1.8e308); "
                         "it holds a larger integer") from None


_PLAIN_NUMBERS = frozenset((float, int, np.float64, np.float32, np.int64, np.int32))
"""Item types a list of numbers usually holds: nothing for :func:`_lost_in_conversion`
to look into."""

_ROWS = frozenset((list, tuple))


def _lost_in_conversion(x: Any, masked: Any, booleans: bool) -> str | None:
    """What ``np.asarray`` would hide in a list or tuple (nested, of arrays, or an object
    array of them): "masked" for a row with masked entries (its mask dropped), "bool"
    for a bool among numbers (made 1.0 or 0.0) unless ``booleans``; None otherwise.
    The item types of a list (or of all its rows, for a list of lists) are gathered in
    one C-level pass; only a list holding something else is looked at item by item. A
    list that holds itself is looked at once (``np.asarray`` refuses it)."""
    if not isinstance(x, (list, tuple)) and not (type(x) is np.ndarray and x.dtype == object):
        return None
    seen: set[int] = set()
    stack = [x.ravel() if isinstance(x, np.ndarray) else x]
    while stack:
        items = stack.pop()
        if id(items) in seen:
            continue
        seen.add(id(items))
        kinds = set(map(type, items))
        if kinds and kinds <= _ROWS:  # rows: their items' types in one pass as well
            kinds = set(map(type, chain.from_iterable(items)))
        if not kinds - _PLAIN_NUMBERS:
            continue
        for item in items:
            if type(item) in _PLAIN_NUMBERS:
                continue
            if isinstance(item, (list, tuple)):
                stack.append(item)
            elif isinstance(item, (bool, np.bool_)):
                if not booleans:
                    return "bool"
            elif masked is not None and isinstance(item, masked.MaskedArray) \
                    and masked.is_masked(item):
                return "masked"
            elif isinstance(item, np.ndarray) and item.dtype == object:
                stack.append(item.ravel())
            elif getattr(getattr(item, "dtype", None), "kind", None) == "b" and not booleans:
                return "bool"  # an array of bools, a pandas Series of them
    return None


def all_finite(array: np.ndarray) -> bool:
    """Whether every number of a float array is finite, in one pass without a mask in the
    usual case: a NaN or an infinity makes the sum non-finite, so a finite sum clears
    them all; only a sum that is not (or that overflowed from finite numbers) builds the
    mask that tells them apart."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is expected
        total = np.add.reduce(array, axis=None)
    return math.isfinite(total) or bool(np.isfinite(array).all())
