"""Whether a run can be kept in a trace store, asked before the run changes anything.

A command that writes output and a stored run (`segment --out`, `replay --out`) checks
its store first: that the path is a tierbook trace store (or can become one) and that it
can be written.  Only reads: a store that does not exist yet is not created here, so a
run that then fails on its input leaves no empty store behind.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from ..errors import StoreError
from .schema import SCHEMA_VERSION
from .store import BUSY_SECONDS


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def check_store(path: str | Path) -> None:
    """Raise StoreError, naming ``path``, if a run cannot be written to the store there."""
    store = Path(path)
    if store.is_dir():
        raise StoreError(f"{store}: is a folder, not a trace store file")
    if not store.exists():
        folder = store.absolute().parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise StoreError(
                f"{store}: cannot create the trace store there: {folder} is a file, not a folder"
            )
        if not _writable(folder):
            raise StoreError(
                f"{store}: cannot create the trace store there: {folder} cannot be written"
            )
        return
    _check_existing(store)
    if not os.access(store, os.R_OK | os.W_OK) or not _writable(store.absolute().parent):
        # (SQLite writes its journal beside the store, so the folder must be writable too)
        raise StoreError(f"{store}: cannot write to the trace store (permission denied)")


def _check_existing(store: Path) -> None:
    uri = f"file:{quote(str(store.absolute()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS)
    except sqlite3.Error as exc:
        raise StoreError(f"{store}: cannot open the trace store ({exc})") from None
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StoreError(
                f"{store}: not a tierbook trace store (an SQLite database of other tables)"
            )
        row = (
            db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if tables
            else None
        )
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{store}: not a tierbook trace store ({exc})") from None
    finally:
        db.close()
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"{store}: trace store schema {version} was written by a newer tierbook "
            f"(this one reads schema {SCHEMA_VERSION})"
        )
