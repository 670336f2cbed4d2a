"""Beside the stability gate's three sampled accounts: every account near a tier boundary
(ARR within ±10% of an ARR boundary between grid rows, strategic value within ±0.02 of a
strategic-value boundary between grid columns), with the largest by ARR."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from tierbook.assess import proximity
from tierbook.cli.main import main

from .conftest import SAMPLE

ARGS = ["--as-of", "2026-10-01", "--engine", "native"]


def _segment(tmp_path: Path) -> dict:
    result = CliRunner().invoke(main, ["segment", "cs-segmentation-model", str(SAMPLE), *ARGS,
                                       "--format", "json", "--no-chart"], catch_exceptions=False)
    return json.loads(result.stdout)


def test_counts_and_largest_match_the_accounts_own_values(tmp_path: Path) -> None:
    data = _segment(tmp_path)
    with (tmp_path / "out" / "accounts.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    arr = {r["account_id"]: float(r["arr"]) for r in rows}
    sv = {r["account_id"]: float(r["strategic_value"]) for r in rows}
    near_arr = [a for a, v in arr.items() if any(0.9 * v <= e <= 1.1 * v for e in (1e4, 1e5))]
    near_sv = [a for a, v in sv.items() if any(abs(v - e) <= 0.02 + 1e-12 for e in (0.3, 0.6))]
    by_set = {n["band_set"]: n for n in data["near_boundaries"]}
    assert by_set["arr_band"]["boundaries"] == [10000, 100000]  # not 1,000 / 500,000: same row
    assert by_set["arr_band"]["accounts"] == len(near_arr) > 0
    assert by_set["sv_band"]["accounts"] == len(near_sv) > 0
    for band_set, ids in (("arr_band", near_arr), ("sv_band", near_sv)):
        largest = sorted(ids, key=lambda a: (-arr[a], a))[:5]
        assert [a["account_id"] for a in by_set[band_set]["largest"]] == largest
    assert by_set["arr_band"]["arr"] == round(sum(arr[a] for a in near_arr), 2)


def test_tier_changes_agree_with_reclassifying_each_account(tmp_path: Path, monkeypatch) -> None:
    """The grid shortcut (new ARR band's row x own strategic-value column) gives the same
    count as running each perturbed account through the rule network, as the gate does."""
    fast = _segment(tmp_path)["near_boundaries"]
    monkeypatch.setattr(proximity, "_grid_decides", lambda *args: False)
    slow = _segment(tmp_path)["near_boundaries"]
    assert fast == slow
    assert fast[0]["changes_tier"] == 76  # of the 104 near an ARR boundary


def test_the_summary_and_model_name_them_beside_the_gate(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["segment", "cs-segmentation-model", str(SAMPLE), *ARGS,
                                       "--no-chart"], catch_exceptions=False)
    text = " ".join(line.strip("│ ") for line in result.stdout.splitlines())
    assert ("! near a boundary: 104 within ±10% of an ARR boundary (76 change tier), largest "
            "ACC-02452 $110,710; 280 within ±0.02 of a strategic_value boundary, largest "
            "ACC-02661 $2,618,550") in text
    model = (tmp_path / "out" / "model.md").read_text()
    assert ("- `arr_band` (over `arr`): 104 account(s), $3,824,506 ARR, within ±10% of an ARR "
            "boundary (10,000, 100,000); 76 of them change tier at ARR ±10%.") in model
    assert "| ACC-02661 | $2,618,550 | 0.599 | 0.6 | mid_touch |" in model
    assert model.index("### Quality gates") < model.index("### Accounts near a tier boundary")
