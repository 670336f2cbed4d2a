"""A whole column of cells cast to an input's type by polars: where a cell's text is in its
type's plain form (``79036.70``, ``85%``, ``yes``, ``2026-10-01``) polars casts it; every
other distinct text goes through the type's scalar parser (``cells``), which gives its
value or its message, so the two cannot disagree on a value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from ..ruleset.model import Input
from .cells import BOOLEAN_TEXTS, WHITESPACE, BadValue, parser


def dtype_of(inp: Input) -> pl.DataType:
    """The frame's type of an input's column."""
    return {
        "money": pl.Float64(),
        "number": pl.Float64(),
        "ratio": pl.Float64(),
        "integer": pl.Int64(),
        "boolean": pl.Boolean(),
        "date": pl.Date(),
    }.get(inp.type, pl.String())


_DECIMAL = r"^[+-]?\d+(\.\d+)?$"
# The largest amount a money cell may hold.  A double tells cents apart only below 2**46
# (7.0e13): under 9e12 each amount is exact to the cent (its spacing is at most 1/256) and
# a total of several still is; a larger ARR is an export error, and 1e308 sums to inf.
MAX_AMOUNT = 9e12


def _plain(inp: Input, s: pl.Expr, cents: bool) -> pl.Expr:
    """``inp``'s values where the stripped text ``s`` is in its type's plain form, else
    null (those cells go to the scalar parser)."""
    t = inp.type
    if t == "money":  # (at most two decimals: rounding to cents changes nothing; a value
        # beyond MAX_AMOUNT is left to ``cast``, which refuses it)
        places = r"\d{1,2}" if cents else r"\d+"
        value = pl.when(s.str.contains(rf"^[+-]?\d+(\.{places})?$")).then(
            s.cast(pl.Float64, strict=False)
        )
        return pl.when(value.abs() <= MAX_AMOUNT).then(value)
    if t == "number":
        return pl.when(s.str.contains(_DECIMAL)).then(s.cast(pl.Float64, strict=False))
    if t == "integer":
        return pl.when(s.str.contains(r"^[+-]?\d{1,18}$")).then(s.cast(pl.Int64, strict=False))
    if t == "ratio":
        value = pl.when(s.str.contains(_DECIMAL)).then(s.cast(pl.Float64, strict=False))
        percent = pl.when(s.str.contains(r"^[+-]?\d+(\.\d+)?%$")).then(
            s.str.strip_suffix("%").cast(pl.Float64, strict=False) / 100
        )
        # either in 0..1: any other (1.5, 150%) goes to the scalar parser, which refuses it
        plain = pl.when((value >= 0) & (value <= 1)).then(value)
        return plain.otherwise(pl.when((percent >= 0) & (percent <= 1)).then(percent))
    if t == "boolean":
        return s.str.to_lowercase().replace_strict(
            BOOLEAN_TEXTS, default=None, return_dtype=pl.Boolean
        )
    if t == "date":
        return pl.when(s.str.contains(r"^\d{4}-\d{2}-\d{2}")).then(
            s.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        )
    if t == "enum":
        return pl.lit(None, pl.String)
    return s


@dataclass
class Cast:
    """A column cast: values (null where blank or bad), which cells are blank, and each bad
    cell's message (by row)."""

    values: pl.Series
    blank: pl.Series
    bad: dict[int, tuple[str, str]]  # row -> (message, code)


def cast(inp: Input, texts: pl.Series, shown: pl.Series | None = None, cents: bool = True) -> Cast:
    """``texts`` (one text per account, null where a record has none) as ``inp``'s values.
    ``shown``: the text a message quotes, where it is not the cell's (a JSON value);
    ``cents``: money rounded to the cent, else as written (``cells.parser``)."""
    frame = pl.DataFrame({"raw": texts}).with_columns(s=pl.col("raw").str.strip_chars(WHITESPACE))
    frame = frame.with_columns(blank=pl.col("s").is_null() | (pl.col("s") == ""))
    frame = frame.with_columns(fast=pl.when(~pl.col("blank")).then(_plain(inp, pl.col("s"), cents)))
    todo = (
        frame.filter(~pl.col("blank") & pl.col("fast").is_null())["raw"]
        .unique(maintain_order=True)
        .to_list()
    )
    parse = parser(inp, cents)
    found: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for raw in todo:
        try:
            found[raw] = parse(raw)
        except BadValue as exc:
            failed[raw] = str(exc)
    dtype = dtype_of(inp)
    if inp.type == "integer":  # (beyond 64 bits: not a count anyone exports)
        for raw in [r for r, v in found.items() if not -(2**63) <= v < 2**63]:
            del found[raw]
            failed[raw] = "is too large a whole number"
    if inp.type == "money":  # (the plain form's cells beyond it came here too)
        for raw in [r for r, v in found.items() if abs(v) > MAX_AMOUNT]:
            del found[raw]
            failed[raw] = f"is too large an amount (at most {MAX_AMOUNT:,.0f})"
    values = frame["fast"]
    if found:
        slow = frame["raw"].replace_strict(found, default=None, return_dtype=dtype)
        values = pl.select(pl.coalesce(values.cast(dtype), slow)).to_series()
    values = values.cast(dtype).alias(inp.id)
    bad: dict[int, tuple[str, str]] = {}
    if failed:
        rows = frame.with_row_index("i").filter(pl.col("raw").is_in(list(failed)))
        for i, raw in zip(rows["i"].to_list(), rows["raw"].to_list()):
            quoted = shown[i] if shown is not None else raw
            bad[i] = (f"{str(quoted)!r} {failed[raw]}", "bad-value")
    if inp.min is not None or inp.max is not None:
        out = pl.lit(False)
        if inp.min is not None:
            out = out | (pl.col("v") < inp.min)
        if inp.max is not None:
            out = out | (pl.col("v") > inp.max)
        rows = (
            pl.DataFrame({"v": values, "raw": frame["raw"]})
            .with_row_index("i")
            .filter(out.fill_null(False))
        )
        bounds = (
            f"{inp.min if inp.min is not None else '-inf'}.."
            f"{inp.max if inp.max is not None else 'inf'}"
        )
        for i, raw in zip(rows["i"].to_list(), rows["raw"].to_list()):
            quoted = shown[i] if shown is not None else raw
            bad[i] = (f"{str(quoted)!r} is outside {bounds}", "out-of-range")
    return Cast(values, frame["blank"], bad)
