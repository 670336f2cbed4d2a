"""Quarterly replay events derived from subscription history (docs/events.md, "Events from
subscription history").

An account is *in the book* on a day when one of its paid subscriptions (not a trial, nor
cancelled without an end date: when it stopped is unknown) is active that day (start date on
or before it, end date blank or after it: the end date is the day a subscription stops).  Each quarter compares the account on the quarter's first day with
the next quarter's first day:

- in the book at both: a *renewal* at the ending ARR when one of its subscriptions ended in
  the quarter and one that started in it (or on the next quarter's first day) is active at
  its end, else an *expansion* or a *contraction* by the change (none when equal);
- in the book at the start and not at the end: a *churn* (or, with a churn table, a churn in
  the quarter of its churn date, and the ARR changes otherwise); with a churn table, an
  account back (a subscription starting after the churn date) by the quarter's end comes
  back in the next quarter's *reactivation*, as a replay takes none in its churn's quarter;
- out of the book at the start and a paid subscription starting in the quarter (or on the
  next quarter's first day): a
  *new_account* (or a *reactivation* when it was in the book earlier in the range) at the
  ending ARR; a subscription that starts and ends within the quarter joins and churns in it;
- signals: `seats_licensed` when the seats change, and with a tickets table
  `open_escalations` (escalated tickets opened in the quarter) when the count changes.

Events are ordered by quarter, account id, then new/reactivation, the ARR event, signals,
churn: the same tables give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .quarters import next_quarter, previous_start, quarter_range, quarter_start
from .tables import Churn, Subscription, Ticket

Row = tuple[str, str, str, str, str]  # quarter, account_id, type, field, value


@dataclass(frozen=True)
class Start:
    """An account in the book on the first quarter's first day."""

    arr: int  # cents
    seats: int
    escalations: int | None  # None without a tickets table


@dataclass
class Derived:
    start: dt.date
    quarters: list[str]
    events: list[Row] = field(default_factory=list)
    book: dict[str, Start] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    churns_outside: int = 0  # churn records of accounts not in the book at the time
    cancelled_open: list[int] = field(default_factory=list)  # lines: cancelled, no end date
    # (quarter, account): back in the quarter it churned in, reactivated in the next one
    returns: list[tuple[str, str]] = field(default_factory=list)

    def returns_after(self) -> list[str]:
        """The accounts back in the last quarter they churned in: their reactivation would
        be in the quarter after the range."""
        return [a for q, a in self.returns if q == self.quarters[-1]]


def money(value: int) -> str:
    """Cents as the events file writes ARR: 1234.50."""
    return f"{value // 100}.{value % 100:02d}"


class _Account:
    def __init__(
        self, subs: list[Subscription], churns: list[dt.date], escalated: list[dt.date]
    ) -> None:
        self.subs, self.churns, self.escalated = subs, churns, escalated

    def arr(self, day: dt.date) -> int:
        return sum(s.arr for s in self.subs if s.active(day))

    def seats(self, day: dt.date) -> int:
        return sum(s.seats for s in self.subs if s.active(day))

    def present(self, day: dt.date, after: dt.date | None = None) -> bool:
        return any(s.active(day) and (after is None or s.start > after) for s in self.subs)

    def last_churn(self, before: dt.date) -> dt.date | None:
        return max((c for c in self.churns if c < before), default=None)

    def escalations(self, start: dt.date, end: dt.date) -> int:
        return sum(start <= d < end for d in self.escalated)


def derive(
    subscriptions: list[Subscription],
    first: str,
    last: str,
    churns: list[Churn] | None = None,
    tickets: list[Ticket] | None = None,
) -> Derived:
    """The events of the quarters ``first``..``last`` and the book at ``first``'s start;
    churn from ``churns`` when given, else from the subscriptions ending."""
    paid: dict[str, list[Subscription]] = defaultdict(list)
    open_cancelled = []
    for s in subscriptions:
        if s.trial:
            continue
        if s.cancelled and s.end is None:
            open_cancelled.append(s.line)  # (an inputs file's `status = active` agrees)
        else:
            paid[s.account_id].append(s)
    churn_dates: dict[str, list[dt.date]] = defaultdict(list)
    for c in churns or []:
        churn_dates[c.account_id].append(c.date)
    escalated: dict[str, list[dt.date]] = defaultdict(list)
    for t in tickets or []:
        if t.escalated:
            escalated[t.account_id].append(t.opened)
    quarters = quarter_range(first, last)
    out = Derived(quarter_start(first), quarters, cancelled_open=sorted(open_cancelled))
    for account_id in sorted(paid):
        account = _Account(paid[account_id], churn_dates[account_id], escalated[account_id])
        _account(out, account_id, account, churns is not None, tickets is not None)
    out.events.sort(key=lambda r: (r[0], r[1]))  # stable: each account's order is kept
    out.returns.sort()
    out.counts = Counter(r[2] for r in out.events)
    return out


def _account(out: Derived, account_id: str, a: _Account, by_table: bool, tickets: bool) -> None:
    s0 = out.start
    cut = a.last_churn(s0) if by_table else None
    in_book = a.present(s0, cut)
    seen = in_book
    if in_book:
        escalations = a.escalations(previous_start(out.quarters[0]), s0) if tickets else None
        out.book[account_id] = Start(a.arr(s0), a.seats(s0), escalations)
    for q in out.quarters:
        s, n = quarter_start(q), quarter_start(next_quarter(q))
        rows: list[tuple[str, str, str]] = []
        churned_now = [c for c in a.churns if s <= c < n] if by_table else []
        if in_book:
            if (by_table and churned_now) or (not by_table and not a.present(n)):
                out.events.append((q, account_id, "churn", "", ""))
                in_book = False
                if by_table and a.present(n, max(churned_now)):
                    out.returns.append((q, account_id))
                continue
            before, after = a.arr(s), a.arr(n)
            ended = any(x.active(s) and x.end is not None and x.end <= n for x in a.subs)
            renewed = any(x.active(n) and s <= x.start <= n for x in a.subs)
            if ended and renewed:
                rows.append(("renewal", "arr", money(after)))
            elif after != before:
                kind = "expansion" if after > before else "contraction"
                rows.append((kind, "arr", money(abs(after - before))))
            if a.seats(n) != a.seats(s):
                rows.append(("signal", "seats_licensed", str(a.seats(n))))
            if tickets:
                now = a.escalations(s, n)
                if now != a.escalations(previous_start(q), s):
                    rows.append(("signal", "open_escalations", str(now)))
        else:
            out.churns_outside += len(churned_now)
            cut = a.last_churn(n) if by_table else None
            # (one that starts on the next quarter's first day is in the book at this
            # quarter's end, as a renewal's is; one active at the start came back in the
            # quarter before, after its churn there)
            starts = [
                x
                for x in a.subs
                if (s <= x.start <= n or x.active(s)) and (cut is None or x.start > cut)
            ]
            if not starts:
                continue
            stays = a.present(n)
            arr = a.arr(n) if stays else sum(x.arr for x in starts)
            seats = a.seats(n) if stays else sum(x.seats for x in starts)
            rows.append(("reactivation" if seen else "new_account", "arr", money(arr)))
            if seats:
                rows.append(("signal", "seats_licensed", str(seats)))
            if tickets and a.escalations(s, n):
                rows.append(("signal", "open_escalations", str(a.escalations(s, n))))
            in_book = seen = True
            if not stays:  # started and ended within the quarter
                rows.append(("churn", "", ""))
                in_book = False
        out.events += [(q, account_id, *r) for r in rows]
