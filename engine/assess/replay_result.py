"""What a replay gives: each quarter's tiers, moves, holds, reviews, flags, triggers and
capacity (``Quarter``), and the replay as a whole (``Replay``), with their JSON shapes
(docs/json.md)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..evaluate.bands import ResolvedBands
from ..ruleset.model import Ruleset


@dataclass
class Quarter:
    quarter: str
    as_of: dt.date
    tiers: dict[str, dict[str, Any]]
    transitions: dict[str, dict[str, int]]
    moves: list[dict[str, Any]]
    held: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    flags: dict[str, list[dict[str, Any]]]
    triggers: list[dict[str, Any]]
    capacity: dict[str, Any]
    churned: dict[str, int]
    new_accounts: int
    drift: int
    events: dict[str, int]
    run_id: int | None = None
    # accounts that stay in a tier other than the one evaluated (no rule moved them) -> that
    # tier; every other account that stays is held in the tier evaluated
    drifted: dict[str, str] = field(default_factory=dict)
    # accounts that churned this quarter -> the tier they were held in (or joined, for an
    # account that joined and churned this quarter)
    churned_accounts: dict[str, str] = field(default_factory=dict)
    joined: dict[str, str] = field(default_factory=dict)  # accounts that joined -> tier joined
    named: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # joined, churned
    account_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bands: dict[str, dict[str, Any]] = field(default_factory=dict)  # as resolved at the start
    reactivated: dict[str, str] = field(default_factory=dict)  # accounts back -> tier rejoined
    arr_bridge: list[dict[str, Any]] = field(default_factory=list)  # (assess.bridge)

    def as_json(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "as_of": self.as_of.isoformat(),
            "bands": self.bands,
            "tiers": self.tiers,
            "transitions": self.transitions,
            "moves": self.moves,
            "held": self.held,
            "reviews": self.reviews,
            "flags": self.flags,
            "triggers": self.triggers,
            "capacity": self.capacity,
            "churned": self.churned,
            "new_accounts": self.new_accounts,
            "drift": self.drift,
            "events": self.events,
            "reactivated": len(self.reactivated),
        } | {f"{kind}_accounts": rows for kind, rows in self.named.items()}


@dataclass
class Replay:
    ruleset: Ruleset
    bands: dict[str, ResolvedBands]
    start: dict[str, Any]
    quarters: list[Quarter]
    skipped: list[dict[str, Any]]
    ignored_signals: Counter[str]
    engine: str
    replay_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        rs = self.ruleset
        return {
            "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256},
            "engine": self.engine,
            "start": self.start,
            "quarters": [q.as_json() for q in self.quarters],
            "skipped_events": self.skipped,
            "ignored_signals": dict(sorted(self.ignored_signals.items())),
            "arr_bridge": [row for q in self.quarters for row in q.arr_bridge],
        }


def quarter_capacity(
    ruleset: Ruleset,
    summary: dict[str, dict[str, Any]],
    total_csms: int | None,
    base_csms: int | None,
) -> dict[str, Any]:
    """A replayed quarter's CSMs needed per tier against those available: each tier's
    declared CSMs scaled by the headcount's change since the start (capacity_change)."""
    needed, per_tier = 0, {}
    base = base_csms or 0
    scale = (total_csms / base) if base and total_csms is not None else 1.0
    for t in ruleset.tiers:
        n = summary[t.id]["accounts"]
        need = math.ceil(n / t.book_target) if t.book_target and not t.automated else 0
        avail = ruleset.capacity.per_tier.get(t.id)
        per_tier[t.id] = {
            "accounts": n,
            "needed": need,
            "available": None if avail is None else round(avail * scale),
        }
        needed += need
    gap = None if total_csms is None else needed - total_csms
    return {"needed": needed, "available": total_csms, "gap": gap, "per_tier": per_tier}
