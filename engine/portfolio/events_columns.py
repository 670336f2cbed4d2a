"""An events file's rows as columns, and the checks the events reader (``events``) makes of
a whole column at a time: which rows are plainly good, and each good row's ARR amount or
CSM headcount.  A row these checks cannot pass is checked again by the reader's per-row
code, the one source of what an event means and of every message.

A CSV file is split as Python's ``csv.reader`` splits it, and each record is named by its
last physical line (``csv.reader``'s ``line_num``: a quoted cell may span lines).  A line
with no quote, no carriage return before its end, no NUL and no more characters than the
csv module's field limit is one record of the cells between its commas, so polars splits
every such line; each record that begins on any other line is read by ``csv.reader``
itself, which also says how many lines it spans.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import isfinite
from typing import Any

import polars as pl

from .cells import WHITESPACE, parse_integer, parse_money
from .event_types import ACCOUNT_TYPES, TYPES

KEYS = ("quarter", "account_id", "type", "field")  # (the texts the checks strip)
ARR_TYPES = ("renewal", "expansion", "contraction", "reactivation")
POSITIVE_TYPES = ("expansion", "contraction")  # (an ARR change; the others set the ARR)
# the texts polars reads as the scalar readers would: at most 13 digits before the point
# (below 2**46, so a value with two decimals is the double that rounding to cents gives)
# and 15 digits of a whole number (exact in the double parse_integer reads it through)
PLAIN_AMOUNT = r"^[+-]?[0-9]{1,13}(\.[0-9]{1,2})?$"
PLAIN_COUNT = r"^[+-]?[0-9]{1,15}$"
PLAIN_QUARTER = r"^[0-9]{4}Q[1-4]$"
PLAIN_LINE = '^[^"\r\x00]*\r*$'


def arr_amount(cell: Any) -> float:
    """An ARR cell's amount: a JSON number as it is, any other cell by the portfolio's money
    reader ("$1,200.50", "12.5k"); ValueError where it is not a finite amount (a decimal
    comma, NaN or infinity is an error, not a misread amount)."""
    try:
        amount = (
            float(cell)
            if isinstance(cell, (int, float)) and not isinstance(cell, bool)
            else parse_money(str(cell))
        )
    except OverflowError:  # a JSON whole number beyond any double
        raise ValueError("too large") from None
    if not isfinite(amount):
        raise ValueError
    return amount


def headcount(cell: Any) -> int:
    """A capacity_change cell's number of CSMs (ValueError where it is no whole number)."""
    return parse_integer(str(cell))


@dataclass
class Rows:
    """An events file's rows as columns: ``frame`` (each row's ``line``; the text of its
    quarter, account_id, type, field and value, null where it has none or, for the value,
    where it is no text; ``bad``: not an object; ``nested``: fields given as a JSON object),
    each row's value as the per-row check reads it (``values``: as given, "" where there is
    none) and each row as the dict that check reads (``record``)."""

    frame: pl.DataFrame
    values: list[Any]
    record: Callable[[int], dict[str, Any]]


def _lines(text: str, start: int) -> Iterator[str]:
    """``text``'s lines from the character ``start`` on, as ``io.StringIO`` gives them (each
    up to and with its line feed)."""
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def csv_header(text: str) -> tuple[list[str], int]:
    """The header as ``csv.reader`` reads it (``[]`` where the first line is blank) and how
    many lines it spans."""
    reader = csv.reader(_lines(text, 0))
    return next(reader, []), reader.line_num


def _quoted(text: str, starts: list[int], offsets: list[int]) -> tuple[list[Any], list[int]]:
    """The records that begin on the lines ``starts`` (0-based, ascending; ``offsets``: the
    character each begins at) as ``csv.reader`` reads them, each as its last line (1-based)
    and its cells, and every line they span.  A line inside the record before is skipped;
    one reader reads on through a run of such lines."""
    found: list[Any] = []
    spanned: list[int] = []
    reader, base, at = csv.reader(()), 0, -1  # (at: the line after the record read last)
    for start, offset in zip(starts, offsets):
        if start < at:
            continue
        if start != at:
            reader, base = csv.reader(_lines(text, offset)), start
        cells = next(reader)
        at = base + reader.line_num
        spanned.extend(range(start, at))
        if cells:
            found.append((at, *cells))
    return found, spanned


