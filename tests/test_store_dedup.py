"""Trace store schemas 3 and 4: an account's stored values (its scores and inputs JSON) are kept once
by content, so runs of an unchanged portfolio share them; a schema-2 store migrates to it with
every run kept and explained as before; the queries in docs/trace-store.md still work."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from tierbook.cli.main import main
from tierbook.trace.schema import SCHEMA_VERSION
from tierbook.trace.store import TraceStore
from tierbook.trace.texts import value_digest

from .conftest import ROOT, SAMPLE

# the schema-2 tables and view exactly as tierbook created them before schema 3
V2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rulesets (
    sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY, command TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    ruleset_name TEXT NOT NULL, ruleset_version TEXT NOT NULL,
    ruleset_sha256 TEXT NOT NULL REFERENCES rulesets(sha256), input_file TEXT NOT NULL,
    input_sha256 TEXT NOT NULL, engine TEXT NOT NULL, as_of TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '', account_count INTEGER, bands TEXT NOT NULL DEFAULT '{}');
CREATE TABLE paths (
    run_id INTEGER NOT NULL REFERENCES runs(run_id), path_id INTEGER NOT NULL,
    accounts INTEGER NOT NULL DEFAULT 0, tier TEXT NOT NULL DEFAULT '',
    cell TEXT NOT NULL DEFAULT '', flags TEXT NOT NULL DEFAULT '[]',
    bands TEXT NOT NULL DEFAULT '{}', decisions TEXT NOT NULL DEFAULT '{}',
    comments TEXT NOT NULL DEFAULT '[]', reviews TEXT NOT NULL DEFAULT '[]',
    motion TEXT NOT NULL DEFAULT '', PRIMARY KEY (run_id, path_id));
CREATE TABLE firings (
    run_id INTEGER NOT NULL, path_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL, kind TEXT NOT NULL, because TEXT NOT NULL, derived TEXT NOT NULL,
    PRIMARY KEY (run_id, path_id, seq),
    FOREIGN KEY (run_id, path_id) REFERENCES paths(run_id, path_id));
CREATE TABLE accounts (
    run_id INTEGER NOT NULL REFERENCES runs(run_id), account_id TEXT NOT NULL,
    path_id INTEGER NOT NULL, scores TEXT NOT NULL, inputs TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id));
CREATE VIEW decisions AS
    SELECT a.run_id, a.account_id, p.tier, p.cell, p.flags, p.bands, a.scores, p.decisions,
           p.comments, p.reviews, p.motion, a.path_id, a.inputs
    FROM accounts a JOIN paths p ON p.run_id = a.run_id AND p.path_id = a.path_id;
CREATE TABLE movements (
    replay_id INTEGER NOT NULL, quarter TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(run_id), account_id TEXT NOT NULL,
    from_tier TEXT NOT NULL, to_tier TEXT NOT NULL, evaluated_tier TEXT NOT NULL,
    outcome TEXT NOT NULL, rule_id TEXT NOT NULL, because TEXT NOT NULL,
    PRIMARY KEY (replay_id, quarter, account_id));
CREATE INDEX firings_rule ON firings(run_id, rule_id);
CREATE INDEX movements_account ON movements(account_id, replay_id);
INSERT INTO meta VALUES ('schema_version', '2');
"""


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def segment(store: Path, portfolio: Path = SAMPLE, ruleset: str = "cs-segmentation-model"):
    run("segment", ruleset, str(portfolio), "--as-of", "2026-10-01", "--no-chart",
        "--store", str(store))


