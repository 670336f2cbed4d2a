"""Capacity calibration: `segment` recommends, `tierbook calibrate` writes a new version."""

from __future__ import annotations

import csv
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
    assert "version 1.0.2 -> 1.1.0" in result.stdout
    new = (tmp_path / "next.yaml").read_text()
    old_lines, new_lines = Path(rs).read_text().splitlines(), new.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines[:len(old_lines)]) if a != b]
    assert ("  version: 1.0.2", "  version: 1.1.0") in changed
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


def _sample_rows(n: int) -> tuple[list[str], list[dict[str, str]]]:
    with SAMPLE.open(newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), [row for _, row in zip(range(n), reader)]


def _write_rows(path: Path, fields: list[str], rows: list[dict[str, str]]) -> str:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_moved_boundaries_carry_labels_that_spell_the_new_edges(tmp_path: Path) -> None:
    """Loosening far enough moves the ARR boundary of the Mid row 10,000 -> 5,000: the two
    bands that share it are relabelled like the originals; name labels stay."""
    rs = with_enterprise_csms(tmp_path, 30)
    result = run("calibrate", rs, str(SAMPLE), *ARGS, "-o", str(tmp_path / "next.yaml"))
    assert result.exit_code == 0, result.output
    new_lines = (tmp_path / "next.yaml").read_text().splitlines()
    assert '        - {id: arr_1k_10k, label: "$1K-$5K", gte: 1000, lt: 5000, row: low}' in new_lines
    assert ('        - {id: arr_10k_100k, label: "$5K-$100K", gte: 5000, lt: 100000, row: mid}'
            in new_lines)
    assert "      - {id: high, label: High, gt: 0.5}" in new_lines  # a name, not the edges
    assert "  label of arr_10k_100k: $10K-$100K -> $5K-$100K" in result.stdout
    change = yaml.safe_load("\n".join(new_lines))["metadata"]["changelog"][0]["change"]
    assert "10000 -> 5000 (labels now $1K-$5K, $5K-$100K)" in change
    model = load_ruleset(str(tmp_path / "next.yaml"))
    labels = {b.id: b.label for b in model.band_set("arr_band").variants["log"]}
    assert labels["arr_under_1k"] == "<$1K" and labels["arr_500k_plus"] == "$500K+"


def test_rounds_are_numbered_by_the_moves_made(tmp_path: Path) -> None:
    """The first lever reaching its limit takes no round: the next lever's move is round 3."""
    rs = with_enterprise_csms(tmp_path, 30)
    data = json.loads(run("segment", rs, str(SAMPLE), *ARGS, "--format", "json", "--no-chart").stdout)
    steps = data["calibration"]["steps"]
    assert [(s["round"], s["lever"]) for s in steps] == [
        (1, "strategic_value_high_threshold"), (2, "strategic_value_high_threshold"),
        (3, "arr_mid_boundary"), (4, "arr_mid_boundary")]


