"""Values as polars expressions (tierbook.evaluate.values) against values worked out by hand
(tests/engine/reference.py): every derived value, score part and score, to the last bit, on
the sample, on generated accounts and on a ruleset using every operation and scoring."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.evaluate.run import values_frame
from tierbook.evaluate.values import part_column, with_values
from tierbook.portfolio.frame import python_column, read_portfolio
from tierbook.ruleset.build import load_ruleset
from tierbook.ruleset.model import Component, Derived, Score

from ..conftest import AS_OF, RULESETS, SAMPLE
from .reference import reference_values


def alike(got: Any, want: Any) -> bool:
    """Equal, and a float to the bit (the sign of a zero included)."""
    if isinstance(got, float) or isinstance(want, float):
        if got is None or want is None:
            return got is want
        return float(got) == float(want) and math.copysign(1, got) == math.copysign(1, want) \
            or (math.isnan(got) and math.isnan(want))
    return got == want


def check(ruleset: Any, frame: pl.DataFrame, accounts: list[dict[str, Any]]) -> None:
    for i, account in enumerate(accounts):
        env, parts = reference_values(ruleset, account, AS_OF)
        for name in [d.id for d in ruleset.derived] + [s.id for s in ruleset.scores]:
            got = python_column(frame[name].slice(i, 1), False)[0]
            assert alike(got, env[name]), (name, account, got, env[name])
        for s in ruleset.scores:
            for c in s.components:
                got = frame[part_column(s.id, c.id)][i]
                assert alike(got, parts[s.id][c.id]), (s.id, c.id, account, got)


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_the_sample_values_are_the_hand_worked_ones(path):
    ruleset = load_ruleset(str(path))
    accounts = read_portfolio(str(SAMPLE), ruleset).accounts
    check(ruleset, values_frame(ruleset, accounts, AS_OF), accounts)


def typed_value(inp: Any) -> st.SearchStrategy[Any]:
    """Values as the reader types them, blanks included, on and around small numbers."""
    lo = inp.min if inp.min is not None else -1e6
    hi = inp.max if inp.max is not None else 1e9
    floats = st.one_of(st.floats(lo, hi, allow_nan=False), st.sampled_from(
        [v for v in (0.0, 0.5, 1.0, 0.6, 0.35, 0.15, 95.0, 7.0) if lo <= v <= hi] or [lo]))
    by_type: dict[str, st.SearchStrategy[Any]] = {
        "money": floats.map(lambda v: round(v, 2)),
        "number": floats,
        "integer": st.integers(int(max(lo, -1000)), int(min(hi, 10**6))),
        "ratio": st.floats(0, 1).map(lambda v: round(v, 4)) | st.sampled_from([0.0, 1.0, 0.5]),
        "boolean": st.booleans(),
        "date": st.dates(dt.date(2015, 1, 1), dt.date(2030, 1, 1)),
        "enum": st.sampled_from(list(inp.values) or ["x"]),
    }
    value = by_type.get(inp.type, st.text(max_size=5))
    return st.none() | value if not inp.required else value


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_generated_accounts_values_are_the_hand_worked_ones(path):
    ruleset = load_ruleset(str(path))
    ids = [inp.id for inp in ruleset.inputs]

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(*(typed_value(inp) for inp in ruleset.inputs)),
                    min_size=1, max_size=40))
    def run(rows):
        accounts = [dict(zip(ids, r), account_id=f"A{i}") for i, r in enumerate(rows)]
        check(ruleset, values_frame(ruleset, accounts, AS_OF), accounts)
    run()


def _synthetic() -> Any:
    """Every derived operation and scoring method, a count score, a score reading an
    earlier one, condition components, rounding to 0 and to 12 digits, a score renormalised
    over its known components."""
    derived = (
        Derived("ratio_ab", "ratio", ("a", "b")),
        Derived("diff_ab", "difference", ("a", "b")),
        Derived("sum_abc", "sum", ("a", "b", "c")),
        Derived("since", "days_since", ("day",)),
        Derived("until", "days_until", ("day",)),
        Derived("ratio_of_ratio", "ratio", ("ratio_ab", "c")),
    )
    health = Score("health", "weighted", (
        Component("p", 0.5, "ratio_ab", scoring={"points": [[0, 0], [0.5, 0.8], [2, 1]]}),
        Component("t", 0.3, "c", scoring={"thresholds": [{"gte": 10, "score": 1},
                                                        {"gt": 3, "score": 0.5}], "else": 0.1}),
        Component("d", 0.2, "a", scoring={"divide_by": 7}),
        Component("zero", 0.0, "flag"),
        Component("hundredth", 0.1, "a", scoring={"divide_by": 100}),
    ), scale=100.0, round=0)
    risk = Score("risk", "count", (
        Component("low_health", 1.0, when={"field": "health", "lt": 40}),
        Component("flagged", 1.0, "flag"),
        Component("late", 1.0, when={"any": [{"field": "until", "lt": 30},
                                             {"field": "c", "eq": 1}]}),
        Component("not_flagged", 1.0, when={"not": {"field": "flag", "eq": True}}),
    ))
    fine = Score("fine", "weighted", (
        Component("h", 2.0, "health", scoring={"divide_by": 100}),
        Component("r", 1.0, "ratio_of_ratio"),
    ), scale=1.0, round=12)
    partial = Score("partial", "weighted", (
        Component("ab", 0.4, "ratio_ab", scoring={"divide_by": 3}),
        Component("flagged", 0.35, when={"field": "flag", "eq": True}),
        Component("cc", 0.25, "c", scoring={"divide_by": 50}),
    ), scale=100.0, round=2, when_unknown="renormalise", min_known=0.6)
    return SimpleNamespace(derived=derived, scores=(health, risk, fine, partial))


number = st.one_of(st.none(), st.floats(-5, 200, allow_nan=False),
                   st.sampled_from([0.0, 1.0, 3.0, 10.0, 95.0, 0.5]))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(
    number, number, number,
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))),
), min_size=1, max_size=30))
def test_every_operation_and_scoring_is_the_hand_worked_one(rows):
    ruleset = _synthetic()
    names = ("a", "b", "c", "flag", "day")
    accounts = [dict(zip(names, r), account_id=f"A{i}") for i, r in enumerate(rows)]
    frame = pl.DataFrame(
        [pl.Series(n, [a[n] for a in accounts], dtype=t) for n, t in zip(
            names, (pl.Float64, pl.Float64, pl.Float64, pl.Boolean, pl.Date))])
    check(ruleset, with_values(ruleset, frame, AS_OF), accounts)


def test_a_quotient_by_a_constant_is_correctly_rounded():
    """polars divides by a scalar through its reciprocal: 95 / 100 would be 0.9500000000000001."""
    score = Score("s", "weighted", (Component("c", 1.0, "x", scoring={"divide_by": 100}),),
                  round=12)
    frame = pl.DataFrame({"x": [95.0, 7.0, 3.0]})
    out = with_values(SimpleNamespace(derived=(), scores=(score,)), frame, AS_OF)
    assert out[part_column("s", "c")].to_list() == [95 / 100, 7 / 100, 3 / 100]
