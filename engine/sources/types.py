"""What type each roll-up gives the account row, known from the inputs file alone (its
operation and its column's declared type), and whether the ruleset's input it feeds can take
it.  A run checks this before any table is read, and `validate --ruleset` checks an inputs
file the same way, so both name the inputs file's line and column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Problem
from ..portfolio.cells import NUMERIC_TYPES
from ..portfolio.headers import InputNames

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset
    from .model import Aggregation, Declaration, Table


def given_type(op: str, column_type: str) -> str:
    """The type an aggregation gives: a count's is integer, any's boolean, a mean or ratio a
    number; sum, min, max and latest keep their column's type."""
    if op == "count":
        return "integer"
    if op == "any":
        return "boolean"
    if op in ("mean", "ratio"):
        return "number"
    return column_type


def takes(input_type: str, given: str) -> bool:
    """Whether an input of ``input_type`` can read a roll-up of type ``given``: numbers into
    any numeric input, anything but a number into a string or enum, else the same type."""
    numeric = given in NUMERIC_TYPES
    if (input_type in NUMERIC_TYPES) != numeric:
        return False
    return numeric or input_type in ("string", "enum") or input_type == given


def inputs_given(
    ruleset: Ruleset, declaration: Declaration, tables: list[str], columns: dict[str, str]
) -> dict[str, tuple[Table, Aggregation]]:
    """input id -> the table and aggregation that gives it (the roll-up's column matched to
    an input like a header: the mapping first, then id and aliases); the first wins."""
    names = InputNames(ruleset)
    out: dict[str, tuple[Table, Aggregation]] = {}
    for name in tables:
        table = declaration.table(name)
        if table is None:
            continue  # (a table no declaration names: refused by options.run_inputs)
        for agg in table.aggregations:
            input_id = names(columns.get(agg.into, agg.into))
            if input_id is not None and input_id not in out:
                out[input_id] = (table, agg)
    return out


def type_problems(
    ruleset: Ruleset, declaration: Declaration, given: dict[str, tuple[Table, Aggregation]]
) -> list[Problem]:
    """Each roll-up whose type its input cannot take, and one that would give the account
    id, located at the aggregation in the inputs file."""
    id_role = ruleset.role("account_id") or "account_id"
    out = []
    for input_id, (table, agg) in given.items():
        line, col, path = agg.type_at
        if input_id == id_role:
            out.append(
                Problem(
                    declaration.file,
                    agg.line,
                    agg.col,
                    path.rsplit(".", 1)[0] + ".into",
                    f"'{agg.into}' is the account id, which a table cannot give "
                    f"(table {table.name} is keyed by it: `key: {table.key}`)",
                    "rolled-up-id",
                )
            )
            continue
        inp = ruleset.input(input_id)
        kind = given_type(agg.op, table.columns.get(agg.column, ""))
        if takes(inp.type, kind):
            continue
        if not agg.column:
            of = f"table {table.name}'s rows, {_a(kind)}"
        elif kind == table.columns[agg.column]:
            of = f"{table.name}.{agg.column}, {_a(kind)} column"
        else:
            of = f"{table.name}.{agg.column}, {_a(kind)}"
        out.append(
            Problem(
                declaration.file,
                line,
                col,
                path,
                f"'{agg.into}' is the {agg.op} of {of}, but {ruleset.name}'s "
                f"input '{input_id}' is {inp.type}",
                "rolled-up-type",
            )
        )
    return out


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in ("a", "e", "i", "o", "u") else f"a {kind}"


def declaration_problems(ruleset: Ruleset, declaration: Declaration) -> list[Problem]:
    """`type_problems` of every table an inputs file declares, its own mapping applied (as
    a run given the file and no other --map would read it)."""
    tables = [t.name for t in declaration.tables]
    return type_problems(
        ruleset, declaration, inputs_given(ruleset, declaration, tables, declaration.columns)
    )
