"""The events reader as it was before its checks ran column-wise (a per-row Python loop
over dicts): the reference ``tierbook.portfolio.events.read_events`` is held to, event for
event and problem for problem (tests/test_events_read.py). Kept as it was; not used by
tierbook itself."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from functools import lru_cache
from math import isfinite
from pathlib import Path
from typing import Any

from tierbook.errors import DataError, Problem, suggest
from tierbook.portfolio.cells import parse_integer, parse_money
from tierbook.portfolio.event_types import ACCOUNT_TYPES, TYPES
from tierbook.portfolio.events import Event

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def _not_events(file: str, message: str, code: str) -> DataError:
    return DataError(message, [Problem(file, 0, 0, "", message, code)])


def _problem(file: str, line: int, column: str, message: str) -> Problem:
    return Problem(file, line, 1, column, message, "bad-event")


@lru_cache(maxsize=256)
def _is_quarter(text: str) -> bool:
    return QUARTER.match(text) is not None


def read_events(
    path: str, display: str | None = None, on_error: str = "fail"
) -> tuple[list[Event], list[dict[str, Any]]]:
    file = display or path
    p = Path(path)
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
    rows: list[tuple[int, dict[str, Any]]] = []
    positions: dict[str, int] = {}  # a CSV field's column (a problem's field names it)
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
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
    else:
        # as csv.DictReader reads it (the first line is the header; blank lines are skipped;
        # a short row lacks its last keys), without its per-row Python
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
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
        positions = {name: n for n, name in enumerate(header, start=1)}
        for cells in reader:
            if cells:
                rows.append((reader.line_num, dict(zip(header, cells))))
    if not rows:
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
    events: list[Event] = []
    problems: list[Problem] = []
    skipped: list[dict[str, Any]] = []
    last_quarter = ""
    for line, row in rows:
        errs: list[Problem] = []
        if "__bad__" in row:
            errs.append(_problem(file, line, "", "each line must be a JSON object"))
        quarter = str(row.get("quarter") or "").strip()
        kind = str(row.get("type") or "").strip()
        account = str(row.get("account_id") or "").strip()
        if not _is_quarter(quarter):
            errs.append(
                _problem(file, line, "quarter", f"{quarter!r} is not a quarter like 2026Q3")
            )
        elif last_quarter and quarter < last_quarter:
            errs.append(
                _problem(
                    file,
                    line,
                    "quarter",
                    f"quarter {quarter} comes after "
                    f"{last_quarter}: events must be in quarter order",
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
            errs.append(_problem(file, line, "field", f"{fname!r} is given twice, as field "
                                 "and value and in fields: give it once"))
        if fname:
            fields[fname] = value
        article = "an" if kind[:1] in "aeiou" else "a"
        if kind in ACCOUNT_TYPES and not account:
            errs.append(_problem(file, line, "account_id",
                                 f"{article} {kind} event needs an account_id"))
        arr_kinds = ("renewal", "expansion", "contraction", "reactivation")
        if kind in arr_kinds and set(fields) - {"arr"}:
            other = ", ".join(repr(name) for name in fields if name != "arr")
            errs.append(_problem(file, line, "field", f"{article} {kind} event changes the ARR "
                                 f"(field arr), not {other}: send another input's new value "
                                 "as a signal event"))
        elif kind in arr_kinds:
            v = fields.get("arr", value)
            try:
                # the portfolio's money reader: "$1,200.50", "12.5k"; a decimal comma, NaN or
                # infinity is an error, not a misread amount
                try:
                    amount = (
                        float(v)
                        if isinstance(v, (int, float)) and not isinstance(v, bool)
                        else parse_money(str(v))
                    )
                except OverflowError:  # a JSON whole number beyond any double
                    raise ValueError("too large") from None
                if not isfinite(amount):
                    raise ValueError
                if kind in ("expansion", "contraction") and amount <= 0:
                    raise ValueError
                if kind in ("renewal", "reactivation") and amount < 0:
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
                        f"{'positive ARR change' if kind in ('expansion', 'contraction') else 'non-negative ARR'}, "
                        f"got {v!r}{why}",
                    )
                )
        elif kind == "signal" and not fields:
            errs.append(_problem(file, line, "field", "a signal names the field that changed"))
        elif kind == "signal" and "account_id" in fields:
            errs.append(_problem(file, line, "field", "a signal cannot change an account's id "
                                 "(account_id names the account the event is for)"))
        elif kind == "capacity_change":
            v = fields.get("csms", value)
            try:
                csms = parse_integer(str(v))
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
        if errs:
            errs = [replace(e, column=positions.get(e.path, 1)) for e in errs]
            problems += errs  # (skipped: reported only if no event is left)
            if on_error == "skip":
                skipped.append({"line": line, "reasons": [str(e) for e in errs]})
            continue
        if quarter > last_quarter:
            last_quarter = quarter
        events.append(Event(line, quarter, account, kind, fields, str(value)))
    if problems and on_error != "skip":
        raise DataError(f"{file}: {len(problems)} bad event(s)", problems[:200])
    if not events:
        summary = f"every event was skipped as bad ({len(skipped)}): nothing to replay"
        raise DataError(summary, [Problem(file, 0, 0, "", summary, "no-events"), *problems[:200]])
    return events, skipped
