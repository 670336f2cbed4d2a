"""Read a portfolio (CSV, JSON Lines or Parquet) into typed account inputs.

Columns are matched through the ruleset's ids and aliases (exactly, then ignoring case and
separators), so raw Salesforce and HubSpot exports work.  Values are read the way people
export them: "$1,200.50", "12.5%", "Yes", "06/20/2025", blank cells.  Every value that
cannot be read is reported with its row, column and value.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import DataError, Problem, suggest
from .model import Input, Ruleset

MAX_PROBLEMS = 200
_BOOL = {"true": True, "t": True, "yes": True, "y": True, "1": True,
         "false": False, "f": False, "no": False, "n": False, "0": False}
_MONEY_STRIP = re.compile(r"[\s,$€£¥]|USD|EUR|GBP", re.IGNORECASE)
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}


class BadValue(ValueError):
    pass


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    s = text.strip()
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    s = _MONEY_STRIP.sub("", s)
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


@dataclass
class Portfolio:
    file: str
    sha256: str
    accounts: list[dict[str, Any]]
    rows: list[int]  # line (CSV/JSONL) of each account, for messages
    columns: dict[str, str]  # input id -> column name as found
    ignored_columns: list[str]
    gaps: Counter = field(default_factory=Counter)  # input id -> blank cells (incl. defaulted)
    defaulted: Counter = field(default_factory=Counter)
    missing_columns: list[str] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [a["account_id"] for a in self.accounts]


def _records_csv(text: str, file: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text))
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

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                yield reader.line_num, row
        except csv.Error as exc:
            raise DataError("bad CSV", [Problem(file, reader.line_num, 1, "",
                                                f"cannot read CSV: {exc}", "csv")])
    return headers, rows()


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
                   display: str | None = None) -> Portfolio:
    file = display or path
    p = Path(path)
    if not p.exists():
        raise DataError("not found", [Problem(file, 0, 0, "", "file not found", "not-found")])
    raw = p.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        headers, records = _records_parquet(path, file)
        return _build(file, digest, headers, iter(records), ruleset, on_error, keyed=True)
    if not raw.strip():
        raise DataError("empty", [Problem(file, 1, 1, "", "file is empty: expected a header row "
                                          "and one row per account", "empty")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError("encoding", [Problem(file, 0, 0, "", f"file is not UTF-8 (byte {exc.start}); "
                                             "re-export it as UTF-8 CSV", "encoding")])
    if suffix in (".jsonl", ".ndjson", ".json"):
        headers, records = _records_jsonl(text, file)
        return _build(file, digest, headers, iter(records), ruleset, on_error, keyed=True)
    headers, rows = _records_csv(text, file)
    return _build(file, digest, headers, rows, ruleset, on_error, keyed=False)


def _build(file: str, digest: str, headers: list[str], records: Iterator[Any], ruleset: Ruleset,
           on_error: str, keyed: bool) -> Portfolio:
    colmap, ignored = match_columns(ruleset, headers)
    problems: list[Problem] = []
    id_input = ruleset.role("account_id") or "account_id"
    arr_input = ruleset.role("arr") or "arr"
    missing = []
    for inp in ruleset.inputs:
        if inp.id not in colmap:
            if inp.required:
                problems.append(Problem(file, 1, 1, inp.id, f"missing required column '{inp.id}'"
                                        + (f" (or {', '.join(inp.aliases)})" if inp.aliases else "")
                                        + suggest(inp.id, headers), "missing-column"))
            else:
                missing.append(inp.id)
    if problems:
        raise DataError("missing columns", problems)
    plan = [(inp, colmap[inp.id], _parser(inp), headers[colmap[inp.id]])
            for inp in ruleset.inputs if inp.id in colmap]
    absent = [inp for inp in ruleset.inputs if inp.id not in colmap]
    accounts: list[dict[str, Any]] = []
    rows: list[int] = []
    gaps: Counter = Counter()
    defaulted: Counter = Counter()
    rejects: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for line, record in records:
        account: dict[str, Any] = {}
        row_problems: list[Problem] = []
        for inp, idx, parse, header in plan:
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
                if inp.min is not None and value < inp.min or inp.max is not None and value > inp.max:
                    bounds = f"{inp.min if inp.min is not None else '-inf'}..{inp.max if inp.max is not None else 'inf'}"
                    row_problems.append(Problem(file, line, idx + 1, header,
                                                f"{str(raw)!r} is outside {bounds}", "out-of-range"))
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
        for inp in absent:
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
            if on_error == "skip":
                rejects.append({"line": line, "account_id": account_id,
                                "arr": account.get(arr_input),
                                "reasons": [str(p) for p in row_problems]})
                continue
            problems.extend(row_problems)
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        account["account_id"] = account_id if id_input == "account_id" else account.get(id_input)
        accounts.append(account)
        rows.append(line)
    if problems:
        note = f" (stopped after {MAX_PROBLEMS})" if len(problems) >= MAX_PROBLEMS else ""
        raise DataError(f"{file}: {len(problems)} bad value(s){note}", problems)
    if not accounts:
        raise DataError("no accounts", [Problem(file, 2, 1, "", "no account rows"
                                                + (" left after skipping rejects" if rejects else ""),
                                                "empty")])
    return Portfolio(file, digest, accounts, rows, {k: headers[v] for k, v in colmap.items()},
                     ignored, gaps, defaulted, missing, rejects)
