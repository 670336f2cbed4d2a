"""What a run read beside its accounts file and ruleset (the tables rolled up, the columns
mapped with --map or an inputs file, the CSM headcount given), kept with the run: the
ruleset stays the one named, and the run says how it was read."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

RUN_INPUTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id INTEGER PRIMARY KEY REFERENCES runs(run_id),
    inputs TEXT NOT NULL);
"""


def write_run_inputs(db: sqlite3.Connection, run_id: int, inputs: dict[str, Any]) -> None:
    db.execute(
        "INSERT OR REPLACE INTO run_inputs VALUES (?, ?)",
        (run_id, json.dumps(inputs, sort_keys=True)),
    )
    db.commit()
