"""write_atomically: the old file or the new one, never half, with ordinary permissions;
output_file: a path checked before the work that would be written to it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import autograd_scalar as ag
from autograd_scalar import files
from autograd_scalar.files import output_file, write_atomically


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


def test_errors_name_the_callers_path_not_the_temporary(tmp_path) -> None:
    path = tmp_path / "nowhere" / "file.txt"
    with pytest.raises(FileNotFoundError) as caught:
        write_atomically(path, "x")
    assert caught.value.filename == str(path)
    assert ".tmp" not in str(caught.value)


def test_an_error_writing_the_temporary_names_the_callers_path(tmp_path, monkeypatch) -> None:
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / ".model.json.x1y2.tmp"))

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(OSError, match=r"No space left on device: '.*/model.json'$") as caught:
        write_atomically(tmp_path / "model.json", "x")
    assert caught.value.errno == 28 and caught.value.filename == str(tmp_path / "model.json")
    assert os.listdir(tmp_path) == []


def refuse_any_write(monkeypatch) -> None:
    def no_temporary(*args, **kwargs):
        raise AssertionError("a temporary file was about to be made")

    monkeypatch.setattr(files, "new_private_file", no_temporary)


@pytest.mark.parametrize("name", ["new/", "new/.", "new/..", "file.json/"])
def test_a_path_in_the_form_of_a_folder_is_refused_and_nothing_written(tmp_path,
                                                                       name) -> None:
    """``out/`` names a folder: writing it as a file named ``out`` would surprise anyone."""
    before = sorted(tmp_path.iterdir())
    with pytest.raises(ValueError, match=r"names a folder, not a file"):
        write_atomically(f"{tmp_path}/{name}", "x")
    assert sorted(tmp_path.iterdir()) == before


def test_a_file_read_only_for_this_user_is_refused_and_kept(tmp_path, monkeypatch) -> None:
    """Mode 0444: the folder would let it be replaced, but ``open(path, "w")`` would not be
    allowed, and neither is the save. Root may write any file, as open may; there the
    refusal is shown by the access check answering no."""
    target = tmp_path / "keep.json"
    target.write_text("old")
    target.chmod(0o444)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == target
                            else real(path, mode, **kw))
    with pytest.raises(PermissionError, match=r"read-only for this user") as caught:
        write_atomically(target, "new")
    assert caught.value.filename == str(target)
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


def test_a_directory_is_refused_and_left_alone(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    refuse_any_write(monkeypatch)
    with pytest.raises(ValueError, match=r"folder is a directory, not a regular file"):
        write_atomically(folder, "x")
    assert folder.is_dir() and os.listdir(folder) == ["inside.txt"]


def test_a_fifo_is_refused_without_opening_it(tmp_path, monkeypatch) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refuse_any_write(monkeypatch)
    with pytest.raises(ValueError, match=r"pipe is a FIFO \(named pipe\), not a regular file"):
        write_atomically(fifo, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dev_null_is_refused_before_any_write(monkeypatch) -> None:
    refuse_any_write(monkeypatch)  # safe even as root: the test fails before a write
    with pytest.raises(ValueError, match=r"^/dev/null is a character device, not a regular"):
        write_atomically("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_is_replaced_and_its_target_left_alone(tmp_path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    write_atomically(link, "new")
    assert not link.is_symlink() and link.read_text() == "new"
    assert real.read_text() == "old" and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


@pytest.mark.parametrize("kind", ["folder", "dangling", "dev-null"])
def test_a_symlink_to_anything_is_replaced_without_touching_what_it_names(
        tmp_path, monkeypatch, kind) -> None:
    (tmp_path / "folder").mkdir()
    pointee = {"folder": "folder", "dangling": "missing.json", "dev-null": "/dev/null"}[kind]
    link = tmp_path / "link"
    link.symlink_to(pointee)
    write_atomically(link, "x")
    assert not link.is_symlink() and link.read_text() == "x"
    assert (tmp_path / "folder").is_dir() and list((tmp_path / "folder").iterdir()) == []
    assert not (tmp_path / "missing.json").exists()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664], ids=["0600", "0640", "0664"])
def test_an_existing_file_keeps_its_permissions(tmp_path, mode) -> None:
    target = tmp_path / "private.json"
    target.write_text("old")
    target.chmod(mode)
    write_atomically(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


KILLED_MID_SAVE = """
import os, signal, sys, time
from autograd_scalar import files

# the signals' default handlers, as in a terminal session, even where this test runs
# under nohup (which ignores SIGHUP, and a child inherits that)
for number in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, signal.SIG_DFL)

def slow_fsync(fd):
    print("writing", flush=True)
    time.sleep(60)

