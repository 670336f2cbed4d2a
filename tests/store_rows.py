"""A trace store's per-account rows as the distributed tests compare them with one
machine's: each run's accounts from the store's rows or from its Parquet parts (a
distributed run's), as the same (run, id, path, scores, inputs) rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def account_rows(db: sqlite3.Connection, path: Path) -> list[tuple[object, ...]]:
    """Every run's accounts in the store ``db`` (opened from ``path``), by run and id."""
    import polars as pl
    from tierbook.trace.parts import as_objects, parts_of

    accounts: list[tuple[object, ...]] = []
    for (run_id,) in db.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall():
        folder = parts_of(db, path, run_id)
        if folder is None:
            accounts += db.execute(
                "SELECT run_id, account_id, path_id, scores, inputs FROM accounts "
                "WHERE run_id=? ORDER BY account_id",
                (run_id,),
            ).fetchall()
        else:
            rows = pl.read_parquet(folder / "*.parquet").sort("account_id").rows()
            accounts += [
                (run_id, i, p, *as_objects(db, layout, s, v)) for i, p, layout, s, v in rows
            ]
    return accounts
