"""Coverage alignment (priority-model) on a hand-built portfolio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import SAMPLE

ARGS = ["--as-of", "2026-10-01"]
HEADER = ("account_id,arr,renewal_date,core_features_used,core_features_available,monthly_contacts,"
          "estimated_potential_arr,health_score,current_coverage,csm,use_case_complexity\n")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_misaligned_accounts_ranked_by_impact(tmp_path: Path) -> None:
    # priority: arr 1M -> 0.30, potential 3x -> 0.20, health 100 -> 0.15, renewal in 30 days
    # -> 0.15, adoption 1 -> 0.10, 4 contacts -> 0.10: 1.0 (tier_1); the small ones score low
    rows = [
        "BIG,1000000,2026-10-31,10,10,4,3000000,100,tier_3,Ann,2",
        "MID,1000000,2026-10-31,10,10,4,3000000,100,tier_2,Ann,1",
        "OK,1000000,2026-10-31,10,10,4,3000000,100,tier_1,Bo,1",
        "TINY,100,2027-09-30,0,10,0,100,0,tier_1,Bo,1",
    ]
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    result = run("align", "priority-model", str(path), *ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    a = json.loads(result.stdout)
    assert [(m["account_id"], m["current"], m["recommended"], m["change"], m["impact"])
            for m in a["top_changes"]] == [
        ("BIG", "tier_3", "tier_1", "upgrade", 2000000.0),
        ("MID", "tier_2", "tier_1", "upgrade", 1000000.0),
        ("TINY", "tier_1", "digital", "downgrade", 300.0)]
    assert a["misaligned"] == 3 and a["arr_at_stake"] == 2000100.0
    assert [m["account_id"] for m in a["upgrades"]] == ["BIG", "MID"]
    assert [m["account_id"] for m in a["downgrades"]] == ["TINY"]
    top = a["expansion"][0]
    assert top["gap"] == 2000000.0 and top["readiness"] == 1.0
    assert top["signals"] == ["expansion_opportunity", "renewal_due"]
    assert top["score"] == 2000000.0 * 1.0 * 1.5


def test_territory_rebalancing_evens_the_load(tmp_path: Path) -> None:
    data = json.loads(run("segment", "priority-model", str(SAMPLE), *ARGS, "--format", "json",
                          "--no-chart").stdout)
    t = data["alignment"]["territory"]
    spread_before = max(v["before"] for v in t["csms"].values()) - min(v["before"] for v in t["csms"].values())
    spread_after = max(v["after"] for v in t["csms"].values()) - min(v["after"] for v in t["csms"].values())
    assert spread_after < spread_before / 2
    # load is moved, not lost (each figure is rounded to 4 places: a 0.0001 each at most)
    assert sum(v["before"] for v in t["csms"].values()) == pytest.approx(
        sum(v["after"] for v in t["csms"].values()), abs=1e-4 * len(t["csms"]))
    model = (Path("out") / "model.md").read_text()
    assert "## Coverage Alignment" in model and "### Territory rebalancing" in model


def test_align_needs_an_alignment_block() -> None:
    result = run("align", "cs-segmentation-model", str(SAMPLE), *ARGS)
    assert result.exit_code == 2 and "declares no `alignment`" in result.stderr
