"""The autograd-scalar command, run in-process through main(argv) and once as a real program."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from nn.cli import main
from tests import finite_differences as fd

COMMAND = Path(sys.executable).with_name("autograd-scalar")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(err: str, *words: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


def printed_number(out: str, key: str) -> float:
    for line in out.splitlines():
        if line.startswith(f"{key} = "):
            return float(line.split(" = ", 1)[1].split()[0])
    raise AssertionError(f"{key} not printed in {out!r}")


def no_dot_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide Graphviz's dot: PATH keeps only a folder with this Python in it."""
    bin_dir = tmp_path / "bin-without-dot"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bin_dir))


# ---------------------------------------------------------------------------
# graph
# ---------------------------------------------------------------------------

def test_graph_prints_value_and_gradient_and_writes_svg(capsys, tmp_path, monkeypatch):
    no_dot_on_path(monkeypatch, tmp_path)
    target = tmp_path / "g.svg"
    status, out, err = run(capsys, "graph", "tanh(x * w + b)", "--at", "x=2,w=-0.5,b=0.3",
                           "-o", str(target), "--precision", "10")
    assert status == 0, err
    x, w, b = 2.0, -0.5, 0.3

    def f(x: float, w: float, b: float) -> float:
        return math.tanh(x * w + b)

    assert math.isclose(printed_number(out, "f"), f(x, w, b), rel_tol=1e-9)
    for name, expected in zip("xwb", fd.gradient(f, [x, w, b])):
        assert fd.close(printed_number(out, f"df/d{name}"), expected)
    svg = target.read_text()
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "</svg>" in svg and "tanh" in svg
    assert f"wrote {target}" in out


def test_graph_dot_output_holds_every_variable(capsys, tmp_path):
    target = tmp_path / "g.dot"
    status, _, err = run(capsys, "graph", "sum(a, b, a * b)", "--at", "a=1", "--at", "b=2",
                         "-o", str(target))
    assert status == 0, err
    source = target.read_text()
    assert "digraph" in source
    for label in ("a", "b", "sum"):
        assert label in source


def test_python_dash_m_nn_is_the_same_command(tmp_path):
    target = tmp_path / "g.dot"
    done = subprocess.run([sys.executable, "-m", "nn", "graph", "x * x", "--at", "x=3",
                           "-o", str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert printed_number(done.stdout, "df/dx") == 6.0
    assert target.exists()


# ---------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------

def test_gradcheck_agrees_on_a_smooth_formula(capsys):
    status, out, err = run(capsys, "gradcheck", "x * sin(y) / y", "--at", "x=1.5,y=0.3")
    assert (status, err) == (0, "")
    assert "all 2 derivatives agree" in out


def test_gradcheck_at_a_kink_prints_the_table_and_exits_1(capsys):
    status, out, err = run(capsys, "gradcheck", "relu(x) + abs(y - 1) + y", "--at", "x=0,y=3")
    assert (status, err) == (1, "")
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.strip().startswith("d/d")}
    # backward takes relu'(0) = 0; the central difference straddles the kink and gives 1/2
    assert float(rows["d/dx"][1]) == 0.0 and float(rows["d/dx"][2]) == pytest.approx(0.5)
    assert "kink" in rows["d/dx"][-1]
    # d/dy of |y - 1| + y at y = 3 is 2, and it agrees
    assert float(rows["d/dy"][1]) == 2.0 and float(rows["d/dy"][2]) == pytest.approx(2.0)
    assert "relu" in out


def test_gradcheck_tolerances_decide(capsys):
    # the central difference of exp at 1 with eps = 0.1 is e * sinh(0.1) / 0.1, 0.17% above e
    argv = ["gradcheck", "exp(x)", "--at", "x=1", "--eps", "0.1", "--atol", "0"]
    assert run(capsys, *argv, "--rtol", "0.01")[0] == 0
    status, out, _ = run(capsys, *argv, "--rtol", "0.001")
    assert status == 1
    numeric = math.e * math.sinh(0.1) / 0.1
    assert f"{numeric:.8g}" in out


def test_gradcheck_needs_a_variable_and_a_point_inside_the_domain(capsys):
    status, _, err = run(capsys, "gradcheck", "exp(1) + 2")
    assert status == 2
    assert_one_line_error(err, "no variables")
    status, _, err = run(capsys, "gradcheck", "log(x)", "--at", "x=1e-7")
    assert status == 2
    assert_one_line_error(err, "log: expected x > 0", "domain")


# ---------------------------------------------------------------------------
# errors: one line on stderr, never a traceback, status 2 for a bad command line
# ---------------------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('echo hacked')", "attribute access"),
    ("__import__('os')", "unknown function __import__"),
    ("x.__class__", "attribute access"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in y]", "comprehension"),
    ("9 ** 9 ** 9 * x", "inf"),
    ("x" * 5000, "characters long"),
    ("exp(" * 120 + "x" + ")" * 120, "nested too deeply"),
    ("'rm -rf' * x", "string"),
    ("foo(x)", "unknown function foo"),
]


