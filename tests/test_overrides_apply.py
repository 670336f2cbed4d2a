"""Applying overrides to the rules' tiers and flags (pure data), and `override add` making a
new file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.overrides.apply import apply_overrides
from tierbook.overrides.model import Override, Overrides

DAY = dt.date(2026, 12, 1)
FLAGS = ["a", "b", "c"]


def _o(oid: str, account: str, **kw: Any) -> Override:
    return Override(oid, account, "vp-cs", "A reason that is a sentence.", dt.date(2026, 11, 1),
                    dt.date(2027, 3, 31), **kw)


def _apply(*overrides: Override) -> Any:
    rules = {"A1": ("t1", ["a", "b"]), "A2": ("t2", [])}
    ids = list(rules)
    return apply_overrides(
        Overrides("o.yaml", list(overrides)), ids, [rules[i][0] for i in ids],
        lambda i: rules[ids[i]][1], [100.0, 50.0], DAY, FLAGS,
    )


def test_remove_and_add_flags_in_the_ruleset_order() -> None:
    report = _apply(_o("x", "A1", remove_flags=("a",), add_flags=("c",)))
    a = report.applied[0]
    assert (a.rules_flags, a.flags, a.tier) == (["a", "b"], ["b", "c"], "t1")
    assert a.text() == (
        "rules say t1 with flags [a, b]; adds flag c, removes flag a by vp-cs until "
        "2027-03-31: A reason that is a sentence."
    )
    assert report.redundant == [] and report.arr == 100.0


def test_an_override_that_changes_nothing_is_redundant() -> None:
    same_tier = _o("x", "A1", tier="t1")
    has_flag = _o("y", "A1", add_flags=("a",))
    lacks_flag = _o("z", "A2", remove_flags=("c",))
    held = _o("h", "A2", hold=True)
    report = _apply(same_tier, has_flag, lacks_flag, held)
    assert [o.id for o in report.redundant] == ["x", "y", "z"]  # (a hold still holds)
    assert report.applied[0].ids == "x;y"
    assert report.by_tier(["t1", "t2"]) == {"t1": 1, "t2": 1}


def test_expired_expiring_and_stale() -> None:
    old = Override("old", "A1", "o", "A reason that is a sentence.", dt.date(2026, 1, 1),
                   dt.date(2026, 11, 30), tier="t2")
    soon = Override("soon", "A2", "o", "A reason that is a sentence.", dt.date(2026, 1, 1),
                    dt.date(2026, 12, 31), tier="t1")
    gone = _o("gone", "A9", tier="t1")
    report = _apply(old, soon, gone)
    assert [o.id for o in report.expired] == ["old"]
    assert [o.id for o in report.expiring] == ["soon"]
    assert [(o.id, why) for o, why in report.stale] == [("gone", "not in the portfolio")]
    assert report.tiers(["t1", "t2"]) == ["t1", "t1"]


def test_add_makes_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "overrides.yaml"
    out = CliRunner().invoke(main, [
        "override", "add", "ACC-00008", "--tier", "high_touch_enterprise", "--owner", "vp-cs",
        "--reason", "Renewal in negotiation; keep the enterprise team on it.", "--expires",
        "2027-01-31", "--as-of", "2026-12-01", "--overrides", str(path), "--id", "renewal",
        "--ticket", "https://tickets.example.com/CS-1",
    ], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert path.read_text() == (
        "# Overrides (docs/overrides.md): reviewed in pull requests like the rulesets.\n"
        "tierbook: overrides/v1\noverrides:\n  - id: renewal\n    account: ACC-00008\n"
        "    tier: high_touch_enterprise\n    owner: vp-cs\n"
        "    reason: Renewal in negotiation; keep the enterprise team on it.\n"
        "    created: '2026-12-01'\n    expires: '2027-01-31'\n"
        "    ticket: https://tickets.example.com/CS-1\n"
    )
    removed = CliRunner().invoke(main, ["override", "remove", "renewal", "--overrides",
                                        str(path)], catch_exceptions=False)
    assert removed.exit_code == 0
    assert path.read_text().endswith("overrides: []\n")
    again = CliRunner().invoke(main, [
        "override", "add", "ACC-00008", "--hold", "--owner", "vp-cs", "--reason",
        "Hold the tier while the account is reviewed.", "--expires", "2027-01-31",
        "--as-of", "2026-12-01", "--overrides", str(path),
    ], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "overrides:\n  - id: acc-00008\n    account: ACC-00008\n    hold: true\n" in (
        path.read_text()
    )


def test_list_says_when_an_override_is_not_yet_in_force() -> None:
    from .conftest import ROOT

    out = CliRunner().invoke(main, ["override", "list", "--overrides",
                                    str(ROOT / "examples" / "overrides.yaml"), "--as-of",
                                    "2026-10-01"], catch_exceptions=False)
    lines = out.stdout.splitlines()
    assert lines[1].startswith("  weststack-renewal: ACC-00008 pinned to high_touch_enterprise by "
                               "vp-cs until 2027-03-31 (in force from 2026-11-15): ")
    assert "(expired)" in lines[4]
