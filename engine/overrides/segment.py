"""Overrides in a segmentation run: applied to an evaluation, and what a run's result reads
(effective tiers, flags per account, the account table's extra columns)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ..assess.capacity import roll_up
from .apply import OverrideReport, apply_overrides
from .model import Overrides

if TYPE_CHECKING:
    from ..evaluate.run import Evaluation
    from ..ruleset.model import Ruleset


def override_report(
    ruleset: Ruleset, ev: Evaluation, overrides: Overrides, arrs: list[float]
) -> OverrideReport:
    rules_tiers = ev.tiers()
    path_of = ev.path_ids()
    report = apply_overrides(
        overrides,
        ev.account_ids(),
        rules_tiers,
        lambda i: list(ev.firsts[path_of[i]].flags),
        arrs,
        ev.as_of,
        ruleset.flag_ids,
    )
    report.rules_capacity = roll_up(ruleset, rules_tiers, arrs)
    return report


def effective_flag_counts(report: OverrideReport, counts: Counter[str]) -> Counter[str]:
    """The rules' flag counts with each overridden account's flags replaced."""
    out = Counter(counts)
    for a in report.applied.values():
        out.subtract(a.rules_flags)
        out.update(a.flags)
    return +out


def effective_columns(
    report: OverrideReport,
    own: dict[str, Any],
    decided: dict[str, list[Any]],
    at: list[int],
    motion: dict[str, str],
) -> dict[str, Any]:
    """The account table with every column per account: `tier` and `flags` the effective
    ones, then `rules_tier` and `override` (the override ids) at the end."""
    columns: dict[str, Any] = dict(own)
    for name, values in decided.items():
        columns[name] = [values[i] for i in at]
    rules = list(columns["tier"])
    tiers = list(rules)
    flags = list(columns["flags"])
    ids = [""] * len(rules)
    motions = list(columns["motion"])
    for i, a in report.applied.items():
        tiers[i], flags[i], ids[i] = a.tier, list(a.flags), a.ids
        if a.tier != a.rules_tier:
            motions[i] = motion[a.tier]
    columns["tier"], columns["flags"], columns["motion"] = tiers, flags, motions
    columns["rules_tier"] = rules
    columns["override"] = ids
    return columns


def override_fields(report: OverrideReport, accounts: list[dict[str, Any]]) -> None:
    """The JSON accounts: `tier` and `flags` the effective ones, `rules_tier` and `override`
    added at the end (in place)."""
    for i, row in enumerate(accounts):
        row["rules_tier"] = row["tier"]
        row["override"] = ""
        a = report.applied.get(i)
        if a is not None:
            row["tier"], row["flags"], row["override"] = a.tier, list(a.flags), a.ids
