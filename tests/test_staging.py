"""The trace store's rows built, and the run stored, by a forked process while this one
evaluates and goes on (tierbook.staging): the store must hold exactly what storing in line
holds; a store error is the in-line error; a command that fails afterwards leaves its run
marked failed; anything going wrong over there ends in the run stored in line; no process
or file is left behind."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tierbook import commands, read, splitread, staging
from tierbook.errors import StoreError
from tierbook.store import TraceStore

from .conftest import ROOT, SAMPLE

AS_OF = dt.date(2026, 10, 1)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                                reason="the store process needs fork and two cores")


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store process on for the 3,000-account sample, its job files in a folder of the
    test's own."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(staging, "MIN_ACCOUNTS", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    for name in ("TIERBOOK_NO_STAGING", "TIERBOOK_STORE_IN_LINE"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What ``StagedRows.start`` returned, and what each ``result`` found, each time."""
    seen: dict[str, list[Any]] = {"started": [], "results": []}
    start, result = staging.StagedRows.start.__func__, staging.StagedRows.result  # type: ignore[attr-defined]

    def spy_start(cls: Any, *args: Any, **kwargs: Any) -> Any:
        seen["started"].append(start(cls, *args, **kwargs))
        return seen["started"][-1]

    def spy_result(self: Any) -> Any:
        seen["results"].append(result(self))
        return seen["results"][-1]
    monkeypatch.setattr(staging.StagedRows, "start", classmethod(spy_start))
    monkeypatch.setattr(staging.StagedRows, "result", spy_result)
    return seen


def _segment(store: Path, accounts: Path = SAMPLE) -> Any:
    return commands.segment(None, str(accounts), as_of=AS_OF, engine="native",
                            store_path=str(store), out_dir=None, chart=False)


def _contents(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the times and the store's own ids."""
    with closing(sqlite3.connect(store)) as db:
        return {
            "runs": db.execute("SELECT command, status, ruleset_sha256, input_file, input_sha256, "
                               "engine, as_of, label, bands, account_count FROM runs "
                               "ORDER BY run_id").fetchall(),
            "paths": db.execute("SELECT * FROM paths ORDER BY run_id, path_id").fetchall(),
            "firings": db.execute("SELECT * FROM firings ORDER BY 1, 2, 3").fetchall(),
            "accounts": db.execute("SELECT * FROM accounts ORDER BY run_id, account_id").fetchall(),
        }


@pytest.fixture
def in_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[Any, ...]]]:
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_STORE_IN_LINE", "1")
        _segment(tmp_path / "in-line.sqlite")
    return _contents(tmp_path / "in-line.sqlite")


def _nothing_left(scratch: Path) -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every process reaped
    assert list(scratch.iterdir()) == []  # and every job file gone


def _stored_here(tmp_path: Path, scratch: Path, spy: dict[str, list[Any]],
                 in_line: dict[str, list[tuple[Any, ...]]]) -> None:
    """A segment whose store process was started but stored nothing: the run is the one
    stored in line, and nothing is left behind."""
    result = _segment(tmp_path / "t.sqlite")
    assert spy["started"][-1] is not None and spy["results"] == [None]
    assert result.run_id == 1 and _contents(tmp_path / "t.sqlite") == in_line
    _nothing_left(scratch)


def test_the_run_stored_over_there_is_the_run_stored_in_line(tmp_path, scratch, spy, in_line):
    result = _segment(tmp_path / "t.sqlite")
    assert spy["started"][-1] is not None and spy["results"] == [1]
    assert result.run_id == 1 and result.store_path == str(tmp_path / "t.sqlite")
    stored = _contents(tmp_path / "t.sqlite")
    assert stored == in_line
    assert stored["runs"][0][1] == "complete" and len(stored["accounts"]) == 3000
    _nothing_left(scratch)
    first = stored["accounts"][0][1]  # and explain reads it back
    assert commands.explain(first, store_path=str(tmp_path / "t.sqlite"))["account_id"] == first


