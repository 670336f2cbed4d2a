"""A replay's stored movements against the per-account dicts they were made from before
(tests/movements_reference.py): each quarter's frame (``trace.movements.movement_rows``),
the overrides' notes joined on (``Pins.annotate``) and the rows written from the frame
(``TraceStore.write_movements``) store exactly what the reference rows, annotated and
written as they were, store: every row of ``movements`` (in its order) and of
``movement_details``, values, types and the events' JSON text alike."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tierbook.commands import api
from tierbook.overrides.replay import Pins
from tierbook.trace import movements
from tierbook.trace.movements import COLUMNS, movement_rows
from tierbook.trace.store import TraceStore

from .conftest import ROOT, SAMPLE
from .movements_reference import (
    events_text,
    reference_annotate,
    reference_rows,
    reference_write,
)

REASON = "Keep the current CSM through the re-org."

# beside the bundled events: an account that comes back (ARR to a tenth of a cent, which
# rounds as Python rounds), one that joins and churns in a quarter, one that comes back and
# churns in a quarter, a name no ASCII spells, an ARR polars' round would round otherwise
EXTRA_EVENTS = """\
2027Q1,ACC-00034,reactivation,arr,1234.565
2027Q1,ACC-00034,signal,account_name,Société Générale
2026Q4,NEW-JC,new_account,,
2026Q4,NEW-JC,signal,arr,2500.125
2026Q4,NEW-JC,churn,,
2027Q2,ACC-00118,reactivation,arr,900
2027Q2,ACC-00118,churn,,
2027Q3,ACC-00001,renewal,arr,2.675
"""

# a pin held against the rules' move, a pin made during the replay, and one to the tier the
# account is in already: notes on stays where an override starts and where one ends
OVERRIDES = f"""\
tierbook: overrides/v1
overrides:
  - id: hold-125
    account: ACC-00125
    tier: mid_touch
    owner: vp-cs
    reason: {REASON}
    created: 2026-09-15
    expires: 2027-02-15
  - id: pin-8
    account: ACC-00008
    tier: high_touch_enterprise
    owner: vp-cs
    reason: {REASON}
    created: 2026-11-15
    expires: 2027-03-31
  - id: keep-2
    account: ACC-00002
    tier: plg_self_serve
    owner: vp-cs
    reason: {REASON}
    created: 2026-11-01
    expires: 2027-05-01
