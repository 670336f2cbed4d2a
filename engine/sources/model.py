"""The typed declaration of a run's inputs (docs/inputs.md): plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# column types a table may declare (the ruleset's input types, parsed by the same parsers)
COLUMN_TYPES = ("string", "integer", "number", "money", "ratio", "boolean", "date")
OPS = ("sum", "count", "mean", "min", "max", "latest", "any", "ratio")
FILTER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists")


@dataclass(frozen=True)
class Where:
    """One filter: ``column`` compared with ``value`` by ``op`` (a row passes when true)."""

    column: str
    op: str
    value: Any
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class Window:
    """Which rows count, relative to the as-of date: all (kind ''), the ``days`` ending on
    it by ``date`` (``days``), or those active on it from ``start`` until ``end``
    (``active``: start <= as-of < end, a blank end open-ended)."""

    kind: str = ""
    days: int = 0
    date: str = ""
    start: str = ""
    end: str = ""


@dataclass(frozen=True)
class Aggregation:
    into: str  # the column it gives the account row (matched to an input like a header)
    op: str
    column: str = ""
    over: str = ""  # ratio: the denominator's column
    by: str = ""  # latest: the date column that orders the rows
    window: Window = Window()
    where: tuple[Where, ...] = ()
    line: int = 0
    col: int = 0
    # where the type it gives is decided (its `column`, else its `op`): line, column, path
    type_at: tuple[int, int, str] = (0, 0, "")


@dataclass(frozen=True)
class Table:
    name: str
    file: str  # as declared (relative to the inputs file), '' when only given by --table
    key: str
    columns: dict[str, str]  # column -> type, in declared order
    where: tuple[Where, ...] = ()
    aggregations: tuple[Aggregation, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Declaration:
    """An inputs file (or none): column mapping, tables, headcount."""

    file: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # file column -> input id
    tables: tuple[Table, ...] = ()
    csms: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


@dataclass(frozen=True)
class RunInputs:
    """What one run reads beside the accounts file, from the command line and the inputs
    file together (the command line wins)."""

    declaration: Declaration = Declaration()
    tables: dict[str, str] = field(default_factory=dict)  # table name -> path to read
    columns: dict[str, str] = field(default_factory=dict)  # file column -> input id
    csms: dict[str, int] = field(default_factory=dict)  # tier -> CSMs available
    csms_from: str = ""  # where the headcount came from: '--csms' or the inputs file

    @property
    def empty(self) -> bool:
        return not (self.tables or self.columns or self.csms)

    def as_json(self) -> dict[str, Any]:
        """What the trace store keeps of them and the JSON reports show."""
        out: dict[str, Any] = {}
        if self.declaration.file:
            out["file"] = self.declaration.file
        if self.columns:
            out["columns"] = dict(self.columns)
        if self.tables:
            out["tables"] = dict(self.tables)
        if self.csms:
            out["csms"] = dict(self.csms)
            out["csms_from"] = self.csms_from
        return out


@dataclass(frozen=True)
class RolledUp:
    """What the tables gave a run: each rolled-up input's source, and each table's rows
    whose account id is no account's (sources.unmatched)."""

    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # {table, op, column, replaces}
    unmatched: dict[str, dict[str, Any]] = field(default_factory=dict)  # table -> its rows


def run_inputs_json(
    inputs: RunInputs | None, rolled: RolledUp, ruleset_csms: dict[str, int]
) -> dict[str, Any] | None:
    """The run's inputs as the segment JSON and model document state them (None: none)."""
    if inputs is None or inputs.empty:
        return None
    out = inputs.as_json()
    if rolled.inputs:
        out["rolled_up"] = rolled.inputs
    if rolled.unmatched:
        out["unmatched"] = rolled.unmatched
    if inputs.csms:
        out["ruleset_csms"] = {t: ruleset_csms.get(t) for t in inputs.csms}
    return out
