"""accounts.csv and accounts.jsonl: one row per account, written a column at a time.

A row is the account's own values (id, name, ARR, scores) and what its firing path decided
(bands, decisions, tier, cell, flags, comments, review hints, motion).  Every account on a
path shares what the path decided, so those fields are rendered once per path and each
account takes its path's text; the account's own values are the evaluation's columns,
turned into text whole by polars (``cells``), and the lines are joined by polars too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..assess.result import SegmentResult
from ..evaluate.values import whole_as_int
from ..portfolio.frame import python_column
from .cells import (
    FORMULA_START,
    csv_cells,
    csv_quote,
    decided_csv,
    decided_json,
    json_cells,
    json_value,
)

__all__ = ["FORMULA_START", "AccountColumns", "account_columns", "write_csv", "write_jsonl"]

BATCH = 100_000  # accounts whose rendered rows are in memory at once

Column = pl.Series | Sequence[Any]


@dataclass
class AccountColumns:
    """The account table: the account's own columns, one value per account (a polars
    column, or a Python list), then the columns decided per path (one value per path,
    ``at`` each account's position in them), then the own columns that close the row.
    ``whole``: own columns whose whole floats are integers (inputs read as ``number``)."""

    own: dict[str, Column]
    decided: dict[str, list[Any]]  # column -> value per path
    at: pl.Series  # each account's position in ``decided``'s lists
    tail: dict[str, Column] = field(default_factory=dict)  # own columns, after the rest
    whole: set[str] = field(default_factory=set)

    @property
    def names(self) -> list[str]:
        return [*self.own, *self.decided, *self.tail]

    def __len__(self) -> int:
        return len(self.at)

    def values(self, name: str) -> list[Any]:
        """An own column's values as Python values (as the scalar parser gives them)."""
        column = self.own.get(name, self.tail.get(name))
        if column is None:
            raise KeyError(name)
        if isinstance(column, pl.Series):
            return python_column(column, name in self.whole)
        return list(column)

    def rows(self) -> list[dict[str, Any]]:
        """Every account's row as a dict (``--format json``, tests)."""
        at = self.at.to_list()
        columns = {
            **{name: self.values(name) for name in self.own},
            **{name: [column[i] for i in at] for name, column in self.decided.items()},
            **{name: self.values(name) for name in self.tail},
        }
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values())]


def account_columns(result: SegmentResult) -> AccountColumns:
    rs = result.ruleset
    ev = result.evaluation
    frame = ev.frame
    arr_field = rs.role("arr") or "arr"
    name_field = rs.role("name")
    whole = whole_as_int(rs)

    def column(name: str) -> pl.Series:
        if name in frame.columns:
            return frame[name]
        return pl.Series(name, [None] * frame.height, dtype=pl.Null)

    sources = {"account_id": "account_id"}
    if name_field:
        sources["account_name"] = name_field
    sources["arr"] = arr_field
    sources.update({s.id: s.id for s in rs.scores})
    own: dict[str, Column] = {name: column(source) for name, source in sources.items()}
    ids = own["account_id"]
    if isinstance(ids, pl.Series) and ids.dtype != pl.String:  # (as str() of each value)
        plain = python_column(ids, "account_id" in whole)
        own["account_id"] = pl.Series("account_id", [str(v) for v in plain], dtype=pl.String)
    motion = {t.id: t.motion.get("motion", t.label) for t in rs.tiers}
    used = ev.path_of.unique().sort()
    firsts = [ev.firsts[p] for p in used.to_list()]
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
    tail: dict[str, Column] = {}
    for role in ("csm", "current_tier"):  # (the CRM's own, as read: the book they move from)
        source = rs.role(role)
        if source and source in frame.columns:
            tail[role] = frame[source]
            sources[role] = source
    at = used.search_sorted(ev.path_of).alias("at")
    kept = {name for name, source in sources.items() if source in whole}
    if result.overrides is not None:  # (every column per account: overrides are per account)
        from ..overrides.segment import effective_columns

        values = {
            name: python_column(c, name in kept) if isinstance(c, pl.Series) else c
            for name, c in own.items()
        }
        columns = effective_columns(result.overrides, values, decided, at.to_list(), motion)
        return AccountColumns(columns, {}, at, tail, kept)
    return AccountColumns(own, decided, at, tail, kept)


# -- the files ---------------------------------------------------------------------------


def _lines(table: AccountColumns, path: str, pieces: list[str], own: Any, tail: Any) -> None:
    """Each batch of accounts' lines, joined by polars: ``own`` and ``tail`` give a batch's
    columns of cells with the text before each, ``pieces`` what each path decided."""
    decided = pl.Series("p", pieces, dtype=pl.String)
    with open(path, "ab") as fh:
        for start in range(0, len(table), BATCH):
            stop = min(start + BATCH, len(table))
            parts: list[pl.Series | str] = [*own(start, stop)]
            if table.decided:
                parts.append(decided.gather(table.at[start:stop]))
            parts.extend(tail(start, stop))
            exprs = [
                pl.lit(p) if isinstance(p, str) else pl.col(f"c{i}") for i, p in enumerate(parts)
            ]
            frame = pl.DataFrame(
                [p.rename(f"c{i}") for i, p in enumerate(parts) if isinstance(p, pl.Series)]
            )
            # each account's line (its newline included) written by polars as it is: no
            # quoting, nothing between lines, never a Python string of the batch
            frame.select(pl.concat_str(exprs)).write_csv(
                fh, include_header=False, quote_style="never", line_terminator=""
            )


def _slice(column: Column, start: int, stop: int) -> Column:
    return column[start:stop]


def write_csv(result: SegmentResult, path: str) -> None:
    write_table_csv(account_columns(result), path)


def write_table_csv(table: AccountColumns, path: str) -> None:
    rows = list(zip(*(decided_csv(name, c) for name, c in table.decided.items())))
    pieces = ["," + ",".join(row) for row in rows]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(map(csv_quote, table.names)) + "\n")

    def cells(columns: dict[str, Column], first: bool, start: int, stop: int) -> list[Any]:
        out: list[Any] = []
        for i, (name, column) in enumerate(columns.items()):
            if i or not first:
                out.append(",")
            out.append(csv_cells(_slice(column, start, stop), name == "arr", name in table.whole))
        return out

    def tail(start: int, stop: int) -> list[Any]:
        return [*cells(table.tail, False, start, stop), "\n"]

    _lines(table, path, pieces, lambda a, b: cells(table.own, True, a, b), tail)


def write_jsonl(result: SegmentResult, path: str) -> None:
    write_table_jsonl(account_columns(result), path)


def write_table_jsonl(table: AccountColumns, path: str) -> None:
    """The same text as json.dumps(row, ensure_ascii=False) of each account's row dict."""
    decided = [decided_json(column) for column in table.decided.values()]
    keys = [", " + json_value(name) + ": " for name in table.decided]
    pieces = ["".join(k + v for k, v in zip(keys, cells, strict=True)) for cells in zip(*decided)]
    open(path, "w").close()

    def cells(columns: dict[str, Column], first: bool, start: int, stop: int) -> list[Any]:
        out: list[Any] = []
        for i, (name, column) in enumerate(columns.items()):
            out.append(("{" if first and not i else ", ") + json_value(name) + ": ")
            out.append(json_cells(_slice(column, start, stop), name in table.whole))
        return out

    def tail(start: int, stop: int) -> list[Any]:
        return [*cells(table.tail, False, start, stop), "}\n"]

    _lines(table, path, pieces, lambda a, b: cells(table.own, True, a, b), tail)
