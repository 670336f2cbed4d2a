"""The ARR bridge's sums per account, as plain Python: the reference the replay's
polars sums (``assess.bridge.bridged``) are held to. One ``Movement`` per account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tierbook.assess.bridge import SUMMED, Sums
from tierbook.ruleset.model import Ruleset


@dataclass(frozen=True)
class Movement:
    """One account in one quarter: where it was at the start (tier, ARR in cents; tier ""
    when it was not served) and where it is at the end (its tier and ARR, or its tier and
    ARR when it churned), and how it came or went."""

    start_tier: str
    start: int
    end_tier: str
    end: int
    kind: str = ""  # "new" | "reactivated" | "" (served at the start)
    churned: bool = False


def bridge_sums(ruleset: Ruleset, movements: Mapping[str, Movement]) -> Sums:
    """Each tier's amounts (cents) over ``movements``: sums of whole numbers, so the sums
    of the parts of a book add up to the book's (``add_sums``)."""
    sums = {t: dict.fromkeys(SUMMED, 0) for t in [*ruleset.tier_ids, "all"]}
    for m in movements.values():
        tier = m.start_tier if not m.kind else m.end_tier
        row = sums[tier]
        if m.kind:
            row[m.kind] += m.end
        else:
            row["starting"] += m.start
            if m.churned:
                row["churned"] += m.start
                row["cohort_churned"] += m.start
            elif m.end >= m.start:
                row["expansion"] += m.end - m.start
            else:
                row["contraction"] += m.start - m.end
        if m.churned and m.kind:
            row["churned"] += m.end
        if not m.churned:
            row["ending"] += m.end
            if m.end_tier != tier:
                row["moved_out"] += m.end
                sums[m.end_tier]["moved_in"] += m.end
    return sums
