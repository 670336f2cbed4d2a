"""`tierbook validate`: ruleset errors as file:line:column, as text, JSON or GitHub annotations."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from tierbook.commands import api as commands

from .handler import run_command as _run
from .options import parse_date


@click.command()
@click.argument("rulesets", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github prints workflow-command annotations.",
)
@click.option(
    "--base",
    help="Previous version of the ruleset: fail when the rules changed "
    "but the version was not bumped.",
)
@click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    metavar="DATE",
    help="Date waivers' expiry is judged on (default: today).",
)
@click.option(
    "--ruleset",
    "against",
    metavar="RULESET",
    help="Check the overrides files given against this ruleset's tiers, flags and "
    "overrides.max_days (as a run with --overrides would), and the inputs files' roll-ups "
    "against its inputs' types (without it: warnings against the default ruleset).",
)
def validate(
    rulesets: tuple[str, ...], fmt: str, base: str | None, as_of: dt.date, against: str | None
) -> None:
    """Check rulesets, inputs and overrides files: YAML, schema and semantic errors, each as
    file:line:column.  A folder stands for the .yaml/.yml files directly in it
    (`tierbook validate rulesets/`)."""
    if not rulesets:
        raise click.UsageError("give at least one RULESET file (or a shipped ruleset name)")
    files: list[str] = []
    for arg in rulesets:
        if Path(arg).is_dir():
            found = sorted(
                str(p)
                for p in Path(arg).iterdir()
                if p.suffix.lower() in (".yaml", ".yml") and p.is_file()
            )
            if not found:
                raise click.UsageError(f"{arg}: no .yaml or .yml files in this folder")
            files += found
        else:
            files.append(arg)

    def go() -> int:
        report = commands.validate(files, base=base, as_of=as_of, ruleset=against)
        if fmt == "json":
            click.echo(json.dumps(report.as_dict(), indent=2))
        elif fmt == "github":
            for side in report.sides:
                click.echo(f"::notice title=tierbook validate --base::{side.line()}")
            for kind, found in (("error", report.problems), ("warning", report.warnings)):
                for p in found:
                    click.echo(
                        f"::{kind} file={p.file},line={p.line},col={p.column},"
                        f"title={p.code}::{p.path}: {p.message}"
                    )
        else:
            for side in report.sides:  # --base: what each side resolved to, and its content
                click.echo(side.line())
            for p in report.problems:
                click.echo(str(p))
            for p in report.warnings:
                click.echo(f"{p} (warning)")
            for name in report.valid:
                click.echo(f"{name}: valid")
            if report.problems:
                n = len(report.problems)
                click.echo(
                    f"{n} error{'s' if n != 1 else ''} in "
                    f"{len(report.invalid)} of {len(files)} file(s)",
                    err=True,
                )
        return 1 if report.problems else 0

    _run(go)
