"""`plan` with overrides: an overrides-file change planned like a ruleset change, and for a
ruleset change the overridden accounts it would move if they were not pinned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT

OVERRIDES = ROOT / "examples" / "overrides.yaml"
RULESET = ROOT / "rulesets" / "cs-segmentation-model.yaml"
REASON = "Board sponsor asked for an enterprise CSM during the expansion."


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_plan_of_an_overrides_change(tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(OVERRIDES.read_text())
    added = run("override", "add", "ACC-00019", "--tier", "high_touch_enterprise", "--owner",
                "vp-cs", "--reason", REASON, "--expires", "2027-03-31", "--as-of", "2026-12-01",
                "--overrides", str(new))
    assert added.exit_code == 0
    out = run("plan", "--base", "cs-segmentation-model", "--head", "cs-segmentation-model",
              "--as-of", "2026-12-01", "--base-overrides", str(OVERRIDES), "--overrides",
              str(new), "--format", "json")
    assert out.exit_code == 0, out.output
    plan = json.loads(out.stdout)
    assert [(m["account_id"], m["before"], m["after"], m["after_rule"]) for m in plan["moves"]] == [
        ("ACC-00019", "mid_touch", "high_touch_enterprise", "override:acc-00019")
    ]
    assert plan["overrides"]["base"]["applied"] == 3
    assert plan["overrides"]["head"]["applied"] == 4
    assert plan["overrides"]["pinned"] == []
    same = run("plan", "--base", "cs-segmentation-model", "--head", "cs-segmentation-model",
               "--as-of", "2026-12-01")
    assert same.exit_code == 2  # (without an overrides change, the same ruleset is refused)


def test_a_ruleset_change_lists_the_pinned_accounts_it_would_move(tmp_path: Path) -> None:
    head = tmp_path / "head.yaml"
    head.write_text(RULESET.read_text().replace("version: 1.0.2", "version: 1.1.0", 1)
                    .replace("lte: 0.6}", "lte: 0.65}").replace("gt: 0.6}", "gt: 0.65}"))
    pins = tmp_path / "pins.yaml"
    pins.write_text(
        "tierbook: overrides/v1\noverrides:\n  - id: keep-2674\n    account: ACC-02674\n"
        "    tier: high_touch_enterprise\n    owner: vp-cs\n"
        f"    reason: {REASON}\n    created: 2026-11-01\n    expires: 2027-03-31\n"
    )
    args = ["plan", "--base", str(RULESET), "--head", str(head), "--as-of", "2026-12-01"]
    plain = json.loads(run(*args, "--format", "json").stdout)
    pinned = json.loads(run(*args, "--overrides", str(pins), "--format", "json").stdout)
    plain_moves = [m["account_id"] for m in plain["moves"]]
    assert "ACC-02674" in plain_moves
    assert [m["account_id"] for m in pinned["moves"]] == [
        a for a in plain_moves if a != "ACC-02674"
    ]
    [entry] = pinned["overrides"]["pinned"]
    assert entry | {"arr": 0} == {
        "account_id": "ACC-02674", "arr": 0, "rules_before": "high_touch_enterprise",
        "rules_after": "mid_touch", "tier": "high_touch_enterprise", "overrides": ["keep-2674"],
    }
    text = run(*args, "--overrides", str(pins)).stdout
    assert "1 overridden account(s) the change would move if not pinned:" in text
    assert "  ACC-02674 rules high_touch_enterprise -> mid_touch, pinned to " \
           "high_touch_enterprise by keep-2674" in text
    markdown = run(*args, "--overrides", str(pins), "--format", "markdown").stdout
    assert "<details><summary>Overrides</summary>" in markdown
