"""The runs in a trace store: listing them, choosing the one a command answers from, and
pruning old ones with the rows only they used.

`explain` answers from the latest complete `segment` run and `history` from the latest
complete replay, never from a `plan` of an unmerged proposal or a run of another kind;
both say which run and input file they answer from.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import StoreError, UsageError
from .parts import remove_parts
from .store import TraceStore, _now

_COLUMNS = (
    "run_id",
    "command",
    "label",
    "ruleset_name",
    "ruleset_version",
    "ruleset_sha256",
    "input_file",
    "input_sha256",
    "as_of",
    "account_count",
    "status",
    "engine",
    "started_at",
    "finished_at",
)


def list_runs(store: TraceStore) -> list[dict[str, Any]]:
    """Every run, oldest first; a run left ``running`` reads as ``incomplete``, and a
    replay's quarters carry the replay's id."""
    replays = dict(store.db.execute("SELECT DISTINCT run_id, replay_id FROM movements"))
    rows = []
    for values in store.db.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs ORDER BY run_id"):
        row = dict(zip(_COLUMNS, values))
        if row["status"] == "running":
            row["status"] = "incomplete"
        row["replay_id"] = replays.get(row["run_id"])
        rows.append(row)
    return rows


def render_runs(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no runs in the store"
    head = ("run", "command", "ruleset", "input", "as of", "accounts", "status", "finished")
    table = [head]
    for r in rows:
        what = r["command"] + (f" ({r['label']})" if r["label"] else "")
        table.append(
            (
                str(r["run_id"]),
                what,
                f"{r['ruleset_name']} {r['ruleset_version']} ({r['ruleset_sha256'][:12]})",
                f"{r['input_file']} ({r['input_sha256'][:12]})",
                r["as_of"],
                "" if r["account_count"] is None else f"{r['account_count']:,}",
                r["status"],
                r["finished_at"] or r["started_at"],
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {0, 5}
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in table
    )


def latest_run(store: TraceStore, command: str) -> int:
    """The latest complete run of ``command`` (segment, replay, ...)."""
    row = store.db.execute(
        "SELECT max(run_id) FROM runs WHERE status='complete' AND command=?", (command,)
    ).fetchone()
    if row is None or row[0] is None:
        others = store.db.execute(
            "SELECT run_id, command FROM runs WHERE status='complete' ORDER BY run_id DESC LIMIT 5"
        ).fetchall()
        held = ", ".join(f"{r} ({c})" for r, c in others) or "none"
        raise StoreError(
            f"{store.path}: no complete {command} run (complete runs: {held}): run "
            f"`tierbook {command}`, or name a run with --run N (`tierbook runs` lists them)"
        )
    return int(row[0])


def replay_of(store: TraceStore, run_id: int) -> int:
    """The replay a run belongs to: ``run_id`` is its first quarter's run, or any other."""
    row = store.db.execute(
        "SELECT replay_id FROM movements WHERE replay_id=? OR run_id=? LIMIT 1", (run_id, run_id)
    ).fetchone()
    if row is None:
        raise StoreError(
            f"run {run_id} in {store.path} is not a quarter of a replay (`tierbook runs` "
            "lists the runs)"
        )
    return int(row[0])


MAX_LIKE = 5  # ids named that differ from the one asked only in case


def account_in_run(store: TraceStore, run_id: int, account_id: str, table: str) -> str:
    """``account_id`` as stored in the run (``table`` run_accounts) or the replay (``table``
    movements, ``run_id`` the replay's id): the id itself, else the one id that differs from
    it only in case; unchanged when there is none (or several), for the caller's message."""
    like = stored_as(store, run_id, account_id, table)
    return like[0] if len(like) == 1 else account_id