@pytest.mark.parametrize(("formula", "problem"), HOSTILE, ids=[h[1] for h in HOSTILE])
@pytest.mark.parametrize("command", ["graph", "gradcheck"])
def test_hostile_formulas_are_refused_in_one_line(capsys, tmp_path, command, formula, problem):
    target = tmp_path / "g.svg"
    argv = [command, formula, "--at", "x=1"]
    if command == "graph":
        argv += ["-o", str(target)]
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, f"autograd-scalar {command}: error:", problem)
    assert "hacked" not in out
    assert not target.exists()


@pytest.mark.parametrize(("argv", "problem"), [
    (["graph", "x * y", "--at", "x=1"], "unbound variable(s) y"),
    (["graph", "x", "--at", "x=1,z=2"], "z given a value but not used"),
    (["graph", "x", "--at", "x"], "has no value"),
    (["graph", "x", "--at", "x=1,x=2"], "x is given twice"),
    (["graph", "x", "--at", "x=one"], "'one' is not a number"),
    (["graph", "log(x)", "--at", "x=-1"], "log: expected x > 0"),
    (["graph", "1 / x", "--at", "x=0"], "non-zero divisor"),
    (["graph", "x", "--at", "x=1", "-o", "g.jpg"], "format"),
    (["graph", "x", "--at", "x=1", "--precision", "0"], "expected a whole number >= 1"),
    (["graph", "x", "--at", "x=1", "--rankdir", "UP"], "invalid choice"),
    (["graph"], "required: FORMULA"),
    (["gradcheck", "x", "--at", "x=1", "--eps", "0"], "expected a finite number > 0"),
    (["gradcheck", "x", "--at", "x=1", "--atol", "-1"], "expected a finite number >= 0"),
    (["gradcheck", "x", "--at", "x=1", "--rtol", "abc"], "'abc' is not a number"),
    (["frobnicate"], "invalid choice"),
    ([], "required: COMMAND"),
    (["graph", "x", "--at", "x=1", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_command_lines_exit_2_with_one_line(capsys, tmp_path, monkeypatch, argv, problem):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, problem)
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_is_status_1_in_one_line(capsys, tmp_path):
    status, _, err = run(capsys, "graph", "x", "--at", "x=1",
                         "-o", str(tmp_path / "missing" / "g.svg"))
    assert status == 1
    assert_one_line_error(err, "missing")


@pytest.mark.parametrize("command", ["graph", "gradcheck"])
def test_every_subcommand_has_help_with_examples(capsys, command):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert f"autograd-scalar {command}" in out
    assert "examples:" in out
    assert out.count("autograd-scalar " + command) >= 2


def test_top_level_help_and_version(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("graph", "gradcheck"):
        assert command in out
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.startswith("autograd-scalar ")


def test_the_installed_command_reports_errors_without_traceback(tmp_path):
    assert COMMAND.exists(), "install the project first: pip install -e ."
    done = subprocess.run([str(COMMAND), "graph", "x.__class__", "--at", "x=1"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "attribute access")
    assert done.stdout == ""