def _cell(header: list[str], names: list[str], key: str) -> pl.Expr:
    """Each record's cell under ``key`` as ``dict(zip(header, cells))`` gives it: of the
    columns so named, the last one the record reaches (null where it reaches none)."""
    cells = [pl.col(names[j]) for j in reversed(range(len(header))) if header[j] == key]
    return pl.coalesce(cells) if cells else pl.lit(None, pl.String)


def csv_rows(text: str, header: list[str], start: int) -> Rows:
    """The records after the header (which spans the first ``start`` lines) as columns,
    blank ones left out: a record's cells beyond the header's are dropped, and a short
    record lacks its last keys, as in ``dict(zip(header, cells))``."""
    lines = pl.Series([text]).str.split("\n").explode()
    if text.endswith("\n"):
        lines = lines.head(-1)
    size = pl.col("text").str.len_chars()
    frame = pl.DataFrame({"text": lines}).with_row_index("i")
    frame = frame.with_columns(
        plain=pl.col("text").str.contains(PLAIN_LINE) & (size <= csv.field_size_limit())
    )
    body = frame.slice(start)
    other = body.filter(~pl.col("plain"))
    found: list[Any] = []
    spanned: list[int] = []
    if other.height:
        offsets = frame.select((size + 1).cum_sum() - size - 1)["text"].gather(other["i"])
        found, spanned = _quoted(text, other["i"].to_list(), offsets.to_list())
    names = [f"cell{j}" for j in range(len(header))]
    plain = body.filter(pl.col("plain") & ~pl.col("i").is_in(spanned))
    plain = plain.select(
        line=pl.col("i").cast(pl.Int64) + 1, text=pl.col("text").str.strip_chars_end("\r")
    ).filter(pl.col("text") != "")
    records = plain.select(
        "line", pl.col("text").str.split_exact(",", len(header) - 1).struct.unnest()
    ).rename(dict(zip([f"field_{j}" for j in range(len(header))], names)))
    if found:
        quoted = pl.DataFrame(
            [(*row, *[None] * len(header))[: len(header) + 1] for row in found],
            schema={"line": pl.Int64, **dict.fromkeys(names, pl.String)},
            orient="row",
        )
        records = pl.concat([records, quoted]).sort("line")
    keyed = records.select(
        "line",
        *(_cell(header, names, key).alias(key) for key in (*KEYS, "value")),
        bad=pl.col(names[header.index("__bad__")]).is_not_null()
        if "__bad__" in header
        else pl.lit(False),
        nested=pl.lit(False),
    )

    def record(i: int) -> dict[str, Any]:
        cells = records.row(i)[1:]
        return dict(zip(header, cells[: cells.index(None) if None in cells else None]))

    return Rows(keyed, keyed["value"].fill_null("").to_list(), record)


def json_rows(objects: list[tuple[int, dict[str, Any]]]) -> Rows:
    """Each line's object (``{"__bad__": value}`` where it is no object) as columns."""
    rows = [obj for _, obj in objects]
    values = ["" if (v := row.get("value")) is None else v for row in rows]
    frame = pl.DataFrame(
        {
            "line": [line for line, _ in objects],
            **{key: [str(row.get(key) or "") for row in rows] for key in KEYS},
            "value": [v if isinstance(v, str) else None for v in values],
            "bad": ["__bad__" in row for row in rows],
            "nested": [isinstance(row.get("fields"), dict) for row in rows],
        },
        schema={
            "line": pl.Int64,
            **dict.fromkeys((*KEYS, "value"), pl.String),
            "bad": pl.Boolean,
            "nested": pl.Boolean,
        },
    )
    return Rows(frame, values, rows.__getitem__)


