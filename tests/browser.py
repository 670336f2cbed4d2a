"""A headless Chromium for the report.html tests, driven by selenium.

The browser is Debian's `chromium` with its `chromium-driver` (.ci/run installs them when
they are missing).  Where neither is installed the tests skip and say why -- except when
TIERBOOK_REQUIRE_BROWSER is set (.ci/run sets it): there a missing browser is a failure,
so CI cannot pass by skipping them.  Screenshots go to tests/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def _found() -> tuple[str, str] | str:
    """The browser and its driver, or why they cannot be used."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    assert browser and driver
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    found = _found()
    if isinstance(found, str):
        if os.environ.get("TIERBOOK_REQUIRE_BROWSER"):
            pytest.fail(f"TIERBOOK_REQUIRE_BROWSER is set but {found}")
        pytest.skip(found)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def errors(driver: Any) -> list[dict[str, Any]]:
    """The page's console messages at level SEVERE (script errors, failed loads)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def in_viewport(driver: Any, element: Any) -> bool:
    """Whether the element is shown and lies at least partly inside the window."""
    script = (
        "const r = arguments[0].getBoundingClientRect();"
        "return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&"
        " r.top < window.innerHeight && r.left < window.innerWidth;"
    )
    return bool(element.is_displayed() and driver.execute_script(script, element))


def screenshot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
