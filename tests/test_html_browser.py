"""report.html in a real browser (headless Chromium, tests/browser.py): the page loads with
no error in its console, its key parts are on screen when scrolled to, an account can be
searched for, opened (its decision trace shows) and the table sorted and filtered; the
plan's and the replay's pages likewise.  Screenshots: tests/screenshots/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

from .browser import browser, errors, in_viewport, screenshot  # noqa: F401 (a fixture)
from .conftest import ROOT, SAMPLE

COMMON = ["--as-of", "2026-10-01", "--engine", "native"]


def _cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("pages")
    store = str(work / "t.sqlite")
    _cli("segment", "cs-segmentation-model", str(SAMPLE), *COMMON, "--no-chart",
         "--out", str(work / "seg"), "--store", store)
    _cli("replay", "cs-segmentation-model", str(SAMPLE), str(ROOT / "examples" / "events.csv"),
         *COMMON, "--no-chart", "--out", str(work / "replay"), "--store", store)
    _cli("plan", "--base", "cs-segmentation-model", "--head",
         str(ROOT / "tests" / "golden" / "plan" / "head.yaml"), str(SAMPLE), *COMMON,
         "--store", store, "--html", str(work / "plan.html"))
    return {"segment": work / "seg" / "report.html", "replay": work / "replay" / "report.html",
            "plan": work / "plan.html"}


def _open(driver: Any, page: Path) -> None:
    driver.get(page.as_uri())
    driver.get_log("browser")  # (drop what an earlier page left)
    driver.refresh()


def _rows(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#tb-accounts-table tbody tr")


def _visible_at(driver: Any, anchor: str, inner: str = "") -> Any:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.CSS_SELECTOR, f"#{anchor} {inner}".strip())
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
    assert in_viewport(driver, element), anchor
    return element


def test_segment_page_search_open_sort_filter(browser: Any, pages: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(browser, pages["segment"])
    html = pages["segment"].read_text(encoding="utf-8")
    table = json.loads(re.search(r'id="tb-table">(.*?)</script>', html, re.S).group(1))
    ids, arrs = table["cols"]["account_id"], table["cols"]["arr"]
    for anchor, inner in (("summary", ".kpis"), ("gates", "table"), ("tiers", "svg"),
                          ("capacity", "svg"), ("hints", "table")):
        _visible_at(browser, anchor, inner)
    assert len(_rows(browser)) == 50
    assert "3,000 of 3,000 accounts · page 1 of 60" in browser.find_element(By.ID, "tb-page").text

    largest = ids[max(range(len(ids)), key=lambda i: arrs[i])]
    search = _visible_at(browser, "accounts", "#tb-search")
    search.send_keys(largest)
    rows = _rows(browser)
    assert [r.get_attribute("data-account") for r in rows] == [largest]
    rows[0].click()
    panel = browser.find_element(By.ID, "tb-trace")
    assert in_viewport(browser, panel)
    text = panel.text
    assert "rules fired" in text and "why not" in text and "[cell]" in text
    screenshot(browser, "segment-trace")

    search.clear()
    search.send_keys(" ")  # (an input event; blank matches every account)
    arr_head = browser.find_elements(By.CSS_SELECTOR, "#tb-accounts-table th")[2]
    assert arr_head.text.startswith("arr")
    arr_head.click()
    arr_head.click()  # descending
    assert arr_head.get_attribute("aria-sort") == "descending"
    assert _rows(browser)[0].get_attribute("data-account") == largest
    Select(browser.find_element(By.CSS_SELECTOR, 'select[data-filter="tier"]')).select_by_value(
        "tech_touch")
    tiers = {r.find_elements(By.TAG_NAME, "td")[6].text for r in _rows(browser)}
    assert tiers == {"tech_touch"}
    assert "666 of 3,000 accounts" in browser.find_element(By.ID, "tb-page").text
    browser.find_element(By.ID, "tb-next").click()
    assert "page 2 of 14" in browser.find_element(By.ID, "tb-page").text
    screenshot(browser, "segment-table")
    assert errors(browser) == []


def test_an_account_without_an_embedded_trace_shows_the_command(
    browser: Any, pages: dict[str, Path]
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["segment"])
    html = pages["segment"].read_text(encoding="utf-8")
    traces = json.loads(re.search(r'id="tb-traces">(.*?)</script>', html, re.S).group(1))
    table = json.loads(re.search(r'id="tb-table">(.*?)</script>', html, re.S).group(1))
    plain = next(a for a in table["cols"]["account_id"] if a not in traces)
    browser.find_element(By.ID, "tb-search").send_keys(plain)
    _rows(browser)[0].click()
    assert f"tierbook explain {plain}" in browser.find_element(By.ID, "tb-trace").text
    # a review hint's account button opens that account
    button = _visible_at(browser, "hints", "button.acct")
    account = button.get_attribute("data-account")
    button.click()
    assert browser.find_element(By.ID, "tb-trace").text.startswith(account)
    assert errors(browser) == []


def test_replay_page(browser: Any, pages: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["replay"])
    for anchor, inner in (("movement", "svg"), ("triggers", "svg"), ("accounts", "table")):
        _visible_at(browser, anchor, inner)
    rows = _rows(browser)
    assert rows
    account = rows[0].get_attribute("data-account")
    rows[0].click()
    text = browser.find_element(By.ID, "tb-trace").text
    assert "quarter: 20" in text and f"tierbook history {account}" in text
    screenshot(browser, "replay")
    assert errors(browser) == []


def test_plan_page(browser: Any, pages: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["plan"])
    for anchor, inner in (("matrix", "table"), ("diff", "table"), ("accounts", "table")):
        _visible_at(browser, anchor, inner)
    _rows(browser)[0].click()
    text = browser.find_element(By.ID, "tb-trace").text
    assert "under the base:" in text and "under the head:" in text
    screenshot(browser, "plan")
    assert errors(browser) == []


def test_print_layout_hides_the_controls(browser: Any, pages: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["segment"])
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.CSS_SELECTOR, ".controls").is_displayed()
        assert browser.find_element(By.ID, "tiers").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, ".print-only").is_displayed()
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {})["data"]
        assert len(pdf) > 10000  # (base64 of the printed page)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not browser.find_element(By.CSS_SELECTOR, ".print-only").is_displayed()
