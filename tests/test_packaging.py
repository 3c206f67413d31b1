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


def test_notebooks_import_the_installed_packages_without_editing_sys_path() -> None:
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = notebook.read_text(encoding="utf-8")
        assert "sys.path" not in text, notebook.name
