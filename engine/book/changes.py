"""The accounts whose CRM tier must change, one row each, for changes.csv.

A row for every account whose new tier differs from its current one (an upgrade or a
downgrade), and for every account whose CRM tier is blank or unmapped (``set``: the CRM field
gets a label it does not hold yet).  Accounts whose tier stays are left out: an import
changes only what it lists.  The reason is what placed the account: an override when one
decides it (``overrides``: account id -> override id, from whoever applies overrides), else
the deciding grid cell, with the flags the account carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..evaluate.decisions import Decision
from ..ruleset.model import Ruleset
from .current import BookMoves, export_labels

COLUMNS = (
    "account_id",
    "account_name",
    "csm",
    "current_tier",
    "new_tier",
    "tierbook_tier",
    "change",
    "reason",
    "arr",
)


@dataclass(frozen=True)
class Change:
    account_id: str
    account_name: str
    csm: str
    current_tier: str  # the CRM label as read (blank when unknown)
    new_tier: str  # the CRM label to import
    tierbook_tier: str
    change: str  # upgrade | downgrade | set
    reason: str
    arr: float

    def cells(self) -> tuple[Any, ...]:
        return (*(getattr(self, c) for c in COLUMNS[:-1]), f"{self.arr:.2f}")


def reason(d: Decision, override: str | None = None) -> str:
    text = f"override {override}" if override else f"cell {d.cell}"
    return text + (f"; flags: {', '.join(d.flags)}" if d.flags else "")


def changes(
    rs: Ruleset,
    moves: BookMoves,
    *,
    ids: Sequence[str],
    names: Sequence[Any],
    csms: Sequence[Any],
    labels: Sequence[Any],
    decisions: Sequence[Decision],
    arrs: Sequence[float],
    overrides: Mapping[str, str] | None = None,
) -> list[Change]:
    """``decisions``: each account's decision (the firing path's shared one is enough)."""
    order = {t: i for i, t in enumerate(rs.tier_ids)}
    export = export_labels(rs)
    out = []
    for i, current in enumerate(moves.current):
        d = decisions[i]
        if current == d.tier:
            continue
        if current is None:
            kind = "set"
        else:
            kind = "upgrade" if order[d.tier] < order[current] else "downgrade"
        out.append(
            Change(
                ids[i],
                "" if names[i] is None else str(names[i]),
                "" if csms[i] is None else str(csms[i]),
                "" if labels[i] is None else str(labels[i]),
                export[d.tier],
                d.tier,
                kind,
                reason(d, (overrides or {}).get(ids[i])),
                arrs[i],
            )
        )
    return out
