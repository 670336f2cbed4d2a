"""The accounts behind each contradiction comment and review hint, for model.md: a reader
sees who to look at, not only how many (the largest by ARR first, capped, with a count)."""

from __future__ import annotations

from collections.abc import Callable

from ..assess.result import SegmentResult

SHOWN = 10  # accounts named per comment or hint; accounts.csv has every one


def accounts_behind(result: SegmentResult) -> dict[str, list[int]]:
    """Comment or review-hint id -> the indexes of the accounts it applies to, largest ARR
    first (then account id)."""
    ev = result.evaluation
    on_path: dict[int, list[str]] = {}
    for d, _ in ev.by_path():  # (every account on a path has its comments and hints)
        if d.comments or d.reviews:
            on_path[d.path_id] = list(d.comments) + list(d.reviews)
    out: dict[str, list[int]] = {}
    if not on_path:
        return out
    for i, path in enumerate(ev.path_ids()):
        for key in on_path.get(path, ()):
            out.setdefault(key, []).append(i)
    arrs, ids = ev.column(result.arr_field), ev.account_ids()
    for accounts in out.values():
        accounts.sort(key=lambda i: (-(arrs[i] or 0.0), ids[i]))
    return out


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
