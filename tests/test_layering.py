"""The direction of imports, read from the source with ``ast``.

Every ``import`` and ``from ... import`` statement of every module of the two
packages is read, at any depth (inside functions and ``if TYPE_CHECKING:`` too),
and resolved to the module it names. The rules, stated here in full (docs/design/layout.md
explains the layering they keep):

(a) no import cycles among the modules of ``autograd_scalar``, nor among those of ``nn``;
(b) the engine's core is layered: ``ops`` imports nothing from the package,
    ``value`` only ``ops`` and ``mode``, ``backward`` only ``value``, ``mode``, ``ops``
    and ``validate`` (the argument checks, which import only ``ops``);
(c) ``autograd_scalar`` never imports ``nn``;
(d) ``nn`` uses ``autograd_scalar`` through its public API only: ``import autograd_scalar``
    or ``from autograd_scalar import name`` with ``name`` in ``autograd_scalar.__all__``;
(e) no module takes a private name (``_name``) from another module;
(f) ``autograd_scalar``'s top level holds the core and at most 12 modules in all, the rest
    living in subpackages (check, draw, explorer, tape).

Each failure lists the offending edges as ``module -> module (file:line)``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import autograd_scalar

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd_scalar", "nn")


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` (a module) at ``path:line``; ``names`` are the names
    taken from it by ``from target import names`` (empty for ``import target``)."""

    source: str
    target: str
    names: tuple[str, ...]
    path: str
    line: int

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.source} -> {self.target}{taken}  ({self.path}:{self.line})"


def module_files() -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a (possibly relative) ``from`` import starts from."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def bound_names(package: str) -> set[str]:
    """Names a package's ``__init__`` binds to something other than its submodule of that
    name: ``from .render import render`` makes ``autograd_scalar.render`` the function."""
    path = MODULES[package]
    if path.name != "__init__.py":
        return set()
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


BOUND = {module: bound_names(module) for module in MODULES}


def imports(module: str) -> list[Edge]:
    """The edges from ``module`` to the modules it imports (any module, any depth)."""
    path = MODULES[module]
    where = str(path.relative_to(ROOT))
    edges = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            edges += [Edge(module, alias.name, (), where, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, path, node)
            taken = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES and alias.name not in BOUND.get(base, ()):
                    # from . import ops: the submodule itself
                    edges.append(Edge(module, submodule, (), where, node.lineno))
                else:
                    taken.append(alias.name)
            if taken:
                edges.append(Edge(module, base, tuple(taken), where, node.lineno))
    return edges


EDGES = [edge for module in MODULES for edge in imports(module)]


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def cycles(package: str) -> list[list[Edge]]:
    """The import cycles among the package's modules: for each strongly connected
    component of more than one module (or a module importing itself), its edges."""
    edges = [e for e in EDGES if in_package(e.source, package) and e.target in MODULES
             and in_package(e.target, package)]
    graph: dict[str, set[str]] = {m: set() for m in MODULES if in_package(m, package)}
    for edge in edges:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        inside = [e for e in edges if e.source in component and e.target in component]
        if len(component) > 1 or inside:
            found.append(sorted(inside, key=str))
    return found


def report(edges: list[Edge]) -> str:
    return "\n  " + "\n  ".join(map(str, edges))


def test_the_import_reader_resolves_what_python_would_import() -> None:
    """Relative imports resolve to modules (in subpackages too), and imports inside
    functions count."""
    lazy = [e for e in EDGES if e.source == "nn.cli.formula_commands"
            and e.target == "autograd_scalar"]
    assert any({"draw_graph", "render"} <= set(e.names) for e in lazy)
    value = {e.target for e in EDGES if e.source == "autograd_scalar.value"}
    assert {"autograd_scalar.ops", "autograd_scalar.mode"} <= value
    init = {e.target for e in EDGES if e.source == "autograd_scalar"}
    assert {"autograd_scalar.ops", "autograd_scalar.draw.render"} <= init


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    found = cycles(package)
    assert not found, f"import cycles in {package}:" + "".join(
        report(component) + "\n" for component in found)


CORE = {
    "autograd_scalar.ops": {"autograd_scalar.purepython"},
    "autograd_scalar.purepython": set(),
    "autograd_scalar.value": {"autograd_scalar.ops", "autograd_scalar.mode",
                              "autograd_scalar.purepython"},
    "autograd_scalar.backward": {"autograd_scalar.value", "autograd_scalar.mode",
                                 "autograd_scalar.ops", "autograd_scalar.validate"},
}


@pytest.mark.parametrize("module", sorted(CORE))
def test_the_core_imports_only_the_layers_below_it(module: str) -> None:
    bad = [e for e in EDGES if e.source == module and in_package(e.target, "autograd_scalar")
           and e.target not in CORE[module]]
    allowed = ", ".join(sorted(CORE[module])) or "nothing"
    assert not bad, f"{module} may import {allowed} from the package; it imports:" + report(bad)


def test_the_engine_never_imports_nn() -> None:
    bad = [e for e in EDGES
           if in_package(e.source, "autograd_scalar") and in_package(e.target, "nn")]
    assert not bad, "autograd_scalar imports nn:" + report(bad)


def test_nn_uses_only_the_public_api_of_autograd_scalar() -> None:
    public = {*autograd_scalar.__all__, *autograd_scalar.BUILTIN_NAMES}
    bad = [e for e in EDGES
           if in_package(e.source, "nn") and in_package(e.target, "autograd_scalar")
           and not (e.target == "autograd_scalar" and set(e.names) <= public)
           and e.target.removeprefix("autograd_scalar.") not in public]
    assert not bad, ("nn must import autograd_scalar, or names in autograd_scalar.__all__, "
                     "only; these edges reach past the public API:" + report(bad))


def test_no_module_imports_a_private_name_of_another() -> None:
    bad = [e for e in EDGES if e.source != e.target and in_package(e.target, e.source.split(".")[0])
           and any(name.startswith("_") and not name.startswith("__") for name in e.names)]
    assert not bad, "private names imported across modules:" + report(bad)


TOP_LEVEL_LIMIT = 12
"""Modules directly in autograd_scalar/ besides __init__: the core and a few shared helpers."""


def test_the_engine_top_level_is_small_and_the_rest_lives_in_subpackages() -> None:
    top = sorted(p.stem for p in (ROOT / "autograd_scalar").glob("*.py") if p.stem != "__init__")
    packages = sorted(p.parent.name for p in (ROOT / "autograd_scalar").glob("*/__init__.py"))
    assert {"ops", "value", "backward", "mode", "function"} <= set(top)
    assert len(top) <= TOP_LEVEL_LIMIT, f"{len(top)} top-level modules: {top}"
    assert packages == ["check", "draw", "explorer", "tape"]
