"""`tierbook events`: quarterly replay events derived from a subscriptions table (and
optionally churn and ticket tables), and the starting portfolio they replay from."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..history.derive import Derived, derive
from ..history.quarters import LAST, next_quarter, previous_start, quarter_of, quarter_start
from ..history.snapshot import events_csv, snapshot_csv
from ..history.tables import churns, read_csv, subscriptions, tickets


@dataclass
class EventsRun:
    derived: Derived
    sources: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)  # events / snapshot -> path
    left_out: int = 0  # the portfolio's accounts not in the book at the start

    def as_json(self) -> dict[str, Any]:
        d = self.derived
        return {
            "sources": self.sources,
            "churn_from": "table" if "churn" in self.sources else "subscriptions",
            "quarters": {"first": d.quarters[0], "last": d.quarters[-1], "count": len(d.quarters)},
            "start": d.start.isoformat(),
            "book": {
                "accounts": len(d.book),
                "arr": round(sum(s.arr for s in d.book.values()) / 100, 2),
            },
            "events": dict(sorted(d.counts.items())),
            "total": len(d.events),
            "churns_outside_book": d.churns_outside,
            "cancelled_without_end_date": len(d.cancelled_open),
            "returned_in_churn_quarter": len(d.returns),
            "returns_after_range": len(d.returns_after()),
            "portfolio_accounts_left_out": self.left_out,
            "files": self.files,
        }

    def notes(self) -> list[str]:
        """What was left out or moved, and why, for stderr (the events may be on stdout)."""
        d, out = self.derived, []
        if d.cancelled_open:
            lines = _named(map(str, d.cancelled_open))
            out.append(
                f"note: {len(d.cancelled_open):,} cancelled subscription(s) without an end date "
                f"left out, not ARR: when they stopped is unknown (line(s) {lines} of "
                f"{self.sources['subscriptions']})"
            )
        if d.returns:
            out.append(
                f"note: {len(d.returns):,} account(s) churned and came back in the same quarter "
                f"({_named(a for _q, a in d.returns)}): each churns in it and comes back in "
                "the next quarter's reactivation (a replay brings an account back from the "
                "quarter after its churn)"
            )
        late, last = d.returns_after(), d.quarters[-1]
        if late:
            after = (
                f"in {next_quarter(last)}, is left out (--to {next_quarter(last)} includes it)"
                if last < LAST
                else f"is left out: {LAST} is the last quarter events can be derived for"
            )
            out.append(
                f"note: {len(late):,} account(s) came back in {last}, the last quarter, after "
                f"churning in it ({_named(late)}): their reactivation, {after}"
            )
        return out


NOTED = 10  # the lines or accounts a note names


def _named(accounts: Iterable[str]) -> str:
    ids = list(accounts)
    return ", ".join(ids[:NOTED]) + (f" and {len(ids) - NOTED:,} more" if len(ids) > NOTED else "")


def _quarter(text: str, option: str, before: bool = False) -> str:
    """A --from/--to quarter whose end (the next quarter's first day) is a date, and with
    ``before`` the quarter before it too (the tickets' counts start there)."""
    try:
        quarter_start(text)
    except ValueError as e:
        if "out of range" in str(e):
            raise UsageError(f"{option} {e}") from None
        raise UsageError(f"{option} {text!r} is not a quarter like 2026Q4") from None
    if text > LAST:
        raise UsageError(
            f"{option} {text!r} is out of range: its changes would run to 10000-01-01, past "
            f"the last date; the last quarter events can be derived for is {LAST}"
        )
    try:
        next_quarter(text)
        if before:
            previous_start(text)
    except ValueError as e:
        raise UsageError(f"{option} {e} (--tickets counts the quarter before --from)") from None
    return text


def _write(path: str, body: str) -> None:
    """Written whole or not at all (a failed run leaves the file as it was)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tierbook-tmp-{os.getpid()}")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, target)


def derive_events(
    subscriptions_path: str,
    *,
    first: str,
    last: str | None = None,
    churn_path: str | None = None,
    tickets_path: str | None = None,
    out: str | None = None,
    snapshot: str | None = None,
    accounts: str | None = None,
) -> tuple[EventsRun, str]:
    """The run and the events file's text; ``out`` and ``snapshot`` are written when given
    (both only once everything has been read and derived)."""
    first = _quarter(first, "--from", before=bool(tickets_path))
    subs = subscriptions(read_csv(subscriptions_path))
    stretch = last is None
    if last is None:
        # (an end date after LAST's end, as a CRM's 9999-12-31 for "no end", is open-ended:
        # no quarter it could end in can be derived, and it does not stretch the default)
        no_end = quarter_start(next_quarter(LAST))
        ends = [s.end for s in subs if s.end and s.end <= no_end]
        days = [s.start for s in subs] + [e - dt.timedelta(days=1) for e in ends]
        last = min(max([first] + [quarter_of(d) for d in days]), LAST)
    last = _quarter(last, "--to")
    if last < first:
        raise UsageError(f"--to {last} is before --from {first}")
    sources = {"subscriptions": subscriptions_path}
    churn_rows = None
    if churn_path:
        churn_rows = churns(read_csv(churn_path), {s.account_id for s in subs})
        sources["churn"] = churn_path
    ticket_rows = None
    if tickets_path:
        ticket_rows = tickets(read_csv(tickets_path))
        sources["tickets"] = tickets_path
    portfolio = read_csv(accounts) if accounts else None
    if accounts:
        sources["accounts"] = accounts
    derived = derive(subs, first, last, churn_rows, ticket_rows)
    if stretch and derived.returns_after() and last < LAST:
        # the table reaches the quarter of a return that comes back in the next one
        derived = derive(subs, first, next_quarter(last), churn_rows, ticket_rows)
    run = EventsRun(derived, sources)
    text = events_csv(derived)
    snap = None
    if snapshot or portfolio is not None:
        snap, run.left_out = snapshot_csv(derived, portfolio)
    if out:
        _write(out, text)
        run.files["events"] = out
    if snapshot and snap is not None:
        _write(snapshot, snap)
        run.files["snapshot"] = snapshot
    return run, text
