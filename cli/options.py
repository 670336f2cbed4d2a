"""Options shared by every command that evaluates accounts (docs/language.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click
from tierbook.engines import ENGINES

FORMATS = click.Choice(["text", "json"])


def to_date(value: str | None) -> dt.date:
    """--as-of as a date (today when not given); a clear usage error otherwise."""
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    return to_date(value)


def parse_optional_date(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> dt.date | None:
    """--as-of where leaving it out means "as each file says", not today."""
    return None if value is None else to_date(value)


def evaluation_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option(
                "--as-of",
                "as_of",
                callback=parse_date,
                metavar="DATE",
                help="Date that date rules compare against (default: today).",
            ),
            click.option(
                "--engine",
                type=click.Choice(ENGINES),
                default="auto",
                show_default=True,
                help="auto uses durable-rules where it imports, else the native executor.",
            ),
            click.option(
                "--store",
                "store",
                type=click.Path(dir_okay=False),
                envvar="TIERBOOK_STORE",
                help="Trace store (SQLite). Default: $TIERBOOK_STORE or .tierbook/traces.sqlite.",
            ),
            click.option(
                "--no-memo",
                is_flag=True,
                help="Run the engine for every account instead of once per class.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


on_error_option = click.option(
    "--on-error",
    type=click.Choice(["fail", "skip"]),
    default="fail",
    show_default=True,
    help="fail: stop at bad input before writing anything; skip: leave out bad rows or "
    "events and report them.",
)


_DATA = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".pq")
_RULESET = (".yaml", ".yml")


def _kind(path: str | None, kinds: tuple[str, ...]) -> bool:
    return bool(path) and str(path).lower().endswith(kinds)


def leading_ruleset(command: str, *values: str | None) -> list[str | None]:
    """RULESET comes first and may be left out: ``tierbook segment accounts.csv`` means the
    shipped ruleset on accounts.csv, so a first argument that is a data file (by its
    extension) moves one place on.  A ruleset given after the data is a usage error that
    shows the command in the right order, rather than a YAML error about a CSV file."""
    args = list(values)
    if not _kind(args[0], _DATA):
        return args
    if args[-1] is None:
        return [None] + args[:-1]
    given = [a for a in args if a is not None]
    misplaced = [a for a in given[1:] if _kind(a, _RULESET)]
    if misplaced:
        order = " ".join([misplaced[0]] + [a for a in given if a != misplaced[0]])
        raise click.UsageError(
            f"'{given[0]}' is a data file and '{misplaced[0]}' a ruleset: the "
            f"ruleset comes first (tierbook {command} {order})"
        )
    return args


overrides_option = click.option(
    "--overrides",
    "overrides",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Overrides file (docs/overrides.md) applied after the rules. Default: the file the "
    "ruleset names (overrides.file), if any.",
)


class InputArgs:
    """The run's inputs as given (--inputs, --table, --map, --csms), read when the command
    runs so a bad one is reported like any other error."""

    def __init__(
        self,
        inputs_file: str | None,
        tables: tuple[str, ...],
        columns: tuple[str, ...],
        csms: tuple[str, ...],
    ) -> None:
        self.args = (inputs_file, tables, columns, csms)

    def build(self) -> Any:
        """A ``tierbook.sources.model.RunInputs``, or None when nothing was given."""
        if not any(self.args):
            return None
        from tierbook.sources.options import run_inputs

        return run_inputs(*self.args)


def input_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--inputs, --table, --map and --csms (docs/inputs.md), given to the command as one
    ``inputs`` argument (an InputArgs)."""
    import functools

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        inputs_file: str | None,
        tables: tuple[str, ...],
        columns: tuple[str, ...],
        csms: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        return fn(*args, inputs=InputArgs(inputs_file, tables, columns, csms), **kwargs)

    options = [
        click.option(
            "--inputs",
            "inputs_file",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Inputs file: column mapping, tables rolled up into the accounts, CSM "
            "headcount (docs/inputs.md).",
        ),
        click.option(
            "--table",
            "tables",
            multiple=True,
            metavar="NAME=FILE",
            help="The file of a table the inputs file declares (repeatable).",
        ),
        click.option(
            "--map",
            "columns",
            multiple=True,
            metavar="COLUMN=INPUT",
            help="Read the accounts file's COLUMN as the ruleset's INPUT, for this run "
            "(repeatable).",
        ),
        click.option(
            "--csms",
            "csms",
            multiple=True,
            metavar="TIER=N",
            help="CSMs available in TIER, instead of the ruleset's figure (repeatable).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


scheduler_option = click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on Dask: local (worker processes here, local:N for N), or a scheduler's "
    "address; ACCOUNTS may then be a folder or glob of parts. Needs tierbook[dask].",
)
