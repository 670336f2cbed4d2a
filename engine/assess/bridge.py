"""The ARR bridge of a replay quarter: per tier and for the whole book, the starting ARR,
new, expansion, contraction, churned and reactivated ARR, the ending ARR, NRR and GRR, and
churn against the tier's target (docs/events.md, "The ARR bridge").

Tier attribution: an account that is served at the start of the quarter counts, for the
whole quarter, in the tier it held at the start: its starting ARR, its net change over the
quarter (expansion when up, contraction when down), its churned ARR (its ARR at the start)
and its ending ARR.  A new account counts in the tier it joins (its first tier), a
reactivated one in the tier it rejoins.  A tier's row is so a cohort, and

    starting + new + expansion - contraction - churned + reactivated = ending

holds for each row exactly (amounts are summed in cents).  An account that ends the quarter
held in another tier is in ``moved_out`` of its starting tier and ``moved_in`` of the one it
ends in (its ending ARR), so that ``ending - moved_out + moved_in`` is the ARR held in the
tier at the quarter's end, the next quarter's ``starting``; both are checked, and a bridge
that does not reconcile stops the replay (a bug, never an answer).

NRR = (starting + expansion - contraction - churned) / starting and
GRR = (starting - contraction - churned) / starting: the accounts served at the start only
(new and reactivated ARR are not retention); null when nothing started in the tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..ruleset.model import Ruleset

AMOUNTS = ("starting", "new", "expansion", "contraction", "churned", "reactivated", "ending")
MOVES = ("moved_in", "moved_out")


class BridgeError(RuntimeError):
    """The ARR bridge does not reconcile: a bug in tierbook, not in the input."""


def cents(arr: Any) -> int:
    return round(float(arr or 0.0) * 100)


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


def quarter_bridge(
    ruleset: Ruleset,
    quarter: str,
    movements: Mapping[str, Movement],
    churn_rates: Mapping[str, float],
) -> list[dict[str, Any]]:
    """The bridge rows of ``quarter``: one per tier (in tier order), then "all"."""
    return bridge_rows(ruleset, quarter, bridge_sums(ruleset, movements), churn_rates)


Sums = dict[str, dict[str, int]]


def bridge_sums(ruleset: Ruleset, movements: Mapping[str, Movement]) -> Sums:
    """Each tier's amounts (cents) over ``movements``: sums of whole numbers, so the sums
    of the parts of a book add up to the book's (``add_sums``)."""
    sums = {t: dict.fromkeys(AMOUNTS + MOVES, 0) for t in [*ruleset.tier_ids, "all"]}
    for m in movements.values():
        tier = m.start_tier if not m.kind else m.end_tier
        row = sums[tier]
        if m.kind:
            row[m.kind] += m.end
        else:
            row["starting"] += m.start
            if m.churned:
                row["churned"] += m.start
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


def add_sums(into: Sums, sums: Sums) -> None:
    for tier, row in sums.items():
        for key, amount in row.items():
            into[tier][key] += amount


def bridge_rows(
    ruleset: Ruleset, quarter: str, sums: Sums, churn_rates: Mapping[str, float]
) -> list[dict[str, Any]]:
    """The rows of ``quarter`` from its tiers' amounts (``bridge_sums``), checked."""
    tiers = ruleset.tier_ids
    for key in AMOUNTS + MOVES:
        sums["all"][key] = sum(sums[t][key] for t in tiers)
    out = []
    for tier, row in sums.items():
        check_row(quarter, tier, row)
        out.append(_row(ruleset, quarter, tier, row, churn_rates))
    return out


def check_row(quarter: str, tier: str, row: Mapping[str, int]) -> None:
    """Raise BridgeError unless the row's amounts add up (cents)."""
    found = (
        row["starting"]
        + row["new"]
        + row["expansion"]
        - row["contraction"]
        - row["churned"]
        + row["reactivated"]
    )
    if found != row["ending"]:
        raise BridgeError(
            f"ARR bridge of {quarter}, {tier}: starting + new + expansion - contraction - "
            f"churned + reactivated = {found / 100:.2f}, but ending is {row['ending'] / 100:.2f}"
        )


def check_held(
    quarter: str, rows: list[dict[str, Any]], held: Mapping[str, int], started: Mapping[str, int]
) -> None:
    """Raise BridgeError unless each tier's starting ARR is the ARR ``started`` in it and its
    ending - moved_out + moved_in is the ARR ``held`` in it at the end (cents)."""
    for r in rows:
        if r["tier"] == "all":
            continue
        tier = r["tier"]
        pairs = (
            ("starting", cents(r["starting"]), started.get(tier, 0)),
            (
                "ending - moved_out + moved_in",
                cents(r["ending"]) - cents(r["moved_out"]) + cents(r["moved_in"]),
                held.get(tier, 0),
            ),
        )
        for what, bridge, book in pairs:
            if bridge != book:
                raise BridgeError(
                    f"ARR bridge of {quarter}, {tier}: {what} is {bridge / 100:.2f}, but the "
                    f"tier holds {book / 100:.2f}"
                )


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _row(
    ruleset: Ruleset,
    quarter: str,
    tier: str,
    row: Mapping[str, int],
    churn_rates: Mapping[str, float],
) -> dict[str, Any]:
    start = row["starting"]
    kept = start - row["contraction"] - row["churned"]
    target = ruleset.tier(tier).targets.get("churn_rate") if tier != "all" else None
    rate = churn_rates.get(tier)
    return (
        {"quarter": quarter, "tier": tier}
        | {k: row[k] / 100 for k in AMOUNTS}
        | {
            "nrr": _ratio(kept + row["expansion"], start),
            "grr": _ratio(kept, start),
            "churn_target": target,
            "churn_rate": None if rate is None else round(rate, 4),
            "over_target": None if target is None or rate is None else rate > target,
        }
        | {k: row[k] / 100 for k in MOVES}
    )
