"""`tierbook replay`: what each quarter says about itself — triggers fired once and then
open, what crossed behind a move, who joined, churned and moved, the band method, and the
history behind each move."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .conftest import write_portfolio
from .test_replay import ARGS, events, outcome, replay, ruleset, run


def _edit(path: str, change) -> str:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(Path(path).read_text())
    change(data)
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _replay_with(tmp_path: Path, change, accounts: dict, rows: list[str], csms: int = 20) -> dict:  # type: ignore[no-untyped-def]
    rs = _edit(ruleset(tmp_path, csms), change)
    result = run("replay", rs, write_portfolio(tmp_path, accounts), events(tmp_path, rows),
                 *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _triggers(q: dict) -> list[tuple[str, str, str]]:
    return [(t["id"], t["status"], t["since"]) for t in q["triggers"]]


def test_a_trigger_fires_once_then_is_reported_as_still_open(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, ["2026Q4,,capacity_change,csms,23",
                                                "2027Q1,A,signal,sku_count,2",
                                                "2027Q2,,capacity_change,csms,20",
                                                "2027Q3,,capacity_change,csms,24"], csms=20)
    q1, q2, q3, q4 = data["quarters"]
    assert _triggers(q1) == [("csm_capacity_change", "fired", "2026Q4")]
    assert _triggers(q2) == [("csm_capacity_change", "open", "2026Q4")]
    assert _triggers(q3) == []  # back to 20: closed
    assert _triggers(q4) == [("csm_capacity_change", "fired", "2027Q3")]  # fires again
    result = run("replay", ruleset(tmp_path), write_portfolio(tmp_path, {"A": (500, 0.1)}),
                 events(tmp_path, ["2026Q4,,capacity_change,csms,23",
                                   "2027Q1,A,signal,sku_count,2"]), *ARGS)
    lines = result.stdout.splitlines()
    assert "  ! trigger csm_capacity_change: CSMs 20 -> 23 (+15.0%; threshold ±15%)" in lines
    assert ("  · trigger csm_capacity_change still open (fired 2026Q4): CSMs 20 -> 23 "
            "(+15.0%; threshold ±15%)") in lines


def test_a_product_launch_stays_open_and_a_new_launch_fires_again(tmp_path: Path) -> None:
    data = replay(tmp_path, {"A": (500, 0.1)}, ["2026Q4,,product_launch,,AI add-on",
                                                "2027Q1,A,signal,sku_count,2",
                                                "2027Q2,,product_launch,,Data cloud"])
    assert [_triggers(q) for q in data["quarters"]] == [
        [("strategic_value_redefined", "fired", "2026Q4")],
        [("strategic_value_redefined", "open", "2026Q4")],
        [("strategic_value_redefined", "fired", "2027Q2")]]
    assert data["quarters"][1]["triggers"][0]["detail"] == "AI add-on"


def test_a_trigger_declared_to_rebase_compares_with_the_quarter_it_fired_in(
        tmp_path: Path) -> None:
    def rebase(d: dict) -> None:
        for t in d["recalibration"]["triggers"]:
            t["after_firing"] = "rebase"

    data = _replay_with(tmp_path, rebase, {"A": (500, 0.1)},
                        ["2026Q4,,capacity_change,csms,23", "2027Q1,A,signal,sku_count,2",
                         "2027Q2,,capacity_change,csms,26", "2027Q3,,capacity_change,csms,27"])
    q1, q2, q3, q4 = data["quarters"]
    assert _triggers(q1) == [("csm_capacity_change", "fired", "2026Q4")]
    assert q1["triggers"][0]["detail"].endswith("; re-based to this quarter")
    assert _triggers(q2) == []  # 23 against the new baseline of 23
    assert _triggers(q3) == []  # 26 against 23: +13%
    assert _triggers(q4) == [("csm_capacity_change", "fired", "2027Q3")]  # 27 against 23
    assert q4["triggers"][0]["figures"] == {"base": 23, "csms": 27, "change": 0.1739}


def test_a_churn_trigger_reports_its_streak_once(tmp_path: Path) -> None:
    accounts = {f"P{i}": (500, 0.1) for i in range(40)}
    data = replay(tmp_path, accounts, [f"{q},P{i},churn,," for i, q in enumerate(
        ["2026Q4"] * 4 + ["2027Q1"] * 4 + ["2027Q2"] * 4)])
    assert [[s for i, s, _ in _triggers(q) if i == "tier_churn_over_target"] for q in
            data["quarters"]] == [[], ["fired"], ["open"]]
