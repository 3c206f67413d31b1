"""Writing files all at once: a reader sees the old file or the new one, never half.

Every file the project writes (drawings, saved models, plots) goes through
:func:`write_atomically`: the bytes go to a temporary file in the target's folder, are
flushed to disk, and the temporary file replaces the target in one step
(``os.replace``). What it promises is in ``docs/howto/save-and-load.md``; two reasons
behind it: only regular files are replaced, since replacing ``/dev/null`` with a regular
file would break the system, and a symbolic link is replaced, not followed, so a link
planted in a shared folder cannot redirect a write.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import Any

from .validate import (
    folder_refusal,
    names_a_folder,
    new_private_file,
    refused_folder,
    signals_clean_up,
    without_nul,
)

KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
         (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISSOCK, "a socket"))


def output_file(path: Any, who: str) -> Path:
    """``path`` as a Path to write a file to, checked before any work is done: a str or
    PathLike that is not a folder (an existing one, or ``out/`` by its form) and whose
    folder exists and takes new files. The errors (TypeError, ValueError for "",
    IsADirectoryError, FileNotFoundError, PermissionError, OSError for a name the
    system refuses) begin with
    ``who``, the function or method the path was given to. A symbolic link passes: it is
    replaced, not followed (see :func:`write_atomically`)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who}: path must be a file path (str or Path), got "
                        f"{type(path).__name__}")
    shown = without_nul(os.fspath(path), who)
    if not shown:
        raise ValueError(f"{who}: the path is empty; expected a file name")
    target = Path(shown)
    try:
        folder_named = names_a_folder(shown) or (target.is_dir() and not target.is_symlink())
        folder_there = target.parent.is_dir()
    except OSError as error:  # a name longer than the system takes, ...
        raise OSError(f"{who}: cannot write {shown!r}: {error.strerror}") from None
    if folder_named:
        raise IsADirectoryError(f"{who}: {shown!r} is a folder; expected a file name")
    if not folder_there:
        raise FileNotFoundError(f"{who}: cannot write {shown!r}: the folder "
                                f"{str(target.parent)!r} does not exist")
    refusal = folder_refusal(target.parent)
    if refusal is not None:
        kind = PermissionError if isinstance(refusal, PermissionError) else OSError
        raise kind(f"{who}: cannot write {shown!r}: "
                   f"{refused_folder(repr(str(target.parent)), refusal)}")
    return target


def write_atomically(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Replace the regular file ``path`` with ``data`` (text is written as UTF-8) in one step.

    ValueError if ``path`` exists and is neither a regular file nor a symbolic link (which
    is replaced itself), or names a folder by its form (``out/``, ``out/.``); an OSError
    (FileNotFoundError for a missing folder, PermissionError, ...) names ``path``. A
    regular file this process may not write (mode 0444 for its owner) is a
    PermissionError too, as ``open(path, "w")`` would give, although the folder would
    let it be replaced. In every failure the old file is left as it was and no
    temporary remains.
    """
    shown = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if names_a_folder(shown):
        raise ValueError(f"{shown!r} names a folder, not a file; give the path of a file "
                         "to write (such as out/model.json)")
    target = Path(shown)
    try:
        existing = regular_file_status(target, shown)
        if existing is not None and not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "Permission denied (the file is read-only "
                                  "for this user; it was left as it was)", shown)
        with signals_clean_up():
            _replace(target, shown, payload, existing)
    except OSError as error:
        if error.filename in (None, shown):
            raise
        raise type(error)(error.errno, error.strerror, shown) from None


def regular_file_status(target: Path, shown: str) -> os.stat_result | None:
    """The status of ``target`` if it is a regular file, None if it does not exist or is
    a symbolic link (replaced like a new file); ValueError naming ``shown`` and what it
    is otherwise."""
    try:
        status = os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(status.st_mode):
        return None
    for test, kind in KINDS:
        if test(status.st_mode):
            raise ValueError(f"{shown} is {kind}, not a regular file; refusing to replace it "
                             "(give the path of a regular file or of a new one)")
    if not stat.S_ISREG(status.st_mode):
        raise ValueError(f"{shown} is not a regular file; refusing to replace it")
    return status


def _replace(target: Path, shown: str, payload: bytes, existing: os.stat_result | None
             ) -> None:
    """Write a temporary beside ``target``, give it the old file's mode, and rename it over.

    The temporary's name is chosen before it is made (``O_EXCL``: never someone else's
    file), so that an exception or a signal at any point, even as it is being made,
    knows what to remove (``tempfile.mkstemp`` gives the name only once it returns)."""
    tried: list[str] = []
    try:
        handle = new_private_file(str(target.parent / f".{target.name}"), tried)
        temporary = Path(tried[-1])
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if existing is None:
            os.chmod(temporary, 0o666 & ~_umask())  # made private; ours are not
        else:
            _keep_owner_and_mode(temporary, existing)
        regular_file_status(target, shown)  # still a regular file, or still absent
        os.replace(temporary, target)
    except BaseException:
        if tried:  # made (or about to be) under the last name tried
            Path(tried[-1]).unlink(missing_ok=True)
        raise


def _keep_owner_and_mode(temporary: Path, existing: os.stat_result) -> None:
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        with suppress(PermissionError):  # only root may give a file away
            os.chown(temporary, existing.st_uid, existing.st_gid)
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it, so set it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
