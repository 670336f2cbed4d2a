"""The declared aggregations of a table as one lazy polars query: one row per account id,
one column per aggregation.  Every filter, window and aggregation is an expression built
from the declaration (data, never code).

- A filter passes where it is true: a blank cell fails every filter but `exists: false`.
- Windows, relative to the as-of date: `{days: N, date: C}` keeps the N days ending on it
  (as-of - N < C <= as-of); `{active_from: S, active_until: E}` keeps the rows active on it
  (S <= as-of < E; a blank E is open-ended, a blank S never started).
- An account with no row kept: sum and count 0, any false; mean, min, max, latest and
  ratio unknown (blank).  Money is aggregated as each row has it and the account's
  amount then rounded to the cent, so rows with fractions of a cent add up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from ..portfolio.cells import parser
from ..ruleset.model import Input
from .model import Aggregation, Table, Where
from .tables import ROW

KEY = "\0account"


def _constant(table: Table, where: Where) -> Any:
    parse = parser(Input(where.column, table.columns[where.column]))
    if isinstance(where.value, tuple):
        return [parse(v) for v in where.value]
    return parse(str(where.value))


def _passes(table: Table, where: Where) -> pl.Expr:
    c = pl.col(where.column)
    if where.op == "exists":
        return c.is_not_null() if where.value else c.is_null()
    value: Any = _constant(table, where)
    expr: pl.Expr
    if where.op == "eq":
        expr = c == value
    elif where.op == "ne":
        expr = c != value
    elif where.op == "lt":
        expr = c < value
    elif where.op == "lte":
        expr = c <= value
    elif where.op == "gt":
        expr = c > value
    elif where.op == "gte":
        expr = c >= value
    elif where.op == "in":
        expr = c.is_in(value)
    else:
        expr = ~c.is_in(value)
    return expr.fill_null(False)


def _window(agg: Aggregation, as_of: dt.date) -> pl.Expr:
    w = agg.window
    if w.kind == "days":
        day = pl.col(w.date)
        if w.days > (as_of - dt.date.min).days:  # (a window longer than the calendar so far)
            return (day <= pl.lit(as_of)).fill_null(False)
        return (
            (day > pl.lit(as_of - dt.timedelta(days=w.days))) & (day <= pl.lit(as_of))
        ).fill_null(False)
    if w.kind == "active":
        started = (pl.col(w.start) <= pl.lit(as_of)).fill_null(False)
        if not w.end:
            return started
        end = pl.col(w.end)
        return started & (end.is_null() | (end > pl.lit(as_of)))
    return pl.col(ROW).is_not_null()  # (every row: a column, so a count counts the rows)


def _aggregate(table: Table, agg: Aggregation, as_of: dt.date) -> pl.Expr:
    keep = _window(agg, as_of)
    for where in agg.where:
        keep = keep & _passes(table, where)
    col = pl.col(agg.column) if agg.column else None
    kind = table.columns.get(agg.column, "")
    if agg.op == "count":
        expr = (keep & col.is_not_null()).sum() if col is not None else keep.sum()
        expr = expr.cast(pl.Int64)
    elif agg.op == "any":
        expr = (keep & col).any() if col is not None else keep.any()
    elif agg.op == "ratio":
        num = pl.col(agg.column).filter(keep).sum()
        den = pl.col(agg.over).filter(keep).sum()
        expr = pl.when(den != 0).then(num.cast(pl.Float64) / den)
    elif agg.op == "latest":
        rows = pl.struct(agg.column, agg.by, ROW).filter(keep & pl.col(agg.by).is_not_null())
        last = rows.sort_by(rows.struct.field(agg.by), rows.struct.field(ROW)).last()
        expr = last.struct.field(agg.column)
    else:
        assert col is not None  # (checked when the file was loaded)
        kept = col.filter(keep)
        expr = {"sum": kept.sum, "mean": kept.mean, "min": kept.min, "max": kept.max}[agg.op]()
    if kind == "money" and agg.op in ("sum", "mean", "min", "max", "latest"):
        expr = expr.round(2)  # (the rows' amounts as written, the account's to the cent)
    return expr.alias(agg.into)


def empty_value(agg: Aggregation) -> object:
    """What an account with no row kept gets (None: unknown)."""
    return {"sum": 0, "count": 0, "any": False}.get(agg.op)


def roll_up(table: Table, frame: pl.DataFrame, ids: pl.Series, as_of: dt.date) -> pl.DataFrame:
    """One row per id of ``ids`` (in their order), one column per aggregation."""
    base = frame.lazy()
    for where in table.where:
        base = base.filter(_passes(table, where))
    grouped = base.group_by(table.key).agg(
        [_aggregate(table, agg, as_of) for agg in table.aggregations]
    )
    accounts = pl.LazyFrame({KEY: ids.cast(pl.String)}).with_row_index(ROW)
    joined = accounts.join(grouped, left_on=KEY, right_on=table.key, how="left", coalesce=True)
    fills = [
        pl.col(agg.into).fill_null(empty_value(agg))
        for agg in table.aggregations
        if empty_value(agg) is not None
    ]
    if fills:
        joined = joined.with_columns(fills)
    return joined.sort(ROW).collect().drop(KEY, ROW)
