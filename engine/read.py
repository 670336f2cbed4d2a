"""Read a portfolio (CSV, JSON Lines or Parquet) into typed account inputs.

Columns are matched through the ruleset's ids and aliases (exactly, then ignoring case and
separators), so raw Salesforce and HubSpot exports work.  Values are read the way people
export them: "$1,200.50", "12.5%", "Yes", "06/20/2025", blank cells.  Every value that
cannot be read is reported with its row, column and value.  A large CSV is read by two
processes where that gives the same result (tierbook.splitread).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import json
import re
from collections import Counter
from itertools import chain, islice, repeat
from math import isfinite
from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, overload

from .bulk import bulk as _bulk
from .columns import compact_all, dicts_of, join, worth_compacting
from .errors import DataError, Problem, suggest
from .model import Input, Ruleset
from .values import PartColumns

MAX_PROBLEMS = 200
_BOOL = {"true": True, "t": True, "yes": True, "y": True, "1": True,
         "false": False, "f": False, "no": False, "n": False, "0": False}
_MONEY_STRIP = re.compile(r"[\s$€£¥]|USD|EUR|GBP", re.IGNORECASE)
# commas only between digit groups before the decimal point: "1,200.50", "1,20,000" (lakh)
_GROUPED = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})+,\d{3})(\.\d*)?[kmb]?",
                      re.IGNORECASE)
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}


class BadValue(ValueError):
    pass


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if isfinite(value):
            return value
        raise BadValue("is not a finite number")
    s = text.strip()
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    s = _MONEY_STRIP.sub("", s)
    if "," in s:
        if not _GROUPED.fullmatch(s):
            raise BadValue("has a comma that is not a thousands separator (1,200.50 is read; "
                           "a decimal comma as in 1.200,50 is not: export numbers with a "
                           "decimal point)")
        s = s.replace(",", "")
    mult = 1.0
    if s and s[-1].lower() in _SUFFIX:
        mult = _SUFFIX[s[-1].lower()]
        s = s[:-1]
    try:
        value = float(s) * mult
    except ValueError:
        raise BadValue("is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadValue("is not a finite number")
    return -value if negative else value


def parse_money(text: str) -> float:
    return round(_number(text), 2)


def parse_number(text: str) -> float | int:
    value = _number(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def parse_integer(text: str) -> int:
    value = _number(text)
    if not value.is_integer():
        raise BadValue("is not a whole number")
    return int(value)


def parse_ratio(text: str) -> float:
    s = text.strip()
    if s.endswith("%"):
        return _number(s[:-1]) / 100
    value = _number(s)
    if value > 1 or value < 0:
        raise BadValue("is not a ratio between 0 and 1 (write percentages with %, e.g. 85%)")
    return value


def parse_boolean(text: str) -> bool:
    try:
        return _BOOL[text.strip().lower()]
    except KeyError:
        raise BadValue("is not a yes/no value (true/false, yes/no, 1/0)") from None


def parse_date(text: str) -> dt.date:
    s = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m/%d/%y"):
        try:
            return dt.datetime.strptime(s[:10] if fmt == "%Y-%m-%d" else s, fmt).date()
        except ValueError:
            continue
    raise BadValue("is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def _parser(inp: Input) -> Callable[[str], Any]:
    if inp.type == "enum":
        canon = {v.casefold(): v for v in inp.values}
        def enum(text: str) -> str:
            try:
                return canon[text.strip().casefold()]
            except KeyError:
                raise BadValue(f"is not one of {', '.join(inp.values)}"
                               + suggest(text.strip(), inp.values)) from None
        return enum
    return {
        "money": parse_money, "number": parse_number, "integer": parse_integer,
        "ratio": parse_ratio, "boolean": parse_boolean, "date": parse_date,
    }.get(inp.type, str.strip)


def _typed(inp: Input, raw: Any, parse: Callable[[str], Any]) -> Any:
    """A value from JSON may already be typed; a cell is always text."""
    if isinstance(raw, bool):
        if inp.type == "boolean":
            return raw
        raise BadValue("is a boolean, not a " + inp.type)
    if isinstance(raw, (int, float)) and inp.type in ("money", "number", "integer", "ratio"):
        return parse(repr(raw))
    if isinstance(raw, (dict, list)):
        raise BadValue("is not a single value")
    return parse(str(raw))


def normalise(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).casefold()


def match_columns(ruleset: Ruleset, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """input id -> column index, plus the columns no input claims."""
    found: dict[str, int] = {}
    by_exact = {h: i for i, h in enumerate(headers)}
    by_norm: dict[str, int] = {}
    for i, h in enumerate(headers):
        by_norm.setdefault(normalise(h), i)
    for inp in ruleset.inputs:
        names = (inp.id,) + inp.aliases
        idx = next((by_exact[n] for n in names if n in by_exact), None)
        if idx is None:
            idx = next((by_norm[normalise(n)] for n in names if normalise(n) in by_norm), None)
        if idx is not None and idx not in found.values():
            found[inp.id] = idx
    used = set(found.values())
    return found, [h for i, h in enumerate(headers) if i not in used]


class Rows(Sequence[dict[str, Any]]):
    """Accounts as dicts over the reader's columns (``Portfolio.by_field``), every dict built
    at once the first time any account is asked for, and only then.

    ``segment`` reads the passes over all accounts (class keys, bands, calibration, gates,
    the trace rows) from the columns, so a run without report files builds no dict per
    account: about 0.25 s and 800 bytes per account fewer at 100,000.  Anything else that
    reads an account -- the report files, ``plan``, a test -- gets the dicts, as before."""

    def __init__(self, columns: dict[str, Sequence[Any]]) -> None:
        self.columns = columns
        self._dicts: list[dict[str, Any]] | None = None

    def dicts(self) -> list[dict[str, Any]]:
        if self._dicts is None:
            with _bulk():
                self._dicts = dicts_of(self.columns)
        return self._dicts

    @property
    def built(self) -> bool:
        return self._dicts is not None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.dicts()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.dicts())


class Prepared(Sequence[tuple[dict[str, Any], Any]]):
    """(values, score parts) of each account: the values ``rows`` and the parts a list or
    ``values.PartColumns``, dicts built when first asked for."""

    def __init__(self, rows: Rows, parts: Sequence[Any]) -> None:
        self.rows = rows
        self.parts = parts

    def __len__(self) -> int:
        return len(self.parts)

    @overload
    def __getitem__(self, index: int) -> tuple[dict[str, Any], Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[dict[str, Any], Any]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(zip(self.rows[index], self.parts[index]))
        return self.rows[index], self.parts[index]

    def __iter__(self) -> Iterator[tuple[dict[str, Any], Any]]:
        return zip(self.rows.dicts(), self.parts)


@dataclass
class Portfolio:
    file: str
    sha256: str
    accounts: Sequence[dict[str, Any]]  # a list, or Rows (read for segment)
    rows: list[int]  # line (CSV/JSONL) of each account, for messages
    columns: dict[str, str]  # input id -> column name as found
    ignored_columns: list[str]
    gaps: Counter = field(default_factory=Counter)  # input id -> blank cells (incl. defaulted)
    defaulted: Counter = field(default_factory=Counter)
    missing_columns: list[str] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    # (values, score parts) of every account, values in the account's own dict (or, for
    # ``values.dicts`` False, a ``Prepared`` over the columns), when read_portfolio was
    # given ``values`` and computing them succeeded
    prepared: Sequence[tuple[dict[str, Any], Any]] | None = None
    # with ``prepared``, when every row was read a chunk at a time: each field's column (one
    # value per account, in account order), the very values the accounts' dicts hold, for
    # the passes over a field of every account (class keys, bands, the trace rows)
    by_field: dict[str, Sequence[Any]] | None = None

    @property
    def ids(self) -> list[str]:
        if self.by_field is not None:
            return list(self.by_field["account_id"])
        return [a["account_id"] for a in self.accounts]


_LINE_BLOCK = 1 << 20  # characters of text split into lines at a time
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _text_blocks(text: str, start: int = 0, stop: int | None = None) -> Iterator[str]:
    """``text[start:stop]`` in blocks of about ``_LINE_BLOCK`` characters, each ending just
    after a "\\n" (but the last)."""
    n, pos = len(text) if stop is None else stop, start
    while pos < n:
        end = text.find("\n", pos + _LINE_BLOCK, n)
        end = n if end < 0 else end + 1
        yield text[pos:end]
        pos = end


def _plain_breaks(block: str) -> bool:
    """Whether the block's lines break only at "\\n" (or "\\r\\n"), as io.StringIO breaks
    them, so that str.splitlines finds the same lines."""
    return block.count("\r") == block.count("\r\n") and not any(c in block for c in _OTHER_BREAKS)


def _block_lines(block: str) -> list[str]:
    """A block's lines exactly as ``io.StringIO`` iterates them (each ends after its "\\n",
    which it keeps)."""
    if _plain_breaks(block):
        return block.splitlines(True)
    parts = block.split("\n")
    last = parts.pop()
    lines = [part + "\n" for part in parts]
    if last:
        lines.append(last)
    return lines


def _line_blocks(text: str, start: int = 0, stop: int | None = None) -> Iterator[list[str]]:
    """The lines of ``text[start:stop]`` exactly as ``io.StringIO`` iterates them, a block
    at a time: StringIO would first copy the whole text into a buffer of four bytes a
    character."""
    return map(_block_lines, _text_blocks(text, start, stop))


def csv_reader(text: str, start: int = 0, stop: int | None = None) -> Any:
    """A CSV reader of ``text[start:stop]`` (without copying it)."""
    return csv.reader(chain.from_iterable(_line_blocks(text, start, stop)))


class _Feeder:
    """The lines a CSV reader reads: those of the block being read by csv, then, should a
    quoted cell go on past it, the next blocks'."""

    def __init__(self, blocks: Iterator[str]) -> None:
        self.blocks = blocks
        self.lines: list[str] = []
        self.i = 0
        self.consumed = 0  # lines read in all (by csv or split directly)

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> str:
        while self.i >= len(self.lines):
            self.lines, self.i = _block_lines(next(self.blocks)), 0
        line = self.lines[self.i]
        self.i += 1
        self.consumed += 1
        return line


