"""`tierbook events` at the ends of the calendar: a CRM's 9999-12-31 "no end" date, and
--from/--to quarters whose range would run past the last date there is, are read or
refused with a usage error, never a Python traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.history.quarters import LAST, next_quarter, previous_start, quarter_of

HEADER = "subscription_id,account_id,arr_amount,seats,start_date,end_date,status,is_trial"


def _events(tmp_path: Path, rows: list[str], *args: str) -> tuple[int, str, str]:
    subs = tmp_path / "subs.csv"
    subs.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["events", str(subs), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_an_end_date_of_9999_12_31_is_open_ended(tmp_path: Path) -> None:
    rows = [
        "S1,A1,1000,5,2026-05-01,9999-12-31,active,false",
        "S2,A2,2000,5,2025-01-01,2027-01-01,active,false",
    ]
    code, out, _ = _events(tmp_path, rows, "--from", "2026Q1")
    assert code == 0
    lines = out.splitlines()
    # the default last quarter is the last one a real end date reaches, not year 9999
    assert lines[-1] == "2026Q4,A2,churn,,"
    assert not any(line.startswith("9999") for line in lines)
    assert any(line.startswith("2026Q2,A1,new_account,arr,1000") for line in lines)


@pytest.mark.parametrize(
    "option,quarter,says",
    [
        ("--from", "9999Q4", "the last quarter events can be derived for is 9999Q3"),
        ("--from", "0000Q1", "years run from 0001 to 9999"),
        ("--to", "9999Q4", "the last quarter events can be derived for is 9999Q3"),
    ],
)
def test_a_quarter_past_the_calendar_is_a_usage_error(
    tmp_path: Path, option: str, quarter: str, says: str
) -> None:
    rows = ["S1,A1,1000,5,2026-01-01,,active,false"]
    args = ["--from", "2026Q1", "--to", quarter] if option == "--to" else ["--from", quarter]
    code, _, err = _events(tmp_path, rows, *args)
    assert code == 2
    assert f"{option} '{quarter}' is out of range" in err and says in err


def test_the_first_quarter_has_no_quarter_before_it_for_tickets(tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,account_id,created_date,closed_date,priority,is_escalation\n")
    rows = ["S1,A1,1000,5,2026-01-01,,active,false"]
    code, _, err = _events(tmp_path, rows, "--from", "0001Q1", "--tickets", str(tickets))
    assert code == 2
    assert "there is no quarter before it" in err and "--tickets" in err


def test_quarters_at_the_ends_of_the_calendar() -> None:
    assert next_quarter(LAST) == "9999Q4"
    assert quarter_of(previous_start("0001Q2")) == "0001Q1"
    with pytest.raises(ValueError, match="no quarter after it"):
        next_quarter("9999Q4")
    with pytest.raises(ValueError, match="no quarter before it"):
        previous_start("0001Q1")


@pytest.mark.parametrize("quarter", ["9999Q4", "0000Q1"])
def test_an_event_quarter_past_the_calendar_is_an_error_at_its_line(
    tmp_path: Path, quarter: str
) -> None:
    portfolio = tmp_path / "portfolio.csv"
    portfolio.write_text("account_id,arr\nA1,1000\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text(
        f"quarter,account_id,type,field,value\n{quarter},A1,expansion,arr,100\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["replay", str(portfolio), str(events)])
    assert result.exit_code not in (0, 3), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert f"events.csv:2:1: quarter: quarter {quarter} is out of range" in result.stderr
