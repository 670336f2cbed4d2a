"""The transition rules compiled into a network (network.transitions) and run on both
executors (assess.transitions.decide_quarter) decide every account as the plain reference
(reference_transitions.decide) does: generated accounts, held and evaluated tiers, values
with blanks, bands, decisions and flags per path, events and history counters."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.assess.histories import Histories, one_history
from tierbook.assess.transitions import (
    Outcome,
    QuarterAccounts,
    decide_one,
    decide_quarter,
    outcomes,
)
from tierbook.evaluate.decisions import Decision
from tierbook.network import conditions as C
from tierbook.network.transitions import EVENT, FLAG, MOVES, compile_transitions
from tierbook.portfolio.events import ACCOUNT_TYPES
from tierbook.ruleset.build import load_ruleset
from tierbook.ruleset.model import TransitionRule

from ..conftest import ROOT, needs_durable
from .reference_transitions import History, decide

ENGINES = ["native", pytest.param("durable-rules", marks=needs_durable)]
SHIPPED = sorted(str(p) for p in (ROOT / "rulesets").glob("*.yaml"))
SPECIAL = {"tier", "evaluated_tier", "evaluated_direction", "previous_tier"}


@dataclasses.dataclass
class Drawn(QuarterAccounts):
    """Accounts as the engine reads them, with each one's history as the reference reads
    it (one History each) beside the engine's columns of the same histories."""

    reference: list[History] = dataclasses.field(default_factory=list)


def _given(h: History, rq: int) -> dict[str, Any]:
    return {"quarters_in_tier": h.quarters_in_tier, "previous_tier": h.previous_tier,
            "quarters_since": h.quarters_since,
            "consecutive": {k: run for k, (_, run) in h.consecutive.items()},
            "replay_quarters": rq}


def drawn(rs: Any, frame: pl.DataFrame, path_of: pl.Series, paths: list[Decision],
          held: list[str], evaluated: list[str], hists: list[History], events: list[set[str]],
          rq: int) -> Drawn:
    columns = Histories(rs.tier_ids, len(hists))
    for k, h in enumerate(hists):
        columns.give(k, **_given(h, rq))
    return Drawn(frame, path_of, paths, held, evaluated, columns,
                 np.arange(len(hists), dtype=np.int64), events, rq, hists)

# A ruleset whose rules reach every outcome (moved, held, review, stay) and read every kind
# of leaf: values (numbers, yes/no, blanks), bands, decisions, flags, events, the tiers and
# every history counter; fixed, next and evaluated targets; a minimum dwell of 2.
TEST_RULES = (
    TransitionRule("promote_up", "promote", {"all": [
        {"field": "evaluated_direction", "eq": "up"},
        {"any": [{"event": "renewal"}, {"event": "expansion"}]}]},
        "ARR up on a renewal or an expansion", "evaluated"),
    TransitionRule("promote_healthy", "promote", {"all": [
        {"field": "health_score", "gte": 70},
        {"field": "history.consecutive.health_category", "gte": 2},
        {"not": {"flag": "competitive_rfp"}}]},
        "Healthy for two quarters", "next"),
    TransitionRule("review_risk", "review", {"any": [
        {"all": [{"field": "health_action", "eq": "save"},
                 {"field": "history.quarters_since.expansion", "gte": 3}]},
        {"field": "exec_sponsor_left", "eq": True}]},
        "At risk without expansion", "next"),
    TransitionRule("demote_drop", "demote", {"all": [
        {"field": "evaluated_direction", "eq": "down"},
        {"any": [{"event": "contraction"}, {"field": "arr_segment", "in": ["smb", "mid_market"]}]},
        {"field": "previous_tier", "ne": "enterprise"}]},
        "ARR down on a contraction", "evaluated"),
    TransitionRule("demote_fixed", "demote", {"all": [
        {"field": "history.quarters_in_tier", "gte": 3},
        {"field": "tier", "ne": "smb"},
        {"not": {"field": "health_score", "exists": True}}]},
        "No health score for three quarters", "smb"),
    TransitionRule("promote_fixed", "promote", {"all": [
        {"field": "days_to_renewal", "lt": 90},
        {"not": {"field": "relationship_score", "between": [20, 60]}},
        {"flag": "health_drop"}]},
        "Renewal close", "enterprise"),
    TransitionRule("review_eval", "review", {"all": [
        {"field": "evaluated_tier", "ne": "enterprise"},
        {"field": "relationship_score", "lt": 40}]},
        "Weak relationship", "evaluated"),
    TransitionRule("review_fixed", "review", {"field": "support_score", "between": [10, 20]},
                   "Support trouble", "mid_market"),
)


