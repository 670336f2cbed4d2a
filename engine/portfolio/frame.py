"""A portfolio file -> typed account inputs: each input's column found through its id and
aliases, cast a whole column at a time (tierbook.portfolio.cells), every problem located by
line, column and value, blanks counted and defaults applied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, overload

import polars as pl

from ..errors import DataError, Problem
from ..ruleset.model import Input, Ruleset
from .cells import BadValue, Cast, as_text, cast
from .formats import Table, read_table
from .headers import columns, match_columns

MAX_PROBLEMS = 200


def dicts_of(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """One dict per row of ``columns`` (name -> one value per row), keys in the columns' order."""
    return list(map(dict, map(zip, repeat(list(columns)), zip(*columns.values()))))


class Rows(Sequence[dict[str, Any]]):
    """Accounts as dicts over the reader's columns (``Portfolio.by_field``), every dict built
    at once the first time any account is asked for, and only then: the passes over all
    accounts (class keys, bands, calibration, gates, the trace rows) read the columns."""

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        self.columns = columns
        self._dicts: list[dict[str, Any]] | None = None

    def dicts(self) -> list[dict[str, Any]]:
        if self._dicts is None:
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
    gaps: Counter[str] = field(default_factory=Counter)  # input id -> blank cells (incl. defaulted)
    defaulted: Counter[str] = field(default_factory=Counter)
    missing_columns: list[str] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    # (values, score parts) of every account, when read_portfolio was given ``values``
    prepared: Sequence[tuple[dict[str, Any], Any]] | None = None
    # with ``prepared``: each field's column (one value per account, in account order)
    by_field: dict[str, Sequence[Any]] | None = None

    @property
    def ids(self) -> list[str]:
        if self.by_field is not None:
            return list(self.by_field["account_id"])
        return [a["account_id"] for a in self.accounts]


def read_portfolio(
    path: str,
    ruleset: Ruleset,
    on_error: str = "fail",
    display: str | None = None,
    values: Any = None,
) -> Portfolio:
    """``values`` (a ``values.ValuesWhileReading``): each account's values computed with
    its inputs; the portfolio's ``prepared`` holds (values, score parts) of every account."""
    file = display or path
    table = read_table(
        path, file, lambda headers: list(match_columns(ruleset, headers)[0].values())
    )
    colmap, ignored, missing = columns(file, table.headers, ruleset)
    n = len(table.lines)
    casts: list[tuple[Input, int, Cast]] = []
    for inp in ruleset.inputs:
        if inp.id in colmap:
            idx = colmap[inp.id]
            casts.append((inp, idx, _cast(inp, table.columns[idx])))
    absent = [inp for inp in ruleset.inputs if inp.id not in colmap]
    problems_by_row = _problems(file, table, casts)
    gaps, defaulted = _counts(casts, absent, n, set(table.problems))
    id_input = ruleset.role("account_id") or "account_id"
    by_key: dict[str, list[Any]] = {}
    for inp, _, c in casts:
        column = c.values
        if inp.default is not None:
            column = pl.select(
                pl.when(c.blank).then(pl.lit(inp.default, column.dtype)).otherwise(column)
            ).to_series()
        by_key[inp.id] = _python(inp, column)
    for inp in absent:
        by_key[inp.id] = [inp.default] * n
    ids = by_key.get(id_input) or [None] * n
    _duplicates(file, table, ids, colmap.get(id_input), problems_by_row)
    rejects: list[dict[str, Any]] = []
    if problems_by_row:
        rows = sorted(problems_by_row)
        if on_error != "skip":
            problems: list[Problem] = []
            for r in rows:
                problems.extend(problems_by_row[r])
                if len(problems) >= MAX_PROBLEMS:
                    break
            note = f" (stopped after {MAX_PROBLEMS})" if len(problems) >= MAX_PROBLEMS else ""
            raise DataError(f"{file}: {len(problems)} bad value(s){note}", problems)
        arr_input = ruleset.role("arr") or "arr"
        arrs = by_key.get(arr_input) or [None] * n
        bad = set(rows)
        for r in rows:  # (a value with a problem is not the account's)
            found = problems_by_row[r]
            rejects.append(
                {
                    "line": table.lines[r],
                    "account_id": None if _bad(found, colmap.get(id_input)) else ids[r],
                    "arr": None if _bad(found, colmap.get(arr_input)) else arrs[r],
                    "reasons": [str(p) for p in found],
                }
            )
        keep = [i for i in range(n) if i not in bad]
        by_key = {name: [column[i] for i in keep] for name, column in by_key.items()}
        lines = [table.lines[i] for i in keep]
    else:
        lines = table.lines
    if not lines:
        raise DataError(
            "no accounts",
            [
                Problem(
                    file,
                    2,
                    1,
                    "",
                    "no account rows" + (" left after skipping rejects" if rejects else ""),
                    "empty",
                )
            ],
        )
    if id_input != "account_id" or "account_id" not in by_key:
        by_key["account_id"] = by_key.get(id_input) or [None] * len(lines)
    portfolio = Portfolio(
        file,
        table.digest,
        [],
        lines,
        {k: table.headers[v] for k, v in colmap.items()},
        ignored,
        gaps,
        defaulted,
        missing,
        rejects,
    )
    _with_values(portfolio, by_key, values)
    return portfolio


