"""What the overrides add up to, in model.md's Overrides section and the terminal summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import EXPIRING_DAYS, Override

if TYPE_CHECKING:
    from ..assess.result import SegmentResult
    from .apply import OverrideReport


def _money(value: float) -> str:
    return f"${value:,.2f}"


def summary_line(report: OverrideReport) -> str:
    """One line: applied, moved, ARR under override, and the ones to look at."""
    applied = sum(len(a.overrides) for a in report.applied.values())
    return (
        f"overrides: {applied:,} applied to {len(report.applied):,} account(s) "
        f"({len(report.moved()):,} moved off the rules' tier), ARR {_money(report.arr)} under "
        f"override; {len(report.expiring)} expiring within {EXPIRING_DAYS} days, "
        f"{len(report.expired)} expired (ignored), {len(report.redundant)} redundant, "
        f"{len(report.stale)} stale"
        + (f", {len(report.pending)} not yet in force" if report.pending else "")
    )


def _row(o: Override, note: str = "") -> str:
    text = f"| `{o.id}` | {o.account} | {o.does()} | {o.owner} | {o.expires.isoformat()} |"
    return text + (f" {note} |" if note else "")


def markdown(result: SegmentResult) -> list[str]:
    report = result.overrides
    if report is None:
        return []
    rs = result.ruleset
    out = ["## Overrides", "", f"File `{report.file}`. " + summary_line(report) + ".", ""]
    out += ["| tier | accounts under override |", "|---|---|"]
    out += [f"| `{t}` | {n:,} |" for t, n in report.by_tier(rs.tier_ids).items()]
    out.append("")
    moved = report.moved()
    if moved:
        out += [
            "### Applied",
            "",
            "| account | rules say | effective | override |",
            "|---|---|---|---|",
        ]
        for _, a in moved:
            ids = ", ".join(f"`{o.id}`" for o in a.overrides)
            out.append(f"| {a.overrides[0].account} | {a.rules_tier} | {a.tier} | {ids} |")
        out.append("")
    lists = (
        ("Expiring within 30 days", report.expiring, "renew or let it lapse"),
        ("Expired (ignored)", report.expired, "remove it from the file"),
        ("Redundant (the rules agree)", report.redundant, "suggest removing it"),
        ("Not yet in force (made after the as-of date)", report.pending, "applies from its date"),
    )
    for title, items, note in lists:
        if items:
            out += [f"### {title}", "", "| id | account | does | owner | expires | |"]
            out += ["|---|---|---|---|---|---|"] + [_row(o, note) for o in items] + [""]
    if report.stale:
        out += ["### Stale (unknown or churned account)", ""]
        out += ["| id | account | does | owner | expires | why |", "|---|---|---|---|---|---|"]
        out += [_row(o, why) for o, why in report.stale] + [""]
    if report.rules_capacity is not None:
        out += [
            "### Capacity",
            "",
            f"- With the overrides: {result.capacity.statement()}",
            f"- Rules alone: {report.rules_capacity.statement()}",
            "",
        ]
    return out
