"""The two executors and the memo: identical decisions and traces; errors become ours."""

from __future__ import annotations

import pytest

from tierbook.network import durable as durable_engine
from tierbook.network.compile import compile_network
from tierbook.errors import EngineError
from tierbook.evaluate.run import evaluate as evaluate_frame, resolve_bands, values_frame
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, RULESETS, SAMPLE, needs_durable


def evaluate(rs, accounts, as_of, **kwargs):
    return evaluate_frame(rs, values_frame(rs, accounts, as_of), as_of, **kwargs)


def _traces(ev):
    return [(d.account_id, d.tier, d.cell, d.flags, d.bands, d.decisions, d.comments, d.reviews,
             d.motion, [ev.network.rules[i].id for i, _ in ev.fired(d)]) for d in ev.decisions]


@needs_durable
@pytest.mark.parametrize("path", [str(p) for p in RULESETS], ids=[p.stem for p in RULESETS])
def test_durable_and_native_give_identical_traces(path: str) -> None:
    rs = load_ruleset(path)
    accounts = read_portfolio(str(SAMPLE), rs).accounts
    durable = evaluate(rs, accounts, AS_OF, engine="durable-rules")
    native = evaluate(rs, accounts, AS_OF, engine="native")
    assert durable.engine == "durable-rules" and native.engine == "native"
    assert _traces(durable) == _traces(native)


@pytest.mark.parametrize("engine", ["native", pytest.param("durable-rules", marks=needs_durable)])
def test_memo_is_identical_to_per_account_evaluation(default_ruleset, sample_accounts, engine) -> None:
    accounts = sample_accounts[:600]
    memo = evaluate(default_ruleset, accounts, AS_OF, engine=engine, memo=True)
    plain = evaluate(default_ruleset, accounts, AS_OF, engine=engine, memo=False)
    assert len(plain.paths) == len(accounts) > len(memo.paths)
    assert _traces(memo) == _traces(plain)


def test_every_account_gets_exactly_one_tier_and_its_motion(default_ruleset, sample_accounts) -> None:
    ev = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native")
    for d in ev.decisions:
        fired = [ev.network.rules[i] for i, _ in ev.fired(d)]
        assert [r.kind for r in fired].count("cell") == 1
        assert d.motion == d.tier


def test_incomplete_trace_is_an_error_not_a_partial_result(default_ruleset, sample_accounts) -> None:
    bands = resolve_bands(default_ruleset, values_frame(default_ruleset, sample_accounts[:5], AS_OF))
    # a band set whose bands no longer cover every value: the grid cannot place the account
    from dataclasses import replace
    sv = bands["sv_band"]
    bands["sv_band"] = replace(sv, bands=sv.bands[:1])
    with pytest.raises(EngineError, match="decision trace incomplete: missing .*tier"):
        evaluate(default_ruleset, sample_accounts[:5], AS_OF, engine="native", bands=bands)


@needs_durable
def test_exception_inside_an_action_names_the_rule(default_ruleset, sample_accounts, monkeypatch) -> None:
    """durable-rules would swallow it into state['exception']; we fail loudly."""
    from tierbook.network.classes import classes

    frame = values_frame(default_ruleset, sample_accounts[:3], AS_OF)
    network = compile_network(default_ruleset, resolve_bands(default_ruleset, frame))
    # durable-rules refuses floats like 1e-05 (error 204); make a grid cell derive one
    monkeypatch.setattr(durable_engine, "_enc", lambda v: v)
    for rule in network.rules:
        if rule.kind == "cell":
            rule.output["cell"] = 1e-05
    executor = durable_engine.DurableExecutor(network)
    with pytest.raises(EngineError, match=r"rule 'tier_grid\.\w+\.\w+' failed: .*204"):
        executor.run(classes(network, frame[:1]).bits[0])


@needs_durable
def test_no_thread_is_left_running(default_ruleset, sample_accounts) -> None:
    import threading

    before = set(threading.enumerate())
    evaluate(default_ruleset, sample_accounts[:50], AS_OF, engine="durable-rules")
    assert set(threading.enumerate()) - before == set()


def test_engine_falls_back_to_native_with_a_note(monkeypatch, default_ruleset, sample_accounts) -> None:
    monkeypatch.setattr(durable_engine, "AVAILABLE", False)
    monkeypatch.setattr(durable_engine, "IMPORT_ERROR", "ImportError: undefined symbol")
    ev = evaluate(default_ruleset, sample_accounts[:10], AS_OF, engine="auto")
    assert ev.engine == "native"
    assert "durable-rules cannot be imported" in ev.engine_note
    from tierbook.errors import UsageError
    with pytest.raises(UsageError, match="use --engine native"):
        evaluate(default_ruleset, sample_accounts[:10], AS_OF, engine="durable-rules")


def test_unique_hit_policy_overlap_at_run_time_is_an_error(tmp_path) -> None:
    """The validator flags overlaps it can prove; others are caught per account."""
    from tierbook.evaluate.decisions import Decision, decode
    from tierbook.ruleset.model import Decision as DecisionModel, DecisionRule
    import dataclasses
    rs = load_ruleset(str(RULESETS[0]))
    rs = dataclasses.replace(rs, decisions=(DecisionModel("d", "unique", (
        DecisionRule("a", {"field": "arr", "gt": 0}, "x", "a"),
        DecisionRule("b", {"field": "sku_count", "gt": 0}, "y", "b"))),))
    frame = values_frame(rs, [{"account_id": "A", "arr": 5.0, "sku_count": 2}], AS_OF)
    net = compile_network(rs, resolve_bands(rs, frame))
    rules = [r.index for r in net.rules if r.kind == "decision"]
    with pytest.raises(EngineError, match="hit policy unique but two rules applied"):
        decode(net, Decision("A", {}, {}, 0), [(i, 0) for i in rules])