@lru_cache(maxsize=None)
def ruleset(path: str) -> Any:
    if path == "test":
        return dataclasses.replace(load_ruleset(str(ROOT / "rulesets" / "customer-success.yaml")),
                                   transitions=TEST_RULES, min_dwell_quarters=2)
    return load_ruleset(path)


def _leaves(rs: Any) -> list[dict[str, Any]]:
    return [leaf for r in rs.transitions for _, leaf in C.iter_leaves(r.when) if "field" in leaf]


def _value_fields(rs: Any) -> dict[str, list[Any]]:
    """Each value field the rules compare, with the constants they compare it with."""
    shared = {b.id for b in rs.bands} | {d.id for d in rs.decisions}
    out: dict[str, list[Any]] = {}
    for leaf in _leaves(rs):
        name = leaf["field"]
        if name in SPECIAL or name in shared or name.startswith("history."):
            continue
        op, arg = C.leaf_op(leaf)
        found = out.setdefault(name, [])
        if op != "exists":
            found.extend(arg if isinstance(arg, list) else [arg])
    return out


def _values_of(args: list[Any]) -> st.SearchStrategy[Any]:
    if any(isinstance(a, bool) for a in args):
        return st.sampled_from([True, False, None])
    numbers = [float(a) for a in args if isinstance(a, (int, float))]
    near = [v + d for v in numbers for d in (-1, -0.5, 0, 0.5, 1)]
    return st.one_of(st.none(), st.sampled_from(near or [0.0]))


def _path(rs: Any) -> st.SearchStrategy[Decision]:
    band_ids = ["enterprise", "mid_market", "smb", "healthy", "at_risk"]
    decisions = {d.id: sorted({str(r.value) for r in d.rules} | ({str(d.default)} if d.default
                              is not None else set())) for d in rs.decisions}
    flags = [f.id for f in rs.flags]

    def make(bands: dict[str, str], decided: dict[str, str], raised: list[str]) -> Decision:
        return Decision("", {}, {}, 0, bands=bands, decisions=decided, flags=raised)

    return st.builds(
        make,
        st.dictionaries(st.sampled_from([b.id for b in rs.bands] or ["none"]),
                        st.sampled_from(band_ids), max_size=3),
        st.fixed_dictionaries({}, optional={k: st.sampled_from(v or ["x"])
                                            for k, v in decisions.items()}),
        st.lists(st.sampled_from(flags), unique=True) if flags else st.just([]))


def _history(rs: Any) -> st.SearchStrategy[History]:
    keys = [b.id for b in rs.bands] + [d.id for d in rs.decisions]
    return st.builds(
        History,
        quarters_in_tier=st.integers(0, 4),
        previous_tier=st.sampled_from(["", *rs.tier_ids]),
        quarters_since=st.dictionaries(st.sampled_from(sorted(ACCOUNT_TYPES)),
                                       st.integers(0, 6), max_size=4),
        consecutive=st.dictionaries(st.sampled_from(keys or ["none"]),
                                    st.tuples(st.none(), st.integers(0, 3)), max_size=3))


