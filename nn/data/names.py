"""The 32,033 names of makemore, for character-level language models.

``names.txt`` (one lowercase name per line) is the data set of Andrej Karpathy's
makemore (https://github.com/karpathy/makemore), MIT licence; it ships inside this
package next to its licence, ``names.LICENSE``, and is read with
:mod:`importlib.resources`, so it works from a wheel or a zip as from a folder.
"""

from __future__ import annotations

import importlib.resources
from functools import cache

NAMES_FILE = "names.txt"


def names() -> list[str]:
    """makemore's names, in the file's order: 32,033 lowercase strings of a-z ("emma", ...).

    A new list each call, so changing it changes nothing for the next caller.
    """
    return list(_read_names())


@cache
def _read_names() -> tuple[str, ...]:
    text = importlib.resources.files(__package__).joinpath(NAMES_FILE).read_text(
        encoding="utf-8")
    return tuple(text.splitlines())
