"""The `tierbook` console command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import click

from tierbook import commands
from tierbook.errors import EXIT_USAGE, TierbookError

FORMATS = click.Choice(["text", "json"])


def _run(fn: Callable[[], int]) -> None:
    """The one place errors become messages and exit codes."""
    try:
        code = fn()
    except TierbookError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)
    sys.exit(code)


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:  # usage errors exit 2 (click's default)
        return super().main(*args, **kwargs)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tierbook")
def main() -> None:
    """tierbook: Customer Success segmentation rulesets you can validate, run, explain,
    plan and replay."""


@main.command()
@click.argument("rulesets", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="github prints workflow-command annotations.")
@click.option("--base", help="Previous version of the ruleset: fail when the rules changed "
              "but the version was not bumped.")
def validate(rulesets: tuple[str, ...], fmt: str, base: str | None) -> None:
    """Check rulesets: YAML, schema and semantic errors, each as file:line:column."""
    if not rulesets:
        raise click.UsageError("give at least one RULESET file (or a shipped ruleset name)")

    def go() -> int:
        report = commands.validate(list(rulesets), base=base)
        if fmt == "json":
            click.echo(json.dumps(report.as_dict(), indent=2))
        elif fmt == "github":
            for p in report.problems:
                click.echo(f"::error file={p.file},line={p.line},col={p.column},"
                           f"title={p.code}::{p.path}: {p.message}")
        else:
            for p in report.problems:
                click.echo(str(p))
            for name in report.valid:
                click.echo(f"{name}: valid")
            if report.problems:
                n = len(report.problems)
                click.echo(f"{n} error{'s' if n != 1 else ''} in "
                           f"{len(report.invalid)} of {len(rulesets)} file(s)", err=True)
        return 1 if report.problems else 0

    _run(go)


if __name__ == "__main__":  # pragma: no cover
    main()
