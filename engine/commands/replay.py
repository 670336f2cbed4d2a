"""`tierbook replay`: quarter by quarter, apply events, re-evaluate, apply transitions,
and watch the re-calibration triggers (docs/language.md).

Band boundaries are resolved once, on the starting portfolio, and held fixed: a replay
shows how the book drifts against the model as calibrated, and the triggers say when the
model itself needs re-calibrating.

The accounts are held in parts (``replay_part.Part``: on one machine a single part, on a
Dask cluster one per worker, tierbook.distributed.replay); what is whole-book is here: the
bands, capacity_change and product_launch events, churn rates, triggers, the ARR bridge's
totals and checks, capacity and the quarter's sorted lists, from the parts' quarters taken
in part order (the book's own account order).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..assess.bridge import add_sums, bridge_rows, check_held
from ..assess.replay_result import Quarter, Replay, quarter_capacity
from ..assess.replay_rows import band_methods, largest_first
from ..assess.triggers import TriggerWatch, rates_of
from ..errors import DataError, Problem
from ..evaluate.bands import ResolvedBands, resolve_all
from ..evaluate.run import Evaluation
from ..portfolio.events import Event, quarter_end
from ..ruleset.model import Ruleset
from .replay_check import before_start
from .replay_part import Part
from .replay_said import Held, Key, PartQuarter, Pending


class Parts(Protocol):
    """A replay's book in parts, each call answered by every part, in part order."""

    def check(self, events: list[Event], as_of: dt.date) -> list[list[tuple[Key, Problem]]]: ...

    def start_values(self, as_of: dt.date) -> list[dict[str, list[float]]]: ...

    def begin(self, as_of: dt.date, bands: dict[str, ResolvedBands]) -> list[Held]: ...

    def plan(self, quarters: list[tuple[str, list[Event]]]) -> None:
        """The quarters the replay will replay, in order, with their events."""
        ...

    def apply(self, quarter: str, events: list[Event], values: bool) -> list[Pending] | None:
        """(None: nothing to say yet, the parts' problems come with ``quarter``'s.)"""
        ...

    def quarter(
        self, quarter: str, count: int, bands: dict[str, ResolvedBands]
    ) -> list[PartQuarter]: ...

    def evaluation(self, found: list[PartQuarter], as_of: dt.date) -> Evaluation:
        """The book's evaluation of the quarter (what the trace store keeps)."""
        ...

    def account_events(self, events: list[Event]) -> dict[str, list[dict[str, Any]]]:
        """The quarter's ``events`` by account, as the report lists them."""
        ...


PartsOf = Callable[[Ruleset, Sequence[dict[str, Any]], str, bool, str, str, Any], Parts]


class OneMachine:
    """The whole book as one part, in this process."""

    def __init__(self, part: Part) -> None:
        self.part = part

    def check(self, events: list[Event], as_of: dt.date) -> list[list[tuple[Key, Problem]]]:
        return [self.part.check(events, as_of)]

    def start_values(self, as_of: dt.date) -> list[dict[str, list[float]]]:
        return [self.part.start_values(as_of)]

    def begin(self, as_of: dt.date, bands: dict[str, ResolvedBands]) -> list[Held]:
        return [self.part.begin(as_of, bands)]

    def plan(self, quarters: list[tuple[str, list[Event]]]) -> None:
        pass

    def apply(self, quarter: str, events: list[Event], values: bool) -> list[Pending] | None:
        return [self.part.apply_quarter(quarter, events, values)]

    def quarter(
        self, quarter: str, count: int, bands: dict[str, ResolvedBands]
    ) -> list[PartQuarter]:
        return [self.part.quarter(quarter, count, bands)]

    def evaluation(self, found: list[PartQuarter], as_of: dt.date) -> Evaluation:
        assert found[0].ev is not None
        return found[0].ev

    def account_events(self, events: list[Event]) -> dict[str, list[dict[str, Any]]]:
        """(The one part was given every event of the quarter: it has them by account.)"""
        return self.part.seen


