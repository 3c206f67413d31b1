"""The sdist carries sources only; the wheel built from it carries the compiled core.

One test builds both, as a release would: ``python -m build --sdist`` from a copy of the
checkout (with whatever a developer's in-place build left there: generated C, compiled
modules), then ``python -m build --wheel`` from that sdist. It builds without isolation, so
it needs no package index, and at ``-O0``, which changes how fast the C runs but not what
the wheel holds. The wheel is then unpacked and imported, without installing it, by the
test command that pyproject.toml gives the multi-platform wheel builder.
"""

from __future__ import annotations

import importlib.machinery
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CORE = ("ops", "mode", "value", "backward", "mirror")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def build(*arguments: str, cwd: Path) -> str:
    """What the build printed (stdout and stderr), after checking that it succeeded."""
    environment = {**os.environ, "CFLAGS": "-O0", "AUTOGRAD_SCALAR_REQUIRE_COMPILED": "1"}
    environment.pop("AUTOGRAD_SCALAR_PURE_PYTHON", None)
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", *arguments],
                          cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def package_data() -> list[str]:
    """Every file pyproject.toml names as package data, as a path in the wheel."""
    return [f"{package}/{name}"
            for package, names in CONFIG["tool"]["setuptools"]["package-data"].items()
            for name in names if "*" not in name]


def test_sdist_has_sources_only_and_its_wheel_runs_the_compiled_core(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, checkout / name)
    for package in ("autograd_scalar", "nn", "reproductions"):
        shutil.copytree(ROOT / package, checkout / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in CORE:  # what an in-place build leaves beside the sources
        (checkout / "autograd_scalar" / f"{name}.c").write_text("/* generated */\n")
        (checkout / "autograd_scalar" / f"{name}.stale.so").write_bytes(b"")

    build("--sdist", "--outdir", str(tmp_path / "dist"), ".", cwd=checkout)
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {member.split("/", 1)[1] for member in archive.getnames() if "/" in member}
        safely: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(tmp_path / "unpacked", **safely)
    assert not [name for name in names if name.endswith((".c", ".so", ".pyd"))]
    for name in CORE:
        assert {f"autograd_scalar/{name}.py", f"autograd_scalar/{name}.pxd"} <= names
    assert {"setup.py", "pyproject.toml", *package_data()} <= names

    (source,) = (tmp_path / "unpacked").iterdir()
    printed = build("--wheel", "--outdir", str(tmp_path / "wheels"), ".", cwd=source)
    if sysconfig.get_config_var("CC"):  # gcc or clang: each module compiled without fused
        for name in CORE:  # multiply-adds, so that it rounds as the interpreted core does
            (command,) = [line for line in printed.splitlines()
                          if f"autograd_scalar/{name}.c" in line and " -c " in line]
            assert "-ffp-contract=off" in command.split(), command
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = re.sub(r"[-.]", "_", sysconfig.get_platform())
    assert wheel.name == f"autograd_scalar-0.1.0-{python}-{python}-{platform}.whl"

    with zipfile.ZipFile(wheel) as archive:
        contents = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for name in CORE:
        compiled = [entry for entry in contents if entry.startswith(f"autograd_scalar/{name}.")
                    and entry.endswith(suffixes)]
        assert len(compiled) == 1, (name, compiled)
        assert {f"autograd_scalar/{name}.py", f"autograd_scalar/{name}.pxd"} <= contents
    assert not [entry for entry in contents if entry.endswith(".c") or ".stale." in entry]
    assert set(package_data()) <= contents
    assert "Root-Is-Purelib: false" in (
        tmp_path / "site" / "autograd_scalar-0.1.0.dist-info" / "WHEEL").read_text()

    # The wheel builder's own check, then where the package came from: the unpacked wheel
    # (ahead of this checkout's editable install), with numpy and the rest from this venv.
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    environment.pop("AUTOGRAD_SCALAR_PURE_PYTHON", None)
    command = shlex.split(CONFIG["tool"]["cibuildwheel"]["test-command"])
    assert command[0] == "python"
    for arguments in (command[1:], ["-c", "import autograd_scalar.value as v; print(v.__file__)"]):
        done = subprocess.run([sys.executable, *arguments], cwd=tmp_path, env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
    location = Path(done.stdout.strip()).resolve()
    assert location.parent == (tmp_path / "site" / "autograd_scalar").resolve()
    assert location.name.endswith(suffixes)
