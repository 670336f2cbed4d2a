"""An inputs file: YAML read with positions (refusing duplicate keys and custom tags), its
JSON Schema (schemas/inputs.schema.json), then the checks a schema cannot make: every
column a filter, window or aggregation names is declared, of a type that operation takes,
and every filter's value is one of its column's values.  Every problem is located."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Problem, RulesetError, suggest
from ..portfolio.cells import NUMERIC_TYPES
from ..ruleset.yamlsafe import Document, json_path, load_file

if TYPE_CHECKING:  # (validate checks an inputs file without building its declaration)
    from .model import Declaration, Where

SCHEMA = "inputs.schema.json"


def is_inputs_document(doc: Document) -> bool:
    return isinstance(doc.data, dict) and doc.data.get("kind") == "inputs"


def load_declaration(path: str, display: str | None = None) -> Declaration:
    """The checked declaration of an inputs file, or a RulesetError naming every problem."""
    doc = load_file(path, display)
    problems = check_inputs(doc)
    if problems:
        raise RulesetError(f"{doc.file}: invalid inputs file", problems)
    return build(doc)


def check_inputs(doc: Document) -> list[Problem]:
    from ..ruleset.schema import schema_problems

    problems = schema_problems(doc, SCHEMA)
    if problems:
        return problems
    declared_into: dict[str, str] = {}
    for name, table in (doc.data.get("tables") or {}).items():
        problems += _table_problems(doc, name, table, declared_into)
    return sorted(set(problems))


def _table_problems(
    doc: Document, name: str, table: dict[str, Any], declared_into: dict[str, str]
) -> list[Problem]:
    at = ("tables", name)
    columns: dict[str, str] = table["columns"]
    out: list[Problem] = []

    def need(path: tuple[Any, ...], column: str, kinds: frozenset[str] | None, what: str) -> None:
        if column not in columns:
            out.append(
                doc.problem(
                    path,
                    f"column '{column}' is not declared in table {name}'s columns"
                    + suggest(column, list(columns)),
                    "unknown-column",
                )
            )
        elif kinds is not None and columns[column] not in kinds:
            out.append(
                doc.problem(
                    path,
                    f"{what} needs a column of type {' or '.join(sorted(kinds))}; "
                    f"'{column}' is {columns[column]}",
                    "column-type",
                )
            )

    need(at + ("key",), table["key"], None, "the key")
    for i, flt in enumerate(table.get("where") or []):
        out += _filter_problems(doc, at + ("where", i), flt, columns, need)
    date = frozenset({"date"})
    for i, agg in enumerate(table["aggregate"]):
        here = at + ("aggregate", i)
        op = agg["op"]
        window = agg.get("window") or {}
        if "date" in window:
            need(here + ("window", "date"), window["date"], date, "a window of days")
        for key in ("active_from", "active_until"):
            if key in window:
                need(here + ("window", key), window[key], date, "an active window")
        for j, flt in enumerate(agg.get("where") or []):
            out += _filter_problems(doc, here + ("where", j), flt, columns, need)
        kinds = {
            "sum": NUMERIC_TYPES,
            "mean": NUMERIC_TYPES,
            "ratio": NUMERIC_TYPES,
            "min": NUMERIC_TYPES | date,
            "max": NUMERIC_TYPES | date,
            "any": frozenset({"boolean"}),
            "count": None,
            "latest": None,
        }[op]
        if "column" in agg:
            need(here + ("column",), agg["column"], kinds, op)
        elif op not in ("count", "any"):
            out.append(doc.problem(here, f"{op} needs a `column`", "missing-column"))
        if op == "ratio":
            if "over" in agg:
                need(here + ("over",), agg["over"], NUMERIC_TYPES, "ratio")
            else:
                out.append(doc.problem(here, "ratio needs `over` (its denominator)", "missing"))
        elif "over" in agg:
            out.append(doc.problem(here + ("over",), f"`over` is for ratio, not {op}", "unused"))
        if op == "latest":
            by = agg.get("by") or window.get("date")
            if by:
                need(here + ("by",) if "by" in agg else here + ("window", "date"), by, date, op)
            else:
                out.append(
                    doc.problem(here, "latest needs `by` (the date column)", "missing-column")
                )
        elif "by" in agg:
            out.append(doc.problem(here + ("by",), f"`by` is for latest, not {op}", "unused"))
        first = declared_into.setdefault(agg["into"], f"{name}[{i}]")
        if first != f"{name}[{i}]":
            out.append(
                doc.problem(
                    here + ("into",),
                    f"'{agg['into']}' is already given by {first}",
                    "duplicate-into",
                )
            )
    return out


def _filter_problems(
    doc: Document, path: tuple[Any, ...], flt: dict[str, Any], columns: dict[str, str], need: Any
) -> list[Problem]:
    from ..portfolio.cells import BadValue, parser
    from ..ruleset.model import Input  # (a filter's value read as its column's type)

    op = next(k for k in flt if k != "column")
    column = flt["column"]
    if column not in columns:
        need(path + ("column",), column, None, "a filter")
        return []
    kind = columns[column]
    if op in ("lt", "lte", "gt", "gte") and kind not in NUMERIC_TYPES | {"date"}:
        return [
            doc.problem(
                path + (op,), f"{op} compares numbers or dates; '{column}' is {kind}", "op-type"
            )
        ]
    if op == "exists":
        return []
    parse = parser(Input(column, kind))
    values = flt[op] if isinstance(flt[op], list) else [flt[op]]
    out = []
    for value in values:
        try:
            parse(_text(value))
        except BadValue as exc:
            out.append(doc.problem(path + (op,), f"{value!r} {exc} (column '{column}' is {kind})"))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _where(doc: Document, path: tuple[Any, ...], items: list[dict[str, Any]]) -> tuple[Where, ...]:
    from .model import Where

    out = []
    for i, flt in enumerate(items):
        op = next(k for k in flt if k != "column")
        value = flt[op]
        if op != "exists":  # (text: parsed by the column's type when the table is read)
            value = tuple(_text(v) for v in value) if isinstance(value, list) else _text(value)
        line, col = doc.where(path + (i,))
        out.append(Where(flt["column"], op, value, line, col))
    return tuple(out)


def build(doc: Document) -> Declaration:
    from .model import Aggregation, Declaration, Table, Window

    data = doc.data
    tables = []
    for name, t in (data.get("tables") or {}).items():
        at = ("tables", name)
        aggs = []
        for i, a in enumerate(t["aggregate"]):
            w = a.get("window") or {}
            window = (
                Window("days", days=int(w["days"]), date=w["date"])
                if "days" in w
                else Window("active", start=w["active_from"], end=w.get("active_until", ""))
                if "active_from" in w
                else Window()
            )
            by = a.get("by") or (window.date if a["op"] == "latest" else "")
            line, col = doc.where(at + ("aggregate", i))
            typed = at + ("aggregate", i, "column" if "column" in a else "op")
            aggs.append(
                Aggregation(
                    a["into"],
                    a["op"],
                    a.get("column", ""),
                    a.get("over", ""),
                    by,
                    window,
                    _where(doc, at + ("aggregate", i, "where"), a.get("where") or []),
                    line,
                    col,
                    (*doc.where(typed), json_path(typed)),
                )
            )
        tables.append(
            Table(
                name,
                t.get("file", ""),
                t["key"],
                dict(t["columns"]),
                _where(doc, at + ("where",), t.get("where") or []),
                tuple(aggs),
                doc.where(at)[0],
            )
        )
    return Declaration(
        doc.file,
        {str(k): str(v) for k, v in (data.get("columns") or {}).items()},
        tuple(tables),
        {str(k): int(v) for k, v in (data.get("csms") or {}).items()},
    )