def rows(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def one(path: Path, sql: str, args: tuple = ()):
    return rows(path, sql, args)[0][0]


def explained(store: Path, account: str, run_id: int) -> dict:
    out = json.loads(run("explain", account, "--run", str(run_id), "--format", "json",
                         "--store", str(store)).output)
    out.pop("run")  # (the run's own id and command)
    return out


def values_by_account(store: Path, run_id: int) -> dict[str, int]:
    return dict(rows(store, "SELECT account_id, value_id FROM run_accounts WHERE run_id = ?",
                     (run_id,)))


def test_two_identical_runs_share_their_value_rows(tmp_path: Path) -> None:
    store = tmp_path / "t.sqlite"
    segment(store)
    first = one(store, "SELECT count(*) FROM account_values")
    assert first == one(store, "SELECT count(DISTINCT value_id) FROM run_accounts") == 3000
    segment(store)
    assert one(store, "SELECT count(*) FROM account_values") == first  # nothing new
    assert one(store, "SELECT count(*) FROM run_accounts") == 6000
    assert values_by_account(store, 1) == values_by_account(store, 2)
    for account in ("ACC-00046", "ACC-00007", "ACC-02999"):
        assert explained(store, account, 1) == explained(store, account, 2)
    # the digest is the documented one, of the texts stored
    for digest, layout, scores, inputs in rows(store, "SELECT digest, layout_id, scores, inputs FROM "
                                       "account_values LIMIT 50"):
        assert digest == value_digest(layout, scores, inputs) and len(digest) == 16


def test_a_run_with_one_changed_account_adds_exactly_one_value_row(tmp_path: Path) -> None:
    store = tmp_path / "t.sqlite"
    segment(store)
    with SAMPLE.open(newline="") as f:
        table = list(csv.reader(f))
    name = table[0].index("account_name")
    assert table[2][0] == "ACC-00002"
    table[2][name] = "Oakmont Systems (renamed)"  # an input no rule or band reads
    changed = tmp_path / "changed.csv"
    with changed.open("w", newline="") as f:
        csv.writer(f).writerows(table)
    segment(store, changed)
    assert one(store, "SELECT count(*) FROM account_values") == 3001
    before, after = values_by_account(store, 1), values_by_account(store, 2)
    assert [a for a in before if before[a] != after[a]] == ["ACC-00002"]
    assert explained(store, "ACC-00046", 1) == explained(store, "ACC-00046", 2)
    old, new = explained(store, "ACC-00002", 1), explained(store, "ACC-00002", 2)
    names = rows(store, "SELECT run_id, json_extract(inputs, '$.account_name') FROM accounts "
                 "WHERE account_id = 'ACC-00002' ORDER BY run_id")
    assert names == [(1, "Oakmont Systems"), (2, "Oakmont Systems (renamed)")]
    assert {k: v for k, v in old.items() if k != "inputs"} == {
        k: v for k, v in new.items() if k != "inputs"}


def test_a_replays_quarters_share_the_rows_of_unchanged_accounts(tmp_path: Path) -> None:
    store = tmp_path / "t.sqlite"
    run("replay", "--as-of", "2026-10-01", "--store", str(store), "--out", str(tmp_path / "o"))
    # every distinct (scores, inputs) is stored once, however many quarters hold it
    assert one(store, "SELECT count(*) FROM account_values") == one(
        store, "SELECT count(*) FROM (SELECT DISTINCT scores, inputs FROM accounts)")
    runs = [r for (r,) in rows(store, "SELECT run_id FROM runs ORDER BY run_id")]
    assert len(runs) == 8
    shared = one(store, "SELECT count(*) FROM run_accounts a JOIN run_accounts b ON "
                 "b.run_id = ? AND b.account_id = a.account_id AND b.value_id = a.value_id "
                 "WHERE a.run_id = ?", (runs[1], runs[0]))
    assert shared > 0
    assert one(store, "SELECT count(*) FROM account_values") < one(
        store, "SELECT count(*) FROM run_accounts")


def _as_v2(current: Path, path: Path) -> Path:
    """The same runs written the schema-2 way: every account row with its own values."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(V2)
        db.execute("ATTACH DATABASE ? AS cur", (str(current),))
        for table in ("rulesets", "runs", "paths", "firings", "movements"):
            db.execute(f"INSERT INTO main.{table} SELECT * FROM cur.{table}")
        db.execute("INSERT INTO main.accounts SELECT run_id, account_id, path_id, scores, "
                   "inputs FROM cur.accounts ORDER BY run_id, account_id")
        db.commit()
    return path


def test_a_schema_2_store_is_migrated_with_every_run_kept(tmp_path: Path) -> None:
    current = tmp_path / "current.sqlite"
    segment(current)
    segment(current, ruleset="keep-segment")
    segment(current)  # the same as run 1
    old = _as_v2(current, tmp_path / "old.sqlite")
    accounts = "SELECT * FROM accounts ORDER BY run_id, account_id"
    decisions = "SELECT * FROM decisions ORDER BY run_id, account_id"
    before = rows(old, accounts), rows(old, decisions)
    cases = [("ACC-00046", 1), ("ACC-00046", 3), ("ACC-00007", 2), ("ACC-01234", 3)]
    TraceStore(old).close()  # opening migrates
    assert one(old, "SELECT value FROM meta WHERE key = 'schema_version'") == str(SCHEMA_VERSION)
    assert (rows(old, accounts), rows(old, decisions)) == before
    assert one(old, "SELECT count(*) FROM account_values") == 6000  # run 3 shares run 1's
    assert values_by_account(old, 1) == values_by_account(old, 3)
    # explained as the store the schema-2 rows were copied from explains them
    assert [explained(old, a, r) for a, r in cases] == [explained(current, a, r) for a, r in cases]
    assert one(old, "PRAGMA integrity_check") == "ok"
    TraceStore(old).close()  # a second open finds this schema: nothing to do
    assert (rows(old, accounts), rows(old, decisions)) == before
    segment(old)  # and a run written after the migration shares the migrated values
    assert one(old, "SELECT count(*) FROM account_values") == 6000
    assert values_by_account(old, 1) == values_by_account(old, 4)


def test_the_documented_queries_work(tmp_path: Path) -> None:
    store = tmp_path / "t.sqlite"
    segment(store)
    doc = (ROOT / "docs" / "trace-store.md").read_text()
    block = re.search(r"## Queries\n\n```sql\n(.*?)```", doc, re.S)
    assert block
    queries = [q.strip() for q in re.sub(r"--[^\n]*", "", block.group(1)).split(";")
               if q.strip()]
    assert len(queries) >= 4
    with contextlib.closing(sqlite3.connect(store)) as db:
        results = [db.execute(q).fetchall() for q in queries]
    assert all(results)
    assert sum(n for _, n in results[1]) == 3000  # accounts per tier in run 1
    chain = json.loads(run("explain", "ACC-00046", "--run", "1", "--format", "json",
                           "--store", str(store)).output)["firings"]
    assert [r[1] for r in results[3]] == [f["rule_id"] for f in chain]


# schema 3's values and views exactly as tierbook created them before schema 4
V3_VALUES = """
CREATE TABLE account_values (
    value_id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    scores TEXT NOT NULL,
    inputs TEXT NOT NULL);
CREATE VIEW accounts AS
    SELECT a.run_id, a.account_id, a.path_id, v.scores, v.inputs
    FROM run_accounts a JOIN account_values v ON v.value_id = a.value_id;
CREATE VIEW decisions AS
    SELECT a.run_id, a.account_id, p.tier, p.cell, p.flags, p.bands, v.scores, p.decisions,
           p.comments, p.reviews, p.motion, a.path_id, v.inputs
    FROM run_accounts a JOIN paths p ON p.run_id = a.run_id AND p.path_id = a.path_id
    JOIN account_values v ON v.value_id = a.value_id;
"""


def _as_v3(current: Path, path: Path) -> Path:
    """The same store with its values as schema 3 kept them: JSON objects, keyed by the
    BLAKE2b of their two texts."""
    import hashlib
    path.write_bytes(current.read_bytes())
    with contextlib.closing(sqlite3.connect(path)) as db:
        objects = db.execute("SELECT DISTINCT a.value_id, v.scores, v.inputs FROM accounts v "
                             "JOIN run_accounts a USING (run_id, account_id) "
                             "ORDER BY a.value_id").fetchall()
        db.execute("PRAGMA legacy_alter_table=ON")
        db.executescript("DROP VIEW accounts; DROP VIEW decisions; DROP TABLE account_values; "
                         "DROP TABLE value_layouts;" + V3_VALUES)
        db.executemany("INSERT INTO account_values VALUES (?, ?, ?, ?)", [
            (i, hashlib.blake2b(f"{s}\0{v}".encode(), digest_size=16).digest(), s, v)
            for i, s, v in objects])
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        db.commit()
    return path


def test_a_schema_3_store_is_migrated_with_every_run_kept(tmp_path: Path) -> None:
    """Schema 4 keeps an account's values as arrays of its layout's keys: a schema-3 store
    (JSON objects) reads the same through the views, explains the same, and a run written
    after the migration shares the migrated values."""
    current = tmp_path / "current.sqlite"
    segment(current)
    segment(current, ruleset="keep-segment")
    old = _as_v3(current, tmp_path / "old.sqlite")
    assert one(old, "SELECT scores FROM account_values LIMIT 1").startswith("{")
    accounts = "SELECT * FROM accounts ORDER BY run_id, account_id"
    decisions = "SELECT * FROM decisions ORDER BY run_id, account_id"
    before = rows(old, accounts), rows(old, decisions)
    assert before == (rows(current, accounts), rows(current, decisions))
    TraceStore(old).close()  # opening migrates
    assert one(old, "SELECT value FROM meta WHERE key = 'schema_version'") == str(SCHEMA_VERSION)
    assert (rows(old, accounts), rows(old, decisions)) == before
    assert rows(old, "SELECT * FROM account_values ORDER BY value_id") == rows(
        current, "SELECT * FROM account_values ORDER BY value_id")  # (as schema 4 writes them)
    assert rows(old, "SELECT * FROM value_layouts") == rows(current, "SELECT * FROM value_layouts")
    cases = [("ACC-00046", 1), ("ACC-00007", 2), ("ACC-01234", 1)]
    assert [explained(old, a, r) for a, r in cases] == [explained(current, a, r) for a, r in cases]
    assert one(old, "PRAGMA integrity_check") == "ok"
    assert "values_3" not in one(old, "SELECT group_concat(sql) FROM sqlite_master")
    count = one(old, "SELECT count(*) FROM account_values")
    segment(old)
    assert one(old, "SELECT count(*) FROM account_values") == count
    assert values_by_account(old, 1) == values_by_account(old, 3)


def test_a_run_stores_each_accounts_values_once_as_arrays_of_its_layout(tmp_path: Path) -> None:
    store = tmp_path / "t.sqlite"
    segment(store)
    (layout,) = rows(store, "SELECT scores, inputs FROM value_layouts")
    keys = json.loads(layout[1])
    assert keys == sorted(keys) and "account_id" in keys and "arr" in keys
    inputs = json.loads(one(store, "SELECT v.inputs FROM account_values v JOIN run_accounts a "
                            "USING (value_id) WHERE a.account_id = 'ACC-00046'"))
    shown = json.loads(one(store, "SELECT inputs FROM accounts WHERE account_id = 'ACC-00046'"))
    assert shown == dict(zip(keys, inputs, strict=True))
    bytes_per_account = one(store, "PRAGMA page_count") * one(store, "PRAGMA page_size") / 3000
    assert bytes_per_account < 600  # (schema 3: about 880; the keys were most of it)
