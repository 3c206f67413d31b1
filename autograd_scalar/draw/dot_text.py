"""User text in DOT: every label, name, scope, title and tooltip, shown as plain text.

Text in a drawing comes from the user (labels, parameter names, module scopes, unit
names, titles, a Function's symbol) and so, through a model file, from anyone. DOT
gives such text several meanings besides itself, and this module takes every one away:

- **HTML-like labels.** A string that starts with ``<`` and ends with ``>`` is an
  HTML-like label to Graphviz (and the graphviz package writes it unquoted), so a
  unit named ``<<TABLE HREF='javascript:...'>...>`` would become a link that runs
  script in the SVG, and ``<IMG SRC='file'/>`` would embed a local file. Every text
  here is marked ``graphviz.nohtml``: always quoted, so always a plain string.
- **Escapes.** In a label ``\\n``, ``\\l``, ``\\N``, ``\\G`` ... mean line breaks and
  names, and a text ending in one backslash swallows its closing quote (a syntax
  error). Backslashes are doubled; quotes are escaped by the graphviz package. A
  tooltip is read for escapes twice (once as a DOT string, once for ``\\N`` and
  friends), so there each backslash is written four times.
- **Records.** ``{ } | < >`` structure a record label; inside a field they are escaped.
- **Entities.** Graphviz decodes ``&lt;``, ``&amp;``, ``&#8238;`` ... in every label,
  so ``&lt;b&gt;`` would show as ``<b>`` (and ``&#8238;`` as a hidden control): each
  ``&`` is written ``&amp;``.
- **Characters dot cannot take.** NUL ends dot's input, other control characters make
  SVG that is not XML, and a lone surrogate cannot be written as UTF-8: each becomes
  U+FFFD. A tab, which a record field drops, becomes a space.
- **Direction controls.** U+202E and its kin reverse the text after them, so a label
  holding one would show ``0.1807 x -3 = -0.5421`` as ``1245.0- = 3- x 7081.0``. They
  become U+FFFD too, here and in every view (:func:`shown`). Only an isolate that closes
  on its line with no control inside (U+2068 ... U+2069, as :func:`isolated` writes)
  is kept: it reorders nothing outside itself.
- **Right-to-left names.** An Arabic or Hebrew name takes the numbers written after
  it into its own direction: ``dL/d(وزن) = -3 x 0.501`` reads ``0.501 x 3- = (وزن)``
  from the name on. A name with a right-to-left letter is set in a sentence as an
  isolate (:func:`isolated`).
- **Length.** dot refuses a quoted string over 16,384 bytes. Each line of a text is
  cut to ``LINE_CHARS`` characters and a whole text to ``TEXT_CHARS``, visibly, with
  an ellipsis: escaped, a character takes at most 5 bytes (``&amp;``; 4 for a tooltip's
  backslash, or a character in UTF-8), so no string passes 15,000 bytes (and a label of
  thousands of characters is unreadable anyway).

One place does this, so that no drawing can forget a case: :func:`plain` for a label
or caption, :func:`plain_tooltip` for a tooltip, :func:`record` for a record's fields,
:func:`dot_name` for a name made from user text (a module's box).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import graphviz

from ..validate import DIRECTION_CONTROLS, UNSAFE, printable

LINE_CHARS = 500
"""The most characters of one line of text that a drawing shows."""
TEXT_CHARS = 3000
"""The most characters of one text (a tooltip, a caption); with escapes (``&amp;`` is five
bytes, a backslash in a tooltip four) and UTF-8 at most 4 bytes each, at most 15,000
bytes, below dot's limit of 16,384 on one quoted string."""
ELLIPSIS = "…"
NAME_CHARS = 200
"""The longest user text kept readable in a DOT name; longer ones become a digest."""
RECORD_SPECIALS = "\\{}|<>\""
OPEN_ISOLATE, CLOSE_ISOLATE = "\u2068", "\u2069"
"""First strong isolate and pop directional isolate: what :func:`isolated` puts around a
name."""
CLOSED_ISOLATE = re.compile(f"({OPEN_ISOLATE}[^\n{DIRECTION_CONTROLS}]*{CLOSE_ISOLATE})")
"""An isolate that closes on its line, with no direction control inside: it reorders
nothing outside itself (what :func:`isolated` writes)."""
RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe"
                           "\U00010800-\U00010fff\U0001e800-\U0001efff]")
