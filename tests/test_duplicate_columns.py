"""A column read as an input that the file names twice is refused, naming both columns:
which of the two holds the values cannot be told, and reading either is a silent guess."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main

from .conftest import write_portfolio
from .sources.test_inputs_file import SUBS, _accounts

ARGS = ["--as-of", "2026-10-01"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _with_column(path: str, header: str, value: str) -> str:
    lines = Path(path).read_text().splitlines()
    Path(path).write_text(
        "\n".join([lines[0] + "," + header, *(row + "," + value for row in lines[1:])]) + "\n"
    )
    return path


def test_a_portfolio_naming_its_account_id_twice_is_refused(tmp_path: Path) -> None:
    path = _with_column(
        write_portfolio(tmp_path, {"A1": (5000.0, 0.5), "A2": (9000.0, 0.7)}), "account_id", "X"
    )
    result = run("segment", path, *ARGS, "--out", "o")
    assert result.exit_code == 1
    assert (
        f"{path}:1:8: account_id: columns 1 and 8 are both named 'account_id' "
        "(read as 'account_id'): rename or remove one"
    ) in result.output
    assert not Path("o").exists()


def test_two_columns_the_same_but_for_case_are_refused_too(tmp_path: Path) -> None:
    path = _with_column(write_portfolio(tmp_path, {"A1": (5000.0, 0.5)}), "ARR", "3")
    result = run("segment", path, *ARGS, "--out", "o")
    assert result.exit_code == 1
    assert "columns 2 and 8 are both named 'arr' / 'ARR' (read as 'arr')" in result.output


def test_a_column_no_input_reads_may_be_named_twice(tmp_path: Path) -> None:
    path = _with_column(write_portfolio(tmp_path, {"A1": (5000.0, 0.5)}), "notes", "a")
    path = _with_column(path, "notes", "b")
    result = run("segment", path, *ARGS, "--out", "o")
    # (two accounts fail the portfolio's quality gates, which is not the point here)
    assert "both named" not in result.output
    assert Path("o/accounts.csv").exists(), result.output


def test_a_table_naming_a_declared_column_twice_is_refused(tmp_path: Path) -> None:
    accounts = _accounts(tmp_path)
    (tmp_path / "in.yaml").write_text(SUBS.replace("OP", "sum"))
    (tmp_path / "subs.csv").write_text(
        "account,amount,since,amount\nA1,1000,2026-09-01,5\nA2,250000,2026-05-05,7\n"
    )
    result = run("segment", accounts, "--inputs", "in.yaml", *ARGS, "--out", "o")
    assert result.exit_code == 1
    assert (
        "subs.csv:1:4: amount: columns 2 and 4 are both named 'amount' (read as 'amount')"
    ) in result.output