def stored_as(store: TraceStore, run_id: int, account_id: str, table: str) -> list[str]:
    """``[account_id]`` when the run (``table`` run_accounts) or the replay (``table``
    movements) holds it, else the (at most five) ids it holds that differ from it only in
    case."""
    from .parts import account_row, ids_but_case, parts_of

    folder = parts_of(store.db, store.path, run_id) if table == "run_accounts" else None
    if folder is not None:  # (a distributed run's accounts, in Parquet parts)
        if account_row(folder, account_id) is not None:
            return [account_id]
        return ids_but_case(folder, account_id, MAX_LIKE)
    column = "run_id" if table == "run_accounts" else "replay_id"
    query = f"SELECT 1 FROM {table} WHERE {column}=? AND account_id=? LIMIT 1"
    if store.db.execute(query, (run_id, account_id)).fetchone():
        return [account_id]
    found = store.db.execute(
        f"SELECT DISTINCT account_id FROM {table} WHERE {column}=? AND account_id=? "
        f"COLLATE NOCASE ORDER BY account_id LIMIT {MAX_LIKE}",
        (run_id, account_id),
    ).fetchall()
    return [str(f[0]) for f in found]


@dataclass
class Pruned:
    runs: list[int] = field(default_factory=list)
    values: int = 0  # account_values rows no kept run uses
    rulesets: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed_runs": self.runs,
            "removed_values": self.values,
            "removed_rulesets": self.rulesets,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "note": self.note,
        }

    def text(self) -> str:
        if not self.runs:
            return "nothing to prune"
        ids = ", ".join(map(str, self.runs))
        return (
            f"removed {len(self.runs)} run(s) ({ids}), {self.values:,} stored account "
            f"value(s) and {self.rulesets} ruleset text(s) only they used; "
            f"{self.bytes_before:,} -> {self.bytes_after:,} bytes"
        ) + (f"; {self.note}" if self.note else "")


def _to_remove(
    rows: list[dict[str, Any]], keep: int | None, older_than: float | None, now: dt.datetime
) -> list[int]:
    """A run goes when every rule given lets it go: beyond the ``keep`` newest complete
    runs, started more than ``older_than`` days ago.  An incomplete run (perhaps still being
    written) goes only by age, and is not one of the ``keep``: runs killed on the way do not
    crowd out the last good one.  A replay's quarters stay or go together: one kept keeps
    them all."""
    complete = [r for r in rows if r["status"] == "complete"]
    newest = {r["run_id"] for r in complete[-keep:]} if keep else set()
    cutoff = now - dt.timedelta(days=older_than) if older_than is not None else None
    going = set()
    for r in rows:
        if keep is not None and (
            r["run_id"] in newest or (r["status"] == "incomplete" and cutoff is None)
        ):
            continue
        if cutoff is not None and dt.datetime.fromisoformat(r["started_at"]) >= cutoff:
            continue
        going.add(r["run_id"])
    kept_replays = {r["replay_id"] for r in rows if r["run_id"] not in going and r["replay_id"]}
    return sorted(
        r["run_id"] for r in rows if r["run_id"] in going and r["replay_id"] not in kept_replays
    )


def prune(store: TraceStore, keep: int | None = None, older_than: float | None = None) -> Pruned:
    """Remove old runs, their paths, firings, accounts and movements, the stored account
    values and ruleset texts no remaining run uses; then VACUUM, so the file shrinks."""
    if keep is None and older_than is None:
        raise UsageError("say which runs to remove: --keep N and/or --older-than DAYS")
    if (keep is not None and keep < 0) or (older_than is not None and older_than < 0):
        raise UsageError("--keep and --older-than take a number of runs or days, 0 or more")
    now = dt.datetime.fromisoformat(_now())
    out = Pruned(bytes_before=os.path.getsize(store.path))
    db = store.db
    try:
        db.execute("BEGIN IMMEDIATE")  # no run is written while the choice is made and done
        out.runs = _to_remove(list_runs(store), keep, older_than, now)
        if out.runs:
            folders = remove_parts(db, store.path, out.runs)
            _delete(db, out.runs)
            out.values = db.execute(
                "DELETE FROM account_values WHERE value_id NOT IN "
                "(SELECT value_id FROM run_accounts)"
            ).rowcount
            db.execute(
                "DELETE FROM value_layouts WHERE layout_id NOT IN "
                "(SELECT layout_id FROM account_values)"
            )
            out.rulesets = db.execute(
                "DELETE FROM rulesets WHERE sha256 NOT IN (SELECT ruleset_sha256 FROM runs)"
            ).rowcount
        db.commit()
    except sqlite3.OperationalError as exc:
        db.rollback()
        raise StoreError(f"{store.path}: cannot prune now ({exc}); try again") from None
    for folder in folders if out.runs else []:
        shutil.rmtree(folder, ignore_errors=True)
    if out.runs or _free_pages(db):
        try:
            db.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # (the rows are gone; the file shrinks later)
            out.note = f"not compacted now ({exc}): run `tierbook runs prune` again to compact"
    out.bytes_after = os.path.getsize(store.path)
    return out


