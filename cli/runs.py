"""`tierbook runs`: the runs in the trace store, and pruning old ones."""

from __future__ import annotations

import json

import click
from click.core import ParameterSource

from .handler import run_command

STORE = click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    envvar="TIERBOOK_STORE",
    help="Trace store (default: $TIERBOOK_STORE or .tierbook/traces.sqlite).",
)
FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@click.group(invoke_without_command=True)
@STORE
@FORMAT
@click.pass_context
def runs(ctx: click.Context, store: str | None, fmt: str) -> None:
    """List the runs in the trace store: id, command, ruleset name, version and hash, input
    file and hash, as-of date, accounts, status and time.  `tierbook runs prune` removes
    old ones."""
    if ctx.invoked_subcommand is not None:
        return

    def go() -> int:
        from tierbook.trace.runs import list_runs, render_runs
        from tierbook.trace.store import TraceStore

        db = TraceStore(store, create=False)
        try:
            rows = list_runs(db)
        finally:
            db.close()
        click.echo(json.dumps({"runs": rows}, indent=2) if fmt == "json" else render_runs(rows))
        return 0

    run_command(go)


@runs.command()
@click.option("--keep", type=int, metavar="N", help="Keep the N newest runs.")
@click.option(
    "--older-than",
    "older_than",
    type=float,
    metavar="DAYS",
    help="Remove runs started more than DAYS days ago.",
)
@STORE
@FORMAT
@click.pass_context
def prune(
    ctx: click.Context, keep: int | None, older_than: float | None, store: str | None, fmt: str
) -> None:
    """Remove old runs with the rows only they used, then compact the file.  With both
    options a run goes only when both let it go; a replay's quarters go together, and an
    incomplete run (perhaps still being written) goes only by --older-than."""
    store, fmt = _given_to_the_group(ctx, store, fmt)

    def go() -> int:
        from tierbook.trace.runs import prune as do_prune
        from tierbook.trace.store import TraceStore

        db = TraceStore(store, create=False)
        try:
            done = do_prune(db, keep=keep, older_than=older_than)
        finally:
            db.close()
        click.echo(json.dumps(done.as_dict(), indent=2) if fmt == "json" else done.text())
        return 0

    run_command(go)


def _given_to_the_group(ctx: click.Context, store: str | None, fmt: str) -> tuple[str | None, str]:
    """`tierbook runs --store X prune` prunes X: an option written before the subcommand
    counts unless the subcommand is given its own."""
    parent = ctx.parent
    if parent is None:
        return store, fmt
    out = []
    for name, value in (("store", store), ("fmt", fmt)):
        mine = ctx.get_parameter_source(name)
        theirs = parent.get_parameter_source(name)
        given = (ParameterSource.COMMANDLINE,)
        if mine not in given and theirs in given:
            value = parent.params[name]
        out.append(value)
    return out[0], str(out[1])
