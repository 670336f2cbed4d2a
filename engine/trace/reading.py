"""The trace store's reading side: a run and its account decisions, the list of runs, a
stored ruleset, and an account's path through a replay's quarters.  TraceStore (store.py)
opens the database and writes; it takes these from ``StoreReading``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import StoreError, closest
from .movements import DETAILS_COLUMNS, DETAILS_JOIN, read_details


class StoreReading:
    """What reading a trace store asks of it: its open database and its path."""

    db: sqlite3.Connection
    path: Path

    def run(self, run_id: int | None = None, *, unfinished: bool = False) -> dict[str, Any]:
        """A run, by id or the latest complete one; ``unfinished``: a run still being
        written is read too (by the process writing it, before it marks it complete)."""
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
                if row["status"] != "complete" and not (unfinished and row["status"] == "running"):
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
        from .parts import decision_row, parts_of

        folder = parts_of(self.db, self.path, run_id)
        self.db.row_factory = sqlite3.Row
        try:
            row: Any = (
                self.db.execute(
                    "SELECT * FROM decisions WHERE run_id=? AND account_id=?", (run_id, account_id)
                ).fetchone()
                if folder is None
                else decision_row(self.db, folder, run_id, account_id)
            )
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
        return _decoded(out, firings)

    def decisions(self, run_id: int, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``decision`` of many accounts of a run, read in a few queries (each firing path's
        firings once); an account the run lacks is an error as in ``decision``."""
        from .parts import parts_of

        if parts_of(self.db, self.path, run_id) is not None:  # (accounts in part files)
            return {a: self.decision(run_id, a) for a in account_ids}
        rows: dict[str, dict[str, Any]] = {}
        self.db.row_factory = sqlite3.Row
        try:
            for chunk in _chunks(list(dict.fromkeys(account_ids))):
                marks = ",".join("?" * len(chunk))
                for row in self.db.execute(
                    f"SELECT * FROM decisions WHERE run_id=? AND account_id IN ({marks})",
                    (run_id, *chunk),
                ):
                    rows[row["account_id"]] = dict(row)
            firings: dict[int, list[dict[str, Any]]] = {}
            for chunk in _chunks(sorted({r["path_id"] for r in rows.values()})):
                marks = ",".join("?" * len(chunk))
                for f in self.db.execute(
                    "SELECT path_id, seq, rule_id, kind, because, derived FROM firings "
                    f"WHERE run_id=? AND path_id IN ({marks}) ORDER BY path_id, seq",
                    (run_id, *chunk),
                ):
                    firing = dict(f)
                    firings.setdefault(firing.pop("path_id"), []).append(firing)
        finally:
            self.db.row_factory = None
        out = {}
        for a in account_ids:
            if a not in rows:
                return {a: self.decision(run_id, a)}  # (raises: no such account)
            out[a] = _decoded(rows[a], firings.get(rows[a]["path_id"], []))
        return out

    def defaults_of(self, run_id: int, account_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """``defaults`` of many accounts, in a few queries."""
        absent: list[str] = []
        blank: dict[str, set[str]] = {}
        for chunk in _chunks(list(dict.fromkeys(account_ids))):
            marks = ",".join("?" * len(chunk))
            for i, a in self.db.execute(
                "SELECT input_id, account_id FROM run_defaults WHERE run_id=? AND "
                f"account_id IN ('', {marks}) ORDER BY input_id",
                (run_id, *chunk),
            ):
                if a == "":
                    absent.append(i)
                else:
                    blank.setdefault(a, set()).add(i)
        absent = sorted(set(absent))
        out = {}
        for a in account_ids:
            mine = blank.get(a, set())
            names = sorted({*absent, *mine})
            out[a] = {i: ("column absent" if i in absent else "blank") for i in names}
        return out

    def _ids_like(self, run_id: int, account_id: str) -> Iterator[str]:
        from .parts import account_ids, parts_of

        prefix = account_id[:3]
        folder = parts_of(self.db, self.path, run_id)
        if folder is not None:
            return iter(account_ids(folder, prefix))
        rows = self.db.execute(
            "SELECT account_id FROM run_accounts WHERE run_id=? AND account_id LIKE ? LIMIT 20000",
            (run_id, f"{prefix}%"),
        ).fetchall()
        if not rows:
            rows = self.db.execute(
                "SELECT account_id FROM run_accounts WHERE run_id=? LIMIT 20000", (run_id,)
            ).fetchall()
        return (r[0] for r in rows)

    def defaults(self, run_id: int, account_id: str) -> dict[str, str]:
        """Input id -> 'column absent' or 'blank', for the inputs of one account that
        were not in the data."""
        rows = self.db.execute(
            "SELECT input_id, account_id FROM run_defaults WHERE run_id=? AND account_id IN ('', ?) "
            "ORDER BY input_id",
            (run_id, account_id),
        )
        return {i: ("column absent" if a == "" else "blank") for i, a in rows}

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
                    "m.rule_id, m.because, p.flags" + DETAILS_COLUMNS + " FROM movements m "
                    "LEFT JOIN run_accounts a ON "
                    "a.run_id = m.run_id AND a.account_id = m.account_id LEFT JOIN paths p ON "
                    "p.run_id = a.run_id AND p.path_id = a.path_id" + DETAILS_JOIN + " "
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
        self._flags_from_parts(rows, account_id)
        for r in rows:
            r["flags"] = json.loads(r["flags"]) if r["flags"] else []
            read_details(r)
        return rows

    def _flags_from_parts(self, rows: list[dict[str, Any]], account_id: str) -> None:
        """The flags of the quarters whose run keeps its accounts in Parquet parts (a
        distributed replay's): the path the account's row there names."""
        from .parts import account_row, parts_of

        for r in rows:
            folder = parts_of(self.db, self.path, r["run_id"])
            found = None if folder is None else account_row(folder, account_id)
            if found is not None:
                flags = self.db.execute(
                    "SELECT flags FROM paths WHERE run_id=? AND path_id=?",
                    (r["run_id"], found["path_id"]),
                ).fetchone()
                r["flags"] = flags[0] if flags else None


def _decoded(row: dict[str, Any], firings: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``decisions`` row and its path's firings with their JSON read."""
    out = dict(row)
    for key in ("flags", "bands", "scores", "decisions", "comments", "reviews", "inputs"):
        out[key] = json.loads(out[key])
    out["firings"] = [f | {"derived": json.loads(f["derived"])} for f in firings]
    return out


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``items`` in runs small enough for one statement's parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
