"""The trace store: an embedded SQLite database of runs, decisions and rule firings.

Default location: ``$TIERBOOK_STORE``, else ``.tierbook/traces.sqlite`` in the current
directory; every command takes ``--store PATH``.  A run is written as ``running`` and
becomes ``complete`` only when its last row is in; a run left ``running`` by a process
that died is reported as ``incomplete`` and is never taken as the latest run.
The schema is documented in docs/trace-store.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path
from itertools import repeat
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import jsoncols
from .bulk import bulk as _bulk
from .classes import value_columns
from .decisions import path_ids
from .errors import StoreError, closest
from .values import PartColumns

SCHEMA_VERSION = 2
DEFAULT_PATH = Path(".tierbook") / "traces.sqlite"

_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS accounts (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    account_id TEXT NOT NULL,
    path_id INTEGER NOT NULL,
    scores TEXT NOT NULL,
    inputs TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id));
CREATE VIEW IF NOT EXISTS decisions AS
    SELECT a.run_id, a.account_id, p.tier, p.cell, p.flags, p.bands, a.scores, p.decisions,
           p.comments, p.reviews, p.motion, a.path_id, a.inputs
    FROM accounts a JOIN paths p ON p.run_id = a.run_id AND p.path_id = a.path_id;
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
CREATE INDEX IF NOT EXISTS firings_rule ON firings(run_id, rule_id);
CREATE INDEX IF NOT EXISTS movements_account ON movements(account_id, replay_id);
"""


