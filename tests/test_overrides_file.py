"""The overrides file: every bad input a located error (file:line:column, field) with
nothing written; `validate` of the file; `override add/list/remove` keeping comments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import ROOT

OVERRIDES = ROOT / "examples" / "overrides.yaml"
REASON = "Board-level sponsor asked for an enterprise CSM during the expansion."


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


ITEM = (
    "  - id: {id}\n    account: {account}\n    {what}\n    owner: {owner}\n"
    "    reason: {reason}\n    created: 2026-11-01\n    expires: {expires}\n"
)


def _file(tmp_path: Path, *items: dict[str, str]) -> Path:
    path = tmp_path / "o.yaml"
    defaults = {
        "id": "one",
        "account": "ACC-00008",
        "what": "tier: high_touch_enterprise",
        "owner": "vp-cs",
        "reason": REASON,
        "expires": "2027-03-31",
    }
    path.write_text(
        "tierbook: overrides/v1\noverrides:\n"
        + "".join(ITEM.format(**(defaults | item)) for item in items)
    )
    return path


def _segment_errors(path: Path) -> list[str]:
    out = run("segment", "--as-of", "2026-12-01", "--no-chart", "--overrides", str(path))
    assert out.exit_code == 1
    assert not Path("out").exists()  # (nothing written)
    return out.stderr.strip().splitlines()


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (
            {"what": "tier: high_touch"},
            "o.yaml:5:11: $.overrides[0].tier: unknown tier 'high_touch' (did you mean "
            "'high_touch_enterprise'?)",
        ),
        (
            {"what": "add_flags: [champion]"},
            "o.yaml:5:17: $.overrides[0].add_flags[0]: unknown flag 'champion' (did you mean "
            "'strategic_champion'?)",
        ),
        ({"owner": "''"}, "o.yaml:6:12: $.overrides[0].owner: '' should be non-empty"),
        (  # (the message says what an override's id may hold: hyphens too)
            {"id": "Pin.1"},
            "o.yaml:3:9: $.overrides[0].id: 'Pin.1' is not a valid id: use lower-case "
            "letters, digits, hyphens and underscores, starting with a letter",
        ),
        (
            {"reason": "per VP"},
            "o.yaml:7:13: $.overrides[0].reason: reason 'per VP' is too short: say why the rules "
            "are overruled for this account (at least 15 characters)",
        ),
        (
            {"expires": "2026-10-01"},
            "o.yaml:9:14: $.overrides[0].expires: expires 2026-10-01 is before the override was "
            "made (2026-11-01)",
        ),
        (
            {"what": "hold: false"},
            "o.yaml:3:5: $.overrides[0]: the override does nothing: give tier, add_flags, "
            "remove_flags or hold: true",
        ),
    ],
)
def test_a_bad_override_is_a_located_error(
    tmp_path: Path, item: dict[str, str], error: str
) -> None:
    path = _file(tmp_path, item)
    assert _segment_errors(path) == [str(path.parent / error)]


def test_a_missing_owner_is_located(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(
        "tierbook: overrides/v1\noverrides:\n  - id: one\n    account: A\n"
        "    tier: mid_touch\n    reason: x\n    created: 2026-11-01\n"
        "    expires: 2027-01-01\n"
    )
    assert _segment_errors(path) == [f"{path}:3:5: $.overrides[0]: missing required key 'owner'"]


def test_two_overrides_of_one_field_of_one_account(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        {},
        {"id": "two", "what": "tier: mid_touch"},
        {"id": "three", "what": "add_flags: [expansion_ready]"},
    )
    assert _segment_errors(path) == [
        f"{path}:12:11: $.overrides[1].tier: account ACC-00008: the tier is already overridden "
        "by 'one' (line 3); one override per field of an account"
    ]


def test_validate_checks_an_overrides_file(tmp_path: Path) -> None:
    out = run("validate", str(OVERRIDES), "--as-of", "2026-12-01")
    assert out.exit_code == 0
    assert "override 'summit-pilot' expired on 2026-06-30" in out.output
    bad = _file(tmp_path, {"expires": "someday"})
    out = run("validate", str(bad), "--format", "json")
    assert out.exit_code == 1
    errors = json.loads(out.stdout)["errors"]
    assert [(e["line"], e["path"]) for e in errors] == [(9, "$.overrides[0].expires")]


def test_validate_checks_the_file_a_ruleset_names(tmp_path: Path) -> None:
    ruleset = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text()
    (tmp_path / "rs.yaml").write_text(ruleset + "overrides:\n  file: o.yaml\n  max_days: 90\n")
    _file(tmp_path, {"what": "tier: high_touch"})
    out = run("validate", str(tmp_path / "rs.yaml"), "--format", "json")
    assert out.exit_code == 1
    messages = [e["message"] for e in json.loads(out.stdout)["errors"]]
    assert messages == [
        "unknown tier 'high_touch' (did you mean 'high_touch_enterprise'?)",
        "expires 2027-03-31 is 150 days after 2026-11-01; the ruleset allows at most 90 days "
        "(overrides.max_days)",
    ]


def test_validate_checks_an_overrides_file_against_the_ruleset_given() -> None:
    """A file no ruleset names is checked against --ruleset's tiers and flags, as a run
    with --overrides would check it: the sample's file fits cs-segmentation-model only."""
    out = run(
        "validate", str(OVERRIDES), "--ruleset", "cs-segmentation-model", "--as-of", "2026-12-01"
    )
    assert out.exit_code == 0, out.output
    assert f"{OVERRIDES}: valid" in out.stdout
    out = run(
        "validate",
        str(OVERRIDES),
        "--ruleset",
        "keep-segment",
        "--format",
        "json",
        "--as-of",
        "2026-12-01",
    )
    assert out.exit_code == 1
    errors = json.loads(out.stdout)["errors"]
    assert [(e["line"], e["path"], e["message"]) for e in errors][:2] == [
        (11, "$.overrides[0].tier", "unknown tier 'high_touch_enterprise'"),
        (20, "$.overrides[1].add_flags[0]", "unknown flag 'at_risk_retention'"),
    ]
    out = run("validate", str(OVERRIDES), "--ruleset", "no-such-ruleset.yaml")
    assert out.exit_code != 0
    assert "no-such-ruleset.yaml" in out.output


