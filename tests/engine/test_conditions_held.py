"""The executor runs once per set of rule conditions held (a class), not once per account.

The executors see an account only through each rule alternative's condition on it.  These
tests hold the frame's columns of conditions held (``network.classes.held_columns``) to the
native executor's own reading of the same formulas, and the evaluation built on them to the
per-account evaluation.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierbook.evaluate.run as E
from tierbook.network.classes import classes, held_columns, leaf_codes
from tierbook.network.compile import compile_network
from tierbook.network.native import NativeExecutor, formula_holds
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, RULESETS, SAMPLE, needs_durable

IDS = [p.stem for p in RULESETS]


@lru_cache(maxsize=None)
def setup(path: str):
    rs = load_ruleset(path)
    accounts = read_portfolio(str(SAMPLE), rs).accounts
    frame = E.values_frame(rs, accounts, AS_OF)
    network = compile_network(rs, E.resolve_bands(rs, frame))
    return rs, accounts, frame, network


def bits_of(network):
    n = len(network.leaves)
    return st.lists(st.sampled_from([0, 1, 2]), min_size=n, max_size=n).map(bytes)


def held_by_formula(network, bits: bytes) -> tuple[int, ...]:
    return tuple(int(formula_holds(d.account, bits)) for r in network.rules for d in r.disjuncts
                 if d.account[0] != "true")


@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=IDS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_one_column_per_alternative_that_looks_at_the_account(path, data) -> None:
    network = setup(path)[3]
    rows = [data.draw(bits_of(network)) for _ in range(20)]
    codes = pl.DataFrame({f"l{leaf.index}": pl.Series([r[leaf.index] for r in rows], dtype=pl.Int8)
                          for leaf in network.leaves})
    held = held_columns(network, codes)
    assert [tuple(map(int, row)) for row in held.rows()] == [
        held_by_formula(network, bits) for bits in rows]


def _same_conditions(network, bits: bytes, data) -> bytes:
    """Other bits holding the same conditions: each leaf in turn takes another state where
    that changes none of them."""
    held = held_by_formula(network, bits)
    out = bytearray(bits)
    for i in data.draw(st.permutations(range(len(out)))):
        for state in data.draw(st.permutations([0, 1, 2])):
            trial = bytearray(out)
            trial[i] = state
            if held_by_formula(network, bytes(trial)) == held:
                out = trial
                break
    return bytes(out)


@lru_cache(maxsize=None)
def executor(path: str, engine: str):
    network = setup(path)[3]
    if engine == "native":
        return NativeExecutor(network)
    from tierbook.network.durable import DurableExecutor
    return DurableExecutor(network)


@pytest.mark.parametrize("engine", ["native", pytest.param("durable-rules", marks=needs_durable)])
@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=IDS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_bits_holding_the_same_conditions_fire_the_same_rules(path, engine, data) -> None:
    network = setup(path)[3]
    bits = data.draw(bits_of(network))
    other = _same_conditions(network, bits, data)
    run = executor(path, engine).run
    assert run(other) == run(bits)


def _counting(monkeypatch):
    runs = {"n": 0}
    real = E.make_executor

    def make(engine, network, **kwargs):
        executor = real(engine, network, **kwargs)
        run = executor.run

        def counted(bits):
            runs["n"] += 1
            return run(bits)
        executor.run = counted
        return executor
    monkeypatch.setattr(E, "make_executor", make)
    return runs


@pytest.mark.parametrize("engine", ["native", pytest.param("durable-rules", marks=needs_durable)])
@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=IDS)
def test_one_run_per_set_of_conditions_held_and_identical_to_per_account(
        path, engine, monkeypatch) -> None:
    from tierbook.network import classes as C

    rs, accounts, frame, network = setup(path)
    C._PATH_CACHE.clear()
    runs = _counting(monkeypatch)
    memo = E.evaluate(rs, frame, AS_OF, engine=engine, memo=True)
    found = classes(network, frame)
    assert runs["n"] == len(memo.paths) == len(set(found.held)) == len(found.first)

    plain = E.evaluate(rs, frame, AS_OF, engine=engine, memo=False)
    assert len(plain.paths) == frame.height
    assert [(d.account_id, d.tier, d.cell, d.flags, d.bands, d.decisions, d.comments,
             d.reviews, d.motion, memo.fired(d)) for d in memo.decisions] == [
        (d.account_id, d.tier, d.cell, d.flags, d.bands, d.decisions, d.comments,
         d.reviews, d.motion, plain.fired(d)) for d in plain.decisions]


def test_the_sample_has_accounts_that_compare_differently_but_hold_the_same() -> None:
    """Otherwise the tests above would not show anything on the default ruleset."""
    rs, accounts, frame, network = setup(str(RULESETS[0].parent / "cs-segmentation-model.yaml"))
    distinct_codes = leaf_codes(network, frame).unique().height
    assert len(classes(network, frame).first) < distinct_codes


def test_classify_keys_its_memo_by_conditions_held(default_ruleset, sample_accounts) -> None:
    frame = E.values_frame(default_ruleset, sample_accounts[:200], AS_OF)
    ev = E.evaluate(default_ruleset, frame, AS_OF, engine="native")
    paths = len(ev.paths)
    for account in sample_accounts[:200]:
        d = ev.classify(account)
        one = classes(ev.network, E.values_frame(default_ruleset, [account], AS_OF))
        assert ev.paths[d.path_id] == NativeExecutor(ev.network).run(one.bits[0])
    assert len(ev.paths) == paths  # every account of the evaluation is on a path it ran
