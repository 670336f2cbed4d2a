"""Parquet portfolios (the optional `parquet` extra), and a clear message without it."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from tierbook.errors import DataError
from tierbook.read import read_portfolio


def test_parquet_reads_like_csv(tmp_path: Path, default_ruleset, sample_accounts) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from tierbook.read import read_portfolio as read
    from .conftest import SAMPLE
    import csv
    with open(SAMPLE, newline="") as fh:
        rows = list(csv.DictReader(fh))[:200]
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    table = table.set_column(table.schema.get_field_index("arr"), "arr",
                             pa.array([float(r["arr"]) for r in rows]))
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    got = read(str(path), default_ruleset).accounts
    assert got == sample_accounts[:200]


def test_parquet_without_pyarrow_says_how_to_get_it(tmp_path: Path, default_ruleset,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.parquet")
    assert err.value.render() == ("p.parquet: reading Parquet needs the optional extra: "
                                  "pip install 'tierbook[parquet]'")
