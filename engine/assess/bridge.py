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
(new and reactivated ARR are not retention, and the churn of a new or reactivated account
within its quarter is not theirs either); null when nothing started in the tier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..ruleset.model import Ruleset

AMOUNTS = ("starting", "new", "expansion", "contraction", "churned", "reactivated", "ending")
MOVES = ("moved_in", "moved_out")
# the part of ``churned`` that the accounts served at the start took with them: retention
# (NRR, GRR) is of that cohort, so a new or reactivated account that churns within its
# quarter lowers the ending ARR but not the retention of the accounts that started
KEPT = ("cohort_churned",)
SUMMED = AMOUNTS + MOVES + KEPT


class BridgeError(RuntimeError):
    """The ARR bridge does not reconcile: a bug in tierbook, not in the input."""


def cents(arr: Any) -> int:
    return round(float(arr or 0.0) * 100)


Sums = dict[str, dict[str, int]]


@dataclass
class Bridged:
    """What the part's quarter adds to the book's bridge."""

    sums: Sums
    moved: int  # accounts in the bridge
    gone: int  # of them churned
    held: Counter[str]  # ARR held per tier at the end (cents), the accounts served
    started: Counter[str]  # ARR per tier at the start (cents)


@dataclass
class Movements:
    """The quarter's accounts in the bridge, a column each: where each was at the start
    (tier, cents; "" and 0 when it was not served), where at the end, how it came (``kind``:
    "" served at the start, "new", "reactivated") and whether it churned."""

    start_tier: list[str]
    start: list[int]
    end_tier: list[str]
    end: list[int]
    kind: list[str]
    churned: list[bool]


def bridged(
    ruleset: Ruleset,
    moves: Movements,
    held_tiers: Sequence[str],
    held_cents: Sequence[int],
) -> Bridged:
    """The bridge's sums of ``moves`` (by polars, over one frame of the movements), and the
    ARR held per tier by the accounts served at the end (``held_tiers``, ``held_cents``)
    and at the start."""
    frame = pl.DataFrame(
        {
            "start_tier": pl.Series(moves.start_tier, dtype=pl.String),
            "start": pl.Series(moves.start, dtype=pl.Int64),
            "end_tier": pl.Series(moves.end_tier, dtype=pl.String),
            "end": pl.Series(moves.end, dtype=pl.Int64),
            "kind": pl.Series(moves.kind, dtype=pl.String),
            "churned": pl.Series(moves.churned, dtype=pl.Boolean),
        }
    )
    kind, churned = pl.col("kind"), pl.col("churned")
    start, end = pl.col("start"), pl.col("end")
    served = kind == ""
    tier = pl.when(served).then(pl.col("start_tier")).otherwise(pl.col("end_tier"))
    kept = served & ~churned
    frame = frame.with_columns(tier.alias("tier"))  # (the tier the account counts in)

    def amount(when: pl.Expr, value: pl.Expr, name: str) -> pl.Expr:
        return pl.when(when).then(value).otherwise(0).sum().alias(name)

    per_tier = frame.group_by("tier", maintain_order=True).agg(
        amount(served, start, "starting"),
        amount(kind == "new", end, "new"),
        amount(kept & (end >= start), end - start, "expansion"),
        amount(kept & (end < start), start - end, "contraction"),
        amount(served & churned, start, "churned_start"),
        amount(~served & churned, end, "churned_end"),
        amount(kind == "reactivated", end, "reactivated"),
        amount(~churned, end, "ending"),
        amount(~churned & (pl.col("end_tier") != pl.col("tier")), end, "moved_out"),
    )
    moved_in = (
        frame.filter(~churned & (pl.col("end_tier") != pl.col("tier")))
        .group_by("end_tier", maintain_order=True)
        .agg(end.sum().alias("moved_in"))
    )
    sums = {t: dict.fromkeys(SUMMED, 0) for t in [*ruleset.tier_ids, "all"]}
    for row in per_tier.iter_rows(named=True):
        into = sums[row["tier"]]
        into["cohort_churned"] += row["churned_start"]
        into["churned"] += row.pop("churned_start") + row.pop("churned_end")
        for key, value in row.items():
            if key != "tier":
                into[key] += value
    for end_tier, value in moved_in.iter_rows():
        sums[end_tier]["moved_in"] += value
    held: Counter[str] = Counter()
    for t, c in zip(held_tiers, held_cents):
        held[t] += c
    started: Counter[str] = Counter()
    for t, c, k in zip(moves.start_tier, moves.start, moves.kind):
        if not k:
            started[t] += c
    return Bridged(sums, frame.height, int(frame["churned"].sum()), held, started)


def add_sums(into: Sums, sums: Sums) -> None:
    for tier, row in sums.items():
        for key, amount in row.items():
            into[tier][key] += amount


def bridge_rows(
    ruleset: Ruleset, quarter: str, sums: Sums, churn_rates: Mapping[str, float]
) -> list[dict[str, Any]]:
    """The rows of ``quarter`` from its tiers' amounts (``bridged``), checked."""
    tiers = ruleset.tier_ids
    for key in SUMMED:
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
    kept = start - row["contraction"] - row["cohort_churned"]
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
