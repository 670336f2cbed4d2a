"""Overrides in the trace store (table ``run_overrides``, docs/trace-store.md): for each
overridden account of a run, the override ids, the rules' tier and flags and the effective
ones, and the sentence `explain` shows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
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
    return read_overrides(db, run_id, [account_id]).get(account_id)


def read_overrides(
    db: sqlite3.Connection, run_id: int, account_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The overrides applied to each of ``account_ids`` in the run (an account with none
    is not in the answer), read in a few queries."""
    out = {}
    wanted = list(dict.fromkeys(account_ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in db.execute(
            "SELECT account_id, override_ids, rules_tier, tier, rules_flags, flags, text "
            f"FROM run_overrides WHERE run_id = ? AND account_id IN ({','.join('?' * len(chunk))})",
            (run_id, *chunk),
        ):
            out[row[0]] = {
                "ids": row[1].split(";"),
                "rules_tier": row[2],
                "tier": row[3],
                "rules_flags": json.loads(row[4]),
                "flags": json.loads(row[5]),
                "text": row[6],
            }
    return out
