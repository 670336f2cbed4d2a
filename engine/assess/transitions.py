"""Promotion, demotion and review between quarters (keep-segment's step 6, rulesets/keep-segment.yaml).

Each quarter every account has a *held* tier (where it is served) and an *evaluated* tier
(where this quarter's rules would place it).  Transition rules, in order, decide whether
the held tier changes: the first rule whose condition is true and that would actually move
the account (or raise a review) decides.  No rule, no move: an account never drifts to its
evaluated tier silently.  A move inside the minimum dwell is *held* and reported.

Fields a transition condition can read, besides the account's values, bands and decisions:
``tier`` (held), ``evaluated_tier``, ``evaluated_direction`` (up / down / same),
``previous_tier`` (held at the end of the previous quarter), ``history.quarters_in_tier``,
``history.quarters_since.<event type>`` and ``history.consecutive.<decision or band>``
(quarters in a row, this one included, with the current value, counted since the account's
last move: a move uses up the streak that earned it); ``{event: <type>}`` is true when the
account had such an event this quarter.

The rules are compiled into a rule network (``network.transitions``) that the tier rules'
executor runs, once per class of accounts that agree on every comparison the rules make
(``decide_quarter``); what the rule that fired means for each account (moved, or held
inside the minimum dwell; a review's suggested tier) is then a column expression.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..errors import EngineError
from ..evaluate.decisions import Decision
from ..network.classes import classes_of_codes, path_cache, paths_of
from ..network.executor import choose_engine, make_executor
from ..network.model import Network
from ..network.transitions import EVENT, MOVES
from ..network.truths import truth
from ..ruleset.model import Ruleset
from .histories import Histories, Rows
from .transition_columns import Tiers, per_path, shared_fields


@dataclass
class Outcome:
    outcome: str  # moved | held | review | stay
    to: str
    rule: str = ""
    because: str = ""
    review_to: str = ""


@dataclass
class QuarterAccounts:
    """The accounts a quarter's transition rules decide, in order: their values (rows of an
    evaluation's frame), the firing path of each (``path_of``, into ``paths``: the decision
    of a path's first account, whose bands, decisions and flags its accounts share), the
    held and evaluated tiers, their histories (``history``'s rows ``rows``, counted for
    this quarter) and this quarter's event types."""

    values: pl.DataFrame
    path_of: pl.Series
    paths: Sequence[Decision]
    held: list[str]
    evaluated: list[str]
    history: Histories
    rows: Rows
    events: list[set[str]]
    replay_quarters: int = 0


def event_column(kind: str) -> str:
    return f"{EVENT}:{kind}"


def _state_frame(network: Network, accounts: QuarterAccounts) -> pl.DataFrame:
    """The columns the leaves read besides the values: held, evaluated and previous tier,
    the history counters they name, one Boolean per event type they name."""
    names = sorted({leaf.field for leaf in network.leaves if leaf.field.startswith("history.")})
    history = accounts.history.fields(accounts.rows, names, accounts.replay_quarters)
    held = pl.Series(accounts.held, dtype=pl.String)
    columns: dict[str, pl.Series] = {
        "tier": held,
        "evaluated_tier": pl.Series(accounts.evaluated, dtype=pl.String),
        # (no previous tier yet: the held one)
        "previous_tier": history["previous_tier"].fill_null(held),
        **{name: history[name] for name in history.columns if name != "previous_tier"},
    }
    for leaf in network.leaves:
        if leaf.field == EVENT and event_column(leaf.arg) not in columns:
            columns[event_column(leaf.arg)] = pl.Series(
                [leaf.arg in e for e in accounts.events], dtype=pl.Boolean
            )
    return pl.DataFrame(columns)


def _codes(ruleset: Ruleset, network: Network, accounts: QuarterAccounts) -> pl.DataFrame:
    """The accounts' condition codes, one column per leaf (1 true, 0 false, 2 unknown)."""
    tiers = Tiers(ruleset)
    state = _state_frame(network, accounts)
    values = accounts.values.drop([c for c in state.columns if c in accounts.values.columns])
    frame = pl.concat([values, state], how="horizontal").with_columns(
        tiers.direction().alias("evaluated_direction")
    )
    shared = shared_fields(ruleset)
    rules = {r.id: r for r in ruleset.transitions}
    exprs = []
    for leaf in network.leaves:
        if leaf.field == EVENT:
            held = pl.col(event_column(leaf.arg))
        elif leaf.field == MOVES:
            held = tiers.target(rules[leaf.arg]).is_not_null()
        elif leaf.field in shared:
            shared_truth = per_path(ruleset, leaf.field, leaf.op, leaf.arg, accounts.paths)
            held = pl.lit(shared_truth.gather(accounts.path_of))
        else:
            held = truth(frame, leaf.field, leaf.op, leaf.arg)
        code = pl.when(held.is_null()).then(2).when(held).then(1).otherwise(0)
        exprs.append(code.cast(pl.Int8).alias(f"l{leaf.index}"))
    return frame.select(exprs) if exprs else pl.DataFrame(height=frame.height)


