"""A replay part's quarter in the ARR bridge (``assess.bridge``), as columns: each
account's ARR in cents read off the part's inputs frame (``replay_inputs``), and the
tiers' amounts summed by polars over one frame of the quarter's movements, the sums
``bridge_sums`` makes of one ``Movement`` per account."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..assess.bridge import AMOUNTS, MOVES, Sums, cents
from ..ruleset.model import Ruleset
from .replay_apply import AccountState


def arr_cents(frame: pl.DataFrame, arr_field: str) -> list[int]:
    """Each row's ARR in cents, as ``cents`` gives it (no ARR: 0)."""
    if arr_field not in frame.columns:
        return [0] * frame.height
    arr = frame[arr_field].cast(pl.Float64).fill_null(0.0).to_numpy()
    if not np.isfinite(arr).all():  # (no cents: as ``cents`` says it)
        return [cents(v) for v in frame[arr_field].to_list()]
    # numpy's rint rounds half to even, as round does, on the same product
    return [int(c) for c in np.rint(arr * 100).astype(np.int64).tolist()]


def arr_floats(frame: pl.DataFrame, arr_field: str) -> list[float]:
    """Each row's ARR as ``float(arr or 0.0)`` gives it (no ARR, or -0.0: 0.0)."""
    if arr_field not in frame.columns:
        return [0.0] * frame.height
    arr = frame[arr_field].cast(pl.Float64).fill_null(0.0)
    return frame.select(pl.when(arr == 0).then(0.0).otherwise(arr)).to_series().to_list()


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
    """The bridge's sums of ``moves`` (``bridge_sums``), and the ARR held per tier by the
    accounts served at the end (``held_tiers``, ``held_cents``) and at the start."""
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

    def amount(when: pl.Expr, value: pl.Expr, name: str) -> pl.Expr:
        return pl.when(when).then(value).otherwise(0).sum().alias(name)

    per_tier = (
        frame.with_columns(tier.alias("tier"))
        .group_by("tier", maintain_order=True)
        .agg(
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
    )
    moved_in = (
        frame.with_columns(tier.alias("tier"))
        .filter(~churned & (pl.col("end_tier") != pl.col("tier")))
        .group_by("end_tier", maintain_order=True)
        .agg(end.sum().alias("moved_in"))
    )
    sums = {t: dict.fromkeys(AMOUNTS + MOVES, 0) for t in [*ruleset.tier_ids, "all"]}
    for row in per_tier.iter_rows(named=True):
        into = sums[row["tier"]]
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


def part_bridge(
    ruleset: Ruleset,
    states: Mapping[str, AccountState],
    start: tuple[dict[str, str], dict[str, int]],
    joined: dict[str, str],
    rejoined: dict[str, str],
    cents_of: Callable[[list[str]], list[int]],
) -> Bridged:
    """The quarter's ARR bridge over a part's accounts: those served at the start
    (``start``: their tier and cents then), in the tier they held, and those that joined
    or came back, in the tier they entered; ``cents_of``: accounts' ARR in cents now."""
    start_tier, start_arr = start
    came = [*joined, *rejoined]
    ids = [*start_tier, *came]
    moves = Movements(
        [*start_tier.values()] + [""] * len(came),
        [start_arr[i] for i in start_tier] + [0] * len(came),
        [states[i].held for i in start_tier] + [*joined.values(), *rejoined.values()],
        cents_of(ids),
        [""] * len(start_tier) + ["new"] * len(joined) + ["reactivated"] * len(rejoined),
        [bool(states[i].churned_in) for i in ids],
    )
    active = [i for i, st in states.items() if not st.churned_in]
    return bridged(ruleset, moves, [states[i].held for i in active], cents_of(active))
