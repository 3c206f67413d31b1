"""Machine code for straight-line code: the C compiler, the build and the loaded kernel.

:mod:`autograd_scalar.tape.translate` writes a segment's scalar code as C; this
module compiles it with the C compiler the installation would use (``CC`` if set,
else the one Python was built with, as ``sysconfig`` and setuptools read it),
into a temporary directory of this process (removed at exit), and loads it with
:mod:`ctypes` as a :class:`Kernel`. Where there is no compiler, or it fails, there
is no kernel and the Python code runs: the same numbers, only slower.

The flags keep Python's numbers: ``-ffp-contract=off`` (no fused multiply-adds:
each product is rounded as Python rounds it) and ``-fno-builtin`` (the compiler
neither folds nor rewrites a math call, e.g. ``pow(x, 2.0)`` into ``x * x``: every
one is the C library's function, which Python's ``math`` calls too).

When to compile (:class:`Budget`) is a rent-or-buy rule, measured: a piece of code
runs as Python (rent) until the time its Python runs took reaches the time its
compilation is expected to take (buy); then it is compiled, in the background
(the compiler is a process of its own; runs go on in Python until it is done).
The expected time is the compile time per C statement measured on this process's
latest compilation (before any, :data:`SECONDS_PER_NODE`). No sequence of
runs then costs more than twice what the better choice in hindsight would have.

``AUTOGRAD_SCALAR_NATIVE`` sets the default policy: "auto" (that rule, for scalar code;
also when unset), "always" (compile at the first run, and wait for it) or "off" (never);
``Tape.native`` sets it per tape. Compiled scalar code computes as scalar code does;
vector code compiles to the lanes dialect (:data:`LANES_FLAGS`, and glibc's vector
math library where :func:`vector_math` finds it), whose numbers are the Python vector
code's to rounding only, so "auto" leaves it to "always" (see
:meth:`autograd_scalar.tape.code.Code.kernel`)."""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import functools
import hashlib
import itertools
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..validate import choice
from .translate import Untranslatable

POLICIES = ("auto", "always", "off")
"""What ``Tape.native`` and ``AUTOGRAD_SCALAR_NATIVE`` may be."""

ENVIRONMENT = "AUTOGRAD_SCALAR_NATIVE"

FLAGS = ("-Og", "-fPIC", "-ffp-contract=off", "-fno-builtin", "-frounding-math")
"""How the C is compiled (see the module docstring); ``-Og`` compiles fastest of the
levels that keep values in registers (``-O0`` compiles a third faster, and runs the
benchmark graph's code twice as slowly). ``-frounding-math`` forbids folds that hold
only when rounding to nearest, such as ``0.0 - fabs(x)`` into ``-fabs(x)``, which
GCC makes even at ``-O0`` and which gives -0.0 where Python gives 0.0."""

LANES_FLAGS = ("-march=native",)
"""Added for the lanes dialect (vector code): the vector registers this machine has
(the code is built where it runs, and never kept past the process)."""


@functools.cache
def vector_math() -> bool:
    """Whether glibc's vector math library (libmvec) is there to link lanes code to."""
    return ctypes.util.find_library("mvec") is not None

UNITS = max(1, min(os.cpu_count() or 1, 8))
"""Into how many files a long piece of code is split, each compiled by its own process."""

SECONDS_PER_NODE = 1e-3
"""The compile time per node of code (translation and compilers, forward and backward)
expected before this process has compiled anything: gcc -Og on the narrow-graph
benchmark's code takes about 0.3 ms per node on an idle two-core machine and over 1 ms
with its cores busy; each compilation then measures it again."""


def default_policy() -> str:
    """``AUTOGRAD_SCALAR_NATIVE``, checked ("auto" when unset)."""
    return _policy(os.environ.get(ENVIRONMENT))


@functools.lru_cache(maxsize=8)
def _policy(setting: str | None) -> str:
    """:func:`default_policy` for this value of the variable (checked once: every run
    asks)."""
    found = (setting or "auto").strip().lower() or "auto"
    return choice(ENVIRONMENT, found, POLICIES)


def compiler() -> list[str] | None:
    """The C compiler's command (``CC``, else Python's own), or None if it is not there."""
    found = _compiler(os.environ.get("CC"), os.environ.get("PATH"))
    return None if found is None else list(found)


@functools.lru_cache(maxsize=8)
def _compiler(cc: str | None, path: str | None) -> tuple[str, ...] | None:
    """:func:`compiler` for these ``CC`` and ``PATH`` (looked up once: plans ask at
    every run whether code is compiled)."""
    command = cc or sysconfig.get_config_var("CC") or "cc"
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or shutil.which(words[0], path=path) is None:
        return None
    return tuple(words)


