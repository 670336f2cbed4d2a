"""The trace store: an embedded SQLite database of runs, decisions and rule firings.

Default location: ``$TIERBOOK_STORE``, else ``.tierbook/traces.sqlite`` in the current
directory; every command takes ``--store PATH``.  A run is written as ``running`` and
becomes ``complete`` only when its last row is in; a run left ``running`` by a process
that died is reported as ``incomplete`` and is never taken as the latest run.
The schema is documented in docs/trace-store.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import StoreError, closest

if TYPE_CHECKING:
    from ..evaluate.run import Evaluation

SCHEMA_VERSION = 3
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
CREATE INDEX IF NOT EXISTS firings_rule ON firings(run_id, rule_id);
CREATE INDEX IF NOT EXISTS movements_account ON movements(account_id, replay_id);
"""


def default_path() -> Path:
    env = os.environ.get("TIERBOOK_STORE")
    return Path(env) if env else DEFAULT_PATH


def _json(value: Any) -> str:
    """The store's JSON text: sorted keys, compact separators, anything JSON has no type
    for (a date) as its text, non-ASCII escaped, NaN and infinities as NaN and Infinity."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


# Most of a run's JSON is written by orjson (at C speed) instead, wherever its text is the
# same as ``_json``'s: for text (whose characters outside ASCII, and DEL, json escapes and
# orjson does not: checked on the text written), None, booleans, integers (up to 64 bits:
# orjson refuses larger ones), dates (YYYY-MM-DD both) and floats as in ``_floats_alike``.
# Anything else (a datetime, a key that is not text, a subclass) is written by json.
_SORTED = orjson.OPT_SORT_KEYS
_SCALARS = frozenset({str, int, bool, type(None), dt.date})


def _floats_alike(floats: list[float]) -> bool:
    """Whether orjson writes each of ``floats`` as Python's repr (so as json) does.  It does
    for 0 and for 1e-4 <= |x| < 1e16 (the shortest digits that read back, in plain
    notation); others it writes with an exponent or as 0.0000..., NaN and infinities as
    null, which are looked for in its text (``_FLOATS``: the installed orjson does so)."""
    if not _FLOATS:
        return False
    text = orjson.dumps(floats)
    return b"e" not in text and b"null" not in text and b"0.0000" not in text


def _orjson_floats_as_repr() -> bool:
    """Whether this orjson writes floats as ``_floats_alike`` takes it to (the text of the
    installed version is checked, not assumed)."""
    probe = [
        0.0,
        -0.0,
        0.1 + 0.2,
        1 / 3,
        2 / 3,
        100.0,
        123456789.125,
        5e-324,
        1.7976931348623157e308,
    ]
    probe += [
        s * m * 10.0**e
        for e in range(-12, 20)
        for s in (1, -1)
        for m in (1, 1.5, 1.2345678901234567, 9.999999999999998, 3.0000000000000004)
    ]
    for value in probe:
        text = orjson.dumps([value])
        if (
            b"e" not in text
            and b"null" not in text
            and b"0.0000" not in text
            and text[1:-1].decode() != repr(value)
        ):
            return False
    return True


_FLOATS = _orjson_floats_as_repr()


def _alike(values: Sequence[Any]) -> bool:
    """Whether orjson writes every one of ``values`` (scalars, or dicts of them) as
    ``_json`` does, text outside ASCII aside (``_objects`` checks that): a pass or two in C."""
    kinds = set(map(type, values))
    if kinds <= _SCALARS:
        return True
    if float in kinds:
        floats = (
            values
            if kinds == {float} and isinstance(values, list)
            else list(filter(float.__instancecheck__, values))
        )
        if not _floats_alike(floats):
            return False
        kinds.discard(float)
    if dict in kinds:
        dicts = list(filter(dict.__instancecheck__, values))
        if not (
            set(map(type, chain.from_iterable(dicts))) <= {str}
            and _alike(list(chain.from_iterable(map(dict.values, dicts))))
        ):
            return False
        kinds.discard(dict)
    return kinds <= _SCALARS


def _value_alike(value: Any) -> bool:
    """``_alike`` for one value, of any kind."""
    kind = value.__class__
    if kind in _SCALARS:
        return True
    if kind is float:
        return _floats_alike([value])
    if kind is dict:
        return all(k.__class__ is str for k in value) and all(map(_value_alike, value.values()))
    if kind is list or kind is tuple:
        return all(map(_value_alike, value))
    return False


def _odd_rows(column: Sequence[Any]) -> list[int]:
    """The rows of ``column`` whose value orjson would not write as ``_json`` does."""
    if _alike(column):
        return []
    return [i for i, value in enumerate(column) if not _value_alike(value)]


def _one(value: Any) -> str:
    """``_json(value)``, by orjson where its text is the same (``value`` alike)."""
    try:
        text = orjson.dumps(value, option=_SORTED).decode()
    except orjson.JSONEncodeError:  # (an integer beyond 64 bits, text with a surrogate, ...)
        return _json(value)
    return text if text.isascii() and "\x7f" not in text else _json(value)


def _text(value: Any) -> str:
    """``_json(value)``, by orjson where its text is the same."""
    return _one(value) if _value_alike(value) else _json(value)


Columns = Mapping[str, Sequence[Any] | Mapping[str, Sequence[Any]]]


def _objects(columns: Columns, count: int) -> list[str]:
    """``count`` JSON objects as ``_json`` writes them, object i holding {name: column[i]}
    for each of ``columns`` (a column given as a mapping of columns: an object of them).
    By orjson where its text is the same: not for the rows holding a value orjson writes
    otherwise, nor any that orjson refuses or whose text is not ASCII.  Each row's dict is
    built as it is written and let go at once (a batch of them kept alive would be moved to
    the collector's oldest generation, and walked by its full collections)."""
    odd: set[int] = set()
    for column in columns.values():
        for inner in column.values() if isinstance(column, Mapping) else (column,):
            odd.update(_odd_rows(inner))

    def row(i: int) -> dict[str, Any]:
        return {
            name: {k: c[i] for k, c in column.items()} if isinstance(column, Mapping) else column[i]
            for name, column in columns.items()
        }

    if odd:
        return [_json(row(i)) if i in odd else _one(row(i)) for i in range(count)]
    rows = _dicts(
        {
            name: _dicts(column, count) if isinstance(column, Mapping) else column
            for name, column in columns.items()
        },
        count,
    )
    try:
        texts = list(map(bytes.decode, map(orjson.dumps, rows, repeat(None), repeat(_SORTED))))
    except orjson.JSONEncodeError:  # (an integer beyond 64 bits, text with a surrogate, ...)
        return [_one(row(i)) for i in range(count)]
    if all(map(str.isascii, texts)) and not any(map(str.__contains__, texts, repeat("\x7f"))):
        return texts
    return [
        text if text.isascii() and "\x7f" not in text else _json(row(i))
        for i, text in enumerate(texts)
    ]


def _dicts(columns: Mapping[str, Iterable[Any]], count: int) -> Iterator[dict[str, Any]]:
    """Each row's dict of ``columns``, as it is asked for."""
    if not columns:
        return ({} for _ in range(count))
    return map(dict, map(zip, repeat(list(columns)), zip(*columns.values())))


def row_fields(ruleset: Any) -> tuple[list[str], list[str]]:
    """What an account's stored row holds: its inputs and derived values (sorted), and its
    scores (each with its parts)."""
    inputs = sorted({i.id for i in ruleset.inputs} | {d.id for d in ruleset.derived})
    return inputs, [s.id for s in ruleset.scores]


def account_texts(
    columns: Mapping[str, Sequence[Any]],
    parts: Mapping[str, Mapping[str, Sequence[Any]]],
    input_keys: list[str],
    score_ids: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """The stored text of some accounts: their ids, their scores with each score's parts
    ({s: value, "s.parts": {...}}, a .parts entry winning a clash) and their inputs and derived
    values (``input_keys``, sorted), as JSON objects with sorted keys (``_objects``).
    ``columns``: the accounts' values by name (a name missing: null for every account);
    ``parts``: per score, each component's column of parts."""
    n = len(columns["account_id"])
    blank = [None] * n

    def column(name: str) -> Sequence[Any]:
        return columns.get(name, blank)

    score_columns: dict[str, Sequence[Any] | Mapping[str, Sequence[Any]]] = {}
    for sid in score_ids:
        score_columns.setdefault(sid, column(sid))
    for sid in score_ids:
        score_columns[f"{sid}.parts"] = parts.get(sid, {})
    scores = _objects(dict(sorted(score_columns.items())), n)
    inputs = _objects({key: column(key) for key in input_keys}, n)
    ids = list(map(str, column("account_id")))
    return ids, scores, inputs


def value_digest(scores: str, inputs: str) -> bytes:
    """The key an account's stored values are kept under (`account_values.digest`): the
    16-byte BLAKE2b of its scores' and inputs' JSON text, with a NUL between them (a
    character JSON text never holds)."""
    return hashlib.blake2b(scores.encode() + b"\0" + inputs.encode(), digest_size=16).digest()


BUSY_SECONDS = 60.0  # how long to wait for another process's write before giving up
PAGE_SIZE = 16384  # bytes, for a store created here


class TraceStore:
    def __init__(self, path: str | Path | None = None, create: bool = True) -> None:
        self.path = Path(path) if path else default_path()
        if not create and not self.path.exists():
            raise StoreError(
                f"no trace store at {self.path}: run `tierbook segment` first, or "
                "point --store / TIERBOOK_STORE at one"
            )
        # a rollback journal, not WAL: a run's rows are one large transaction, which WAL
        # would write twice (into the log, then into the database at the checkpoint); the
        # price is that a reader waits while a run's rows are committed (BUSY_SECONDS)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
        except (OSError, sqlite3.Error) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(f"{self.path}: cannot open the trace store ({why})") from None
        try:
            if create:
                # 16 KiB pages for a new store (an existing one keeps its own): an account's
                # stored values are most of a kilobyte, and a run writes one per account; inserting
                # 100,000 of them took 0.26 s with 4 KiB pages, 0.20 s with 16 KiB
                self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")
                # a store kept in WAL (before) that someone has open: it works as is
                with contextlib.suppress(sqlite3.OperationalError):
                    self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.execute("PRAGMA synchronous=FULL")
            version = self._schema_version()
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: trace store schema {version} was written by a "
                    f"newer tierbook (this one reads schema {SCHEMA_VERSION})"
                )
            if version is not None and version < SCHEMA_VERSION:
                _migrate(self.db, version)
            self.db.executescript(_SCHEMA)
            self.db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self.db.commit()
        except sqlite3.OperationalError as exc:
            self.db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{self.path}: the trace store is busy (another tierbook run "
                    f"is writing to it for more than {BUSY_SECONDS:g} s); try again "
                    "when it has finished"
                ) from None
            raise StoreError(f"{self.path}: not a tierbook trace store ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{self.path}: not a tierbook trace store ({exc})") from None
        except StoreError:
            self.db.close()
            raise

    def _schema_version(self) -> int | None:
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not has_meta:
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row and str(row[0]).isdigit() else None

    def close(self) -> None:
        self.db.close()

    # -- writing -------------------------------------------------------------------------
    def begin_run(
        self,
        *,
        command: str,
        ruleset: Any,
        ruleset_text: str,
        input_file: str,
        input_sha256: str,
        engine: str,
        as_of: dt.date,
        bands: dict[str, Any],
        label: str = "",
    ) -> int:
        self.db.execute(
            "INSERT OR IGNORE INTO rulesets VALUES (?, ?, ?, ?)",
            (ruleset.sha256, ruleset.name, ruleset.version, ruleset_text),
        )
        cur = self.db.execute(
            "INSERT INTO runs (command, started_at, status, ruleset_name, ruleset_version, "
            "ruleset_sha256, input_file, input_sha256, engine, as_of, label, bands) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                command,
                _now(),
                ruleset.name,
                ruleset.version,
                ruleset.sha256,
                input_file,
                input_sha256,
                engine,
                as_of.isoformat(),
                label,
                _text(bands),
            ),
        )
        self.db.commit()
        return int(cur.lastrowid or 0)

    def write_run(
        self,
        ev: Evaluation,
        *,
        ruleset_text: str,
        input_file: str,
        input_sha256: str,
        command: str,
        label: str = "",
        complete: bool = True,
    ) -> int:
        """One evaluation as one run, visible once complete: the run (committed as
        ``running``), each path some account took with its firings, and a row per account,
        in batches in one transaction that marks the run complete; on any failure the run is
        marked failed and the error goes on (an SQLite error as a StoreError naming the
        store).  ``complete`` False: the rows are committed but the run stays ``running``
        (incomplete: never read as a result) until ``complete_runs``.  (Paths tried only
        by a gate's what-if accounts are not stored.)"""
        from .record import bands_to_json, firing_records, path_decided

        counts = Counter(ev.path_ids())
        paths = [
            (
                pid,
                n,
                path_decided(ev.network, ev.paths[pid]),
                firing_records(ev.network, ev.paths[pid]),
            )
            for pid, n in sorted(counts.items())
        ]
        with self._writing():
            run_id = self.begin_run(
                command=command,
                ruleset=ev.ruleset,
                ruleset_text=ruleset_text,
                input_file=input_file,
                input_sha256=input_sha256,
                engine=ev.engine,
                as_of=ev.as_of,
                bands=bands_to_json(ev.bands),
                label=label,
            )
        try:
            with self._writing():
                self.write_paths(run_id, paths)
                self.write_evaluated(run_id, ev, *row_fields(ev.ruleset))
                if complete:
                    self.finish_run(run_id, ev.frame.height)
                else:
                    self.db.execute(
                        "UPDATE runs SET account_count=? WHERE run_id=?",
                        (ev.frame.height, run_id),
                    )
                    self.db.commit()
        except BaseException:
            self.fail_run(run_id)
            raise
        return run_id

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """An SQLite error writing a run (a full disk, a read-only file) as a StoreError
        naming the store, not an internal error."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: cannot write the run to the trace store ({exc})"
            ) from None

    def complete_runs(self, run_ids: Sequence[int]) -> None:
        """Runs written with ``complete=False`` marked complete, together (one transaction)."""
        with self._writing():
            self.db.executemany(
                "UPDATE runs SET status='complete', finished_at=? "
                "WHERE run_id=? AND status='running'",
                [(_now(), run_id) for run_id in run_ids],
            )
            self.db.commit()

    def fail_runs(self, run_ids: Sequence[int]) -> None:
        """Runs that will not be completed marked failed (as far as the store can be
        written: a run left ``running`` reads as incomplete, never as a result)."""
        with contextlib.suppress(sqlite3.Error):
            self.db.rollback()
            self.db.executemany(
                "UPDATE runs SET status='failed', finished_at=? WHERE run_id=? AND status='running'",
                [(_now(), run_id) for run_id in run_ids],
            )
            self.db.commit()

    def write_paths(
        self, run_id: int, paths: Iterable[tuple[int, int, dict[str, Any], list[dict[str, Any]]]]
    ) -> None:
        """Each path once: (path id, accounts on it, what it decides, its firings).  What
        a path decides (tier, cell, flags, bands, decisions, comments, reviews, motion) is
        the same for every account on it, so it is kept here, not on each account."""
        path_rows: list[tuple[Any, ...]] = []
        firing_rows: list[tuple[Any, ...]] = []
        for path_id, count, decided, firings in paths:
            path_rows.append(
                (
                    run_id,
                    path_id,
                    count,
                    decided["tier"],
                    decided["cell"],
                    _text(decided["flags"]),
                    _text(decided["bands"]),
                    _text(decided["decisions"]),
                    _text(decided["comments"]),
                    _text(decided["reviews"]),
                    decided["motion"],
                )
            )
            firing_rows.extend(
                [
                    (
                        run_id,
                        path_id,
                        f["seq"],
                        f["rule_id"],
                        f["kind"],
                        f["because"],
                        _text(f["derived"]),
                    )
                    for f in firings
                ]
            )
        self.db.executemany("INSERT INTO paths VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", path_rows)
        self.db.executemany("INSERT INTO firings VALUES (?, ?, ?, ?, ?, ?, ?)", firing_rows)

    def write_evaluated(
        self,
        run_id: int,
        ev: Evaluation,
        inputs_ids: list[str],
        score_ids: list[str],
        batch: int = 20000,
    ) -> None:
        """One `accounts` row per evaluated account: its path, its scores with their parts,
        and its inputs and derived values, as JSON objects with sorted keys
        (``account_texts``), written ``batch`` accounts at a time from the evaluation's
        frame, so that a million accounts never sit in memory twice as text."""
        input_keys = sorted(set(inputs_ids))
        names = ["account_id", *input_keys, *score_ids]
        paths = ev.path_ids()
        for start in range(0, ev.frame.height, batch):
            stop = min(start + batch, ev.frame.height)
            columns = ev.columns(names, start, stop)
            parts = {sid: ev.part_columns(sid, start, stop) for sid in score_ids}
            ids, scores, inputs = account_texts(columns, parts, input_keys, score_ids)
            # each distinct (scores, inputs) once in the store, found again by its digest:
            # an account whose values an earlier run (or account) stored shares that row
            digests = list(map(value_digest, scores, inputs))
            self.db.executemany(
                "INSERT OR IGNORE INTO account_values (digest, scores, inputs) VALUES (?, ?, ?)",
                zip(digests, scores, inputs),
            )
            del scores, inputs
            self.db.executemany(
                "INSERT INTO run_accounts VALUES (?, ?, ?, "
                "(SELECT value_id FROM account_values WHERE digest = ?))",
                zip(repeat(run_id), ids, paths[start:stop], digests),
            )

    def finish_run(self, run_id: int, account_count: int) -> None:
        self.db.execute(
            "UPDATE runs SET status='complete', finished_at=?, account_count=? WHERE run_id=?",
            (_now(), account_count, run_id),
        )
        self.db.commit()

    def fail_run(self, run_id: int) -> None:
        self.fail_runs([run_id])

    # -- reading -------------------------------------------------------------------------
    def run(self, run_id: int | None = None) -> dict[str, Any]:
        self.db.row_factory = sqlite3.Row
        try:
            if run_id is None:
                row = self.db.execute(
                    "SELECT * FROM runs WHERE status='complete' ORDER BY run_id DESC LIMIT 1"
                ).fetchone()
                if row is None:
                    raise StoreError(f"{self.path}: no complete run yet: run `tierbook segment`")
            else:
                row = self.db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
                if row is None:
                    ids = [
                        str(r[0])
                        for r in self.db.execute(
                            "SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 10"
                        )
                    ]
                    raise StoreError(
                        f"no run {run_id} in {self.path}; recent runs: {', '.join(ids) or 'none'}"
                    )
                if row["status"] != "complete":
                    state = "incomplete" if row["status"] == "running" else row["status"]
                    raise StoreError(
                        f"run {run_id} is {state}: it did not finish, so its "
                        "decisions are not reported"
                    )
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
            row = self.db.execute(
                "SELECT * FROM decisions WHERE run_id=? AND account_id=?", (run_id, account_id)
            ).fetchone()
            if row is None:
                near = closest(account_id, self._ids_like(run_id, account_id))
                hint = f"; closest ids: {', '.join(near)}" if near else ""
                raise StoreError(f"no account '{account_id}' in run {run_id}{hint}")
            out = dict(row)
            firings = [
                dict(f)
                for f in self.db.execute(
                    "SELECT seq, rule_id, kind, because, derived FROM firings "
                    "WHERE run_id=? AND path_id=? ORDER BY seq",
                    (run_id, out["path_id"]),
                )
            ]
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
        rows = self.db.execute(
            "SELECT account_id FROM run_accounts WHERE run_id=? AND account_id LIKE ? LIMIT 20000",
            (run_id, f"{prefix}%"),
        ).fetchall()
        if not rows:
            rows = self.db.execute(
                "SELECT account_id FROM run_accounts WHERE run_id=? LIMIT 20000", (run_id,)
            ).fetchall()
        return (r[0] for r in rows)

    def write_movements(
        self, replay_id: int, quarter: str, run_id: int, rows: Iterable[dict[str, Any]]
    ) -> None:
        with self._writing():
            self.db.executemany(
                "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        replay_id,
                        quarter,
                        run_id,
                        r["account_id"],
                        r["from"],
                        r["to"],
                        r["evaluated"],
                        r["outcome"],
                        r.get("rule", ""),
                        r.get("because", ""),
                    )
                    for r in rows
                ],
            )
            self.db.commit()

    def latest_replay(self) -> int:
        row = self.db.execute(
            "SELECT max(m.replay_id) FROM movements m JOIN runs r ON "
            "r.run_id = m.replay_id WHERE r.status='complete'"
        ).fetchone()
        if row is None or row[0] is None:
            raise StoreError(f"{self.path}: no replay yet: run `tierbook replay`")
        return int(row[0])

    def history(self, account_id: str, replay_id: int | None = None) -> list[dict[str, Any]]:
        """One account's path through the quarters of a replay (default: the latest)."""
        replay = self.latest_replay() if replay_id is None else replay_id
        status = self.db.execute("SELECT status FROM runs WHERE run_id=?", (replay,)).fetchone()
        if status is not None and status[0] != "complete":  # (its quarters are complete together)
            state = "incomplete" if status[0] == "running" else status[0]
            raise StoreError(
                f"replay {replay} is {state}: it did not finish, so its quarters are not reported"
            )
        self.db.row_factory = sqlite3.Row
        try:
            rows = [
                dict(r)
                for r in self.db.execute(
                    "SELECT m.quarter, m.run_id, m.from_tier, m.to_tier, m.evaluated_tier, m.outcome, "
                    "m.rule_id, m.because, p.flags FROM movements m LEFT JOIN run_accounts a ON "
                    "a.run_id = m.run_id AND a.account_id = m.account_id LEFT JOIN paths p ON "
                    "p.run_id = a.run_id AND p.path_id = a.path_id "
                    "WHERE m.replay_id=? AND m.account_id=? ORDER BY m.quarter",
                    (replay, account_id),
                )
            ]
            if not rows:
                ids = (
                    r[0]
                    for r in self.db.execute(
                        "SELECT DISTINCT account_id FROM movements WHERE replay_id=?", (replay,)
                    )
                )
                near = closest(account_id, ids)
                hint = f"; closest ids: {', '.join(near)}" if near else ""
                raise StoreError(f"no account '{account_id}' in replay {replay}{hint}")
        finally:
            self.db.row_factory = None
        for r in rows:
            r["flags"] = json.loads(r["flags"]) if r["flags"] else []
        return rows


def _migrate(db: sqlite3.Connection, version: int) -> None:
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
            _SCHEMA,
            f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version';",
            "COMMIT;",
        ]
        db.executescript("\n".join(script))
        return
    db.create_function("tierbook_value_digest", 2, value_digest, deterministic=True)
    script += [
        _SCHEMA,
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


def _now() -> str:
    fixed = os.environ.get("TIERBOOK_FIXED_TIME")  # tests and golden files pin the clock
    if fixed:
        return fixed
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
