"""`tierbook replay`: quarter by quarter, apply events, re-evaluate, apply transitions,
and watch the re-calibration triggers (SPEC 1.1 and 1.2).

Band boundaries are resolved once, on the starting portfolio, and held fixed: a replay
shows how the book drifts against the model as calibrated, and the triggers say when the
model itself needs re-calibrating.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..assess.transitions import History, decide
from ..errors import DataError, Problem
from ..evaluate.bands import ResolvedBands
from ..evaluate.run import Evaluation, evaluate, resolve_bands, values_frame
from ..portfolio.cells import BadValue
from ..portfolio.cells import parser as _parser
from ..portfolio.cells import typed as _typed
from ..portfolio.events import ACCOUNT_TYPES, Event, quarter_end
from ..ruleset.model import Ruleset
from .replay_check import before_start, check_events


@dataclass
class AccountState:
    inputs: dict[str, Any]
    held: str = ""
    history: History = field(default_factory=History)
    flags: list[str] = field(default_factory=list)
    churned_in: str = ""
    created_in: str = ""


@dataclass
class Quarter:
    quarter: str
    as_of: dt.date
    tiers: dict[str, dict[str, Any]]
    transitions: dict[str, dict[str, int]]
    moves: list[dict[str, Any]]
    held: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    flags: dict[str, list[dict[str, Any]]]
    triggers: list[dict[str, Any]]
    capacity: dict[str, Any]
    churned: dict[str, int]
    new_accounts: int
    drift: int
    events: dict[str, int]
    run_id: int | None = None
    # accounts that stay in a tier other than the one evaluated (no rule moved them) -> that
    # tier; every other account that stays is held in the tier evaluated
    drifted: dict[str, str] = field(default_factory=dict)
    # accounts that churned this quarter -> the tier they were held in
    churned_accounts: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "as_of": self.as_of.isoformat(),
            "tiers": self.tiers,
            "transitions": self.transitions,
            "moves": self.moves,
            "held": self.held,
            "reviews": self.reviews,
            "flags": self.flags,
            "triggers": self.triggers,
            "capacity": self.capacity,
            "churned": self.churned,
            "new_accounts": self.new_accounts,
            "drift": self.drift,
            "events": self.events,
        }


@dataclass
class Replay:
    ruleset: Ruleset
    bands: dict[str, ResolvedBands]
    start: dict[str, Any]
    quarters: list[Quarter]
    skipped: list[dict[str, Any]]
    ignored_signals: Counter[str]
    engine: str
    replay_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        rs = self.ruleset
        return {
            "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256},
            "engine": self.engine,
            "start": self.start,
            "quarters": [q.as_json() for q in self.quarters],
            "skipped_events": self.skipped,
            "ignored_signals": dict(sorted(self.ignored_signals.items())),
        }


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
    ) -> None:
        """``events``: with ``on_error`` fail, checked whole before anything is evaluated
        (``replay_check``)."""
        self.rs = ruleset
        self.engine = engine
        self.memo = memo
        self.on_error = on_error
        self.file = events_file
        self.arr_field = ruleset.role("arr") or "arr"
        self.inputs = {i.id: i for i in ruleset.inputs}
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
        self.total_csms = ruleset.capacity.available
        self.base_csms = self.total_csms
        self.quarter_count = 0
        self.churn_streak: dict[str, int] = defaultdict(int)
        # the values the bands were resolved from are the starting evaluation's values
        base = evaluate(ruleset, start, as_of, engine=self.engine, memo=self.memo, bands=self.bands)
        del start
        for d in base.decisions:
            st = self.states[d.account_id]
            st.held, st.flags = d.tier, list(d.flags)
            st.history.quarters_in_tier = 1  # the starting tier counts as established
            st.history.previous_tier = d.tier
            self._update_consecutive(st, d)
        self.base_tier_arr = self._tier_arr()
        self.start = {
            "as_of": as_of.isoformat(),
            "tiers": self._tier_summary(),
            "csms": self.total_csms,
            "bands": {k: {"method": rb.method, "edges": rb.edges} for k, rb in self.bands.items()},
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

    # -- one quarter -----------------------------------------------------------------------
    def quarter(self, quarter: str, events: list[Event]) -> Quarter:
        self.quarter_count += 1
        as_of = quarter_end(quarter)
        start_tier = {i: self.states[i].held for i in self._active()}
        launches: list[str] = []
        counts: Counter[str] = Counter(e.type for e in events)
        for e in events:
            if e.type == "capacity_change":
                self.total_csms = e.fields["csms"]
            elif e.type == "product_launch":
                launches.append(e.value)
        touched, churned, new = self.apply(quarter, events, self.states, self.ignored)
        if self.problems:
            raise DataError(f"{self.file}: {len(self.problems)} bad event(s)", self.problems[:200])
        ids = self._active()
        del self.last_eval  # the previous quarter is stored: do not hold two in memory
        ev = self.last_eval = self._evaluate(ids, as_of)
        moves, held, reviews, raised, cleared = [], [], [], [], []
        drifted: dict[str, str] = {}
        matrix = {t: {u: 0 for u in self.rs.tier_ids} for t in self.rs.tier_ids}
        drift = 0
        for d in ev.decisions:
            st = self.states[d.account_id]
            hist = st.history
            for kind in ACCOUNT_TYPES:
                if kind in touched[d.account_id]:
                    hist.quarters_since[kind] = 0
                else:
                    hist.quarters_since[kind] = (
                        hist.quarters_since.get(kind, self.quarter_count - 1) + 1
                    )
            self._update_consecutive(st, d)
            for flag in sorted(set(d.flags) - set(st.flags)):
                raised.append({"account_id": d.account_id, "flag": flag, "rule": flag})
            for flag in sorted(set(st.flags) - set(d.flags)):
                cleared.append({"account_id": d.account_id, "flag": flag, "rule": flag})
            st.flags = list(d.flags)
            if st.created_in == quarter:  # a new account starts in its evaluated tier
                st.held = d.tier
                hist.quarters_in_tier, hist.previous_tier = 1, d.tier
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
            arr = float(d.values.get(self.arr_field) or 0.0)
            row = {
                "account_id": d.account_id,
                "arr": round(arr, 2),
                "from": before,
                "evaluated": d.tier,
                "rule": outcome.rule,
                "because": outcome.because,
            }
            if outcome.outcome == "moved":
                moves.append(row | {"to": outcome.to})
                st.held = outcome.to
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
        churn_by_tier = Counter(start_tier[i] for i in churned if i in start_tier)
        triggers = self._triggers(start_tier, churn_by_tier, launches)
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
            self._capacity(summary),
            {t: churn_by_tier.get(t, 0) for t in self.rs.tier_ids},
            len(new),
            drift,
            dict(sorted(counts.items())),
            drifted=drifted,
            churned_accounts={i: start_tier[i] for i in churned if i in start_tier},
        )
        return quarter_report

    def apply(
        self,
        quarter: str,
        events: list[Event],
        states: MutableMapping[str, AccountState],
        ignored: Counter[str],
    ) -> tuple[dict[str, set[str]], list[str], list[str]]:
        """A quarter's account events applied to ``states`` (the accounts touched, churned,
        and new), each bad one reported (``_fail``): the one place they are checked, by the
        replay and, before it, by ``replay_check`` on a copy of the accounts it touches."""
        touched: dict[str, set[str]] = defaultdict(set)
        churned: list[str] = []
        new: list[str] = []
        for e in events:
            if e.type in ("capacity_change", "product_launch"):
                continue
            st = states.get(e.account_id)
            if e.type == "new_account":
                if st is not None:
                    self._fail(e, "account_id", f"new_account '{e.account_id}' already exists")
                    continue
                inputs = {i.id: i.default for i in self.rs.inputs}
                inputs[self.rs.role("account_id") or "account_id"] = e.account_id
                inputs["account_id"] = e.account_id
                st = states[e.account_id] = AccountState(inputs, created_in=quarter)
                new.append(e.account_id)
                for name, raw in e.fields.items():
                    self._set(st, e, name, raw, ignored)
                continue
            if st is None:
                self._fail(e, "account_id", f"unknown account '{e.account_id}'")
                continue
            if st.churned_in:
                self._fail(
                    e,
                    "account_id",
                    f"account '{e.account_id}' churned in {st.churned_in}; no events may follow",
                )
                continue
            touched[e.account_id].add(e.type)
            arr = float(st.inputs.get(self.arr_field) or 0.0)
            if e.type == "renewal":
                st.inputs[self.arr_field] = round(e.fields["arr"], 2)
            elif e.type == "expansion":
                st.inputs[self.arr_field] = round(arr + e.fields["arr"], 2)
            elif e.type == "contraction":
                st.inputs[self.arr_field] = round(max(0.0, arr - e.fields["arr"]), 2)
            elif e.type == "churn":
                st.churned_in = quarter
                churned.append(e.account_id)
            elif e.type == "signal":
                for name, raw in e.fields.items():
                    self._set(st, e, name, raw, ignored)
        for account_id in new:
            st = states[account_id]
            missing = [i.id for i in self.rs.inputs if i.required and st.inputs.get(i.id) is None]
            if missing:
                line = next(
                    e.line for e in events if e.type == "new_account" and e.account_id == account_id
                )
                self._fail(
                    Event(line, quarter, account_id, "new_account"),
                    missing[0],
                    f"new account '{account_id}' has no {missing[0]} (send it as a signal "
                    f"in the same quarter)",
                )
                st.churned_in = quarter  # never evaluated
        return touched, churned, new

    def _set(self, st: AccountState, e: Event, name: str, raw: Any, ignored: Counter[str]) -> None:
        inp = self.inputs.get(name)
        if inp is None:
            ignored[name] += 1  # a column this ruleset does not read
            return
        if raw is None or str(raw).strip() == "":
            st.inputs[name] = inp.default
            return
        try:
            st.inputs[name] = _typed(inp, raw, self.parsers[name])
        except BadValue as exc:
            self._fail(e, name, f"{str(raw)!r} {exc}")

    def _capacity(self, summary: dict[str, dict[str, Any]]) -> dict[str, Any]:
        needed, per_tier = 0, {}
        base = self.base_csms or 0
        scale = (self.total_csms / base) if base and self.total_csms is not None else 1.0
        for t in self.rs.tiers:
            n = summary[t.id]["accounts"]
            need = math.ceil(n / t.book_target) if t.book_target and not t.automated else 0
            avail = self.rs.capacity.per_tier.get(t.id)
            per_tier[t.id] = {
                "accounts": n,
                "needed": need,
                "available": None if avail is None else round(avail * scale),
            }
            needed += need
        gap = None if self.total_csms is None else needed - self.total_csms
        return {"needed": needed, "available": self.total_csms, "gap": gap, "per_tier": per_tier}

    def _triggers(
        self, start_tier: dict[str, str], churn_by_tier: Counter[str], launches: list[str]
    ) -> list[dict[str, Any]]:
        fired = []
        now = self._tier_arr()
        start_counts = Counter(start_tier.values())
        for t in self.rs.triggers:
            watched = list(t.tiers) or self.rs.tier_ids
            threshold = t.threshold if t.threshold is not None else math.inf  # (validated: set)
            if t.kind == "tier_arr_change":
                for tier in watched:
                    base = self.base_tier_arr.get(tier, 0.0)
                    if base <= 0:
                        continue
                    change = (now[tier] - base) / base
                    if abs(round(change, 9)) >= threshold:
                        fired.append(
                            {
                                "id": t.id,
                                "kind": t.kind,
                                "tier": tier,
                                "detail": f"{tier} ARR ${base:,.0f} -> ${now[tier]:,.0f} "
                                f"({change:+.1%}; threshold ±{threshold:.0%})",
                                "because": t.because,
                                "figures": {
                                    "base_arr": round(base, 2),
                                    "arr": round(now[tier], 2),
                                    "change": round(change, 4),
                                },
                            }
                        )
            elif t.kind == "capacity_change":
                if self.base_csms and self.total_csms is not None:
                    change = (self.total_csms - self.base_csms) / self.base_csms
                    if abs(round(change, 9)) >= threshold:
                        fired.append(
                            {
                                "id": t.id,
                                "kind": t.kind,
                                "because": t.because,
                                "detail": f"CSMs {self.base_csms} -> {self.total_csms} "
                                f"({change:+.1%}; threshold ±{threshold:.0%})",
                                "figures": {
                                    "base": self.base_csms,
                                    "csms": self.total_csms,
                                    "change": round(change, 4),
                                },
                            }
                        )
            elif t.kind == "tier_churn_over_target":
                for tier in watched:
                    target = self.rs.tier(tier).targets.get("churn_rate")
                    n = start_counts.get(tier, 0)
                    if target is None or n == 0:
                        continue
                    rate = churn_by_tier.get(tier, 0) / n
                    key = f"{t.id}:{tier}"
                    self.churn_streak[key] = (
                        self.churn_streak[key] + 1 if rate > t.ratio * target else 0
                    )
                    if self.churn_streak[key] >= t.consecutive_quarters:
                        fired.append(
                            {
                                "id": t.id,
                                "kind": t.kind,
                                "tier": tier,
                                "because": t.because,
                                "detail": f"{tier} churn {rate:.1%} > {t.ratio:g} x target "
                                f"{target:.1%} for {self.churn_streak[key]} quarters",
                                "figures": {
                                    "rate": round(rate, 4),
                                    "target": target,
                                    "quarters": self.churn_streak[key],
                                },
                            }
                        )
            elif t.kind == "product_launch" and launches:
                fired.append(
                    {
                        "id": t.id,
                        "kind": t.kind,
                        "because": t.because,
                        "detail": "; ".join(launches),
                        "figures": {"launches": len(launches)},
                    }
                )
        return fired


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
    on_quarter: Any = None,
) -> Replay:
    """``on_quarter(report, evaluation)`` is called as each quarter is done; with
    ``on_error`` fail, only once every event has been checked."""
    sim = _Sim(ruleset, accounts, as_of, engine, memo, on_error, events_file, events)
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
