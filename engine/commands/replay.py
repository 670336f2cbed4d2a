"""`tierbook replay`: quarter by quarter, apply events, re-evaluate, apply transitions,
and watch the re-calibration triggers (docs/language.md).

Band boundaries are resolved once, on the starting portfolio, and held fixed: a replay
shows how the book drifts against the model as calibrated, and the triggers say when the
model itself needs re-calibrating.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from ..assess.bridge import Movement, cents, check_held, quarter_bridge
from ..assess.replay_result import Quarter, Replay, quarter_capacity
from ..assess.replay_rows import account_events, band_methods, move_row, named_accounts
from ..assess.transitions import decide, signals_held
from ..assess.triggers import TriggerWatch, churn_rates
from ..errors import DataError, Problem
from ..evaluate.run import Evaluation, evaluate, resolve_bands, values_frame
from ..portfolio.cells import parser as _parser
from ..portfolio.events import ACCOUNT_TYPES, Event, quarter_end
from ..portfolio.headers import InputNames
from ..ruleset.model import Ruleset
from .replay_apply import AccountState, ApplyEvents
from .replay_check import before_start, check_events


class _Sim(ApplyEvents):
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
    ) -> None:
        """``events``: with ``on_error`` fail, checked whole before anything is evaluated
        (``replay_check``)."""
        self.rs, self.pins = ruleset, pins
        self.engine = engine
        self.memo = memo
        self.on_error = on_error
        self.file = events_file
        self.arr_field = ruleset.role("arr") or "arr"
        self.inputs = {i.id: i for i in ruleset.inputs}
        self.input_names = InputNames(ruleset)  # an event's field by id or alias
        self.parsers = {i.id: _parser(i) for i in ruleset.inputs}
        self.states: dict[str, AccountState] = {
            str(a["account_id"]): AccountState(dict(a)) for a in accounts
        }
        self.problems: list[Problem] = []
        self.skipped: list[dict[str, Any]] = []
        self.ignored: Counter[str] = Counter()
        if events is not None and on_error != "skip":
            check_events(self, events, as_of)
        start = values_frame(ruleset, accounts, as_of)
        self.bands = resolve_bands(ruleset, start)
        # an empty book has nothing to resolve bands on: the first quarter's accounts do
        self.bands_pending = not accounts
        self.total_csms = ruleset.capacity.available
        self.base_csms = self.total_csms
        self.quarter_count = 0
        # the values the bands were resolved from are the starting evaluation's values
        base = evaluate(ruleset, start, as_of, engine=self.engine, memo=self.memo, bands=self.bands)
        del start
        for d in base.decisions:
            st = self.states[d.account_id]
            st.flags = pins.flags(d.account_id, as_of, list(d.flags))[0] if pins else list(d.flags)
            st.held = pins.start(d.account_id, as_of, d.tier) if pins else d.tier
            st.placed_bands = d.bands
            # tenure before the start is unknown: the starting tier counts as established
            st.history.quarters_in_tier = max(1, ruleset.min_dwell_quarters)
            st.history.previous_tier = d.tier
            self._update_consecutive(st, d)
        self.band_report = band_methods(self.bands)
        self.triggers = TriggerWatch(ruleset, self._tier_arr(), self.total_csms)
        self.start = {
            "as_of": as_of.isoformat(),
            "tiers": self._tier_summary(),
            "csms": self.total_csms,
            "bands": self.band_report,
        }
        self.last_eval: Evaluation = base

    # -- helpers -------------------------------------------------------------------------
    def _evaluate(self, ids: list[str], as_of: dt.date) -> Evaluation:
        accounts = [self.states[i].inputs for i in ids]
        return evaluate(
            self.rs,
            values_frame(self.rs, accounts, as_of),
            as_of,
            engine=self.engine,
            memo=self.memo,
            bands=self.bands,
        )

    def _active(self) -> list[str]:
        return [i for i, s in self.states.items() if not s.churned_in]

    def _tier_arr(self) -> dict[str, float]:
        out = {t: 0.0 for t in self.rs.tier_ids}
        for i in self._active():
            s = self.states[i]
            out[s.held] += float(s.inputs.get(self.arr_field) or 0.0)
        return out

    def _tier_summary(self) -> dict[str, dict[str, Any]]:
        counts = Counter(self.states[i].held for i in self._active())
        arr = self._tier_arr()
        return {
            t: {"accounts": counts.get(t, 0), "arr": round(arr[t], 2)} for t in self.rs.tier_ids
        }

    def _update_consecutive(self, st: AccountState, d: Any) -> None:
        current = dict(d.bands) | {k: v for k, v in d.decisions.items() if not isinstance(v, list)}
        for key, value in current.items():
            prev, run = st.history.consecutive.get(key, (None, 0))
            st.history.consecutive[key] = (value, run + 1 if prev == value else 1)

    def _fail(self, event: Event, column: str, message: str) -> None:
        p = Problem(self.file, event.line, 1, column, message, "bad-event")
        if self.on_error == "skip":
            self.skipped.append({"line": event.line, "reasons": [str(p)]})
        else:
            self.problems.append(p)

    def _resolve_bands(self, ids: list[str], as_of: dt.date) -> None:
        """The bands of a replay that starts from an empty book: resolved on the accounts
        served at the end of its first quarter with any (or, if all of them churned in it,
        on those), and held fixed from then on."""
        accounts = [self.states[i].inputs for i in ids]
        self.bands = resolve_bands(self.rs, values_frame(self.rs, accounts, as_of))
        self.band_report = band_methods(self.bands)
        self.start |= {"bands": self.band_report, "bands_as_of": as_of.isoformat()}
        self.bands_pending = False

    def _bridge(
        self,
        quarter: str,
        start_tier: dict[str, str],
        start_arr: dict[str, int],
        joined: dict[str, str],
        rejoined: dict[str, str],
        rates: dict[str, float],
    ) -> list[dict[str, Any]]:
        """The quarter's ARR bridge (assess.bridge), checked against the book it ends with."""
        moved: dict[str, Movement] = {}
        for i, tier in start_tier.items():
            st = self.states[i]
            end = cents(st.inputs.get(self.arr_field))
            moved[i] = Movement(tier, start_arr[i], st.held, end, churned=bool(st.churned_in))
        for kind, entered in (("new", joined), ("reactivated", rejoined)):
            for i, tier in entered.items():
                st = self.states[i]
                end = cents(st.inputs.get(self.arr_field))
                moved[i] = Movement("", 0, tier, end, kind, churned=bool(st.churned_in))
        served = len(moved)
        gone = sum(m.churned for m in moved.values())
        all_rate = {"all": gone / served} if served else {}
        rows = quarter_bridge(self.rs, quarter, moved, rates | all_rate)
        held: Counter[str] = Counter()
        for i in self._active():
            held[self.states[i].held] += cents(self.states[i].inputs.get(self.arr_field))
        started: Counter[str] = Counter()
        for i, tier in start_tier.items():
            started[tier] += start_arr[i]
        check_held(quarter, rows, held, started)
        return rows

    # -- one quarter -----------------------------------------------------------------------
    def quarter(self, quarter: str, events: list[Event]) -> Quarter:
        self.quarter_count += 1
        as_of = quarter_end(quarter)
        start_tier = {i: self.states[i].held for i in self._active()}
        start_arr = {i: cents(self.states[i].inputs.get(self.arr_field)) for i in start_tier}
        launches: list[str] = []
        counts: Counter[str] = Counter(e.type for e in events)
        seen = account_events(events)
        for e in events:
            if e.type == "capacity_change":
                self.total_csms = e.fields["csms"]
            elif e.type == "product_launch":
                launches.append(e.value)
        done = self.apply(quarter, events, self.states, self.ignored)
        touched, churned, new = done.touched, done.churned, done.new
        if self.problems:
            raise DataError(f"{self.file}: {len(self.problems)} bad event(s)", self.problems[:200])
        ids = self._active()
        came = new + done.reactivated
        gone_new = [i for i in came if self.states[i].churned_in and not self.states[i].dropped]
        if self.bands_pending and (ids or gone_new):
            self._resolve_bands(ids or gone_new, as_of)
        # an account that joins (or comes back) and churns in one quarter is counted in the
        # tier it joined
        entered = (
            {d.account_id: d.tier for d in self._evaluate(gone_new, as_of).decisions}
            if gone_new
            else {}
        )
        joined_tier = {i: t for i, t in entered.items() if i in new}
        rejoined = {i: t for i, t in entered.items() if i not in new}
        del self.last_eval  # the previous quarter is stored: do not hold two in memory
        ev = self.last_eval = self._evaluate(ids, as_of)
        moves, held, reviews, raised, cleared = [], [], [], [], []
        drifted: dict[str, str] = {}
        matrix = {t: {u: 0 for u in self.rs.tier_ids} for t in self.rs.tier_ids}
        drift = 0
        for d in ev.decisions:
            st = self.states[d.account_id]
            hist = st.history
            hist.count_quarter(touched[d.account_id] | signals_held(self.rs, d), self.quarter_count)
            self._update_consecutive(st, d)
            flags, by = (
                self.pins.flags(d.account_id, as_of, d.flags) if self.pins else (d.flags, {})
            )
            for flag in sorted(set(flags) - set(st.flags)):
                raised.append(
                    {"account_id": d.account_id, "flag": flag, "rule": by.get(flag, flag)}
                )
            for flag in sorted(set(st.flags) - set(flags)):
                cleared.append(
                    {"account_id": d.account_id, "flag": flag, "rule": by.get(flag, flag)}
                )
            st.flags = list(flags)
            if quarter in (st.created_in, st.returned_in):  # it starts in its evaluated tier
                st.held, st.placed_bands = d.tier, d.bands
                (joined_tier if st.created_in == quarter else rejoined)[d.account_id] = d.tier
                # the quarter it joins in is its first in the tier, as a move's is
                hist.quarters_in_tier, hist.previous_tier = 0, d.tier
                hist.quarters_since = dict.fromkeys(ACCOUNT_TYPES, 0)  # its history starts
                continue
            before = st.held
            values = d.values | d.bands | d.decisions  # a new dict; the shared ones untouched
            values["__flags__"] = d.flags
            outcome = decide(
                self.rs,
                held=before,
                evaluated=d.tier,
                values=values,
                events=touched[d.account_id],
                history=hist,
                replay_quarters=self.quarter_count,
            )
            if self.pins:
                outcome = self.pins.outcome(d.account_id, quarter, as_of, before, d.tier, outcome)
            kinds, facts = touched[d.account_id], seen.get(d.account_id)
            row = (  # (a stay is not reported: no row for most accounts)
                move_row(self.rs, self.bands, st, d, before, outcome, kinds, facts)
                if outcome.outcome != "stay"
                else {}
            )
            if outcome.outcome == "moved":
                moves.append(row | {"to": outcome.to})
                st.held, st.placed_bands = outcome.to, d.bands
                hist.quarters_in_tier = 0
                # a move uses up the streak that earned it: the next one needs a new streak
                hist.consecutive = {k: (v, 0) for k, (v, _) in hist.consecutive.items()}
            else:
                hist.quarters_in_tier += 1
                if outcome.outcome == "held":
                    held.append(row | {"to": outcome.review_to})
                elif outcome.outcome == "review":
                    reviews.append(row | {"to": outcome.review_to})
            hist.previous_tier = before
            matrix[before][st.held] += 1
            if st.held != d.tier:
                drift += 1
                if outcome.outcome == "stay":
                    drifted[d.account_id] = st.held
        churned_tier = {
            i: start_tier.get(i) or joined_tier.get(i) or rejoined[i]
            for i in churned
            if i in start_tier or i in joined_tier or i in rejoined
        }
        churn_by_tier = Counter(churned_tier.values())
        rates = churn_rates(self.rs, start_tier, joined_tier | rejoined, churn_by_tier)
        bridge = self._bridge(quarter, start_tier, start_arr, joined_tier, rejoined, rates)
        triggers = self.triggers.quarter(
            quarter, self._tier_arr(), self.total_csms, rates, launches
        )
        summary = self._tier_summary()
        quarter_report = Quarter(
            quarter,
            as_of,
            summary,
            matrix,
            sorted(moves, key=lambda m: (-m["arr"], m["account_id"])),
            sorted(held, key=lambda m: (-m["arr"], m["account_id"])),
            sorted(reviews, key=lambda m: (-m["arr"], m["account_id"])),
            {"raised": raised, "cleared": cleared},
            triggers,
            quarter_capacity(self.rs, summary, self.total_csms, self.base_csms),
            {t: churn_by_tier.get(t, 0) for t in self.rs.tier_ids},
            len(new),
            drift,
            dict(sorted(counts.items())),
            drifted=drifted,
            churned_accounts=churned_tier,
            joined=joined_tier,
            account_events=seen,
            bands=self.band_report,
            reactivated=rejoined,
            arr_bridge=bridge,
        )
        quarter_report.named = named_accounts(self.rs, self.states, quarter_report)
        return quarter_report


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
) -> Replay:
    """``on_quarter(report, evaluation)`` is called as each quarter is done; with
    ``on_error`` fail, only once every event has been checked."""
    sim = _Sim(ruleset, accounts, as_of, engine, memo, on_error, events_file, events, pins)
    return _replay(sim, events, as_of, skipped, on_quarter)


def _replay(
    sim: _Sim,
    events: list[Event],
    as_of: dt.date,
    skipped: list[dict[str, Any]] | None,
    on_quarter: Any,
) -> Replay:
    ruleset = sim.rs
    by_quarter: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_quarter[e.quarter].append(e)
    quarters = []
    for q in sorted(by_quarter):
        if quarter_end(q) <= as_of:
            sim._fail(by_quarter[q][0], "quarter", before_start(q, as_of))
            if sim.problems:
                raise DataError("events before start", sim.problems)
            continue
        report = sim.quarter(q, by_quarter[q])
        if on_quarter:
            on_quarter(report, sim.last_eval)
        quarters.append(report)
    return Replay(
        ruleset,
        sim.bands,
        sim.start,
        quarters,
        (skipped or []) + sim.skipped,
        sim.ignored,
        sim.last_eval.engine,
    )