def joined_columns(columns: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    """The parts' band values one after the other: the book's, in its account order."""
    out: dict[str, list[float]] = {}
    for c in columns:
        for over, values in c.items():
            out.setdefault(over, []).extend(values)
    return out


def _in_order(found: Sequence[Sequence[tuple[Key, Any]]]) -> list[Any]:
    """The parts' problems (or skipped events) in the order one pass over the events finds
    them: by quarter, an event's own before a new account's missing input, by line."""
    return [x for _, x in sorted((k for f in found for k in f), key=lambda kx: kx[0])]


class _Sim:
    def __init__(
        self,
        ruleset: Ruleset,
        accounts: Sequence[dict[str, Any]],
        as_of: dt.date,
        engine: str,
        memo: bool,
        on_error: str,
        events_file: str,
        events: list[Event] | None = None,
        pins: Any = None,  # overrides.replay.Pins: overrides honoured through the quarters
        *,
        parts: Parts | None = None,
    ) -> None:
        """``events``: with ``on_error`` fail, checked whole before anything is evaluated
        (``replay_check``); ``parts``: the book held elsewhere (by default, in one part
        here)."""
        self.rs, self.pins = ruleset, pins
        self.on_error = on_error
        self.file = events_file
        self.parts: Parts = parts or OneMachine(
            Part(ruleset, accounts, engine, memo, on_error, events_file, pins)
        )
        self.problems: list[Problem] = []
        self.skipped: list[dict[str, Any]] = []
        self.ignored: Counter[str] = Counter()
        if events is not None and on_error != "skip":
            early = [(q, e) for q, e in _by_quarter(events) if quarter_end(q) <= as_of]
            found: list[list[tuple[Key, Problem]]] = [
                [((q, -1, e[0].line), self._problem(e[0], before_start(q, as_of)))]
                for q, e in early
            ]
            later = [e for e in events if quarter_end(e.quarter) > as_of]
            self.problems = _in_order(found + self.parts.check(later, as_of))
            if self.problems:
                raise DataError(
                    f"{self.file}: {len(self.problems)} bad event(s)", self.problems[:200]
                )
        self.bands = resolve_all(ruleset, joined_columns(self.parts.start_values(as_of)))
        # an empty book has nothing to resolve bands on: the first quarter's accounts do
        self.bands_pending = not accounts
        self.total_csms = ruleset.capacity.available
        self.base_csms = self.total_csms
        self.quarter_count = 0
        # the values the bands were resolved from are the starting evaluation's values
        self.book = self.parts.begin(as_of, self.bands)
        self.engine_used = self.book[0].engine
        self.band_report = band_methods(self.bands)
        self.triggers = TriggerWatch(ruleset, self._tier_arr(), self.total_csms)
        self.start = {
            "as_of": as_of.isoformat(),
            "tiers": self._tier_summary(),
            "csms": self.total_csms,
            "bands": self.band_report,
        }
        self.last: list[PartQuarter] = []

    # -- helpers -------------------------------------------------------------------------
    def _tier_arr(self) -> dict[str, float]:
        out = {t: 0.0 for t in self.rs.tier_ids}
        for part in self.book:
            for tier, arr in zip(part.tiers, part.arrs):
                out[tier] += arr
        return out

    def _tier_summary(self) -> dict[str, dict[str, Any]]:
        counts = Counter(t for part in self.book for t in part.tiers)
        arr = self._tier_arr()
        return {
            t: {"accounts": counts.get(t, 0), "arr": round(arr[t], 2)} for t in self.rs.tier_ids
        }

    def _problem(self, event: Event, message: str) -> Problem:
        return Problem(
            self.file, event.line, event.column("quarter"), "quarter", message, "bad-event"
        )

    def _fail(self, event: Event, column: str, message: str) -> None:
        p = Problem(self.file, event.line, event.column(column), column, message, "bad-event")
        if self.on_error == "skip":
            self.skipped.append({"line": event.line, "reasons": [str(p)]})
        else:
            self.problems.append(p)

    def evaluation(self, as_of: dt.date) -> Evaluation:
        """The book's evaluation of the last quarter replayed."""
        return self.parts.evaluation(self.last, as_of)

    def _resolve_bands(self, found: list[Pending], as_of: dt.date) -> None:
        """The bands of a replay that starts from an empty book: resolved on the accounts
        served at the end of its first quarter with any (or, if all of them churned in it,
        on those), and held fixed from then on."""
        served = any(p.served for p in found)
        columns = [p.served_values if served else p.gone_values for p in found]
        self.bands = resolve_all(self.rs, joined_columns(columns))
        self.band_report = band_methods(self.bands)
        self.start |= {"bands": self.band_report, "bands_as_of": as_of.isoformat()}
        self.bands_pending = False

    # -- one quarter -----------------------------------------------------------------------
    def quarter(self, quarter: str, events: list[Event]) -> Quarter:
        self.quarter_count += 1
        as_of = quarter_end(quarter)
        launches: list[str] = []
        skipped_before = len(self.skipped)
        for e in events:
            if e.type == "capacity_change":
                self.total_csms = e.fields["csms"]
            elif e.type == "product_launch":
                launches.append(e.value)
        applied = self.parts.apply(quarter, events, self.bands_pending)
        if applied is not None:
            self._applied(applied)
            if self.bands_pending and any(p.served or p.gone_new for p in applied):
                self._resolve_bands(applied, as_of)
        self.last = []  # the previous quarter is stored: do not hold two in memory
        found = self.last = self.parts.quarter(quarter, self.quarter_count, self.bands)
        if applied is None:
            self._applied([p.pending for p in found if p.pending is not None])
        # the quarter's counts are of the events applied: a skipped one changed nothing
        left_out = {s["line"] for s in self.skipped[skipped_before:]}
        counts: Counter[str] = Counter(e.type for e in events if e.line not in left_out)
        return self._merged(quarter, as_of, events, counts, launches, found)

    def _applied(self, found: list[Pending]) -> None:
        self.skipped += _in_order([p.skipped for p in found])
        problems = _in_order([p.problems for p in found])
        if problems:
            self.problems += problems
            raise DataError(f"{self.file}: {len(self.problems)} bad event(s)", self.problems[:200])

    def _merged(
        self,
        quarter: str,
        as_of: dt.date,
        events: list[Event],
        counts: Counter[str],
        launches: list[str],
        found: list[PartQuarter],
    ) -> Quarter:
        rs = self.rs
        matrix = {t: {u: 0 for u in rs.tier_ids} for t in rs.tier_ids}
        churn_by_tier: Counter[str] = Counter()
        served: Counter[str] = Counter()
        held_cents: Counter[str] = Counter()
        started: Counter[str] = Counter()
        sums = {t: {k: 0 for k in row} for t, row in found[0].bridge.items()}
        moved = gone = 0
        for p in found:
            for t, row in p.matrix.items():
                for u, n in row.items():
                    matrix[t][u] += n
            churn_by_tier.update(p.churned_tier.values())
            served.update(p.served)
            held_cents.update(p.held_cents)
            started.update(p.started_cents)
            add_sums(sums, p.bridge)
            moved, gone = moved + p.moved, gone + p.gone
            self.ignored.update(p.ignored)
            if self.pins is not None:
                self.pins.notes.setdefault(quarter, {}).update(p.notes)
        self.book = [p.book for p in found]
        rates = rates_of(rs, served, churn_by_tier)
        all_rate = {"all": gone / moved} if moved else {}
        bridge = bridge_rows(rs, quarter, sums, rates | all_rate)
        check_held(quarter, bridge, held_cents, started)
        triggers = self.triggers.quarter(
            quarter, self._tier_arr(), self.total_csms, rates, launches
        )
        summary = self._tier_summary()

        def every(name: str) -> list[dict[str, Any]]:
            return [row for p in found for row in getattr(p, name)]

        def each(name: str) -> dict[str, str]:
            return {k: v for p in found for k, v in getattr(p, name).items()}

        def by_arr(name: str) -> list[dict[str, Any]]:
            return sorted(every(name), key=lambda m: (-m["arr"], m["account_id"]))

        quarter_report = Quarter(
            quarter,
            as_of,
            summary,
            matrix,
            by_arr("moves"),
            by_arr("held"),
            by_arr("reviews"),
            {"raised": every("raised"), "cleared": every("cleared")},
            triggers,
            quarter_capacity(rs, summary, self.total_csms, self.base_csms),
            {t: churn_by_tier.get(t, 0) for t in rs.tier_ids},
            sum(p.new for p in found),
            sum(p.drift for p in found),
            dict(sorted(counts.items())),
            drifted=each("drifted"),
            churned_accounts=each("churned_tier"),
            joined=each("joined"),
            account_events=self.parts.account_events(events),
            bands=self.band_report,
            reactivated=each("rejoined"),
            arr_bridge=bridge,
        )
        quarter_report.named = {
            kind: largest_first([row for p in found for row in p.named[kind]])
            for kind in ("joined", "churned", "reactivated")
        }
        return quarter_report


def _by_quarter(events: list[Event]) -> list[tuple[str, list[Event]]]:
    by_quarter: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_quarter[e.quarter].append(e)
    return sorted(by_quarter.items())


def replay(
    ruleset: Ruleset,
    accounts: Sequence[dict[str, Any]],
    events: list[Event],
    *,
    as_of: dt.date,
    engine: str = "auto",
    memo: bool = True,
    on_error: str = "fail",
    events_file: str = "events",
    skipped: list[dict[str, Any]] | None = None,
    on_quarter: Callable[[Quarter, Evaluation], None] | None = None,
    pins: Any = None,
    parts: PartsOf | None = None,
) -> Replay:
    """``on_quarter(report, evaluation)`` is called as each quarter is done; with
    ``on_error`` fail, only once every event has been checked. ``parts``: the book held
    elsewhere than in this process (tierbook.distributed.replay), given what a ``Part``
    is given."""
    book = None
    if parts is not None:
        book = parts(ruleset, accounts, engine, memo, on_error, events_file, pins)
    sim = _Sim(
        ruleset, accounts, as_of, engine, memo, on_error, events_file, events, pins, parts=book
    )
    return _replay(sim, events, as_of, skipped, on_quarter)


def _replay(
    sim: _Sim,
    events: list[Event],
    as_of: dt.date,
    skipped: list[dict[str, Any]] | None,
    on_quarter: Any,
) -> Replay:
    ruleset = sim.rs
    quarters = []
    sim.parts.plan([(q, e) for q, e in _by_quarter(events) if quarter_end(q) > as_of])
    for q, of_quarter in _by_quarter(events):
        if quarter_end(q) <= as_of:
            sim._fail(of_quarter[0], "quarter", before_start(q, as_of))
            if sim.problems:
                raise DataError("events before start", sim.problems)
            continue
        report = sim.quarter(q, of_quarter)
        if on_quarter:
            on_quarter(report, sim.evaluation(quarter_end(q)))
        quarters.append(report)
    return Replay(
        ruleset,
        sim.bands,
        sim.start,
        quarters,
        sorted((skipped or []) + sim.skipped, key=lambda s: int(s["line"])),
        sim.ignored,
        sim.engine_used,
    )