files.os.fsync = slow_fsync
files.write_atomically(sys.argv[1], b"n" * 50_000_000)
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_termination_signal_mid_save_leaves_the_old_file_and_no_temporary(tmp_path,
                                                                            name) -> None:
    import signal
    import subprocess
    import sys

    target = tmp_path / "model.json"
    target.write_text("old")
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_SAVE, str(target)],
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    assert len(os.listdir(tmp_path)) == 2  # the temporary, 50 MB, is there now
    child.send_signal(getattr(signal, name))
    assert child.wait(timeout=30) == -getattr(signal, name)  # ended by the signal, as asked
    assert os.listdir(tmp_path) == ["model.json"]
    assert target.read_text() == "old"


SIGNALLED_AS_MADE = """
import os, signal, sys
from autograd_scalar import files, validate
for number in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in a background run
module = {"files": files, "validate": validate}[sys.argv[3]]
create = module.new_private_file

def create_then_signal(stem, tried):  # as if the signal came while the file was made
    found = create(stem, tried)
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
    return found

module.new_private_file = create_then_signal
if module is files:
    files.write_atomically(sys.argv[1], b"new")
else:  # the check that a folder takes new files, as a new file's writer makes it
    validate.folder_refusal(os.path.dirname(sys.argv[1]))
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
@pytest.mark.parametrize("made_by", ["files", "validate"])
def test_a_signal_as_a_file_is_made_leaves_no_file(tmp_path, name, made_by) -> None:
    """A signal held while the temporary was made was raised as the mask came back,
    before the block that removes it (or reached another thread, which no mask of
    this one holds): a .model.json.*.tmp file stayed; and so did the empty file that
    tells whether the folder takes new files (``made_by`` validate)."""
    import subprocess
    import sys

    target = tmp_path / "model.json"
    target.write_text("old")
    done = subprocess.run([sys.executable, "-c", SIGNALLED_AS_MADE, str(target), name,
                           made_by], capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode != 0
    assert os.listdir(tmp_path) == ["model.json"]
    assert target.read_text() == "old"


def test_an_output_file_is_checked_before_any_work_and_names_who_was_given_it(
        tmp_path) -> None:
    """render, animate_backward and GraphView.save named themselves all "render"; and
    nn's figures had checks of their own that let a folder through."""
    (tmp_path / "out").mkdir()
    (tmp_path / "link.svg").symlink_to(tmp_path / "elsewhere.svg")
    cases = [(3, TypeError, r"who: path must be a file path \(str or Path\), got int"),
             ("", ValueError, "who: the path is empty; expected a file name"),
             (tmp_path / "out", IsADirectoryError, "is a folder; expected a file name"),
             (f"{tmp_path}/new/", IsADirectoryError, "is a folder; expected a file name"),
             (tmp_path / "missing" / "x.svg", FileNotFoundError,
              "who: cannot write .*x.svg': the folder .*missing' does not exist")]
    for path, error, message in cases:
        with pytest.raises(error, match=message):
            output_file(path, "who")
    assert output_file(tmp_path / "x.svg", "who") == tmp_path / "x.svg"
    assert output_file(str(tmp_path / "link.svg"), "who") == tmp_path / "link.svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.svg", "out"]


def test_each_writer_of_a_picture_or_page_names_itself(tmp_path) -> None:
    x = ag.Value(2.0)
    y = x * x
    for write, who in [(lambda p: ag.render(y, p), "render"),
                       (lambda p: ag.animate_backward(y, p), "animate_backward"),
                       (lambda p: ag.explore(y).save(p), "GraphView.save")]:
        with pytest.raises(FileNotFoundError, match=f"^{who}: cannot write"):
            write(tmp_path / "missing" / "picture.svg")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_files_or_a_name_too_long_is_refused_before_any_work(
        tmp_path, monkeypatch) -> None:
    """render('/proc/x.svg') failed after the whole layout, and a 300-character name with
    a raw OSError from inside the path check."""
    import autograd_scalar.draw.render as render_module

    def no_layout(*args, **kwargs):
        raise AssertionError("laid out before the path was checked")

    monkeypatch.setattr(render_module, "image_bytes", no_layout)
    y = ag.Value(1.0) * 2
    with pytest.raises(OSError, match=r"^render: cannot write '/proc/x\.svg': the folder "
                                      r"'/proc' takes no new files \("):
        ag.render(y, "/proc/x.svg")
    with pytest.raises(OSError, match=r"^render: cannot write '.*a{200}.*\.svg': File name too "
                                      r"long"):
        ag.render(y, str(tmp_path / ("a" * 300 + ".svg")))
    assert list(tmp_path.iterdir()) == []


def test_a_nul_in_a_path_is_named_with_the_call_and_the_path() -> None:
    """Python's own "embedded null byte" named neither the call nor the path."""
    import nn

    model = nn.MLP(2, [1], seed=0)
    calls = {"save": lambda: model.save("out\0.json"), "load": lambda: nn.load("in\0.json"),
             "render": lambda: ag.render(ag.Value(1.0), "a\0.svg")}
    for who, call in calls.items():
        with pytest.raises(ValueError, match=rf"^{who}: '.*\\x00.*' holds a NUL character"):
            call()