class CsvRecords:
    """(line, cells) of each CSV record with a value (a cell with more than spaces) in
    ``text[start:stop]``, exactly as csv reads them (``line``: the record's last line, after
    the ``base`` lines before ``start``), except the cells past the first ``need``, which
    nobody reads.

    A block of lines with no quote, no line break but "\\n" or "\\r\\n" and no cell too
    long for csv is split at its commas by ``str.split`` (a line's cells past ``need`` left
    in one more cell): no Python step per line, and no string for cells nobody reads, about
    twice as fast as csv.  Any other block is read by csv, which goes on into the next
    blocks while a quoted cell does.  ``last``: the last record read, blank or not."""

    def __init__(self, text: str, file: str, start: int = 0, stop: int | None = None,
                 base: int = 0, need: int = 0) -> None:
        self.file, self.base = file, base
        self.maxsplit = need if need > 0 else -1
        self.feeder = _Feeder(_text_blocks(text, start, stop))
        self.reader = csv.reader(self.feeder)
        self.last: list[str] | None = None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        feeder, limit = self.feeder, csv.field_size_limit()
        while True:
            block = next(feeder.blocks, None)
            if block is None:
                return
            plain = '"' not in block and _plain_breaks(block)
            lines = block.splitlines() if plain else []
            if not plain or max(map(len, lines), default=0) > limit:  # (csv: the long cell's error)
                feeder.lines, feeder.i = _block_lines(block), 0
                yield from self._by_csv()
                continue
            rows = list(map(str.split, lines, repeat(","), repeat(self.maxsplit)))
            first = self.base + feeder.consumed + 1
            feeder.consumed += len(lines)
            if rows:
                self.last = rows[-1]
            records = list(zip(range(first, first + len(rows)), rows))
            # blank records (no cell with more than spaces) are skipped, as by csv
            blank = [i for i, line in enumerate(lines)
                     if not line[:1].replace(",", "").strip() and not line.replace(",", "").strip()]
            for i in reversed(blank):
                del records[i]
            yield from records

    def _by_csv(self) -> Iterator[tuple[int, list[str]]]:
        """Records by csv until the lines taken so far are used up at a record's end (csv
        asks for a line only when the record needs one)."""
        feeder, reader = self.feeder, self.reader
        while feeder.i < len(feeder.lines):
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError("bad CSV", [Problem(self.file, self.base + feeder.consumed, 1, "",
                                                    f"cannot read CSV: {exc}", "csv")])
            self.last = row
            if not row or (not row[0].strip() and all(not c.strip() for c in row)):
                continue
            yield self.base + feeder.consumed, row


