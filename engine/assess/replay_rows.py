"""The rows a replay quarter reports for its accounts: each move, hold and review with the
account's name, ARR, what crossed and the events behind it; the accounts that joined and
churned, by name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..evaluate.bands import ResolvedBands
from ..portfolio.events import ACCOUNT_TYPES, Event
from ..ruleset.model import Ruleset
from .crossings import crossing_because, crossings


def account_events(events: list[Event]) -> dict[str, list[dict[str, Any]]]:
    """Each account's events of the quarter, in file order: {line, type, fields}."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e.type in ACCOUNT_TYPES and e.account_id:
            out[e.account_id].append({"line": e.line, "type": e.type, "fields": dict(e.fields)})
    return dict(out)


def band_methods(bands: Mapping[str, ResolvedBands]) -> dict[str, dict[str, Any]]:
    """Each band set's method, the one declared, why it was chosen and its edges: resolved
    once on the starting portfolio and held fixed through the replay."""
    return {
        k: {
            "method": rb.method,
            "declared_method": rb.declared_method,
            "reason": rb.reason,
            "edges": rb.edges,
        }
        for k, rb in bands.items()
    }


def _name(ruleset: Ruleset, inputs: Mapping[str, Any]) -> str:
    field = ruleset.role("name")
    value = inputs.get(field) if field else None
    return "" if value is None else str(value)


def _arr(ruleset: Ruleset, inputs: Mapping[str, Any]) -> float:
    return round(float(inputs.get(ruleset.role("arr") or "arr") or 0.0), 2)


def move_row(
    ruleset: Ruleset,
    bands: Mapping[str, ResolvedBands],
    state: Any,
    decision: Any,
    before: str,
    outcome: Any,
    kinds: set[str],
    events: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """A move, hold or review (or a stay, which is not reported) of one account."""
    crossed = crossings(ruleset, bands, state.placed_bands, decision.bands)
    because = outcome.because
    rule = next((r for r in ruleset.transitions if r.id == outcome.rule), None)
    if rule is not None and rule.action != "review" and rule.to == "evaluated" and crossed:
        # the rule's text is the same for every account it moves: say what crossed for this
        # one (a hold keeps its dwell note, which follows the rule's text)
        because = crossing_because(ruleset, bands, crossed, kinds) + because[len(rule.because) :]
    return {
        "account_id": decision.account_id,
        "name": _name(ruleset, decision.values),
        "arr": _arr(ruleset, decision.values),
        "from": before,
        "evaluated": decision.tier,
        "rule": outcome.rule,
        "because": because,
        "crossed": crossed,
        "events": events or [],
    }


def flag_rows(
    account_id: str, old: Sequence[str], new: Sequence[str], by: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The flags an account raised and cleared this quarter (``old`` -> ``new``), each
    with the rule behind it (``by``; by default the flag's own)."""

    def row(flag: str) -> dict[str, Any]:
        return {"account_id": account_id, "flag": flag, "rule": by.get(flag, flag)}

    return [row(f) for f in sorted(set(new) - set(old))], [
        row(f) for f in sorted(set(old) - set(new))
    ]


def largest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r["arr"], r["account_id"]))


def named_rows(
    ruleset: Ruleset,
    states: Mapping[str, Any],
    quarter: str,
    churned_accounts: Mapping[str, str],
    joined: Mapping[str, str],
    reactivated: Mapping[str, str],
) -> dict[str, list[dict[str, Any]]]:
    """The accounts that joined, churned and came back (reactivated) in ``quarter``, each
    with the tier it counts in: {account_id, name, tier, arr}; a churned account that
    joined in the same quarter says so. In no order (those of a book's parts, put together
    and ordered largest ARR first, are the book's)."""

    def row(account_id: str, tier: str) -> dict[str, Any]:
        inputs = states[account_id].inputs
        return {
            "account_id": account_id,
            "name": _name(ruleset, inputs),
            "tier": tier,
            "arr": _arr(ruleset, inputs),
        }

    churned = []
    for account_id, tier in churned_accounts.items():
        new = states[account_id].created_in == quarter
        churned.append(row(account_id, tier) | {"joined_this_quarter": new})
    return {
        "joined": [row(i, t) for i, t in joined.items()],
        "churned": churned,
        "reactivated": [row(i, t) for i, t in reactivated.items()],
    }
