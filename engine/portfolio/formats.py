"""Read a portfolio file into its header and a column of text cells per column wanted, one
entry per account record with the record's physical line (the last line of a record that
spans several), one module-level function per format.

CSV cells are read by polars.  Before that, one pass over the bytes (numpy) finds where each
record starts and ends (a line break inside a quoted cell does not end it) and counts its
cells, so that a row with more or fewer cells than the header (a cut-off download, an
unquoted "Smith, Jane") is an error naming its line, never a silent shift of values, and
every message names the line a person sees in an editor.  Records with nothing but blanks
are skipped.  JSON Lines and Parquet records keep their values as they are typed (a JSON
number is a number); the frame casts them.  A Parquet file has no lines: its records are
named by row (the first data row is row 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..errors import DataError, Problem
from .text_bytes import excel_sep, not_utf8

JSON_LINES = (".jsonl", ".ndjson", ".json")
_STRAY = (
    "cannot read CSV: a quote inside a cell that is not quoted (quote the whole cell "
    "and double the quotes in it)"
)
_UNCLOSED = (
    "cannot read CSV: a quote on this line is never closed (a cell with a quote in "
    "it must be quoted, and its quotes doubled)"
)


@dataclass
class Table:
    """A file's header, and for each column wanted its cells (CSV: text, null where a record
    has no such cell; JSON Lines and Parquet: the values as typed, None where absent)."""

    headers: list[str]
    digest: str
    lines: list[int]  # each record's line (Parquet: its 1-based row), for messages
    columns: dict[int, pl.Series | list[Any]]
    # records that cannot be read as accounts (a row of the wrong length), by record
    problems: dict[int, Problem] = field(default_factory=dict)
    unit: str = "line"  # what ``lines`` count: "row" in a Parquet file, which has no lines


Pick = Callable[[list[str]], Sequence[int]]  # the header -> the columns wanted


def read_table(path: str, file: str, pick: Pick) -> Table:
    """``file``: the name messages give.  A folder, a missing file or one that is not what
    its suffix says is a located error."""
    p = Path(path)
    if not p.exists():
        raise DataError("not found", [Problem(file, 0, 0, "", "file not found", "not-found")])
    if not p.is_file():
        raise DataError(
            "not a file",
            [
                Problem(
                    file,
                    0,
                    0,
                    "",
                    "is a folder, not a portfolio file (.csv, .jsonl or .parquet)",
                    "not-a-file",
                )
            ],
        )
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        return _parquet(path, file, pick)
    raw = p.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if not raw or raw.isspace():  # (raw.strip() would copy the whole file)
        raise _empty(file)
    try:  # (an ASCII file is UTF-8: no text copy of it is made to find that out)
        text = "" if raw.isascii() and suffix not in JSON_LINES else raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_utf8(raw, file, cells=suffix not in JSON_LINES) from None
    if suffix in JSON_LINES:
        return _jsonl(text, file, digest, pick)
    del text
    return _csv(raw, file, digest, pick)


def _csv(raw: bytes, file: str, digest: str, pick: Pick) -> Table:
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if body.count(b"\r") != body.count(b"\r\n"):  # old Mac line breaks: as csv reads them
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # the header's record: the first, or the one after Excel's "sep=," line (the records
    # keep the file's lines, so every message names the line an editor shows)
    top = 1 if excel_sep(body, file) else 0
    rec = _records(body, file)
    if len(rec.lines) <= top:
        raise _empty(file)
    header_start = int(rec.ends[top - 1]) if top else 0
    header_end = int(rec.ends[top])
    headers = _header(body[header_start:header_end], file, top + 1)
    ncols = len(headers)
    wanted = sorted(set(pick(headers)))
    # the records after the header: past its one line (no copy of the file), or a copy of
    # the rest where the header's quoted cells hold line breaks
    one_line = int(rec.lines[top]) == top + 1
    data, skip = (body, top + 1) if one_line else (body[header_end:], 0)
    n = len(rec.lines) - 1 - top
    schema = {f"c{i}": pl.String for i in range(ncols)}
    # every column where records quote cells: a quoted cell's commas are not separators
    read = list(range(ncols)) if rec.quoted else wanted
    frame = _polars_csv(data, file, schema, read, n, int(rec.lines[top]), skip)
    cells = rec.commas[top + 1 :] + 1
    if rec.quoted:
        inner = frame.select(
            pl.sum_horizontal(
                pl.col(f"c{i}").str.count_matches(",", literal=True).fill_null(0)
                for i in range(ncols)
            )
        )
        cells = cells - inner.to_series().to_numpy()
    keep = ~rec.blank[top + 1 :]
    lines = rec.lines[top + 1 :][keep].tolist()
    problems: dict[int, Problem] = {}
    for r in np.flatnonzero((cells != ncols)[keep]).tolist():
        count = int(cells[keep][r])
        hint = (
            "a value with an unquoted comma? quote it, or re-export"
            if count > ncols
            else "a cut-off or hand-edited row? re-export the file"
        )
        problems[r] = Problem(
            file,
            lines[r],
            1,
            "",
            f"the row has {count} cells but the header has {ncols} columns ({hint})",
            "row-length",
        )
    if not keep.all():
        frame = frame.filter(pl.Series(keep))
    columns: dict[int, pl.Series | list[Any]] = {i: frame[f"c{i}"] for i in wanted}
    return Table(headers, digest, lines, columns, problems)


@dataclass
class _Records:
    ends: np.ndarray  # the byte offset after each record
    lines: np.ndarray  # each record's last line (1-based)
    commas: np.ndarray  # commas in each record, quoted or not
    blank: np.ndarray  # records of nothing but separators, quotes and white space
    quoted: bool  # some record holds a quote


def _records(body: bytes, file: str) -> _Records:
    """Where the records of a CSV text end: at a line break outside quotes (the quotes
    before it are even in number: a doubled quote inside a quoted cell counts twice)."""
    arr = np.frombuffer(body, np.uint8)
    breaks = [  # (a window at a time: a mask of the whole file would be as large as it)
        np.flatnonzero(arr[b : b + _LINES_WINDOW] == 10) + (b + 1)
        for b in range(0, len(arr), _LINES_WINDOW)
    ]
    starts = np.concatenate([np.zeros(1, np.int64), *breaks])
    if starts[-1] == len(arr):
        starts = starts[:-1]
    quoted = 34 in body
    # each line's commas, quotes and blanks, a window of whole lines at a time (a mask of
    # the whole file, widened to 64-bit counts, would be eight times the file)
    commas = np.zeros(len(starts), np.int64)
    quotes = np.zeros(len(starts), np.int64)
    space = np.zeros(len(starts), np.int64)
    cuts = np.searchsorted(starts, np.arange(0, len(arr), _LINES_WINDOW))
    for i0, i1 in zip(cuts, [*cuts[1:], len(starts)], strict=True):
        if i0 == i1:
            continue
        b0 = int(starts[i0])
        b1 = int(starts[i1]) if i1 < len(starts) else len(arr)
        window, at = arr[b0:b1], starts[i0:i1] - b0

        def count(mask: np.ndarray, at: np.ndarray = at) -> np.ndarray:
            return np.add.reduceat(mask.view(np.uint8), at, dtype=np.int64)

        commas[i0:i1] = count(window == 44)
        if quoted:
            quotes[i0:i1] = count(window == 34)
        space[i0:i1] = count((window == 32) | ((window >= 9) & (window <= 13)))
    lengths = np.diff(np.append(starts, len(arr)))
    other = lengths - commas - quotes - space
    if quoted:
        inside = (np.cumsum(quotes) - quotes) % 2 == 1  # the line starts inside a quoted cell
        stray = _stray_quote(arr)
        if stray is not None:
            line = int(np.searchsorted(starts, stray, side="right"))
            raise DataError("bad CSV", [Problem(file, line, 1, "", _STRAY, "csv")])
        if (quotes.sum() % 2) == 1:
            first = int(np.flatnonzero(~inside & (quotes % 2 == 1))[-1])
            raise DataError("bad CSV", [Problem(file, first + 1, 1, "", _UNCLOSED, "csv")])
        begins = np.flatnonzero(~inside)
    else:
        begins = np.arange(len(starts))
    last = np.append(begins[1:] - 1, len(starts) - 1)
    ends = np.append(starts, len(arr))[last + 1]
    return _Records(
        ends, last + 1, np.add.reduceat(commas, begins), np.add.reduceat(other, begins) == 0, quoted
    )


_WINDOW = 1 << 26  # bytes of a CSV looked at for stray quotes at a time
_LINES_WINDOW = 1 << 23  # bytes of a CSV whose lines are counted at a time


def _stray_quote(arr: np.ndarray) -> int | None:
    """The offset of the first quote that neither opens a cell (at its start), nor closes one
    (before a comma or a line break), nor is doubled inside one: csv would read it as a
    character of an unquoted cell, where polars and csv would split the file differently."""
    before = 0  # quotes before the window
    for start in range(0, len(arr), _WINDOW):
        window = arr[start : start + _WINDOW]
        at = np.flatnonzero(window == 34) + start
        if not len(at):
            continue
        opening = (np.arange(len(at)) + before) % 2 == 0
        prev = np.where(at > 0, arr[np.maximum(at - 1, 0)], 10)
        nxt = np.where(at + 1 < len(arr), arr[np.minimum(at + 1, len(arr) - 1)], 10)
        ok_open = (prev == 44) | (prev == 10) | (prev == 13) | (prev == 34)
        ok_close = (nxt == 44) | (nxt == 10) | (nxt == 13) | (nxt == 34)
        bad = np.flatnonzero(np.where(opening, ~ok_open, ~ok_close))
        if len(bad):
            return int(at[bad[0]])
        before += len(at)
    return None


def _empty(file: str) -> DataError:
    return DataError(
        "empty",
        [
            Problem(
                file,
                1,
                1,
                "",
                "file is empty: expected a header row and one row per account",
                "empty",
            )
        ],
    )


def _header(head: bytes, file: str, line: int) -> list[str]:
    try:
        headers = next(csv.reader(io.StringIO(head.decode("utf-8"))))
    except StopIteration:
        headers = []
    except csv.Error as exc:
        raise DataError(
            "bad CSV", [Problem(file, line, 1, "", f"cannot read CSV: {exc}", "csv")]
        ) from None
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise _empty(file)
    if len(headers) == 1:
        for delim, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delim in headers[0]:
                raise DataError(
                    "wrong delimiter",
                    [
                        Problem(
                            file,
                            line,
                            1,
                            "",
                            f"the header has one column containing {name}s: the file looks "
                            f"{name}-delimited, but tierbook reads comma-separated CSV; re-export it with "
                            "commas",
                            "delimiter",
                        )
                    ],
                )
    return headers


def _polars_csv(
    data: bytes,
    file: str,
    schema: dict[str, Any],
    read: list[int],
    n: int,
    first_line: int,
    skip: int = 0,
) -> pl.DataFrame:
    if n == 0 or not read:
        return pl.DataFrame({f"c{i}": pl.Series([None] * n, dtype=pl.String) for i in read})
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            skip_rows=skip,
            schema=schema,
            columns=read,
            truncate_ragged_lines=True,
            extra_columns="ignore",
            missing_columns="insert",
            raise_if_empty=False,
            infer_schema=False,
            quote_char='"',
        )
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            "bad CSV",
            [
                Problem(
                    file,
                    first_line + 1,
                    1,
                    "",
                    "cannot read CSV: " + str(exc).splitlines()[0],
                    "csv",
                )
            ],
        ) from None
    if frame.height != n:
        raise DataError("bad CSV", [Problem(file, first_line + 1, 1, "", _UNCLOSED, "csv")])
    return frame


def _jsonl(text: str, file: str, digest: str, pick: Pick) -> Table:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    headers: dict[str, None] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                "bad JSON", [Problem(file, n, exc.colno, "", f"invalid JSON: {exc.msg}", "json")]
            ) from None
        if not isinstance(obj, dict):
            raise DataError(
                "bad JSON", [Problem(file, n, 1, "", "each line must be a JSON object", "json")]
            )
        headers.update(dict.fromkeys(obj))
        records.append(obj)
        lines.append(n)
    names = list(headers)
    columns: dict[int, pl.Series | list[Any]] = {
        i: [r.get(names[i]) for r in records] for i in sorted(set(pick(names)))
    }
    return Table(names, digest, lines, columns)


def _parquet(path: str, file: str, pick: Pick) -> Table:
    raw = Path(path).read_bytes()
    try:
        frame = pl.read_parquet(raw)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise DataError(
            "bad Parquet",
            [
                Problem(
                    file,
                    0,
                    0,
                    "",
                    f"cannot read Parquet (is it a Parquet file?): {str(exc).splitlines()[0]}",
                    "parquet",
                )
            ],
        ) from None
    names = frame.columns
    columns: dict[int, pl.Series | list[Any]] = {
        i: frame[names[i]].to_list() for i in sorted(set(pick(names)))
    }
    rows = list(range(1, frame.height + 1))
    return Table(list(names), hashlib.sha256(raw).hexdigest(), rows, columns, unit="row")
