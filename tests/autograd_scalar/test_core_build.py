"""The compiled core and the pure-Python core: the same results, the same tests.

``pip install`` compiles ops, mode, value, backward and mirror with Cython where it can;
``AUTOGRAD_SCALAR_PURE_PYTHON=1`` loads them from source instead. Random programs
must give bit-identical values and gradients both ways, and the engine's tests must
pass on the source core too: CI runs this folder a second time with the variable set
(the README's test command), and the test below checks that each run has the core it
asks for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, purepython
from tests.autograd_scalar.random_programs import programs, run

ROOT = Path(__file__).resolve().parents[2]
PURE = {**os.environ, purepython.PURE_PYTHON_VARIABLE: "1"}
INTERPRETED_RUN = bool(os.environ.get(purepython.PURE_PYTHON_VARIABLE))
"""Whether this test run was asked for the interpreted core."""

EVALUATE = """
import json, sys
import autograd_scalar as ag
from autograd_scalar import Value
from tests.autograd_scalar.random_programs import run
cases = json.loads(sys.stdin.read())
found = []
for steps, point in cases:
    inputs = [Value(x) for x in point]
    out = run(steps, inputs)
    out.backward()
    found.append([out.data.hex(), [x.grad.hex() for x in inputs]])
print(json.dumps({"compiled": ag.compiled(), "found": found}))
"""


def _python(code: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=PURE, timeout=120, check=True)
    return done.stdout


def test_this_run_has_the_core_the_variable_asks_for() -> None:
    """Compiled unless AUTOGRAD_SCALAR_PURE_PYTHON is set: an install that fell back to
    the interpreted core would otherwise test it twice and the compiled one never."""
    assert purepython.compiled() is not INTERPRETED_RUN, (
        "the compiled core is not installed: reinstall with Cython and a C compiler"
        if not INTERPRETED_RUN else "the variable did not switch the core to source")


def test_the_switch_loads_the_core_from_source() -> None:
    shown = _python("import autograd_scalar as ag, autograd_scalar.value as v; "
                    "print(ag.compiled(), v.__file__.endswith('value.py'))")
    assert shown.split() == ["False", "True"]


@pytest.mark.skipif(INTERPRETED_RUN, reason="compares the compiled core with the interpreted "
                    "one; this run has the interpreted core only")
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases=st.lists(programs(), min_size=40, max_size=40))
def test_random_programs_are_bit_identical_compiled_and_interpreted(cases) -> None:
    answer = json.loads(_python(EVALUATE, json.dumps(cases)))
    assert answer["compiled"] is False
    for (steps, point), (data, grads) in zip(cases, answer["found"]):
        inputs = [Value(x) for x in point]
        out = run(steps, inputs)
        out.backward()
        assert out.data.hex() == data
        assert [x.grad.hex() for x in inputs] == grads


def test_values_are_not_tracked_by_the_cyclic_collector_when_compiled() -> None:
    import gc

    node = Value(1.0) * 2.0
    assert gc.is_tracked(node) is (not ag.compiled())


def test_ops_pxd_declares_the_fields_of_a_row_in_order() -> None:
    """The row's fields are declared once, as the dataclass ``Op``; Cython needs them again
    as typed attributes in ``ops.pxd``, which must list the same names in the same order."""
    pxd = (ROOT / "autograd_scalar" / "ops.pxd").read_text().split("cdef class Op:")[1]
    declared = re.findall(r"^ +cdef readonly \w+ (\w+)$", pxd.split("\n\n")[0], re.MULTILINE)
    assert tuple(declared) == ag.ops.FIELDS
