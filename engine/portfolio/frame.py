"""A portfolio file -> typed account inputs: each input's column found through its id and
aliases, cast a whole column at a time (tierbook.portfolio.cells), every problem located by
line, column and value, blanks counted and defaults applied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..errors import DataError, Problem
from ..ruleset.model import Input, Ruleset
from .cast import Cast, cast, dtype_of
from .cells import BadValue, as_text
from .formats import Table, read_table
from .headers import columns, match_columns
from .ids import near_twins

MAX_PROBLEMS = 200


@dataclass
class Portfolio:
    file: str
    sha256: str
    frame: pl.DataFrame  # typed inputs, one row per account, in file order
    rows: list[int]  # line (CSV/JSONL) or row (Parquet) of each account, for messages
    columns: dict[str, str]  # input id -> column name as found
    ignored_columns: list[str]
    gaps: Counter[str] = field(default_factory=Counter)  # input id -> blank cells (incl. defaulted)
    defaulted: Counter[str] = field(default_factory=Counter)
    missing_columns: list[str] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [str(v) for v in self.frame["account_id"].to_list()]

    numbers: frozenset[str] = frozenset()  # inputs of type number (whole ones are ints)
    # input id -> the accounts whose blank cell its default filled
    defaulted_ids: dict[str, list[Any]] = field(default_factory=dict)
    # what the file holds that is read but may be a mistake (account ids differing only in
    # letter case or Unicode form), each located; said as notes, never refused
    warnings: list[str] = field(default_factory=list)
    unit: str = "line"  # what ``rows`` count: "row" for a Parquet file

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Each account's inputs as a dict of Python values (a whole ``number`` an int)."""
        columns = {
            name: python_column(self.frame[name], name in self.numbers)
            for name in self.frame.columns
        }
        names = list(columns)
        return [dict(zip(names, row)) for row in zip(*columns.values())]


def python_column(series: pl.Series, whole_int: bool) -> list[Any]:
    """A column as Python values; ``whole_int``: a whole float as an int (what the scalar
    parser gives a ``number``: 72 for "72", 72.5 for "72.5")."""
    values = series.to_list()
    if whole_int and series.dtype.is_float():
        return [
            int(v) if v is not None and v.is_integer() and abs(v) < 2**53 else v for v in values
        ]
    return values


