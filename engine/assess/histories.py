"""The history the transition rules read (``history.quarters_in_tier``,
``history.quarters_since.<event type>``, ``history.consecutive.<band set or decision>``,
``previous_tier``: docs/language.md), kept for a replay part's accounts as columns, one
row per account in the part's order, and updated a quarter at a time for all of them.

``quarters_since`` is kept as the replay quarter of the kind's latest event (0: the start,
or the quarter an account joined in), so that a quarter without the event needs no
update; a streak as the code of its current value and its run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from ..portfolio.event_types import ACCOUNT_TYPES

Rows = np.ndarray[Any, np.dtype[np.int64]]

_ABSENT = -2  # a path whose decision has no value for a streak's key: its run is kept
_NONE = -1  # a streak not started yet (its run is 0)


class _Streak:
    """One band set's or decision's streak per account: the code of the value it runs
    with and the quarters in a row it has had that value."""

    def __init__(self, size: int) -> None:
        self.codes = np.full(size, _NONE, dtype=np.int64)
        self.runs = np.zeros(size, dtype=np.int64)
        self.known: dict[Any, int] = {}  # value -> code: equal values, one code

    def code(self, value: Any) -> int:
        return self.known.setdefault(value, len(self.known))

    def grow(self, size: int) -> None:
        more = size - len(self.runs)
        self.codes = np.concatenate([self.codes, np.full(more, _NONE, dtype=np.int64)])
        self.runs = np.concatenate([self.runs, np.zeros(more, dtype=np.int64)])


class Histories:
    """The transition history of a replay part's accounts (``rows``: their positions)."""

    def __init__(self, tier_ids: Sequence[str], size: int = 0) -> None:
        self.tier_ids = list(tier_ids)
        self.tier_code = {t: k for k, t in enumerate(self.tier_ids)}
        self.dwell = np.zeros(size, dtype=np.int64)  # quarters in the held tier
        self.previous = np.full(size, -1, dtype=np.int64)  # tier code (-1: the held tier)
        self.seen = {kind: np.zeros(size, dtype=np.int64) for kind in sorted(ACCOUNT_TYPES)}
        self.streaks: dict[str, _Streak] = {}

    @property
    def size(self) -> int:
        return len(self.dwell)

    def grow(self, size: int) -> None:
        """Room for accounts up to ``size`` (those new to the part: no history yet)."""
        more = size - self.size
        if more <= 0:
            return
        self.dwell = np.concatenate([self.dwell, np.zeros(more, dtype=np.int64)])
        self.previous = np.concatenate([self.previous, np.full(more, -1, dtype=np.int64)])
        self.seen = {
            k: np.concatenate([v, np.zeros(more, dtype=np.int64)]) for k, v in self.seen.items()
        }
        for streak in self.streaks.values():
            streak.grow(size)

    def tier(self, tier: str) -> int:
        """A tier's code (-1 for none: the held tier stands for it)."""
        if not tier:
            return -1
        if tier not in self.tier_code:  # (a test case may name any previous tier)
            self.tier_code[tier] = len(self.tier_ids)
            self.tier_ids.append(tier)
        return self.tier_code[tier]

    def tiers(self, tiers: Iterable[str]) -> Rows:
        values = list(tiers)
        for tier in set(values):
            self.tier(tier)
        code = self.tier_code  # ("" is none: -1)
        return np.array([code.get(t, -1) for t in values], dtype=np.int64)

    def count_quarter(self, seen: Mapping[str, Rows], quarter: int) -> None:
        """One more quarter: a kind the accounts at ``seen[kind]`` had this quarter (an
        event, or a signal the ruleset computes) is 0 quarters ago for them, every other
        one more than before."""
        for kind, rows in seen.items():
            if kind in ACCOUNT_TYPES:  # (a quarter counts an account's own kinds only)
                self.seen[kind][rows] = quarter

    def count_streaks(
        self, rows: Rows, path_of: Rows, current: Sequence[Mapping[str, Any]]
    ) -> None:
        """One more quarter of each band's and decision's streak of the accounts ``rows``,
        each on its path (``path_of``, into ``current``: what each path decided)."""
        for key in sorted({k for c in current for k in c}):
            streak = self.streaks.get(key)
            if streak is None:
                streak = self.streaks[key] = _Streak(self.size)
            by_path = np.array(
                [streak.code(c[key]) if key in c else _ABSENT for c in current], dtype=np.int64
            )
            code = by_path[path_of]
            present = code != _ABSENT
            at, code = rows[present], code[present]
            same = streak.codes[at] == code
            streak.runs[at] = np.where(same, streak.runs[at] + 1, 1)
            streak.codes[at] = code

    def start_over(self, rows: Rows, tiers: Rows, quarter: int) -> None:
        """Accounts that join (or come back) in ``quarter``, in their ``tiers``: it is their
        first quarter in the tier, and every kind's count starts from it."""
        self.dwell[rows] = 0
        self.previous[rows] = tiers
        for seen in self.seen.values():
            seen[rows] = quarter

    def moved(self, rows: Rows) -> None:
        """A move uses up the streak that earned it: the next one needs a new streak."""
        self.dwell[rows] = 0
        for streak in self.streaks.values():
            streak.runs[rows] = 0

    def give(
        self,
        row: int,
        *,
        quarters_in_tier: int,
        previous_tier: str,
        quarters_since: Mapping[str, int],
        consecutive: Mapping[str, int],
        replay_quarters: int,
    ) -> None:
        """The account at ``row``'s history given outright, as it reads at quarter
        ``replay_quarters`` (a kind not given: none since the start; a streak: its run)."""
        self.dwell[row] = quarters_in_tier
        self.previous[row] = self.tier(previous_tier)
        for kind, since in quarters_since.items():
            self.seen.setdefault(kind, np.zeros(self.size, dtype=np.int64))[row] = (
                replay_quarters - since
            )
        for key, run in consecutive.items():
            streak = self.streaks.get(key)
            if streak is None:
                streak = self.streaks[key] = _Streak(self.size)
            streak.runs[row] = run

    def fields(self, rows: Rows, names: Iterable[str], quarter: int) -> pl.DataFrame:
        """The accounts ``rows``' history as the transition rules read it, at replay
        quarter ``quarter``: ``previous_tier`` (null: none yet), ``\\0dwell`` and each of
        the ``history.`` fields ``names``."""
        previous = self.previous[rows]
        codes = pl.Series(np.where(previous < 0, len(self.tier_ids), previous), dtype=pl.UInt32)
        tiers = pl.Series([*self.tier_ids, None], dtype=pl.String)
        columns = {"previous_tier": tiers.gather(codes), "\0dwell": pl.Series(self.dwell[rows])}
        for name in names:
            columns[name] = pl.Series(name, self._field(name, rows, quarter), dtype=pl.Int64)
        return pl.DataFrame(columns)

    def _field(self, name: str, rows: Rows, quarter: int) -> Rows:
        if name == "history.quarters_in_tier":
            return self.dwell[rows]
        kind, key = (
            name.removeprefix("history.quarters_since."),
            name.removeprefix("history.consecutive."),
        )
        if kind != name:
            seen = self.seen.get(kind)
            return quarter - (seen[rows] if seen is not None else np.zeros(len(rows), np.int64))
        if key != name and key in self.streaks:
            return self.streaks[key].runs[rows]
        return np.zeros(len(rows), dtype=np.int64)


def one_history(
    tier_ids: Sequence[str],
    *,
    quarters_in_tier: int,
    previous_tier: str,
    quarters_since: Mapping[str, int],
    consecutive: Mapping[str, int],
    replay_quarters: int,
) -> Histories:
    """One account's history given outright (a rule test case's), at ``replay_quarters``."""
    h = Histories(tier_ids, 1)
    h.give(
        0,
        quarters_in_tier=quarters_in_tier,
        previous_tier=previous_tier,
        quarters_since=quarters_since,
        consecutive=consecutive,
        replay_quarters=replay_quarters,
    )
    return h
