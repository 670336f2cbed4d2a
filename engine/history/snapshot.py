"""The starting portfolio of a derived replay: one row per account in the book on the first
quarter's first day, with the ARR and seats of its paid subscriptions active that day (and
its escalated tickets of the quarter before, with a tickets table), and the other columns of
a portfolio when one is given."""

from __future__ import annotations

import csv
import io

from ..errors import DataError, Problem
from .derive import Derived, money
from .tables import Table

ARR, SEATS, ESCALATIONS = "arr", "seats_licensed", "open_escalations"


def snapshot_csv(derived: Derived, portfolio: Table | None = None) -> tuple[str, int]:
    """The snapshot as CSV text, and how many of the portfolio's accounts are not in the
    book (left out)."""
    with_tickets = any(s.escalations is not None for s in derived.book.values())
    derived_cols = [ARR, SEATS] + ([ESCALATIONS] if with_tickets else [])
    header = ["account_id", *derived_cols]
    others: dict[str, list[str]] = {}
    if portfolio is not None:
        cols = [c.strip() for c in portfolio.header]
        if "account_id" not in cols:
            message = f"missing column 'account_id' (the table has: {', '.join(cols)})"
            raise DataError(message, [Problem(portfolio.file, 1, 1, "account_id", message)])
        header = cols + [c for c in derived_cols if c not in cols]
        at = cols.index("account_id")
        for _line, cells in portfolio.rows:
            cells = cells + [""] * (len(cols) - len(cells))
            others[cells[at].strip()] = cells[: len(cols)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for account_id, start in sorted(derived.book.items()):
        values = {"account_id": account_id, ARR: money(start.arr), SEATS: str(start.seats)}
        if start.escalations is not None:
            values[ESCALATIONS] = str(start.escalations)
        row = others.get(account_id)
        if row is None:
            w.writerow([values.get(c, "") for c in header])
        else:
            w.writerow(
                [values.get(c, row[i] if i < len(row) else "") for i, c in enumerate(header)]
            )
    left_out = sum(1 for a in others if a not in derived.book)
    return buf.getvalue(), left_out


def events_csv(derived: Derived) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["quarter", "account_id", "type", "field", "value"])
    w.writerows(derived.events)
    return buf.getvalue()
