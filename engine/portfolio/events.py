"""Read quarterly events (docs/language.md): `quarter,account_id,type,field,value`.

CSV or JSON Lines (where `fields` may carry several values at once).  Quarters look like
2026Q3 and must not go backwards.  Problems are reported with the line; account-level
checks (unknown account, event after churn) happen during replay, where the portfolio is
known, with the same line numbers.

The rows are read into columns and checked a column at a time (``events_columns``); each
row those checks cannot pass goes through ``_checked``, the per-row check, which is the one
source of what a row means and of every message.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import compress, repeat
from pathlib import Path
from typing import Any

from ..errors import DataError, Problem, suggest
from .event_types import ACCOUNT_TYPES as ACCOUNT_TYPES  # (the reader's vocabulary)
from .event_types import TYPES as TYPES
from .events_columns import (
    ARR_TYPES,
    POSITIVE_TYPES,
    Rows,
    arr_amount,
    checked,
    csv_header,
    csv_rows,
    headcount,
    json_rows,
    quarter_order,
)

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass
class Event:
    line: int
    quarter: str
    account_id: str
    type: str
    fields: dict[str, Any] = field(default_factory=dict)  # field -> raw value
    value: str = ""
    # a CSV file's header: each of its names' column, 1-based (a JSON line has no columns)
    columns: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def column(self, name: str) -> int:
        """The column of the cell a problem with ``name`` is in: the header's column so
        named, or the value column of the field the event changes; 1 where neither is."""
        if name in self.columns:
            return self.columns[name]
        return self.columns.get("value", 1) if name in self.fields else 1


@lru_cache(maxsize=256)  # (asked of every event: a file has a few quarters)
def quarter_end(quarter: str) -> dt.date:
    m = QUARTER.match(quarter)
    if not m:
        raise ValueError(quarter)
    year, q = int(m.group(1)), int(m.group(2))
    month = q * 3
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    return next_first - dt.timedelta(days=1)


def _not_events(file: str, message: str, code: str) -> DataError:
    return DataError(message, [Problem(file, 0, 0, "", message, code)])


def _problem(file: str, line: int, column: str, message: str) -> Problem:
    return Problem(file, line, 1, column, message, "bad-event")


@lru_cache(maxsize=256)
def _a(kind: str) -> str:
    """'a renewal', 'an expansion'."""
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _is_quarter(text: str) -> bool:
    return QUARTER.match(text) is not None


def _out_of_range(quarter: str) -> bool:
    """Year 0, or 9999Q4 (a quarter's changes run to the next quarter's first day)."""
    m = QUARTER.match(quarter)
    return m is not None and not (1, 1) <= (int(m.group(1)), int(m.group(2))) <= (9999, 3)


def read_events(
    path: str, display: str | None = None, on_error: str = "fail"
) -> tuple[list[Event], list[dict[str, Any]]]:
    """The events of the file at ``path`` (named ``display`` in messages), in file order,
    and the bad lines left out (``on_error="skip"``; otherwise a bad line is a DataError
    naming every bad line, the first 200 of their problems)."""
    file = display or path
    p = Path(path)
    text = _text(file, p)
    positions: dict[str, int] = {}  # a CSV field's column (1-based); JSON names it alone
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = json_rows(_objects(file, text))
    else:
        header, start = csv_header(text)
        missing = [c for c in ("quarter", "account_id", "type") if c not in header]
        if missing:
            raise DataError(
                "bad header",
                [
                    _problem(
                        file,
                        1,
                        missing[0],
                        f"missing column '{missing[0]}'"
                        " (expected quarter,account_id,type,field,value)",
                    )
                ],
            )
        rows = csv_rows(text, header, start)
        positions = {name: n for n, name in enumerate(header, start=1)}  # (the last so named)
    if not rows.frame.height:
        raise DataError(
            "no events",
            [
                Problem(
                    file,
                    1,
                    1,
                    "",
                    "file has no events (only a header): nothing to replay",
                    "no-events",
                )
            ],
        )
    events, problems, skipped = _events(file, rows, on_error, positions)
    if problems and on_error != "skip":
        raise DataError(f"{file}: {len(problems)} bad event(s)", problems[:200])
    if not events:
        summary = f"every event was skipped as bad ({len(skipped)}): nothing to replay"
        raise DataError(summary, [Problem(file, 0, 0, "", summary, "no-events"), *problems[:200]])
    return events, skipped


def _text(file: str, p: Path) -> str:
    """The events file's text, or the error that says why there is none."""
    if not p.exists():
        raise DataError("not found", [Problem(file, 0, 0, "", "file not found", "not-found")])
    if not p.is_file():
        raise _not_events(file, "is a folder, not an events file (.csv or .jsonl)", "not-a-file")
    if p.suffix.lower() in (".parquet", ".pq"):
        raise _not_events(
            file,
            "events are read from CSV or JSON Lines (.csv, .jsonl), not Parquet: "
            "export the events as CSV",
            "format",
        )
    try:
        text = p.read_bytes().decode("utf-8-sig", "replace")
    except OSError as exc:
        raise _not_events(file, f"cannot read: {exc.strerror}", "unreadable") from None
    if not text.strip():
        raise DataError(
            "empty",
            [
                Problem(
                    file,
                    1,
                    1,
                    "",
                    "file is empty: expected a header quarter,account_id,type,field,value",
                    "empty",
                )
            ],
        )
    return text


