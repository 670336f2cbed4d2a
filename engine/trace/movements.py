"""What the trace store keeps of each account in each quarter of a replay: the movement
(table `movements`, in schema.py) and, beside it, the account's ARR at the end of the
quarter and the events it had in it (table `movement_details`).

The details are a table of their own so that a store written before them reads as it did
(its replays have no details: `history` shows no ARR or events for them), and a tierbook
that does not know them still writes its movements as before.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import polars as pl

from ..report.cells import rounded
from ..report.jsontext import compact

DETAILS_SCHEMA = """
CREATE TABLE IF NOT EXISTS movement_details (
    replay_id INTEGER NOT NULL,
    quarter TEXT NOT NULL,
    account_id TEXT NOT NULL,
    arr REAL,
    events TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (replay_id, quarter, account_id)) WITHOUT ROWID;
"""

# the history query's join and columns (see TraceStore.history)
DETAILS_JOIN = (
    " LEFT JOIN movement_details d ON d.replay_id = m.replay_id AND d.quarter = m.quarter"
    " AND d.account_id = m.account_id"
)
DETAILS_COLUMNS = ", d.arr, d.events"


# a quarter's rows, as movement_rows gives them (ARR as Python's round(arr, 2) gives it)
COLUMNS = {
    "account_id": pl.String,
    "from": pl.String,
    "to": pl.String,
    "evaluated": pl.String,
    "outcome": pl.String,
    "rule": pl.String,
    "because": pl.String,
    "arr": pl.Float64,
    "events": pl.String,
}


def movement_rows(q: Any, ev: Any, arr_field: str) -> pl.DataFrame:
    """Every account's row of quarter ``q`` (a replay Quarter) and its evaluation ``ev``,
    as a frame of ``COLUMNS``: the outcome (stay, moved, held, review, joined, reactivated,
    churned), the rule behind it (none: ""), its ARR at the end of the quarter, to the cent,
    and its events in it as JSON text.  The evaluated accounts come in their order, then
    those that churned.  Most accounts stay where they are held: their rows are the
    evaluation's columns; the few others are joined on."""
    frame = ev.frame
    arr = (
        rounded(frame[arr_field], 2)
        if arr_field in frame.columns
        else pl.Series([None] * frame.height, dtype=pl.Float64)
    )
    evaluated = pl.DataFrame(
        {
            "account_id": pl.Series(ev.account_ids(), dtype=pl.String),
            "tier": pl.Series(ev.tiers(), dtype=pl.String),
            "arr": arr,
        }
    )
    stay = pl.col("outcome").is_null()
    held_in = pl.coalesce("drifted", "tier")  # a stay's tier: where it drifted, or evaluated
    rows = (
        evaluated.join(_decided(q), on="account_id", how="left", maintain_order="left")
        .join(_drifted(q.drifted), on="account_id", how="left", maintain_order="left")
        .select(
            "account_id",
            pl.when(stay).then(held_in).otherwise(pl.col("from")).alias("from"),
            pl.when(stay).then(held_in).otherwise(pl.coalesce("to", "tier")).alias("to"),
            pl.coalesce("evaluated", "tier").alias("evaluated"),
            pl.col("outcome").fill_null("stay"),
            pl.col("rule").fill_null(""),
            pl.col("because").fill_null(""),
            "arr",
        )
    )
    rows = pl.concat([rows, _churned(q.named.get("churned", []))])
    return _with_events(rows, q.account_events)


def _decided(q: Any) -> pl.DataFrame:
    """The evaluated accounts that did not stay, one row each (``to`` and ``evaluated``
    null: the tier evaluated).  One that joined or came back is that, whatever the rules
    said; else a review outranks a hold, and a hold a move."""
    found: dict[str, tuple[str, str | None, str | None, str, str, str]] = {}
    for kind, moves in (("moved", q.moves), ("held", q.held), ("review", q.reviews)):
        for m in moves:
            to = m["to"] if kind == "moved" else m["from"]
            found[m["account_id"]] = (m["from"], to, m["evaluated"], kind, m["rule"], m["because"])
    for account_id in q.reactivated:
        found[account_id] = ("", None, None, "reactivated", "", "came back this quarter")
    for account_id in q.joined:
        found[account_id] = ("", None, None, "joined", "", "joined this quarter")
    names = ["from", "to", "evaluated", "outcome", "rule", "because"]
    return pl.DataFrame(
        [(account_id, *row) for account_id, row in found.items()],
        schema={"account_id": pl.String} | dict.fromkeys(names, pl.String),
        orient="row",
    )


def _drifted(drifted: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"account_id": list(drifted), "drifted": list(drifted.values())},
        schema={"account_id": pl.String, "drifted": pl.String},
    )


def _churned(churned: list[dict[str, Any]]) -> pl.DataFrame:
    """The accounts that churned in the quarter (not evaluated: gone), at their ARR then."""
    return pl.DataFrame(
        {
            "account_id": [c["account_id"] for c in churned],
            "from": [c["tier"] for c in churned],
            "to": [""] * len(churned),
            "evaluated": [""] * len(churned),
            "outcome": ["churned"] * len(churned),
            "rule": [""] * len(churned),
            "because": [
                "joined and churned this quarter" if c["joined_this_quarter"] else "churn event"
                for c in churned
            ],
            "arr": [c["arr"] for c in churned],
        },
        schema={k: v for k, v in COLUMNS.items() if k != "events"},
    )


def _with_events(rows: pl.DataFrame, events: dict[str, list[dict[str, Any]]]) -> pl.DataFrame:
    """Each row's events as compact JSON, as json.dumps writes them (ASCII); an account
    without any, "[]": only the accounts that have events are encoded."""
    texts = pl.DataFrame(
        {"account_id": list(events), "events": [compact(e) for e in events.values()]},
        schema={"account_id": pl.String, "events": pl.String},
    )
    return rows.join(texts, on="account_id", how="left", maintain_order="left").with_columns(
        pl.col("events").fill_null("[]")
    )


def write_details(db: sqlite3.Connection, replay_id: int, quarter: str, rows: pl.DataFrame) -> None:
    """(Committed with the movements.)  ``rows``: ``movement_rows``' frame."""
    db.executemany(
        "INSERT INTO movement_details VALUES (?, ?, ?, ?, ?)",
        rows.select(
            pl.lit(replay_id).alias("replay_id"),
            pl.lit(quarter).alias("quarter"),
            "account_id",
            "arr",
            "events",
        ).iter_rows(),
    )


def read_details(row: dict[str, Any]) -> None:
    """A history row's details as JSON values: ARR (None when not kept) and events."""
    row["events"] = json.loads(row["events"]) if row.get("events") else []
