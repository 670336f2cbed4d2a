"""Calibration's tier counts under a moved band boundary (evaluate.run.tier_counts), counted
over the classes from cached paths, against full evaluations with the same bands: every
inner boundary of every shipped ruleset moved below, near and above where it is."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from tierbook.commands import segment as S
from tierbook.evaluate import run as E
from tierbook.ruleset.build import load_ruleset

from ..conftest import AS_OF, RULESETS, SAMPLE


def _moved(ev):
    for sid, rb in ev.bands.items():
        for i in range(1, len(rb.bands)):
            band, lo = rb.bands[i], rb.bands[i - 1].lower
            if band.lower is None:
                continue
            for factor in (0.5, 0.9, 0.999, 1.001, 1.1, 2.0):
                new = band.lower * factor
                if (lo is not None and new <= lo) or (band.upper is not None and new >= band.upper):
                    continue
                bands = list(rb.bands)
                bands[i] = dataclasses.replace(band, lower=new)
                bands[i - 1] = dataclasses.replace(bands[i - 1], upper=new)
                yield dict(ev.bands, **{sid: dataclasses.replace(rb, bands=tuple(bands))})


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_counts_over_cached_paths_are_the_full_evaluations(path):
    ruleset = load_ruleset(str(path))
    ev = S.segment(ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    trials = list(_moved(ev))
    assert trials
    for bands in trials:
        full = E.evaluate(ruleset, ev.frame, AS_OF, engine="native", bands=bands)
        assert E.tier_counts(ev, bands) == dict(Counter(full.tiers()))


def test_a_path_not_cached_yet_is_run_for_its_class_only(default_ruleset, monkeypatch):
    """A class whose path no round has run yet: the executor runs for that class alone (no
    full evaluation), and the next round finds every path cached (no executor run)."""
    ev = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    bands = next(_moved(ev))
    evaluations = []
    real = E.evaluate
    monkeypatch.setattr(E, "evaluate", lambda *a, **k: evaluations.append(1) or real(*a, **k))
    runs = []
    real_make = E.make_executor

    def counting(engine, network, **kwargs):
        executor = real_make(engine, network, **kwargs)
        run = executor.run
        executor.run = lambda bits: runs.append(1) or run(bits)  # type: ignore[method-assign]
        return executor

    monkeypatch.setattr(E, "make_executor", counting)
    from tierbook.network import classes

    classes._PATH_CACHE.clear()
    counts = E.tier_counts(ev, bands)
    distinct = len(classes.classes(E.compile_network(ev.ruleset, bands), ev.frame).held)
    assert evaluations == [] and len(runs) == distinct and sum(counts.values()) == ev.frame.height
    runs.clear()
    assert E.tier_counts(ev, bands) == counts and runs == [] and evaluations == []


def test_a_batch_through_the_network_is_each_account_through_it(default_ruleset):
    """Evaluation.classify_frame (the what-ifs of gates and near-boundary checks, in one
    batch) decides what classify decides for each account alone, including accounts whose
    conditions held no evaluated account met."""
    ev = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    inputs = ev.frame.select(
        list(dict.fromkeys(["account_id", *(i.id for i in default_ruleset.inputs)]))
    )[:40]
    arr = default_ruleset.role("arr") or "arr"
    moved = inputs.with_columns((inputs[arr] * 37.5).alias(arr))
    batch = ev.classify_frame(moved)
    alone = [ev.classify(row) for row in moved.iter_rows(named=True)]
    assert [(d.account_id, d.tier, d.flags, d.path_id) for d in batch] == [
        (d.account_id, d.tier, d.flags, d.path_id) for d in alone
    ]
    assert any(b.tier != ev.decisions[i].tier for i, b in enumerate(batch))  # (a real what-if)
