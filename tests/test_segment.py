"""`tierbook segment` end to end: outputs, determinism, gates, bad input, atomic writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT, SAMPLE

ARGS = ["--as-of", "2026-10-01"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_bare_command_is_the_demo(tmp_path: Path) -> None:
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "portfolio.csv").write_bytes(SAMPLE.read_bytes())
    result = run("segment", *ARGS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) <= 40
    assert lines[0].startswith("┌") and lines[-1].startswith("└")
    assert "CSMs needed = " in result.stdout
    for name in ("model.md", "accounts.csv", "accounts.jsonl", "tiers.png", "report.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert (tmp_path / "out" / "tiers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_document_has_the_eight_sections_in_order(tmp_path: Path) -> None:
    assert run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS).exit_code == 0
    text = (tmp_path / "out" / "model.md").read_text()
    sections = ["Model Summary", "Axis Definitions", "Tier Definitions", "Override Flag Library",
                "Customer Segmentation Table", "Capacity Roll-Up", "Re-Calibration Triggers",
                "Calibration Confidence"]
    positions = [text.index(f"## {i}. {s}") for i, s in enumerate(sections, start=1)]
    assert positions == sorted(positions)
    assert "CSMs needed = " in text and "CSMs available = " in text and "gap = " in text


def test_rerun_is_byte_identical(tmp_path: Path) -> None:
    assert run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--out", "a").exit_code == 0
    assert run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--out", "b").exit_code == 0
    for name in ("model.md", "accounts.csv", "accounts.jsonl", "tiers.png", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    j1 = run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--format", "json", "--out", "c")
    j2 = run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--format", "json", "--out", "c")
    assert j1.stdout == j2.stdout


def test_json_shape(tmp_path: Path) -> None:
    result = run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--format", "json")
    data = json.loads(result.stdout)
    assert set(data["ruleset"]) == {"name", "version", "sha256"}
    assert {"method", "reason", "edges"} <= set(data["arr_bands"])
    assert set(data["tiers"]) == {"high_touch_enterprise", "mid_touch", "tech_touch", "plg_self_serve"}
    assert {"per_tier", "needed", "available", "gap"} <= set(data["capacity"])
    assert [g["id"] for g in data["gates"]][:2] == ["no_empty_tier", "arr_sum_matches_input"]
    assert {"passed", "detail", "id"} <= set(data["gates"][0])
    account = data["accounts"][0]
    assert {"account_id", "tier", "flags", "bands", "scores", "comments", "reviews"} <= set(account)
    assert sum(t["accounts"] for t in data["tiers"].values()) == len(data["accounts"]) == 3000


def test_tier_arr_is_conserved_and_every_tier_and_flag_occurs(tmp_path: Path) -> None:
    data = json.loads(run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS,
                          "--format", "json").stdout)
    total = sum(t["arr"] for t in data["tiers"].values())
    assert total == pytest.approx(data["input"]["arr"], abs=0.01)
    assert all(t["accounts"] > 0 for t in data["tiers"].values())
    assert set(data["flags"]) == {"strategic_champion", "expansion_ready", "regulated_industry",
                                  "design_partner", "at_risk_retention", "reference_account",
                                  "m_and_a_transition", "multi_product"}


def test_spreadsheet_formulas_are_neutralised(tmp_path: Path) -> None:
    src = tmp_path / "evil.csv"
    src.write_text("account_id,account_name,arr\nA1,\"=HYPERLINK(\"\"x\"\")\",100\n"
                   "A2,@SUM(1),200\nA3,+cmd,300\nA4,-2+3,400\n")
    result = run("segment", "cs-segmentation-model", str(src), *ARGS, "--out", "o")
    assert result.exit_code in (0, 1)
    with open(tmp_path / "o" / "accounts.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["account_name"][0] for r in rows] == ["'", "'", "'", "'"]


def test_bad_input_exits_1_and_keeps_the_previous_good_output(tmp_path: Path) -> None:
    assert run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--out", "o").exit_code == 0
    before = (tmp_path / "o" / "model.md").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text('account_id,arr\nA1,"$1,200.50"\nA2,lots\nA1,5\n')
    result = run("segment", "cs-segmentation-model", str(bad), *ARGS, "--out", "o")
    assert result.exit_code == 1
    assert f"{bad}:3:2: arr: 'lots' is not a number" in result.stderr
    assert (tmp_path / "o" / "model.md").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]


def test_skip_writes_rejects_and_the_arr_gate_sees_them(tmp_path: Path) -> None:
    src = tmp_path / "mixed.csv"
    rows = SAMPLE.read_text().splitlines()
    header = rows[0].split(",")
    broken = rows[5].split(",")
    broken[header.index("health_score")] = "very good"
    src.write_text("\n".join([rows[0]] + rows[1:5] + [",".join(broken)] + rows[6:40]) + "\n")
    result = run("segment", "cs-segmentation-model", str(src), *ARGS, "--out", "o", "--on-error", "skip")
    rejects = (tmp_path / "o" / "rejects.csv").read_text()
    assert "'very good' is not a number" in rejects
    # the terminal says rows were left out, and stderr says which and why
    assert "1 bad row(s) left out (line 6): the reasons on stderr" in result.stdout
    assert f"left out: {src}:6:" in result.stderr
    assert "health_score: 'very good' is not a number" in result.stderr
    # the rejected row's ARR is in the book but not segmented: the ARR gate must fail
    assert result.exit_code == 1
    assert "arr_sum_matches_input" in result.stdout and "✗" in result.stdout
    # and says where the ARR went
    gate = next(g for g in json.loads((tmp_path / "o" / "report.json").read_text())["gates"]
                if g["id"] == "arr_sum_matches_input")
    arr = float(broken[header.index("arr")])
    assert gate["detail"].endswith(f"; ${arr:,.2f} of the book is in 1 rejected row(s), see "
                                   "rejects.csv")


def test_failed_gate_can_be_waived_with_a_reason(tmp_path: Path) -> None:
    text = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text()
    text = text.replace("max_share: 0.60", "max_share: 0.05")
    (tmp_path / "strict.yaml").write_text(text)
    result = run("segment", str(tmp_path / "strict.yaml"), str(SAMPLE), *ARGS, "--out", "o")
    assert result.exit_code == 1
    waived = text + ("waivers:\n  - gate: mid_touch_under_60_percent\n"
                     "    reason: Pilot quarter; the mid-touch pool is being split in Q1.\n")
    (tmp_path / "waived.yaml").write_text(waived)
    result = run("segment", str(tmp_path / "waived.yaml"), str(SAMPLE), *ARGS, "--out", "o")
    assert result.exit_code == 0
    model = (tmp_path / "o" / "model.md").read_text()
    assert "waived: Pilot quarter; the mid-touch pool is being split in Q1." in model


def test_quartile_method_when_arr_is_not_long_tailed(tmp_path: Path) -> None:
    src = tmp_path / "flat.csv"
    src.write_text("account_id,arr\n" + "".join(f"A{i},{10000 + 100 * i}\n" for i in range(100)))
    data = json.loads(run("segment", "cs-segmentation-model", str(src), *ARGS, "--format", "json",
                          "--out", "o").stdout)
    assert data["arr_bands"]["method"] == "quartile"
    # numpy's default (linear) percentiles of 10000..19900 step 100
    assert data["arr_bands"]["edges"] == [12475.0, 14950.0, 17425.0]
    assert "quartile" in data["arr_bands"]["reason"]


def test_unknown_engine_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["segment", "--engine", "drools"])
    assert result.exit_code == 2


def test_an_account_the_grid_cannot_place_is_a_row_error(tmp_path: Path) -> None:
    """A ratio over zero leaves a grid axis unknown: a data problem of that row."""
    text = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text()
    text = text.replace("    over: strategic_value\n", "    over: seat_utilization\n", 1)
    for seats in ("seats_licensed", "seats_used"):
        text = text.replace(f"{{id: {seats}, type: integer,", f"{{id: {seats}, type: integer, required: true,")
    (tmp_path / "rs.yaml").write_text(text)
    src = tmp_path / "p.csv"
    src.write_text("account_id,arr,seats_licensed,seats_used\nA1,500,10,5\nA2,600,0,0\n")
    result = run("segment", str(tmp_path / "rs.yaml"), str(src), *ARGS, "--out", "o")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{src}:3:1: seat_utilization: account A2 cannot be placed in the grid: "
        "'seat_utilization' is unknown for it (a blank or zero value it is computed from)")
    skipped = run("segment", str(tmp_path / "rs.yaml"), str(src), *ARGS, "--out", "o",
                  "--on-error", "skip", "--format", "json")
    data = json.loads(skipped.stdout)
    assert data["input"]["accounts"] == 1 and data["input"]["rejected"] == 1
    assert "A2" in (tmp_path / "o" / "rejects.csv").read_text()


def test_output_folder_has_ordinary_permissions(tmp_path: Path) -> None:
    import os
    import stat
    umask = os.umask(0o022)
    try:
        assert run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS, "--out", "o",
                   "--no-chart").exit_code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "o").stat().st_mode) == 0o755


def test_json_accounts_carry_their_name_and_arr(tmp_path: Path) -> None:
    """Each account in `--format json` has its own name and ARR, as accounts.jsonl does."""
    data = json.loads(run("segment", "cs-segmentation-model", str(SAMPLE), *ARGS,
                          "--format", "json", "--no-chart").stdout)
    with SAMPLE.open(newline="") as fh:
        rows = {r["account_id"]: r for r in csv.DictReader(fh)}
    for account in data["accounts"][:50]:
        row = rows[account["account_id"]]
        assert account["account_name"] == row["account_name"]
        assert account["arr"] == float(row["arr"])
    lines = (tmp_path / "out" / "accounts.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert (data["accounts"][0]["account_name"], data["accounts"][0]["arr"]) == (
        first["account_name"], first["arr"])


def test_many_skipped_rows_are_named_ten_on_stderr_and_counted(tmp_path: Path) -> None:
    src = tmp_path / "many.csv"
    lines = ["account_id,arr,health_score"] + [f"A{i},{1000 + i},50" for i in range(30)]
    for i in range(1, 13):  # lines 2..13 have a bad health score
        lines[i] = lines[i].rsplit(",", 1)[0] + ",lots"
    src.write_text("\n".join(lines) + "\n")
    result = run("segment", "cs-segmentation-model", str(src), *ARGS, "--on-error", "skip")
    named = [line for line in result.stderr.splitlines() if line.startswith("left out: ")]
    assert len(named) == 11 and named[0].startswith(f"left out: {src}:2:3: health_score")
    assert named[-1] == "left out: 2 more bad row(s), each named in rejects.csv"
    assert "12 bad row(s) left out (line 2, line 3, line 4 …)" in result.stdout
