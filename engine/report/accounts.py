"""accounts.csv and accounts.jsonl: one row per account, written a column at a time.

A row is the account's own values (id, name, ARR, scores) and what its firing path decided
(bands, decisions, tier, cell, flags, comments, review hints, motion).  Every account on a
path shares what the path decided, so those fields are rendered once per path and each
account takes its path's text; only the account's own values are rendered per account,
once per distinct value where values repeat.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from math import isfinite
from typing import Any

from ..assess.result import SegmentResult

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 20000  # accounts whose rendered rows are in memory at once


@dataclass
class AccountColumns:
    """The account table: the account's own columns, one value per account, then the
    columns decided per path (one value per path, ``path_of`` each account's path)."""

    own: dict[str, Sequence[Any]]
    decided: dict[str, list[Any]]  # column -> value per path, in ``paths`` order
    paths: dict[int, int]  # path id -> its position in ``decided``
    path_of: Sequence[int]  # each account's path id
    tail: dict[str, Sequence[Any]] = field(default_factory=dict)  # own columns, after the rest

    @property
    def names(self) -> list[str]:
        return [*self.own, *self.decided, *self.tail]

    def __len__(self) -> int:
        return len(self.path_of)

    def rows(self) -> list[dict[str, Any]]:
        """Every account's row as a dict (``--format json``, tests)."""
        at = [self.paths[p] for p in self.path_of]
        columns = {
            **self.own,
            **{name: [column[i] for i in at] for name, column in self.decided.items()},
            **self.tail,
        }
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values())]


def account_columns(result: SegmentResult) -> AccountColumns:
    rs = result.ruleset
    ev = result.evaluation
    arr_field = rs.role("arr") or "arr"
    name_field = rs.role("name")
    own: dict[str, Sequence[Any]] = {"account_id": ev.account_ids()}
    if name_field:
        own["account_name"] = ev.column(name_field)
    own["arr"] = ev.column(arr_field)
    for s in rs.scores:
        own[s.id] = ev.column(s.id)
    motion = {t.id: t.motion.get("motion", t.label) for t in rs.tiers}
    firsts = [d for d, _ in ev.by_path()]
    decided: dict[str, list[Any]] = {}
    for b in rs.bands:
        decided[b.id] = [d.bands.get(b.id) for d in firsts]
    for dec in rs.decisions:
        decided[dec.id] = [d.decisions.get(dec.id) for d in firsts]
    decided["tier"] = [d.tier for d in firsts]
    decided["cell"] = [d.cell for d in firsts]
    decided["flags"] = [list(d.flags) for d in firsts]
    decided["comments"] = [list(d.comments) for d in firsts]
    decided["reviews"] = [list(d.reviews) for d in firsts]
    decided["motion"] = [motion[d.motion] for d in firsts]
    tail: dict[str, Sequence[Any]] = {}
    for role in ("csm", "current_tier"):  # (the CRM's own, as read: the book they move from)
        source = rs.role(role)
        if source and source in ev.frame.columns:
            tail[role] = ev.column(source)
    paths = {d.path_id: i for i, d in enumerate(firsts)}
    if result.overrides is not None:  # (every column per account: overrides are per account)
        from ..overrides.segment import effective_columns

        at = [paths[p] for p in ev.path_ids()]
        return AccountColumns(
            effective_columns(result.overrides, own, decided, at, motion),
            {},
            paths,
            ev.path_ids(),
            tail,
        )
    return AccountColumns(own, decided, paths, ev.path_ids(), tail)


# -- CSV ---------------------------------------------------------------------------------


def _csv_cells(name: str, column: Sequence[Any]) -> list[Any]:
    """A column's cells: lists joined with ';', ARR to the cent, other numbers to four places
    without trailing zeros, blanks empty, text formulas neutralised (CSV injection)."""
    money = name == "arr"
    kinds = set(map(type, column))
    if kinds <= {float, type(None)}:
        found: dict[float | None, str] = {}
        # (0.0 and -0.0 are equal keys but not equal texts)
        texts = [
            found[v]
            if v in found
            else _csv_number(v, money)
            if v == 0
            else found.setdefault(v, _csv_number(v, money))
            for v in column
        ]
        return [("'" + t) if t.startswith(FORMULA_START) else t for t in texts]
    if kinds <= {str}:
        return [("'" + t) if t.startswith(FORMULA_START) else t for t in column]
    cells = [_csv_value(v, money) for v in column]
    return [("'" + c) if isinstance(c, str) and c.startswith(FORMULA_START) else c for c in cells]