def _objects(file: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    """Each JSON line's object with its line (``{"__bad__": value}`` where it is no object);
    the first line that is not JSON is an error."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, text_line in enumerate(text.splitlines(), start=1):
        if text_line.strip():
            try:
                obj = json.loads(text_line)
            except json.JSONDecodeError as exc:
                why = f"invalid JSON: {exc.msg}"
                raise DataError(
                    "bad JSON", [Problem(file, n, exc.colno, "", why, "bad-event")]
                ) from None
            except RecursionError:
                raise DataError(
                    "bad JSON", [_problem(file, n, "", "invalid JSON: nested too deep")]
                ) from None
            rows.append((n, obj if isinstance(obj, dict) else {"__bad__": obj}))
    return rows


def _events(
    file: str, rows: Rows, on_error: str, positions: dict[str, int]
) -> tuple[list[Event], list[Problem], list[dict[str, Any]]]:
    """The good rows' events, every bad row's problems (at the column ``positions`` gives
    the field they name) and (``on_error="skip"``) the bad rows skipped.  The columns' checks pass most rows; each row they cannot pass goes
    through ``_checked``, and so does each bad row, for its messages.  A row whose quarter
    is below the latest of the good rows before it is bad too."""
    frame = checked(rows)
    lines = frame["line"]
    suspects = frame["suspect"].arg_true().to_list()
    # (as if no quarter came before: whether the rest of the row is good, and its event)
    by_row = {i: _checked(file, lines[i], rows.record(i), "") for i in suspects}
    passed = ~frame["suspect"] | frame["i"].is_in(
        [i for i, (errs, _) in by_row.items() if not errs]
    )
    late, latest = quarter_order(frame["quarter"], passed)
    problems: list[Problem] = []
    skipped: list[dict[str, Any]] = []
    bad = (~passed | late).arg_true()
    for i, last in zip(bad.to_list(), latest.gather(bad).to_list()):
        errs = (
            by_row[i][0]
            if i in by_row and not last
            else _checked(file, lines[i], rows.record(i), last)[0]
        )
        errs = [replace(e, column=positions.get(e.path, 1)) for e in errs]
        problems += errs  # (skipped: reported only if no event is left)
        if on_error == "skip":
            skipped.append({"line": lines[i], "reasons": [str(e) for e in errs]})
    plain = ~frame["suspect"] & ~late  # (the good rows the per-row check did not read)
    good = frame.filter(plain)
    values = list(compress(rows.values, plain.to_list()))
    fields = [
        {"arr": amount}
        if amount is not None
        else {"csms": csms}
        if csms is not None
        else {name: value}
        if name
        else {}
        for amount, csms, name, value in zip(
            good["amount"].to_list(), good["csms"].to_list(), good["field"].to_list(), values
        )
    ]
    events = list(
        map(
            Event,
            good["line"].to_list(),
            good["quarter"].to_list(),
            good["account_id"].to_list(),
            good["type"].to_list(),
            fields,
            map(str, values),
            repeat(positions),
        )
    )
    read = [by_row[i][1] for i in suspects if not by_row[i][0] and not late[i]]
    for e in read:
        e.columns = positions
    if read:
        events = sorted(events + read, key=lambda e: e.line)
    return events, problems, skipped


def _checked(
    file: str, line: int, row: dict[str, Any], last_quarter: str
) -> tuple[list[Problem], Event]:
    """One row's problems, in the order they are reported, and the event it makes where it
    has none; ``last_quarter``: the latest quarter of the good rows before it ("" where
    there is none)."""
    errs: list[Problem] = []
    if "__bad__" in row:
        errs.append(_problem(file, line, "", "each line must be a JSON object"))
    quarter = str(row.get("quarter") or "").strip()
    kind = str(row.get("type") or "").strip()
    account = str(row.get("account_id") or "").strip()
    if not _is_quarter(quarter):
        errs.append(_problem(file, line, "quarter", f"{quarter!r} is not a quarter like 2026Q3"))
    elif _out_of_range(quarter):
        message = f"quarter {quarter} is out of range: quarters run from 0001Q1 to 9999Q3"
        errs.append(_problem(file, line, "quarter", message))
    elif last_quarter and quarter < last_quarter:
        errs.append(
            _problem(
                file,
                line,
                "quarter",
                f"quarter {quarter} comes after {last_quarter}: events must be in quarter order",
            )
        )
    if kind not in TYPES:
        errs.append(
            _problem(file, line, "type", f"unknown event type {kind!r}" + suggest(kind, TYPES))
        )
    fields: dict[str, Any] = {}
    if isinstance(row.get("fields"), dict):
        fields.update(row["fields"])
    fname = str(row.get("field") or "").strip()
    value = row.get("value")
    value = "" if value is None else value
    if fname and fname in fields:
        errs.append(
            _problem(
                file,
                line,
                "field",
                f"{fname!r} is given twice, as field and value and in fields: give it once",
            )
        )
    if fname:
        fields[fname] = value
    if kind in ACCOUNT_TYPES and not account:
        errs.append(_problem(file, line, "account_id", f"{_a(kind)} event needs an account_id"))
    if kind in ARR_TYPES and set(fields) - {"arr"}:
        other = ", ".join(repr(name) for name in fields if name != "arr")
        errs.append(
            _problem(
                file,
                line,
                "field",
                f"{_a(kind)} event changes the ARR (field arr), not {other}: send another "
                "input's new value as a signal event",
            )
        )
    elif kind in ARR_TYPES:
        v = fields.get("arr", value)
        try:
            amount = arr_amount(v)
            if kind in POSITIVE_TYPES and amount <= 0:
                raise ValueError
            if kind not in POSITIVE_TYPES and amount < 0:
                raise ValueError
            fields = {"arr": amount}
        except ValueError as exc:
            why = f" ({exc})" if str(exc) else ""
            errs.append(
                _problem(
                    file,
                    line,
                    "value",
                    f"{kind} needs a "
                    f"{'positive ARR change' if kind in POSITIVE_TYPES else 'non-negative ARR'}, "
                    f"got {v!r}{why}",
                )
            )
    elif kind == "signal" and not fields:
        errs.append(_problem(file, line, "field", "a signal names the field that changed"))
    elif kind == "signal" and "account_id" in fields:
        errs.append(
            _problem(
                file,
                line,
                "field",
                "a signal cannot change an account's id (account_id names the account the "
                "event is for)",
            )
        )
    elif kind == "capacity_change":
        v = fields.get("csms", value)
        try:
            csms = headcount(v)
            if csms < 0:
                raise ValueError
            fields = {"csms": csms}
        except ValueError:
            errs.append(
                _problem(
                    file,
                    line,
                    "value",
                    f"capacity_change needs the new CSM headcount, got {v!r}",
                )
            )
    return errs, Event(line, quarter, account, kind, fields, str(value))
