"""Input columns that match no input are named (model.md and stderr), with the input a
look-alike was probably meant for; a tier no account can reach with the columns given is
named as unreachable, not only as an empty tier."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT

ARGS = ["--as-of", "2026-10-01", "--engine", "native", "--no-chart"]
EXPORT = ROOT / "examples" / "salesforce-export.csv"
UNREACHABLE = (
    "tier high_touch_enterprise is unreachable with the columns given: needs sv_band High "
    "(strategic_value > 0.6), but strategic_value is between 0 and 0.5 with strategic_logo, "
    "expansion_potential absent (defaulting to 0)"
)


def _export(tmp_path: Path, drop: tuple[str, ...], rename: dict[str, str]) -> str:
    with EXPORT.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [rename.get(f, f) for f in reader.fieldnames or [] if f not in drop]
        rows = [{rename.get(k, k): v for k, v in r.items() if k not in drop} for r in reader]
    path = tmp_path / "export.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_column_no_input_reads_is_named(tmp_path: Path) -> None:
    book = _export(tmp_path, (), {"health_score": "Health_Score__c"})
    result = _run("segment", book, *ARGS)
    lookalike = ("column 'Health_Score__c' looks like input 'health_score', which has no "
                 "column: rename it, or add 'Health_Score__c' to the input's aliases")
    assert f"note: {lookalike}\n" in result.stderr
    assert (f"note: 32 column(s) of {book} match no input of cs-segmentation-model and are "
            "ignored: AnnualRevenue, Health_Score__c, dau_mau, core_features_used, "
            "core_features_available, csat, open_escalations, exec_access and 24 more (all "
            "named in model.md)\n") in result.stderr
    model = (tmp_path / "out" / "model.md").read_text()
    confidence = model[model.index("## 8. Calibration Confidence"):model.index("### Quality")]
    assert "`Health_Score__c`" in confidence and "`use_case_complexity`" in confidence
    assert f"- C{lookalike[1:]}" in confidence
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["input"]["lookalike_columns"] == {"Health_Score__c": "health_score"}
    assert "Health_Score__c" in report["input"]["ignored_columns"]
    assert report["input"]["missing_columns"] == ["health_score"]


def test_a_tier_out_of_reach_is_named_unreachable(tmp_path: Path) -> None:
    """Without strategic_logo and expansion_potential (0.25 each, default 0), strategic value
    is at most 0.5: the High column, and high_touch_enterprise with it, is out of reach."""
    book = _export(tmp_path, ("strategic_logo", "expansion_potential"), {})
    result = _run("segment", book, *ARGS)
    assert result.exit_code == 1
    assert f"note: {UNREACHABLE}\n" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    gate = next(g for g in report["gates"] if g["id"] == "no_empty_tier")
    assert gate["detail"].endswith("; high_touch_enterprise is " + UNREACHABLE.split(" is ", 1)[1])
    assert report["unreachable_tiers"] == [
        {"tier": "high_touch_enterprise", "because": UNREACHABLE.split(": ", 1)[1]}]
    model = (tmp_path / "out" / "model.md").read_text()
    assert "- Tier `high_touch_enterprise` is unreachable with the columns given: needs" in model


def test_a_tier_still_in_reach_is_not_called_unreachable(tmp_path: Path) -> None:
    """Without product_influence and reference_value (0.35 together) strategic value can
    still reach 0.65: High stays reachable, whatever this export's accounts hold."""
    book = _export(tmp_path, ("product_influence", "reference_value"), {})
    result = _run("segment", book, *ARGS)
    assert "unreachable" not in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["unreachable_tiers"] == []
