"""The values' columns the reader keeps (``Portfolio.by_field``) are the accounts' own values,
in account order, or absent: whatever reads them instead of the dicts -- class keys, band
boundaries, recounts, the trace rows -- must come out exactly as reading the dicts does.
Every test runs twice: with the columns as lists, and compacted as a large portfolio's are
(tierbook.columns)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest

from tierbook import columns as CO
from tierbook import read as R
from tierbook.capacity import calibrate
from tierbook.classes import value_columns
from tierbook.evaluate import evaluate
from tierbook.recount import Recounter
from tierbook.store import account_texts, row_fields
from tierbook.values import PartColumns, ValuesWhileReading, compile_value_columns

from .conftest import AS_OF, SAMPLE


@pytest.fixture(autouse=True, params=["lists", "compact"])
def compacting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """The columns compacted ("compact") however few the accounts, or never ("lists")."""
    monkeypatch.delenv("TIERBOOK_COMPACT_COLUMNS", raising=False)
    monkeypatch.setattr(CO, "COMPACT_MIN", 0 if request.param == "compact" else 1 << 62)
    return bool(request.param == "compact")


ROWS = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))


def _write(tmp_path: Path, rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path / "portfolio.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def _read(path: str, ruleset: Any, **kwargs: Any) -> R.Portfolio:
    return R.read_portfolio(path, ruleset, values=ValuesWhileReading(ruleset, AS_OF), **kwargs)


def _assert_columns_of_the_dicts(p: R.Portfolio) -> None:
    assert p.by_field is not None and p.prepared is not None
    keys = set(p.accounts[0])
    assert all(set(a) == keys for a in p.accounts) and set(p.by_field) == keys
    for name, column in p.by_field.items():
        assert len(column) == len(p.accounts)
        if isinstance(column, list):  # the very objects in the dicts, not equal copies
            assert all(v is a[name] for v, a in zip(column, p.accounts)), name
        else:  # compact (tierbook.columns): equal, and of the same type (1, 1.0, True)
            assert _typed({name: column}) == _typed({name: [a[name] for a in p.accounts]}), name


def _typed(by_field: dict[str, Any] | None) -> dict[str, list[tuple[str, str]]] | None:
    """Each column's values as (type, repr): 1, 1.0 and True differ, and 0.0 and -0.0."""
    if by_field is None:
        return None
    return {name: [(type(v).__name__, repr(v)) for v in column] for name, column in by_field.items()}


def _read_in(monkeypatch: pytest.MonkeyPatch, split: bool) -> None:
    """Reads in two halves (``split``) or in one piece, in many chunks, the last one short."""
    if split:
        if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
            pytest.skip("the split read needs fork and two cores")
        monkeypatch.setattr(R, "SPLIT_MIN", 0)
        monkeypatch.delenv("TIERBOOK_NO_SPLIT_READ", raising=False)
    else:
        monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    monkeypatch.setattr(R, "_CHUNK", 97)


@pytest.mark.parametrize("split", [False, True])
def test_kept_columns_are_the_accounts_values_in_order(tmp_path, default_ruleset, monkeypatch,
                                                        split):
    _read_in(monkeypatch, split)
    p = _read(_write(tmp_path, ROWS), default_ruleset)
    assert len(p.accounts) == len(ROWS) - 1
    _assert_columns_of_the_dicts(p)
    assert p.by_field is not None and p.by_field["account_id"] == p.ids