@st.composite
def quarters(draw: Any, path: str) -> tuple[Drawn, list[Decision]]:
    rs = ruleset(path)  # (by its path: a strategy's arguments are shown, a ruleset is long)
    fields = _value_fields(rs)
    paths = draw(st.lists(_path(rs), min_size=1, max_size=4))
    n = draw(st.integers(1, 40))
    tiers = st.sampled_from(rs.tier_ids)
    values = {name: [draw(_values_of(args)) for _ in range(n)] for name, args in fields.items()}
    columns = {name: pl.Series(col, dtype=pl.Boolean if any(isinstance(a, bool) for a in
                                                          fields[name]) else pl.Float64)
               for name, col in values.items()}
    frame = pl.DataFrame(columns) if columns else pl.DataFrame(height=n)
    accounts = drawn(
        rs,
        frame,
        pl.Series([draw(st.integers(0, len(paths) - 1)) for _ in range(n)], dtype=pl.UInt32),
        paths,
        [draw(tiers) for _ in range(n)],
        [draw(tiers) for _ in range(n)],
        [draw(_history(rs)) for _ in range(n)],
        [draw(st.sets(st.sampled_from(sorted(ACCOUNT_TYPES)), max_size=3)) for _ in range(n)],
        draw(st.integers(0, 8)))
    return accounts, paths


def reference(rs: Any, accounts: Drawn) -> list[Outcome]:
    rows = accounts.values.to_dicts() if accounts.values.width else [{}] * len(accounts.held)
    out = []
    for k, row in enumerate(rows):
        path = accounts.paths[accounts.path_of[k]]
        values = row | path.bands | path.decisions
        values["__flags__"] = path.flags
        out.append(decide(rs, held=accounts.held[k], evaluated=accounts.evaluated[k],
                          values=values, events=accounts.events[k],
                          history=accounts.reference[k],
                          replay_quarters=accounts.replay_quarters))
    return out


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", [*SHIPPED, "test"], ids=[*(p.split("/")[-1] for p in SHIPPED),
                                                          "test"])
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_network_decides_as_the_reference(path: str, engine: str, data: Any) -> None:
    rs = ruleset(path)
    accounts, _ = data.draw(quarters(path))
    network = compile_transitions(rs)
    expected = reference(rs, accounts)
    for memo in (True, False):
        got = outcomes(decide_quarter(rs, network, accounts, engine, memo))
        assert got == expected


def test_the_test_rules_reach_every_outcome_and_every_rule() -> None:
    """The test ruleset is worth its name: over generated accounts every outcome and every
    rule occurs (a fixed sample: no search)."""
    rs = ruleset("test")
    network = compile_transitions(rs)
    seen: set[str] = set()
    rules: set[str] = set()
    for seed in range(40):
        accounts, _ = _fixed(rs, seed)
        for o in outcomes(decide_quarter(rs, network, accounts, "native")):
            seen.add(o.outcome)
            rules.add(o.rule)
    assert seen == {"moved", "held", "review", "stay"}
    assert rules == {r.id for r in TEST_RULES} | {""}


def _fixed(rs: Any, seed: int) -> tuple[Drawn, list[Decision]]:
    import random

    rnd = random.Random(seed)
    n = 60
    flags = [f.id for f in rs.flags]
    paths = [Decision("", {}, {}, 0,
                      bands={"arr_segment": rnd.choice(["enterprise", "mid_market", "smb"])},
                      decisions={"health_action": rnd.choice(["save", "expand"])},
                      flags=rnd.sample(flags, rnd.randint(0, 2))) for _ in range(3)]
    blank = lambda v: None if rnd.random() < 0.2 else v  # noqa: E731
    frame = pl.DataFrame({
        "health_score": pl.Series([blank(rnd.uniform(40, 100)) for _ in range(n)], dtype=pl.Float64),
        "exec_sponsor_left": pl.Series([blank(rnd.random() < 0.1) for _ in range(n)],
                                       dtype=pl.Boolean),
        "days_to_renewal": pl.Series([blank(rnd.uniform(0, 200)) for _ in range(n)], dtype=pl.Float64),
        "relationship_score": pl.Series([blank(rnd.uniform(0, 100)) for _ in range(n)],
                                        dtype=pl.Float64),
        "support_score": pl.Series([blank(rnd.uniform(0, 100)) for _ in range(n)], dtype=pl.Float64)})
    kinds = sorted(ACCOUNT_TYPES)
    hist = [History(rnd.randint(0, 4), rnd.choice(["", *rs.tier_ids]),
                    {"expansion": rnd.randint(0, 5)},
                    {"health_category": (None, rnd.randint(0, 3))}) for _ in range(n)]
    accounts = drawn(
        rs, frame, pl.Series([rnd.randrange(3) for _ in range(n)], dtype=pl.UInt32), paths,
        [rnd.choice(rs.tier_ids) for _ in range(n)], [rnd.choice(rs.tier_ids) for _ in range(n)],
        hist, [set(rnd.sample(kinds, rnd.randint(0, 2))) for _ in range(n)], 4)
    assert reference(rs, accounts) == outcomes(decide_quarter(rs, compile_transitions(rs),
                                                              accounts, "native"))
    return accounts, paths


