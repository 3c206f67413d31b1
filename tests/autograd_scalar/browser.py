"""A headless Chromium driven by selenium, and a folder for the screenshots tests keep."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Chromium and its driver are not installed (apt-get install chromium chromium-driver)")


def chromium(width: int = 1100, height: int = 900) -> Any:
    """A new headless Chromium session (Debian's chromium and chromedriver, nothing fetched)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.binary_location = str(CHROMIUM)
    return webdriver.Chrome(service=Service(str(DRIVER)), options=options)


@pytest.fixture(scope="module")
def browser(chromium_session: Any) -> Any:
    """The test process's one headless Chromium (``chromium_session`` in tests/conftest.py),
    started when a test first needs it; every test loads its own page."""
    return chromium_session


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots of each state go (the path is printed with -s or on failure)."""
    folder = tmp_path_factory.mktemp("artefacts")
    print(f"screenshots in {folder}")
    return folder