def _add(path: Path, *extra: str) -> Any:
    return run(
        "override",
        "add",
        *extra,
        "--owner",
        "vp-cs",
        "--reason",
        REASON,
        "--as-of",
        "2026-12-01",
        "--overrides",
        str(path),
    )


def test_add_appends_a_block_and_keeps_every_comment(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(OVERRIDES.read_text())
    out = _add(path, "ACC-00019", "--tier", "high_touch_enterprise", "--expires", "2027-02-28")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith(
        f"{path}:43: added acc-00019: ACC-00019 pinned to "
        "high_touch_enterprise by vp-cs until 2027-02-28"
    )
    text = path.read_text()
    assert text.startswith(OVERRIDES.read_text())
    assert text[len(OVERRIDES.read_text()) :] == (
        "\n  - id: acc-00019\n    account: ACC-00019\n    tier: high_touch_enterprise\n"
        f"    owner: vp-cs\n    reason: {REASON}\n    created: '2026-12-01'\n"
        "    expires: '2027-02-28'\n"
    )
    listed = run(
        "override",
        "list",
        "--overrides",
        str(path),
        "--as-of",
        "2026-12-01",
        "--expiring",
        "30",
        "--format",
        "json",
    )
    assert [r["id"] for r in json.loads(listed.stdout)["overrides"]] == ["oakmont-at-risk"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["ACC-00019", "--tier", "mid_touch", "--expires", "2026-11-30"],
            "expires: --expires 2026-11-30 is in the past (today is 2026-12-01); nothing written",
        ),
        (
            ["ACC-99999", "--tier", "mid_touch", "--expires", "2027-01-31"],
            "$.overrides[4].account: unknown account id 'ACC-99999': not in the portfolio",
        ),
        (
            ["ACC-00008", "--tier", "mid_touch", "--expires", "2027-01-31"],
            "$.overrides[4].tier: account ACC-00008: the tier is already overridden by "
            "'weststack-renewal' (line 9); one override per field of an account",
        ),
        (
            ["ACC-00019", "--add-flag", "vip", "--expires", "2027-01-31"],
            "$.overrides[4].add_flags[0]: unknown flag 'vip'",
        ),
    ],
)
def test_a_bad_add_writes_nothing(tmp_path: Path, args: list[str], error: str) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(OVERRIDES.read_text())
    out = _add(path, *args)
    assert out.exit_code == 1
    assert error in out.stderr
    assert path.read_text() == OVERRIDES.read_text()


def test_remove_cuts_the_override_and_its_comment_only(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    original = OVERRIDES.read_text()
    path.write_text(original)
    out = run("override", "remove", "flagship-audit", "--overrides", str(path))
    assert out.exit_code == 0
    lines = original.splitlines(keepends=True)
    start = lines.index(
        "  # The rules already place this account here: the report lists it as redundant.\n"
    )
    end = lines.index("  - id: summit-pilot\n")
    assert path.read_text() == "".join(lines[:start] + lines[end:])
    out = run("override", "remove", "flagship", "--overrides", str(path))
    assert out.exit_code == 2
    assert "no override 'flagship'" in out.stderr
