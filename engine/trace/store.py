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
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import StoreError
from .movements import DETAILS_SCHEMA, write_details
from .reading import StoreReading
from .run_inputs import RUN_INPUTS_SCHEMA
from .schema import SCHEMA, SCHEMA_VERSION, migrate
from .texts import _text, row_fields
from .values import write_values

if TYPE_CHECKING:
    from ..evaluate.run import Evaluation


DEFAULT_PATH = Path(".tierbook") / "traces.sqlite"


def default_path() -> Path:
    env = os.environ.get("TIERBOOK_STORE")
    return Path(env) if env else DEFAULT_PATH


BUSY_SECONDS = 60.0  # how long to wait for another process's write before giving up
PAGE_SIZE = 16384  # bytes, for a store created here


class TraceStore(StoreReading):
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
            # a segment's rows are written on a thread of its own while its files are
            # made (commands/stored_run), the connection handed over, never shared at once
            self.db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, check_same_thread=False)
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
                migrate(self.db, version)
            self.db.executescript(SCHEMA + DETAILS_SCHEMA + RUN_INPUTS_SCHEMA)
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
        defaults: Mapping[str, Sequence[Any] | None] | None = None,
        parts: bool = False,
    ) -> int:
        """One evaluation as one run, visible once complete: the run (committed as
        ``running``), each path some account took with its firings, and a row per account,
        in batches in one transaction that marks the run complete; on any failure the run is
        marked failed and the error goes on (an SQLite error as a StoreError naming the
        store).  ``complete`` False: the rows are committed but the run stays ``running``
        (incomplete: never read as a result) until ``complete_runs``.  (Paths tried only
        by a gate's what-if accounts are not stored.)  ``defaults``: input id -> the accounts
        whose blank cell its default filled, or None where its column is absent (every
        account); ``parts``: the accounts go to Parquet parts beside the store (``parts``)."""
        from .parts import write_parts
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
                self.write_defaults(run_id, defaults or {})
                if parts:
                    write_parts(self.db, self.path, run_id, ev, *row_fields(ev.ruleset))
                else:
                    write_values(self.db, run_id, ev, *row_fields(ev.ruleset))
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

    def write_defaults(self, run_id: int, defaults: Mapping[str, Sequence[Any] | None]) -> None:
        """Which inputs were not data: an account's blank cell, or '' for every account
        where the column is absent."""
        rows = [
            (run_id, input_id, str(account_id))
            for input_id, ids in sorted(defaults.items())
            for account_id in ([""] if ids is None else ids)
        ]
        self.db.executemany("INSERT OR IGNORE INTO run_defaults VALUES (?, ?, ?)", rows)

    def finish_run(self, run_id: int, account_count: int) -> None:
        self.db.execute(
            "UPDATE runs SET status='complete', finished_at=?, account_count=? WHERE run_id=?",
            (_now(), account_count, run_id),
        )
        self.db.commit()

    def fail_run(self, run_id: int) -> None:
        self.fail_runs([run_id])

    def write_movements(
        self, replay_id: int, quarter: str, run_id: int, rows: pl.DataFrame
    ) -> None:
        """A replay quarter's ``rows`` (``movements.movement_rows``' frame), its movements
        and their details, in one transaction."""
        with self._writing():
            self.db.executemany(
                "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows.select(
                    pl.lit(replay_id).alias("replay_id"),
                    pl.lit(quarter).alias("quarter"),
                    pl.lit(run_id).alias("run_id"),
                    "account_id",
                    "from",
                    "to",
                    "evaluated",
                    "outcome",
                    "rule",
                    "because",
                ).iter_rows(),
            )
            write_details(self.db, replay_id, quarter, rows)
            self.db.commit()


def _now() -> str:
    fixed = os.environ.get("TIERBOOK_FIXED_TIME")  # tests and golden files pin the clock
    if fixed:
        return fixed
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
