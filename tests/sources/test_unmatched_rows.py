"""A table's rows whose account id is no account's: a $5M subscription for an unknown id
and one keyed in the wrong case roll up into nothing, and the run says so on stderr, in
model.md and in the JSON, naming the account a case-only mismatch looks like."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tierbook.cli.main import main

from ..conftest import write_portfolio

INPUTS = """\
kind: inputs
tables:
  subs:
    file: subs.csv
    key: account
    columns: {account: string, amount: money}
    aggregate:
      - {into: arr, op: sum, column: amount}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_rows_no_account_has_are_counted_and_a_case_mismatch_is_named(tmp_path: Path) -> None:
    accounts = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    (tmp_path / "in.yaml").write_text(INPUTS)
    (tmp_path / "subs.csv").write_text(
        "account,amount\nA1,1000\nZ9,5000000\na2,250000\nA1 ,500\nZ9,1\n"
    )
    result = run(
        "segment", accounts, "--inputs", "in.yaml", "--as-of", "2026-10-01", "--out", "o",
        "--format", "json",
    )
    notes = [line for line in result.stderr.splitlines() if "table subs" in line]
    assert notes == [
        "note: table subs (subs.csv): 3 of 5 rows match no account and roll up into nothing "
        "(2 account id(s): Z9, a2)",
        "note: table subs: 'a2' differs from account 'A2' only in letter case "
        "(ids match exactly)",
    ]
    unmatched = {
        "subs": {
            "file": "subs.csv",
            "rows": 3,
            "table_rows": 5,
            "ids": 2,
            "examples": ["Z9", "a2"],
            "case_ids": 1,
            "case": {"a2": "A2"},
        }
    }
    assert json.loads(result.stdout)["inputs"]["unmatched"] == unmatched
    assert json.loads((tmp_path / "o" / "report.json").read_text())["inputs"]["unmatched"] == (
        unmatched
    )
    # matching stays exact: A2 gets none of the a2 row, A1 its rows with and without a blank
    arr = {a["account_id"]: a["arr"] for a in json.loads(result.stdout)["accounts"]}
    assert arr == {"A1": 1500.0, "A2": 0.0}
    model = (tmp_path / "o" / "model.md").read_text()
    assert (
        "Table rows that match no account, so roll up into nothing (ids match exactly, "
        "letter case included):\n\n"
        "- subs (`subs.csv`): 3 of 5 rows, 2 account id(s): `Z9`, `a2`. "
        "`a2` differs from account `A2` only in letter case.\n"
    ) in model


def test_a_table_every_row_of_which_has_its_account_says_nothing(tmp_path: Path) -> None:
    accounts = write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (200000.0, 0.7)})
    (tmp_path / "in.yaml").write_text(INPUTS)
    (tmp_path / "subs.csv").write_text("account,amount\nA1,1000\nA2,250000\n")
    result = run(
        "segment", accounts, "--inputs", "in.yaml", "--as-of", "2026-10-01", "--out", "o",
        "--format", "json",
    )
    assert "match no account" not in result.stderr
    assert "unmatched" not in json.loads(result.stdout)["inputs"]
    assert "match no account" not in (tmp_path / "o" / "model.md").read_text()
