"""Parquet portfolios, read by polars, typed columns included; a file that is not Parquet
is a located error."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from tierbook.errors import DataError
from tierbook.portfolio.frame import read_portfolio

from .conftest import SAMPLE


def test_parquet_reads_like_csv(tmp_path: Path, default_ruleset, sample_accounts) -> None:
    with open(SAMPLE, newline="") as fh:
        rows = list(csv.DictReader(fh))[:200]
    frame = pl.DataFrame({k: [r[k] for r in rows] for k in rows[0]})
    frame = frame.with_columns(pl.Series("arr", [float(r["arr"]) for r in rows]))
    path = tmp_path / "p.parquet"
    frame.write_parquet(path)
    got = read_portfolio(str(path), default_ruleset).accounts
    assert got == sample_accounts[:200]


def test_a_boolean_column_for_a_money_input_names_the_cell(tmp_path: Path,
                                                            default_ruleset) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame({"account_id": ["A1"], "account_name": ["Acme"], "arr": [True]}).write_parquet(path)
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.parquet")
    assert err.value.render() == "p.parquet: row 1: arr: 'True' is a boolean, not a money"


def test_a_parquet_files_problems_name_rows_not_lines(tmp_path: Path, default_ruleset) -> None:
    """A Parquet file has no lines: the first data row is row 1, in messages and rejects."""
    path = tmp_path / "p.parquet"
    pl.DataFrame(
        {"account_id": ["A1", "A2", "A1", "A3"], "arr": ["5", "lots", "6", None]}
    ).write_parquet(path)
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.parquet")
    assert err.value.render() == (
        "p.parquet: row 2: arr: 'lots' is not a number\n"
        "p.parquet: row 3: account_id: duplicate account id 'A1' (first on row 1)\n"
        "p.parquet: row 4: arr: required value is blank"
    )
    assert [p.as_dict()["line"] for p in err.value.problems] == [2, 3, 4]
    skipped = read_portfolio(str(path), default_ruleset, on_error="skip", display="p.parquet")
    assert skipped.rows == [1] and [r["line"] for r in skipped.rejects] == [2, 3, 4]


@pytest.mark.parametrize("content", [b"PAR1", b"account_id,arr\nA1,5\n"])
def test_a_file_that_is_not_parquet_is_a_located_error(tmp_path: Path, default_ruleset,
                                                        content: bytes) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.parquet")
    assert err.value.render().startswith("p.parquet: cannot read Parquet (is it a Parquet file?): ")
