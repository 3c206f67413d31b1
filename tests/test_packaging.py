"""A regular install carries every package of the project, not only the top ones."""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_the_install_patterns_cover_every_package_folder() -> None:
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = config.split("[tool.setuptools.packages.find]", 1)[1]
    patterns = re.findall(r'"([^"]+)"', re.split(r"\n\[", section, maxsplit=1)[0])
    installed = set(find_packages(where=str(ROOT), include=patterns))
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("autograd_scalar", "nn", "reproductions")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert folders and folders <= installed
    assert "reproductions" in installed  # notebooks 04 and 05 import it once installed
    assert installed <= folders


def test_every_data_file_of_the_packages_is_package_data() -> None:
    """Files that are not code (data sets, licences, py.typed) must be listed to be installed."""
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = re.split(r"\n\[", config.split("[tool.setuptools.package-data]", 1)[1])[0]
    patterns = {name: re.findall(r'"([^"]+)"', files)
                for name, files in re.findall(r"^(\w+) = \[([^\]]*)\]", section, re.M)}
    code = {".py", ".pyc", ".pxd", ".c", ".so"}
    for top in ("autograd_scalar", "nn"):
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and path.suffix not in code and "__pycache__" not in path.parts:
                relative = path.relative_to(ROOT / top).as_posix()
                assert relative in patterns.get(top, []), f"{top}/{relative} is not package data"


SPDX = {"names.LICENSE": "MIT", "digits.LICENSE": "CC-BY-4.0 AND BSD-3-Clause",
        "mnist_5k.LICENSE": "CC-BY-SA-3.0 AND BSD-3-Clause"}
"""The licences each shipped data file's LICENSE gives, as SPDX identifiers."""


def test_the_package_licence_names_every_shipped_data_licence() -> None:
    """The wheel carries data under licences other than the code's MIT (MNIST's
    ShareAlike among them): its metadata must say so and carry each data LICENSE file."""
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    expression = re.search(r'^license = "([^"]+)"$', config, re.M)
    files = re.search(r"^license-files = \[([^\]]*)\]$", config, re.M)
    assert expression is not None and files is not None
    shipped = sorted(p.name for p in (ROOT / "nn" / "data").glob("*.LICENSE"))
    assert shipped == sorted(SPDX)
    named = set(expression.group(1).split(" AND "))
    for licence in SPDX.values():
        assert set(licence.split(" AND ")) <= named
    globs = re.findall(r'"([^"]+)"', files.group(1))
    for name in shipped:
        assert any(Path("nn/data", name).match(glob) for glob in globs), name


def test_notebooks_import_the_installed_packages_without_editing_sys_path() -> None:
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = notebook.read_text(encoding="utf-8")
        assert "sys.path" not in text, notebook.name