def body_start(text: str, header_lines: int) -> int:
    """Where the records start: after the header's lines."""
    top = 0
    for _ in range(header_lines):
        top = text.find("\n", top) + 1
        if top == 0:
            return len(text)
    return top


def cells_needed(colmap: dict[str, int]) -> int:
    """How many cells of a record the inputs read (the columns they are in, and those before)."""
    return max(colmap.values(), default=-1) + 1


def _header_csv(text: str, file: str) -> tuple[list[str], int]:
    """The header and how many lines it took."""
    reader = csv_reader(text)
    try:
        headers = next(reader)
    except StopIteration:
        raise DataError("empty", [Problem(file, 1, 1, "", "file is empty: expected a header row "
                                          "and one row per account", "empty")])
    except csv.Error as exc:
        raise DataError("bad CSV", [Problem(file, 1, 1, "", f"cannot read CSV: {exc}", "csv")])
    headers = [h.strip() for h in headers]
    if len(headers) == 1:
        for delim, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delim in headers[0]:
                raise DataError("wrong delimiter", [Problem(
                    file, 1, 1, "", f"the header has one column containing {name}s: the file looks "
                    f"{name}-delimited, but tierbook reads comma-separated CSV; re-export it with "
                    "commas", "delimiter")])
    return headers, reader.line_num


