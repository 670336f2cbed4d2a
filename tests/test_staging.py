"""The trace store's account rows built by a forked process while the portfolio is evaluated
(tierbook.staging): the stored rows must be exactly the rows built in line, and anything
going wrong over there must end in the in-line rows, with no process or file left behind."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tierbook import commands, staging
from tierbook.store import TraceStore

from .conftest import SAMPLE

AS_OF = dt.date(2026, 10, 1)
ROWS = "SELECT account_id, path_id, scores, inputs FROM accounts ORDER BY account_id"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                                reason="staging needs fork and two cores")


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Staging on for the 3,000-account sample, its files in a folder of the test's own."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(staging, "MIN_ACCOUNTS", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.delenv("TIERBOOK_NO_STAGING", raising=False)
    return folder


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"started": [], "waited": [], "copied": []}
    start, wait, copy = staging.StagedRows.start.__func__, staging.StagedRows.wait, TraceStore._copy_staged

    def spy_start(cls: Any, *args: Any, **kwargs: Any) -> Any:
        out = start(cls, *args, **kwargs)
        seen["started"].append(out)
        return out

    def spy_wait(self: Any) -> bool:
        seen["waited"].append(wait(self))
        return seen["waited"][-1]

    def spy_copy(self: Any, *args: Any) -> bool:
        seen["copied"].append(copy(self, *args))
        return seen["copied"][-1]
    monkeypatch.setattr(staging.StagedRows, "start", classmethod(spy_start))
    monkeypatch.setattr(staging.StagedRows, "wait", spy_wait)
    monkeypatch.setattr(TraceStore, "_copy_staged", spy_copy)
    return seen


def _segment(store: Path, **kwargs: Any) -> Any:
    return commands.segment(None, str(SAMPLE), as_of=AS_OF, engine="native", store_path=str(store),
                            out_dir=None, chart=False, **kwargs)


def _rows(store: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(store)) as db:
        status = db.execute("SELECT status FROM runs").fetchall()
        assert status == [("complete",)]
        return db.execute(ROWS).fetchall()


@pytest.fixture
def in_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_STAGING", "1")
        _segment(tmp_path / "in-line.sqlite")
    return _rows(tmp_path / "in-line.sqlite")


def test_staged_rows_are_the_rows_built_in_line(tmp_path, scratch, spy, in_line):
    _segment(tmp_path / "staged.sqlite")
    assert spy["started"][-1] is not None and spy["waited"] == [True] and spy["copied"] == [True]
    assert _rows(tmp_path / "staged.sqlite") == in_line
    assert len(in_line) == 3000
    assert list(scratch.iterdir()) == []  # the scratch file is gone


def test_a_failed_builder_leaves_the_rows_to_the_store(tmp_path, scratch, spy, in_line,
                                                       monkeypatch):
    def broken(*args: Any) -> None:
        raise RuntimeError("disk full")
    monkeypatch.setattr(staging, "build", broken)  # runs in the forked process
    _segment(tmp_path / "staged.sqlite")
    assert spy["started"][-1] is not None and spy["waited"] == [False] and spy["copied"] == []
    assert _rows(tmp_path / "staged.sqlite") == in_line
    assert list(scratch.iterdir()) == []


def test_rows_that_are_not_their_accounts_are_not_copied(tmp_path, scratch, spy, in_line,
                                                         monkeypatch):
    build = staging.build

    def shuffled(path: str, values: Any, parts: Any, *rest: Any) -> None:
        build(path, values[::-1], parts[::-1], *rest)  # every row, in the wrong order
    monkeypatch.setattr(staging, "build", shuffled)
    _segment(tmp_path / "staged.sqlite")
    assert spy["waited"] == [True] and spy["copied"] == [False]
    assert _rows(tmp_path / "staged.sqlite") == in_line


def test_a_short_staged_table_is_not_copied(tmp_path, scratch, spy, in_line, monkeypatch):
    build = staging.build

    def short(path: str, values: Any, parts: Any, *rest: Any) -> None:
        build(path, values[:-1], parts[:-1], *rest)
    monkeypatch.setattr(staging, "build", short)
    _segment(tmp_path / "staged.sqlite")
    assert spy["copied"] == [False]
    assert _rows(tmp_path / "staged.sqlite") == in_line


def test_a_run_that_is_not_stored_leaves_no_process_and_no_file(tmp_path, scratch, spy):
    def failing_write(result: Any) -> None:
        raise OSError("out folder is read-only")
    ruleset, text = commands.load(None)
    with pytest.raises(OSError):
        commands._segment_and_store(ruleset, text, str(SAMPLE), as_of=AS_OF, engine="native",
                                    store_path=str(tmp_path / "t.sqlite"), memo=True,
                                    on_error="fail", command="segment", write=failing_write)
    staged = spy["started"][-1]
    assert staged is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(staged.pid or -1, os.WNOHANG)  # reaped (or never left to reap)
    assert list(scratch.iterdir()) == []


def test_not_worth_a_process_for_small_portfolios_or_when_turned_off(monkeypatch):
    values = [{"account_id": "A-1"}] * 100
    assert staging.StagedRows.start(values, [{}] * 100, ["account_id"], []) is None
    monkeypatch.setattr(staging, "MIN_ACCOUNTS", 0)
    monkeypatch.setenv("TIERBOOK_NO_STAGING", "1")
    assert staging.StagedRows.start(values, [{}] * 100, ["account_id"], []) is None


def test_replay_quarters_store_the_rows_built_elsewhere(tmp_path, scratch, spy, monkeypatch):
    events = SAMPLE.parent / "events.csv"
    args = dict(as_of=dt.date(2026, 1, 1), engine="native", out_dir=None, chart=False)
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_STAGING", "1")
        commands.replay(None, str(SAMPLE), str(events), store_path=str(tmp_path / "in-line.sqlite"),
                        **args)
    assert spy["copied"] == []
    result = commands.replay(None, str(SAMPLE), str(events), store_path=str(tmp_path / "staged.sqlite"),
                             **args)
    quarters = len(result.quarters)
    assert quarters >= 2 and spy["copied"] == [True] * quarters
    rows = "SELECT r.label, " + ROWS[len("SELECT "):].replace("FROM accounts", "FROM accounts a JOIN runs r USING (run_id)")
    rows = rows.replace("ORDER BY account_id", "ORDER BY r.run_id, account_id")
    with closing(sqlite3.connect(tmp_path / "in-line.sqlite")) as a, \
            closing(sqlite3.connect(tmp_path / "staged.sqlite")) as b:
        expected = a.execute(rows).fetchall()
        assert len(expected) > 3000 * (quarters - 1)
        assert b.execute(rows).fetchall() == expected
        assert b.execute("SELECT count(*) FROM runs WHERE status != 'complete'").fetchone() == (0,)
    assert list(scratch.iterdir()) == []


def test_ids_of_any_text_are_copied_exactly(tmp_path, scratch, spy, monkeypatch):
    """Quotes, backslashes, control characters, accents, emoji and line breaks in ids: the
    staged rows are copied, and they are the in-line rows."""
    ids = ['A"1', "B\\2", "C\t3", "Dé4", "E😀5", "F\x7f6", "G/7", "H\u20288", "I\n9"]
    lines = ["account_id,arr,strategic_logo"]
    lines += ['"' + i.replace('"', '""') + f'",{1000 * (n + 1)},0.{n}' for n, i in enumerate(ids)]
    portfolio = tmp_path / "odd.csv"
    portfolio.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def run(store: Path) -> list[tuple[Any, ...]]:
        commands.segment(None, str(portfolio), as_of=AS_OF, engine="native",
                         store_path=str(store), out_dir=None, chart=False)
        return _rows(store)
    staged = run(tmp_path / "staged.sqlite")
    assert spy["copied"] == [True]
    monkeypatch.setenv("TIERBOOK_NO_STAGING", "1")
    assert staged == run(tmp_path / "in-line.sqlite")
    assert sorted(r[0] for r in staged) == sorted(ids)