def test_a_builder_that_fails_leaves_the_run_to_this_process(tmp_path, scratch, spy, in_line,
                                                             monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("out of memory")
    monkeypatch.setattr(staging, "build", broken)  # runs in the forked process
    _stored_here(tmp_path, scratch, spy, in_line)


def test_rows_that_are_not_the_runs_accounts_are_not_stored(tmp_path, scratch, spy, in_line,
                                                            monkeypatch):
    build = staging.build

    def shuffled(values: Any, parts: Any, *rest: Any, by_field: Any = None) -> Any:
        # every row, in the wrong order
        return build(values[::-1], parts[::-1], *rest,
                     by_field=by_field and {k: v[::-1] for k, v in by_field.items()})
    monkeypatch.setattr(staging, "build", shuffled)
    _segment(tmp_path / "t.sqlite")
    assert spy["results"] == [None]
    assert _contents(tmp_path / "t.sqlite") == in_line
    _nothing_left(scratch)


def test_a_temporary_folder_that_cannot_be_written_leaves_the_run_to_this_process(
        tmp_path, scratch, spy, in_line, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    _stored_here(tmp_path, scratch, spy, in_line)


def test_a_run_that_cannot_be_sent_is_stored_in_line(tmp_path, scratch, spy, in_line,
                                                      monkeypatch):
    def unpicklable(*args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot pickle '_thread.lock' object")
    monkeypatch.setattr(staging.pickle, "dump", unpicklable)
    _stored_here(tmp_path, scratch, spy, in_line)


def test_a_process_that_dies_midway_leaves_its_run_incomplete_and_the_run_to_this_one(
        tmp_path, scratch, spy, in_line, monkeypatch):
    parent, write = os.getpid(), TraceStore.write_accounts

    def dies(self: Any, *args: Any) -> None:
        if os.getpid() != parent:
            os._exit(3)  # over there, the run begun: no report
        write(self, *args)
    monkeypatch.setattr(TraceStore, "write_accounts", dies)
    result = _segment(tmp_path / "t.sqlite")
    assert spy["results"] == [None] and result.run_id == 2
    stored = _contents(tmp_path / "t.sqlite")
    assert [r[1] for r in stored["runs"]] == ["running", "complete"]
    assert stored["accounts"] == [(2,) + row[1:] for row in in_line["accounts"]]
    reader = TraceStore(tmp_path / "t.sqlite", create=False)
    try:
        assert reader.run()["run_id"] == 2  # the one left running is never the latest
    finally:
        reader.close()
    _nothing_left(scratch)


def test_a_command_failing_after_the_run_was_stored_leaves_it_marked_failed(tmp_path, scratch,
                                                                          spy):
    def failing_write(result: Any) -> None:
        raise OSError("out folder is read-only")
    ruleset, text = commands.load(None)
    store = tmp_path / "t.sqlite"
    with pytest.raises(OSError, match="read-only"):
        commands._segment_and_store(ruleset, text, str(SAMPLE), as_of=AS_OF, engine="native",
                                    store_path=str(store), memo=True, on_error="fail",
                                    command="segment", write=failing_write)
    assert spy["started"][-1] is not None and spy["results"] == [1]
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    reader = TraceStore(store, create=False)
    try:
        with pytest.raises(StoreError):
            reader.run()  # no complete run to report as the latest
    finally:
        reader.close()
    _nothing_left(scratch)


def test_a_store_error_over_there_is_the_error_in_line(tmp_path, scratch, spy, monkeypatch):
    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("meeting notes, not a database\n" * 100, encoding="utf-8")
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_STORE_IN_LINE", "1")
        with pytest.raises(StoreError) as in_line:
            _segment(not_a_store)
    assert spy["started"] == [None]
    with pytest.raises(StoreError) as over_there:
        _segment(not_a_store)
    assert spy["started"][-1] is not None and spy["results"] == []  # raised by ``result``
    assert str(over_there.value) == str(in_line.value) and str(not_a_store) in str(in_line.value)
    assert not_a_store.read_text(encoding="utf-8").startswith("meeting notes")
    _nothing_left(scratch)


def test_rows_never_sent_a_run_leave_no_process(scratch):
    values = [{"account_id": f"A-{i}", "arr": 1.0} for i in range(10)]
    ruleset, _ = commands.load(None)
    staged = staging.StagedRows.start(ruleset, values, [{}] * 10)
    assert staged is not None
    assert staged.result() is None  # it finds no run, and stops
    staged.cancel()
    _nothing_left(scratch)
    staged = staging.StagedRows.start(ruleset, values, [{}] * 10)
    assert staged is not None
    staged.close()  # stopped while it waits
    _nothing_left(scratch)


def test_not_worth_a_process_for_small_portfolios_or_when_turned_off(monkeypatch):
    assert 3000 < staging.MIN_ACCOUNTS <= staging.MAX_ACCOUNTS  # the sample is stored in line
    ruleset, _ = commands.load(None)
    values = [{"account_id": "A-1"}] * 100
    assert staging.StagedRows.start(ruleset, values, [{}] * 100) is None
    monkeypatch.setattr(staging, "MIN_ACCOUNTS", 0)
    for name in ("TIERBOOK_STORE_IN_LINE", "TIERBOOK_NO_STAGING"):
        with monkeypatch.context() as m:
            m.setenv(name, "1")
            assert staging.StagedRows.start(ruleset, values, [{}] * 100) is None


def test_replay_quarters_are_stored_over_there(tmp_path, scratch, spy, monkeypatch):
    events = SAMPLE.parent / "events.csv"
    args = dict(as_of=dt.date(2026, 1, 1), engine="native", out_dir=None, chart=False)
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_STORE_IN_LINE", "1")
        commands.replay(None, str(SAMPLE), str(events), store_path=str(tmp_path / "in-line.sqlite"),
                        **args)
    assert spy["results"] == []
    result = commands.replay(None, str(SAMPLE), str(events),
                             store_path=str(tmp_path / "t.sqlite"), **args)
    quarters = len(result.quarters)
    assert quarters >= 2 and spy["results"] == [q.run_id for q in result.quarters]
    assert _contents(tmp_path / "t.sqlite") == _contents(tmp_path / "in-line.sqlite")
    movements = "SELECT * FROM movements ORDER BY replay_id, quarter, account_id"
    with closing(sqlite3.connect(tmp_path / "in-line.sqlite")) as db:
        expected = db.execute(movements).fetchall()
    with closing(sqlite3.connect(tmp_path / "t.sqlite")) as db:
        # each quarter's movements name the run stored over there for that quarter
        assert db.execute(movements).fetchall() == expected and len(expected) > 3000
        assert db.execute("SELECT DISTINCT quarter, run_id FROM movements ORDER BY run_id"
                          ).fetchall() == [(q.quarter, q.run_id) for q in result.quarters]
        assert db.execute("SELECT count(*) FROM runs WHERE status != 'complete'").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM accounts").fetchone()[0] > 3000 * (quarters - 1)
    _nothing_left(scratch)


def test_ids_of_any_text_are_stored_exactly(tmp_path, scratch, spy, monkeypatch):
    """Quotes, backslashes, control characters, accents, emoji and line breaks in ids: the
    run stored over there is the run stored in line."""
    ids = ['A"1', "B\\2", "C\t3", "Dé4", "E😀5", "F\x7f6", "G/7", "H\u20288", "I\n9"]
    lines = ["account_id,arr,strategic_logo"]
    lines += ['"' + i.replace('"', '""') + f'",{1000 * (n + 1)},0.{n}' for n, i in enumerate(ids)]
    portfolio = tmp_path / "odd.csv"
    portfolio.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _segment(tmp_path / "t.sqlite", portfolio)
    assert spy["results"] == [1]
    monkeypatch.setenv("TIERBOOK_STORE_IN_LINE", "1")
    _segment(tmp_path / "in-line.sqlite", portfolio)
    stored = _contents(tmp_path / "t.sqlite")
    assert stored == _contents(tmp_path / "in-line.sqlite")
    assert sorted(r[1] for r in stored["accounts"]) == sorted(ids)
    _nothing_left(scratch)


@pytest.fixture
def split_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample read in two halves, as a large CSV is."""
    monkeypatch.setattr(read, "SPLIT_MIN", 0)
    monkeypatch.delenv("TIERBOOK_NO_SPLIT_READ", raising=False)


def test_a_builder_started_by_the_split_read_stores_the_run_stored_in_line(
        tmp_path, scratch, spy, in_line, split_read, monkeypatch):
    started: list[Any] = []
    start = staging.StagedRows.start

    def watch(ruleset: Any, values: Any, *rest: Any) -> Any:
        started.append(values)
        return start(ruleset, values, *rest)
    monkeypatch.setattr(staging.StagedRows, "start", watch)
    result = _segment(tmp_path / "t.sqlite")
    assert started == [None]  # started once, from the columns, before the dicts were built
    assert spy["results"] == [1] and result.run_id == 1
    assert _contents(tmp_path / "t.sqlite") == in_line
    _nothing_left(scratch)


def test_accounts_set_aside_after_the_split_read_get_a_builder_of_their_own(
        tmp_path, scratch, spy, split_read, monkeypatch):
    """A grid axis over a ratio: an account with no seats licensed cannot be placed, and
    --on-error skip sets it aside after reading: the builder started by the read has its row,
    so it is closed and one with the run's accounts started."""
    text = (ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text(encoding="utf-8")
    text = text.replace("    over: strategic_value\n", "    over: seat_utilization\n", 1)
    for seats in ("seats_licensed", "seats_used"):
        text = text.replace(f"{{id: {seats}, type: integer,", f"{{id: {seats}, type: integer, required: true,")
    rules = tmp_path / "rs.yaml"
    rules.write_text(text, encoding="utf-8")
    rows = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    bad = rows[10].split(",")
    bad[header.index("seats_licensed")] = "0"
    rows[10] = ",".join(bad)
    path = tmp_path / "portfolio.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    def run(store: Path) -> Any:
        return commands.segment(str(rules), str(path), as_of=AS_OF, engine="native",
                                on_error="skip", store_path=str(store), out_dir=None, chart=False)
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_STORE_IN_LINE", "1")
        run(tmp_path / "in-line.sqlite")
    spy["started"].clear()
    result = run(tmp_path / "t.sqlite")
    assert len(result.rejects) == 1 and len(result.evaluation.decisions) == 2999
    assert len(spy["started"]) == 2 and None not in spy["started"]  # the early one closed
    assert spy["results"] == [1]
    assert _contents(tmp_path / "t.sqlite") == _contents(tmp_path / "in-line.sqlite")
    _nothing_left(scratch)


def test_a_read_failing_after_the_builder_started_leaves_nothing_behind(
        tmp_path, scratch, spy, split_read, monkeypatch):
    def failing(*args: Any) -> Any:
        raise MemoryError
    monkeypatch.setattr(splitread, "finish", failing)  # after the row builder was started
    with pytest.raises(MemoryError):
        _segment(tmp_path / "t.sqlite")
    assert len(spy["started"]) == 1 and spy["started"][0] is not None
    _nothing_left(scratch)
