"""Overrides applied by `segment --overrides`: effective tier beside the rules' one in every
output, the counts (per tier, ARR, expiring, expired, redundant, stale), capacity and gates,
and `explain` showing both."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.commands import api

from .conftest import ROOT, SAMPLE

OVERRIDES = ROOT / "examples" / "overrides.yaml"
AS_OF = dt.date(2026, 12, 1)


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    where = tmp_path_factory.mktemp("overridden")
    store = where / "traces.sqlite"
    result = api.segment(
        None,
        str(SAMPLE),
        as_of=AS_OF,
        store_path=str(store),
        out_dir=str(where / "out"),
        chart=False,
        overrides=str(OVERRIDES),
    )
    return result, where / "out", store


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "accounts.csv", encoding="utf-8") as fh:
        return {r["account_id"]: r for r in csv.DictReader(fh)}


def test_a_pin_sets_the_effective_tier_and_keeps_the_rules_tier(segmented: Any) -> None:
    result, out, _ = segmented
    rows = _rows(out)
    pinned = rows["ACC-00008"]
    assert (pinned["tier"], pinned["rules_tier"], pinned["override"]) == (
        "high_touch_enterprise",
        "mid_touch",
        "weststack-renewal",
    )
    assert pinned["motion"] == "High-Touch Enterprise"
    untouched = rows["ACC-00001"]
    assert untouched["tier"] == untouched["rules_tier"] and untouched["override"] == ""
    jsonl = [json.loads(line) for line in (out / "accounts.jsonl").read_text().splitlines()]
    assert list(jsonl[0])[-4:] == ["rules_tier", "override", "csm", "current_tier"]
    assert {r["account_id"]: r["tier"] for r in jsonl}["ACC-00008"] == "high_touch_enterprise"
    rules = result.evaluation.tiers()
    summary = result.tier_summary()
    assert summary["high_touch_enterprise"]["accounts"] == rules.count("high_touch_enterprise") + 1
    assert summary["mid_touch"]["accounts"] == rules.count("mid_touch") - 1


def test_a_flag_override_adds_the_flag(segmented: Any) -> None:
    result, out, _ = segmented
    row = _rows(out)["ACC-00002"]
    assert row["tier"] == row["rules_tier"] == "plg_self_serve"
    assert row["flags"] == "expansion_ready;at_risk_retention"
    assert row["override"] == "oakmont-at-risk"
    rules_flags = sum(1 for d in result.evaluation.decisions if "at_risk_retention" in d.flags)
    assert result.flag_counts()["at_risk_retention"] == rules_flags + 1


def test_the_report_counts_expiring_expired_and_redundant(segmented: Any) -> None:
    _, out, _ = segmented
    report = json.loads((out / "report.json").read_text())["overrides"]
    assert report["applied"] == 3 and report["moved"] == 1
    assert report["by_tier"] == {
        "high_touch_enterprise": 2,
        "mid_touch": 0,
        "tech_touch": 0,
        "plg_self_serve": 1,
    }
    rows = _rows(out)
    assert report["arr"] == round(
        sum(float(rows[a]["arr"]) for a in ("ACC-00008", "ACC-00002", "ACC-00011")), 2
    )
    assert [o["id"] for o in report["expiring"]] == ["oakmont-at-risk"]
    assert [o["id"] for o in report["expired"]] == ["summit-pilot"]
    assert [o["id"] for o in report["redundant"]] == ["flagship-audit"]
    assert report["stale"] == []
    # the expired pin is ignored: the rules decide
    assert rows["ACC-00004"]["tier"] == rows["ACC-00004"]["rules_tier"] == "tech_touch"
    assert rows["ACC-00004"]["override"] == ""
    text = (out / "model.md").read_text()
    assert "## Overrides" in text
    assert (
        "| `summit-pilot` | ACC-00004 | pinned to mid_touch | director-cs | 2026-06-30 | remove it from the file |"
        in text
    )
    assert "| ACC-00008 | mid_touch | high_touch_enterprise | `weststack-renewal` |" in text
    assert "- Rules alone: CSMs needed = " in text


def test_capacity_and_gates_use_the_effective_tiers(segmented: Any) -> None:
    result, _, _ = segmented
    enterprise = {t.tier: t for t in result.capacity.per_tier}["high_touch_enterprise"]
    rules = {t.tier: t for t in result.overrides.rules_capacity.per_tier}["high_touch_enterprise"]
    assert enterprise.accounts == rules.accounts + 1
    detail = {g.id: g.detail for g in result.gates}
    assert "high_touch_enterprise 101" in detail["no_empty_tier"]
    assert "; rules alone: high_touch_enterprise 100" in detail["no_empty_tier"]
    assert detail["mid_touch_under_60_percent"] == (
        "mid_touch holds 21.2% of accounts (636 of 3,000); cap 60%; rules alone: 21.2% (637)"
    )
    assert detail["capacity_fit_explicit"].startswith(result.capacity.statement())
    assert f"; rules alone: {result.overrides.rules_capacity.statement()}" in (
        detail["capacity_fit_explicit"]
    )


def test_explain_shows_the_rules_result_and_the_override(segmented: Any) -> None:
    _, _, store = segmented
    x = api.explain("ACC-00008", store_path=str(store))
    assert x["tier"] == "mid_touch"
    assert x["override"]["tier"] == "high_touch_enterprise"
    out = run("explain", "ACC-00008", "--store", str(store))
    lines = out.output.splitlines()
    assert lines[0] == "ACC-00008: high_touch_enterprise"
    assert lines[1] == (
        "  override: rules say mid_touch; pinned to high_touch_enterprise by vp-cs until "
        "2027-03-31: Renewal of the three-year contract is in negotiation; keep the "
        "enterprise team on it."
    )
    assert "override" not in api.explain("ACC-00001", store_path=str(store))


def test_an_override_of_an_account_not_in_the_portfolio_is_stale(tmp_path: Path) -> None:
    file = tmp_path / "o.yaml"
    file.write_text(
        "tierbook: overrides/v1\noverrides:\n"
        "  - id: gone\n    account: ACC-99999\n    tier: mid_touch\n    owner: vp-cs\n"
        "    reason: Kept on a CSM while the contract is transferred.\n"
        "    created: 2026-11-01\n    expires: 2027-01-31\n"
    )
    out = run(
        "segment",
        str(SAMPLE),
        "--as-of",
        "2026-12-01",
        "--no-chart",
        "--overrides",
        str(file),
        "--format",
        "json",
    )
    assert out.exit_code == 0
    report = json.loads(out.stdout)["overrides"]
    assert report["stale"] == [
        {
            "id": "gone",
            "account_id": "ACC-99999",
            "does": "pinned to mid_touch",
            "owner": "vp-cs",
            "expires": "2027-01-31",
            "why": "not in the portfolio",
        }
    ]
    assert report["applied"] == 0


def test_expiry_is_the_last_day_an_override_applies(tmp_path: Path) -> None:
    from tierbook.overrides.load import load_overrides

    found = load_overrides(str(OVERRIDES))
    pilot = found.by_id("summit-pilot")
    assert pilot is not None
    assert pilot.active(dt.date(2026, 6, 30)) and not pilot.active(dt.date(2026, 7, 1))
    out = run(
        "segment",
        str(SAMPLE),
        "--as-of",
        "2026-06-30",
        "--no-chart",
        "--overrides",
        str(OVERRIDES),
        "--format",
        "json",
    )
    accounts = {a["account_id"]: a for a in json.loads(out.stdout)["accounts"]}
    assert accounts["ACC-00004"]["tier"] == "mid_touch"
    assert accounts["ACC-00004"]["override"] == "summit-pilot"


def test_without_overrides_the_accounts_have_no_override_columns(tmp_path: Path) -> None:
    assert run("segment", str(SAMPLE), "--as-of", "2026-12-01", "--no-chart").exit_code == 0
    header = (tmp_path / "out" / "accounts.csv").read_text().splitlines()[0]
    assert "rules_tier" not in header and "override" not in header
    assert "overrides" not in json.loads((tmp_path / "out" / "report.json").read_text())


def test_an_override_made_after_the_as_of_date_is_not_yet_in_force(tmp_path: Path) -> None:
    out = run("segment", str(SAMPLE), "--as-of", "2026-11-01", "--no-chart", "--overrides",
              str(OVERRIDES), "--format", "json")
    doc = json.loads(out.stdout)
    assert [o["id"] for o in doc["overrides"]["pending"]] == ["weststack-renewal",
                                                               "oakmont-at-risk"]
    accounts = {a["account_id"]: a for a in doc["accounts"]}
    assert accounts["ACC-00008"]["tier"] == accounts["ACC-00008"]["rules_tier"] == "mid_touch"


def test_changes_csv_names_the_override_only_where_it_set_the_tier(tmp_path: Path) -> None:
    """With the book merged: a pinned account's change is the override's doing; an account
    whose override only adds a flag changes tier by the rules' cell."""
    from tierbook.cli.main import main
    from click.testing import CliRunner

    out = tmp_path / "o"
    done = CliRunner().invoke(main, [
        "segment", str(ROOT / "examples" / "portfolio.csv"),
        "--overrides", str(ROOT / "examples" / "overrides.yaml"), "--as-of", "2026-12-15",
        "--out", str(out), "--store", str(tmp_path / "s.db"), "--no-chart"])
    assert done.exit_code == 0, done.output
    with open(out / "changes.csv", encoding="utf-8") as fh:
        rows = {r["account_id"]: r for r in csv.DictReader(fh)}
    assert rows["ACC-00008"]["reason"] == "override weststack-renewal"
    assert rows["ACC-00008"]["tierbook_tier"] == "high_touch_enterprise"
    assert rows["ACC-00002"]["reason"].startswith("cell ")


