"""`tierbook override add/list/remove`, reachable from Python without click."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import UsageError
from ..overrides.model import Override, Overrides
from .inputs import SAMPLE_PORTFOLIO, load, sample_portfolio


def _file(ruleset_arg: str | None, overrides: str | None) -> tuple[Any, str]:
    from ..overrides.select import overrides_path

    ruleset, _ = load(ruleset_arg)
    path = overrides_path(ruleset, overrides)
    if path is None:
        raise UsageError(
            f"ruleset {ruleset.name} names no overrides file (overrides.file): give --overrides FILE"
        )
    return ruleset, path


def override_add(
    account: str,
    *,
    ruleset_arg: str | None,
    overrides: str | None,
    accounts: str | None,
    owner: str,
    reason: str,
    expires: dt.date,
    today: dt.date,
    tier: str | None = None,
    add_flags: tuple[str, ...] = (),
    remove_flags: tuple[str, ...] = (),
    hold: bool = False,
    ticket: str | None = None,
    override_id: str | None = None,
) -> tuple[str, Override]:
    from ..overrides.edit import add_override, next_id
    from ..overrides.load import load_overrides
    from ..portfolio.frame import read_portfolio

    ruleset, path = _file(ruleset_arg, overrides)
    if not (tier or add_flags or remove_flags or hold):
        raise UsageError("say what the override does: --tier, --add-flag, --remove-flag or --hold")
    from pathlib import Path

    existing = load_overrides(path, ruleset) if Path(path).exists() else None
    item: dict[str, Any] = {"id": override_id or next_id(existing, account), "account": account}
    if tier:
        item["tier"] = tier
    if add_flags:
        item["add_flags"] = list(add_flags)
    if remove_flags:
        item["remove_flags"] = list(remove_flags)
    if hold:
        item["hold"] = True
    item |= {
        "owner": owner,
        "reason": reason,
        "created": today.isoformat(),
        "expires": expires.isoformat(),
    }
    if ticket:
        item["ticket"] = ticket
    portfolio = read_portfolio(
        accounts or sample_portfolio(), ruleset, display=accounts or SAMPLE_PORTFOLIO
    )
    ids = [str(v) for v in portfolio.frame["account_id"].to_list()]
    found = add_override(path, ruleset, item, today=today, accounts=ids)
    return path, found.overrides[-1]


def override_remove(
    override_id: str, *, ruleset_arg: str | None, overrides: str | None
) -> tuple[str, Overrides]:
    from ..overrides.edit import remove_override

    _, path = _file(ruleset_arg, overrides)
    return path, remove_override(path, override_id)


def override_list(
    *, ruleset_arg: str | None, overrides: str | None, as_of: dt.date, expiring: int | None
) -> tuple[str, list[dict[str, Any]]]:
    from ..overrides.load import load_overrides

    ruleset, path = _file(ruleset_arg, overrides)
    found = load_overrides(path, ruleset)
    rows = []
    for o in found.overrides:
        left = (o.expires - as_of).days
        if expiring is not None and not (0 <= left <= expiring):
            continue
        rows.append(
            {
                "id": o.id,
                "account_id": o.account,
                "does": o.does(),
                "owner": o.owner,
                "created": o.created.isoformat(),
                "expires": o.expires.isoformat(),
                "status": "expired"
                if left < 0
                else f"in force from {o.created.isoformat()}"
                if as_of < o.created
                else f"{left} day(s) left",
                "reason": o.reason,
                "ticket": o.ticket,
                "line": o.line,
            }
        )
    return path, rows
