"""The trace store's account rows, built by a second process while this one evaluates.

An account's row in the store -- its scores with their parts and its inputs and derived
values, as JSON -- depends only on its values, which are known before any rule runs.
Building that text is about a second of CPython per 100,000 accounts, all of it spent after
evaluation when done in line.  ``StagedRows.start`` forks a copy of this process right after
the values are computed; the copy builds the rows with the store's own function
(``tierbook.store.account_texts``, so the text is the same) into a scratch SQLite file and
exits.  When the run is stored, SQLite copies the rows into the run with each account's path
(``TraceStore.attach_staged``), after checking every row against its account.

The rows are built in line, as before, whenever anything is unusual: no ``fork`` here, one
core, other threads running, a portfolio too small to be worth a process or too large to
copy (the second process ends up with its own copy of the values it reads: about as much
memory again as the typed portfolio, so above ``MAX_ACCOUNTS`` accounts the memory is worth
more than the second), or the other process failing.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import weakref
from itertools import count
from typing import Any, Sequence

from .bulk import bulk
from .forks import Child, can_fork, in_child
from .model import Ruleset

MIN_ACCOUNTS = 20_000  # below this the fork and the copy cost more than they save
MAX_ACCOUNTS = 250_000
_BATCH = 20_000

TABLE = ("CREATE TABLE rows (idx INTEGER PRIMARY KEY, account_id TEXT NOT NULL, "
         "scores TEXT NOT NULL, inputs TEXT NOT NULL)")


def _cleanup(child: Child, path: str) -> None:
    """Stop the other process if it still runs, reap it, remove its file."""
    child.kill()
    try:
        os.unlink(path)
    except OSError:
        pass


class StagedRows:
    """Rows being built by a forked process into ``path``; ``wait`` for them, ``close``
    when done with them (also done when the object is collected or the process exits)."""

    def __init__(self, child: Child, path: str) -> None:
        self.pid = child.pid
        self.path = path
        self.ok: bool | None = None  # None until waited for
        self._child = child
        self._finalizer = weakref.finalize(self, _cleanup, child, path)

    @classmethod
    def start(cls, values: Sequence[dict[str, Any]], parts: Sequence[dict[str, Any]],
              input_keys: list[str], score_ids: list[str]) -> StagedRows | None:
        """Fork the process that builds the rows, or None where it is not worth it or not
        possible (the caller then builds them in line)."""
        if (not MIN_ACCOUNTS <= len(values) <= MAX_ACCOUNTS or not can_fork()
                or os.environ.get("TIERBOOK_NO_STAGING")):
            return None
        try:
            fd, path = tempfile.mkstemp(prefix="tierbook-rows-", suffix=".sqlite")
            os.close(fd)
        except OSError:
            return None
        child = in_child(lambda: build(path, values, parts, input_keys, score_ids))
        if child is None:
            os.unlink(path)
            return None
        return cls(child, path)

    def wait(self) -> bool:
        """True when the rows are all built."""
        if self.ok is None:
            self.ok, _ = self._child.result()
        return self.ok

    def wait_in_copy(self) -> bool:
        """``wait``, in a forked copy of the process that started the rows: the copy cannot
        reap the builder, but the builder reports only once its file is complete.  The
        report is read here, so the starting process finds none if it waits later (it then
        builds the rows itself)."""
        return self.ok if self.ok is not None else self._child.report()[0]

    def close(self) -> None:
        self._finalizer()


def row_fields(ruleset: Ruleset) -> tuple[list[str], list[str]]:
    """What an account's stored row holds: its inputs and derived values (sorted), and its
    scores (each with its parts)."""
    inputs = sorted({i.id for i in ruleset.inputs} | {d.id for d in ruleset.derived})
    return inputs, [s.id for s in ruleset.scores]


def stage_rows(ruleset: Ruleset, computed: Sequence[tuple[dict[str, Any], Any]]
               ) -> StagedRows | None:
    """``StagedRows.start`` for the (values, parts) of each account, in account order."""
    return StagedRows.start([v for v, _ in computed], [p for _, p in computed],
                            *row_fields(ruleset))


def build(path: str, values: Sequence[dict[str, Any]], parts: Sequence[dict[str, Any]],
          input_keys: list[str], score_ids: list[str]) -> None:
    """Every account's row, in account order, into a fresh SQLite file at ``path``."""
    from .store import account_texts

    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(TABLE)
        with bulk():
            for start in range(0, len(values), _BATCH):
                ids, scores, inputs = account_texts(values[start:start + _BATCH],
                                                    parts[start:start + _BATCH],
                                                    input_keys, score_ids)
                db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)",
                               zip(count(start), ids, scores, inputs))
        db.commit()
    finally:
        db.close()
