"""One part of a replay's book: its accounts' states across the quarters, the events that
name them applied, their evaluation and their transitions (``Part``), and what a quarter
did to them (``PartQuarter``), for ``replay._Sim`` to put together with the other parts'.

A part holds a contiguous range of the starting portfolio's accounts (a single machine: one
part holding all of them); every event naming one of its accounts is applied by it, and an
account a ``new_account`` event brings that the starting portfolio lacks belongs to the last
part, so the parts' accounts one after the other are the book's in its own order (the order
one machine evaluates them in). Nothing here depends on the other parts' accounts: what is
whole-book (bands, capacity, churn rates, triggers, the bridge's totals) is ``_Sim``'s.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import MutableMapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..assess.replay_rows import account_events, move_row, named_rows
from ..assess.transition_columns import signal_kinds, signals
from ..assess.transitions import (
    Outcome,
    QuarterAccounts,
    decide_quarter,
    outcomes,
)
from ..errors import DataError, Problem
from ..evaluate.bands import ResolvedBands
from ..evaluate.run import Evaluation, band_columns, evaluate_classes, values_frame
from ..evaluate.values import with_values
from ..network.classes import Classes, classes
from ..network.compile import compile_network
from ..network.transitions import compile_transitions
from ..portfolio.cells import parser as _parser
from ..portfolio.events import ACCOUNT_TYPES, Event, quarter_end
from ..portfolio.headers import InputNames
from ..ruleset.model import Ruleset
from .replay_apply import AccountState, Applied, ApplyEvents
from .replay_bridge import arr_cents, arr_floats, part_bridge
from .replay_check import check_events
from .replay_inputs import InputTable, written
from .replay_said import Held, Key, PartQuarter, Pending


class Part(ApplyEvents):
    def __init__(
        self,
        ruleset: Ruleset,
        accounts: Sequence[dict[str, Any]],
        engine: str,
        memo: bool,
        on_error: str,
        events_file: str,
        pins: Any = None,
    ) -> None:
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
        self.accounts: Sequence[dict[str, Any]] | None = accounts
        self.problems: list[tuple[Key, Problem]] = []
        self.skipped: list[tuple[Key, dict[str, Any]]] = []
        self.ignored: Counter[str] = Counter()
        self.given: set[int] = set()
        self.bands: dict[str, ResolvedBands] = {}
        self.quarter_count = 0
        self.last_eval: Evaluation | None = None
        self.found: Classes | None = None
        self.transitions = compile_transitions(ruleset)
        self.table = InputTable(ruleset)  # the accounts' inputs as columns, kept

    # -- events ----------------------------------------------------------------------------
    def apply(
        self,
        quarter: str,
        events: list[Event],
        states: MutableMapping[str, AccountState],
        ignored: Counter[str],
    ) -> Applied:
        self.given = {id(e) for e in events}  # (a new account's missing input: not one)
        return super().apply(quarter, events, states, ignored)

    def _fail(self, event: Event, column: str, message: str) -> None:
        p = Problem(self.file, event.line, 1, column, message, "bad-event")
        key = (event.quarter, 0 if id(event) in self.given else 1, event.line)
        if self.on_error == "skip":
            self.skipped.append((key, {"line": event.line, "reasons": [str(p)]}))
        else:
            self.problems.append((key, p))

    def check(self, events: list[Event], as_of: dt.date) -> list[tuple[Key, Problem]]:
        """Every problem of the part's events (of quarters after the start), applied to
        copies of its accounts (``replay_check``)."""
        with suppress(DataError):  # (the problems are the answer: ``_Sim`` says every part's)
            check_events(self, events, as_of)
        found, self.problems = self.problems, []
        return found

    # -- helpers ---------------------------------------------------------------------------
    def _evaluate(self, ids: list[str], as_of: dt.date, keep: bool = False) -> Evaluation:
        frame = with_values(self.rs, self.table.rows(self.states, ids), as_of)
        network = compile_network(self.rs, self.bands)
        found = classes(network, frame, self.memo)
        ev = evaluate_classes(self.rs, network, frame, found, as_of, self.engine, self.memo)
        if keep:
            self.found = found
        return ev

    def _active(self) -> list[str]:
        return [i for i, s in self.states.items() if not s.churned_in]

    def held_book(self) -> Held:
        ids = self._active()
        return Held(
            [self.states[i].held for i in ids],
            arr_floats(self.table.rows(self.states, ids), self.arr_field),
        )

    def _update_consecutive(
        self, st: AccountState, d: Any, current: dict[str, Any] | None = None
    ) -> None:
        """One more quarter of each band and decision's streak (``current``: what ``d``
        decided, when already read off its path)."""
        if current is None:
            current = _current(d)
        for key, value in current.items():
            prev, run = st.history.consecutive.get(key, (None, 0))
            st.history.consecutive[key] = (value, run + 1 if prev == value else 1)

    def _decide(
        self, ev: Evaluation, rows: list[int], touched: MutableMapping[str, set[str]]
    ) -> list[Outcome]:
        """The transition rules' outcome for the accounts at ``rows`` of ``ev``, their
        histories counted for the quarter: the rules' network run once per class of
        accounts (``decide_quarter``)."""
        at = pl.Series(rows, dtype=pl.UInt32)
        account_ids, path_ids, firsts = ev.account_ids(), ev.path_ids(), ev.firsts
        ids = [account_ids[k] for k in rows]
        states = [self.states[i] for i in ids]
        accounts = QuarterAccounts(
            ev.frame[at],
            ev.path_of.gather(at),
            firsts,
            [st.held for st in states],
            [firsts[path_ids[k]].tier for k in rows],
            [st.history for st in states],
            [touched[i] for i in ids],
            self.quarter_count,
        )
        found = decide_quarter(self.rs, self.transitions, accounts, self.engine, self.memo)
        return outcomes(found)

    def _values(self, ids: list[str], as_of: dt.date) -> dict[str, list[float]]:
        frame = with_values(self.rs, self.table.rows(self.states, ids), as_of)
        return band_columns(self.rs, frame)

    # -- the start -------------------------------------------------------------------------
    def start_values(self, as_of: dt.date) -> dict[str, list[float]]:
        """The starting accounts' known band values (the bands are resolved on the whole
        starting book)."""
        self.start = values_frame(self.rs, self.accounts or [], as_of)
        self.accounts = None
        return band_columns(self.rs, self.start)

    def begin(self, as_of: dt.date, bands: dict[str, ResolvedBands]) -> Held:
        """The starting evaluation, under the book's bands: each account's tier, flags
        and bands as the replay starts."""
        self.bands = bands
        ruleset, pins = self.rs, self.pins
        network = compile_network(ruleset, bands)
        found = classes(network, self.start, self.memo)
        base = evaluate_classes(ruleset, network, self.start, found, as_of, self.engine, self.memo)
        del self.start
        # (what an account's path decided is its path's first account's: no account's
        # whole decision, its values, is made)
        firsts = base.firsts
        current = [_current(p) for p in firsts]
        for account_id, path_id in zip(base.account_ids(), base.path_ids()):
            d = firsts[path_id]
            st = self.states[account_id]
            st.flags = pins.flags(account_id, as_of, list(d.flags))[0] if pins else list(d.flags)
            st.held = pins.start(account_id, as_of, d.tier) if pins else d.tier
            st.placed_bands = d.bands
            # tenure before the start is unknown: the starting tier counts as established
            st.history.quarters_in_tier = max(1, ruleset.min_dwell_quarters)
            st.history.previous_tier = d.tier
            self._update_consecutive(st, d, current[path_id])
        held = self.held_book()
        held.engine = base.engine
        return held

    # -- one quarter -----------------------------------------------------------------------
    def apply_quarter(self, quarter: str, events: list[Event], values: bool) -> Pending:
        """The quarter's account events applied (``values``: the band values the book's
        bands wait for)."""
        as_of = quarter_end(quarter)
        active = self._active()
        self.start_tier = {i: self.states[i].held for i in active}
        self.start_arr = dict(zip(active, self._cents(active)))
        self.seen = account_events(events)
        self.done = self.apply(quarter, events, self.states, self.ignored)
        self.table.changed(written(events, self.arr_field, self.input_names))
        problems, self.problems = self.problems, []
        skipped, self.skipped = self.skipped, []
        ids = self._active()
        came = self.done.new + self.done.reactivated
        self.gone_new = [
            i for i in came if self.states[i].churned_in and not self.states[i].dropped
        ]
        return Pending(
            len(ids),
            len(self.gone_new),
            self._values(ids, as_of) if values and not problems else {},
            self._values(self.gone_new, as_of) if values and not problems else {},
            problems,
            skipped,
        )

    def quarter(
        self, quarter: str, quarter_count: int, bands: dict[str, ResolvedBands]
    ) -> PartQuarter:
        """The part's accounts evaluated at the quarter's end (under the book's ``bands``)
        and moved, held or reviewed by the transition rules."""
        self.bands, self.quarter_count = bands, quarter_count
        as_of = quarter_end(quarter)
        start_tier, start_arr, seen, done = self.start_tier, self.start_arr, self.seen, self.done
        touched, churned, new = done.touched, done.churned, done.new
        ids = self._active()
        gone_new = self.gone_new
        # an account that joins (or comes back) and churns in one quarter is counted in the
        # tier it joined
        entered = (
            {d.account_id: d.tier for d in self._evaluate(gone_new, as_of).decisions}
            if gone_new
            else {}
        )
        joined_tier = {i: t for i, t in entered.items() if i in new}
        rejoined = {i: t for i, t in entered.items() if i not in new}
        self.last_eval = self.found = None  # the previous quarter is stored: not two in memory
        ev = self.last_eval = self._evaluate(ids, as_of, keep=True)
        moves, held, reviews, raised, cleared = [], [], [], [], []
        drifted: dict[str, str] = {}
        matrix = {t: {u: 0 for u in self.rs.tier_ids} for t in self.rs.tier_ids}
        drift = 0
        # what an account's path decided (tier, bands, decisions, flags) is its path's first
        # account's: the whole decision (values too) is made only for a reported row
        account_ids, path_ids, firsts = ev.account_ids(), ev.path_ids(), ev.firsts
        signalled = signals(self.rs, ev.frame, ev.path_of, firsts)
        current = [_current(p) for p in firsts]
        held_signals = signal_kinds(signalled, len(account_ids))
        deciding: list[int] = []  # the accounts the transition rules decide (not joining)
        for at, (account_id, path_id) in enumerate(zip(account_ids, path_ids)):
            d = firsts[path_id]
            st = self.states[account_id]
            hist = st.history
            kinds = touched[account_id] | held_signals[at]
            hist.count_quarter(kinds, self.quarter_count)
            self._update_consecutive(st, d, current[path_id])
            flags, by = self.pins.flags(account_id, as_of, d.flags) if self.pins else (d.flags, {})
            if flags != st.flags:  # (most accounts keep their flags: nothing raised nor cleared)
                for flag in sorted(set(flags) - set(st.flags)):
                    raised.append(
                        {"account_id": account_id, "flag": flag, "rule": by.get(flag, flag)}
                    )
                for flag in sorted(set(st.flags) - set(flags)):
                    cleared.append(
                        {"account_id": account_id, "flag": flag, "rule": by.get(flag, flag)}
                    )
                st.flags = list(flags)
            if quarter in (st.created_in, st.returned_in):  # it starts in its evaluated tier
                st.held, st.placed_bands = d.tier, d.bands
                (joined_tier if st.created_in == quarter else rejoined)[account_id] = d.tier
                # the quarter it joins in is its first in the tier, as a move's is
                hist.quarters_in_tier, hist.previous_tier = 0, d.tier
                hist.quarters_since = dict.fromkeys(ACCOUNT_TYPES, 0)  # its history starts
                continue
            deciding.append(at)
        ruled = self._decide(ev, deciding, touched)
        if self.pins:
            for k, at in enumerate(deciding):
                account_id, d = account_ids[at], firsts[path_ids[at]]
                before = self.states[account_id].held
                ruled[k] = self.pins.outcome(account_id, quarter, as_of, before, d.tier, ruled[k])
        # (a stay is not reported: no row, nor the account's values, for most accounts)
        reported = [at for at, o in zip(deciding, ruled) if o.outcome != "stay"]
        whole = dict(zip(reported, ev.decisions_at(reported)))
        for at, outcome in zip(deciding, ruled):
            account_id, d = account_ids[at], firsts[path_ids[at]]
            st = self.states[account_id]
            hist = st.history
            before = st.held
            kinds, facts = touched[account_id], seen.get(account_id)
            row = (
                move_row(self.rs, self.bands, st, whole[at], before, outcome, kinds, facts)
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
                    drifted[account_id] = st.held
        churned_tier = {
            i: start_tier.get(i) or joined_tier.get(i) or rejoined[i]
            for i in churned
            if i in start_tier or i in joined_tier or i in rejoined
        }
        served = Counter(start_tier.values()) + Counter((joined_tier | rejoined).values())
        bridge = part_bridge(
            self.rs, self.states, (start_tier, start_arr), joined_tier, rejoined, self._cents
        )
        named = named_rows(
            self.rs,
            self.states,
            _Named(quarter, churned_tier, joined_tier, rejoined),
        )
        ignored, self.ignored = self.ignored, Counter()
        notes = self.pins.notes.get(quarter, {}) if self.pins else {}
        return PartQuarter(
            moves,
            held,
            reviews,
            raised,
            cleared,
            matrix,
            drift,
            drifted,
            churned_tier,
            joined_tier,
            rejoined,
            len(new),
            served,
            bridge.sums,
            bridge.moved,
            bridge.gone,
            bridge.held,
            bridge.started,
            named,
            self.held_book(),
            notes,
            ignored,
            ev,
            self.found,
        )

    def _cents(self, ids: list[str]) -> list[int]:
        """The ARR in cents of the accounts ``ids``, as their inputs are now."""
        return arr_cents(self.table.rows(self.states, ids), self.arr_field)


def _current(d: Any) -> dict[str, Any]:
    """The bands and single-valued decisions of a decision, whose streaks history counts."""
    return dict(d.bands) | {k: v for k, v in d.decisions.items() if not isinstance(v, list)}


@dataclass
class _Named:
    """What ``named_rows`` reads of a quarter."""

    quarter: str
    churned_accounts: dict[str, str]
    joined: dict[str, str]
    reactivated: dict[str, str]
