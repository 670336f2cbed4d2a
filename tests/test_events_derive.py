"""`tierbook events`: quarterly replay events from subscription history, by hand on small
tables (same-quarter subscriptions, overlaps, trials, open end dates, churn from a churn table
or from subscriptions ending, ticket signals), the snapshot, determinism, located errors,
and the derived events replayed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

HEADER = "subscription_id,account_id,plan,arr_amount,seats,start_date,end_date,status,is_trial"
SUBS = [
    "S1,A,pro,12000,10,2025-01-01,2026-01-01,cancelled,false",  # renewed by S2 on 2026-01-01
    "S2,A,pro,15000,12,2026-01-01,,active,false",  # open-ended
    "S3,B,basic,5000,5,2025-06-01,2026-03-15,cancelled,false",  # B churns in 2026Q1 ...
    "S9,B,basic,6000,6,2026-08-01,,active,false",  # ... and comes back in 2026Q3
    "S4,C,trial,0,3,2025-11-01,2025-11-30,trial,true",  # a trial: not ARR
    "S5,C,basic,3000,3,2025-12-01,,active,false",  # C's first paid subscription
    "S6,D,pro,8000,8,2025-01-01,,active,false",
    "S7,D,addon,2000,2,2026-02-01,2026-05-01,cancelled,false",  # overlaps S6: expansion, then
    "S8,E,basic,1000,1,2026-04-10,2026-05-20,cancelled,false",  # starts and ends in 2026Q2
]
EXPECTED = [
    "2025Q4,A,renewal,arr,15000.00",
    "2025Q4,A,signal,seats_licensed,12",
    "2025Q4,C,new_account,arr,3000.00",
    "2025Q4,C,signal,seats_licensed,3",
    "2026Q1,B,churn,,",
    "2026Q1,D,expansion,arr,2000.00",
    "2026Q1,D,signal,seats_licensed,10",
    "2026Q2,D,contraction,arr,2000.00",
    "2026Q2,D,signal,seats_licensed,8",
    "2026Q2,E,new_account,arr,1000.00",
    "2026Q2,E,signal,seats_licensed,1",
    "2026Q2,E,churn,,",
    "2026Q3,B,reactivation,arr,6000.00",
    "2026Q3,B,signal,seats_licensed,6",
]
RANGE = ["--from", "2025Q4", "--to", "2026Q3"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def table(tmp_path: Path, name: str, header: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def derived(result) -> list[str]:
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "quarter,account_id,type,field,value"
    return lines[1:]


def test_events_from_subscriptions_by_hand(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, SUBS)
    assert derived(run("events", subs, *RANGE)) == EXPECTED


def test_the_snapshot_is_the_book_on_the_first_day(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, SUBS)
    book = table(tmp_path, "book.csv", "account_id,account_name,arr,health_score",
                 ["A,Acme,1,80", "C,Cee,2,70", "D,Dee,3,"])
    result = run("events", subs, *RANGE, "--out", str(tmp_path / "e.csv"),
                 "--snapshot", str(tmp_path / "p.csv"), "--accounts", book, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["start"], doc["book"], doc["portfolio_accounts_left_out"]) == (
        "2025-10-01", {"accounts": 3, "arr": 25000.0}, 1)  # C was not a customer yet
    # A, B and D on 2025-10-01 (C's trial is not ARR, its paid plan starts in December);
    # the portfolio's columns kept, its ARR replaced, the seats added
    assert (tmp_path / "p.csv").read_text().splitlines() == [
        "account_id,account_name,arr,health_score,seats_licensed",
        "A,Acme,12000.00,80,10",
        "B,,5000.00,,5",
        "D,Dee,8000.00,,8",
    ]
    assert (tmp_path / "e.csv").read_text().splitlines()[1:] == EXPECTED


def test_churn_from_a_churn_table(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, [
        "S1,F,pro,4000,4,2025-01-01,2026-02-01,cancelled,false",  # ends, no churn record
        "S2,G,pro,9000,9,2025-01-01,,active,false",  # churn record, subscription left open
        "S3,H,pro,1000,1,2025-01-01,,active,false",
    ])
    churn = table(tmp_path, "churn.csv", "account_id,churn_date,reason",
                  ["G,2026-05-01,price", "H,2024-06-01,old"])
    assert derived(run("events", subs, *RANGE, "--churn", churn)) == [
        "2026Q1,F,contraction,arr,4000.00",
        "2026Q1,F,signal,seats_licensed,0",
        "2026Q2,G,churn,,",
    ]
    # without the table, F churns when its subscription ends and G never does
    assert derived(run("events", subs, *RANGE)) == ["2026Q1,F,churn,,"]


def test_escalation_signals_from_tickets(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, ["S1,A,pro,4000,4,2025-01-01,,active,false"])
    tickets = table(tmp_path, "tickets.csv",
                    "ticket_id,account_id,opened_at,priority,satisfaction,escalated", [
                        "T1,A,2025-09-10,high,3,true",  # the quarter before: the snapshot's
                        "T2,A,2025-11-02,urgent,,true",
                        "T3,A,2025-12-02,low,5,false",
                        "T4,A,2026-02-02,high,2,true",
                        "T5,A,2026-03-02,high,2,true",
                    ])
    out = run("events", subs, *RANGE, "--tickets", tickets, "--snapshot",
              str(tmp_path / "p.csv"))
    assert derived(out) == [
        "2026Q1,A,signal,open_escalations,2",
        "2026Q2,A,signal,open_escalations,0",
    ]
    assert (tmp_path / "p.csv").read_text().splitlines() == [
        "account_id,arr,seats_licensed,open_escalations", "A,4000.00,4,1"]


def test_same_tables_in_any_order_give_the_same_bytes(tmp_path: Path) -> None:
    shuffled = SUBS[:]
    random.Random(7).shuffle(shuffled)
    one = run("events", table(tmp_path, "a.csv", HEADER, SUBS), *RANGE).stdout
    two = run("events", table(tmp_path, "b.csv", HEADER, shuffled), *RANGE).stdout
    assert one == two


def test_bad_cells_are_located(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, [
        "S1,A,pro,lots,1,2025-01-01,,active,false",
        "S2,A,pro,10,1,2025-05-01,2025-04-01,active,false",
        "S1,B,pro,10,1,2025-01-01,,active,maybe",
        "S4,,pro,10,1,2025-01-01,,active,false",
    ])
    result = run("events", subs, *RANGE)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{subs}:2:4: arr_amount: 'lots' is not a number",
        f"{subs}:3:7: end_date: 2025-04-01 is before the start 2025-05-01",
        f"{subs}:4:1: subscription_id: 'S1' is also on line 2",
        f"{subs}:4:9: is_trial: 'maybe' is not a yes/no value (true/false, yes/no, 1/0)",
        f"{subs}:5:2: account_id: is blank",
    ]


def test_a_missing_column_and_an_unknown_churned_account(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", "subscription_id,account_id,arr,start_date,end_date",
                 ["S1,A,10,2025-01-01,"])
    result = run("events", subs, *RANGE)
    assert result.exit_code == 1
    assert f"{subs}:1:1: arr_amount: missing column 'arr_amount'" in result.stderr
    good = table(tmp_path, "good.csv", HEADER, ["S1,A,pro,10,1,2025-01-01,,active,false"])
    churn = table(tmp_path, "churn.csv", "account_id,churn_date", ["A,2026-01-05", "Q,2026-01-05"])
    result = run("events", good, *RANGE, "--churn", churn)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{churn}:3:1: account_id: account 'Q' has no subscription"


def test_quarters_are_checked(tmp_path: Path) -> None:
    subs = table(tmp_path, "subs.csv", HEADER, SUBS)
    assert run("events", subs, "--from", "2025-10").exit_code == 2
    result = run("events", subs, "--from", "2026Q2", "--to", "2026Q1")
    assert result.exit_code == 2 and "--to 2026Q1 is before --from 2026Q2" in result.stderr
    # --to defaults to the last quarter the table reaches (S8 ends in 2026Q2, S9 starts in Q3)
    assert derived(run("events", subs, "--from", "2025Q4")) == EXPECTED


def test_the_derived_events_replay(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TIERBOOK_STORE", str(tmp_path / "t.sqlite"))
    subs = table(tmp_path, "subs.csv", HEADER, SUBS)
    assert run("events", subs, *RANGE, "--out", str(tmp_path / "e.csv"),
               "--snapshot", str(tmp_path / "p.csv")).exit_code == 0
    result = run("replay", str(tmp_path / "p.csv"), str(tmp_path / "e.csv"), "--as-of",
                 "2025-10-01", "--no-chart", "--format", "json", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    book = {r["quarter"]: r for r in data["arr_bridge"] if r["tier"] == "all"}
    assert (book["2025Q4"]["starting"], book["2025Q4"]["new"], book["2025Q4"]["expansion"]) == (
        25000, 3000, 3000)
    assert (book["2026Q1"]["churned"], book["2026Q3"]["reactivated"]) == (5000, 6000)
    assert (book["2026Q2"]["new"], book["2026Q2"]["churned"]) == (1000, 1000)
    assert book["2026Q3"]["ending"] == 15000 + 3000 + 8000 + 6000


def test_from_before_any_subscription_replays_from_an_empty_book(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("TIERBOOK_STORE", str(tmp_path / "t.sqlite"))
    subs = table(tmp_path, "subs.csv", HEADER, SUBS)
    assert run("events", subs, "--from", "2024Q4", "--to", "2026Q3", "--out",
               str(tmp_path / "e.csv"), "--snapshot", str(tmp_path / "p.csv")).exit_code == 0
    assert (tmp_path / "p.csv").read_text() == "account_id,arr,seats_licensed\n"
    result = run("replay", str(tmp_path / "p.csv"), str(tmp_path / "e.csv"), "--as-of",
                 "2024-10-01", "--no-chart", "--format", "json", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    bridge = json.loads(result.stdout)["arr_bridge"]
    assert [r["new"] for r in bridge if r["tier"] == "all"][0] == 12000 + 8000


def test_the_commands_docs_events_shows_run(tmp_path: Path, monkeypatch) -> None:
    import re
    import shlex

    from .conftest import ROOT

    doc = (ROOT / "docs" / "events.md").read_text()
    section = doc[doc.index("## Events from subscription history"):]
    commands = re.search(r"```sh\n(.*?)```", section, re.S).group(1).splitlines()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIERBOOK_STORE", str(tmp_path / "t.sqlite"))
    table(tmp_path, "subscriptions.csv", HEADER, [
        "S1,A,pro,12000,10,2025-01-01,2027-01-01,active,false",
        "S2,A,pro,15000,12,2027-01-01,,active,false",
        "S3,B,pro,150000,10,2026-11-01,,active,false"])
    for line in commands:
        result = run(*shlex.split(line)[1:], *(["--no-chart"] if "replay" in line else []))
        assert result.exit_code == 0, (line, result.output)
    # the end of 2026Q4 is read on 2027-01-01: the renewal starting that day is 2026Q4's
    assert "2026Q4,A,renewal,arr,15000.00" in (tmp_path / "events.csv").read_text()


def test_a_subscription_starting_on_the_next_quarters_first_day_joins_in_this_quarter(
    tmp_path: Path,
) -> None:
    """The book at a quarter's end is the book on the next quarter's first day: an account
    whose first subscription (or the one it comes back with) starts that day joins in this
    quarter, as the snapshot of the next quarter has it, not a quarter late."""
    subs = table(tmp_path, "s.csv", HEADER, [
        "S1,A,pro,1000,5,2025-01-01,,active,false",
        "S2,N,pro,500,2,2027-01-01,,active,false",  # new, on 2026Q4's last boundary
        "S3,R,pro,900,3,2025-01-01,2026-11-15,cancelled,false",  # R churns in 2026Q4 ...
        "S4,R,pro,700,2,2027-04-01,,active,false",  # ... and is back on 2027Q2's first day
    ])
    assert derived(run("events", subs, "--from", "2026Q4", "--to", "2027Q1")) == [
        "2026Q4,N,new_account,arr,500.00",
        "2026Q4,N,signal,seats_licensed,2",
        "2026Q4,R,churn,,",
        "2027Q1,R,reactivation,arr,700.00",
        "2027Q1,R,signal,seats_licensed,2",
    ]
    snapshot = tmp_path / "snap.csv"
    assert run("events", subs, "--from", "2027Q1", "--snapshot", str(snapshot), "--out",
               str(tmp_path / "e.csv")).exit_code == 0
    assert snapshot.read_text().splitlines()[1:] == ["A,1000.00,5", "N,500.00,2"]
