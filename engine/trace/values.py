"""An evaluation's accounts in the trace store: one `run_accounts` row per account, its
path and the `account_values` row of its scores and inputs (each distinct pair once, as
JSON arrays in the order of their layout's keys, `value_layouts`)."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import polars as pl

from .texts import Layout, account_texts, digests, layout_of

if TYPE_CHECKING:
    from ..evaluate.run import Evaluation

CACHE_KIB = 65536  # SQLite's page cache while a run's rows are written


def write_values(
    db: sqlite3.Connection,
    run_id: int,
    ev: Evaluation,
    inputs_ids: list[str],
    score_ids: list[str],
    batch: int = 20000,
) -> None:
    """One `accounts` row per evaluated account: its path, its scores with their parts,
    and its inputs and derived values, as JSON arrays of the run's layout
    (``account_texts``), written ``batch`` accounts at a time from the evaluation's
    frame, so that a million accounts never sit in memory twice as text."""
    from ..evaluate.values import part_names, whole_as_int

    input_keys = sorted(set(inputs_ids))
    parts = part_names(ev.ruleset)
    whole = whole_as_int(ev.ruleset)
    layout = layout_id(db, layout_of(input_keys, score_ids, parts))

    def rows(start: int) -> tuple[bytes, str, bytes, str]:
        texts = account_texts(ev.frame.slice(start, batch), whole, input_keys, score_ids, parts)
        # each distinct (scores, inputs) once in the store, found again by its digest:
        # an account whose values an earlier run (or account) stored shares that row
        keys = b"".join(digests(texts, layout))
        values = texts.select(s="scores", i="inputs").write_json()
        # the ids as one UTF-8 text cut by byte lengths, not as JSON strings: an id may
        # hold any character, NUL too, which SQLite's JSON functions end a string at
        ids = texts["account_id"]
        size = ids.str.len_bytes()
        cuts = pl.DataFrame(
            {"o": size.cum_sum() - size, "n": size, "p": ev.path_of.slice(start, batch)}
        )
        return keys, values, ids.str.join("").item().encode(), cuts.write_json()

    # a batch's rows go in as one statement each, over the batch as JSON (SQLite's
    # json_each), so SQLite writes them without coming back to Python for each row and
    # lets go of the GIL meanwhile; the next batch's rows are made (polars, hashing) while
    # SQLite writes this one's; a page cache that holds the digests' index (random order;
    # ~30 MB for 1M accounts) spares re-reading its pages
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    starts = range(0, ev.frame.height, batch)
    with ThreadPoolExecutor(max_workers=1) as pool:
        coming = pool.submit(rows, starts[0]) if starts else None
        for following in [*starts[1:], None]:
            if coming is None:
                break
            keys, values, ids, cuts = coming.result()
            coming = pool.submit(rows, following) if following is not None else None
            db.execute(
                "INSERT OR IGNORE INTO account_values (digest, layout_id, scores, inputs) "
                "SELECT substr(:keys, 16 * j.key + 1, 16), :layout, j.value ->> 's', "
                "j.value ->> 'i' FROM json_each(:values) j ORDER BY j.key",
                {"keys": keys, "layout": layout, "values": values},
            )
            db.execute(
                "INSERT INTO run_accounts SELECT :run, "
                "CAST(substr(:ids, j.value ->> 'o' + 1, j.value ->> 'n') AS TEXT), "
                "j.value ->> 'p', (SELECT value_id FROM account_values "
                "WHERE digest = substr(:keys, 16 * j.key + 1, 16)) FROM json_each(:cuts) j",
                {"run": run_id, "keys": keys, "ids": ids, "cuts": cuts},
            )


def layout_id(db: sqlite3.Connection, layout: Layout) -> int:
    """The id of a layout of the stored values (added the first time it is met)."""
    db.execute(
        "INSERT OR IGNORE INTO value_layouts (scores, inputs) VALUES (?, ?)",
        (layout.scores, layout.inputs),
    )
    found = db.execute(
        "SELECT layout_id FROM value_layouts WHERE scores=? AND inputs=?",
        (layout.scores, layout.inputs),
    ).fetchone()
    return int(found[0])
