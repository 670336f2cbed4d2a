"""`tierbook events`: replay events derived from subscription history."""

from __future__ import annotations

import json

import click

from .handler import run_command as _run
from .options import FORMATS


@click.command("events")
@click.argument("subscriptions", type=click.Path(dir_okay=False))
@click.option("--from", "first", required=True, help="First quarter, e.g. 2026Q4.")
@click.option("--to", "last", help="Last quarter (default: the last one the table reaches).")
@click.option(
    "--churn",
    "churn",
    type=click.Path(dir_okay=False),
    help="Churn table (account_id, churn_date): churn from it, not from subscriptions ending.",
)
@click.option(
    "--tickets",
    "tickets",
    type=click.Path(dir_okay=False),
    help="Tickets table: open_escalations signals.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Write the events file here (default: print it).",
)
@click.option(
    "--snapshot",
    "snapshot",
    type=click.Path(dir_okay=False),
    help="Also write the starting portfolio: the book on the first quarter's first day.",
)
@click.option(
    "--accounts",
    "accounts",
    type=click.Path(dir_okay=False),
    help="A portfolio whose other columns the snapshot's rows keep.",
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def events(
    subscriptions: str,
    first: str,
    last: str | None,
    churn: str | None,
    tickets: str | None,
    out: str | None,
    snapshot: str | None,
    accounts: str | None,
    fmt: str,
) -> None:
    """Derive quarterly replay EVENTS from a SUBSCRIPTIONS table (subscription_id,
    account_id, arr_amount, seats, start_date, end_date, status, is_trial): renewals,
    expansions, contractions, churn, new accounts, reactivations and signals."""

    def go() -> int:
        from tierbook.commands.events_command import derive_events

        run, text = derive_events(
            subscriptions,
            first=first,
            last=last,
            churn_path=churn,
            tickets_path=tickets,
            out=out,
            snapshot=snapshot,
            accounts=accounts,
        )
        for line in run.notes():
            click.echo(line, err=True)
        if fmt == "json":
            click.echo(json.dumps(run.as_json(), indent=2))
            return 0
        if not out:
            click.echo(text, nl=False)
            return 0
        doc = run.as_json()
        q, book = doc["quarters"], doc["book"]
        counts = ", ".join(f"{k} {v}" for k, v in doc["events"].items()) or "none"
        click.echo(
            f"tierbook events · {subscriptions} · {q['first']}-{q['last']} ({q['count']} "
            f"quarter(s)) · churn from {doc['churn_from']}"
        )
        click.echo(
            f"  book on {doc['start']}: {book['accounts']:,} account(s), ARR ${book['arr']:,.2f}"
        )
        click.echo(f"  events: {doc['total']:,} ({counts})")
        for kind, path in doc["files"].items():
            click.echo(f"  wrote {kind}: {path}")
        if doc["churns_outside_book"]:
            click.echo(
                f"  {doc['churns_outside_book']} churn record(s) of accounts not in the book "
                "at the time: left out"
            )
        return 0

    _run(go)
