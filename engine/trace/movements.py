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
from collections.abc import Iterable
from typing import Any

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


def write_details(
    db: sqlite3.Connection, replay_id: int, quarter: str, rows: Iterable[dict[str, Any]]
) -> None:
    """(Committed with the movements.)"""
    db.executemany(
        "INSERT INTO movement_details VALUES (?, ?, ?, ?, ?)",
        [
            (
                replay_id,
                quarter,
                r["account_id"],
                r.get("arr"),
                _events_text(r.get("events", [])),
            )
            for r in rows
        ],
    )


def _events_text(events: Any) -> str:
    """An account's events as compact JSON (most accounts have none in a quarter)."""
    if isinstance(events, list) and not events:
        return "[]"
    return _COMPACT.encode(events)


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps' own, made once


def read_details(row: dict[str, Any]) -> None:
    """A history row's details as JSON values: ARR (None when not kept) and events."""
    row["events"] = json.loads(row["events"]) if row.get("events") else []


def movement_rows(q: Any, ev: Any, arr_field: str) -> list[dict[str, Any]]:
    """Every account's row of quarter ``q`` (a replay Quarter) and its evaluation ``ev``:
    the outcome (stay, moved, held, review, joined, reactivated, churned), the rule behind it, its ARR
    at the end of the quarter and its events in it."""
    outcome = {m["account_id"]: ("moved", m) for m in q.moves}
    outcome.update({m["account_id"]: ("held", m) for m in q.held})
    outcome.update({m["account_id"]: ("review", m) for m in q.reviews})
    events = q.account_events
    rows = []
    # (read as columns: an account's id, tier and ARR are all a row needs of its decision)
    frame = ev.frame
    arrs = frame[arr_field].to_list() if arr_field in frame.columns else [None] * frame.height
    no_events: list[dict[str, Any]] = []
    joined, reactivated, drifted = q.joined, q.reactivated, q.drifted
    for account_id, tier_of, arr in zip(ev.account_ids(), ev.tiers(), arrs):
        kind, m = outcome.get(account_id, ("stay", None))
        if m is None and account_id not in joined and account_id not in reactivated:
            # stays where it is held (most accounts): the tier evaluated, unless it drifted
            tier = drifted.get(account_id, tier_of)
            rows.append(
                {
                    "account_id": account_id,
                    "arr": None if arr is None else round(float(arr), 2),
                    "events": events.get(account_id, no_events),
                    "from": tier,
                    "to": tier,
                    "evaluated": tier_of,
                    "outcome": "stay",
                }
            )
            continue
        facts = {
            "account_id": account_id,
            "arr": None if arr is None else round(float(arr), 2),
            "events": events.get(account_id, no_events),
        }
        if account_id in joined:
            rows.append(
                facts
                | {"from": "", "to": tier_of, "evaluated": tier_of, "outcome": "joined"}
                | {"because": "joined this quarter"}
            )
        elif account_id in reactivated:
            rows.append(
                facts
                | {"from": "", "to": tier_of, "evaluated": tier_of, "outcome": "reactivated"}
                | {"because": "came back this quarter"}
            )
        else:
            assert m is not None  # (a stay took the first branch)
            rows.append(
                facts
                | {
                    "from": m["from"],
                    "to": m["to"] if kind == "moved" else m["from"],
                    "evaluated": m["evaluated"],
                    "outcome": kind,
                    "rule": m["rule"],
                    "because": m["because"],
                }
            )
    for c in q.named.get("churned", []):  # not evaluated: gone
        because = "joined and churned this quarter" if c["joined_this_quarter"] else "churn event"
        rows.append(
            {
                "account_id": c["account_id"],
                "arr": c["arr"],
                "events": events.get(c["account_id"], []),
                "from": c["tier"],
                "to": "",
                "evaluated": "",
                "outcome": "churned",
                "because": because,
            }
        )
    return rows
