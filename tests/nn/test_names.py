"""nn.data.names: makemore's names, shipped in the package with their licence."""

from __future__ import annotations

import re
from pathlib import Path

import nn

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "nn" / "data"


def test_names_are_the_32033_lowercase_names_in_file_order() -> None:
    names = nn.data.names()
    assert len(names) == 32_033
    assert names[:3] == ["emma", "olivia", "ava"]
    assert all(re.fullmatch(r"[a-z]+", name) for name in names)
    lines = (DATA / "names.txt").read_bytes().decode("ascii").split("\n")
    assert names == [line for line in lines if line]  # the file, line by line


def test_each_call_gives_a_new_list() -> None:
    first = nn.data.names()
    first.clear()
    assert len(nn.data.names()) == 32_033


def test_the_names_and_their_licence_are_package_data() -> None:
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = config.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    line = re.search(r"^nn = \[(.*)\]$", section, re.M)
    assert line is not None, section
    shipped = re.findall(r'"([^"]+)"', line.group(1))
    assert {"data/names.txt", "data/names.LICENSE"} <= set(shipped)
    licence = (DATA / "names.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Andrej Karpathy" in licence