def _cast(inp: Input, cells: pl.Series | list[Any]) -> Cast:
    if isinstance(cells, pl.Series):
        return cast(inp, cells)
    texts: list[str | None] = []
    shown: list[str | None] = []
    early: dict[int, tuple[str, str]] = {}
    for i, raw in enumerate(cells):  # a value from JSON or Parquet may already be typed
        text: str | None = None
        if raw is not None:
            try:
                text = as_text(inp, raw)
            except BadValue as exc:
                early[i] = (f"{str(raw)!r} {exc}", "bad-value")
        texts.append(text)
        shown.append(None if raw is None else str(raw))
    c = cast(inp, pl.Series(texts, dtype=pl.String), pl.Series(shown, dtype=pl.String))
    if early:
        c.bad.update(early)
        c.blank = c.blank.scatter(list(early), False)
    return c


def _python(inp: Input, column: pl.Series) -> list[Any]:
    """A column's values as Python values of the input's type (a number that is whole is an
    int, as the scalar parser gives it)."""
    values = column.to_list()
    if inp.type == "number":
        return [
            int(v) if v is not None and v.is_integer() and abs(v) < 2**53 else v for v in values
        ]
    return values


def _problems(
    file: str, table: Table, casts: list[tuple[Input, int, Cast]]
) -> dict[int, list[Problem]]:
    """Each row's problems, in the order of the ruleset's inputs; a row of the wrong length
    has only that one (its cells are not where the header says)."""
    out: dict[int, list[Problem]] = {r: [p] for r, p in table.problems.items()}
    for inp, idx, c in casts:
        header = table.headers[idx]
        for r, (message, code) in c.bad.items():
            if r not in table.problems:
                out.setdefault(r, []).append(
                    Problem(file, table.lines[r], idx + 1, header, message, code)
                )
        if inp.required:
            for r in c.blank.arg_true().to_list():
                if r not in table.problems:
                    out.setdefault(r, []).append(
                        Problem(
                            file,
                            table.lines[r],
                            idx + 1,
                            header,
                            "required value is blank",
                            "blank",
                        )
                    )
    return out


def _bad(problems: list[Problem], col: int | None) -> bool:
    """Whether a problem is with the cell of column ``col``."""
    return col is not None and any(
        p.column == col + 1 and p.code in ("bad-value", "out-of-range") for p in problems
    )


def _duplicates(
    file: str,
    table: Table,
    ids: list[Any],
    id_col: int | None,
    problems_by_row: dict[int, list[Problem]],
) -> None:
    """An id seen on an earlier row read without a problem."""
    if id_col is None:
        return
    seen: dict[Any, int] = {}
    header = table.headers[id_col]
    for r, account_id in enumerate(ids):
        if account_id is None or r in problems_by_row:
            continue
        first = seen.get(account_id)
        if first is None:
            seen[account_id] = table.lines[r]
        else:
            problems_by_row[r] = [
                Problem(
                    file,
                    table.lines[r],
                    id_col + 1,
                    header,
                    f"duplicate account id '{account_id}' (first on line {first})",
                    "duplicate-id",
                )
            ]


def _counts(
    casts: list[tuple[Input, int, Cast]], absent: list[Input], n: int, skipped: set[int]
) -> tuple[Counter[str], Counter[str]]:
    """Blank cells per input, and those a default filled, keyed in the order rows and
    columns first meet them."""
    found: list[tuple[int, int, Input, int]] = []
    for pos, (inp, _, c) in enumerate(casts):
        blank = c.blank
        if skipped:
            blank = blank.scatter(sorted(skipped), False)
        count = int(blank.sum())
        if count:
            found.append((int(blank.arg_true()[0]), pos, inp, count))
    rows = n - len(skipped)
    found += [(0, len(casts) + j, inp, rows) for j, inp in enumerate(absent) if rows]
    gaps: Counter[str] = Counter()
    defaulted: Counter[str] = Counter()
    for _, _, inp, count in sorted(found, key=lambda f: f[:2]):
        gaps[inp.id] += count
        if inp.default is not None:
            defaulted[inp.id] += count
    return gaps, defaulted


def _with_values(portfolio: Portfolio, by_key: dict[str, list[Any]], values: Any) -> None:
    n = len(portfolio.rows)
    columns_of = values.columns if values is not None else None
    if columns_of is not None:
        try:
            extra, parts = columns_of(by_key, n, not values.dicts)
        except (ArithmeticError, TypeError, ValueError, BadValue):
            extra = None
        if extra is not None:
            by_key.update(extra)
            if values.dicts:
                accounts = dicts_of(by_key)
                portfolio.accounts, portfolio.prepared = accounts, list(zip(accounts, parts))
            else:
                rows = Rows(by_key)
                portfolio.accounts, portfolio.prepared = rows, Prepared(rows, parts)
            portfolio.by_field = dict(by_key)
            return
    accounts = dicts_of(by_key)
    portfolio.accounts = accounts
    if values is not None:
        try:
            portfolio.prepared = list(map(values.one, accounts))
        except Exception:  # noqa: BLE001 - the caller computes them all, and reports it
            portfolio.prepared = None
