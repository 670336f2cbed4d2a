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
    assert err.value.render() == "p.parquet:2:3: arr: 'True' is a boolean, not a money"


@pytest.mark.parametrize("content", [b"PAR1", b"account_id,arr\nA1,5\n"])
def test_a_file_that_is_not_parquet_is_a_located_error(tmp_path: Path, default_ruleset,
                                                        content: bytes) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.parquet")
    assert err.value.render().startswith("p.parquet: cannot read Parquet (is it a Parquet file?): ")
