"""The executor runs once per set of rule conditions held, not once per class of accounts.

Classes tell apart what the comparisons tell apart (a blank from a false, which side of an
``or`` held); the executors see an account only through each rule alternative's condition
on it.  These tests hold ``conditions_held`` to that, and the evaluation built on it to the
per-account evaluation.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tierbook.evaluate.run as E
from tierbook.network.classes import class_index, conditions_held
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
    computed = E.compute_values(rs, accounts, AS_OF)
    network = compile_network(rs, E.resolve_bands(rs, computed))
    return rs, accounts, computed, network


def bits_of(network):
    n = len(network.leaves)
    return st.lists(st.sampled_from([0, 1, 2]), min_size=n, max_size=n).map(bytes)


@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=IDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_one_byte_per_alternative_that_looks_at_the_account(path, data) -> None:
    network = setup(path)[3]
    bits = data.draw(bits_of(network))
    expected = [int(formula_holds(d.account, bits)) for r in network.rules for d in r.disjuncts
                if d.account[0] != "true"]
    assert list(conditions_held(network)(bits)) == expected


def _same_conditions(network, bits: bytes, data) -> bytes:
    """Other bits holding the same conditions: each leaf in turn takes another state where
    that changes none of them."""
    held_of = conditions_held(network)
    held = held_of(bits)
    out = bytearray(bits)
    for i in data.draw(st.permutations(range(len(out)))):
        for state in data.draw(st.permutations([0, 1, 2])):
            trial = bytearray(out)
            trial[i] = state
            if held_of(bytes(trial)) == held:
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

    def make(engine, network):
        executor = real(engine, network)
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
    from tierbook.network import classes

    rs, accounts, computed, network = setup(path)
    classes._PATH_CACHE.clear()
    runs = _counting(monkeypatch)
    memo = E.evaluate(rs, accounts, AS_OF, engine=engine, memo=True)
    layout, bits_of_key = class_index(network, [v for v, _ in computed])
    held_of = conditions_held(network)
    held = {held_of(bits_of_key(k)) for k in set(layout.keys)}
    assert runs["n"] == len(memo.paths) == len(held)

    plain = E.evaluate(rs, accounts, AS_OF, engine=engine, memo=False)
    assert [(d.account_id, d.tier, d.cell, d.flags, d.bands, d.decisions, d.comments,
             d.reviews, d.motion, memo.fired(d)) for d in memo.decisions] == [
        (d.account_id, d.tier, d.cell, d.flags, d.bands, d.decisions, d.comments,
         d.reviews, d.motion, plain.fired(d)) for d in plain.decisions]


def test_the_sample_has_classes_that_share_conditions(default_ruleset, sample_accounts) -> None:
    """Otherwise the tests above would not show anything on the default ruleset."""
    rs, accounts, computed, network = setup(str(RULESETS[0].parent / "cs-segmentation-model.yaml"))
    layout, bits_of_key = class_index(network, [v for v, _ in computed])
    held_of = conditions_held(network)
    classes_ = set(layout.keys)
    assert len({held_of(bits_of_key(k)) for k in classes_}) < len(classes_)


def test_classify_keys_its_memo_by_conditions_held(default_ruleset, sample_accounts) -> None:
    ev = E.evaluate(default_ruleset, sample_accounts[:200], AS_OF, engine="native")
    paths = len(ev.paths)
    for account in sample_accounts[:200]:
        d = ev.classify(account)
        assert ev.paths[d.path_id] == NativeExecutor(ev.network).run(
            E.class_bits(ev.network, d.values))
    assert len(ev.paths) == paths  # every account of the evaluation is on a path it ran


def test_account_by_account_the_memo_is_keyed_the_same(default_ruleset, sample_accounts,
                                                       monkeypatch) -> None:
    """When the class keys cannot be worked out (a value the fast path cannot key), accounts
    are taken one by one: still one run per set of conditions held, the same decisions."""
    from tierbook.network import classes

    accounts = sample_accounts[:800]
    keyed = E.evaluate(default_ruleset, accounts, AS_OF, engine="native")
    classes._PATH_CACHE.clear()
    runs = _counting(monkeypatch)

    def cannot(*args, **kwargs):
        raise TypeError("a value the fast path cannot key")
    monkeypatch.setattr(E, "class_index", cannot)
    one_by_one = E.evaluate(default_ruleset, accounts, AS_OF, engine="native")
    assert one_by_one.layout is None
    assert runs["n"] == len(one_by_one.paths) == len(keyed.paths)
    assert [(d.account_id, d.tier, d.flags, one_by_one.fired(d)) for d in one_by_one.decisions] == [
        (d.account_id, d.tier, d.flags, keyed.fired(d)) for d in keyed.decisions]