def _fired(network: Network, codes: pl.DataFrame, engine: str, memo: bool) -> pl.Series:
    """The transition rule each account fired (its index; -1: none), the executor run once
    per class (``memo=False``: once per account)."""
    chosen, _ = choose_engine(engine)
    found = classes_of_codes(network, codes, memo)
    ran = path_cache(chosen, network) if memo else None
    position = {r.id: i for i, r in enumerate(network.ruleset.transitions)}
    fired: list[int] = []
    make = functools.partial(make_executor, chosen, network, whole=not memo)
    with closing(paths_of(found, make, ran)) as paths:
        for path in paths:
            decided = [network.rules[i] for i, _ in path if network.rules[i].kind == "transition"]
            if len(decided) > 1:  # (each waits for the one before it to pass: never)
                ids = ", ".join(r.id for r in decided)
                raise EngineError(f"transition rules {ids} fired together", rule_id=decided[1].id)
            fired.append(position[decided[0].id] if decided else -1)
    return pl.Series(fired, dtype=pl.Int32).gather(found.of_account)


def decide_quarter(
    ruleset: Ruleset,
    network: Network,
    accounts: QuarterAccounts,
    engine: str = "auto",
    memo: bool = True,
    min_dwell: int | None = None,
) -> pl.DataFrame:
    """Each account's transition this quarter, in account order: outcome (moved, held,
    review, stay), to (the held tier after it), rule, because, review_to (a hold's or a
    review's tier).  ``network``: ``network.transitions.compile_transitions(ruleset)``."""
    n = len(accounts.held)
    fired = (
        _fired(network, _codes(ruleset, network, accounts), engine, memo)
        if n and ruleset.transitions
        else pl.Series([-1] * n, dtype=pl.Int32)
    )
    dwell = ruleset.min_dwell_quarters if min_dwell is None else min_dwell
    tiers = Tiers(ruleset)
    held, inside = pl.col("tier"), pl.col("\0dwell") < dwell
    outcome, to, rule_id, because, review_to = [], [], [], [], []
    for i, rule in enumerate(ruleset.transitions):
        on = pl.col("\0rule") == i

        def when(expr: pl.Expr, on: pl.Expr = on) -> pl.Expr:
            return pl.when(on).then(expr)

        rule_id.append(when(pl.lit(rule.id)))
        if rule.action == "review":  # a review suggests a tier; it never moves the account
            outcome.append(when(pl.lit("review")))
            to.append(when(held))
            because.append(when(pl.lit(rule.because)))
            review_to.append(when(tiers.suggestion(rule)))
            continue
        target = tiers.target(rule)
        note = pl.concat_str(
            pl.lit(f"{rule.because} (held: "),
            pl.col("\0dwell").cast(pl.String),
            pl.lit(f" of {dwell} minimum quarter(s) in "),
            held,
            pl.lit(")"),
        )
        outcome.append(when(pl.when(inside).then(pl.lit("held")).otherwise(pl.lit("moved"))))
        to.append(when(pl.when(inside).then(held).otherwise(target)))
        because.append(when(pl.when(inside).then(note).otherwise(pl.lit(rule.because))))
        review_to.append(when(pl.when(inside).then(target).otherwise(pl.lit(""))))
    state = pl.DataFrame(
        {
            "tier": pl.Series(accounts.held, dtype=pl.String),
            "evaluated_tier": pl.Series(accounts.evaluated, dtype=pl.String),
            "\0dwell": accounts.history.dwell[accounts.rows],
            "\0rule": fired,
        }
    )
    return state.select(
        pl.coalesce(*outcome, pl.lit("stay")).alias("outcome"),
        pl.coalesce(*to, held).alias("to"),
        pl.coalesce(*rule_id, pl.lit("")).alias("rule"),
        pl.coalesce(*because, pl.lit("")).alias("because"),
        pl.coalesce(*review_to, pl.lit("")).alias("review_to"),
    )


def outcomes(found: pl.DataFrame) -> list[Outcome]:
    """``decide_quarter``'s rows as ``Outcome``s (one shared per stay in a tier: an outcome
    is never changed in place)."""
    stays: dict[str, Outcome] = {}
    out = []
    for kind, to, rule, because, review_to in found.iter_rows():
        if kind == "stay":
            hit = stays.get(to)
            if hit is None:
                hit = stays[to] = Outcome("stay", to)
            out.append(hit)
        else:
            out.append(Outcome(kind, to, rule, because, review_to))
    return out


def decide_one(
    ruleset: Ruleset,
    network: Network,
    *,
    held: str,
    evaluated: str,
    values: pl.DataFrame | None,
    path: Decision | None,
    events: set[str],
    history: Histories,
    replay_quarters: int = 0,
    engine: str = "auto",
) -> Outcome:
    """One account's transition (a rule test case): ``values``, a frame of its one row of
    values, and ``path``, its decision (bands, decisions, flags), or None for neither;
    ``history``, its one row (``histories.one_history``)."""
    accounts = QuarterAccounts(
        values if values is not None else pl.DataFrame(height=1),
        pl.Series([0], dtype=pl.UInt32),
        [path if path is not None else Decision("", {}, {}, 0)],
        [held],
        [evaluated],
        history,
        np.zeros(1, dtype=np.int64),
        [events],
        replay_quarters,
    )
    return outcomes(decide_quarter(ruleset, network, accounts, engine))[0]
