"""The trace store's account rows built, and the run stored, by a second process.

An account's row in the store -- its scores with their parts and its inputs and derived
values, as JSON -- depends only on its values, which are known before any rule runs.
Building that text is about a second of CPython per 100,000 accounts.  ``StagedRows.start``
forks a copy of this process right after the values are computed; the copy builds the rows
with the store's own function (``tierbook.store.account_texts``, so the text is the same)
and keeps them while this process evaluates.  Once evaluated, this process sends it what
the run is (``RunRecord``: the paths and each account's path; through a temporary file, one
line on a pipe) and goes on -- calibration, gates, report files -- while the copy writes the
whole run into the store (``TraceStore.write_run``), after checking that its rows are the
evaluation's accounts, in order.  ``result`` waits for it.

The run is stored in line, as before, whenever anything is unusual: no ``fork`` here, one
core, other threads running, a portfolio too small to be worth a process or too large to
copy (the second process ends up with its own copy of the values it reads: about as much
memory again as the typed portfolio, so above ``MAX_ACCOUNTS`` accounts the memory is worth
more than the second), or the other process failing.  ``TIERBOOK_STORE_IN_LINE=1`` (or the
older ``TIERBOOK_NO_STAGING=1``) turns it off.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import weakref
from typing import Any, Sequence

from .bulk import bulk
from .forks import Child, can_fork, in_child
from .model import Ruleset
from .portfolio.frame import Prepared
from .store import RunRecord, TraceStore, account_texts

MIN_ACCOUNTS = 6_000  # below, the fork costs more than it saves (measured: 5,000 no faster)
MAX_ACCOUNTS = 250_000
_BATCH = 20_000


def _cleanup(child: Child, jobs: list[int], files: list[str]) -> None:
    """Stop the other process if it still runs, reap it, close its pipe, remove the job."""
    child.kill()
    for fd in jobs:
        try:
            os.close(fd)
        except OSError:
            pass
    jobs.clear()
    for path in files:
        try:
            os.unlink(path)
        except OSError:
            pass


class StagedRows:
    """Rows being built by a forked process, which stores the run once sent it (``store``);
    ``result`` waits for that, ``cancel`` marks a stored run failed, ``close`` stops the
    process if it is still there (also done when the object is collected)."""

    def __init__(self, child: Child, jobs: int) -> None:
        self.sent = False
        self.path = ""  # the store the run was sent to
        self._child = child
        self._jobs = [jobs]  # the pipe the job goes down, while open
        self._files: list[str] = []
        self._outcome: tuple[str, Any] | None = None
        self._finalizer = weakref.finalize(self, _cleanup, child, self._jobs, self._files)

    @classmethod
    def start(cls, ruleset: Ruleset, values: Sequence[dict[str, Any]] | None,
              parts: Sequence[dict[str, Any]],
              by_field: dict[str, Sequence[Any]] | None = None) -> StagedRows | None:
        """Fork the process that builds the rows of the accounts with these ``values`` and
        score ``parts``, or None where it is not worth it or not possible (the caller then
        stores the run in line).  ``by_field``: the values' columns, where the reader kept
        them (``Portfolio.by_field``); with every column a row needs, ``values`` may be None."""
        fields = row_fields(ruleset)
        if values is None and (by_field is None or not by_field.keys() >= {
                "account_id", *fields[0], *fields[1]}):
            return None
        if (not MIN_ACCOUNTS <= len(parts) <= MAX_ACCOUNTS or not can_fork()
                or os.environ.get("TIERBOOK_STORE_IN_LINE")
                or os.environ.get("TIERBOOK_NO_STAGING")):
            return None
        read_end, write_end = os.pipe()

        def work() -> tuple[str, Any]:
            os.close(write_end)
            rows = build(values, parts, *fields, by_field=by_field)
            return serve(ruleset, rows, read_end)

        child = in_child(work)
        os.close(read_end)
        if child is None:
            os.close(write_end)
            return None
        return cls(child, write_end)

    def store(self, path: str, record: RunRecord) -> None:
        """Have the other process store ``record`` with its rows in the store at ``path``.
        Nothing here waits for it; if it cannot be told, ``result`` says so (None)."""
        if self.sent or not self._jobs:
            return
        self.sent, self.path = True, path
        try:
            fd, job = tempfile.mkstemp(prefix="tierbook-run-", suffix=".pickle")
            self._files.append(job)
            with os.fdopen(fd, "wb") as out:
                pickle.dump((path, record), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.write(self._jobs[0], job.encode("utf-8", "surrogateescape") + b"\n")
        except Exception:  # noqa: BLE001 - no room, or a run that does not pickle: the
            pass  # other process finds no job, or none at all, and the run is stored in line
        finally:
            os.close(self._jobs.pop())

    def result(self) -> int | None:
        """The run id the other process stored; its store error, raised here as it would
        have been in line; or None when it stored nothing (store the run in line)."""
        if self._outcome is None:
            if self._jobs:  # never sent a job: the process stops when it finds none
                os.close(self._jobs.pop())
            ok, found = self._child.result()
            self._outcome = found if ok and isinstance(found, tuple) else ("failed", None)
            self._finalizer()
        kind, value = self._outcome
        if kind == "raised":
            raise value
        return int(value) if kind == "stored" else None

    def cancel(self) -> None:
        """This process failed after all: the run, if the other one stored it, is marked
        failed, as a run interrupted in line would be."""
        if not self.sent:
            self.close()
            return
        try:
            run_id = self.result()
        except Exception:  # noqa: BLE001 - it was not stored
            return
        if run_id is not None:
            store = TraceStore(self.path)
            try:
                store.fail_run(run_id)
            finally:
                store.close()

    def close(self) -> None:
        self._finalizer()


def row_fields(ruleset: Ruleset) -> tuple[list[str], list[str]]:
    """What an account's stored row holds: its inputs and derived values (sorted), and its
    scores (each with its parts)."""
    inputs = sorted({i.id for i in ruleset.inputs} | {d.id for d in ruleset.derived})
    return inputs, [s.id for s in ruleset.scores]


def stage_rows(ruleset: Ruleset, computed: Sequence[tuple[dict[str, Any], Any]],
               by_field: dict[str, Sequence[Any]] | None = None) -> StagedRows | None:
    """``StagedRows.start`` for the (values, parts) of each account, in account order."""
    if isinstance(computed, Prepared):  # the values as columns: no dicts needed
        return StagedRows.start(ruleset, None, computed.parts, computed.rows.columns)
    return StagedRows.start(ruleset, [v for v, _ in computed], [p for _, p in computed],
                            by_field)


def build(values: Sequence[dict[str, Any]] | None, parts: Sequence[dict[str, Any]],
          input_keys: list[str], score_ids: list[str],
          by_field: dict[str, Sequence[Any]] | None = None) -> tuple[list[str], list[str], list[str]]:
    """Every account's row, in account order: (ids, scores, inputs).  ``by_field``: the
    values' columns, where there are (the same values, without reading them out of each
    account's dict; ``values`` None: every column a row needs)."""
    ids: list[str] = []
    scores: list[str] = []
    inputs: list[str] = []
    with bulk():
        for start in range(0, len(parts), _BATCH):
            stop = start + _BATCH
            i, s, v = account_texts(None if values is None else values[start:stop],
                                    parts[start:stop], input_keys, score_ids,
                                    None if by_field is None else
                                    {name: column[start:stop] for name, column in by_field.items()})
            ids += i
            scores += s
            inputs += v
    return ids, scores, inputs


def serve(ruleset: Ruleset, rows: tuple[list[str], list[str], list[str]],
          jobs: int) -> tuple[str, Any]:
    """In the other process: wait for the run to store (a job file's path on ``jobs``) and
    store it with ``rows``.  ("stored", run id), ("raised", the store's error), or ("none",
    reason) when there is nothing to store or the rows are not the run's accounts."""
    with os.fdopen(jobs, "rb") as pipe:
        line = pipe.readline()
    if not line.endswith(b"\n"):
        return "none", "no run sent"
    job = line[:-1].decode("utf-8", "surrogateescape")
    with open(job, "rb") as fh:
        path, record = pickle.load(fh)
    os.unlink(job)
    ids, scores, inputs = rows
    if ids != record.account_ids:
        return "none", "the rows are not the run's accounts"
    try:
        store = TraceStore(path)
        try:
            return "stored", store.write_run(ruleset, record, lambda run_id: store.write_accounts(
                run_id, ids, record.path_ids, scores, inputs))
        finally:
            store.close()
    except Exception as exc:  # noqa: BLE001 - raised in the process that sent the run
        return "raised", exc
