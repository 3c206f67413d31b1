"""nn's imports: autograd_scalar only through its public names, and no cycle among nn's modules.

Both are read from the source (every import statement, at module level or inside a
function), so an import that runs only when a function is called counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import autograd_scalar

NN = Path(__file__).resolve().parents[2] / "nn"


def module_name(path: Path) -> str:
    """``nn/cli/common.py`` -> ``nn.cli.common``; ``nn/data/__init__.py`` -> ``nn.data``."""
    parts = path.relative_to(NN.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(name: str) -> bool:
    return (NN.parent.joinpath(*name.split(".")) / "__init__.py").exists()


def is_module(name: str) -> bool:
    path = NN.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


SOURCES = {module_name(path): ast.parse(path.read_text(encoding="utf-8"))
           for path in sorted(NN.rglob("*.py"))}


def imported(module: str, tree: ast.Module) -> list[tuple[str, str | None]]:
    """Every (module, name) that ``module`` imports; name is None for ``import module``."""
    found: list[tuple[str, str | None]] = []
    package = module if is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            found += [(source, alias.name) for alias in node.names]
    return found


def test_nn_uses_only_the_public_names_of_autograd_scalar() -> None:
    public = {*autograd_scalar.__all__, *autograd_scalar.BUILTIN_NAMES}
    assert {"ops", "write_atomically"} <= public
    for module, tree in SOURCES.items():
        for source, name in imported(module, tree):
            if source.startswith("autograd_scalar.") and (
                    source.removeprefix("autograd_scalar.") not in public):
                raise AssertionError(f"{module} imports the private module {source}")
            if source == "autograd_scalar" and name is not None:
                assert name in public, f"{module} imports {name}, not in autograd_scalar.__all__"


def nn_dependencies() -> dict[str, set[str]]:
    """Each nn module's nn modules it imports (the package nn itself left out: it is the
    facade that imports them all, and Python imports it before any of them)."""
    graph: dict[str, set[str]] = {}
    for module, tree in SOURCES.items():
        targets = set()
        for source, name in imported(module, tree):
            if not source.startswith("nn"):
                continue
            target = f"{source}.{name}" if name and is_module(f"{source}.{name}") else source
            if target != "nn" and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def test_no_import_cycle_among_nn_modules() -> None:
    graph = nn_dependencies()
    assert {"nn.callbacks", "nn.train"} <= graph["nn.plot"]  # the reader sees these edges
    assert not graph["nn.callbacks"] & {"nn.plot", "nn.train", "nn.liveplot"}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycle = [*path[path.index(target):], target] if target in path else [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
