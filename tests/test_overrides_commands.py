"""`--overrides` on align and calibrate, and the file a ruleset names used by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT, SAMPLE

REASON = "Kept at its current coverage while the territory is reorganised."


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _pin(path: Path, account: str, tier: str) -> Path:
    path.write_text(
        f"tierbook: overrides/v1\noverrides:\n  - id: pin\n    account: {account}\n"
        f"    tier: {tier}\n    owner: vp-cs\n    reason: {REASON}\n"
        "    created: 2026-11-01\n    expires: 2027-03-31\n"
    )
    return path


def test_align_uses_the_effective_tier(tmp_path: Path) -> None:
    args = ["align", str(SAMPLE), "--as-of", "2026-12-01", "--format", "json"]
    before = json.loads(run(*args).stdout)
    top = before["top_changes"][0]
    assert (top["account_id"], top["current"], top["recommended"]) == (
        "ACC-01229", "tier_3", "tier_1"
    )
    pins = _pin(tmp_path / "o.yaml", "ACC-01229", "tier_3")
    after = json.loads(run(*args, "--overrides", str(pins)).stdout)
    assert after["misaligned"] == before["misaligned"] - 1
    assert "ACC-01229" not in [m["account_id"] for m in after["top_changes"]]


def test_calibrate_takes_overrides(tmp_path: Path) -> None:
    pins = _pin(tmp_path / "o.yaml", "ACC-00008", "high_touch_enterprise")
    out = run("calibrate", str(SAMPLE), "--as-of", "2026-12-01", "--output",
              str(tmp_path / "new.yaml"), "--overrides", str(pins), "--format", "json")
    assert out.exit_code in (0, 1), out.output
    bad = _pin(tmp_path / "bad.yaml", "ACC-00008", "tier_9")
    out = run("calibrate", str(SAMPLE), "--as-of", "2026-12-01", "--output",
              str(tmp_path / "new2.yaml"), "--overrides", str(bad))
    assert out.exit_code == 1
    assert f"{bad}:5:11: $.overrides[0].tier: unknown tier 'tier_9'" in out.stderr
    assert not (tmp_path / "new2.yaml").exists()


def test_the_file_a_ruleset_names_is_the_default(tmp_path: Path) -> None:
    text = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text()
    (tmp_path / "rs.yaml").write_text(text + "overrides:\n  file: pins.yaml\n")
    _pin(tmp_path / "pins.yaml", "ACC-00008", "high_touch_enterprise")
    out = run("segment", str(tmp_path / "rs.yaml"), str(SAMPLE), "--as-of", "2026-12-01",
              "--no-chart", "--format", "json")
    assert out.exit_code == 0
    doc = json.loads(out.stdout)
    assert doc["overrides"]["file"] == str(tmp_path / "pins.yaml")
    assert {a["account_id"]: a["tier"] for a in doc["accounts"]}["ACC-00008"] == (
        "high_touch_enterprise"
    )
    listed = run("override", "list", "--ruleset", str(tmp_path / "rs.yaml"), "--as-of",
                 "2026-12-01")
    assert listed.stdout.splitlines()[0] == f"{tmp_path / 'pins.yaml'}: 1 override(s)"
    none = run("override", "list")
    assert none.exit_code == 2
    assert "names no overrides file (overrides.file): give --overrides FILE" in none.stderr


def test_naming_an_overrides_file_is_a_change_that_may_change_decisions() -> None:
    from tierbook.ruleset.diff import MAY, diff_documents

    before = {"metadata": {"name": "x"}}
    after = {"metadata": {"name": "x"}, "overrides": {"file": "o.yaml"}}
    [change] = diff_documents(before, after).changes
    assert (change.where, change.kind, change.klass, change.scope) == (
        "overrides", "added", MAY, "the overrides file it names"
    )