def test_the_traces_read_together_are_the_traces_read_one_by_one(segmented: Any) -> None:
    """report.html reads its traces in a few queries: the same as one account at a time,
    the overrides with them."""
    from tierbook.trace.explain import Explainer
    from tierbook.trace.store import TraceStore

    result, _, store = segmented
    ids = result.evaluation.account_ids()[:700]
    db = TraceStore(str(store), create=False)
    try:
        together = Explainer(db).explain_many([*ids, ids[0]])
        assert list(together) == ids
        assert any("override" in x for x in together.values())
        for a in ids:
            assert together[a] == Explainer(db).explain_many([a])[a]
    finally:
        db.close()


def test_the_tier_summary_is_the_overrides_and_follows_them(segmented: Any) -> None:
    """The summary (summed once, kept on the result) is the effective tiers' one while the
    overrides are on the result, the rules' once they are taken off, and a caller that
    changes what it was given changes nothing for the next."""
    import dataclasses
    from collections import Counter

    result, _, _ = segmented
    effective = result.tier_summary()
    assert {t: s["accounts"] for t, s in effective.items() if s["accounts"]} == dict(
        Counter(result.tiers()))
    effective["mid_touch"]["accounts"] = -1
    assert result.tier_summary()["mid_touch"]["accounts"] >= 0
    rules = dataclasses.replace(result, overrides=None)
    counted = {t: s["accounts"] for t, s in rules.tier_summary().items() if s["accounts"]}
    assert counted == dict(Counter(result.evaluation.tiers()))
    assert counted != {t: s["accounts"] for t, s in effective.items() if s["accounts"]}
    result.overrides, kept = None, result.overrides
    try:
        assert result.tier_summary() == rules.tier_summary()
    finally:
        result.overrides = kept
    assert result.tier_summary()["mid_touch"]["accounts"] == (
        Counter(result.tiers())["mid_touch"])