def _csv_number(v: float | None, money: bool) -> str:
    if v is None:
        return ""
    return f"{v:.2f}" if money else f"{v:.4f}".rstrip("0").rstrip(".")


def _csv_value(v: Any, money: bool) -> Any:
    """A cell as csv writes it: text, or a whole number or yes/no as it is."""
    if isinstance(v, list):
        return ";".join(v)
    if isinstance(v, float):
        return _csv_number(v, money)
    return "" if v is None else v


def write_csv(result: SegmentResult, path: str) -> None:
    write_table_csv(account_columns(result), path)


def write_table_csv(table: AccountColumns, path: str) -> None:
    decided = list(zip(*(_csv_cells(name, column) for name, column in table.decided.items())))
    if not table.decided:  # (every column is the account's own)
        decided = [()] * len(table.paths)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(table.names)
        for start in range(0, len(table), BATCH):
            stop = start + BATCH
            own = zip(*(_csv_cells(name, column[start:stop]) for name, column in table.own.items()))
            at = table.paths
            rows = map(tuple.__add__, own, [decided[at[p]] for p in table.path_of[start:stop]])
            if table.tail:
                tail = zip(*(_csv_cells(n, column[start:stop]) for n, column in table.tail.items()))
                rows = map(tuple.__add__, rows, tail)
            writer.writerows(rows)


# -- JSON Lines --------------------------------------------------------------------------

_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(v, ensure_ascii=False)
_encode_text = json.encoder.encode_basestring  # what _encode does with a str


def _json_cells(column: Sequence[Any]) -> list[str]:
    """Each value as json.dumps(ensure_ascii=False) writes it, once per distinct value."""
    kinds = set(map(type, column))
    if kinds <= {str}:
        return list(map(_encode_text, column))
    if kinds <= {float, type(None)} and all(map(isfinite, filter(None, column))):
        return ["null" if v is None else float.__repr__(v) for v in column]  # (as json does)
    if kinds <= {float, int, str, type(None)}:  # (hashable: rendered once per value)
        found: dict[tuple[type, Any], str] = {}
        out = []
        for v in column:
            key = (type(v), v)
            text = found.get(key)
            if text is None:
                text = _encode(v)
                if v != 0:  # (0.0 and -0.0 are equal keys but not equal texts)
                    found[key] = text
            out.append(text)
        return out
    return list(map(_encode, column))


def write_jsonl(result: SegmentResult, path: str) -> None:
    write_table_jsonl(account_columns(result), path)


def write_table_jsonl(table: AccountColumns, path: str) -> None:
    """The same text as json.dumps(row, ensure_ascii=False) of each account's row dict."""
    own_names = list(table.own)
    decided = [_json_cells(column) for column in table.decided.values()]
    keys = [_encode(name) + ": " for name in table.decided]
    end = "" if table.tail else "}\n"  # (the tail's columns close the row instead)
    pieces = [
        "".join(", " + k + v for k, v in zip(keys, cells, strict=True)) + end
        for cells in zip(*decided)
    ]
    if not decided:
        pieces = [end] * len(table.paths)
    tail_keys = [", " + _encode(name) + ": " for name in table.tail]
    prefix = ["{" + _encode(own_names[0]) + ": "] + [
        ", " + _encode(n) + ": " for n in own_names[1:]
    ]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, len(table), BATCH):
            stop = start + BATCH
            columns = [
                list(map(str.__add__, repeat(p), _json_cells(column[start:stop])))
                for p, column in zip(prefix, table.own.values(), strict=True)
            ]
            columns.append([pieces[table.paths[p]] for p in table.path_of[start:stop]])
            for k, column in zip(tail_keys, table.tail.values(), strict=True):
                columns.append(list(map(str.__add__, repeat(k), _json_cells(column[start:stop]))))
            if table.tail:
                columns.append(["}\n"] * len(columns[0]))
            fh.write("".join(map("".join, zip(*columns))))
