"""Capacity calibration: `segment` recommends, `tierbook calibrate` writes a new version."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.ruleset.build import load_ruleset

from .conftest import ROOT, SAMPLE

ARGS = ["--as-of", "2026-10-01"]
DEFAULT = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def with_enterprise_csms(tmp_path: Path, n: int) -> str:
    path = tmp_path / f"rs-{n}.yaml"
    path.write_text(DEFAULT.replace("high_touch_enterprise: 10\n", f"high_touch_enterprise: {n}\n", 1))
    return str(path)


def test_segment_reports_the_recommendation_without_moving_a_threshold(tmp_path: Path) -> None:
    rs = with_enterprise_csms(tmp_path, 5)
    data = json.loads(run("segment", rs, str(SAMPLE), *ARGS, "--format", "json", "--no-chart").stdout)
    cal = data["calibration"]
    assert cal["direction"] == "tighten" and cal["tier"] == "high_touch_enterprise"
    assert [(s["lever"], s["boundary_from"], s["boundary_to"]) for s in cal["steps"]] == [
        ("strategic_value_high_threshold", 0.6, 0.65), ("strategic_value_high_threshold", 0.65, 0.7)]
    assert cal["steps"][-1]["needed_after"] <= 5 * 1.1 and cal["fits"]
    # the run itself still used the declared threshold
    assert data["bands"]["sv_band"]["edges"] == [0.3, 0.6]
    model = (tmp_path / "out" / "model.md").read_text()
    assert "| 1 | `strategic_value_high_threshold` | 0.6 -> 0.65 |" in model


def test_calibrate_writes_a_reviewable_new_version(tmp_path: Path) -> None:
    rs = with_enterprise_csms(tmp_path, 5)
    result = run("calibrate", rs, str(SAMPLE), *ARGS, "-o", str(tmp_path / "next.yaml"))
    assert result.exit_code == 0, result.output
    assert "version 1.0.0 -> 1.1.0" in result.stdout
    new = (tmp_path / "next.yaml").read_text()
    old_lines, new_lines = Path(rs).read_text().splitlines(), new.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines[:len(old_lines)]) if a != b]
    assert ("  version: 1.0.0", "  version: 1.1.0") in changed
    assert "      - {id: high, label: High, gt: 0.7}" in new_lines
    assert "      - {id: medium, label: Medium, gte: 0.3, lte: 0.7}" in new_lines
    assert "# yaml-language-server" in new_lines[0]  # comments and layout survive
    meta = yaml.safe_load(new)["metadata"]
    assert meta["changelog"][0]["version"] == "1.1.0"
    assert "Moved sv_band high lower bound 0.6 -> 0.7" in meta["changelog"][0]["change"]
    assert len(new_lines) == len(old_lines) + 3
    model = load_ruleset(str(tmp_path / "next.yaml"))
    assert model.band_set("sv_band").variants["declared"][2].lower == 0.7
    plan = json.loads(run("plan", "--base", rs, "--head", str(tmp_path / "next.yaml"), str(SAMPLE),
                          *ARGS, "--format", "json").stdout)
    assert plan["warnings"] == [] and plan["accounts_changing_tier"] > 0
    after = {r["tier"]: r["needed_after"] for r in plan["capacity"]["per_tier"]}
    assert after["high_touch_enterprise"] <= 5


def test_the_review_hint_names_a_base_that_still_holds_the_old_version(tmp_path: Path) -> None:
    """Written elsewhere, the ruleset itself is the old version; rewritten in place, only git
    still has it (planning the file against itself would show nothing)."""
    rs = with_enterprise_csms(tmp_path, 5)
    out = run("calibrate", rs, str(SAMPLE), *ARGS, "-o", str(tmp_path / "next.yaml"))
    assert out.stdout.rstrip().endswith(f"review it with tierbook plan --base {rs} --head "
                                        f"{tmp_path / 'next.yaml'}")
    in_place = run("calibrate", rs, str(SAMPLE), *ARGS, "--in-place")
    assert in_place.exit_code == 0, in_place.output
    assert in_place.stdout.rstrip().endswith(f"review it with tierbook plan --base git:HEAD:{rs} "
                                             f"--head {rs}")


def test_slack_loosens(tmp_path: Path) -> None:
    rs = with_enterprise_csms(tmp_path, 14)
    data = json.loads(run("segment", rs, str(SAMPLE), *ARGS, "--format", "json", "--no-chart").stdout)
    cal = data["calibration"]
    assert cal["direction"] == "loosen"
    assert cal["steps"][0]["boundary_to"] < cal["steps"][0]["boundary_from"]


def test_nothing_to_calibrate_writes_nothing(tmp_path: Path) -> None:
    result = run("calibrate", "cs-segmentation-model", str(SAMPLE), *ARGS, "-o", str(tmp_path / "x.yaml"))
    assert result.exit_code == 0
    assert "nothing to calibrate" in result.stdout and not (tmp_path / "x.yaml").exists()


def test_calibrate_needs_a_destination(tmp_path: Path) -> None:
    result = run("calibrate", with_enterprise_csms(tmp_path, 5), str(SAMPLE), *ARGS)
    assert result.exit_code == 2 and "give --output FILE" in result.stderr