def input_frame(ruleset: Ruleset, accounts: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Accounts given as dicts of typed inputs (test cases, replayed quarters, what-ifs) as
    a frame of the reader's shape: each input's column of its type, then the account id."""
    columns: dict[str, pl.Series] = {}
    for inp in ruleset.inputs:
        columns[inp.id] = pl.Series(
            inp.id, [a.get(inp.id) for a in accounts], dtype=dtype_of(inp), strict=False
        )
    if "account_id" not in columns:
        columns["account_id"] = pl.Series(
            "account_id", [a.get("account_id") for a in accounts], dtype=pl.String, strict=False
        )
    return pl.DataFrame(list(columns.values()), height=len(accounts))


def read_portfolio(
    path: str,
    ruleset: Ruleset,
    on_error: str = "fail",
    display: str | None = None,
    earlier: Mapping[Any, str] | None = None,
) -> Portfolio:
    """The accounts of a portfolio file as a frame of typed inputs (``Portfolio.frame``),
    every problem located; bad rows reported (``on_error='fail'``) or set aside.
    ``earlier``: ids read before this file (a partitioned portfolio's earlier parts), each
    with where it was first ("line 2 of part-00.csv"): a row repeating one is a duplicate."""
    file = display or path
    table = read_table(
        path, file, lambda headers: list(match_columns(ruleset, headers)[0].values())
    )
    colmap, ignored, missing = columns(file, table.headers, ruleset)
    n = len(table.lines)
    casts: list[tuple[Input, int, Cast]] = []
    uses = Counter(colmap.values())
    for inp in ruleset.inputs:
        if inp.id in colmap:
            idx = colmap[inp.id]
            casts.append((inp, idx, _cast(inp, table.columns[idx])))
            uses[idx] -= 1
            if not uses[idx]:  # each column's text let go once cast (a million rows' worth)
                del table.columns[idx]
    absent = [inp for inp in ruleset.inputs if inp.id not in colmap]
    problems_by_row = _problems(file, table, casts)
    gaps, defaulted = _counts(casts, absent, n, set(table.problems))
    id_input = ruleset.role("account_id") or "account_id"
    by_key: dict[str, pl.Series] = {}
    for inp, _, c in casts:
        column = c.values
        if inp.default is not None:
            column = pl.select(
                pl.when(c.blank).then(pl.lit(inp.default, column.dtype)).otherwise(column)
            ).to_series()
        by_key[inp.id] = column.alias(inp.id)
    for inp in absent:
        by_key[inp.id] = pl.Series(inp.id, [inp.default] * n, dtype=dtype_of(inp), strict=False)
    ids = by_key[id_input].to_list() if id_input in by_key else [None] * n
    _duplicates(
        file, table, by_key.get(id_input), colmap.get(id_input), problems_by_row, earlier or {}
    )
    near = near_twins(file, table, by_key.get(id_input), colmap.get(id_input), problems_by_row)
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
        arrs = by_key[arr_input].to_list() if arr_input in by_key else [None] * n
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
        by_key = {name: column.gather(keep) for name, column in by_key.items()}
        lines = [table.lines[i] for i in keep]
    else:
        keep = None
        lines = table.lines
    blank_ids = ids if keep is None else [ids[i] for i in keep]
    defaulted_ids = {
        inp.id: [blank_ids[i] for i in (c.blank if keep is None else c.blank[keep]).arg_true()]
        for inp, _, c in casts
        if inp.default is not None and defaulted[inp.id]
    }
    if not lines:
        raise DataError(
            "no accounts",
            [
                Problem(
                    file,
                    2 if table.unit == "line" else 0,
                    1,
                    "",
                    "no account rows" + (" left after skipping rejects" if rejects else ""),
                    "empty",
                )
            ],
        )
    if id_input != "account_id" or "account_id" not in by_key:
        id_column = by_key.get(id_input)
        by_key["account_id"] = (
            id_column.cast(pl.String).alias("account_id")
            if id_column is not None
            else pl.Series("account_id", [None] * len(lines), dtype=pl.String)
        )
    frame = pl.DataFrame(list(by_key.values()), height=len(lines))
    portfolio = Portfolio(
        file,
        table.digest,
        frame,
        lines,
        {k: table.headers[v] for k, v in colmap.items()},
        ignored,
        gaps,
        defaulted,
        missing,
        rejects,
        frozenset(i.id for i in ruleset.inputs if i.type == "number"),
        defaulted_ids,
        near,
        table.unit,
    )
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
                    Problem(file, table.lines[r], idx + 1, header, message, code, table.unit)
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
                            table.unit,
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
    ids: pl.Series | None,
    id_col: int | None,
    problems_by_row: dict[int, list[Problem]],
    earlier: Mapping[Any, str],
) -> None:
    """An id seen on an earlier row read without a problem (or in ``earlier``: ids of the
    earlier parts of a partitioned portfolio, with where they were first)."""
    if id_col is None or ids is None:
        return
    eligible = ids.is_not_null()
    if problems_by_row:
        eligible = eligible.scatter(sorted(problems_by_row), False)
    rows = pl.DataFrame({"id": ids, "row": pl.int_range(len(ids), eager=True)}).filter(eligible)
    header = table.headers[id_col]

    def repeat(account_id: Any, r: int, first: str) -> None:
        problems_by_row[r] = [
            Problem(
                file,
                table.lines[r],
                id_col + 1,
                header,
                f"duplicate account id '{account_id}' (first on {first})",
                "duplicate-id",
                table.unit,
            )
        ]

    if earlier:
        before = pl.col("id").is_in(pl.Series(list(earlier), dtype=ids.dtype).implode())
        for account_id, r in rows.filter(before).iter_rows():
            repeat(account_id, r, earlier[account_id])
        rows = rows.filter(~before)
    again = rows.filter(~pl.col("id").is_first_distinct())
    if again.is_empty():
        return
    first = rows.group_by("id", maintain_order=True).agg(pl.col("row").first().alias("first"))
    for account_id, r, f in again.join(first, on="id", maintain_order="left").iter_rows():
        repeat(account_id, r, f"{table.unit} {table.lines[f]}")


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
