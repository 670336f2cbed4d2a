"""Aggregations of declared tables, checked by hand on a small table: window edges,
filters, empty groups, ties, and errors located in the table's file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tierbook.errors import DataError, RulesetError
from tierbook.sources.load import load_declaration
from tierbook.sources.rollup import roll_up
from tierbook.sources.tables import read_declared

AS_OF = dt.date(2026, 10, 1)

DECLARATION = """\
kind: inputs
tables:
  subs:
    file: subs.csv
    key: account_id
    columns: {account_id: string, amount: money, seats: integer, start: date, end: date,
              status: string, trial: boolean}
    where:
      - {column: status, eq: active}
      - {column: trial, eq: false}
    aggregate:
      - {into: arr, op: sum, column: amount, window: {active_from: start, active_until: end}}
      - {into: seats_total, op: sum, column: seats}
      - {into: subs, op: count}
      - {into: biggest, op: max, column: amount}
      - {into: first_start, op: min, column: start}
  tickets:
    file: tickets.csv
    key: account_id
    columns: {account_id: string, opened: date, csat: number, escalated: boolean,
              priority: string}
    aggregate:
      - {into: tickets_90d, op: count, window: {days: 90, date: opened}}
      - {into: csat_90d, op: mean, column: csat, window: {days: 90, date: opened}}
      - {into: escalated_90d, op: any, column: escalated, window: {days: 90, date: opened}}
      - {into: last_priority, op: latest, column: priority, by: opened}
      - into: urgent
        op: count
        where: [{column: priority, in: [urgent, high]}]
  usage:
    file: usage.csv
    key: account_id
    columns: {account_id: string, day: date, dau: integer, mau: integer}
    aggregate:
      - {into: dau_mau, op: ratio, column: dau, over: mau, window: {days: 30, date: day}}
"""

SUBS = """\
account_id,amount,seats,start,end,status,trial
A,100.10,1,2026-10-01,,active,false
A,200.20,2,2025-01-01,2026-10-02,active,false
A,999.00,3,2025-01-01,2026-10-01,active,false
A,500.00,4,2026-10-02,,active,false
A,70.00,5,2025-01-01,,trial,true
A,80.00,6,2025-01-01,,active,true
B,10.00,1,2024-01-01,2025-01-01,cancelled,false
"""

TICKETS = """\
account_id,opened,csat,escalated,priority
A,2026-10-01,4,false,low
A,2026-07-04,2,true,high
A,2026-07-04,,false,urgent
A,2026-07-03,1,true,medium
A,2026-10-02,5,true,low
B,2025-01-01,3,false,urgent
B,2025-01-01,,false,low
"""

USAGE = """\
account_id,day,dau,mau
A,2026-10-01,10,40
A,2026-09-02,30,40
A,2026-09-01,1000,1000
B,2026-01-01,5,10
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "in.yaml").write_text(DECLARATION)
    (tmp_path / "subs.csv").write_text(SUBS)
    (tmp_path / "tickets.csv").write_text(TICKETS)
    (tmp_path / "usage.csv").write_text(USAGE)
    return tmp_path


def rolled(folder: Path, name: str) -> dict[str, dict[str, object]]:
    declaration = load_declaration(str(folder / "in.yaml"))
    table = declaration.table(name)
    assert table is not None
    data = read_declared(table, str(folder / table.file), table.file)
    out = roll_up(table, data.frame, pl.Series(["A", "B", "C"]), AS_OF)
    return {k: dict(zip(["A", "B", "C"], v)) for k, v in out.to_dict(as_series=False).items()}


def test_sums_counts_min_max_over_filters_and_the_active_window(folder: Path) -> None:
    got = rolled(folder, "subs")
    # active on 2026-10-01: starts that day (100.10), ends the day after (200.20); not the
    # one ending that day (999), not the one starting the day after (500); never a trial
    assert got["arr"] == {"A": 300.30, "B": 0.0, "C": 0.0}
    # no window: every active paid row, the four of A
    assert got["seats_total"] == {"A": 10, "B": 0, "C": 0}
    assert got["subs"] == {"A": 4, "B": 0, "C": 0}
    assert got["biggest"] == {"A": 999.0, "B": None, "C": None}
    assert got["first_start"] == {"A": dt.date(2025, 1, 1), "B": None, "C": None}


