"""Values computed a column at a time (as the reader does, a chunk of rows at once) are
exactly the values computed account by account: same keys in the same order, same floats
to the last bit (a -0.0 included), same score parts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.ruleset.model import Component, Derived, Score
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.build import load_ruleset
from tierbook.evaluate.values import ValuesWhileReading, compile_value_columns, compile_values

from ..conftest import AS_OF, RULESETS, SAMPLE


def by_columns(ruleset: Any, accounts: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """The reader's way: the accounts' columns, the values' columns added, then one dict
    per account built from them."""
    columns_of = compile_value_columns(ruleset, AS_OF)
    assert columns_of is not None
    n = len(accounts)
    cols = {k: [a[k] for a in accounts] for k in accounts[0]} if accounts else {}
    extra, parts = columns_of(cols, n)
    cols.update(extra)
    built = [dict(zip(cols, row)) for row in zip(*cols.values())]
    assert len(built) == len(parts) == n
    return list(zip(built, parts))


def one_by_one(ruleset: Any, accounts: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    values_of = compile_values(ruleset, AS_OF, in_place=True)
    return [values_of(dict(a)) for a in accounts]


def same(a: Any, b: Any) -> None:
    """Equal and alike to the bit: repr tells -0.0 from 0.0, 1 from 1.0 and True, and
    lists keys in order."""
    assert repr(a) == repr(b)


def typed_value(inp: Any) -> st.SearchStrategy[Any]:
    """Values as the reader types them, blanks included, on and around small numbers."""
    lo = inp.min if inp.min is not None else -1e6
    hi = inp.max if inp.max is not None else 1e9
    floats = st.one_of(st.floats(lo, hi, allow_nan=False), st.sampled_from(
        [v for v in (0.0, -0.0, 0.5, 1.0, 0.6, 0.35, 0.15) if lo <= v <= hi] or [lo]))
    by_type: dict[str, st.SearchStrategy[Any]] = {
        "money": floats.map(lambda v: round(v, 2)),
        "number": st.one_of(floats, st.integers(int(max(lo, -10**6)), int(min(hi, 10**9)))),
        "integer": st.integers(int(max(lo, -1000)), int(min(hi, 10**6))),
        "ratio": st.floats(0, 1).map(lambda v: round(v, 4)) | st.sampled_from([0.0, 1.0, 0.5]),
        "boolean": st.booleans(),
        "date": st.dates(dt.date(2015, 1, 1), dt.date(2030, 1, 1)),
        "enum": st.sampled_from(list(inp.values) or ["x"]),
    }
    value = by_type.get(inp.type, st.text(max_size=5))
    return st.none() | value if not inp.required else value


def accounts_of(ruleset: Any) -> st.SearchStrategy[list[dict[str, Any]]]:
    ids = [inp.id for inp in ruleset.inputs]
    account = st.tuples(*(typed_value(inp) for inp in ruleset.inputs))
    return st.lists(account, min_size=1, max_size=40).map(  # keys in one order, as read
        lambda rows: [dict(zip(ids, r), account_id=f"A{i}") for i, r in enumerate(rows)])


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_the_sample_by_columns_is_the_sample_account_by_account(path):
    ruleset = load_ruleset(str(path))
    accounts = read_portfolio(str(SAMPLE), ruleset).accounts
    same(by_columns(ruleset, accounts), one_by_one(ruleset, accounts))


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_generated_accounts_by_columns_are_the_same(path):
    ruleset = load_ruleset(str(path))

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(accounts_of(ruleset))
    def check(accounts):
        same(by_columns(ruleset, accounts), one_by_one(ruleset, accounts))
    check()


def _synthetic() -> Any:
    """Every derived operation and scoring method, a count score, a score reading an
    earlier one, condition components, rounding to 0 and to 12 digits."""
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
        Component("quarter", 0.1, "flag", scoring={"divide_by": 4}),  # True 1.0, 1.0 0.25
    ), scale=100.0, round=0)
    risk = Score("risk", "count", (
        Component("low_health", 1.0, when={"field": "health", "lt": 40}),
        Component("flagged", 1.0, "flag"),
        Component("small", 1.0, when={"field": "flag", "lt": 0.5}),  # False no, 0.0 yes
        Component("late", 1.0, when={"any": [{"field": "until", "lt": 30},
                                             {"field": "c", "eq": 1}]}),
    ))
    fine = Score("fine", "weighted", (
        Component("h", 2.0, "health", scoring={"divide_by": 100}),
        Component("r", 1.0, "ratio_of_ratio"),
        Component("cond", 1.0, when={"not": {"field": "flag", "eq": True}}),
    ), scale=1.0, round=12)
    return SimpleNamespace(derived=derived, scores=(health, risk, fine))


number = st.one_of(st.none(), st.integers(-5, 20), st.floats(-5, 20, allow_nan=False),
                   st.sampled_from([0, 0.0, -0.0, 1, 1.0, 3.0, 10]))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(
    number, number, number,
    st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, 0.0, 1.0, 0.25])),
    st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))),
), min_size=1, max_size=30))
def test_every_operation_and_method_by_columns_is_the_same(rows):
    ruleset = _synthetic()
    accounts = [dict(zip(("a", "b", "c", "flag", "day"), r), account_id=f"A{i}")
                for i, r in enumerate(rows)]
    same(by_columns(ruleset, accounts), one_by_one(ruleset, accounts))


def test_a_negative_zero_scoring_constant_means_account_by_account():
    score = Score("s", "weighted", (Component("c", 1.0, "x", scoring={
        "thresholds": [{"gte": 1, "score": -0.0}]}),))
    assert compile_value_columns(SimpleNamespace(derived=(), scores=(score,)), AS_OF) is None


def test_the_reader_computes_values_by_chunks_and_falls_back_account_by_account(
        default_ruleset, tmp_path, monkeypatch):
    """Values while reading: a chunk at a time; where the columns fail, account by account
    (each failure of that too leaves the values to the caller)."""
    plain = read_portfolio(str(SAMPLE), default_ruleset)
    expected = one_by_one(default_ruleset, plain.accounts)
    values = ValuesWhileReading(default_ruleset, AS_OF)
    calls = {"columns": 0, "one": 0}
    columns_of, one = values.columns, values.one

    def counted_columns(*args: Any) -> Any:
        calls["columns"] += 1
        return columns_of(*args)
    values.columns = counted_columns
    read = read_portfolio(str(SAMPLE), default_ruleset, values=values)
    same(read.prepared, expected)
    assert calls["columns"] >= 1 and all(v is a for (v, _), a in zip(read.prepared, read.accounts))

    def broken(*args: Any) -> Any:
        raise TypeError("columns")

    def counted_one(account: Any) -> Any:
        calls["one"] += 1
        return one(account)
    values.columns, values.one = broken, counted_one
    read = read_portfolio(str(SAMPLE), default_ruleset, values=values)
    same(read.prepared, expected)
    assert calls["one"] == len(plain.accounts)
