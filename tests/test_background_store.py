"""A segment run stored by a forked copy of the process while the process goes on with
calibration, gates and report files (tierbook.segment.PendingStore): the store must hold
exactly what storing in line holds; a store error is the in-line error; a command that
fails afterwards leaves its run marked failed; a copy that dies leaves the run to the
process itself; no process or scratch file is left behind."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tierbook import commands, segment, staging
from tierbook.errors import StoreError
from tierbook.store import TraceStore

from .conftest import SAMPLE

AS_OF = dt.date(2026, 10, 1)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                                reason="the background store needs fork and two cores")


@pytest.fixture
def background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """The background store (and the staged rows) on for the 3,000-account sample; what
    ``PendingStore.start`` returned, each time."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(segment.PendingStore, "MIN_ACCOUNTS", 0)
    monkeypatch.setattr(staging, "MIN_ACCOUNTS", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    for name in ("TIERBOOK_NO_STAGING", "TIERBOOK_STORE_IN_LINE"):
        monkeypatch.delenv(name, raising=False)
    started: dict[str, list[Any]] = {"pending": []}
    start = segment.PendingStore.start.__func__  # type: ignore[attr-defined]

    def spy(cls: Any, *args: Any) -> Any:
        started["pending"].append(start(cls, *args))
        return started["pending"][-1]
    monkeypatch.setattr(segment.PendingStore, "start", classmethod(spy))
    return started


def _segment(store: Path, **kwargs: Any) -> Any:
    return commands.segment(None, str(SAMPLE), as_of=AS_OF, engine="native", store_path=str(store),
                            out_dir=None, chart=False, **kwargs)


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


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_the_run_stored_by_the_copy_is_the_run_stored_in_line(tmp_path, background, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_STORE_IN_LINE", "1")
        in_line = _segment(tmp_path / "in-line.sqlite")
    assert background["pending"] == [None]
    result = _segment(tmp_path / "copy.sqlite")
    assert background["pending"][-1] is not None and result.pending is None
    assert result.run_id == in_line.run_id == 1
    assert result.store_path == str(tmp_path / "copy.sqlite")
    stored = _contents(tmp_path / "copy.sqlite")
    assert stored == _contents(tmp_path / "in-line.sqlite")
    assert stored["runs"][0][1] == "complete" and len(stored["accounts"]) == 3000
    assert list((tmp_path / "scratch").iterdir()) == []
    _no_child_left()
    # and explain reads it back
    first = stored["accounts"][0][1]
    assert commands.explain(first, store_path=str(tmp_path / "copy.sqlite"))["account_id"] == first


def test_a_command_failing_after_the_run_was_stored_leaves_it_marked_failed(tmp_path, background):
    def failing_write(result: Any) -> None:
        raise OSError("out folder is read-only")
    ruleset, text = commands.load(None)
    store = tmp_path / "t.sqlite"
    with pytest.raises(OSError, match="read-only"):
        commands._segment_and_store(ruleset, text, str(SAMPLE), as_of=AS_OF, engine="native",
                                    store_path=str(store), memo=True, on_error="fail",
                                    command="segment", write=failing_write)
    assert background["pending"][-1] is not None
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    reader = TraceStore(store, create=False)
    try:
        with pytest.raises(StoreError):
            reader.run()  # no complete run to report as the latest
    finally:
        reader.close()
    assert list((tmp_path / "scratch").iterdir()) == []
    _no_child_left()


def test_a_store_error_over_there_is_the_error_in_line(tmp_path, background, monkeypatch):
    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("meeting notes, not a database\n" * 100, encoding="utf-8")
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_STORE_IN_LINE", "1")
        with pytest.raises(StoreError) as in_line:
            _segment(not_a_store)
    with pytest.raises(StoreError) as over_there:
        _segment(not_a_store)
    assert background["pending"][-1] is not None
    assert str(over_there.value) == str(in_line.value) and str(not_a_store) in str(in_line.value)
    assert not_a_store.read_text(encoding="utf-8").startswith("meeting notes")
    _no_child_left()


def test_a_copy_that_dies_leaves_the_run_to_this_process(tmp_path, background, monkeypatch):
    store, parent = segment._store, os.getpid()

    def dies(*args: Any) -> int:
        if os.getpid() != parent:
            os._exit(3)  # in the copy: no report
        return store(*args)
    monkeypatch.setattr(segment, "_store", dies)
    result = _segment(tmp_path / "t.sqlite")
    assert background["pending"][-1] is not None
    stored = _contents(tmp_path / "t.sqlite")
    assert [r[1] for r in stored["runs"]] == ["complete"] and len(stored["accounts"]) == 3000
    assert result.run_id == 1
    assert list((tmp_path / "scratch").iterdir()) == []
    _no_child_left()


def test_not_worth_a_copy_for_small_runs_or_when_turned_off(tmp_path, monkeypatch):
    assert segment.PendingStore.MIN_ACCOUNTS > 3000  # the sample is stored in line
    assert segment.PendingStore.MIN_ACCOUNTS <= staging.MAX_ACCOUNTS
    started: list[Any] = []
    start = segment.PendingStore.start.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(segment.PendingStore, "start",
                        classmethod(lambda cls, *a: started.append(start(cls, *a))))
    _segment(tmp_path / "t.sqlite")
    monkeypatch.setattr(segment.PendingStore, "MIN_ACCOUNTS", 0)
    monkeypatch.setenv("TIERBOOK_STORE_IN_LINE", "1")
    _segment(tmp_path / "t.sqlite")
    assert started == [None, None]
