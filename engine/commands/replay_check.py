"""The whole events file checked before a replay evaluates or stores anything.

With ``--on-error fail`` a bad event (an unknown account in 2028Q1, an event after a
churn, a signal value that does not read) must stop the replay before its first quarter is
kept: every quarter's account events are applied, in order, to copies of the accounts
(``ApplyEvents.apply``, the same code the replay runs, so the two cannot disagree; an
``AccountState.copy`` reads its inputs through to the account's own until one is written),
and every problem of the file is reported at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from ..errors import DataError
from ..portfolio.events import Event, quarter_end

if TYPE_CHECKING:
    import datetime as dt

    from .replay_apply import ApplyEvents


def check_events(sim: ApplyEvents, events: list[Event], as_of: dt.date) -> None:
    """Raise DataError with every bad event of ``events`` (``sim``: a replay that stops at
    bad input, before its first quarter)."""
    by_quarter: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_quarter[e.quarter].append(e)
    # each account copied once, up front: the check then reads a plain dict per event
    states = {k: state.copy() for k, state in sim.states.items()}
    ignored: Counter[str] = Counter()  # (counted by the replay itself)
    for quarter in sorted(by_quarter):
        if quarter_end(quarter) <= as_of:
            sim._fail(by_quarter[quarter][0], "quarter", before_start(quarter, as_of))
            continue
        sim.apply(quarter, by_quarter[quarter], states, ignored)
    if sim.problems:
        raise DataError(f"{sim.file}: {len(sim.problems)} bad event(s)", sim.problems[:200])


def before_start(quarter: str, as_of: dt.date) -> str:
    return (
        f"quarter {quarter} ends {'on' if quarter_end(quarter) == as_of else 'before'} the "
        f"start date {as_of.isoformat()}: replay starts from the portfolio as of that date, "
        "with the quarters after it"
    )
