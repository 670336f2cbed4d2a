"""A replay quarter's movement rows as plain Python, one dict per account, and how they
were written to the trace store: the reference the frame the replay builds
(``trace.movements.movement_rows``, ``Pins.annotate``, ``TraceStore.write_movements``) is
held to.  This is the code the replay ran before its rows were a polars frame."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

_COMPACT = json.JSONEncoder(separators=(",", ":"))


def reference_rows(q: Any, ev: Any, arr_field: str) -> list[dict[str, Any]]:
    """Every account's row of quarter ``q`` (a replay Quarter) and its evaluation ``ev``:
    the outcome (stay, moved, held, review, joined, reactivated, churned), the rule behind
    it, its ARR at the end of the quarter and its events in it."""
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


def reference_annotate(notes: dict[str, dict[str, str]], rows: list[dict[str, Any]]) -> None:
    """(``Pins.annotate`` of a quarter whose notes are ``notes``.)"""
    for row in rows:
        note = notes.get(row["account_id"])
        if note is not None and row["outcome"] == "stay":
            row.update(note)


def reference_write(
    db: sqlite3.Connection, replay_id: int, quarter: str, run_id: int, rows: list[dict[str, Any]]
) -> None:
    """The rows into a store's ``movements`` and ``movement_details``, as they were."""
    db.executemany(
        "INSERT INTO movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                replay_id,
                quarter,
                run_id,
                r["account_id"],
                r["from"],
                r["to"],
                r["evaluated"],
                r["outcome"],
                r.get("rule", ""),
                r.get("because", ""),
            )
            for r in rows
        ],
    )
    db.executemany(
        "INSERT INTO movement_details VALUES (?, ?, ?, ?, ?)",
        [
            (replay_id, quarter, r["account_id"], r.get("arr"), events_text(r.get("events", [])))
            for r in rows
        ],
    )
    db.commit()


def events_text(events: Any) -> str:
    if isinstance(events, list) and not events:
        return "[]"
    return _COMPACT.encode(events)
