"""What the Capacity Roll-Up says of the books and of a run's inputs: each tier's book per
CSM in accounts and in ARR, where the CSM headcount came from (when --csms or an inputs
file gave it, instead of the ruleset's figure), and the inputs rolled up from tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..assess.result import SegmentResult


def _money(value: float) -> str:
    return f"${value:,.0f}"


def book_lines(result: SegmentResult) -> list[str]:
    """Each tier's book per available CSM, in accounts and in ARR (tiers with CSMs)."""
    books = [
        f"| {tc.tier} | {tc.available} | {tc.accounts_per_csm:,.1f} | "
        f"{_money(tc.arr_per_csm or 0.0)} |"
        for tc in result.capacity.per_tier
        if tc.available
    ]
    if not books:
        return []
    return ["", "| tier | CSMs | accounts per CSM | ARR per CSM |", "|---|---|---|---|", *books]


def capacity_lines(result: SegmentResult) -> list[str]:
    """Lines for the Capacity Roll-Up (none when the run read no inputs beside the file)."""
    out = book_lines(result)
    inputs = result.inputs
    if not inputs:
        return out
    csms = inputs.get("csms") or {}
    if csms:
        ruleset = inputs.get("ruleset_csms") or {}
        given = ", ".join(
            f"{tier} {n} (ruleset: {'not declared' if ruleset.get(tier) is None else ruleset[tier]})"
            for tier, n in csms.items()
        )
        out += ["", f"CSMs available from {inputs.get('csms_from')}: {given}."]
    rolled = inputs.get("rolled_up") or {}
    if rolled:
        parts = [
            f"`{name}` = {r['op']} of {r['table']}" + (f".{r['column']}" if r["column"] else "")
            for name, r in rolled.items()
        ]
        out += ["", "Rolled up from tables: " + "; ".join(parts) + "."]
    return out


def stderr_notes(result: SegmentResult) -> list[str]:
    """The run's inputs, said on stderr: what was rolled up and what it replaced, the
    mapped columns and the headcount given."""
    inputs = result.inputs or {}
    out = []
    for name, r in (inputs.get("rolled_up") or {}).items():
        what = f"{r['op']} of {r['table']}" + (f".{r['column']}" if r["column"] else "")
        replaced = f", instead of the file's column '{r['replaces']}'" if r["replaces"] else ""
        out.append(f"note: {name} rolled up as the {what}{replaced}")
    for column, target in (inputs.get("columns") or {}).items():
        out.append(f"note: column '{column}' read as input '{target}' (mapped for this run)")
    if inputs.get("csms"):
        given = ", ".join(f"{t}={n}" for t, n in inputs["csms"].items())
        out.append(f"note: CSMs available from {inputs.get('csms_from')}: {given}")
    return out
