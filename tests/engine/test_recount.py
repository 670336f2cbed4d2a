"""Calibration's tier recount (tierbook.evaluate.recount) against full evaluations with the same bands.

Every band boundary of every shipped ruleset is moved to values around and onto the
portfolio's own values and the other boundaries; the recount must give exactly the tier
counts a full evaluation gives.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from tierbook.evaluate import recount
from tierbook.evaluate.run import compute_values, evaluate
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, RULESETS, SAMPLE


def _moves(rb, values):
    """Band sets with one inner boundary moved, to each of several interesting places."""
    edges = [b.lower for b in rb.bands[1:] if b.lower is not None]
    known = sorted(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    for i, band in enumerate(rb.bands):
        if i == 0 or band.lower is None:
            continue
        lo = rb.bands[i - 1].lower
        hi = band.upper
        candidates = {band.lower * 0.5, band.lower * 0.9, band.lower * 1.1, band.lower * 2}
        candidates |= set(edges)  # onto another boundary: comparisons merge
        candidates |= {known[len(known) // q] for q in (2, 3, 4, 10) if known}  # onto a value
        for new in sorted(candidates):
            if (lo is not None and new <= lo) or (hi is not None and new >= hi) or new == band.lower:
                continue
            bands = list(rb.bands)
            bands[i] = dataclasses.replace(band, lower=new)
            bands[i - 1] = dataclasses.replace(bands[i - 1], upper=new)
            yield dataclasses.replace(rb, bands=tuple(bands))


@pytest.mark.parametrize("kept", ["dicts", "columns"])
@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_recount_equals_full_evaluation(path, kept):
    ruleset = load_ruleset(str(path))
    pf = read_portfolio(str(SAMPLE), ruleset)
    computed = compute_values(ruleset, pf.accounts, AS_OF)
    by_field = None
    if kept == "columns":  # the values' columns, as segment keeps them
        by_field = {name: [v.get(name) for v, _ in computed] for name in computed[0][0]}
    ev = evaluate(ruleset, pf.accounts, AS_OF, engine="native", computed=computed,
                  by_field=by_field)
    assert ev.layout is not None and ev.by_field is by_field
    tried = 0
    shared = recount.Recounter(ev)  # as calibration uses it: one recounter, round after round
    for set_id, rb in ev.bands.items():
        column = [v.get(rb.over) for v, _ in computed]
        for moved in _moves(rb, column):
            bands = dict(ev.bands, **{set_id: moved})
            full = evaluate(ruleset, pf.accounts, AS_OF, engine="native", bands=bands,
                            computed=computed)
            expected = dict(Counter(d.tier for d in full.decisions))
            assert recount._recount(recount.Recounter(ev), bands) is not None  # fast path
            assert recount.tier_counts(ev, bands) == expected, (set_id, moved.bands)
            assert shared(bands) == expected, (set_id, moved.bands)
            tried += 1
    assert tried >= 3


def test_two_bands_moved_at_once(default_ruleset, sample_accounts):
    computed = compute_values(default_ruleset, sample_accounts, AS_OF)
    ev = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native", computed=computed)
    bands = dict(ev.bands)
    for set_id in list(bands)[:2]:
        bands[set_id] = next(_moves(bands[set_id], [v.get(bands[set_id].over) for v, _ in computed]))
    full = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native", bands=bands,
                    computed=computed)
    assert recount.tier_counts(ev, bands) == dict(Counter(d.tier for d in full.decisions))


def test_without_a_class_layout_it_evaluates_in_full(default_ruleset, sample_accounts):
    ev = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native")
    set_id, rb = next(iter(ev.bands.items()))
    bands = dict(ev.bands, **{set_id: next(_moves(rb, []))})
    expected = recount.tier_counts(ev, bands)
    ev.layout = None
    assert recount._recount(recount.Recounter(ev), bands) is None
    assert recount.tier_counts(ev, bands) == expected
    assert sum(expected.values()) == len(sample_accounts)


def test_a_moved_boundary_recounts_only_the_accounts_between(default_ruleset, sample_accounts,
                                                               monkeypatch):
    computed = compute_values(default_ruleset, sample_accounts, AS_OF)
    ev = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native", computed=computed)
    seen = []
    real = recount._moved_only
    monkeypatch.setattr(recount, "_moved_only", lambda *a: seen.append(real(*a)) or seen[-1])
    checked = 0
    for set_id, rb in ev.bands.items():
        column = [v.get(rb.over) for v, _ in computed]
        for moved in list(_moves(rb, column))[:3]:
            bands = dict(ev.bands, **{set_id: moved})
            full = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native", bands=bands,
                            computed=computed)
            assert recount.tier_counts(ev, bands) == dict(Counter(d.tier for d in full.decisions))
            some = seen[-1]
            if some is None:
                continue
            checked += 1
            assert 0 < len(some) < len(sample_accounts)  # a few, not all
            changed = [i for i, (a, b) in enumerate(zip(ev.decisions, full.decisions)) if a.tier != b.tier]
            assert set(changed) <= set(some)  # every account that moves tier was looked at
    assert checked >= 3


def test_a_changed_comparison_is_not_a_moved_constant(default_ruleset, sample_accounts):
    computed = compute_values(default_ruleset, sample_accounts, AS_OF)
    ev = evaluate(default_ruleset, sample_accounts, AS_OF, engine="native", computed=computed)
    rb = next(rb for rb in ev.bands.values() if len(rb.bands) > 2)
    state = recount.Recounter(ev)
    # the same constants with one comparison made inclusive: not a moved constant
    from tierbook.network.compile import compile_network

    network = compile_network(default_ruleset, ev.bands)
    leaf = next(l for l in network.leaves if l.field == rb.over and l.op == "lt")
    network.leaves[leaf.index] = dataclasses.replace(leaf, op="lte")
    state.columns[rb.over] = [d.values.get(rb.over) for d in ev.decisions]
    assert recount._moved_only(state, network, recount.network_signature(network),
                               [rb.over]) is None
