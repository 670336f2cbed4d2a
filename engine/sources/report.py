"""What the Capacity Roll-Up says of the books and of a run's inputs: each tier's book per
CSM in accounts and in ARR, where the CSM headcount came from (when --csms or an inputs
file gave it, instead of the ruleset's figure), the inputs rolled up from tables, and
each table's rows whose account id is no account's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    return out + _unmatched_lines(inputs.get("unmatched") or {})


def _unmatched_lines(unmatched: dict[str, dict[str, Any]]) -> list[str]:
    """Each table's rows whose account id is no account's, with a few of the ids."""
    if not unmatched:
        return []
    out = [
        "",
        "Table rows that match no account, so roll up into nothing (ids match exactly, "
        "letter case included):",
        "",
    ]
    for name, u in unmatched.items():
        ids = ", ".join(f"`{i}`" for i in u["examples"])
        rest = u["ids"] - len(u["examples"])
        line = (
            f"- {name} (`{u['file']}`): {u['rows']} of {u['table_rows']} rows, "
            f"{u['ids']} account id(s): {ids}" + (f" and {rest} more." if rest else ".")
        )
        out.append(line + "".join(f" {s}." for s in _case_lines(u, "`")))
    return out


def _case_lines(u: dict[str, Any], quote: str) -> list[str]:
    """The ids of a table that are an account's but for letter case, said as such."""
    case: dict[str, str] = u.get("case") or {}
    said = [
        f"{quote}{i}{quote} differs from account {quote}{a}{quote} only in letter case"
        for i, a in case.items()
    ]
    rest = u.get("case_ids", 0) - len(said)
    if rest > 0:
        said.append(f"{rest} more differ from an account only in letter case")
    return said


def stderr_notes(result: SegmentResult) -> list[str]:
    """The run's inputs, said on stderr (``notes``)."""
    return notes(result.inputs)


def notes(inputs: dict[str, Any] | None) -> list[str]:
    """A run's inputs (its JSON's ``inputs``), said on stderr: what was rolled up and which
    of the file's columns it replaced, the rows of each table no account has, the mapped
    columns and the headcount given.  A column mapped onto an input a table rolls up is
    not read: the roll-up replaces it, and only that is said."""
    inputs = inputs or {}
    columns: dict[str, str] = inputs.get("columns") or {}
    out = []
    replaced: set[str] = set()
    for name, r in (inputs.get("rolled_up") or {}).items():
        what = f"{r['op']} of {r['table']}" + (f".{r['column']}" if r["column"] else "")
        instead = ""
        if r["replaces"]:
            replaced.add(r["replaces"])
            mapped = f" (mapped to '{name}' for this run)" if r["replaces"] in columns else ""
            instead = f", instead of the file's column '{r['replaces']}'{mapped}"
        out.append(f"note: {name} rolled up as the {what}{instead}")
    for name, u in (inputs.get("unmatched") or {}).items():
        shown = ", ".join(u["examples"]) + (", ..." if u["ids"] > len(u["examples"]) else "")
        out.append(
            f"note: table {name} ({u['file']}): {u['rows']} of {u['table_rows']} rows match no "
            f"account and roll up into nothing ({u['ids']} account id(s): {shown})"
        )
        out += [f"note: table {name}: {s} (ids match exactly)" for s in _case_lines(u, "'")]
    for column, target in columns.items():
        if column not in replaced:
            out.append(f"note: column '{column}' read as input '{target}' (mapped for this run)")
    if inputs.get("csms"):
        given = ", ".join(f"{t}={n}" for t, n in inputs["csms"].items())
        out.append(f"note: CSMs available from {inputs.get('csms_from')}: {given}")
    return out
