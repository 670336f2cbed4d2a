"""The trace store's schema (tables and views, documented in docs/trace-store.md) and the
migration of a store written under an earlier one."""

from __future__ import annotations

import sqlite3

from .texts import value_digest

SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rulesets (
    sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    ruleset_name TEXT NOT NULL,
    ruleset_version TEXT NOT NULL,
    ruleset_sha256 TEXT NOT NULL REFERENCES rulesets(sha256),
    input_file TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    engine TEXT NOT NULL,
    as_of TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    account_count INTEGER,
    bands TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS paths (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    path_id INTEGER NOT NULL,
    accounts INTEGER NOT NULL DEFAULT 0,
    tier TEXT NOT NULL DEFAULT '',
    cell TEXT NOT NULL DEFAULT '',
    flags TEXT NOT NULL DEFAULT '[]',
    bands TEXT NOT NULL DEFAULT '{}',
    decisions TEXT NOT NULL DEFAULT '{}',
    comments TEXT NOT NULL DEFAULT '[]',
    reviews TEXT NOT NULL DEFAULT '[]',
    motion TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, path_id));
CREATE TABLE IF NOT EXISTS firings (
    run_id INTEGER NOT NULL,
    path_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    because TEXT NOT NULL,
    derived TEXT NOT NULL,
    PRIMARY KEY (run_id, path_id, seq),
    FOREIGN KEY (run_id, path_id) REFERENCES paths(run_id, path_id));
CREATE TABLE IF NOT EXISTS account_values (
    value_id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    scores TEXT NOT NULL,
    inputs TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_accounts (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    account_id TEXT NOT NULL,
    path_id INTEGER NOT NULL,
    value_id INTEGER NOT NULL REFERENCES account_values(value_id),
    PRIMARY KEY (run_id, account_id)) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS accounts AS
    SELECT a.run_id, a.account_id, a.path_id, v.scores, v.inputs
    FROM run_accounts a JOIN account_values v ON v.value_id = a.value_id;
CREATE VIEW IF NOT EXISTS decisions AS
    SELECT a.run_id, a.account_id, p.tier, p.cell, p.flags, p.bands, v.scores, p.decisions,
           p.comments, p.reviews, p.motion, a.path_id, v.inputs
    FROM run_accounts a JOIN paths p ON p.run_id = a.run_id AND p.path_id = a.path_id
    JOIN account_values v ON v.value_id = a.value_id;
CREATE TABLE IF NOT EXISTS movements (
    replay_id INTEGER NOT NULL,
    quarter TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    account_id TEXT NOT NULL,
    from_tier TEXT NOT NULL,
    to_tier TEXT NOT NULL,
    evaluated_tier TEXT NOT NULL,
    outcome TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    because TEXT NOT NULL,
    PRIMARY KEY (replay_id, quarter, account_id));
CREATE TABLE IF NOT EXISTS run_defaults (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    input_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (run_id, input_id, account_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_overrides (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    account_id TEXT NOT NULL,
    override_ids TEXT NOT NULL,
    rules_tier TEXT NOT NULL,
    tier TEXT NOT NULL,
    rules_flags TEXT NOT NULL DEFAULT '[]',
    flags TEXT NOT NULL DEFAULT '[]',
    text TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS firings_rule ON firings(run_id, rule_id);
CREATE INDEX IF NOT EXISTS movements_account ON movements(account_id, replay_id);
"""


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a store of an earlier schema to this one, in one transaction; every run is
    kept, and `accounts` and `decisions` read as before.  Schema 1 kept a path's decided
    fields on every account row (table `decisions`); schema 2 kept them once per path, and
    every account's scores and inputs on its row in table `accounts`; schema 3 keeps each
    distinct (scores, inputs) once, in `account_values`, and `run_accounts` points at it."""

    def is_table(name: str) -> bool:
        kind = db.execute("SELECT type FROM sqlite_master WHERE name=?", (name,)).fetchone()
        return kind is not None and kind[0] == "table"

    script = ["BEGIN;"]
    if version == 1 and is_table("decisions"):
        columns = (
            ("tier", "''"),
            ("cell", "''"),
            ("flags", "'[]'"),
            ("bands", "'{}'"),
            ("decisions", "'{}'"),
            ("comments", "'[]'"),
            ("reviews", "'[]'"),
            ("motion", "''"),
        )
        script += [
            f"ALTER TABLE paths ADD COLUMN {c} TEXT NOT NULL DEFAULT {d};" for c, d in columns
        ]
        script += [
            f"UPDATE paths SET {c} = COALESCE((SELECT d.{c} FROM decisions d WHERE "
            f"d.run_id = paths.run_id AND d.path_id = paths.path_id LIMIT 1), {dflt});"
            for c, dflt in columns
        ]
        script.append("ALTER TABLE decisions RENAME TO old_accounts;")
    elif version == 2 and is_table("accounts"):
        script += [
            "DROP VIEW IF EXISTS decisions;",
            "ALTER TABLE accounts RENAME TO old_accounts;",
        ]
    else:  # (a store whose tables were never made: made now, as a new one's)
        script += [
            SCHEMA,
            f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version';",
            "COMMIT;",
        ]
        db.executescript("\n".join(script))
        return
    db.create_function("tierbook_value_digest", 2, value_digest, deterministic=True)
    script += [
        SCHEMA,
        # the values in the order the runs wrote them, so value ids grow with run ids
        "INSERT OR IGNORE INTO account_values (digest, scores, inputs) "
        "SELECT tierbook_value_digest(scores, inputs), scores, inputs FROM old_accounts "
        "ORDER BY run_id, account_id;",
        "INSERT INTO run_accounts SELECT o.run_id, o.account_id, o.path_id, v.value_id "
        "FROM old_accounts o JOIN account_values v "
        "ON v.digest = tierbook_value_digest(o.scores, o.inputs) ORDER BY o.run_id, o.account_id;",
        "DROP TABLE old_accounts;",
        f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version';",
        "COMMIT;",
    ]
    db.executescript("\n".join(script))