def _records_jsonl(text: str, file: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    records = []
    headers: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError("bad JSON", [Problem(file, n, exc.colno, "", f"invalid JSON: {exc.msg}",
                                                 "json")])
        if not isinstance(obj, dict):
            raise DataError("bad JSON", [Problem(file, n, 1, "", "each line must be a JSON object",
                                                 "json")])
        for key in obj:
            if key not in headers:
                headers.append(key)
        records.append((n, obj))
    return headers, records


def _records_parquet(path: str, file: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        import pyarrow.parquet as pq  # optional extra: pip install 'tierbook[parquet]'
    except ImportError:
        raise DataError("no parquet", [Problem(file, 0, 0, "", "reading Parquet needs the optional "
                                               "extra: pip install 'tierbook[parquet]'", "usage")])
    table = pq.read_table(path)
    rows = table.to_pylist()
    return list(table.column_names), [(i + 2, r) for i, r in enumerate(rows)]


def read_portfolio(path: str, ruleset: Ruleset, on_error: str = "fail",
                   display: str | None = None,
                   values: Any = None) -> Portfolio:
    """``values`` (a ``values.ValuesWhileReading``): each account's values are computed as
    it is read, into its own dict, a chunk of rows at a time where they can be; the
    portfolio's ``prepared`` holds (values, score parts) of every account, or None when
    computing them failed anywhere (the caller computes them after reading, which reports
    the failure as usual)."""
    file = display or path
    p = Path(path)
    if not p.exists():
        raise DataError("not found", [Problem(file, 0, 0, "", "file not found", "not-found")])
    suffix = p.suffix.lower()
    if suffix not in _NOT_CSV and p.is_file() and p.stat().st_size >= SPLIT_MIN:
        # a large CSV: both halves at once where that is safe
        from .splitread import read_halves
        portfolio = read_halves(path, file, ruleset, on_error, values)
        if portfolio is not None:
            return portfolio
    raw = p.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if suffix == ".parquet":
        headers, records = _records_parquet(path, file)
        return _build(file, digest, headers, iter(records), ruleset, on_error, True, values)
    if not raw or raw.isspace():  # (raw.strip() would copy the whole file)
        raise DataError("empty", [Problem(file, 1, 1, "", "file is empty: expected a header row "
                                          "and one row per account", "empty")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError("encoding", [Problem(file, 0, 0, "", f"file is not UTF-8 (byte {exc.start}); "
                                             "re-export it as UTF-8 CSV", "encoding")])
    del raw  # only the text is needed from here on
    if suffix in _JSON_LINES:
        headers, records = _records_jsonl(text, file)
        return _build(file, digest, headers, iter(records), ruleset, on_error, True, values)
    headers, header_lines = _header_csv(text, file)
    rows = CsvRecords(text, file, body_start(text, header_lines), None, header_lines,
                      cells_needed(match_columns(ruleset, headers)[0]))
    return _build(file, digest, headers, iter(rows), ruleset, on_error, False, values)


SPLIT_MIN = 4 << 20  # bytes of CSV before its halves are read by two processes
_JSON_LINES = (".jsonl", ".ndjson", ".json")
_NOT_CSV = (".parquet", *_JSON_LINES)
_CHUNK = 2048  # CSV rows read a column at a time
_MEMO_MAX = 1 << 16  # distinct cells remembered per column before the memo starts afresh
_TEXT_SAMPLE = 256  # a text column's cells looked at for repeats, per chunk


class _ColumnMemo(dict):  # type: ignore[type-arg]
    """One CSV column's cells -> typed values, each distinct cell parsed once.

    A blank cell reads as the input's default (None without one) and is remembered in
    ``blank``; a cell that cannot be read or is out of range is remembered in ``bad`` (its
    value here is never used: a chunk holding one is read again row by row, which reports it).
    """

    def __init__(self, inp: Input, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self.inp = inp
        self.parse = parse
        self.blank: set[str] = set()
        self.bad: set[str] = set()

    def __missing__(self, raw: str) -> Any:
        inp = self.inp
        if not raw.strip():
            self.blank.add(raw)
            value = inp.default
        else:
            try:
                value = self.parse(raw)
            except BadValue:
                self.bad.add(raw)
                return None
            if inp.min is not None and value < inp.min or inp.max is not None and value > inp.max:
                self.bad.add(raw)
                return None
        if len(self) >= _MEMO_MAX:
            self.clear()
        self[raw] = value
        return value


def _money_column(inp: Input, col: tuple[str, ...]) -> list[float] | None:
    """parse_money of every cell when each is a plain number (float() reads it, as
    parse_money first tries), finite, and inside the input's bounds;
    else None."""
    try:
        vals = list(map(round, map(float, col), [2] * len(col)))
    except ValueError:
        return None
    if not all(map(isfinite, vals)):
        return None
    if inp.min is not None and min(vals) < inp.min or inp.max is not None and max(vals) > inp.max:
        return None
    return vals


class _Builder:
    """Typed accounts from records, with every problem located (see read_portfolio)."""

    def __init__(self, file: str, headers: list[str], ruleset: Ruleset, on_error: str,
                 keyed: bool, colmap: dict[str, int], values: Any = None) -> None:
        """``values``: a ``values.ValuesWhileReading``, computing each account's values as it
        is read (``prepared``; None if that failed anywhere: the caller computes them, and
        so reports the failure as usual)."""
        self.file, self.headers, self.on_error, self.keyed = file, headers, on_error, keyed
        self.values = values
        self.prepared: list[tuple[dict[str, Any], Any]] | None = [] if values is not None else None
        self.by_field: dict[str, Sequence[Any]] | None = {} if values is not None else None
        # while every chunk is read as columns, keep only the columns and score parts
        # (``parts``), no dict per account: for ``values.dicts`` False (the accounts become
        # ``Rows``), and in the split read's second process (which sends the columns);
        # ``make_dicts`` ends it
        self.columns_only = values is not None and not values.dicts
        self.parts = PartColumns({}, 0)
        self.part_of = 1  # of the portfolio's rows this reads one in (2: a split read's half)
        self.compacted = False  # (compact_if_large)
        self.colmap = colmap
        self.id_input = ruleset.role("account_id") or "account_id"
        self.arr_input = ruleset.role("arr") or "arr"
        self.plan = [(inp, colmap[inp.id], _parser(inp), headers[colmap[inp.id]])
                     for inp in ruleset.inputs if inp.id in colmap]
        self.absent = [inp for inp in ruleset.inputs if inp.id not in colmap]
        self.problems: list[Problem] = []
        self.accounts: list[dict[str, Any]] = []
        self.rows: list[int] = []
        self.gaps: Counter = Counter()
        self.defaulted: Counter = Counter()
        self.rejects: list[dict[str, Any]] = []
        self.seen_ids: dict[Any, int] = {}
        # the column-at-a-time reading of CSV chunks
        self.need = cells_needed(colmap)
        idxs = [idx for _, idx, _, _ in self.plan]
        self.pick: Callable[[list[str]], tuple[str, ...]] = (
            itemgetter(*idxs) if len(idxs) > 1 else (lambda row: (row[idxs[0]],)) if idxs
            else (lambda row: ()))
        self.columns: list[tuple[Input, _ColumnMemo | None]] = []
        for inp, _, parse, _ in self.plan:
            plain = parse is str.strip and inp.min is None and inp.max is None
            self.columns.append((inp, None if plain else _ColumnMemo(inp, parse)))
        plan_ids = [inp.id for inp, _, _, _ in self.plan]
        self.id_pos = plan_ids.index(self.id_input) if self.id_input in plan_ids else None
        self.texts: dict[str, str] = {}  # text cells that repeat, each kept once

    def read(self, records: Iterator[Any]) -> None:
        if self.keyed:
            self.slow(records)
            return
        records = iter(records)
        while True:
            chunk: list[tuple[int, list[str]]] = []
            error: DataError | None = None
            try:
                for record in islice(records, _CHUNK):
                    chunk.append(record)
            except DataError as exc:  # a CSV error after some rows: those rows come first
                error = exc
            if chunk and not self.fast(chunk) and self.slow(chunk):
                return  # stopped after MAX_PROBLEMS
            if error is not None:
                raise error
            if len(chunk) < _CHUNK:
                return

    def fast(self, chunk: list[tuple[int, list[str]]]) -> bool:
        """Read a chunk of CSV rows a column at a time; False (nothing recorded) when any
        row has a problem, so that the chunk is read again row by row."""
        lines, rows = zip(*chunk)
        n = len(rows)
        if min(map(len, rows)) < self.need:
            return False
        cells = list(zip(*map(self.pick, rows))) if self.plan else []
        out: list[list[Any]] = []
        blanks: list[tuple[int, int]] = []
        for (inp, memo), col in zip(self.columns, cells):
            first = 0  # row of the first blank cell
            vals: list[Any] | None
            if memo is None:  # text: the stripped cell, blank -> default
                vals = list(map(str.strip, col))
                sample = vals[:_TEXT_SAMPLE]
                if len(set(sample)) * 4 <= len(sample):  # a tier, a CSM: one object per text
                    texts = self.texts
                    if len(texts) > _MEMO_MAX:
                        texts.clear()
                    vals = list(map(texts.setdefault, vals, vals))
                nblank = vals.count("")
                if nblank:
                    if inp.required:
                        return False
                    first = vals.index("")
                    default = inp.default
                    vals = [default if v == "" else v for v in vals]
            elif inp.type == "money" and (vals := _money_column(inp, col)) is not None:
                nblank = 0  # plain numbers all (mostly distinct amounts: no memo)
            else:
                vals = list(map(memo.__getitem__, col))
                if memo.bad and not memo.bad.isdisjoint(col):
                    return False
                nblank = 0
                if memo.blank and not memo.blank.isdisjoint(col):
                    if inp.required:
                        return False
                    present = [b for b in memo.blank if b in col]
                    nblank = sum(col.count(b) for b in present)
                    first = min(col.index(b) for b in present)
            out.append(vals)
            blanks.append((first, nblank))
        by_key: dict[str, Any] = {inp.id: vals for (inp, _), vals in zip(self.columns, out)}
        for inp in self.absent:
            by_key[inp.id] = [inp.default] * n
        ids = by_key.get(self.id_input) or [None] * n
        if None in ids or len(set(ids)) != n or not self.seen_ids.keys().isdisjoint(ids):
            return False  # blank or duplicate ids: row by row
        # no problem in this chunk: record it exactly as the row-by-row reading would, the
        # counts' keys in the order rows and columns first meet them
        counts = [(first, i, inp, nblank)
                  for i, ((inp, _), (first, nblank)) in enumerate(zip(self.columns, blanks))
                  if nblank]
        counts += [(0, len(self.columns) + j, inp, n) for j, inp in enumerate(self.absent)]
        for _, _, inp, count in sorted(counts, key=lambda c: c[:2]):
            self.gaps[inp.id] += count
            if inp.default is not None:
                self.defaulted[inp.id] += count
        self.seen_ids.update(zip(ids, lines))
        by_key["account_id"] = ids
        parts = self.chunk_values(by_key, n)
        self.rows.extend(lines)
        if self.columns_only:
            # (parts added but not the columns: make_dicts pairs the accounts so far with
            # their own parts, and this chunk's go with its dicts below)
            if (isinstance(parts, PartColumns) and self.parts.extend(parts)
                    and self.add_columns(by_key)):
                self.compact_if_large()
                return True
            self.make_dicts()
        accounts = dicts_of(by_key)
        self.accounts.extend(accounts)
        if parts is not None and self.prepared is not None:
            self.prepared.extend(zip(accounts, parts))
            if not self.add_columns(by_key):
                self.by_field = None
        else:
            self.by_field = None
            self.prepare_each(accounts)
        return True

    def add_columns(self, by_key: dict[str, list[Any]]) -> bool:
        """A chunk's columns (its accounts' dicts are built from them) after the others';
        False (nothing added) where there are none or they do not line up."""
        by_field = self.by_field
        if by_field is None:
            return False
        if not by_field:  # the first chunk
            by_field.update((name, list(column)) for name, column in by_key.items())
        elif by_field.keys() == by_key.keys():
            for name, column in by_key.items():
                by_field[name] = join(by_field[name], column)  # (in place)
        else:
            return False
        return True

    def compact_if_large(self) -> None:
        """Once the rows read tell a large portfolio (``part_of`` it is read here), its
        columns and score parts are compact (tierbook.columns), and every chunk after is
        joined to them compact: the reader never holds a large portfolio as lists."""
        if (not self.compacted and self.by_field is not None
                and worth_compacting(len(self.rows) * self.part_of)):
            compact_all(self.by_field)
            self.parts.compacted()
            self.compacted = True

    def make_dicts(self) -> None:
        """``columns_only`` ends: the accounts read so far get their dicts (and their
        (values, parts)), as every account gets from here on; no columns are kept."""
        if not self.columns_only:
            return
        self.columns_only = False
        by_field, self.by_field = self.by_field, None
        if by_field:
            self.accounts = dicts_of(by_field)
            if self.prepared is not None:
                self.prepared = list(zip(self.accounts, self.parts))
        self.parts = PartColumns({}, 0)

    def chunk_values(self, by_key: dict[str, list[Any]], n: int) -> Sequence[Any] | None:
        """The values of a chunk's accounts added to its columns (the accounts' dicts are
        built from them with their values) and each account's score parts (as columns while
        ``columns_only``); None where they are computed account by account."""
        columns_of = self.values.columns if self.prepared is not None else None
        if columns_of is None:
            return None
        try:
            extra, parts = columns_of(by_key, n, self.columns_only)
        except Exception:  # noqa: BLE001 - account by account, where it fails as usual
            return None
        by_key.update(extra)
        return parts

    def slow(self, records: Any) -> bool:
        """Row by row; True when reading stopped after MAX_PROBLEMS."""
        file, headers, keyed, colmap = self.file, self.headers, self.keyed, self.colmap
        id_input, problems = self.id_input, self.problems
        gaps, defaulted = self.gaps, self.defaulted
        seen_ids = self.seen_ids
        self.make_dicts()
        self.by_field = None  # accounts read row by row have no columns
        for line, record in records:
            account: dict[str, Any] = {}
            row_problems: list[Problem] = []
            for inp, idx, parse, header in self.plan:
                if keyed:
                    raw = record.get(header)
                else:
                    raw = record[idx] if idx < len(record) else ""
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    value = None
                else:
                    try:
                        value = _typed(inp, raw, parse) if keyed else parse(raw)
                    except BadValue as exc:
                        row_problems.append(Problem(file, line, idx + 1, header,
                                                    f"{str(raw)!r} {exc}", "bad-value"))
                        continue
                    if (inp.min is not None and value < inp.min
                            or inp.max is not None and value > inp.max):
                        bounds = (f"{inp.min if inp.min is not None else '-inf'}.."
                                  f"{inp.max if inp.max is not None else 'inf'}")
                        row_problems.append(Problem(file, line, idx + 1, header,
                                                    f"{str(raw)!r} is outside {bounds}",
                                                    "out-of-range"))
                        continue
                if value is None:
                    gaps[inp.id] += 1
                    if inp.required:
                        row_problems.append(Problem(file, line, idx + 1, header,
                                                    "required value is blank", "blank"))
                    elif inp.default is not None:
                        value = inp.default
                        defaulted[inp.id] += 1
                account[inp.id] = value
            for inp in self.absent:
                account[inp.id] = inp.default
                gaps[inp.id] += 1
                if inp.default is not None:
                    defaulted[inp.id] += 1
            account_id = account.get(id_input)
            if account_id is not None and not row_problems:
                if account_id in seen_ids:
                    row_problems.append(Problem(
                        file, line, colmap[id_input] + 1, headers[colmap[id_input]],
                        f"duplicate account id '{account_id}' (first on line {seen_ids[account_id]})",
                        "duplicate-id"))
                else:
                    seen_ids[account_id] = line
            if row_problems:
                if self.on_error == "skip":
                    self.rejects.append({"line": line, "account_id": account_id,
                                         "arr": account.get(self.arr_input),
                                         "reasons": [str(p) for p in row_problems]})
                    continue
                problems.extend(row_problems)
                if len(problems) >= MAX_PROBLEMS:
                    return True
                continue
            account["account_id"] = account_id if id_input == "account_id" else account.get(id_input)
            self.accounts.append(account)
            self.rows.append(line)
            self.prepare_each((account,))
        return False

    def prepare_each(self, accounts: Sequence[dict[str, Any]]) -> None:
        if self.prepared is None:
            return
        try:
            self.prepared.extend(map(self.values.one, accounts))
        except Exception:  # noqa: BLE001 - the caller computes them all, and reports it
            self.prepared = None


def _build(file: str, digest: str, headers: list[str], records: Iterator[Any], ruleset: Ruleset,
           on_error: str, keyed: bool, values: Any = None) -> Portfolio:
    colmap, ignored, missing = columns(file, headers, ruleset)
    b = _Builder(file, headers, ruleset, on_error, keyed, colmap, values)
    with _bulk():
        b.read(records)
    return finish(b, file, digest, headers, colmap, ignored, missing)


def _nearest_column(inp: Input, unclaimed: list[str]) -> str:
    """A hint naming the file's column that looks like ``inp``'s: the same name once a unit
    in brackets is dropped ('ARR ($)', 'Annual Revenue (USD)'), else a close spelling."""
    names = {normalise(n) for n in (inp.id,) + inp.aliases}
    for header in unclaimed:
        if normalise(re.sub(r"[(\[].*?[)\]]", "", header)) in names:
            return (f"; the file has '{header}': rename that column, or add it to the input's "
                    "aliases")
    by_norm = {normalise(h): h for h in unclaimed}
    near = difflib.get_close_matches(normalise(inp.id), sorted(by_norm), n=1, cutoff=0.6)
    return f" (did you mean '{by_norm[near[0]]}'?)" if near else ""


def columns(file: str, headers: list[str], ruleset: Ruleset
            ) -> tuple[dict[str, int], list[str], list[str]]:
    """Each input's column, the columns no input reads, the optional inputs with no
    column; a DataError naming every required column that is missing."""
    colmap, ignored = match_columns(ruleset, headers)
    problems: list[Problem] = []
    missing = []
    for inp in ruleset.inputs:
        if inp.id not in colmap:
            if inp.required:
                problems.append(Problem(file, 1, 1, inp.id, f"missing required column '{inp.id}'"
                                        + (f" (or {', '.join(inp.aliases)})" if inp.aliases else "")
                                        + _nearest_column(inp, ignored), "missing-column"))
            else:
                missing.append(inp.id)
    if problems:
        raise DataError("missing columns", problems)
    return colmap, ignored, missing


def finish(b: _Builder, file: str, digest: str, headers: list[str], colmap: dict[str, int],
           ignored: list[str], missing: list[str]) -> Portfolio:
    problems = b.problems
    if problems:
        note = f" (stopped after {MAX_PROBLEMS})" if len(problems) >= MAX_PROBLEMS else ""
        raise DataError(f"{file}: {len(problems)} bad value(s){note}", problems)
    if not b.rows:  # (a line per account read)
        raise DataError("no accounts", [Problem(file, 2, 1, "", "no account rows"
                                                + (" left after skipping rejects" if b.rejects else ""),
                                                "empty")])
    accounts: Sequence[dict[str, Any]] = b.accounts
    prepared: Sequence[tuple[dict[str, Any], Any]] | None = b.prepared
    by_field = b.by_field if b.prepared is not None else None
    if b.columns_only:  # every account as columns still: dicts when asked for
        if by_field is None or prepared is None:
            b.make_dicts()
            accounts, prepared = b.accounts, b.prepared
        else:
            if worth_compacting(len(b.rows)):  # (a large portfolio: tierbook.columns)
                compact_all(by_field)
                b.parts.compacted()
            accounts = Rows(by_field)
            prepared = Prepared(accounts, b.parts)
    return Portfolio(file, digest, accounts, b.rows, {k: headers[v] for k, v in colmap.items()},
                     ignored, b.gaps, b.defaulted, missing, b.rejects, prepared, by_field)
