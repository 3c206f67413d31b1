"""The Python examples of a Markdown page, each run alone, and the output they promise.

A page's ```python blocks are examples a reader copies one at a time, so each must run
by itself: in a fresh namespace, in a scratch directory (examples that write files
leave the repository alone), with matplotlib on its Agg canvas. Where a ``print(...)``
line carries a comment (inside a ``try`` or ``with`` too), the comment is the promised
output line, "..." standing for text the page leaves out; the promises must be printed
in the order the block writes them. Blocks fenced as ```text or ```console are shown,
not run.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SHOWN = re.compile(r"^\s*(print\(.*\))\s+#\s*(.+)$")
# a dotted name, not part of a path or a longer name (docs/api/nn.md is a file)
DOTTED = re.compile(r"(?<![\w/.-])((?:nn|autograd_scalar|ag)(?:\.[A-Za-z_]\w*)+)")
PLACEHOLDERS = {"autograd_scalar.name"}  # "autograd_scalar.name(x)": any method row's name


@dataclass(frozen=True)
class Example:
    page: Path
    line: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"


def examples(page: Path) -> list[Example]:
    """The page's ```python blocks, each with the line its code starts on."""
    text = page.read_text(encoding="utf-8")
    return [Example(page, text.count("\n", 0, match.start(1)) + 1, match.group(1))
            for match in FENCE.finditer(text)]


def expected_lines(code: str) -> list[str]:
    """The outputs a block promises: the comment after each print call."""
    return [m.group(2).strip() for line in code.splitlines() if (m := SHOWN.match(line))]


def fulfils(line: str, promise: str) -> bool:
    """Whether a printed line is the promised one, "..." in the promise matching anything."""
    pattern = ".*".join(re.escape(part) for part in promise.split("..."))
    return re.fullmatch(pattern, line.strip()) is not None


def run_alone(example: Example) -> list[str]:
    """Runs the block in a namespace of its own (the caller sets the directory and the
    environment); returns what it printed, line by line, or raises AssertionError."""
    namespace: dict[str, object] = {"__name__": "__example__"}
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        try:
            exec(compile(example.code, example.name, "exec"), namespace)
        except Exception as error:
            raise AssertionError(
                f"{example.name} failed when run alone: {error!r}\n{example.code}") from error
    printed = captured.getvalue().splitlines()
    rest = iter(printed)  # each promise is looked for after the one before it
    for promise in expected_lines(example.code):
        assert any(fulfils(line, promise) for line in rest), (
            f"{example.name} promised {promise!r} (after the promises before it); it "
            f"printed {printed}")
    return printed


def dotted_names(*pages: Path) -> list[str]:
    """Every `nn.x.y`, `ag.x` and `autograd_scalar.x.y` the pages write."""
    found: set[str] = set()
    for page in pages:
        found |= set(DOTTED.findall(page.read_text(encoding="utf-8")))
    return sorted(found - PLACEHOLDERS)


UNREACHABLE_SCRIPT = (
    "import sys\nimport nn\nimport autograd_scalar\nimport autograd_scalar as ag\n"
    "missing = []\n"
    "for name in sys.argv[1:]:\n"
    "    head, *rest = name.split('.')\n"
    "    obj = {'nn': nn, 'ag': ag, 'autograd_scalar': autograd_scalar}[head]\n"
    "    try:\n"
    "        for part in rest:\n"
    "            obj = getattr(obj, part)\n"
    "    except AttributeError:\n"
    "        missing.append(name)\n"
    "print(' '.join(missing))\n"
)
"""Run with the names as arguments in a fresh interpreter: prints those that do not
resolve after `import nn` and `import autograd_scalar as ag` only."""
