"""The trace store's schema (tables and views, documented in docs/trace-store.md) and the
migration of a store written under an earlier one."""

from __future__ import annotations

import hashlib
import sqlite3

from .texts import value_digest

SCHEMA_VERSION = 4

_TABLES = """
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
CREATE TABLE IF NOT EXISTS run_accounts (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    account_id TEXT NOT NULL,
    path_id INTEGER NOT NULL,
    value_id INTEGER NOT NULL REFERENCES account_values(value_id),
    PRIMARY KEY (run_id, account_id)) WITHOUT ROWID;
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


def object_of(layout: str, values: str) -> str:
    """SQL: the JSON object whose keys are ``layout``'s (a JSON array of keys, a nested
    object's as [key, [its keys]]) and whose values are ``values``' (a JSON array in the
    same order): the text orjson wrote for the account before schema 4, byte for byte."""
    at = f"{values} -> ('$[' || k.key || ']"
    return (
        "(SELECT json_group_object("
        "CASE WHEN k.type = 'array' THEN k.value ->> 0 ELSE k.value END, "
        f"CASE WHEN k.type = 'array' THEN (SELECT json_group_object(p.value, {at}[' || p.key "
        "|| ']')) FROM json_each(k.value, '$[1]') p) "
        f"ELSE {at}') END) FROM json_each({layout}) k)"
    )


# each distinct (scores, inputs) of an account once, its values as JSON arrays whose keys
# are its layout's (the same for every account of a run, so kept once)
_VALUES = """
CREATE TABLE IF NOT EXISTS value_layouts (
    layout_id INTEGER PRIMARY KEY,
    scores TEXT NOT NULL,
    inputs TEXT NOT NULL,
    UNIQUE (scores, inputs));
CREATE TABLE IF NOT EXISTS account_values (
    value_id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    layout_id INTEGER NOT NULL REFERENCES value_layouts(layout_id),
    scores TEXT NOT NULL,
    inputs TEXT NOT NULL);
"""
_SCORES, _INPUTS = object_of("l.scores", "v.scores"), object_of("l.inputs", "v.inputs")
_VIEWS = f"""
CREATE VIEW IF NOT EXISTS accounts AS
    SELECT a.run_id, a.account_id, a.path_id, {_SCORES} AS scores, {_INPUTS} AS inputs
    FROM run_accounts a JOIN account_values v ON v.value_id = a.value_id
    JOIN value_layouts l ON l.layout_id = v.layout_id;
CREATE VIEW IF NOT EXISTS decisions AS
    SELECT a.run_id, a.account_id, p.tier, p.cell, p.flags, p.bands, {_SCORES} AS scores,
           p.decisions, p.comments, p.reviews, p.motion, a.path_id, {_INPUTS} AS inputs
    FROM run_accounts a JOIN paths p ON p.run_id = a.run_id AND p.path_id = a.path_id
    JOIN account_values v ON v.value_id = a.value_id
    JOIN value_layouts l ON l.layout_id = v.layout_id;
"""
SCHEMA = _TABLES + _VALUES + _VIEWS
# schema 3's values: each distinct pair of JSON objects once (a migration's way through)
_VALUES_3 = """
CREATE TABLE IF NOT EXISTS account_values (
    value_id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    scores TEXT NOT NULL,
    inputs TEXT NOT NULL);
"""


def _layout_of(obj: str) -> str:
    """SQL: the layout of a JSON object (its keys, a nested object's as [key, [keys]])."""
    return (
        "(SELECT json_group_array(CASE WHEN j.type = 'object' THEN json_array(j.key, "
        f"(SELECT json_group_array(q.key) FROM json_each({obj}, j.fullkey) q)) ELSE j.key END) "
        f"FROM json_each({obj}) j)"
    )


def _values_of(obj: str) -> str:
    """SQL: a JSON object's values as an array in its keys' order, each value's text as
    it is in the object (a nested object's values as an array)."""
    return (
        "(SELECT json_group_array(CASE WHEN j.type = 'object' THEN (SELECT json_group_array("
        f"{obj} -> q.fullkey) FROM json_each({obj}, j.fullkey) q) ELSE {obj} -> j.fullkey END) "
        f"FROM json_each({obj}) j)"
    )


_TO_4 = f"""
DROP VIEW IF EXISTS accounts;
DROP VIEW IF EXISTS decisions;
ALTER TABLE account_values RENAME TO values_3;
{_VALUES}
INSERT OR IGNORE INTO value_layouts (scores, inputs)
    SELECT {_layout_of("scores")}, {_layout_of("inputs")} FROM values_3 ORDER BY value_id;
INSERT INTO account_values (value_id, digest, layout_id, scores, inputs)
    SELECT o.value_id, tierbook_value_digest(l.layout_id, o.sv, o.iv), l.layout_id, o.sv, o.iv
    FROM (SELECT value_id, {_layout_of("scores")} AS sl, {_layout_of("inputs")} AS il,
                 {_values_of("scores")} AS sv, {_values_of("inputs")} AS iv FROM values_3) o
    JOIN value_layouts l ON l.scores = o.sl AND l.inputs = o.il ORDER BY o.value_id;
DROP TABLE values_3;
"""


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a store of an earlier schema to this one, in one transaction; every run is
    kept, and `accounts` and `decisions` read as before.  Schema 1 kept a path's decided
    fields on every account row (table `decisions`); schema 2 kept them once per path, and
    every account's scores and inputs on its row in table `accounts`; schema 3 keeps each
    distinct (scores, inputs) once, in `account_values`, and `run_accounts` points at it;
    schema 4 keeps them as JSON arrays of values whose keys are kept once per layout, in
    `value_layouts` (the views give the objects, the same text as before)."""

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
    elif version == 3 and is_table("account_values"):
        _run(db, [*script, _TO_4, _VIEWS])
        return
    else:  # (a store whose tables were never made: made now, as a new one's)
        _run(db, [*script, SCHEMA])
        return
    script += [
        _TABLES,
        _VALUES_3,
        # the values in the order the runs wrote them, so value ids grow with run ids
        "INSERT OR IGNORE INTO account_values (digest, scores, inputs) "
        "SELECT tierbook_value_digest_3(scores, inputs), scores, inputs FROM old_accounts "
        "ORDER BY run_id, account_id;",
        "INSERT INTO run_accounts SELECT o.run_id, o.account_id, o.path_id, v.value_id "
        "FROM old_accounts o JOIN account_values v "
        "ON v.digest = tierbook_value_digest_3(o.scores, o.inputs) "
        "ORDER BY o.run_id, o.account_id;",
        "DROP TABLE old_accounts;",
        _TO_4,
        _VIEWS,
    ]
    _run(db, script)


def _run(db: sqlite3.Connection, script: list[str]) -> None:
    """The migration's statements and the new version, committed together.  (A table
    renamed on the way keeps its name in the others' references: legacy_alter_table.)"""
    db.create_function("tierbook_value_digest", 3, value_digest, deterministic=True)
    db.create_function("tierbook_value_digest_3", 2, _digest_3, deterministic=True)
    script += [f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version';", "COMMIT;"]
    db.execute("PRAGMA legacy_alter_table=ON")
    try:
        db.executescript("\n".join(script))
    finally:
        db.execute("PRAGMA legacy_alter_table=OFF")


def _digest_3(scores: str, inputs: str) -> bytes:
    """Schema 3's key of a stored pair (on the way to schema 4, which keys them again)."""
    return hashlib.blake2b(scores.encode() + b"\0" + inputs.encode(), digest_size=16).digest()
