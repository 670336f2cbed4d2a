"""A run's inputs applied: the ruleset as this run reads it (a team's columns mapped onto
its inputs, CSM headcount per tier), and the declared tables rolled up and joined onto the
portfolio as input columns, before any value is computed.  A rolled-up input replaces the
accounts file's column of the same input (the run says so)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import DataError, Problem, UsageError, suggest
from ..portfolio.cast import dtype_of
from ..portfolio.cells import NUMERIC_TYPES
from ..portfolio.frame import Portfolio, read_portfolio
from ..portfolio.headers import InputNames, normalise
from ..ruleset.model import Input, Ruleset
from .model import Aggregation, RolledUp, RunInputs, Table
from .types import inputs_given, type_problems


def prepare_ruleset(ruleset: Ruleset, inputs: RunInputs) -> Ruleset:
    """``ruleset`` as this run reads it: each mapped input reads its named column, and the
    CSMs given replace the ruleset's per tier.  Name, version and hash are the ruleset's
    own: nothing is forked."""
    if inputs.empty:
        return ruleset
    names = InputNames(ruleset)
    mapped: dict[str, str] = {}
    for column, target in inputs.columns.items():
        input_id = names(target)
        if input_id is None:
            raise UsageError(
                f"--map {column}={target}: the ruleset has no input '{target}'"
                + suggest(target, [i.id for i in ruleset.inputs])
            )
        if input_id in mapped:
            raise UsageError(
                f"--map: input '{input_id}' is mapped twice ('{mapped[input_id]}' and '{column}')"
            )
        mapped[input_id] = column
    tiers = {t.id for t in ruleset.tiers}
    for tier in inputs.csms:
        if tier not in tiers:
            raise UsageError(
                f"--csms {tier}=...: the ruleset has no tier '{tier}'" + suggest(tier, tiers)
            )
    new_inputs = tuple(
        dataclasses.replace(i, column=mapped[i.id]) if i.id in mapped else i for i in ruleset.inputs
    )
    capacity = ruleset.capacity
    if inputs.csms:
        capacity = dataclasses.replace(
            capacity, per_tier={**capacity.per_tier, **inputs.csms}, total=None
        )
    return dataclasses.replace(ruleset, inputs=new_inputs, capacity=capacity)


def read_accounts(
    path: str,
    ruleset: Ruleset,
    inputs: RunInputs | None,
    *,
    as_of: dt.date,
    on_error: str = "fail",
    display: str | None = None,
) -> tuple[Portfolio, RolledUp]:
    """The portfolio with the declared tables rolled up into its account rows, and what the
    tables gave: each rolled-up input's source (table, op, column, the file's column it
    replaces) and each table's rows no account has; no inputs given: the portfolio as read."""
    if inputs is None or inputs.empty:
        return read_portfolio(path, ruleset, on_error=on_error, display=display), RolledUp()
    file = display or path
    _check_mapped(path, file, ruleset)
    declaration = inputs.declaration
    provided = inputs_given(ruleset, declaration, list(inputs.tables), inputs.columns)
    wrong = type_problems(ruleset, declaration, provided)
    if wrong:  # (before any table is read: the inputs file alone says so)
        raise DataError(f"{declaration.file}: roll-ups the ruleset's inputs cannot take", wrong)
    reading = dataclasses.replace(
        ruleset, inputs=tuple(i for i in ruleset.inputs if i.id not in provided)
    )
    portfolio = read_portfolio(path, reading, on_error=on_error, display=file)
    if not inputs.tables:
        return portfolio, RolledUp()
    from .rollup import roll_up
    from .tables import read_declared
    from .unmatched import unmatched_rows

    ids = portfolio.frame["account_id"]
    rolled: dict[str, pl.Series] = {}
    digests = [portfolio.sha256]
    unread: list[str] = []
    unmatched: dict[str, dict[str, Any]] = {}
    for name, table_path in inputs.tables.items():
        declared = inputs.declaration.table(name)
        assert declared is not None
        table = declared
        data = read_declared(table, table_path, table_path)
        digests.append(data.sha256)
        missed = unmatched_rows(table_path, data.frame[table.key], ids)
        if missed is not None:
            unmatched[name] = missed
        frame = roll_up(table, data.frame, ids, as_of)
        for agg in table.aggregations:
            rolled[agg.into] = frame[agg.into]
            if not any(a is agg for _, a in provided.values()):
                unread.append(f"{agg.into} (from {name})")
    problems: list[Problem] = []
    columns: dict[str, pl.Series] = {}
    for inp in ruleset.inputs:
        if inp.id in provided:
            table, agg = provided[inp.id]
            blank = rolled[agg.into].is_null()  # (blanks counted as the reader counts them)
            columns[inp.id] = _as_input(
                inp, rolled[agg.into], table, agg, portfolio, problems, declaration.file
            )
            if blank.any():
                portfolio.gaps[inp.id] = int(blank.sum())
                if inp.default is not None:
                    portfolio.defaulted[inp.id] = int(blank.sum())
                    portfolio.defaulted_ids[inp.id] = ids.filter(blank).to_list()
        else:
            columns[inp.id] = portfolio.frame[inp.id]
    if problems:
        raise DataError(f"{file}: {len(problems)} rolled-up value(s) unusable", problems[:200])
    if "account_id" not in columns:
        columns["account_id"] = ids
    replaced = _replaced(ruleset, list(provided), portfolio)
    portfolio.frame = pl.DataFrame(list(columns.values()))
    portfolio.columns.update({i: f"{t.name}.{a.into}" for i, (t, a) in provided.items()})
    portfolio.ignored_columns = [
        h for h in portfolio.ignored_columns if h not in replaced.values()
    ] + unread
    portfolio.missing_columns = [m for m in portfolio.missing_columns if m not in provided]
    portfolio.numbers = frozenset(i.id for i in ruleset.inputs if i.type == "number")
    portfolio.sha256 = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    sources = {
        i: {"table": t.name, "op": a.op, "column": a.column, "replaces": replaced.get(i, "")}
        for i, (t, a) in provided.items()
    }
    return portfolio, RolledUp(sources, unmatched)


