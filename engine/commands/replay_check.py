"""The whole events file checked before a replay evaluates or stores anything.

With ``--on-error fail`` a bad event (an unknown account in 2028Q1, an event after a
churn, a signal value that does not read) must stop the replay before its first quarter is
kept: every quarter's account events are applied, in order, to copies of the accounts they
touch (``ApplyEvents.apply``, the same code the replay runs, so the two cannot disagree),
and every problem of the file is reported at once.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..portfolio.events import Event, quarter_end

if TYPE_CHECKING:
    import datetime as dt

    from .replay_apply import AccountState, ApplyEvents


class _Copies(MutableMapping[str, "AccountState"]):
    """The replay's accounts as a check sees them: an account is copied when first read
    (its inputs too: events change them), so the replay's own are left as they were."""

    def __init__(self, states: dict[str, AccountState]) -> None:
        self.states = states
        self.copies: dict[str, AccountState] = {}

    def __getitem__(self, key: str) -> AccountState:
        found = self.copies.get(key)
        if found is None:
            state = self.states[key]
            found = copy.copy(state)  # (what dataclasses.replace makes, without its __init__)
            found.inputs = dict(state.inputs)
            self.copies[key] = found
        return found

    def get(self, key: str, default: Any = None) -> Any:  # (asked of every event)
        found = self.copies.get(key)
        if found is not None:
            return found
        return self[key] if key in self.states else default

    def __setitem__(self, key: str, value: AccountState) -> None:
        self.copies[key] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("a replay never removes an account")

    def __iter__(self) -> Iterator[str]:
        return iter(self.states.keys() | self.copies.keys())

    def __len__(self) -> int:
        return len(self.states.keys() | self.copies.keys())

    def __contains__(self, key: object) -> bool:
        return key in self.copies or key in self.states


def check_events(sim: ApplyEvents, events: list[Event], as_of: dt.date) -> None:
    """Raise DataError with every bad event of ``events`` (``sim``: a replay that stops at
    bad input, before its first quarter)."""
    by_quarter: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_quarter[e.quarter].append(e)
    states = _Copies(sim.states)
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
        f"quarter {quarter} ends before the start date {as_of.isoformat()}: replay starts "
        "from the portfolio as of that date"
    )
