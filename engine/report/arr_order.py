"""The order reports list accounts in, largest ARR first: model.md's largest accounts and
the accounts behind each of its comments, report.html's embedded traces."""

from __future__ import annotations

import polars as pl


def descending(x: pl.Expr) -> pl.Expr:
    """A key that sorts ``x`` largest first: ``-x``, with both zeros alike (0.0 and -0.0
    are equal in Python's sort, where polars would put -0.0 first)."""
    return pl.when(x == 0).then(0.0).otherwise(-x)


def largest_first(frame: pl.DataFrame, arr_field: str, ids: pl.Series | pl.Expr) -> pl.DataFrame:
    """Each account's sort key, to be sorted by all three: ``k`` (its ARR descending, a
    blank one 0), ``id`` (its id as text), ``i`` (its place in the file)."""
    arr = pl.col(arr_field).cast(pl.Float64).fill_null(0.0)
    return frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("i"),
        descending(arr if arr_field in frame.columns else pl.lit(0.0)).alias("k"),
        id=ids,
    )
