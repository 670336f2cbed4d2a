"""The comparisons of ``conditions.compare`` over a whole column of the frame, as polars
expressions where null means unknown (polars' Kleene logic is the conditions' own)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .conditions import NUMERIC_OPS, compare

_NUMERIC_DTYPES = (
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
    pl.Float32,
    pl.Float64,
)


def _number(arg: Any) -> bool:
    return isinstance(arg, (int, float)) and not isinstance(arg, bool) and arg == arg


def _unknown_or(column: pl.Expr, truth: bool) -> pl.Expr:
    """``truth`` for every known value, unknown (null) for a blank."""
    return pl.when(column.is_null()).then(pl.lit(None, pl.Boolean)).otherwise(pl.lit(truth))


def comparison(column: pl.Expr, dtype: pl.DataType, op: str, arg: Any) -> pl.Expr | None:
    """``compare(op, value, arg)`` of every value of a column of ``dtype``, as a Boolean
    expression (null: unknown); None where the column's type and the constant are a
    combination this does not write as an expression (``compare`` then decides each
    distinct value: ``truth_column``)."""
    if op == "exists":
        return column.is_not_null() if arg else column.is_null()
    numeric = isinstance(dtype, _NUMERIC_DTYPES)
    if op in NUMERIC_OPS:
        args = arg if op == "between" else [arg]
        if not (isinstance(args, (list, tuple)) and all(map(_number, args))):
            return None
        if not numeric:  # a number compared with text, a yes/no or a date is never true
            return _unknown_or(column, False) if dtype != pl.Null else pl.lit(None, pl.Boolean)
        ordered: pl.Expr
        if op == "lt":
            ordered = column < arg
        elif op == "lte":
            ordered = column <= arg
        elif op == "gt":
            ordered = column > arg
        elif op == "gte":
            ordered = column >= arg
        else:
            ordered = (column >= args[0]) & (column <= args[1])
        return ordered
    members = arg if op in ("in", "not_in") else [arg]
    if not isinstance(members, (list, tuple)):
        return None
    negate = op in ("ne", "not_in")
    typed = (
        (dtype == pl.String and all(isinstance(a, str) for a in members))
        or (numeric and all(map(_number, members)))
        or (dtype == pl.Boolean and all(isinstance(a, bool) for a in members))
    )
    if not typed:
        return None
    if not members:  # (in [] is false of every known value)
        found = _unknown_or(column, False)
    elif len(members) == 1:
        found = column == members[0]
    else:
        found = column.is_in([float(a) for a in members] if numeric else list(members))
    return ~found if negate else found


def truth(frame: pl.DataFrame, name: str, op: str, arg: Any) -> pl.Expr:
    """``compare(op, value, arg)`` of every value of ``frame[name]`` as a Boolean expression
    over the frame (null: unknown): ``comparison`` where one is written, else ``compare``
    once per distinct value, the result given as a column."""
    if name not in frame.columns:
        return pl.lit(compare(op, None, arg), pl.Boolean)
    series = frame[name]
    dtype = series.dtype
    floats = isinstance(dtype, (pl.Float32, pl.Float64))
    expr = None if floats and series.is_nan().any() else comparison(pl.col(name), dtype, op, arg)
    if expr is not None:
        return expr
    distinct = series.unique(maintain_order=True).to_list()
    truths = [compare(op, v, arg) for v in distinct]
    keyed = pl.DataFrame(
        {"value": pl.Series(distinct, dtype=dtype), "truth": pl.Series(truths, dtype=pl.Boolean)}
    )
    column = (
        frame.select(pl.col(name).alias("value"))
        .join(keyed, on="value", how="left", nulls_equal=True, maintain_order="left")
        .get_column("truth")
    )
    return pl.lit(column)
