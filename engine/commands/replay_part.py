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
from collections.abc import Mapping, MutableMapping, Sequence
from contextlib import suppress
from typing import Any

import numpy as np
import polars as pl

from ..assess.histories import Histories, Rows
from ..assess.replay_rows import account_events, flag_rows, move_row, named_rows
from ..assess.transition_columns import signals
from ..assess.transitions import (
    Outcome,
    QuarterAccounts,
    decide_quarter,
    outcomes,
)
from ..errors import DataError, Problem
from ..evaluate.bands import ResolvedBands
from ..evaluate.run import Evaluation, band_columns, evaluate_classes
from ..evaluate.values import with_values
from ..network.classes import Classes, classes
from ..network.compile import compile_network
from ..network.transitions import compile_transitions
from ..portfolio.cells import parser as _parser
from ..portfolio.events import Event, quarter_end
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
        self.typed_values: dict[tuple[str, str], Any] = {}
        self.states: dict[str, AccountState] = {
            str(a["account_id"]): AccountState(dict(a)) for a in accounts
        }
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
        self.history = Histories(ruleset.tier_ids)  # their transition history, as columns
        self.served: list[str] | None = None  # the accounts not churned (None: not known)

    # -- events ----------------------------------------------------------------------------
    def apply(
        self,
        quarter: str,
        events: list[Event],
        states: MutableMapping[str, AccountState],
        ignored: Counter[str],
    ) -> Applied:
        self.given = {id(e) for e in events}  # (a new account's missing input: not one)
        applied = super().apply(quarter, events, states, ignored)
        self.served = None  # (events churn accounts, bring them back and add new ones)
        return applied

    def _fail(self, event: Event, column: str, message: str) -> None:
        p = Problem(self.file, event.line, event.column(column), column, message, "bad-event")
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
        if self.served is None:
            self.served = [i for i, s in self.states.items() if not s.churned_in]
        return self.served

    def held_book(self) -> Held:
        ids = self._active()
        return Held(
            [self.states[i].held for i in ids],
            arr_floats(self.table.rows(self.states, ids), self.arr_field),
        )

    def _rows(self, ids: Sequence[str]) -> Rows:
        """The part's rows of the accounts ``ids`` (of its inputs' frame and history)."""
        rows = self.table.positions(self.states, ids)
        self.history.grow(self.table.height)
        return rows

    def _decide(
        self,
        ev: Evaluation,
        quarter: str,
        rows: list[int],
        held: list[str],
        evaluated: list[str],
        touched: Mapping[str, set[str]],
        history_rows: Rows,
    ) -> dict[int, Outcome]:
        """The transition rules' outcome for the accounts at ``rows`` of ``ev`` (held in
        ``held``, evaluated in ``evaluated``), their histories counted for the quarter:
        the rules' network run once per class of accounts (``decide_quarter``), and the
        overrides' say. Only the outcomes that are not a stay, by position in ``rows``."""
        at = pl.Series(rows, dtype=pl.UInt32)
        account_ids, firsts = ev.account_ids(), ev.firsts
        ids = [account_ids[k] for k in rows]
        no_events: set[str] = set()
        accounts = QuarterAccounts(
            ev.frame[at],
            ev.path_of.gather(at),
            firsts,
            held,
            evaluated,
            self.history,
            history_rows,
            [touched.get(i, no_events) for i in ids],
            self.quarter_count,
        )
        found = decide_quarter(self.rs, self.transitions, accounts, self.engine, self.memo)
        if self.pins is None:
            changed = found.with_row_index("k").filter(pl.col("outcome") != "stay")
            return {k: Outcome(*row) for k, *row in changed.iter_rows()}
        as_of = quarter_end(quarter)
        ruled = [
            self.pins.outcome(i, quarter, as_of, h, e, o)
            for i, h, e, o in zip(ids, held, evaluated, outcomes(found))
        ]
        return {k: o for k, o in enumerate(ruled) if o.outcome != "stay"}

    def _values(self, ids: list[str], as_of: dt.date) -> dict[str, list[float]]:
        frame = with_values(self.rs, self.table.rows(self.states, ids), as_of)
        return band_columns(self.rs, frame)

    # -- the start -------------------------------------------------------------------------
    def start_values(self, as_of: dt.date) -> dict[str, list[float]]:
        """The starting accounts' known band values (the bands are resolved on the whole
        starting book)."""
        # (the frame of their inputs the replay keeps from here on)
        self.start = with_values(self.rs, self.table.rows(self.states, list(self.states)), as_of)
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
        account_ids = base.account_ids()
        for account_id, path_id in zip(account_ids, base.path_ids()):
            d = firsts[path_id]
            st = self.states[account_id]
            st.flags = pins.flags(account_id, as_of, list(d.flags))[0] if pins else list(d.flags)
            st.held = pins.start(account_id, as_of, d.tier) if pins else d.tier
            st.placed_bands = d.bands
        rows, paths, h = self._rows(account_ids), _paths(base), self.history
        # tenure before the start is unknown: the starting tier counts as established
        h.dwell[rows] = max(1, ruleset.min_dwell_quarters)
        h.previous[rows] = h.tiers(p.tier for p in firsts)[paths]
        h.count_streaks(rows, paths, [_current(p) for p in firsts])
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
        # what an account's path decided (tier, bands, decisions, flags) is its path's first
        # account's: the whole decision (values too) is made only for a reported row
        account_ids, path_ids, firsts = ev.account_ids(), ev.path_ids(), ev.firsts
        rows, paths, h, qc = self._rows(account_ids), _paths(ev), self.history, quarter_count
        # the quarter counts: the event types each account had (its events, and the
        # signals the ruleset computes), and each band's and decision's streak
        had: dict[str, list[str]] = {}
        for account_id, kinds in touched.items():
            if self.states[account_id].churned_in:  # (not evaluated: nothing to count)
                continue
            for kind in kinds:
                had.setdefault(kind, []).append(account_id)
        signalled = signals(self.rs, ev.frame, ev.path_of, firsts)
        h.count_quarter(
            {kind: rows[np.asarray(signalled[kind], dtype=bool)] for kind in signalled}, qc
        )
        h.count_quarter({kind: self._rows(ids) for kind, ids in had.items()}, qc)
        h.count_streaks(rows, paths, [_current(p) for p in firsts])
        deciding: list[int] = []  # the accounts the transition rules decide (not joining)
        joining: list[int] = []
        for at, (account_id, path_id) in enumerate(zip(account_ids, path_ids)):
            d = firsts[path_id]
            st = self.states[account_id]
            flags, by = self.pins.flags(account_id, as_of, d.flags) if self.pins else (d.flags, {})
            if flags != st.flags:  # (most accounts keep their flags: nothing raised nor cleared)
                up, down = flag_rows(account_id, st.flags, flags, by)
                raised += up
                cleared += down
                st.flags = list(flags)
            if quarter in (st.created_in, st.returned_in):  # it starts in its evaluated tier
                st.held, st.placed_bands = d.tier, d.bands
                (joined_tier if st.created_in == quarter else rejoined)[account_id] = d.tier
                joining.append(at)
                continue
            deciding.append(at)
        # the quarter it joins in is its first in the tier, as a move's is; its history
        # starts
        h.start_over(rows[joining], h.tiers(firsts[path_ids[at]].tier for at in joining), qc)
        decided = rows[deciding]
        before = [self.states[account_ids[at]].held for at in deciding]
        evaluated = [firsts[path_ids[at]].tier for at in deciding]
        changed = self._decide(ev, quarter, deciding, before, evaluated, touched, decided)
        # (a stay is not reported: no row, nor the account's values, for most accounts)
        whole = dict(zip(changed, ev.decisions_at([deciding[k] for k in changed])))
        after = h.tiers(before)
        before_codes = after.copy()
        moved = np.zeros(len(deciding), dtype=bool)
        for k, outcome in changed.items():
            at = deciding[k]
            account_id, d = account_ids[at], firsts[path_ids[at]]
            st = self.states[account_id]
            kinds, facts = touched.get(account_id, set()), seen.get(account_id)
            row = move_row(self.rs, self.bands, st, whole[k], before[k], outcome, kinds, facts)
            if outcome.outcome == "moved":
                moves.append(row | {"to": outcome.to})
                st.held, st.placed_bands = outcome.to, d.bands
                after[k], moved[k] = h.tier(outcome.to), True
            elif outcome.outcome == "held":
                held.append(row | {"to": outcome.review_to})
            elif outcome.outcome == "review":
                reviews.append(row | {"to": outcome.review_to})
        tiers = self.rs.tier_ids
        n = len(tiers)
        counts = np.bincount(before_codes * n + after, minlength=n * n).tolist()
        matrix = {
            t: {u: counts[i * n + j] for j, u in enumerate(tiers)} for i, t in enumerate(tiers)
        }
        off = np.flatnonzero(after != h.tiers(evaluated))  # held away from the evaluated tier
        drift = len(off)
        drifted = {account_ids[deciding[k]]: before[k] for k in off.tolist() if k not in changed}
        h.dwell[decided[~moved]] += 1
        h.moved(decided[moved])
        h.previous[decided] = before_codes
        churned_tier = {
            i: start_tier.get(i) or joined_tier.get(i) or rejoined[i]
            for i in churned
            if i in start_tier or i in joined_tier or i in rejoined
        }
        served = Counter(start_tier.values()) + Counter((joined_tier | rejoined).values())
        bridge = part_bridge(
            self.rs, self.states, (start_tier, start_arr), joined_tier, rejoined, self._cents
        )
        named = named_rows(self.rs, self.states, quarter, churned_tier, joined_tier, rejoined)
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


def _paths(ev: Evaluation) -> Rows:
    """Each account's path, by its position in ``ev``."""
    return ev.path_of.to_numpy().astype(np.int64)


def _current(d: Any) -> dict[str, Any]:
    """The bands and single-valued decisions of a decision, whose streaks history counts."""
    return dict(d.bands) | {k: v for k, v in d.decisions.items() if not isinstance(v, list)}