def test_no_columns_where_rows_were_read_one_by_one(tmp_path, default_ruleset, monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    rows = [list(r) for r in ROWS]
    rows[500][ROWS[0].index("arr")] = "twelve hundred"  # skipped: its chunk is read row by row
    p = _read(_write(tmp_path, rows), default_ruleset, on_error="skip")
    assert len(p.rejects) == 1 and p.prepared is not None and p.by_field is None
    assert R.read_portfolio(_write(tmp_path, ROWS), default_ruleset).by_field is None  # no values


def test_evaluating_from_the_columns_is_evaluating_from_the_dicts(tmp_path, default_ruleset,
                                                                  monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    p = _read(_write(tmp_path, ROWS), default_ruleset)
    assert p.prepared is not None and p.by_field is not None
    with_columns = evaluate(default_ruleset, p.accounts, AS_OF, computed=p.prepared,
                            by_field=p.by_field)
    from_dicts = evaluate(default_ruleset, p.accounts, AS_OF, computed=p.prepared)
    assert with_columns.by_field is p.by_field and from_dicts.by_field is None
    assert with_columns.layout is not None and from_dicts.layout is not None
    assert list(with_columns.layout.keys) == list(from_dicts.layout.keys)
    assert with_columns.bands == from_dicts.bands
    assert with_columns.decisions == from_dicts.decisions
    tiers = dict(__import__("collections").Counter(d.tier for d in from_dicts.decisions))
    assert (calibrate(default_ruleset, with_columns.bands, tiers, Recounter(with_columns))
            == calibrate(default_ruleset, from_dicts.bands, tiers, Recounter(from_dicts)))


def test_trace_rows_from_the_columns_are_the_rows_from_the_dicts(tmp_path, default_ruleset,
                                                                 monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    p = _read(_write(tmp_path, ROWS), default_ruleset)
    assert p.prepared is not None and p.by_field is not None
    values = [v for v, _ in p.prepared]
    parts = [q for _, q in p.prepared]
    fields = row_fields(default_ruleset)
    assert (account_texts(values, parts, *fields, by_field=p.by_field)
            == account_texts(values, parts, *fields))
    # some columns at hand, the rest read from the dicts
    some = {name: p.by_field[name] for name in list(p.by_field)[::3]}
    assert account_texts(values, parts, *fields, by_field=some) == account_texts(values, parts,
                                                                                 *fields)


def test_value_columns_reads_what_is_at_hand_and_the_dicts_for_the_rest():
    values = [{"a": 1, "b": 2.5}, {"a": 3}]
    assert value_columns(["b", "a"], values, {"a": ["x", "y"]}) == [[2.5, None], ["x", "y"]]
    assert value_columns(["b", "a"], values) == [[2.5, None], [1, 3]]


def test_dicts_of_columns_are_the_rows_as_dicts():
    columns = {"b": [1, 2.5, None], "a": ["x", "y", "z"], "c": [True, False, 0]}
    rows = R.dicts_of(columns)
    assert rows == [{"b": 1, "a": "x", "c": True}, {"b": 2.5, "a": "y", "c": False},
                    {"b": None, "a": "z", "c": 0}]
    assert [list(r) for r in rows] == [["b", "a", "c"]] * 3  # the columns' order
    assert rows[0] is not rows[1] and R.dicts_of({}) == [] and R.dicts_of({"a": []}) == []


def _lazy_read(path: str, ruleset: Any) -> R.Portfolio:
    values = ValuesWhileReading(ruleset, AS_OF)
    values.dicts = False
    return R.read_portfolio(path, ruleset, values=values)


@pytest.mark.parametrize("split", [False, True])
def test_accounts_read_as_columns_are_dicts_only_when_asked_for(tmp_path, default_ruleset,
                                                                 monkeypatch, split, compacting):
    _read_in(monkeypatch, split)
    path = _write(tmp_path, ROWS)
    lazy = _lazy_read(path, default_ruleset)
    eager = _read(path, default_ruleset)
    assert isinstance(lazy.accounts, R.Rows) and isinstance(lazy.prepared, R.Prepared)
    assert _typed(lazy.by_field) == _typed(eager.by_field) and lazy.rows == eager.rows
    # (read for segment, a large portfolio's columns are compact: tierbook.columns)
    compacted = [name for name, column in lazy.by_field.items() if not isinstance(column, list)]
    assert compacted if compacting else not compacted
    assert lazy.ids == eager.ids and len(lazy.accounts) == len(lazy.prepared) == len(ROWS) - 1
    assert not lazy.accounts.built  # nothing above needed a dict
    assert list(lazy.accounts) == eager.accounts and lazy.accounts.built
    assert list(lazy.prepared) == list(eager.prepared or [])
    assert lazy.prepared[7] == eager.prepared[7] and lazy.prepared[7][0] is lazy.accounts[7]
    _assert_columns_of_the_dicts(R.Portfolio(lazy.file, lazy.sha256, list(lazy.accounts),
                                             lazy.rows, {}, [], prepared=list(lazy.prepared),
                                             by_field=lazy.by_field))


def test_a_row_read_row_by_row_gives_every_account_its_dict(tmp_path, default_ruleset,
                                                            monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    monkeypatch.setattr(R, "_CHUNK", 97)
    rows = [list(r) for r in ROWS]
    rows[600] = rows[600][:ROWS[0].index("csm")]  # a short row: its chunk read row by row
    path = _write(tmp_path, rows)
    lazy = _lazy_read(path, default_ruleset)
    eager = _read(path, default_ruleset)
    assert isinstance(lazy.accounts, list) and lazy.by_field is None
    assert lazy.accounts == eager.accounts and lazy.prepared == eager.prepared


def test_a_decision_looks_its_values_up_when_first_read():
    from tierbook.evaluate import Decision
    rows = R.Rows({"account_id": ["a", "b"], "arr": [1.5, None]})
    parts = PartColumns({"s": {"c": [0.1, 0.2]}}, 2)
    d = Decision("b", rows, parts, 0, tier="t", at=1)
    assert not rows.built and parts._dicts is None
    assert d.values == {"account_id": "b", "arr": None} and rows.built and parts._dicts is None
    assert d == Decision("b", {"account_id": "b", "arr": None}, {"s": {"c": 0.2}}, 0, tier="t")
    assert d.values is rows[1] and d.parts is parts[1]
    assert d != Decision("b", {"account_id": "b"}, {"s": {"c": 0.2}}, 0, tier="t")


def test_segment_builds_no_dict_per_account_and_decides_as_with_dicts(default_ruleset,
                                                                      monkeypatch):
    from tierbook import segment as S

    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    lazy = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    rows = lazy.evaluation.decisions[0]._values
    parts = lazy.evaluation.part_columns
    summary = lazy.as_json(accounts=False)
    assert isinstance(rows, R.Rows) and not rows.built  # run, calibration, gates, summary
    assert isinstance(parts, PartColumns) and parts._dicts is None
    assert lazy.evaluation.decisions[0]._parts is parts

    class WithDicts(ValuesWhileReading):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.__dict__["dicts"] = True

        def __setattr__(self, name: str, value: Any) -> None:
            if name != "dicts":
                super().__setattr__(name, value)
    monkeypatch.setattr(S, "ValuesWhileReading", WithDicts)
    eager = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    assert isinstance(eager.evaluation.decisions[0]._values, dict)
    assert summary == eager.as_json(accounts=False)
    assert lazy.gates == eager.gates and lazy.calibration == eager.calibration
    assert lazy.as_json(accounts=True) == eager.as_json(accounts=True)
    assert lazy.evaluation.decisions == eager.evaluation.decisions and rows.built
    assert parts._dicts is not None and eager.evaluation.part_columns is None


def test_rows_stored_in_line_from_the_columns_are_the_rows_from_the_dicts(tmp_path,
                                                                           default_ruleset,
                                                                           monkeypatch):
    import sqlite3
    from contextlib import closing

    from tierbook import segment as S
    from tierbook.store import TraceStore

    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    ev = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native").evaluation
    rows = ev.decisions[0]._values
    assert ev.by_field is not None and not rows.built
    stored = []
    assert ev.part_columns is not None and ev.part_columns._dicts is None
    for name, by_field in (("columns", ev.by_field), ("dicts", None)):
        store = TraceStore(tmp_path / f"{name}.sqlite")
        try:
            store.write_evaluated(1, ev.decisions, *row_fields(default_ruleset), batch=700,
                                  by_field=by_field,
                                  part_columns=ev.part_columns if by_field else None)
            store.db.commit()
        finally:
            store.close()
        # the columns alone, then the dicts
        assert rows.built == (by_field is None) == (ev.part_columns._dicts is not None)
        with closing(sqlite3.connect(tmp_path / f"{name}.sqlite")) as db:
            stored.append(db.execute("SELECT * FROM accounts ORDER BY rowid").fetchall())
    assert stored[0] == stored[1] and len(stored[0]) == len(ROWS) - 1


def test_score_parts_as_columns_are_the_parts_as_dicts(tmp_path, default_ruleset, monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    p = _read(_write(tmp_path, ROWS), default_ruleset)
    assert p.by_field is not None and p.prepared is not None
    columns_of = compile_value_columns(default_ruleset, AS_OF)
    assert columns_of is not None
    inputs = {i.id: p.by_field[i.id] for i in default_ruleset.inputs if i.id in p.by_field}
    n = len(p.ids)
    out, as_dicts = columns_of(dict(inputs), n)
    out2, as_columns = columns_of(dict(inputs), n, True)
    assert out == out2 and isinstance(as_columns, PartColumns) and len(as_columns) == n
    assert as_columns._dicts is None and list(as_columns) == as_dicts == [q for _, q in p.prepared]
    assert [list(d) for d in as_columns][:3] == [list(d) for d in as_dicts][:3]  # key order
    half = as_columns[n // 2:]
    assert isinstance(half, PartColumns) and list(half) == as_dicts[n // 2:]
    joined = PartColumns({}, 0)
    assert joined.extend(as_columns[:100]) and joined.extend(as_columns[100:])
    assert list(joined) == as_dicts and not joined.extend(PartColumns({"x": {}}, 1))


def test_part_columns_for_scores_without_components_or_none_at_all():
    empty = PartColumns({"s": {}}, 2)
    assert list(empty) == [{"s": {}}, {"s": {}}] and list(PartColumns({}, 2)) == [{}, {}]


def test_out_of_range_parts_are_counted_from_the_columns_as_from_the_dicts():
    import math

    from tierbook.gates import _outside_0_1
    for column in ([0.0, 1.0, 0.5, None], [1.5, None, -0.1, 0.2], [math.nan, 0.3],
                   [0.3, math.nan], [None], [], [2, 0, 1], [True, False]):
        assert _outside_0_1(column) == sum(1 for v in column
                                           if v is not None and not 0 <= v <= 1), column


def test_a_text_that_repeats_is_kept_once(tmp_path, default_ruleset, monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    p = _read(_write(tmp_path, ROWS), default_ruleset)
    assert p.by_field is not None
    tiers = p.by_field["current_tier"]
    assert len({id(t) for t in tiers}) == len(set(tiers)) < 10  # a tier: one object each
    assert p.accounts[0]["current_tier"] is next(t for t in tiers if t == tiers[0])
    column = ROWS[0].index("current_tier")
    assert tiers == [row[column].strip() for row in ROWS[1:]]  # the same text, as read
    ids = p.by_field["account_id"]
    assert len(set(ids)) == len(ids) == len(ROWS) - 1
