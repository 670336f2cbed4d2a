"""Quarters as `replay` writes them (2026Q4): their first days and ranges.

A quarter's changes run to the next quarter's first day, so the last quarter events can
be derived for is LAST (9999Q4 would end on 10000-01-01, past the last date there is)."""

from __future__ import annotations

import datetime as dt

from ..portfolio.events import QUARTER

LAST = "9999Q3"


def quarter_start(quarter: str) -> dt.date:
    m = QUARTER.match(quarter)
    if not m:
        raise ValueError(f"{quarter!r} is not a quarter like 2026Q3")
    if int(m.group(1)) < dt.MINYEAR:
        raise ValueError(f"{quarter!r} is out of range: years run from 0001 to 9999")
    return dt.date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1)


def quarter_of(day: dt.date) -> str:
    return f"{day.year:04d}Q{(day.month - 1) // 3 + 1}"


def next_quarter(quarter: str) -> str:
    start = quarter_start(quarter)
    if start.year == dt.MAXYEAR and start.month > 9:
        raise ValueError(f"{quarter!r} is out of range: there is no quarter after it")
    month = start.month + 3
    return quarter_of(dt.date(start.year + (month > 12), month - 12 * (month > 12), 1))


def previous_start(quarter: str) -> dt.date:
    start = quarter_start(quarter)
    if start.year == dt.MINYEAR and start.month < 4:
        raise ValueError(f"{quarter!r} is out of range: there is no quarter before it")
    month = start.month - 3
    return dt.date(start.year - (month < 1), month + 12 * (month < 1), 1)


def quarter_range(first: str, last: str) -> list[str]:
    out = [first]
    while out[-1] < last:
        out.append(next_quarter(out[-1]))
    return out
