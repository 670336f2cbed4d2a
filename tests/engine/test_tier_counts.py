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


def test_a_path_not_cached_yet_means_a_full_evaluation(default_ruleset, monkeypatch):
    ev = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    bands = next(_moved(ev))
    calls = []
    real = E.evaluate
    monkeypatch.setattr(E, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    from tierbook.network import classes
    classes._PATH_CACHE.clear()
    counts = E.tier_counts(ev, bands)
    assert calls == [1] and sum(counts.values()) == ev.frame.height
    calls.clear()
    assert E.tier_counts(ev, bands) == counts and calls == []  # (now every path is cached)