def default_path() -> Path:
    env = os.environ.get("TIERBOOK_STORE")
    return Path(env) if env else DEFAULT_PATH


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _encoder() -> Any:
    """``_json`` without the per-call set-up: the C encoder json.dumps builds for these
    arguments, built once (no circular-reference check: the rows are plain trees).
    ``_json`` itself wherever that encoder is missing or does not give the same text."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _json
    try:
        encode = make(None, str, json.encoder.encode_basestring_ascii, None, ":", ",", True,
                      False, True)
        fast = lambda value: "".join(encode(value, 0))  # noqa: E731
        probe = {"b": [1, 2.5, None, True, "é\n\"x"], "a": {"z": float("nan"), "y": -0.0},
                 "d": dt.date(2026, 1, 2), "c": 1e-05, "e": float("inf")}
        if fast(probe) == _json(probe):
            return fast
    except Exception:  # noqa: BLE001 - another Python's encoder: the plain way
        pass
    return _json


_json_sorted = _encoder()


def _plain(value: Any) -> bool:
    """Text (or None), or a list/dict of text: equal values of this kind encode alike."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, list):
        return all(v is None or isinstance(v, str) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


class _SameJson:
    """JSON text of values that repeat (a path's flags, bands, ...), encoded once per key
    as long as the value is plain and equal to the one encoded."""

    def __init__(self) -> None:
        self.seen: dict[Any, tuple[Any, str]] = {}

    def __call__(self, key: Any, value: Any) -> str:
        hit = self.seen.get(key)
        if hit is not None and hit[0] == value:
            return hit[1]
        text = _json_sorted(value)
        if _plain(value):
            self.seen[key] = (_copy(value), text)
        return text


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def account_texts(values: Sequence[dict[str, Any]] | None, parts: Sequence[dict[str, Any]],
                  input_keys: list[str], score_ids: list[str],
                  by_field: dict[str, Sequence[Any]] | None = None
                  ) -> tuple[list[str], list[str], list[str]]:
    """The `accounts` text of some accounts: their ids, their scores with each score's parts
    ({s: value, "s.parts": {...}}, a .parts entry winning a clash) and their inputs and derived
    values (``input_keys``, sorted), as JSON objects with sorted keys, built a column at a time
    (tierbook.jsoncols).  ``by_field``: some fields' columns of the same accounts, in the same
    order (``Portfolio.by_field``), the values' own, read instead of the dicts (``values``
    None: all of them)."""
    n = len(parts)
    columns = dict(by_field or {})

    def column(name: str) -> Sequence[Any]:
        found = columns.get(name)
        if found is None:
            if values is None:
                raise KeyError(f"no column {name!r} of the accounts' values")
            found = columns[name] = value_columns([name], values)[0]
        return found

    score_columns: dict[str, Sequence[Any] | jsoncols.Fields] = {}
    for sid in score_ids:
        score_columns.setdefault(sid, column(sid))
    for sid in score_ids:
        if isinstance(parts, PartColumns) and sid in parts.columns:  # no dict per account
            score_columns[f"{sid}.parts"] = jsoncols.Fields(sorted(parts.columns[sid].items()), n)
        else:
            score_columns[f"{sid}.parts"] = list(map(dict.get, parts, repeat(sid)))
    scores = jsoncols.objects(sorted(score_columns.items()), n, _json_sorted)
    inputs = jsoncols.objects([(key, column(key)) for key in input_keys], n, _json_sorted)
    ids = list(map(str, column("account_id")))
    return ids, scores, inputs


@dataclass
class RunRecord:
    """What a run stores besides its accounts' values: where it came from, each path its
    accounts took (path id, accounts on it, what it decides, its firings: the arguments of
    ``write_paths``) and each account's id and path, in account order.  Plain data, so that
    another process can store it (tierbook.staging)."""
    command: str
    label: str
    ruleset_text: str
    input_file: str
    input_sha256: str
    engine: str
    as_of: dt.date
    bands: dict[str, Any]
    paths: list[tuple[int, int, dict[str, Any], list[dict[str, Any]]]]
    account_ids: list[str]
    path_ids: list[int]


BUSY_SECONDS = 60.0  # how long to wait for another process's write before giving up
PAGE_SIZE = 16384  # bytes, for a store created here


class TraceStore:
    def __init__(self, path: str | Path | None = None, create: bool = True) -> None:
        self.path = Path(path) if path else default_path()
        if not create and not self.path.exists():
            raise StoreError(f"no trace store at {self.path}: run `tierbook segment` first, or "
                             "point --store / TIERBOOK_STORE at one")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a rollback journal, not WAL: a run's rows are one large transaction, which WAL
        # would write twice (into the log, then into the database at the checkpoint); the
        # price is that a reader waits while a run's rows are committed (BUSY_SECONDS)
        self.db = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
        try:
            if create:
                # 16 KiB pages for a new store (an existing one keeps its own): an account's
                # row is most of a kilobyte, and a run writes one per account; inserting
                # 100,000 of them took 0.26 s with 4 KiB pages, 0.20 s with 16 KiB
                self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")
                try:
                    self.db.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.OperationalError:
                    pass  # a store kept in WAL (before) that someone has open: it works as is
            self.db.execute("PRAGMA synchronous=FULL")
            version = self._schema_version()
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: trace store schema {version} was written by a "
                                 f"newer tierbook (this one reads schema {SCHEMA_VERSION})")
            if version == 1:
                _migrate_v1(self.db)
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION),))
            self.db.commit()
        except sqlite3.OperationalError as exc:
            self.db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"{self.path}: the trace store is busy (another tierbook run "
                                 f"is writing to it for more than {BUSY_SECONDS:g} s); try again "
                                 "when it has finished") from None
            raise StoreError(f"{self.path}: not a tierbook trace store ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{self.path}: not a tierbook trace store ({exc})") from None
        except StoreError:
            self.db.close()
            raise

    def _schema_version(self) -> int | None:
        has_meta = self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                   "name='meta'").fetchone()
        if not has_meta:
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row and str(row[0]).isdigit() else None

    def close(self) -> None:
        self.db.close()

    # -- writing -------------------------------------------------------------------------
    def begin_run(self, *, command: str, ruleset: Any, ruleset_text: str, input_file: str,
                  input_sha256: str, engine: str, as_of: dt.date, bands: dict[str, Any],
                  label: str = "") -> int:
        self.db.execute("INSERT OR IGNORE INTO rulesets VALUES (?, ?, ?, ?)",
                        (ruleset.sha256, ruleset.name, ruleset.version, ruleset_text))
        cur = self.db.execute(
            "INSERT INTO runs (command, started_at, status, ruleset_name, ruleset_version, "
            "ruleset_sha256, input_file, input_sha256, engine, as_of, label, bands) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (command, _now(), ruleset.name, ruleset.version, ruleset.sha256, input_file,
             input_sha256, engine, as_of.isoformat(), label, _json(bands)))
        self.db.commit()
        return int(cur.lastrowid or 0)

    def write_paths(self, run_id: int,
                    paths: Iterable[tuple[int, int, dict[str, Any], list[dict[str, Any]]]],
                    batch: int = 20000) -> None:
        """Each path once: (path id, accounts on it, what it decides, its firings).  What
        a path decides (tier, cell, flags, bands, decisions, comments, reviews, motion) is
        the same for every account on it, so it is kept here, not on each account."""
        with _bulk():
            self._write_paths(run_id, paths, batch)

    def _write_paths(self, run_id: int,
                     paths: Iterable[tuple[int, int, dict[str, Any], list[dict[str, Any]]]],
                     batch: int) -> None:
        derived = _SameJson()
        path_rows: list[tuple[Any, ...]] = []
        firing_rows: list[tuple[Any, ...]] = []
        for path_id, count, decided, firings in paths:
            path_rows.append((run_id, path_id, count, decided["tier"], decided["cell"],
                              _json_sorted(decided["flags"]), _json_sorted(decided["bands"]),
                              _json_sorted(decided["decisions"]), _json_sorted(decided["comments"]),
                              _json_sorted(decided["reviews"]), decided["motion"]))
            firing_rows.extend([(run_id, path_id, f["seq"], f["rule_id"], f["kind"], f["because"],
                                 derived(f["rule_id"], f["derived"])) for f in firings])
            if len(firing_rows) >= batch:
                self._insert_paths(path_rows, firing_rows)
                path_rows, firing_rows = [], []
        self._insert_paths(path_rows, firing_rows)

    def _insert_paths(self, path_rows: list[tuple[Any, ...]],
                      firing_rows: list[tuple[Any, ...]]) -> None:
        if path_rows:
            self.db.executemany("INSERT INTO paths VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                path_rows)
        if firing_rows:
            self.db.executemany("INSERT INTO firings VALUES (?, ?, ?, ?, ?, ?, ?)", firing_rows)

    def write_evaluated(self, run_id: int, decisions: Sequence[Any], inputs_ids: list[str],
                        score_ids: list[str], batch: int = 20000,
                        by_field: dict[str, Sequence[Any]] | None = None,
                        part_columns: PartColumns | None = None) -> None:
        """One `accounts` row per evaluated account (tierbook.evaluate.Decision): its path,
        its scores with their parts, and its inputs and derived values, as JSON objects with
        sorted keys (``account_texts``), written in batches, so that a million accounts
        never sit in memory twice as text.  ``by_field``, ``part_columns``: the decisions'
        values and score parts as columns, in decision order (``Evaluation.by_field``,
        ``.part_columns``), read instead of their dicts."""
        input_keys = sorted(set(inputs_ids))
        covered = by_field is not None and by_field.keys() >= {"account_id", *input_keys,
                                                               *score_ids}
        paths = path_ids(decisions)
        with _bulk():
            for start in range(0, len(decisions), batch):
                stop = start + batch
                # (no account's Decision made where the columns hold all a row needs)
                chunk = [] if covered and part_columns is not None else decisions[start:stop]
                ids, scores, inputs = account_texts(
                    None if covered else [d.values for d in chunk],
                    part_columns[start:stop] if part_columns is not None
                    else [d.parts for d in chunk],
                    input_keys, score_ids,
                    {name: column[start:stop] for name, column in by_field.items()}
                    if by_field is not None else None)
                self.write_accounts(run_id, ids, paths[start:stop], scores, inputs)

    def write_accounts(self, run_id: int, ids: Sequence[str], path_ids: Sequence[int],
                       scores: Sequence[str], inputs: Sequence[str]) -> None:
        """`accounts` rows whose text is built already (``account_texts``)."""
        with _bulk():
            self.db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
                                zip(repeat(run_id), ids, path_ids, scores, inputs))

    def write_run(self, ruleset: Any, record: RunRecord,
                  write_rows: Callable[[int], None]) -> int:
        """One run, visible once complete: ``record``'s paths with their firings, the
        accounts' rows (``write_rows(run_id)``), then the run marked complete; on any
        failure it is marked failed and the error goes on."""
        run_id = self.begin_run(command=record.command, ruleset=ruleset,
                                ruleset_text=record.ruleset_text, input_file=record.input_file,
                                input_sha256=record.input_sha256, engine=record.engine,
                                as_of=record.as_of, bands=record.bands, label=record.label)
        try:
            self.write_paths(run_id, record.paths)
            write_rows(run_id)
            self.finish_run(run_id, len(record.path_ids))
        except BaseException:
            self.fail_run(run_id)
            raise
        return run_id

    def finish_run(self, run_id: int, account_count: int) -> None:
        self.db.execute("UPDATE runs SET status='complete', finished_at=?, account_count=? "
                        "WHERE run_id=?", (_now(), account_count, run_id))
        self.db.commit()

    def fail_run(self, run_id: int) -> None:
        self.db.rollback()
        self.db.execute("UPDATE runs SET status='failed', finished_at=? WHERE run_id=?",
                        (_now(), run_id))
        self.db.commit()

    # -- reading -------------------------------------------------------------------------
    def run(self, run_id: int | None = None) -> dict[str, Any]:
        self.db.row_factory = sqlite3.Row
        try:
            if run_id is None:
                row = self.db.execute("SELECT * FROM runs WHERE status='complete' "
                                      "ORDER BY run_id DESC LIMIT 1").fetchone()
                if row is None:
                    raise StoreError(f"{self.path}: no complete run yet: run `tierbook segment`")
            else:
                row = self.db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
                if row is None:
                    ids = [str(r[0]) for r in self.db.execute(
                        "SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 10")]
                    raise StoreError(f"no run {run_id} in {self.path}; recent runs: "
                                     f"{', '.join(ids) or 'none'}")
                if row["status"] != "complete":
                    state = "incomplete" if row["status"] == "running" else row["status"]
                    raise StoreError(f"run {run_id} is {state}: it did not finish, so its "
                                     "decisions are not reported")
            out = dict(row)
            out["bands"] = json.loads(out["bands"])
            return out
        finally:
            self.db.row_factory = None

    def runs(self) -> list[dict[str, Any]]:
        self.db.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY run_id")]
        finally:
            self.db.row_factory = None
        for r in rows:
            if r["status"] == "running":
                r["status"] = "incomplete"
        return rows

    def ruleset_text(self, sha256: str) -> str:
        row = self.db.execute("SELECT text FROM rulesets WHERE sha256=?", (sha256,)).fetchone()
        if row is None:
            raise StoreError(f"ruleset {sha256[:12]} is not in the store")
        return str(row[0])

    def decision(self, run_id: int, account_id: str) -> dict[str, Any]:
        self.db.row_factory = sqlite3.Row
        try:
            row = self.db.execute("SELECT * FROM decisions WHERE run_id=? AND account_id=?",
                                  (run_id, account_id)).fetchone()
            if row is None:
                near = closest(account_id, self._ids_like(run_id, account_id))
                hint = f"; closest ids: {', '.join(near)}" if near else ""
                raise StoreError(f"no account '{account_id}' in run {run_id}{hint}")
            out = dict(row)
            firings = [dict(f) for f in self.db.execute(
                "SELECT seq, rule_id, kind, because, derived FROM firings "
                "WHERE run_id=? AND path_id=? ORDER BY seq", (run_id, out["path_id"]))]
        finally:
            self.db.row_factory = None
        for key in ("flags", "bands", "scores", "decisions", "comments", "reviews", "inputs"):
            out[key] = json.loads(out[key])
        for f in firings:
            f["derived"] = json.loads(f["derived"])
        out["firings"] = firings
        return out

    def _ids_like(self, run_id: int, account_id: str) -> Iterator[str]:
        prefix = account_id[:3]
        rows = self.db.execute("SELECT account_id FROM decisions WHERE run_id=? AND "
                               "account_id LIKE ? LIMIT 20000", (run_id, f"{prefix}%")).fetchall()
        if not rows:
            rows = self.db.execute("SELECT account_id FROM decisions WHERE run_id=? LIMIT 20000",
                                   (run_id,)).fetchall()
        return (r[0] for r in rows)

    def write_movements(self, replay_id: int, quarter: str, run_id: int,
                        rows: Iterable[dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(replay_id, quarter, run_id, r["account_id"], r["from"], r["to"], r["evaluated"],
              r["outcome"], r.get("rule", ""), r.get("because", "")) for r in rows])
        self.db.commit()

    def latest_replay(self) -> int:
        row = self.db.execute("SELECT max(m.replay_id) FROM movements m JOIN runs r ON "
                              "r.run_id = m.replay_id WHERE r.status='complete'").fetchone()
        if row is None or row[0] is None:
            raise StoreError(f"{self.path}: no replay yet: run `tierbook replay`")
        return int(row[0])

    def history(self, account_id: str, replay_id: int | None = None) -> list[dict[str, Any]]:
        """One account's path through the quarters of a replay (default: the latest)."""
        replay = self.latest_replay() if replay_id is None else replay_id
        self.db.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in self.db.execute(
                "SELECT m.quarter, m.run_id, m.from_tier, m.to_tier, m.evaluated_tier, m.outcome, "
                "m.rule_id, m.because, d.flags FROM movements m LEFT JOIN decisions d ON "
                "d.run_id = m.run_id AND d.account_id = m.account_id "
                "WHERE m.replay_id=? AND m.account_id=? ORDER BY m.quarter", (replay, account_id))]
            if not rows:
                ids = (r[0] for r in self.db.execute(
                    "SELECT DISTINCT account_id FROM movements WHERE replay_id=?", (replay,)))
                near = closest(account_id, ids)
                hint = f"; closest ids: {', '.join(near)}" if near else ""
                raise StoreError(f"no account '{account_id}' in replay {replay}{hint}")
        finally:
            self.db.row_factory = None
        for r in rows:
            r["flags"] = json.loads(r["flags"]) if r["flags"] else []
        return rows


