"""Shared test settings: hypothesis profiles sized for a 2-core CI run, and which core
(compiled or interpreted) this run tests, shown in the header and checked at the start."""

from __future__ import annotations

import os

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