def checked(rows: Rows) -> pl.DataFrame:
    """``rows.frame`` with its texts stripped as the per-row check strips them, each ARR
    event's ``amount`` and each capacity_change's ``csms`` (null where they cannot be read),
    and ``suspect``: each row the cheap checks cannot pass, to be checked row by row."""
    frame = rows.frame.with_row_index("i").with_columns(
        pl.col(key).fill_null("").str.strip_chars(WHITESPACE) for key in KEYS
    )
    kind, value = pl.col("type"), pl.col("value")
    for name, of_kind, plain, dtype, read in (
        ("amount", kind.is_in(ARR_TYPES), PLAIN_AMOUNT, pl.Float64(), arr_amount),
        ("csms", kind == "capacity_change", PLAIN_COUNT, pl.Int64(), headcount),
    ):
        # polars casts the texts in the plain form (on which the scalar reader is Python's
        # own float or int of the text); the scalar reader reads every other cell
        cells = of_kind & ~pl.col("nested")
        frame = frame.with_columns(
            pl.when(cells & value.str.contains(plain))
            .then(value.cast(dtype, strict=False))
            .alias(name)
        )
        todo = frame.filter(cells & pl.col(name).is_null())
        if todo.height:
            found = _read(todo["i"].to_list(), todo["value"].to_list(), rows.values, read)
            frame = frame.with_columns(
                frame[name].scatter(todo["i"], pl.Series(found, dtype=dtype, strict=False))
            )
    amount, csms = pl.col("amount"), pl.col("csms")
    negative = pl.when(kind.is_in(POSITIVE_TYPES)).then(amount <= 0).otherwise(amount < 0)
    return frame.with_columns(
        suspect=pl.col("bad")
        | pl.col("nested")
        | ~pl.col("quarter").str.contains(PLAIN_QUARTER)
        | ~pl.col("quarter").is_between(pl.lit("0001Q1"), pl.lit("9999Q3"))
        | ~kind.is_in(TYPES)
        | (kind.is_in(ACCOUNT_TYPES) & (pl.col("account_id") == ""))
        | ((kind == "signal") & pl.col("field").is_in(["", "account_id"]))
        | (kind.is_in(ARR_TYPES) & ~pl.col("field").is_in(["", "arr"]))
        | (kind.is_in(ARR_TYPES) & (amount.is_null() | negative))
        | ((kind == "capacity_change") & (csms.is_null() | (csms < 0)))
    )


def _read(
    rows: list[int], texts: list[str | None], values: list[Any], read: Callable[[Any], Any]
) -> list[Any]:
    """The values of ``rows`` as ``read`` reads them, None where it raises ValueError (each
    distinct text read once; a value that is no text, from JSON, read as it is)."""
    known: dict[str, Any] = {}
    found: list[Any] = []
    for i, text in zip(rows, texts):
        if text is None or text not in known:
            try:
                value = read(values[i])
            except ValueError:
                value = None
            if text is None:
                found.append(value)
                continue
            known[text] = value
        found.append(known[text])
    return found


def quarter_order(quarters: pl.Series, passed: pl.Series) -> tuple[pl.Series, pl.Series]:
    """For each row, whether its quarter comes before the latest quarter of the good rows
    above it (which makes it bad), and that latest quarter ("" where there is none).
    ``passed``: the rows with no problem but perhaps their order.  The latest of those
    above a row is the latest of the good ones: a row out of order is below it anyway."""
    frame = pl.DataFrame({"quarter": quarters, "passed": passed})
    rank = pl.when("passed").then(pl.col("quarter")).rank("dense")
    frame = frame.with_columns(rank=rank, before=rank.fill_null(0).cum_max().shift(1, fill_value=0))
    seen = frame.filter("passed")["quarter"].unique().sort().to_list()
    latest = frame["before"].replace_strict(
        {0: "", **{n: q for n, q in enumerate(seen, start=1)}}, return_dtype=pl.String
    )
    return (frame["passed"] & (frame["rank"] < frame["before"])).fill_null(False), latest
