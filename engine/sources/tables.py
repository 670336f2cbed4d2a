"""A declared table read into typed columns: each declared column found by name (exactly,
then ignoring case and separators), cast by its type's parser, every problem named by the
table's file, line and column."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..errors import DataError, Problem
from ..portfolio.cast import cast
from ..portfolio.formats import read_table
from ..portfolio.headers import normalise, twin_columns
from ..ruleset.model import Input
from .model import Table

MAX_PROBLEMS = 200
ROW = "\0row"  # each record's position in the file, for ties in file order


@dataclass
class TableData:
    name: str
    file: str
    sha256: str
    frame: pl.DataFrame  # one typed column per declared column, plus ROW


def _found(headers: list[str], name: str) -> int | None:
    if name in headers:
        return headers.index(name)
    loose = [normalise(h) for h in headers]
    return loose.index(normalise(name)) if normalise(name) in loose else None


def read_declared(table: Table, path: str, display: str) -> TableData:
    """The table's declared columns, typed; a DataError naming each missing column (with
    the file's columns that look like it) or bad cell by line and column."""
    from ..portfolio.headers import close_headers

    wanted = list(table.columns)

    def pick(headers: list[str]) -> list[int]:
        return [i for i in (_found(headers, c) for c in wanted) if i is not None]

    data = read_table(path, display, pick)
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for column in wanted:
        i = _found(data.headers, column)
        if i is None:
            problems.append(
                Problem(
                    display,
                    1,
                    1,
                    column,
                    f"table {table.name} has no column '{column}'"
                    + close_headers(column, data.headers),
                    "missing-column",
                )
            )
        else:
            index[column] = i
    if problems:
        raise DataError(f"{display}: missing columns", problems)
    problems = twin_columns(display, data.headers, index)
    if problems:
        raise DataError(f"{display}: columns named twice", problems)
    problems = list(data.problems.values())
    series: dict[str, pl.Series] = {}
    for column, kind in table.columns.items():
        i = index[column]
        cells = data.columns[i]
        texts = (
            cells
            if isinstance(cells, pl.Series)
            else pl.Series([None if v is None else _text(v) for v in cells], dtype=pl.String)
        )
        # (a row's amount as written: a roll-up's sum is rounded to the cent, not each row)
        c = cast(Input(column, kind), texts, cents=False)
        for r, (message, code) in c.bad.items():
            if r not in data.problems:
                problems.append(
                    Problem(
                        display, data.lines[r], i + 1, data.headers[i], message, code, data.unit
                    )
                )
        if column == table.key:
            for r in c.blank.arg_true().to_list():
                problems.append(
                    Problem(
                        display,
                        data.lines[r],
                        i + 1,
                        data.headers[i],
                        "the account id is blank",
                        "blank",
                        data.unit,
                    )
                )
        series[column] = c.values.alias(column)
    if problems:
        problems.sort()
        note = f" (stopped after {MAX_PROBLEMS})" if len(problems) > MAX_PROBLEMS else ""
        raise DataError(f"{display}: {len(problems)} bad value(s){note}", problems[:MAX_PROBLEMS])
    n = len(data.lines)
    frame = pl.DataFrame(list(series.values()), height=n).with_row_index(ROW)
    key = frame[table.key]
    if key.dtype != pl.String:
        frame = frame.with_columns(key.cast(pl.String))
    return TableData(table.name, display, data.digest, frame)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
