"""The trace store's journal: a rollback journal (each run's rows written once, not into a
write-ahead log and again at its checkpoint), stores kept in WAL by earlier tierbooks still
written to, and a reader that meets a run being committed waits for it or says why not."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tierbook.commands import api as commands
from tierbook.trace import store as store_module
from tierbook.errors import StoreError
from tierbook.trace.store import TraceStore

from .conftest import SAMPLE

AS_OF = dt.date(2026, 10, 1)


def _segment(path: Path) -> None:
    commands.segment(None, str(SAMPLE), as_of=AS_OF, engine="native", store_path=str(path),
                     out_dir=None, chart=False)


def _mode(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


def test_a_new_store_uses_a_rollback_journal(tmp_path: Path) -> None:
    _segment(tmp_path / "t.sqlite")
    assert _mode(tmp_path / "t.sqlite") == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.sqlite"]  # no -wal, no -journal


def _wal_store(path: Path) -> None:
    TraceStore(path).close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)


def test_a_store_kept_in_wal_is_switched_when_written(tmp_path: Path) -> None:
    _wal_store(tmp_path / "t.sqlite")
    _segment(tmp_path / "t.sqlite")
    assert _mode(tmp_path / "t.sqlite") == "delete"


def test_a_store_in_wal_that_someone_has_open_is_written_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    _wal_store(path)
    with closing(sqlite3.connect(path)) as other:  # e.g. a sqlite3 shell left open
        other.execute("SELECT count(*) FROM runs").fetchone()
        _segment(path)
        assert other.execute("SELECT status FROM runs").fetchall() == [("complete",)]
    assert _mode(path) == "wal"
    assert commands.explain("ACC-00046", store_path=str(path))["account_id"] == "ACC-00046"


@contextmanager
def _write_lock_held(path: Path, seconds: float) -> Iterator[None]:
    """Another process holding the store's write lock (as a run committing its rows does)."""
    code = (f"import sqlite3, sys, time; db = sqlite3.connect({str(path)!r}, isolation_level=None); "
            f"db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep({seconds}); "
            "db.execute('COMMIT')")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"locked"
        yield


def test_a_reader_waits_for_a_run_being_committed(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    _segment(path)
    with _write_lock_held(path, 1.0):
        start = time.monotonic()
        out = commands.explain("ACC-00046", store_path=str(path))
        waited = time.monotonic() - start
    assert out["account_id"] == "ACC-00046" and waited >= 0.5


def test_a_reader_that_waits_too_long_is_told_why(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "t.sqlite"
    _segment(path)
    monkeypatch.setattr(store_module, "BUSY_SECONDS", 0.2)
    with _write_lock_held(path, 2.0):
        with pytest.raises(StoreError, match="the trace store is busy .* try again"):
            commands.explain("ACC-00046", store_path=str(path))


def _page_size(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_store_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    _segment(tmp_path / "new.sqlite")
    assert _page_size(tmp_path / "new.sqlite") == store_module.PAGE_SIZE == 16384
    old = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(old)) as db:  # a store made before, with 4 KiB pages
        db.execute("PRAGMA page_size=4096")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
        db.commit()
    _segment(old)
    _segment(old)
    assert _page_size(old) == 4096
    with closing(sqlite3.connect(old)) as db:
        assert db.execute("SELECT count(*), min(status) FROM runs").fetchone() == (2, "complete")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
