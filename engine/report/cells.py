"""A column's cells as accounts.csv and accounts.jsonl write them, a whole column at a time.

The rules are those of one value at a time (``csv_value``, ``json_value``): in CSV a list
joined with ';', ARR to the cent, other numbers to four places without trailing zeros, a
whole number or yes/no as it is, a blank empty, text a spreadsheet would run neutralised
with a leading ``'``, and a cell quoted as Python's csv writer quotes it; in JSON each value
as ``json.dumps(value, ensure_ascii=False)`` writes it.  A polars column of a plain type
(text, number, yes/no, a list of text) is turned into its cells by polars expressions; any
other column (a Python list, as overrides give) one value at a time, by the same rules.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = "^[=+\\-@\t\r]"
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(v, ensure_ascii=False)
# what json writes for each character it escapes in a text (ensure_ascii=False)
_ESCAPED = ["\\", '"', *map(chr, range(32))]
_ESCAPES = [_encode(c)[1:-1] for c in _ESCAPED]


def _csv_quoted_by() -> str:
    """A pattern of the characters that make this Python's csv writer quote a cell (Python
    3.13 quotes a carriage return where 3.11 does not, with lines ending in a line feed)."""
    found = []
    for c in [",", '"', "\n", "\r", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", " "]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([f"a{c}b", "x"])
        if buf.getvalue().startswith('"'):
            found.append(c)
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in found) + "]"


_QUOTED_BY = _csv_quoted_by()


def plain_column(series: pl.Series) -> bool:
    """A column of a type polars turns into cells (text, numbers, yes/no, lists of text)."""
    dtype = series.dtype
    if isinstance(dtype, pl.List):
        return dtype.inner == pl.String
    return (
        (dtype.is_numeric() and not dtype.is_decimal())
        or dtype in (pl.String, pl.Boolean, pl.Null, pl.Categorical)
        or isinstance(dtype, pl.Enum)
    )


def _whole(x: pl.Expr) -> pl.Expr:
    """A whole float below 2**53: a Python int where it is read as ``number``."""
    return x.is_finite() & (x == x.floor()) & (x.abs() < 2.0**53)


def _fixed(values: pl.Series, places: int) -> pl.Series:
    """Each float to ``places`` places, correctly rounded (half to even on the exact binary
    value), as Python's ``f"{v:.{places}f}"`` writes it: polars' CSV writer formats floats
    so; a blank stays blank."""
    if values.len() == 0:
        return pl.Series(values.name, [], dtype=pl.String)
    text = pl.DataFrame({"v": values.fill_null(0.0)}).write_csv(
        None, include_header=False, float_precision=places
    )
    cells = pl.Series("v", [text]).str.strip_suffix("\n").str.split("\n").explode()
    return (
        pl.DataFrame({"t": cells, "v": values})
        .select(
            pl.when(pl.col("v").is_null())
            .then(None)
            .when(pl.col("v").is_nan())
            .then(pl.lit("nan"))
            .otherwise(pl.col("t"))
        )
        .to_series()
    )


def rounded(values: pl.Series, places: int) -> pl.Series:
    """Each value as Python's ``round(float(v), places)`` gives it (a blank stays blank):
    the float nearest the text ``_fixed`` writes, as Python's round is the float nearest
    its correctly rounded decimal.  (polars' own ``round`` scales by ``10**places`` first,
    and so rounds 2.675 to 2.68 where Python gives 2.67.)"""
    return _fixed(values.cast(pl.Float64), places).cast(pl.Float64)


def _neutralised(x: pl.Expr) -> pl.Expr:
    return pl.when(x.str.contains(_FORMULA)).then(pl.lit("'") + x).otherwise(x)


def _quoted(x: pl.Expr) -> pl.Expr:
    return (
        pl.when(x.str.contains(_QUOTED_BY))
        .then(pl.lit('"') + x.str.replace_all('"', '""', literal=True) + pl.lit('"'))
        .otherwise(x)
    )


def csv_cells(column: pl.Series | Sequence[Any], money: bool, whole: bool) -> pl.Series:
    """The column's CSV cells, quoted where the csv writer quotes them.  ``money``: to the
    cent; ``whole``: whole floats written as integers (inputs read as ``number``)."""
    if not isinstance(column, pl.Series) or not plain_column(column):
        values = column.to_list() if isinstance(column, pl.Series) else column
        cells = [c if isinstance(c, str) else str(c) for c in _csv_cells(values, money)]
        series = pl.Series("c", cells, dtype=pl.String)
        return series.to_frame().select(_quoted(pl.col("c"))).to_series()
    dtype = column.dtype
    x = pl.col("c")
    if dtype.is_float():
        fixed = _fixed(column, 2 if money else 4)
        if not money:
            fixed = fixed.str.strip_chars_end("0").str.strip_chars_end(".")
        frame = pl.DataFrame({"c": column, "t": fixed})
        text = _neutralised(pl.col("t"))
        if whole:
            text = pl.when(_whole(x)).then(x.cast(pl.Int64).cast(pl.String)).otherwise(text)
        return frame.select(text.fill_null("")).to_series()
    frame = column.rename("c").to_frame()
    if dtype.is_numeric():
        expr = x.cast(pl.String)
    elif dtype == pl.Boolean:
        expr = pl.when(x).then(pl.lit("True")).when(~x).then(pl.lit("False"))
    elif dtype == pl.Null:
        expr = pl.lit(None, dtype=pl.String)
    else:
        text = x.list.join(";") if isinstance(dtype, pl.List) else x.cast(pl.String)
        expr = _quoted(_neutralised(text))
    return frame.select(expr.fill_null("")).to_series()


def _escaped(x: pl.Expr) -> pl.Expr:
    return pl.lit('"') + x.str.replace_many(_ESCAPED, _ESCAPES) + pl.lit('"')


def json_cells(column: pl.Series | Sequence[Any], whole: bool, finite: bool = False) -> pl.Series:
    """The column's values as JSON text (``json.dumps(v, ensure_ascii=False)``).
    ``whole``: whole floats written as integers (inputs read as ``number``); ``finite``:
    NaN and infinities null (report.html's data, which must be strict JSON)."""
    if not isinstance(column, pl.Series) or not plain_column(column):
        values = column.to_list() if isinstance(column, pl.Series) else column
        return pl.Series("c", _json_cells(values), dtype=pl.String)
    dtype = column.dtype
    x = pl.col("c")
    frame = column.rename("c").to_frame()
    if dtype.is_float():
        # polars writes a float as Python's repr does from 1e-4 up to 1e16; outside that
        # range (an exponent) each distinct value is written by Python
        plain = (x.abs() >= 1e-4) & (x.abs() < 1e16) | (x == 0)
        odd = column.filter(column.is_finite() & ~frame.select(plain).to_series())
        expr = x.cast(pl.String)
        if odd.len():
            found = odd.unique()
            expr = (
                pl.when(plain | ~x.is_finite())
                .then(expr)
                .otherwise(
                    x.replace_strict(found, [float.__repr__(v) for v in found], default=None)
                )
            )
        expr = (
            pl.when(~x.is_finite() if finite else pl.lit(False))
            .then(pl.lit("null"))
            .when(x.is_nan())
            .then(pl.lit("NaN"))
            .when(x == float("inf"))
            .then(pl.lit("Infinity"))
            .when(x == float("-inf"))
            .then(pl.lit("-Infinity"))
            .otherwise(expr)
        )
        if whole:
            expr = pl.when(_whole(x)).then(x.cast(pl.Int64).cast(pl.String)).otherwise(expr)
    elif dtype.is_numeric():
        expr = x.cast(pl.String)
    elif dtype == pl.Boolean:
        expr = pl.when(x).then(pl.lit("true")).when(~x).then(pl.lit("false"))
    elif dtype == pl.Null:
        expr = pl.lit(None, dtype=pl.String)
    elif isinstance(dtype, pl.List):
        inner = _escaped(pl.element())
        expr = pl.lit("[") + x.list.eval(inner).list.join(", ") + pl.lit("]")
    else:
        expr = _escaped(x.cast(pl.String))
    return frame.select(expr.fill_null("null")).to_series()


# -- one value at a time (a Python column, a path's decided values) ----------------------


def csv_value(v: Any, money: bool) -> Any:
    """A cell as csv writes it: text, or a whole number or yes/no as it is."""
    if isinstance(v, list):
        return ";".join(v)
    if isinstance(v, float):
        return csv_number(v, money)
    return "" if v is None else v


def csv_number(v: float | None, money: bool) -> str:
    if v is None:
        return ""
    return f"{v:.2f}" if money else f"{v:.4f}".rstrip("0").rstrip(".")


def _csv_cells(column: Sequence[Any], money: bool) -> list[Any]:
    cells = [csv_value(v, money) for v in column]
    return [("'" + c) if isinstance(c, str) and c.startswith(FORMULA_START) else c for c in cells]


def _json_cells(column: Sequence[Any]) -> list[str]:
    """Each value as json.dumps(ensure_ascii=False) writes it."""
    return list(map(_encode, column))


def csv_quote(cell: Any) -> str:
    """One cell (``csv_value``'s, neutralised) as the csv writer writes it in a row."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([cell, "x"])
    return buf.getvalue()[: -len(",x\n")]


def decided_csv(name: str, column: Sequence[Any]) -> list[str]:
    """What each path decided, as CSV cells (neutralised and quoted)."""
    return [csv_quote(c) for c in _csv_cells(column, name == "arr")]


def decided_json(column: Sequence[Any]) -> list[str]:
    return _json_cells(column)


def json_value(v: Any) -> str:
    return _encode(v)
