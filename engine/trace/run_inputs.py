"""What a run read beside its accounts file and ruleset (the tables rolled up, the columns
mapped with --map or an inputs file, the CSM headcount given), kept with the run: the
ruleset stays the one named, and the run says how it was read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import TraceStore

RUN_INPUTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id INTEGER PRIMARY KEY REFERENCES runs(run_id),
    inputs TEXT NOT NULL);
"""


def write_run_inputs(store: TraceStore, run_id: int, inputs: dict[str, Any]) -> None:
    store.db.execute(
        "INSERT OR REPLACE INTO run_inputs VALUES (?, ?)",
        (run_id, json.dumps(inputs, sort_keys=True)),
    )
    store.db.commit()


def read_run_inputs(store: TraceStore, run_id: int) -> dict[str, Any] | None:
    row = store.db.execute("SELECT inputs FROM run_inputs WHERE run_id=?", (run_id,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))