def test_the_network_has_one_leaf_per_comparison_event_flag_and_move() -> None:
    rs = ruleset("test")
    network = compile_transitions(rs)
    kinds = {leaf.field for leaf in network.leaves}
    assert {EVENT, FLAG, MOVES, "health_score", "tier", "evaluated_direction", "previous_tier",
            "history.quarters_in_tier", "history.quarters_since.expansion",
            "history.consecutive.health_category"} <= kinds
    moving = [r.id for r in TEST_RULES if r.action != "review"]
    assert sorted(leaf.arg for leaf in network.leaves if leaf.field == MOVES) == sorted(moving)
    assert [r.id for r in network.rules if r.kind == "transition"] == [r.id for r in TEST_RULES]
    assert [r.kind for r in network.rules] == ["transition", "pass"] * len(TEST_RULES)


def test_no_memo_runs_the_executor_for_every_account(monkeypatch: Any) -> None:
    from tierbook.network import native

    rs = ruleset("test")
    accounts, _ = _fixed(rs, 3)
    runs = []
    real = native.NativeExecutor.run
    monkeypatch.setattr(native.NativeExecutor, "run",
                        lambda self, bits: runs.append(bits) or real(self, bits))
    network = compile_transitions(rs)
    plain = outcomes(decide_quarter(rs, network, accounts, "native", memo=False))
    assert len(runs) == len(accounts.held)
    runs.clear()
    memo = outcomes(decide_quarter(rs, compile_transitions(rs), accounts, "native", memo=True))
    assert len(runs) < len(accounts.held) and memo == plain


def test_decide_one_is_one_account_through_the_same_network() -> None:
    rs = ruleset("test")
    accounts, paths = _fixed(rs, 5)
    network = compile_transitions(rs)
    every = outcomes(decide_quarter(rs, network, accounts, "native"))
    for k in range(10):
        one = decide_one(rs, network, held=accounts.held[k], evaluated=accounts.evaluated[k],
                         values=accounts.values[k], path=paths[accounts.path_of[k]],
                         events=accounts.events[k],
                         history=one_history(rs.tier_ids,
                                             **_given(accounts.reference[k],
                                                      accounts.replay_quarters)),
                         replay_quarters=accounts.replay_quarters)
        assert one == every[k]


SIGNALS = {"expansion": {"any": [{"field": "health_action", "eq": "expand"},
                                 {"all": [{"flag": "usage_decline"},
                                          {"not": {"field": "health_score", "lt": 50}}]}]},
           "renewal": {"field": "arr_segment", "in": ["enterprise"]}}


@pytest.mark.parametrize("name", ["keep-segment", "customer-success"])
def test_signals_are_the_reference_reading_of_every_account(name: str) -> None:
    """transitions.signals over a quarter's accounts as columns equal the one-account
    reading (the shipped keep-segment's, and signals over values with blanks, flags, bands
    and decisions)."""
    from tierbook.assess.transition_columns import signals
    from tierbook.evaluate.run import evaluate, values_frame
    from tierbook.portfolio.frame import read_portfolio

    from ..conftest import AS_OF, SAMPLE
    from .reference_transitions import signals_held

    rs = load_ruleset(str(ROOT / "rulesets" / f"{name}.yaml"))
    if name == "customer-success":
        rs = dataclasses.replace(rs, transition_signals=SIGNALS)
    accounts = read_portfolio(str(SAMPLE), rs).accounts
    ev = evaluate(rs, values_frame(rs, accounts, AS_OF), AS_OF, engine="native")
    found = signals(rs, ev.frame, ev.path_of, ev.firsts)
    expected = [signals_held(rs, d) for d in ev.decisions]
    got = [{k for k, on in found.items() if on[at]} for at in range(len(expected))]
    assert got == expected
    assert any(expected) and not all(expected)
