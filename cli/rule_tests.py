"""`tierbook test`: the rule test cases and their coverage."""

from __future__ import annotations

import json
from typing import Any

import click
from tierbook.engines import ENGINES

from .handler import run_command as _run
from .options import FORMATS, parse_optional_date


@click.command("test")
@click.argument("paths", nargs=-1)
@click.option(
    "--coverage", is_flag=True, help="List rules, grid cells and flags no case exercises."
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Fail when rule coverage of any ruleset is below PCT percent.",
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--as-of",
    "as_of",
    callback=parse_optional_date,
    metavar="DATE",
    help="Override the test files' as_of dates.",
)
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True)
def test_command(
    paths: tuple[str, ...],
    coverage: bool,
    fail_under: float | None,
    fmt: str,
    as_of: Any,
    engine: str,
) -> None:
    """Run rule test cases (YAML files; default: rulesets/tests) and report rule coverage."""

    def go() -> int:
        from tierbook.commands.testing import render_text, run_tests

        report = run_tests(list(paths), as_of=as_of, engine=engine)
        if fmt == "json":
            click.echo(json.dumps(report.as_dict(), indent=2))
        else:
            click.echo(render_text(report, coverage or fail_under is not None))
        low = [
            c for c in report.coverage.values() if fail_under is not None and c.percent < fail_under
        ]
        for c in low:
            click.echo(
                f"coverage of {c.ruleset} is {c.percent:.1f}%, under {fail_under:g}%", err=True
            )
        if not report.results:  # a run that tested nothing has not passed
            where = ", ".join(paths) or "the default test folder"
            click.echo(
                f"no test cases in {where} ({len(report.files)} test file(s) read): "
                "nothing was tested",
                err=True,
            )
            return 1
        return 1 if report.failed or low else 0

    _run(go)
