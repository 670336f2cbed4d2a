"""Moves against the current book: each account's CRM tier label, mapped to a tier of the
ruleset (``current_book.labels``), against the tier the rules give it.

Tiers are ordered as the ruleset lists them, most touch first: a move to an earlier tier is
an upgrade, to a later one a downgrade.  A blank label is *unknown*; a label the mapping
does not name is *unmapped* (counted per label, never guessed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ruleset.model import Ruleset


@dataclass
class Tally:
    accounts: int = 0
    arr: float = 0.0

    def add(self, arr: float) -> None:
        self.accounts += 1
        self.arr += arr

    def as_json(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "arr": round(self.arr, 2)}


@dataclass
class BookMoves:
    column: str  # the input with role current_tier
    labels: dict[str, str]  # CRM label -> tier
    matrix: dict[tuple[str, str], Tally]  # (current tier, new tier) -> accounts, ARR
    upgrades: Tally = field(default_factory=Tally)
    downgrades: Tally = field(default_factory=Tally)
    unchanged: Tally = field(default_factory=Tally)
    unmapped: dict[str, Tally] = field(default_factory=dict)  # label -> accounts, ARR
    unknown: Tally = field(default_factory=Tally)
    current: list[str | None] = field(default_factory=list)  # each account's current tier

    @property
    def moved(self) -> Tally:
        return Tally(
            self.upgrades.accounts + self.downgrades.accounts,
            self.upgrades.arr + self.downgrades.arr,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "labels": dict(self.labels),
            "matrix": [{"from": a, "to": b, **t.as_json()} for (a, b), t in self.matrix.items()],
            "upgrades": self.upgrades.as_json(),
            "downgrades": self.downgrades.as_json(),
            "unchanged": self.unchanged.as_json(),
            "unmapped": [{"label": k, **t.as_json()} for k, t in self.unmapped.items()],
            "unknown": self.unknown.as_json(),
        }


def label_map(rs: Ruleset) -> dict[str, str]:
    """The declared labels, or (none declared) each tier id standing for itself."""
    return dict(rs.current_book.labels) or {t: t for t in rs.tier_ids}


def export_labels(rs: Ruleset) -> dict[str, str]:
    """Tier -> the CRM label written for it: declared, else the first label mapped to it,
    else the tier id."""
    out: dict[str, str] = {}
    for label, tier in label_map(rs).items():
        out.setdefault(tier, label)
    return {t: rs.current_book.export.get(t, out.get(t, t)) for t in rs.tier_ids}


def book_moves(
    rs: Ruleset, labels_in: list[Any], new_tiers: list[str], arrs: list[float]
) -> BookMoves | None:
    """The moves, from each account's CRM label, new tier and ARR (in account order)."""
    column = rs.role("current_tier")
    if column is None:
        return None
    labels = label_map(rs)
    order = {t: i for i, t in enumerate(rs.tier_ids)}
    cells: dict[tuple[str, str], Tally] = {}
    out = BookMoves(column, labels, cells)
    for raw, tier, arr in zip(labels_in, new_tiers, arrs, strict=True):
        label = None if raw is None else str(raw).strip()
        current = labels.get(label) if label else None
        out.current.append(current)
        if not label:
            out.unknown.add(arr)
            continue
        if current is None:
            out.unmapped.setdefault(label, Tally()).add(arr)
            continue
        cells.setdefault((current, tier), Tally()).add(arr)
        step = order[tier] - order[current]
        (out.unchanged if step == 0 else out.upgrades if step < 0 else out.downgrades).add(arr)
    out.matrix = {k: cells[k] for k in sorted(cells, key=lambda k: (order[k[0]], order[k[1]]))}
    out.unmapped = dict(sorted(out.unmapped.items()))
    return out
