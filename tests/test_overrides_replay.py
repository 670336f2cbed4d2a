"""Replay with overrides: an override holds the tier in every quarter that ends on or before
its expiry, then the rules decide; `history` shows the start, the holds and the end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tierbook.commands import api

from .conftest import SAMPLE

REASON = "Keep the current CSM through the re-org before any promotion."


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    where = tmp_path_factory.mktemp("replay")
    pins = where / "pins.yaml"
    pins.write_text(
        "tierbook: overrides/v1\noverrides:\n"
        f"  - id: hold-125\n    account: ACC-00125\n    tier: mid_touch\n    owner: vp-cs\n"
        f"    reason: {REASON}\n    created: 2026-09-15\n    expires: 2027-02-15\n"
        f"  - id: pin-8\n    account: ACC-00008\n    tier: high_touch_enterprise\n"
        f"    owner: vp-cs\n    reason: {REASON}\n    created: 2026-11-15\n"
        "    expires: 2027-03-31\n"
    )
    store = str(where / "traces.sqlite")
    result = api.replay(None, str(SAMPLE), None, as_of=dt.date(2026, 10, 1),
                        store_path=store, out_dir=str(where / "out"), chart=False,
                        overrides=str(pins))
    return result, store


def _quarters(store: str, account: str) -> dict[str, dict[str, Any]]:
    _, rows = api.history(account, store_path=store)
    return {r["quarter"]: r for r in rows}


def test_an_override_holds_a_move_until_its_expiry_quarter(replayed: Any) -> None:
    result, store = replayed
    q4 = result.quarters[0]
    assert "ACC-00125" not in [m["account_id"] for m in q4.moves]
    [held] = [m for m in q4.held if m["account_id"] == "ACC-00125"]
    assert (held["from"], held["to"], held["rule"]) == (
        "mid_touch", "high_touch_enterprise", "override:hold-125"
    )
    rows = _quarters(store, "ACC-00125")
    assert rows["2026Q4"]["outcome"] == "held"
    assert rows["2026Q4"]["because"] == (
        f"override held: pinned to mid_touch by vp-cs until 2027-02-15: {REASON} "
        "(rules say high_touch_enterprise)"
    )
    # 2027Q1 ends after 2027-02-15: the rules decide (here they keep it), and it is said
    assert (rows["2027Q1"]["outcome"], rows["2027Q1"]["rule_id"]) == ("stay", "override:hold-125")
    assert rows["2027Q1"]["because"] == "override hold-125 ended on 2027-02-15: the rules decide"
    assert rows["2027Q3"]["outcome"] == "moved"
    assert rows["2027Q3"]["rule_id"] == "promote_on_arr_crossing"


def test_an_override_made_during_the_replay_starts_in_its_quarter(replayed: Any) -> None:
    _, store = replayed
    rows = _quarters(store, "ACC-00008")
    assert (rows["2026Q4"]["outcome"], rows["2026Q4"]["from_tier"], rows["2026Q4"]["to_tier"]) == (
        "moved", "mid_touch", "high_touch_enterprise"
    )
    assert rows["2026Q4"]["because"].startswith("override start: pinned to high_touch_enterprise")
    assert rows["2027Q1"]["to_tier"] == "high_touch_enterprise"
    # the pinned tier was never the rules' choice: the first quarter after the expiry puts the
    # account back in the tier the rules give it, and says which override it was
    assert (rows["2027Q2"]["outcome"], rows["2027Q2"]["from_tier"], rows["2027Q2"]["to_tier"],
            rows["2027Q2"]["rule_id"]) == (
        "moved", "high_touch_enterprise", rows["2027Q2"]["evaluated_tier"], "override:pin-8")
    assert rows["2027Q2"]["to_tier"] != "high_touch_enterprise"
    assert rows["2027Q2"]["because"] == (
        f"override pin-8 ended on 2027-03-31: back to the rules' tier {rows['2027Q2']['to_tier']}")


def test_history_text_shows_the_override(replayed: Any) -> None:
    from tierbook.report.history import render_history

    _, store = replayed
    lines = render_history(*api.history("ACC-00125", store_path=store))
    assert lines[1].startswith("  2026Q4  mid_touch, held: evaluated high_touch_enterprise "
                               "(override:hold-125: override held: pinned to mid_touch")
    assert lines[3] == ("  2027Q1  mid_touch (evaluated high_touch_enterprise, no rule moves it) "
                        "(override hold-125 ended on 2027-02-15: the rules decide)  ARR $12,336")


def test_replay_without_overrides_is_unchanged(tmp_path: Path) -> None:
    plain = api.replay(None, str(SAMPLE), None, as_of=dt.date(2026, 10, 1), chart=False)
    [move] = [m for m in plain.quarters[0].moves if m["account_id"] == "ACC-00125"]
    assert move["rule"] == "promote_on_arr_crossing"


def test_a_flag_override_is_raised_and_cleared_with_its_dates(tmp_path: Path) -> None:
    """A flag added from 2026-12-01 to 2027-05-15: raised in 2026Q4 (its first quarter end
    in force) by the override, cleared in 2027Q2 (the first quarter end after it expired);
    a flag the rules raise is kept off while its override is in force, and comes back (the
    rules') in the first quarter after it expired."""
    from tierbook.commands.inputs import load
    from tierbook.commands.segment import segment

    ruleset, _ = load(None)
    first = segment(ruleset, str(SAMPLE), as_of=dt.date(2026, 10, 1), engine="native")
    flagged = next(d for d in first.evaluation.decisions if "multi_product" in d.flags)
    plain = next(d for d in first.evaluation.decisions if "at_risk_retention" not in d.flags)
    pins = tmp_path / "flags.yaml"
    pins.write_text(
        "tierbook: overrides/v1\noverrides:\n"
        f"  - id: watch\n    account: {plain.account_id}\n    add_flags: [at_risk_retention]\n"
        f"    owner: vp-cs\n    reason: {REASON}\n    created: 2026-12-01\n"
        "    expires: 2027-05-15\n"
        f"  - id: single\n    account: {flagged.account_id}\n    remove_flags: [multi_product]\n"
        f"    owner: vp-cs\n    reason: {REASON}\n    created: 2026-09-01\n"
        "    expires: 2027-02-15\n"
    )
    result = api.replay(None, str(SAMPLE), None, as_of=dt.date(2026, 10, 1),
                        store_path=str(tmp_path / "t.sqlite"), out_dir=str(tmp_path / "out"),
                        chart=False, overrides=str(pins))
    by_quarter = {q.quarter: q for q in result.quarters}

    def mine(q: str, kind: str, account: str) -> list[tuple[str, str]]:
        return [(f["flag"], f["rule"]) for f in by_quarter[q].flags[kind]
                if f["account_id"] == account]

    assert mine("2026Q4", "raised", plain.account_id) == [("at_risk_retention", "override:watch")]
    assert mine("2027Q1", "raised", plain.account_id) == []
    assert ("at_risk_retention", "at_risk_retention") in mine("2027Q2", "cleared", plain.account_id)
    # removed from the start (no raise in 2026Q4), the rules' flag again once it expired
    assert ("multi_product", "multi_product") not in mine("2026Q4", "raised", flagged.account_id)
    assert ("multi_product", "multi_product") in mine("2027Q1", "raised", flagged.account_id)
