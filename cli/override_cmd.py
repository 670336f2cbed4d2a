"""`tierbook override add/list/remove`: edit the overrides file (docs/overrides.md)."""

from __future__ import annotations

import json
from typing import Any

import click
from tierbook.commands import override as commands

from .handler import run_command as _run
from .options import FORMATS, overrides_option, parse_date, to_date

_ruleset_option = click.option(
    "--ruleset",
    "ruleset",
    help="The ruleset whose tiers and flags the overrides use (default: cs-segmentation-model).",
)


@click.group()
def override() -> None:
    """Durable overrides: pin an account's tier or flags, with an owner, a reason and an
    expiry. Each subcommand edits the overrides file in place, keeping its comments."""


@override.command("add")
@click.argument("account")
@click.option("--tier", help="Pin the account to this tier.")
@click.option("--add-flag", "add_flags", multiple=True, metavar="FLAG", help="Add a flag.")
@click.option("--remove-flag", "remove_flags", multiple=True, metavar="FLAG", help="Remove a flag.")
@click.option("--hold", is_flag=True, help="Hold the tier through replay until the expiry.")
@click.option("--owner", required=True, help="Who made the override (a person or a role).")
@click.option("--reason", required=True, help="Why: a real sentence.")
@click.option("--expires", required=True, metavar="DATE", help="Last day it applies (YYYY-MM-DD).")
@click.option("--ticket", help="Link to where it was agreed.")
@click.option("--id", "override_id", help="The override's id (default: from the account id).")
@click.option("--accounts", help="Portfolio the account must be in (default: the bundled sample).")
@click.option(
    "--as-of", "as_of", callback=parse_date, metavar="DATE", help="Today (default: today)."
)
@overrides_option
@_ruleset_option
def add(account: str, expires: str, as_of: Any, **kw: Any) -> None:
    """Add an override of ACCOUNT."""

    def go() -> int:
        path, o = commands.override_add(
            account,
            ruleset_arg=kw.pop("ruleset"),
            expires=to_date(expires),
            today=as_of,
            **kw,
        )
        click.echo(f"{path}:{o.line}: added {o.id}: {account} {o.does()} {o.by_whom()}")
        return 0

    _run(go)


@override.command("remove")
@click.argument("override_id", metavar="ID")
@overrides_option
@_ruleset_option
def remove(override_id: str, overrides: str | None, ruleset: str | None) -> None:
    """Remove the override ID."""

    def go() -> int:
        path, left = commands.override_remove(override_id, ruleset_arg=ruleset, overrides=overrides)
        click.echo(f"{path}: removed {override_id} ({len(left.overrides)} override(s) left)")
        return 0

    _run(go)


@override.command("list")
@click.option(
    "--expiring", type=click.IntRange(min=0), metavar="DAYS", help="Only those ending within DAYS."
)
@click.option(
    "--as-of", "as_of", callback=parse_date, metavar="DATE", help="Today (default: today)."
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@overrides_option
@_ruleset_option
def list_overrides(
    expiring: int | None, as_of: Any, fmt: str, overrides: str | None, ruleset: str | None
) -> None:
    """List the overrides, with the days each has left."""

    def go() -> int:
        path, rows = commands.override_list(
            ruleset_arg=ruleset, overrides=overrides, as_of=as_of, expiring=expiring
        )
        if fmt == "json":
            click.echo(json.dumps({"file": path, "overrides": rows}, indent=2))
            return 0
        click.echo(f"{path}: {len(rows)} override(s)")
        for r in rows:
            click.echo(
                f"  {r['id']}: {r['account_id']} {r['does']} by {r['owner']} until "
                f"{r['expires']} ({r['status']}): {r['reason']}"
            )
        return 0

    _run(go)