def _as_input(
    inp: Input,
    values: pl.Series,
    table: Table,
    agg: Aggregation,
    portfolio: Portfolio,
    problems: list[Problem],
    inputs_file: str,
) -> pl.Series:
    """A roll-up's column as ``inp``'s: its type and range, a required one known."""
    target = dtype_of(inp)
    numeric = values.dtype.is_numeric()
    if (inp.type in NUMERIC_TYPES) != numeric or (
        not numeric and values.dtype != target and inp.type not in ("string", "enum")
    ):  # (types.type_problems refuses these first; this holds the query to what it said)
        line, col, path = agg.type_at
        raise DataError(
            f"{inputs_file}: a roll-up its input cannot take",
            [
                Problem(
                    inputs_file,
                    line,
                    col,
                    path,
                    f"'{agg.into}' ({agg.op} of {table.name}.{agg.column or 'rows'}) is "
                    f"{values.dtype}, but input '{inp.id}' is {inp.type}",
                    "rolled-up-type",
                )
            ],
        )
    out = values.cast(target, strict=False).alias(inp.id)
    if inp.default is not None:
        out = out.fill_null(inp.default)
    where = f"{agg.op} of {table.name}.{agg.column}" if agg.column else f"{agg.op} of {table.name}"
    bad: list[tuple[int, str]] = []
    if inp.required:
        bad += [(i, "is unknown (no row counted)") for i in out.is_null().arg_true().to_list()]
    if inp.min is not None:
        bad += [(i, f"is below {inp.min:g}") for i in (out < inp.min).arg_true().to_list()]
    if inp.max is not None:
        bad += [(i, f"is above {inp.max:g}") for i in (out > inp.max).arg_true().to_list()]
    if inp.type == "integer" and values.dtype.is_float():
        whole = values.is_null() | (values == values.round(0))
        bad += [(i, "is not a whole number") for i in (~whole).arg_true().to_list()]
    for i, why in sorted(bad)[:200]:
        account = portfolio.frame["account_id"][i]
        problems.append(
            Problem(
                portfolio.file,
                portfolio.rows[i],
                1,
                inp.id,
                f"account {account}: {inp.id} rolled up from {where} {why}",
                "rolled-up",
                portfolio.unit,
            )
        )
    return out


def _replaced(ruleset: Ruleset, provided: list[str], portfolio: Portfolio) -> dict[str, str]:
    """input id -> the accounts file's column its roll-up replaces: the column --map (or the
    inputs file's ``columns``) names for it, which the roll-up wins over, else the column
    that would have been read by the input's id or an alias."""
    headers = [*portfolio.ignored_columns, *portfolio.columns.values()]
    out: dict[str, str] = {}
    for i in provided:
        mapped = ruleset.input(i).column
        if mapped is not None and mapped in headers:
            out[i] = mapped
            continue
        names = (i, *ruleset.input(i).aliases)
        for h in portfolio.ignored_columns:  # (the last such column, as before)
            if h in names or normalise(h) == normalise(i):
                out[i] = h
    return out


def _check_mapped(path: str, file: str, ruleset: Ruleset) -> None:
    """A column named by --map that the accounts file does not have: a data error naming
    the file's columns that look like it."""
    mapped = [i for i in ruleset.inputs if i.column is not None]
    if not mapped or not path.lower().endswith(".csv") or not Path(path).is_file():
        return  # (the reader says what is wrong with a file that is not there)
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        headers = next(csv.reader(fh), [])
    from ..portfolio.headers import close_headers

    problems = [
        Problem(
            file,
            1,
            1,
            str(i.column),
            f"--map {i.column}={i.id}: the file has no column '{i.column}'"
            + close_headers(str(i.column), headers),
            "missing-column",
        )
        for i in mapped
        if i.column not in headers
    ]
    if problems:
        raise DataError(f"{file}: mapped columns missing", problems)


def tables_beside(declaration_file: str, table: Table) -> str:
    """A table's declared file, relative to the inputs file that declares it."""
    return str(Path(declaration_file).parent / table.file)