_directory: str | None = None
_lock = threading.Lock()


def directory() -> str:
    """This process's directory for sources and libraries, made on first use and removed
    at exit."""
    global _directory
    with _lock:
        if _directory is None:
            _directory = tempfile.mkdtemp(prefix="autograd-scalar-native-")
            atexit.register(shutil.rmtree, _directory, True)
        return _directory


@dataclass
class Measured:
    """Compile seconds per node, as last measured in this process."""

    per_node: float = SECONDS_PER_NODE


MEASURED = Measured()


BUILT: dict[str, tuple[ctypes.CDLL, str]] = {}
"""Libraries built by this process (and their paths), by the hash of their flags and
source: one per source. Each :class:`Build` of one makes its own :class:`Kernel`,
whose scratch array no other piece of code shares (two tapes of the same code may run
in two threads)."""


class Kernel:
    """A loaded C function over a batch (see :mod:`autograd_scalar.tape.translate`),
    running ``lanes`` examples at once."""

    def __init__(self, library: ctypes.CDLL, path: str) -> None:
        self.library = library
        self.path = path
        function = library.run
        function.restype = ctypes.c_int
        function.argtypes = [ctypes.c_void_p] * 7 + [ctypes.c_long]
        self._run = function
        library.slots.restype = library.lanes.restype = ctypes.c_long
        self.scratch = np.empty(int(library.slots()), dtype=np.float64)
        self.lanes = int(library.lanes())

    def __call__(self, n: int, R: np.ndarray | None = None, U: np.ndarray | None = None,
                 KI: np.ndarray | None = None, W: np.ndarray | None = None,
                 KO: np.ndarray | None = None, SK: np.ndarray | None = None) -> bool:
        """Run on n examples (arrays (count, n), C-ordered float64); True if flagged.

        Where ``lanes`` does not divide n, the kernel runs on copies widened to a
        multiple of it by repeating the last example (which computes as that example
        does: no flag that the batch itself would not raise), and the outputs' first
        n columns are copied back."""
        width = -(-n // self.lanes) * self.lanes
        if width == n:
            return self._call(n, R, U, KI, W, KO, SK)
        inputs = [None if a is None else np.pad(a, ((0, 0), (0, width - n)), mode="edge")
                  for a in (R, U, KI)]
        outputs = [None if a is None else np.empty((a.shape[0], width)) for a in (W, KO, SK)]
        if self._call(width, *inputs, *outputs):
            return True
        for given, found in zip((W, KO, SK), outputs):
            if given is not None and found is not None:
                given[...] = found[:, :n]
        return False

    def _call(self, n: int, *arrays: np.ndarray | None) -> bool:
        pointers = [None if a is None or not a.size else a.ctypes.data for a in arrays]
        return bool(self._run(*pointers, self.scratch.ctypes.data, n))


_BUILDS = itertools.count()
"""Numbers for the files of each build (``next`` on it is atomic under the GIL)."""


class Build:
    """One compilation of C sources into a library, running in the background until
    :meth:`result`: one compiler process per source (they compile in parallel), then
    a link of their objects."""

    def __init__(self, sources: list[str], size: int, started: float | None = None,
                 flags: Sequence[str] = FLAGS, use_mvec: bool = False) -> None:
        self.size = size
        self.flags = tuple(flags)
        self._started = time.perf_counter() if started is None else started
        self.key = hashlib.sha256("\0".join([*flags, *sources]).encode()).hexdigest()[:24]
        built = BUILT.get(self.key)
        self.kernel: Kernel | None = None if built is None else Kernel(*built)
        self.failed = False
        self._processes: list[subprocess.Popen[bytes]] = []
        if self.kernel is not None:
            return
        command = compiler()
        if command is None:
            self.failed = True
            return
        self._command = command
        self._libraries = ["-lmvec", "-lm"] if use_mvec else ["-lm"]
        # a name of its own: another thread may be building the same code meanwhile
        base = os.path.join(directory(), f"code_{self.key}_{next(_BUILDS)}")
        self._library = base + ".so"
        self._objects = []
        try:
            for k, source in enumerate(sources):
                with open(f"{base}_{k}.c", "w", encoding="ascii") as file:
                    file.write(source)
                if len(sources) == 1:
                    arguments = [*self.flags, "-shared", "-o", self._library,
                                 f"{base}_{k}.c", *self._libraries]
                else:
                    self._objects.append(f"{base}_{k}.o")
                    arguments = [*self.flags, "-c", "-o", f"{base}_{k}.o", f"{base}_{k}.c"]
                self._processes.append(subprocess.Popen(
                    [*command, *arguments], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        except OSError:
            self.failed = True
            return
        self._finished: float | None = None
        threading.Thread(target=self._time, daemon=True).start()

    def _time(self) -> None:
        """When the compilers finish (a run may look only much later)."""
        for process in self._processes:
            process.wait()
        self._finished = time.perf_counter()

    def result(self, wait: bool) -> Kernel | None:
        """The kernel once built (None while the compiler runs, unless ``wait``, or if it
        failed)."""
        if self.kernel is not None or self.failed:
            return self.kernel
        if not wait and any(p.poll() is None for p in self._processes):
            return None
        codes = [p.wait() for p in self._processes]
        if any(codes):
            self.failed = True
            return None
        try:
            if self._objects and subprocess.run(
                    [*self._command, "-shared", "-o", self._library, *self._objects,
                     *self._libraries],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode:
                self.failed = True
                return None
            self.kernel = Kernel(ctypes.CDLL(self._library), self._library)
        except (OSError, AttributeError):
            self.failed = True
            return None
        finished = self._finished or time.perf_counter()
        MEASURED.per_node = (finished - self._started) / max(self.size, 1)
        BUILT[self.key] = (self.kernel.library, self.kernel.path)
        return self.kernel


class Budget:
    """The rent-or-buy rule of one piece of code (see the module docstring): the seconds
    its Python runs took, against the expected seconds of its compilation."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.spent = 0.0

    def pay(self, seconds: float) -> None:
        self.spent += seconds

    @property
    def price(self) -> float:
        return MEASURED.per_node * self.size

    def buy(self, policy: str) -> bool:
        """Whether to compile now under ``policy``."""
        return policy == "always" or (policy == "auto" and self.spent >= self.price)


Key = tuple[str, bool, bool]
"""A function of a piece of code: (kind, with_inputs, everything)."""


class Kernels:
    """The compiled functions of one piece of code, each built when its budget says so.

    ``source(key, use_mvec)`` writes a function's C, as files (it may raise
    :class:`~autograd_scalar.tape.translate.Untranslatable`); ``size`` is the code's
    length in nodes, by which the expected compile time is reckoned; ``lanes``, that
    the C is the lanes dialect's: built with :data:`LANES_FLAGS` and glibc's vector
    math where :func:`vector_math` finds it, and, should that fail (a compiler that
    knows no ``-march=native``, or whose C library has no libmvec), once more without
    either, for the machine's baseline vectors and the scalar math functions."""

    def __init__(self, source: Callable[[Key, bool], list[str]], size: int,
                 lanes: bool = False) -> None:
        self.source = source
        self.size = size
        self.lanes = lanes
        self.kernels: dict[Key, Kernel | Build | None] = {}
        self.budgets: dict[Key, Budget] = {}

    def get(self, key: Key, policy: str) -> Kernel | None:
        """The kernel of ``key``, if built (starting the build when the policy says so)."""
        found = self.kernels.get(key, False)
        if isinstance(found, Kernel) or found is None:
            return found
        if not isinstance(found, Build):
            budget = self.budgets.get(key)
            if budget is None:
                budget = self.budgets[key] = Budget(self.size)
            if not budget.buy(policy):
                return None
            found = self._build(key, self.lanes)
            if found is None:
                return None
        kernel = found.result(wait=policy == "always")
        if kernel is None and found.failed and found.flags != FLAGS:  # once more, plainly
            retry = self._build(key, False)
            if retry is None:
                return None
            found, kernel = retry, retry.result(wait=policy == "always")
        if kernel is not None or found.failed:
            self.kernels[key] = kernel
        return kernel

    def _build(self, key: Key, machine: bool) -> Build | None:
        """Start building ``key`` (with the machine's own vectors and vector math if
        ``machine``); None, and no kernel for good, if its code has no C."""
        started = time.perf_counter()
        use_mvec = machine and vector_math()
        try:
            source = self.source(key, use_mvec)
        except Untranslatable:
            self.kernels[key] = None
            return None
        flags = (*FLAGS, *LANES_FLAGS) if machine else FLAGS
        found = self.kernels[key] = Build(source, self.size, started, flags, use_mvec)
        return found

    def pay(self, key: Key, seconds: float) -> None:
        """Count ``seconds`` of Python running ``key`` toward its budget."""
        budget = self.budgets.get(key)
        if budget is None:
            budget = self.budgets[key] = Budget(self.size)
        budget.pay(seconds)