def test_day_windows_mean_any_latest_and_per_aggregation_filters(folder: Path) -> None:
    got = rolled(folder, "tickets")
    # the 90 days ending on 2026-10-01 are 2026-07-04 to 2026-10-01: 07-03 and 10-02 out
    assert got["tickets_90d"] == {"A": 3, "B": 0, "C": 0}
    assert got["csat_90d"] == {"A": 3.0, "B": None, "C": None}  # (4 + 2) / 2, blank unrated
    assert got["escalated_90d"] == {"A": True, "B": False, "C": False}
    # the latest by date (no window: 2026-10-02 counts); two on one day: the later row
    assert got["last_priority"] == {"A": "low", "B": "low", "C": None}
    assert got["urgent"] == {"A": 2, "B": 1, "C": 0}


def test_ratio_of_sums_in_a_thirty_day_window(folder: Path) -> None:
    got = rolled(folder, "usage")
    # 2026-09-01 is 30 days back: outside; (10 + 30) / (40 + 40)
    assert got["dau_mau"] == {"A": 0.5, "B": None, "C": None}


def test_a_bad_cell_is_named_by_file_line_and_column(folder: Path) -> None:
    (folder / "subs.csv").write_text(SUBS.replace("200.20", "lots"))
    with pytest.raises(DataError) as err:
        rolled(folder, "subs")
    assert [str(p) for p in err.value.problems] == [
        "subs.csv:3:2: amount: 'lots' is not a number"
    ]


def test_a_missing_column_names_the_columns_that_look_like_it(folder: Path) -> None:
    (folder / "subs.csv").write_text(SUBS.replace("amount,", "amount_usd,", 1))
    with pytest.raises(DataError) as err:
        rolled(folder, "subs")
    assert [str(p) for p in err.value.problems] == [
        "subs.csv:1:1: amount: table subs has no column 'amount'; the file has 'amount_usd'"
    ]


def test_the_declaration_is_checked_with_positions(folder: Path) -> None:
    (folder / "in.yaml").write_text(DECLARATION.replace("column: csat,", "column: cast,"))
    with pytest.raises(RulesetError) as err:
        load_declaration(str(folder / "in.yaml"))
    assert [str(p) for p in err.value.problems] == [
        f"{folder / 'in.yaml'}:24:44: $.tables.tickets.aggregate[1].column: column 'cast' is "
        "not declared in table tickets's columns (did you mean 'csat'?)"
    ]


def test_a_day_window_longer_than_the_calendar_so_far_keeps_every_earlier_row(
    folder: Path,
) -> None:
    """window: {days: 99999999} once overflowed the date arithmetic (an internal error)."""
    text = (folder / "in.yaml").read_text().replace("days: 90,", "days: 99999999,")
    (folder / "in.yaml").write_text(text)
    got = rolled(folder, "tickets")
    # every ticket opened on or before the day of the run: 2026-10-02 is still out
    assert got["tickets_90d"] == {"A": 4, "B": 2, "C": 0}


def test_money_with_fractions_of_a_cent_is_summed_as_written_then_rounded(
    folder: Path,
) -> None:
    """Three rows of 33.333 are 99.999, $100.00 to the cent; rounded row by row they were
    $99.99. A max of money is to the cent as well."""
    rows = "".join(f"C,33.333,1,2025-01-01,,active,false\n" for _ in range(3))
    (folder / "subs.csv").write_text(SUBS + rows + "B,0.004,1,2025-01-01,,active,false\n")
    got = rolled(folder, "subs")
    assert got["arr"] == {"A": 300.30, "B": 0.0, "C": 100.0}
    assert got["biggest"] == {"A": 999.0, "B": 0.0, "C": 33.33}
