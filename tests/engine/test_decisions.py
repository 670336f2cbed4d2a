"""tierbook.evaluate.decisions: accounts read as columns keep a path id each, and every way of reading
their decisions gives what a list of Decision objects gives."""

from __future__ import annotations

from collections import Counter

import pytest

from tierbook.commands import segment as S
from tierbook.evaluate.decisions import Decision, Decisions, account_ids, by_path, path_ids, tiers
from tierbook.errors import EngineError
from tierbook.evaluate.run import evaluate

from ..conftest import AS_OF, SAMPLE


@pytest.fixture(scope="module")
def both(default_ruleset):
    """The sample evaluated from the reader's columns (Decisions) and from dicts (a list)."""
    lazy = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    eager = evaluate(default_ruleset, [], AS_OF, engine="native",
                     computed=[(d.values, d.parts) for d in lazy.decisions])
    return lazy, eager


def test_columns_give_a_path_id_per_account_and_a_decision_per_path(both):
    lazy, eager = both
    kept = lazy.decisions
    assert isinstance(kept, Decisions) and isinstance(eager.decisions, list)
    assert kept.path_ids.typecode == "i" and len(kept) == len(eager.decisions) > 1000
    assert len(kept.firsts) == len(set(kept.path_ids)) < len(kept) // 5


def test_reading_them_is_reading_the_list(both):
    lazy, eager = both
    kept, listed = lazy.decisions, eager.decisions
    assert kept == listed and listed == list(kept)
    assert kept[0] == listed[0] and kept[-1] == listed[-1] and kept[1234] == listed[1234]
    assert kept[10:20] == listed[10:20] and kept[::500] == listed[::500]
    d = kept[77]
    assert d.at == 77 and d.account_id == listed[77].account_id
    assert d.values == listed[77].values and d.parts == listed[77].parts
    with pytest.raises(IndexError):
        kept[len(kept)]
    assert kept != listed[:-1] and kept != listed[::-1]


def test_what_paths_decide_is_read_without_a_decision_per_account(both, monkeypatch):
    lazy, eager = both
    kept, listed = lazy.decisions, eager.decisions
    made = []
    real = Decisions._make
    monkeypatch.setattr(Decisions, "_make", lambda self, at: made.append(at) or real(self, at))
    assert tiers(kept) == tiers(listed) == [d.tier for d in listed]
    assert list(path_ids(kept)) == path_ids(listed) == [d.path_id for d in listed]
    assert account_ids(kept) == account_ids(listed) == [d.account_id for d in listed]
    lazy_paths = [(d.path_id, d.tier, d.flags, d.bands, n) for d, n in by_path(kept)]
    eager_paths = [(d.path_id, d.tier, d.flags, d.bands, n) for d, n in by_path(listed)]
    assert lazy_paths == eager_paths and sum(n for *_, n in lazy_paths) == len(listed)
    # paths in the order of their first account, as a count over the accounts meets them
    assert [p for p, *_ in lazy_paths] == list(Counter(d.path_id for d in listed))
    assert made == []


def test_an_account_whose_trace_is_incomplete_is_named(default_ruleset, sample_accounts,
                                                       monkeypatch):
    from tierbook.evaluate import run as E

    real = E.check_complete

    def failing(network, d):  # (as if a path missed a band: only for a blank health score)
        if d.values.get("health_score") is None:
            raise EngineError(f"account {d.account_id}: decision trace incomplete",
                              account_id=d.account_id)
        real(network, d)
    monkeypatch.setattr(E, "check_complete", failing)
    monkeypatch.setattr(E, "_may_be_incomplete", lambda network, d: True)
    with pytest.raises(EngineError) as err:
        S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    first_blank = next(a["account_id"] for a in sample_accounts if a.get("health_score") is None)
    assert err.value.account_id == first_blank


def test_a_list_of_decisions_reads_the_same_ways():
    a = Decision("a", {}, {}, 0, tier="t1", flags=["f"])
    b = Decision("b", {}, {}, 1, tier="t2")
    c = Decision("c", {}, {}, 0, tier="t1", flags=["f"])
    assert tiers([a, b, c]) == ["t1", "t2", "t1"] and path_ids([a, b, c]) == [0, 1, 0]
    assert account_ids([a, b, c]) == ["a", "b", "c"]
    assert by_path([a, b, c]) == [(a, 2), (b, 1)]
