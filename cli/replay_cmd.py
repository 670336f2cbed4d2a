"""`tierbook replay`: quarterly events replayed on the portfolio."""

from __future__ import annotations

from typing import Any

import click
from tierbook.commands import api as commands

from .handler import run_command as _run
from .options import (
    FORMATS,
    InputArgs,
    evaluation_options,
    input_options,
    leading_ruleset,
    on_error_option,
    overrides_option,
    scheduler_option,
)


@click.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@click.argument("events", required=False)
@evaluation_options
@click.option(
    "--out",
    "out_dir",
    default="out-replay",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for replay.txt/.json, tiers_by_quarter.png/.csv, flows.png/.csv, report.html.",
)
@on_error_option
@input_options
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--no-chart", is_flag=True, help="Do not draw the PNG charts.")
@overrides_option
@scheduler_option
def replay(
    ruleset: str | None,
    accounts: str | None,
    events: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    out_dir: str,
    on_error: str,
    fmt: str,
    no_chart: bool,
    overrides: str | None,
    inputs: InputArgs,
    scheduler: str | None,
) -> None:
    """Replay quarterly EVENTS on the portfolio: tier movement, promotions, demotions,
    reviews and re-calibration triggers, quarter by quarter.

    Defaults: the shipped ruleset, examples/portfolio.csv and examples/events.csv; when the
    first argument is a data file, the ruleset is the shipped one."""
    ruleset, accounts, events = leading_ruleset("replay", ruleset, accounts, events)

    def go() -> int:
        from tierbook.report import replay as replay_report

        r = commands.replay(
            ruleset,
            accounts,
            events,
            as_of=as_of,
            engine=engine,
            store_path=store,
            memo=not no_memo,
            on_error=on_error,
            out_dir=out_dir,
            chart=not no_chart,
            overrides=overrides,
            inputs=inputs.build(),
            scheduler=scheduler,
            notes=lambda line: click.echo(line, err=True),
        )
        if fmt == "json":
            from tierbook.report.jsontext import indented

            click.echo(indented(r.as_json()))
        else:
            click.echo(replay_report.render_text(r))
        click.echo(
            f"trace: replay {r.replay_id} (tierbook history ACCOUNT_ID); wrote {out_dir}", err=True
        )
        return 0

    _run(go)
