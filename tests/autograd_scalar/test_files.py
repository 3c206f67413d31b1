"""write_atomically: the old file or the new one, never half, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from autograd_scalar import files
from autograd_scalar.files import write_atomically


def test_text_and_bytes_replace_the_file(tmp_path) -> None:
    target = tmp_path / "out.txt"
    write_atomically(target, "first ü")
    assert target.read_text(encoding="utf-8") == "first ü"
    write_atomically(str(target), b"\x00second")
    assert target.read_bytes() == b"\x00second"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_permissions_follow_the_umask_not_mkstemps_private_mode(tmp_path) -> None:
    previous = os.umask(0o027)
    try:
        write_atomically(tmp_path / "shared.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o640


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    target = tmp_path / "model.json"
    target.write_text("old")

    def broken_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_missing_folder_is_an_error_and_writes_nothing(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "nowhere" / "file.txt", "x")
    assert os.listdir(tmp_path) == []
