"""Moves against the current book: each account's CRM tier label, mapped to a tier of the
ruleset (``current_book.labels``), against the tier the rules give it.

Tiers are ordered as the ruleset lists them, most touch first: a move to an earlier tier is
an upgrade, to a later one a downgrade.  A blank label is *unknown*; a label the mapping
does not name is *unmapped* (counted per label, never guessed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

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
    # each account's current tier (null: blank or unmapped)
    current: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.String))

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
    rs: Ruleset,
    labels_in: Sequence[Any] | pl.Series,
    new_tiers: Sequence[str] | pl.Series,
    arrs: Sequence[float] | pl.Series,
) -> BookMoves | None:
    """The moves, from each account's CRM label, new tier and ARR (in account order).  Each
    tally's ARR is the sum in account order (numpy's bincount adds its weights in order), so
    the same floats as adding each account's ARR to its tally in turn."""
    column = rs.role("current_tier")
    if column is None:
        return None
    labels = label_map(rs)
    order = {t: i for i, t in enumerate(rs.tier_ids)}
    width = len(order)
    if not (len(labels_in) == len(new_tiers) == len(arrs)):
        raise ValueError("book_moves: a label, a tier and an ARR for every account")
    raw_labels = labels_in if isinstance(labels_in, pl.Series) else pl.Series(list(labels_in))
    distinct = raw_labels.unique().to_list()  # (each distinct CRM text once)
    # its label (blank: unknown) and the tier it maps to
    unmapped = sorted({lb for lb in map(_label, distinct) if lb and labels.get(lb) is None})
    code: dict[Any, int] = {}  # raw label -> tier index, or UNKNOWN, or UNMAPPED + its index
    for raw in distinct:
        label = _label(raw)
        tier = labels.get(label) if label else None
        if not label:
            code[raw] = UNKNOWN
        elif tier is None:
            code[raw] = UNMAPPED - unmapped.index(label)
        else:
            code[raw] = order[tier]
    known = [k for k in code if k is not None]
    current = (
        raw_labels.replace_strict(known, [code[k] for k in known], return_dtype=pl.Int64)
        .fill_null(UNKNOWN)
        .to_numpy()
        if known
        else np.full(len(raw_labels), UNKNOWN, np.int64)
    )
    tiers_in = new_tiers if isinstance(new_tiers, pl.Series) else pl.Series(list(new_tiers))
    new = (
        tiers_in.cast(pl.String).replace_strict(order, return_dtype=pl.Int64).to_numpy()
        if len(tiers_in)
        else np.zeros(0, np.int64)
    )
    arr = arrs.cast(pl.Float64).to_numpy() if isinstance(arrs, pl.Series) else np.asarray(arrs)
    arr = arr.astype(np.float64, copy=False)
    mapped = current >= 0
    out = BookMoves(column, labels, {})
    tier_ids = list(order)
    out.current = pl.Series("current", np.where(mapped, current, width)).replace_strict(
        list(range(width)), tier_ids, default=None, return_dtype=pl.String
    )

    def tallies(bucket: np.ndarray, size: int) -> list[Tally]:
        counts = np.bincount(bucket, minlength=size + 1).tolist()
        sums = np.bincount(bucket, weights=arr, minlength=size + 1).tolist()
        return [Tally(int(n), float(a) if n else 0.0) for n, a in zip(counts, sums)][:size]

    cells = tallies(np.where(mapped, current * width + new, width * width), width * width)
    out.matrix = {
        (tier_ids[k // width], tier_ids[k % width]): t for k, t in enumerate(cells) if t.accounts
    }
    step = np.sign(new - current)  # 0 unchanged, -1 an upgrade, 1 a downgrade
    kinds = np.where(mapped, step + 1, np.where(current == UNKNOWN, 3, 4))
    upgrades, unchanged, downgrades, unknown = tallies(kinds, 4)
    out.upgrades, out.unchanged, out.downgrades, out.unknown = (
        upgrades,
        unchanged,
        downgrades,
        unknown,
    )
    if unmapped:
        which = np.where(current <= UNMAPPED, UNMAPPED - current, len(unmapped))
        out.unmapped = dict(zip(unmapped, tallies(which, len(unmapped)), strict=True))
    return out


UNKNOWN = -1
UNMAPPED = -2  # (an unmapped label's code: UNMAPPED minus its index among them)


def _label(raw: Any) -> str | None:
    return None if raw is None else str(raw).strip()
