"""Trace store schema 2 (path-level fields once per path, `decisions` a view) and the
migration of stores written with schema 1, where every account row carried its path's
fields.  An audit trail must survive an upgrade of tierbook."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.errors import StoreError
from tierbook.trace.schema import SCHEMA_VERSION
from tierbook.trace.store import TraceStore

from .conftest import SAMPLE

# the schema-1 tables exactly as tierbook 0.1 (schema 1) created them
V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rulesets (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,
    text TEXT NOT NULL);
CREATE TABLE runs (run_id INTEGER PRIMARY KEY, command TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    ruleset_name TEXT NOT NULL, ruleset_version TEXT NOT NULL,
    ruleset_sha256 TEXT NOT NULL REFERENCES rulesets(sha256), input_file TEXT NOT NULL,
    input_sha256 TEXT NOT NULL, engine TEXT NOT NULL, as_of TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '', account_count INTEGER, bands TEXT NOT NULL DEFAULT '{}');
CREATE TABLE paths (run_id INTEGER NOT NULL REFERENCES runs(run_id), path_id INTEGER NOT NULL,
    accounts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, path_id));
CREATE TABLE firings (run_id INTEGER NOT NULL, path_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL, kind TEXT NOT NULL, because TEXT NOT NULL, derived TEXT NOT NULL,
    PRIMARY KEY (run_id, path_id, seq),
    FOREIGN KEY (run_id, path_id) REFERENCES paths(run_id, path_id));
CREATE TABLE decisions (run_id INTEGER NOT NULL REFERENCES runs(run_id),
    account_id TEXT NOT NULL, tier TEXT NOT NULL, cell TEXT NOT NULL, flags TEXT NOT NULL,
    bands TEXT NOT NULL, scores TEXT NOT NULL, decisions TEXT NOT NULL, comments TEXT NOT NULL,
    reviews TEXT NOT NULL, motion TEXT NOT NULL, path_id INTEGER NOT NULL, inputs TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id));
CREATE TABLE movements (replay_id INTEGER NOT NULL, quarter TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(run_id), account_id TEXT NOT NULL,
    from_tier TEXT NOT NULL, to_tier TEXT NOT NULL, evaluated_tier TEXT NOT NULL,
    outcome TEXT NOT NULL, rule_id TEXT NOT NULL, because TEXT NOT NULL,
    PRIMARY KEY (replay_id, quarter, account_id));
CREATE INDEX firings_rule ON firings(run_id, rule_id);
CREATE INDEX movements_account ON movements(account_id, replay_id);
CREATE INDEX decisions_path ON decisions(run_id, path_id);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def current(tmp_path: Path) -> Path:
    store = tmp_path / "current.sqlite"
    for ruleset in ("cs-segmentation-model", "keep-segment"):  # two runs
        result = run("segment", ruleset, str(SAMPLE), "--as-of", "2026-10-01", "--no-chart",
                     "--store", str(store))
        assert result.exit_code == 0, result.output
    return store


def _as_v1(current: Path, path: Path) -> Path:
    """The same runs written the schema-1 way: every account row with its path's fields."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(V1)
        db.execute("ATTACH DATABASE ? AS cur", (str(current),))
        for table in ("rulesets", "runs", "firings", "movements"):
            db.execute(f"INSERT INTO main.{table} SELECT * FROM cur.{table}")
        db.execute("INSERT INTO main.paths SELECT run_id, path_id, accounts FROM cur.paths")
        db.execute("INSERT INTO main.decisions SELECT * FROM cur.decisions")
        db.commit()
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


def test_decisions_view_has_the_documented_columns(current: Path) -> None:
    with contextlib.closing(sqlite3.connect(current)) as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(decisions)")]
        assert cols == ["run_id", "account_id", "tier", "cell", "flags", "bands", "scores",
                        "decisions", "comments", "reviews", "motion", "path_id", "inputs"]
        assert db.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
        # a path's tier is the tier of every account on it
        assert db.execute("SELECT count(*) FROM decisions").fetchone()[0] == 6000
        by_tier = dict(db.execute("SELECT tier, count(*) FROM decisions WHERE run_id = 1 "
                                  "GROUP BY tier").fetchall())
        assert sum(by_tier.values()) == 3000 and len(by_tier) > 2


def test_a_schema_1_store_is_migrated_with_every_run_kept(current: Path, tmp_path: Path) -> None:
    old = _as_v1(current, tmp_path / "old.sqlite")
    before = _rows(old, "SELECT * FROM decisions ORDER BY run_id, account_id")
    TraceStore(old).close()  # opening migrates
    assert _rows(old, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert _rows(old, "SELECT * FROM decisions ORDER BY run_id, account_id") == before
    assert _rows(old, "SELECT type FROM sqlite_master WHERE name = 'decisions'") == [("view",)]
    for args in (["ACC-00046"], ["ACC-00046", "--run", "1"], ["ACC-00007", "--run", "2"]):
        new_out = run("explain", *args, "--format", "json", "--store", str(current))
        old_out = run("explain", *args, "--format", "json", "--store", str(old))
        assert old_out.exit_code == 0, old_out.output
        assert json.loads(old_out.output) == json.loads(new_out.output)
    TraceStore(old).close()  # a second open finds this schema: nothing to do
    assert _rows(old, "SELECT * FROM decisions ORDER BY run_id, account_id") == before


def test_a_store_from_a_newer_tierbook_is_refused(current: Path) -> None:
    with contextlib.closing(sqlite3.connect(current)) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        db.commit()
    with pytest.raises(StoreError, match="schema 99 was written by a newer tierbook"):
        TraceStore(current)