"""The blocks of right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko, ...);
the explorer's script tests the same ranges."""
SIMPLE_NAME = re.compile(r"[\w.\[\]\- ]+")
LINE_BREAK = re.compile("(\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])")
"""What ends a line or a paragraph (as ``str.splitlines`` has it), and with it an isolate."""
AFTER_NON_ASCII = re.compile("(?<=[^\x00-\x7f]) ")
"""A space right after a character outside ASCII, which Graphviz's record parser drops."""


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last being an ellipsis if cut."""
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def shown(text: str) -> str:
    """User text as any view shows it (the explorer, captions): :func:`printable`, so
    that no name can reorder the numbers beside it or break the page's text. (The
    isolates the views put around a name, :func:`isolated`, come after this.)"""
    return text if text.isascii() and text.isprintable() else printable(text)


def _safe(text: str) -> str:
    """``text`` with each UNSAFE character replaced by U+FFFD, but for the two ends of
    each closed isolate."""
    parts = CLOSED_ISOLATE.split(text)  # odd positions: the closed isolates
    return "".join(OPEN_ISOLATE + UNSAFE.sub("\ufffd", part[1:-1]) + CLOSE_ISOLATE if k % 2
                   else UNSAFE.sub("\ufffd", part) for k, part in enumerate(parts))


def isolated(name: str) -> str:
    """``name`` set apart from the sentence around it when it holds a right-to-left
    letter: between U+2068 (first strong isolate) and U+2069 (pop directional isolate),
    so that it keeps its own direction and the numbers after it keep theirs. Other
    names are returned as they are (no invisible characters in copied text)."""
    if name.isascii() or not RIGHT_TO_LEFT.search(name):
        return name
    parts = LINE_BREAK.split(name)  # odd positions: the breaks; an isolate ends at each
    return "".join(part if k % 2 else OPEN_ISOLATE + part + CLOSE_ISOLATE
                   for k, part in enumerate(parts))


def clean(text: str) -> str:
    """``text`` (anything, made a str) with line breaks as ``\\n``, tabs as spaces (a record
    field would drop them), characters dot cannot take replaced by U+FFFD, each line
    clipped to LINE_CHARS and the whole to TEXT_CHARS."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    lines = [clip(line, LINE_CHARS) for line in text.split("\n")]
    # after clipping, so that an isolate cut short is not kept open
    return _safe(clip("\n".join(lines), TEXT_CHARS))


def plain(text: str) -> str:
    """``text`` as a DOT label or caption that Graphviz shows as it is.

    Clipped and cleaned (``clean``), backslashes doubled, line breaks as DOT's
    ``\\n``, and marked not HTML, so the graphviz package always quotes it (it escapes
    the double quotes itself).
    """
    return escaped(text, "\\\\")


def plain_tooltip(text: str) -> str:
    """``text`` as a DOT tooltip that Graphviz shows as it is: as :func:`plain`, but each
    backslash written four times, since a tooltip is unescaped twice."""
    return escaped(text, "\\" * 4)


def escaped(text: str, backslash: str) -> str:
    """``text`` cleaned, each backslash written as ``backslash``, line breaks as DOT's
    ``\\n``, marked not HTML."""
    return graphviz.nohtml(clean(text).replace("&", "&amp;").replace("\\", backslash)
                           .replace("\n", "\\n"))


def record_field(text: str) -> str:
    """One field of a record label: cleaned, on one line, its structure characters escaped.
    Graphviz's record parser drops a space that follows a character outside ASCII
    ("é è" showed as "éè"): such a space is written as a no-break space."""
    field = clean(text).replace("\n", " ").replace("&", "&amp;")
    if not field.isascii():
        field = AFTER_NON_ASCII.sub("\u00a0", field)
    for ch in RECORD_SPECIALS:
        field = field.replace(ch, "\\" + ch)
    return field


def record(fields: Iterable[str]) -> str:
    """A record label ``{ a | b | c }`` (fields stacked; turned by rankdir) of plain fields.

    ``"`` is escaped in the field (``\\"``), which the graphviz package leaves as it is.
    """
    return graphviz.nohtml("{ " + " | ".join(map(record_field, fields)) + " }")


def dot_name(prefix: str, text: str) -> str:
    """A DOT name for something named by user text (a module's box: ``cluster_layers.0``).

    Short text of word characters, dots, brackets, dashes and spaces is kept readable;
    anything else is replaced by a digest of it, so a name never carries a quote, a
    backslash or a megabyte into the DOT text, and two texts never share a name.
    """
    if len(text) <= NAME_CHARS and SIMPLE_NAME.fullmatch(text):
        return graphviz.nohtml(prefix + text)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return graphviz.nohtml(f"{prefix}{digest}")
