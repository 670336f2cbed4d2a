"""The accounts behind each contradiction comment and review hint, for model.md: a reader
sees who to look at, not only how many (the largest by ARR first, capped, with a count)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ..assess.result import SegmentResult
from .arr_order import largest_first

SHOWN = 10  # accounts named per comment or hint; accounts.csv has every one


def accounts_behind(result: SegmentResult) -> dict[str, list[int]]:
    """Comment or review-hint id -> the indexes of the accounts it applies to, largest ARR
    first (a blank one 0; then account id, then file order), joined and sorted by polars."""
    ev = result.evaluation
    keyed = [  # (every account on a path has its comments and hints)
        (d.path_id, key) for d, _ in ev.by_path() for key in (*d.comments, *d.reviews)
    ]
    if not keyed:
        return {}
    frame = ev.frame
    ids = frame["account_id"] if "account_id" in frame.columns else None
    if ids is None or ids.dtype != pl.String:
        ids = pl.Series(ev.account_ids(), dtype=pl.String)
    accounts = largest_first(frame, result.arr_field, ids).with_columns(path=ev.path_of)
    on = pl.DataFrame(
        {"path": [p for p, _ in keyed], "key": [k for _, k in keyed]},
        schema={"path": ev.path_of.dtype, "key": pl.String},
    )
    grouped = (
        accounts.join(on, on="path")
        .sort("key", "k", "id", "i")
        .group_by("key", maintain_order=True)
        .agg("i")
    )
    return dict(zip(grouped["key"].to_list(), grouped["i"].to_list(), strict=True))


def line(
    result: SegmentResult,
    behind: dict[str, list[int]],
    key: str,
    money: Callable[[float], str],
) -> str:
    accounts = behind.get(key, [])
    if not accounts:
        return "  - no account"
    arrs, ids = result.evaluation.column(result.arr_field), result.evaluation.account_ids()
    named = ", ".join(f"{ids[i]} ({money(float(arrs[i] or 0.0))})" for i in accounts[:SHOWN])
    more = f", and {len(accounts) - SHOWN:,} more in accounts.csv" if len(accounts) > SHOWN else ""
    return f"  - {len(accounts):,} account(s), largest ARR first: {named}{more}"
