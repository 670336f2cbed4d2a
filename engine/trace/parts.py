"""A distributed run's per-account rows as Parquet parts beside the SQLite store.

The store keeps the run, its paths, firings and defaults as for any run; its accounts (id,
path, layout, scores and inputs as the same JSON arrays ``account_texts`` gives the SQLite
rows) go
to ``<store>.parts/run-<id>/part-<n>.parquet``, one part per ``PART_ROWS`` accounts, and
the store's ``meta`` table names the folder (``account_parts:<run id>``).  A run's parts
are written before the run is marked complete and removed with the run (prune).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import StoreError
from .schema import object_of
from .texts import account_texts, layout_of
from .values import layout_id

if TYPE_CHECKING:
    from ..evaluate.run import Evaluation

PART_ROWS = 250_000
_KEY = "account_parts:{}"


def folder_of(store: Path, run_id: int) -> Path:
    return store.with_name(store.name + ".parts") / f"run-{run_id}"


def write_parts(
    db: sqlite3.Connection,
    store: Path,
    run_id: int,
    ev: Evaluation,
    inputs_ids: list[str],
    score_ids: list[str],
) -> None:
    """The run's accounts as Parquet parts (in account order), and the store's note of
    where they are (committed with the caller's transaction)."""
    folder = folder_of(store, run_id)
    shutil.rmtree(folder, ignore_errors=True)  # (a run id reused after a failed run)
    folder.mkdir(parents=True)
    from ..evaluate.values import part_names, whole_as_int

    input_keys = sorted(set(inputs_ids))
    parts = part_names(ev.ruleset)
    whole = whole_as_int(ev.ruleset)
    layout = layout_id(db, layout_of(input_keys, score_ids, parts))
    for n, start in enumerate(range(0, ev.frame.height, PART_ROWS)):
        frame = ev.frame.slice(start, PART_ROWS)
        texts = account_texts(frame, whole, input_keys, score_ids, parts)
        texts.select(
            "account_id",
            ev.path_of.slice(start, PART_ROWS).cast(pl.Int64).alias("path_id"),
            pl.lit(layout, pl.Int64).alias("layout_id"),
            "scores",
            "inputs",
        ).write_parquet(folder / f"part-{n:05d}.parquet")
    db.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        (_KEY.format(run_id), str(folder.relative_to(store.parent))),
    )


def parts_of(db: sqlite3.Connection, store: Path, run_id: int) -> Path | None:
    """The folder of a run's account parts, or None for a run whose accounts are rows of
    the store."""
    row = db.execute("SELECT value FROM meta WHERE key=?", (_KEY.format(run_id),)).fetchone()
    return store.parent / str(row[0]) if row else None


def _scan(folder: Path) -> pl.LazyFrame:
    return pl.scan_parquet(str(folder / "*.parquet"))


def as_objects(db: sqlite3.Connection, layout: int, scores: str, inputs: str) -> tuple[str, str]:
    """An account's stored scores and inputs (JSON arrays of ``layout``) as the JSON objects
    the store's views give, by the same SQL."""
    found = db.execute(
        "WITH v(scores, inputs) AS (SELECT ?, ?) "
        f"SELECT {object_of('l.scores', 'v.scores')}, {object_of('l.inputs', 'v.inputs')} "
        "FROM v, value_layouts l WHERE l.layout_id = ?",
        (scores, inputs, layout),
    ).fetchone()
    if found is None:
        raise StoreError(f"the store has no layout {layout} of stored values")
    return str(found[0]), str(found[1])


def account_row(folder: Path, account_id: str) -> dict[str, Any] | None:
    """One account's row (account_id, path_id, layout_id, scores, inputs: JSON arrays), or
    None."""
    found = _scan(folder).filter(pl.col("account_id") == account_id).head(1).collect()
    return found.row(0, named=True) if found.height else None


def account_ids(folder: Path, prefix: str = "", limit: int = 20000) -> list[str]:
    """Ids of the run's accounts (those starting with ``prefix`` when there are some)."""
    ids = _scan(folder).select("account_id")
    found = ids.filter(pl.col("account_id").str.starts_with(prefix)).head(limit).collect()
    if not found.height:
        found = ids.head(limit).collect()
    return [str(v) for v in found["account_id"].to_list()]


def ids_but_case(folder: Path, account_id: str, limit: int = 5) -> list[str]:
    """The (at most ``limit``) distinct ids that differ from ``account_id`` only in case, in
    order."""
    lower = pl.col("account_id").str.to_lowercase() == account_id.lower()
    ids = _scan(folder).select("account_id").filter(lower).unique().sort("account_id")
    found = ids.head(limit).collect()
    return [str(v) for v in found["account_id"].to_list()]


def remove_parts(db: sqlite3.Connection, store: Path, run_ids: Iterable[int]) -> list[Path]:
    """Forget the parts of ``run_ids`` (in the caller's transaction); the folders to delete
    once it is committed."""
    folders = []
    for run_id in run_ids:
        folder = parts_of(db, store, run_id)
        if folder is not None:
            folders.append(folder)
            db.execute("DELETE FROM meta WHERE key=?", (_KEY.format(run_id),))
    return folders


_PATH_COLUMNS = ("tier", "cell", "flags", "bands")
_PATH_AFTER = ("decisions", "comments", "reviews", "motion")


def decision_row(
    db: sqlite3.Connection, folder: Path, run_id: int, account_id: str
) -> dict[str, Any] | None:
    """An account's row as the store's ``decisions`` view gives it (the same keys, in the
    same order), its path's columns from the store."""
    row = account_row(folder, account_id)
    if row is None:
        return None
    names = _PATH_COLUMNS + _PATH_AFTER
    found = db.execute(
        f"SELECT {', '.join(names)} FROM paths WHERE run_id=? AND path_id=?",
        (run_id, row["path_id"]),
    ).fetchone()
    path = dict(zip(names, found)) if found else dict.fromkeys(names)
    scores, inputs = as_objects(db, row["layout_id"], row["scores"], row["inputs"])
    return {
        "run_id": run_id,
        "account_id": row["account_id"],
        **{k: path[k] for k in _PATH_COLUMNS},
        "scores": scores,
        **{k: path[k] for k in _PATH_AFTER},
        "path_id": row["path_id"],
        "inputs": inputs,
    }
