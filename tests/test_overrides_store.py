"""The trace store's run_overrides table: made in a store written before it, and pruned with
its runs."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from tierbook.commands import api
from tierbook.trace.store import TraceStore

from .conftest import ROOT, SAMPLE

OVERRIDES = ROOT / "examples" / "overrides.yaml"


def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()


def test_a_store_written_before_the_table_gets_it_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    TraceStore(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE run_overrides")  # (as a store written before overrides)
    db.commit()
    db.close()
    assert "run_overrides" not in _tables(path)
    api.segment(None, str(SAMPLE), as_of=dt.date(2026, 12, 1), store_path=str(path),
                overrides=str(OVERRIDES))
    assert "run_overrides" in _tables(path)
    x = api.explain("ACC-00008", store_path=str(path))
    assert x["override"]["ids"] == ["weststack-renewal"]


def test_pruning_a_run_removes_its_overrides(tmp_path: Path) -> None:
    from tierbook.trace.runs import prune

    path = tmp_path / "s.sqlite"
    for _ in range(2):
        api.segment(None, str(SAMPLE), as_of=dt.date(2026, 12, 1), store_path=str(path),
                    overrides=str(OVERRIDES))
    store = TraceStore(path)
    try:
        prune(store, keep=1)
        runs = [r[0] for r in store.db.execute("SELECT DISTINCT run_id FROM run_overrides")]
    finally:
        store.close()
    assert runs == [2]
