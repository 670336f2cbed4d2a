"""A run's inputs from the command line (`--table NAME=FILE`, `--map COLUMN=INPUT`,
`--csms TIER=N`, each repeatable) and the inputs file (`--inputs FILE`) together: the
command line wins over the file, a table's file given by --table over the declared one."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError, suggest
from .model import Declaration, RunInputs


def _pairs(option: str, values: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise UsageError(f"{option} {value!r}: give it as NAME=VALUE")
        out.append((name.strip(), rest.strip()))
    return out


def run_inputs(
    inputs_file: str | None = None,
    tables: Sequence[str] = (),
    columns: Sequence[str] = (),
    csms: Sequence[str] = (),
) -> RunInputs:
    """The run's inputs; a usage error for a malformed option, a table no file declares or
    a declared table with no file."""
    from .apply import tables_beside

    declaration = Declaration()
    if inputs_file:
        from .load import load_declaration

        declaration = load_declaration(inputs_file)
    given = dict(_pairs("--table", tables))
    for name in given:
        if declaration.table(name) is None:
            declared = [t.name for t in declaration.tables]
            where = f"declared in {inputs_file}" if inputs_file else "declared (give --inputs FILE)"
            raise UsageError(
                f"--table {name}=...: no table '{name}' is {where}"
                + (suggest(name, declared) or f" (declared: {', '.join(declared) or 'none'})")
            )
    paths: dict[str, str] = {}
    for table in declaration.tables:
        if table.name in given:
            paths[table.name] = given[table.name]
        elif table.file:
            paths[table.name] = tables_beside(declaration.file, table)
        else:
            raise UsageError(
                f"{declaration.file}: table {table.name} declares no file: give "
                f"--table {table.name}=FILE"
            )
    mapping = dict(declaration.columns)
    mapping.update(_pairs("--map", columns))
    headcount = dict(declaration.csms)
    csms_from = declaration.file if headcount else ""
    for tier, n in _pairs("--csms", csms):
        try:
            count = int(n)
        except ValueError:
            raise UsageError(f"--csms {tier}={n}: the headcount is a whole number") from None
        if count < 0:
            raise UsageError(f"--csms {tier}={n}: the headcount cannot be negative")
        headcount[tier] = count
        csms_from = "--csms"
    return RunInputs(declaration, paths, mapping, headcount, csms_from)
