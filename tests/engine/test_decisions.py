"""tierbook.evaluate.decisions: an evaluation keeps a path id per account and a decision per
path; every way of reading its decisions gives what evaluating each account alone gives."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from tierbook.commands import segment as S
from tierbook.errors import EngineError
from tierbook.evaluate.run import evaluate, resolve_bands, values_frame

from ..conftest import AS_OF, SAMPLE


@pytest.fixture(scope="module")
def both(default_ruleset):
    """The sample as segment evaluates it, and each account evaluated without the memo."""
    memo = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    plain = evaluate(default_ruleset, memo.frame, AS_OF, engine="native", memo=False,
                     bands=memo.bands)
    return memo, plain


def _fields(d):
    return (d.account_id, d.values, d.parts, d.tier, d.cell, d.bands, d.rows, d.decisions,
            d.flags, d.comments, d.reviews, d.motion)


def test_a_path_id_per_account_and_a_decision_per_path(both):
    memo, plain = both
    assert len(memo.path_ids()) == len(memo.decisions) == memo.frame.height > 1000
    assert len(memo.firsts) == len(set(memo.path_ids())) < len(memo.decisions) // 5
    assert len(plain.firsts) == plain.frame.height


def test_reading_them_is_reading_each_account(both):
    memo, plain = both
    kept, each = memo.decisions, list(plain.decisions)
    assert [_fields(d) for d in kept] == [_fields(d) for d in each]
    assert _fields(kept[0]) == _fields(each[0]) and _fields(kept[-1]) == _fields(each[-1])
    assert [_fields(d) for d in kept[10:20]] == [_fields(d) for d in each[10:20]]
    assert [_fields(d) for d in kept[::500]] == [_fields(d) for d in each[::500]]
    with pytest.raises(IndexError):
        kept[len(kept)]


def test_what_paths_decide_is_read_without_a_decision_per_account(both):
    memo, plain = both
    each = list(plain.decisions)
    assert memo.tiers() == [d.tier for d in each]
    assert memo.account_ids() == [d.account_id for d in each]
    paths = memo.by_path()
    assert sum(n for _, n in paths) == len(each)
    assert Counter({d.tier: n for d, n in paths}.keys()) == Counter(set(d.tier for d in each))
    # paths in the order of their first account
    assert [d.path_id for d, _ in paths] == list(dict.fromkeys(memo.path_ids()))


def test_the_first_account_whose_trace_is_incomplete_is_named(default_ruleset, sample_accounts):
    """A band set that no longer covers every value: the first account (in file order) with
    a value outside it is named, wherever its path's first account is."""
    frame = values_frame(default_ruleset, sample_accounts, AS_OF)
    bands = resolve_bands(default_ruleset, frame)
    arr = bands["arr_band"]
    bands["arr_band"] = replace(arr, bands=arr.bands[:-1])  # the top band gone
    top = arr.bands[-1]
    first = next(a["account_id"] for a in sample_accounts
                 if a["arr"] is not None and a["arr"] >= (top.lower or 0))
    with pytest.raises(EngineError, match="decision trace incomplete") as err:
        evaluate(default_ruleset, frame, AS_OF, engine="native", bands=bands)
    assert err.value.account_id == first
    with pytest.raises(EngineError) as plain:
        evaluate(default_ruleset, frame, AS_OF, engine="native", bands=bands, memo=False)
    assert plain.value.account_id == first
