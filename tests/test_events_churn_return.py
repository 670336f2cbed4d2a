"""`tierbook events`: an account that churns (by the churn table) and comes back in the same
quarter, and a cancelled subscription without an end date (docs/events.md, "Events from
subscription history")."""

from __future__ import annotations

import json
from pathlib import Path

from .test_events_derive import HEADER, derived, run, table

SUBS = [
    "S1,A,pro,1000,10,2025-01-01,,active,false",
    "S2,R,pro,3000,30,2025-01-01,2026-11-15,cancelled,false",  # R churns on 2026-11-20 ...
    "S3,R,pro,3500,35,2026-12-01,,active,false",  # ... and is back on 2026-12-01
    "S4,Q,pro,2000,20,2025-01-01,2027-02-01,cancelled,false",  # Q churns in 2027Q1 ...
    "S5,Q,pro,2200,22,2027-03-01,,active,false",  # ... and is back in it, the last quarter
]
CHURN = ["R,2026-11-20", "Q,2027-02-10"]
NOTE_R = (
    "note: 1 account(s) churned and came back in the same quarter (R): each churns in it and "
    "comes back in the next quarter's reactivation (a replay brings an account back from the "
    "quarter after its churn)"
)


def _tables(tmp_path: Path) -> tuple[str, str]:
    subs = table(tmp_path, "subs.csv", HEADER, SUBS)
    return subs, table(tmp_path, "churn.csv", "account_id,churn_date", CHURN)


def test_a_churn_and_a_return_in_one_quarter_are_both_events(tmp_path: Path) -> None:
    subs, churn = _tables(tmp_path)
    result = run("events", subs, "--from", "2026Q4", "--to", "2027Q1", "--churn", churn)
    assert derived(result) == [
        "2026Q4,R,churn,,",
        "2027Q1,Q,churn,,",
        "2027Q1,R,reactivation,arr,3500.00",
        "2027Q1,R,signal,seats_licensed,35",
    ]
    # Q is back in the last quarter: its reactivation would be in 2027Q2, past --to
    assert result.stderr.splitlines() == [
        NOTE_R.replace("1 account(s)", "2 account(s)").replace("(R)", "(R, Q)"),
        "note: 1 account(s) came back in 2027Q1, the last quarter, after churning in it (Q): "
        "their reactivation, in 2027Q2, is left out (--to 2027Q2 includes it)",
    ]


def test_the_default_to_reaches_the_quarter_a_return_comes_back_in(tmp_path: Path) -> None:
    subs, churn = _tables(tmp_path)
    result = run("events", subs, "--from", "2026Q4", "--churn", churn, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["quarters"] == {"first": "2026Q4", "last": "2027Q2", "count": 3}
    assert (doc["returned_in_churn_quarter"], doc["returns_after_range"]) == (2, 0)
    assert doc["events"] == {"churn": 2, "reactivation": 2, "signal": 2}


def test_the_churn_and_the_return_replay_and_the_bridge_reconciles(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("TIERBOOK_STORE", str(tmp_path / "t.sqlite"))
    subs, churn = _tables(tmp_path)
    result = run(
        "events",
        subs,
        "--from",
        "2026Q4",
        "--churn",
        churn,
        "--out",
        str(tmp_path / "e.csv"),
        "--snapshot",
        str(tmp_path / "p.csv"),
    )
    assert result.exit_code == 0, result.output
    result = run(
        "replay",
        str(tmp_path / "p.csv"),
        str(tmp_path / "e.csv"),
        "--as-of",
        "2026-10-01",
        "--no-chart",
        "--format",
        "json",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.exit_code == 0, result.output
    bridge = {
        r["quarter"]: r for r in json.loads(result.stdout)["arr_bridge"] if r["tier"] == "all"
    }
    amounts = ("starting", "new", "expansion", "contraction", "churned", "reactivated", "ending")
    assert {q: tuple(r[k] for k in amounts) for q, r in bridge.items()} == {
        "2026Q4": (6000, 0, 0, 0, 3000, 0, 3000),
        "2027Q1": (3000, 0, 0, 0, 2000, 3500, 4500),
        "2027Q2": (4500, 0, 0, 0, 0, 2200, 6700),
    }


def test_a_return_without_a_churn_table_is_a_renewal(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, SUBS[:3])
    assert derived(run("events", subs, "--from", "2026Q4", "--to", "2027Q1")) == [
        "2026Q4,R,renewal,arr,3500.00",
        "2026Q4,R,signal,seats_licensed,35",
    ]


def test_a_cancelled_subscription_without_an_end_date_is_not_arr(tmp_path: Path) -> None:
    subs = table(
        tmp_path,
        "subs.csv",
        HEADER,
        [
            "S1,A,pro,1000,10,2025-01-01,,cancelled,false",  # stopped, no one knows when
            "S2,B,pro,2000,20,2025-01-01,,active,false",
            "S3,C,pro,500,5,2025-01-01,2027-02-01,cancelled,false",  # counts until its end
            "S4,D,pro,700,7,2026-11-01,,canceled,false",
            "S5,E,pro,0,1,2025-01-01,,cancelled,true",  # a trial: never ARR, not noted
        ],
    )
    result = run(
        "events", subs, "--from", "2026Q4", "--to", "2027Q1", "--snapshot", str(tmp_path / "p.csv")
    )
    assert derived(result) == ["2027Q1,C,churn,,"]
    assert result.stderr.splitlines() == [
        "note: 2 cancelled subscription(s) without an end date left out, not ARR: when they "
        f"stopped is unknown (line(s) 2, 5 of {subs})"
    ]
    assert (tmp_path / "p.csv").read_text().splitlines() == [
        "account_id,arr,seats_licensed",
        "B,2000.00,20",
        "C,500.00,5",
    ]
    result = run("events", subs, "--from", "2026Q4", "--format", "json")
    assert json.loads(result.stdout)["cancelled_without_end_date"] == 2