def test_every_lever_says_what_became_of_it(tmp_path: Path) -> None:
    """A flat ARR book gets quartile bands: the log-band lever does not apply, and says so."""
    fields, rows = _sample_rows(400)
    for i, row in enumerate(rows):
        row["arr"] = str(20000 + 50 * i)
    book = _write_rows(tmp_path / "even.csv", fields, rows)
    rs = with_enterprise_csms(tmp_path, 30)
    result = run("calibrate", rs, book, *ARGS, "-o", str(tmp_path / "next.yaml"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[lines.index("levers:") + 1:lines.index("levers:") + 3] == [
        "  strategic_value_high_threshold (sv_band): applied: moved 0.6 -> 0.5 in rounds 1-2; "
        "then at its minimum 0.5",
        "  arr_mid_boundary (arr_band): not applicable: arr_band uses quartile bands in this "
        "run; the lever moves its log bands",
    ]
    seg = run("segment", rs, book, *ARGS, "--no-chart", "--out", str(tmp_path / "seg"))
    model = (tmp_path / "seg" / "model.md").read_text()
    assert ("| `arr_mid_boundary` | `arr_band` | not applicable | arr_band uses quartile bands "
            "in this run; the lever moves its log bands |") in model, seg.output


def test_a_calibration_that_moves_no_account_is_refused(tmp_path: Path) -> None:
    """No account has strategic value near High: every lever moves and the enterprise tier
    stays empty (0 -> 0). No version is written; the reason is given; exit 1."""
    fields, rows = _sample_rows(300)
    for row in rows:
        for factor in ("strategic_logo", "expansion_potential", "product_influence",
                       "reference_value", "regulatory_exposure"):
            row[factor] = "0.01"
    book = _write_rows(tmp_path / "flat.csv", fields, rows)
    target = tmp_path / "next.yaml"
    result = run("calibrate", "cs-segmentation-model", book, *ARGS, "-o", str(target))
    assert result.exit_code == 1 and not target.exists()
    assert result.stderr.endswith("\nno new version written: no move changes "
                                  "high_touch_enterprise, the tier being calibrated: it keeps "
                                  "0 accounts (0 -> 0)\n")
    assert "arr_mid_boundary (arr_band): applied: moved 10,000 -> 5,000" in result.stdout
    data = json.loads(run("calibrate", "cs-segmentation-model", book, *ARGS, "-o", str(target),
                          "--format", "json").stdout)
    assert data["status"] == "refused" and data["written"] is None and not target.exists()
    assert data["refused"].endswith("keeps 0 accounts (0 -> 0)")


def test_calibrate_json(tmp_path: Path) -> None:
    rs = with_enterprise_csms(tmp_path, 5)
    result = run("calibrate", rs, str(SAMPLE), *ARGS, "-o", str(tmp_path / "next.yaml"),
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"ruleset", "input", "as_of", "status", "refused", "calibration",
                         "written"}
    assert data["status"] == "written" and data["refused"] is None
    written = data["written"]
    assert (written["old_version"], written["new_version"]) == ("1.0.2", "1.1.0")
    assert written["file"] == str(tmp_path / "next.yaml")
    assert written["changes"] == [{"lever": "strategic_value_high_threshold", "band": "sv_band",
                                   "boundary": "high", "from": 0.6, "to": 0.7, "labels": {}}]
    assert written["review"] == f"tierbook plan --base {rs} --head {tmp_path / 'next.yaml'}"
    assert [lv["outcome"] for lv in data["calibration"]["levers"]] == ["applied", "not_needed"]
    nothing = json.loads(run("calibrate", "cs-segmentation-model", str(SAMPLE), *ARGS, "-o",
                             str(tmp_path / "x.yaml"), "--format", "json").stdout)
    assert nothing["status"] == "nothing_to_calibrate" and nothing["written"] is None


def test_a_zero_weight_is_redistributed_validated_and_said(tmp_path: Path) -> None:
    """A rubric factor switched off with weight 0: validate accepts the rest summing below 1,
    every account is scored with the others' weights scaled to 1, and the gate says so."""
    text = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text()
    off = text.replace("{id: regulatory_exposure, input: regulatory_exposure, weight: 0.15}",
                       "{id: regulatory_exposure, input: regulatory_exposure, weight: 0}")
    off = off.replace("{id: reference_value, input: reference_value, weight: 0.15}",
                      "{id: reference_value, input: reference_value, weight: 0.25}")
    assert off != text
    path = tmp_path / "off.yaml"
    path.write_text(off)
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(path)]).exit_code == 0
    bad = off.replace("weight: 0.25}", "weight: 0.35}", 1)  # (sums above 1: still an error)
    (tmp_path / "bad.yaml").write_text(bad)
    assert runner.invoke(main, ["validate", str(tmp_path / "bad.yaml")]).exit_code == 1
    result = runner.invoke(main, ["segment", str(path), str(SAMPLE), "--as-of", "2026-10-01",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    gate = next(g for g in doc["gates"] if g["id"] == "rubric_weights_sum_to_one")
    assert gate["passed"] and "regulatory_exposure at 0: redistributed" in gate["detail"]
    assert "strategic_logo 0.2632" in gate["detail"]  # 0.25 / 0.95