"""


def _ruleset(where: Path) -> Path:
    """The default ruleset with a review rule that some enterprise accounts meet."""
    data = yaml.safe_load((ROOT / "rulesets" / "cs-segmentation-model.yaml").read_text())
    data["transitions"]["rules"].append(
        {
            "id": "review_enterprise_without_expansion",
            "action": "review",
            "to": "mid_touch",
            "when": {
                "all": [
                    {"field": "tier", "eq": "high_touch_enterprise"},
                    {"field": "history.quarters_since.expansion", "gte": 2},
                ]
            },
            "because": "Two quarters without an expansion: review",
        }
    )
    path = where / "rs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _stored(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A store's movements in their order and its details by key, each value with its
    SQLite type and each float as its repr (so -0.0 and a last bit count)."""

    def shown(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(repr(v) if isinstance(v, float) else v for v in row)

    db = sqlite3.connect(path)
    try:
        moved = db.execute(
            "SELECT rowid, *, typeof(from_tier), typeof(because) FROM movements ORDER BY rowid"
        ).fetchall()
        details = db.execute(
            "SELECT *, typeof(arr), typeof(events) FROM movement_details "
            "ORDER BY replay_id, quarter, account_id"
        ).fetchall()
    finally:
        db.close()
    return [shown(r) for r in moved], [shown(r) for r in details]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    """The replay, its store and a store of the reference rows of each of its quarters,
    made beside the frame from the same quarter and evaluation and written as before."""
    where = tmp_path_factory.mktemp("movements")
    events = where / "events.csv"
    header, *lines = (ROOT / "examples" / "events.csv").read_text().splitlines()
    # each extra event last in its quarter (the file is in quarter order)
    lines = sorted(lines + EXTRA_EVENTS.splitlines(), key=lambda line: line[:6])
    events.write_text("\n".join([header, *lines]) + "\n")
    pins = where / "pins.yaml"
    pins.write_text(OVERRIDES)
    quarters: list[tuple[str, list[dict[str, Any]]]] = []
    frame_rows, frame_annotate = movements.movement_rows, Pins.annotate

    def rows(q: Any, ev: Any, arr_field: str) -> pl.DataFrame:
        quarters.append((q.quarter, reference_rows(q, ev, arr_field)))
        return frame_rows(q, ev, arr_field)

    def annotate(self: Pins, quarter: str, frame: pl.DataFrame) -> pl.DataFrame:
        reference_annotate(self.notes.get(quarter, {}), quarters[-1][1])
        return frame_annotate(self, quarter, frame)

    store = where / "traces.sqlite"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(movements, "movement_rows", rows)
        mp.setattr(Pins, "annotate", annotate)
        result = api.replay(
            str(_ruleset(where)),
            str(SAMPLE),
            str(events),
            as_of=dt.date(2026, 10, 1),
            store_path=str(store),
            chart=False,
            overrides=str(pins),
        )
    reference = where / "reference.sqlite"
    db = TraceStore(reference).db
    run_ids = {q.quarter: q.run_id for q in result.quarters}
    for quarter, found in quarters:
        reference_write(db, result.replay_id, quarter, run_ids[quarter], found)
    db.close()
    return result, store, reference


def test_a_replay_stores_the_reference_rows(replayed: tuple[Any, Path, Path]) -> None:
    _, store, reference = replayed
    moved, details = _stored(store)
    assert len(moved) == len(details) > 20_000  # (3,000 accounts, 8 quarters)
    assert (moved, details) == _stored(reference)


def test_the_replay_has_every_kind_of_row(replayed: tuple[Any, Path, Path]) -> None:
    """(What the comparison above covers.)"""
    _, store, _ = replayed
    db = sqlite3.connect(store)
    outcomes = {o for (o,) in db.execute("SELECT DISTINCT outcome FROM movements")}
    assert outcomes == {"stay", "moved", "held", "review", "joined", "reactivated", "churned"}
    (drifted,) = db.execute(
        "SELECT count(*) FROM movements WHERE outcome = 'stay' AND from_tier != evaluated_tier"
    ).fetchone()
    noted = db.execute(
        "SELECT quarter, account_id, rule_id FROM movements "
        "WHERE outcome = 'stay' AND rule_id != '' ORDER BY quarter, account_id"
    ).fetchall()
    churns = db.execute(
        "SELECT quarter, account_id, because FROM movements WHERE account_id IN "
        "('NEW-JC', 'ACC-00118') AND outcome = 'churned' ORDER BY quarter, account_id"
    ).fetchall()
    (events,) = db.execute(
        "SELECT events FROM movement_details WHERE quarter = '2027Q1' AND account_id = 'ACC-00034'"
    ).fetchone()
    (arr,) = db.execute(
        "SELECT arr FROM movement_details WHERE quarter = '2027Q3' AND account_id = 'ACC-00001'"
    ).fetchone()
    db.close()
    assert drifted > 0
    assert noted == [
        ("2026Q4", "ACC-00002", "override:keep-2"),
        ("2027Q1", "ACC-00125", "override:hold-125"),
        ("2027Q2", "ACC-00002", "override:keep-2"),
    ]
    assert churns == [
        ("2026Q4", "ACC-00118", "churn event"),
        ("2026Q4", "NEW-JC", "joined and churned this quarter"),
        ("2027Q2", "ACC-00118", "churn event"),
    ]
    assert "Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale" in events
    assert arr == 2.67


@dataclass
class _Quarter:
    """What ``movement_rows`` reads of a replay Quarter."""

    quarter: str = "2027Q1"
    moves: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    joined: dict[str, str] = field(default_factory=dict)
    reactivated: dict[str, str] = field(default_factory=dict)
    drifted: dict[str, str] = field(default_factory=dict)
    named: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    account_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class _Evaluation:
    """What ``movement_rows`` reads of an Evaluation."""

    frame: pl.DataFrame
    tier_of: list[str]

    def account_ids(self) -> list[str]:
        return [str(v) for v in self.frame["account_id"]]

    def tiers(self) -> list[str]:
        return self.tier_of


def _move(account_id: str, to: str, rule: str = "r") -> dict[str, Any]:
    return {
        "account_id": account_id,
        "from": "a",
        "to": to,
        "evaluated": to,
        "rule": rule,
        "because": f"{rule} because",
    }


def _as_tuples(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The reference's rows as the frame's columns (a key a row lacks: "")."""
    return [
        tuple(
            events_text(r["events"]) if k == "events" else r.get(k, None if k == "arr" else "")
            for k in COLUMNS
        )
        for r in rows
    ]


def _same(got: pl.DataFrame, want: list[dict[str, Any]]) -> None:
    def shown(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [
            tuple(repr(v) if isinstance(v, float) else v for v in r)  # (NaN: "nan")
            for r in rows
        ]

    assert got.schema == pl.Schema(COLUMNS)
    assert shown(got.rows()) == shown(_as_tuples(want))


def test_rows_of_a_made_up_quarter_are_the_reference_rows() -> None:
    """Every kind of row and the corners: a review over a hold over a move of one account,
    a join over a move, a drifted account that joins (it is evaluated as it joins), moves
    and events of accounts the quarter has not (gone), ARRs a naive round gets wrong,
    a blank, NaN, infinity and -0.0."""
    arrs = [2.675, None, 1234.565, float("nan"), float("inf"), -0.001, 5.0, 0.125, 1e17]
    ids = [f"A{k}" for k in range(len(arrs))]
    tiers = ["t1", "t2", "t1", "t3", "t2", "t1", "t3", "t2", "t1"]
    ev = _Evaluation(pl.DataFrame({"account_id": ids, "arr": arrs}), tiers)
    q = _Quarter(
        moves=[_move("A0", "t1"), _move("A1", "t2"), _move("A3", "t3"), _move("GONE", "t1")],
        held=[_move("A1", "t9", "dwell"), _move("A2", "t8", "dwell")],
        reviews=[_move("A1", "t7", "look")],
        joined={"A3": "t3", "A5": "t1", "ALSO-GONE": "t1"},
        reactivated={"A6": "t3"},
        drifted={"A4": "t9", "A5": "t8", "A7": "t0"},
        named={
            "churned": [
                {"account_id": "C1", "tier": "t2", "arr": 10.5, "joined_this_quarter": False},
                {"account_id": "C2", "tier": "t1", "arr": 0.0, "joined_this_quarter": True},
            ]
        },
        account_events={
            "A0": [{"line": 3, "type": "renewal", "fields": {"arr": "2.675"}}],
            "A2": [],
            "C2": [
                {"line": 9, "type": "new_account", "fields": {}},
                {"line": 10, "type": "signal", "fields": {"account_name": "Zoë \u2603"}},
            ],
            "NOBODY": [{"line": 11, "type": "signal", "fields": {}}],
        },
    )
    _same(movement_rows(q, ev, "arr"), reference_rows(q, ev, "arr"))
    _same(movement_rows(q, ev, "no_such_input"), reference_rows(q, ev, "no_such_input"))
    whole = _Evaluation(pl.DataFrame({"account_id": ids, "arr": list(range(len(ids)))}), tiers)
    _same(movement_rows(q, whole, "arr"), reference_rows(q, whole, "arr"))
    empty = _Evaluation(
        pl.DataFrame(
            {"account_id": [], "arr": []}, schema={"account_id": pl.String, "arr": pl.Float64}
        ),
        [],
    )
    _same(movement_rows(_Quarter(), empty, "arr"), [])
    _same(movement_rows(q, empty, "arr"), reference_rows(q, empty, "arr"))


def test_notes_go_on_stays_only() -> None:
    ids = ["A0", "A1", "A2"]
    ev = _Evaluation(pl.DataFrame({"account_id": ids, "arr": [1.0, 2.0, 3.0]}), ["t1"] * 3)
    q = _Quarter(moves=[_move("A1", "t2")])
    pins = Pins.__new__(Pins)
    pins.notes = {
        "2027Q1": {
            "A0": {"rule": "override:x", "because": "override start: x"},
            "A1": {"rule": "override:y", "because": "override y ended"},
            "ELSEWHERE": {"rule": "override:z", "because": "z"},
        }
    }
    want = reference_rows(q, ev, "arr")
    reference_annotate(pins.notes["2027Q1"], want)
    _same(pins.annotate("2027Q1", movement_rows(q, ev, "arr")), want)
    _same(pins.annotate("2027Q2", movement_rows(q, ev, "arr")), reference_rows(q, ev, "arr"))