def _free_pages(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA freelist_count").fetchone()[0])


def _delete(db: sqlite3.Connection, run_ids: Iterable[int]) -> None:
    db.execute("CREATE TEMP TABLE IF NOT EXISTS pruned (run_id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM pruned")
    db.executemany("INSERT INTO pruned VALUES (?)", [(r,) for r in run_ids])
    for table, column in (
        ("movement_details", "replay_id"),
        ("movements", "replay_id"),
        ("movements", "run_id"),
        ("firings", "run_id"),
        ("paths", "run_id"),
        ("run_accounts", "run_id"),
        ("run_defaults", "run_id"),
        ("run_overrides", "run_id"),
        ("run_inputs", "run_id"),
        ("runs", "run_id"),
    ):
        db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT run_id FROM pruned)")
    db.execute("DROP TABLE pruned")
    # what earlier versions' prunes left of the replays they removed: a run id can be
    # given again once its run is gone, and a new replay's rows would meet the old ones
    db.execute(
        "DELETE FROM movement_details WHERE replay_id NOT IN (SELECT run_id FROM runs)"
        " AND replay_id NOT IN (SELECT replay_id FROM movements)"
    )


def explain_from(store: TraceStore, account_id: str, run_id: int | None) -> dict[str, Any]:
    """`tierbook explain`: from ``run_id``, else the latest complete segment run."""
    from .explain import explain

    run = latest_run(store, "segment") if run_id is None else run_id
    try:
        # an id is the account's only as stored: ACC-1 and acc-1 may be two accounts (some
        # CRMs tell them apart), and an explanation of the other one would read as this one's
        like = stored_as(store, run, account_id, "run_accounts")
        if like and like != [account_id]:
            named = " or ".join(f"'{a}'" for a in like)
            raise StoreError(f"no account '{account_id}' in run {run}; did you mean {named}?")
        return explain(store, account_id, run)
    except StoreError as exc:
        if not str(exc).startswith("no account"):
            raise
        info = store.run(run)  # which run was asked, so another file's run is seen as such
        raise StoreError(
            f"{exc} (run {run}: {info['command']} of {info['input_file']}, as of "
            f"{info['as_of']}; `tierbook runs` lists the runs, --run N picks one)"
        ) from None


def history_from(
    store: TraceStore, account_id: str, run_id: int | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`tierbook history`: the replay (the one ``run_id`` is a quarter of, else the latest
    complete one) and the account's quarters in it."""
    replay = store.latest_replay() if run_id is None else replay_of(store, run_id)
    account = account_in_run(store, replay, account_id, "movements")
    rows = store.history(account, replay)
    first_run, last_run = store.db.execute(
        "SELECT min(run_id), max(run_id) FROM movements WHERE replay_id=?", (replay,)
    ).fetchone()
    first = store.run(replay)
    about = {
        "replay_id": replay,
        "account_id": account,
        "runs": [first_run, last_run],
        "ruleset": {
            "name": first["ruleset_name"],
            "version": first["ruleset_version"],
            "sha256": first["ruleset_sha256"],
        },
        "input_file": first["input_file"],
        "as_of": first["as_of"],
    }
    return about, rows
