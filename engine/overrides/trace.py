"""Overrides in the trace store (table ``run_overrides``, docs/trace-store.md): for each
overridden account of a run, the override ids, the rules' tier and flags and the effective
ones, and the sentence `explain` shows."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .apply import OverrideReport


def write_overrides(
    db: sqlite3.Connection, run_id: int, report: OverrideReport, account_ids: list[str]
) -> None:
    with db:
        db.executemany(
            "INSERT INTO run_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    account_ids[i],
                    a.ids,
                    a.rules_tier,
                    a.tier,
                    json.dumps(a.rules_flags),
                    json.dumps(a.flags),
                    a.text(),
                )
                for i, a in sorted(report.applied.items())
            ],
        )


def read_override(db: sqlite3.Connection, run_id: int, account_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT override_ids, rules_tier, tier, rules_flags, flags, text FROM run_overrides "
        "WHERE run_id = ? AND account_id = ?",
        (run_id, account_id),
    ).fetchone()
    if row is None:
        return None
    return {
        "ids": row[0].split(";"),
        "rules_tier": row[1],
        "tier": row[2],
        "rules_flags": json.loads(row[3]),
        "flags": json.loads(row[4]),
        "text": row[5],
    }
