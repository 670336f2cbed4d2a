"""Overrides applied after the rules: each account's effective tier and flags beside the
rules' own, and what the overrides add up to (per tier, ARR, expiring, expired, redundant,
stale).  The rules' result is never changed: the effective one is kept beside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .model import EXPIRING_DAYS, Override, Overrides


@dataclass
class Applied:
    """One account's overrides in force, and what the rules had said."""

    overrides: list[Override]
    rules_tier: str
    tier: str
    rules_flags: list[str]
    flags: list[str]

    @property
    def ids(self) -> str:
        return ";".join(o.id for o in self.overrides)

    def text(self) -> str:
        """`rules say mid_touch; pinned to high_touch_enterprise by vp-cs until ...: <reason>`"""
        said = f"rules say {self.rules_tier}"
        if any(o.add_flags or o.remove_flags for o in self.overrides):
            said += f" with flags [{', '.join(self.rules_flags)}]"
        return "; ".join([said, *(f"{o.does()} {o.by_whom()}" for o in self.overrides)])


@dataclass
class OverrideReport:
    file: str
    as_of: dt.date
    applied: dict[int, Applied] = field(default_factory=dict)  # account index -> its overrides
    expired: list[Override] = field(default_factory=list)
    pending: list[Override] = field(default_factory=list)  # made after the as-of date
    stale: list[tuple[Override, str]] = field(default_factory=list)  # (override, why)
    redundant: list[Override] = field(default_factory=list)
    expiring: list[Override] = field(default_factory=list)
    arr: float = 0.0
    rules_capacity: Any = None  # the capacity roll-up of the rules' tiers (CapacityReport)

    def tiers(self, rules_tiers: list[str]) -> list[str]:
        """Each account's effective tier, in account order."""
        out = list(rules_tiers)
        for i, a in self.applied.items():
            out[i] = a.tier
        return out

    def by_tier(self, tier_ids: list[str]) -> dict[str, int]:
        """Accounts under an override, by effective tier (every tier listed)."""
        counts = dict.fromkeys(tier_ids, 0)
        for a in self.applied.values():
            counts[a.tier] += 1
        return counts

    def moved(self) -> list[tuple[int, Applied]]:
        """Accounts whose effective tier is not the rules' one."""
        return [(i, a) for i, a in sorted(self.applied.items()) if a.tier != a.rules_tier]

    def as_json(self, tier_ids: list[str]) -> dict[str, Any]:
        def item(o: Override) -> dict[str, Any]:
            return {
                "id": o.id,
                "account_id": o.account,
                "does": o.does(),
                "owner": o.owner,
                "expires": o.expires.isoformat(),
            }

        out: dict[str, Any] = {
            "file": self.file,
            "applied": sum(len(a.overrides) for a in self.applied.values()),
            "accounts": len(self.applied),
            "moved": len(self.moved()),
            "by_tier": self.by_tier(tier_ids),
            "arr": round(self.arr, 2),
            "expiring": [item(o) for o in self.expiring],
            "expired": [item(o) for o in self.expired],
            "redundant": [item(o) for o in self.redundant],
            "stale": [{**item(o), "why": why} for o, why in self.stale],
            "pending": [item(o) for o in self.pending],
        }
        if self.rules_capacity is not None:
            out["rules_capacity"] = self.rules_capacity.as_dict()
        return out


def apply_overrides(
    found: Overrides,
    account_ids: list[str],
    rules_tiers: list[str],
    rules_flags: Callable[[int], list[str]],
    arrs: list[float],
    as_of: dt.date,
    flag_order: list[str],
    gone: dict[str, str] | None = None,
) -> OverrideReport:
    """The overrides in force on ``as_of`` applied to the rules' tiers and flags (account
    order); ``gone``: accounts no longer in the book (churned) -> why, whose overrides are
    stale like those of an account not in the portfolio."""
    report = OverrideReport(found.file, as_of)
    at = {a: i for i, a in enumerate(account_ids)}
    soon = as_of + dt.timedelta(days=EXPIRING_DAYS)
    for o in found.overrides:
        if o.expired(as_of):
            report.expired.append(o)
            continue
        if not o.active(as_of):  # (made after the as-of date: not yet in force)
            report.pending.append(o)
            continue
        if gone and o.account in gone:
            report.stale.append((o, gone[o.account]))
            continue
        i = at.get(o.account)
        if i is None:
            report.stale.append((o, "not in the portfolio"))
            continue
        if o.expires <= soon:
            report.expiring.append(o)
        a = report.applied.get(i)
        if a is None:
            flags = list(rules_flags(i))
            a = report.applied[i] = Applied([], rules_tiers[i], rules_tiers[i], flags, flags)
            report.arr += float(arrs[i] or 0.0)
        a.overrides.append(o)
        if o.tier:
            a.tier = o.tier
        kept = (set(a.flags) | set(o.add_flags)) - set(o.remove_flags)
        a.flags = [f for f in flag_order if f in kept]
        if _redundant(o, a.rules_tier, a.rules_flags):
            report.redundant.append(o)
    return report


def _redundant(o: Override, tier: str, flags: list[str]) -> bool:
    """It agrees with the rules: removing it would change nothing (a hold still holds)."""
    if o.hold and not o.tier:
        return False
    return (
        (o.tier is None or o.tier == tier)
        and all(f in flags for f in o.add_flags)
        and not any(f in flags for f in o.remove_flags)
    )
