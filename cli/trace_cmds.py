"""The commands that read the trace store back: `explain` (one account's decision in a
run) and `history` (its path through a replay)."""

from __future__ import annotations

import json

import click
from tierbook.commands import api as commands

from .handler import run_command as _run
from .options import FORMATS


@click.command()
@click.argument("account_id")
@click.option(
    "--run", "run_id", type=int, help="Run id (default: the latest complete segment run)."
)
@click.option(
    "--level", type=click.Choice(["full", "fired", "why-not"]), default="full", show_default=True
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    envvar="TIERBOOK_STORE",
    help="Trace store (default: $TIERBOOK_STORE or .tierbook/traces.sqlite).",
)
def explain(account_id: str, run_id: int | None, level: str, fmt: str, store: str | None) -> None:
    """The chain of rules that placed ACCOUNT_ID, with its own values against each condition."""

    def go() -> int:
        from tierbook.trace.explain import render_text

        x = commands.explain(account_id, run_id=run_id, store_path=store)
        if fmt == "json":
            if level == "fired":
                x.pop("why_not")
            elif level == "why-not":
                x.pop("firings")
            click.echo(json.dumps(x, indent=2, default=str))
        else:
            click.echo(render_text(x, level))
        return 0

    _run(go)


@click.command()
@click.argument("account_id")
@click.option(
    "--run",
    "--replay",
    "replay_id",
    type=int,
    help="A run of the replay: its id or any quarter's (default: the latest complete replay).",
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    envvar="TIERBOOK_STORE",
    help="Trace store (default: $TIERBOOK_STORE or .tierbook/traces.sqlite).",
)
def history(account_id: str, replay_id: int | None, fmt: str, store: str | None) -> None:
    """ACCOUNT_ID's path through the quarters of a replay, with the rule behind each move."""

    def go() -> int:
        about, rows = commands.history(account_id, store_path=store, replay_id=replay_id)
        if fmt == "json":
            doc = {"account_id": about["account_id"], "replay": about, "quarters": rows}
            click.echo(json.dumps(doc, indent=2))
            return 0
        from tierbook.report.history import render_history

        click.echo("\n".join(render_history(about, rows)))
        return 0

    _run(go)
