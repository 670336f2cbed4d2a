"""Quarters as `replay` writes them (2026Q4): their first days and ranges."""

from __future__ import annotations

import datetime as dt

from ..portfolio.events import QUARTER


def quarter_start(quarter: str) -> dt.date:
    m = QUARTER.match(quarter)
    if not m:
        raise ValueError(f"{quarter!r} is not a quarter like 2026Q3")
    return dt.date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def next_quarter(quarter: str) -> str:
    start = quarter_start(quarter)
    month = start.month + 3
    return quarter_of(dt.date(start.year + (month > 12), month - 12 * (month > 12), 1))


def previous_start(quarter: str) -> dt.date:
    start = quarter_start(quarter)
    month = start.month - 3
    return dt.date(start.year - (month < 1), month + 12 * (month < 1), 1)


def quarter_range(first: str, last: str) -> list[str]:
    out = [first]
    while out[-1] < last:
        out.append(next_quarter(out[-1]))
    return out
