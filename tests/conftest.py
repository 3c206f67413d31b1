"""Shared test settings and fixtures.

- hypothesis profiles sized for a 2-core CI run;
- which core (compiled or interpreted) this run tests, shown in the header and
  checked at the start;
- one Jupyter server and one headless Chromium per test process, for the modules
  that need them;
- the order in which tests are handed to the workers: the longest first, so that
  no worker is left alone with a long test at the end (``--maxschedchunk 1`` in
  pyproject.toml hands them out one by one, in this order).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from autograd_scalar import purepython

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")


def core() -> str:
    return "compiled" if purepython.compiled() else "interpreted"


def pytest_report_header(config: pytest.Config) -> str:
    variable = purepython.PURE_PYTHON_VARIABLE
    asked = f" ({variable}={os.environ[variable]})" if os.environ.get(variable) else ""
    return f"core: {core()}{asked}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run asked for the interpreted core must not test the compiled one."""
    if os.environ.get(purepython.PURE_PYTHON_VARIABLE) and purepython.compiled():
        raise pytest.UsageError(f"{purepython.PURE_PYTHON_VARIABLE} is set but the "
                                "compiled core was loaded")


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """A Jupyter server (see tests/notebook_server.py): its URL, its folder, its environment.
    Starting and stopping one takes seconds; the tests that need it share it."""
    from tests.notebook_server import jupyter_server

    folder = tmp_path_factory.mktemp("notebooks")
    with jupyter_server(folder) as (url, env):
        yield url, folder, env


@pytest.fixture(scope="session")
def chromium_session() -> Iterator[Any]:
    """A headless Chromium (see tests/autograd_scalar/browser.py), shared like ``jupyter``."""
    from tests.autograd_scalar.browser import chromium

    driver = chromium()
    yield driver
    driver.quit()


LONGEST_FIRST = (
    "tests/test_notebooks.py::test_notebook_runs_in_a_fresh_kernel[07",
    "tests/nn/test_cli.py::test_readme_commands_print_what_the_readme_shows[gpt",
    "tests/autograd_scalar/explorer/test_explore_notebooks.py::test_live",
    "tests/nn/test_gpt_compiled.py",
    "tests/test_notebooks.py::test_notebook_runs_in_a_fresh_kernel[04",
    "tests/test_notebooks.py::test_notebook_runs_in_a_fresh_kernel[03",
    "tests/nn/test_playground_browser.py",
    "tests/autograd_scalar/explorer/test_explore_notebooks.py",
    "tests/test_notebooks.py::test_notebook_runs_in_a_fresh_kernel",
    "tests/nn/test_gpt.py",
    "tests/test_benchmarks.py",
    "tests/autograd_scalar/explorer/test_explore_browser.py",
    "tests/autograd_scalar/test_backward.py::test_a_million_node_chain",
    "tests/autograd_scalar/test_value.py::test_deepcopy_copies_a_long_graph",
    "tests/nn/test_network.py::test_a_long_chain",
)
"""Node ids (their beginnings) of the tests that take longest, longest first: seconds
each on two cores, where most tests take milliseconds. Only the order changes."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first, then the rest in their usual order."""

    def rank(item: pytest.Item) -> int:
        return next((i for i, start in enumerate(LONGEST_FIRST)
                     if item.nodeid.startswith(start)), len(LONGEST_FIRST))

    items.sort(key=rank)


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """SIGINT raising KeyboardInterrupt, as at an interactive prompt, for the test: a run
    started in the background (a non-interactive shell's ``&``) has it ignored."""
    import signal

    outside = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, outside)
