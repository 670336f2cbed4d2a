"""The history tables `tierbook events` reads (CSV): subscriptions, churn, tickets, and a
portfolio to take the other columns of the snapshot from.  Every bad cell is reported with
its file, line and column, all at once."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, Problem
from ..portfolio.cells import BadValue, parse_boolean, parse_date, parse_integer, parse_money

MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Subscription:
    line: int
    subscription_id: str
    account_id: str
    arr: int  # cents
    seats: int
    start: dt.date
    end: dt.date | None  # the day it stops (no longer counts); None: open-ended
    trial: bool
    cancelled: bool = False  # status cancelled (or canceled)

    def active(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Churn:
    line: int
    account_id: str
    date: dt.date


@dataclass(frozen=True)
class Ticket:
    line: int
    account_id: str
    opened: dt.date
    escalated: bool


@dataclass
class Table:
    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line, cells)

    def index(self, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, int]:
        cols = {name.strip().lower(): i for i, name in enumerate(self.header)}
        missing = [n for n in names if n not in cols]
        if missing:
            message = (
                f"missing column '{missing[0]}' (the table has: {', '.join(self.header)}; "
                f"expected {', '.join(names + optional)})"
            )
            raise DataError(message, [Problem(self.file, 1, 1, missing[0], message, "header")])
        return {n: cols[n] for n in names + optional if n in cols}


def read_csv(path: str, display: str | None = None) -> Table:
    file = display or path
    p = Path(path)
    if not p.is_file():
        why = "file not found" if not p.exists() else "is a folder, not a CSV file"
        raise DataError(why, [Problem(file, 0, 0, "", why, "not-found")])
    text = p.read_bytes().decode("utf-8-sig", "replace")
    reader = csv.reader(text.splitlines())
    header = next(reader, [])
    if not header:
        why = "file is empty: expected a header row"
        raise DataError(why, [Problem(file, 1, 1, "", why, "empty")])
    rows = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    return Table(file, header, rows)


class _Cells:
    """One table's cells read by column name, each problem kept with its place."""

    def __init__(self, table: Table, cols: dict[str, int]) -> None:
        self.table, self.cols = table, cols
        self.problems: list[Problem] = []

    def get(
        self, line: int, cells: list[str], name: str, parse: Callable[[str], Any], blank: Any
    ) -> Any:
        i = self.cols.get(name)
        text = cells[i].strip() if i is not None and i < len(cells) else ""
        if not text:
            if blank is _REQUIRED:
                self.fail(line, name, "is blank")
            return None if blank is _REQUIRED else blank
        try:
            return parse(text)
        except (BadValue, ValueError) as exc:
            self.fail(line, name, f"{text!r} {exc}" if str(exc) else f"{text!r} does not read")
            return None

    def fail(self, line: int, name: str, message: str) -> None:
        column = self.cols.get(name, 0) + 1
        self.problems.append(Problem(self.table.file, line, column, name, message, "bad-value"))

    def done(self) -> None:
        if self.problems:
            n = len(self.problems)
            raise DataError(f"{self.table.file}: {n} bad value(s)", self.problems[:MAX_PROBLEMS])


_REQUIRED = object()


def _text(s: str) -> str:
    return s


def _status(s: str) -> str:
    value = s.lower()
    if value not in ("active", "cancelled", "canceled", "trial"):
        raise BadValue("is not a status (active, cancelled or trial)")
    return value


def subscriptions(table: Table) -> list[Subscription]:
    cols = table.index(
        ("subscription_id", "account_id", "arr_amount", "start_date", "end_date"),
        ("seats", "status", "is_trial", "plan"),
    )
    cells = _Cells(table, cols)
    out: list[Subscription] = []
    seen: dict[str, int] = {}
    for line, row in table.rows:
        sid = cells.get(line, row, "subscription_id", _text, _REQUIRED)
        account = cells.get(line, row, "account_id", _text, _REQUIRED)
        arr = cells.get(line, row, "arr_amount", parse_money, _REQUIRED)
        seats = cells.get(line, row, "seats", parse_integer, 0)
        start = cells.get(line, row, "start_date", parse_date, _REQUIRED)
        end = cells.get(line, row, "end_date", parse_date, None)
        status = cells.get(line, row, "status", _status, "active")
        trial = cells.get(line, row, "is_trial", parse_boolean, False)
        if sid is not None and sid in seen:
            cells.fail(line, "subscription_id", f"{sid!r} is also on line {seen[sid]}")
        elif sid is not None:
            seen[sid] = line
        if arr is not None and arr < 0:
            cells.fail(line, "arr_amount", f"{arr!r} is negative")
        if start is not None and end is not None and end < start:
            cells.fail(line, "end_date", f"{end.isoformat()} is before the start {start}")
        if None in (sid, account, arr, start, seats, status, trial):
            continue
        trial = trial or status == "trial"
        cancelled = status in ("cancelled", "canceled")
        out.append(
            Subscription(line, sid, account, round(arr * 100), seats, start, end, trial, cancelled)
        )
    cells.done()
    return out


def churns(table: Table, known: set[str]) -> list[Churn]:
    cols = table.index(("account_id", "churn_date"), ("reason",))
    cells = _Cells(table, cols)
    out = []
    for line, row in table.rows:
        account = cells.get(line, row, "account_id", _text, _REQUIRED)
        date = cells.get(line, row, "churn_date", parse_date, _REQUIRED)
        if account is not None and account not in known:
            cells.fail(line, "account_id", f"account {account!r} has no subscription")
        elif account is not None and date is not None:
            out.append(Churn(line, account, date))
    cells.done()
    return out


def tickets(table: Table) -> list[Ticket]:
    cols = table.index(("account_id", "opened_at", "escalated"), ("ticket_id", "priority"))
    cells = _Cells(table, cols)
    out = []
    for line, row in table.rows:
        account = cells.get(line, row, "account_id", _text, _REQUIRED)
        opened = cells.get(line, row, "opened_at", parse_date, _REQUIRED)
        escalated = cells.get(line, row, "escalated", parse_boolean, False)
        if None not in (account, opened, escalated):
            out.append(Ticket(line, account, opened, escalated))
    cells.done()
    return out