def _migrate_v1(db: sqlite3.Connection) -> None:
    """Schema 1 kept a path's decided fields on every account row (table `decisions`);
    schema 2 keeps them once per path and the accounts in `accounts`, with `decisions` a
    view of the same columns.  Every run is kept."""
    kind = db.execute("SELECT type FROM sqlite_master WHERE name='decisions'").fetchone()
    if kind is None or kind[0] != "table":
        return
    columns = (("tier", "''"), ("cell", "''"), ("flags", "'[]'"), ("bands", "'{}'"),
               ("decisions", "'{}'"), ("comments", "'[]'"), ("reviews", "'[]'"), ("motion", "''"))
    script = ["BEGIN;"]
    script += [f"ALTER TABLE paths ADD COLUMN {c} TEXT NOT NULL DEFAULT {d};" for c, d in columns]
    script += [f"UPDATE paths SET {c} = COALESCE((SELECT d.{c} FROM decisions d WHERE "
               f"d.run_id = paths.run_id AND d.path_id = paths.path_id LIMIT 1), {dflt});"
               for c, dflt in columns]
    script += ["ALTER TABLE decisions RENAME TO decisions_v1;",
               _SCHEMA,
               "INSERT INTO accounts SELECT run_id, account_id, path_id, scores, inputs "
               "FROM decisions_v1;",
               "DROP TABLE decisions_v1;",
               f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version';",
               "COMMIT;"]
    db.executescript("\n".join(script))


def _now() -> str:
    fixed = os.environ.get("TIERBOOK_FIXED_TIME")  # tests and golden files pin the clock
    if fixed:
        return fixed
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
