"""The typed overrides of one file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

EXPIRING_DAYS = 30  # an override that ends within this many days of the as-of date is listed


@dataclass(frozen=True)
class Override:
    id: str
    account: str
    owner: str
    reason: str
    created: dt.date
    expires: dt.date
    tier: str | None = None
    add_flags: tuple[str, ...] = ()
    remove_flags: tuple[str, ...] = ()
    hold: bool = False
    ticket: str = ""
    line: int = 0  # where the override starts in its file

    def active(self, on: dt.date) -> bool:
        """In force on ``on``: from the day it was made to its expiry date, both included."""
        return self.created <= on <= self.expires

    def expired(self, on: dt.date) -> bool:
        return on > self.expires

    def fields(self) -> list[str]:
        """What it overrides, one name per field: 'tier', 'flag:<id>'."""
        out = ["tier"] if self.tier else []
        return out + [f"flag:{f}" for f in (*self.add_flags, *self.remove_flags)]

    def does(self) -> str:
        """What it does, in words: 'pinned to high_touch_enterprise, adds flag x'."""
        parts = [f"pinned to {self.tier}"] if self.tier else []
        parts += [f"adds flag {f}" for f in self.add_flags]
        parts += [f"removes flag {f}" for f in self.remove_flags]
        if self.hold and not self.tier:
            parts.append("holds the tier through replay")
        return ", ".join(parts)

    def by_whom(self) -> str:
        """'by vp-cs until 2027-03-31: <reason>'."""
        return f"by {self.owner} until {self.expires.isoformat()}: {self.reason}"


@dataclass
class Overrides:
    file: str
    overrides: list[Override] = field(default_factory=list)

    def by_id(self, override_id: str) -> Override | None:
        return next((o for o in self.overrides if o.id == override_id), None)
