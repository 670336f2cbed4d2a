"""An overrides file read and checked: YAML with positions (``ruleset.yamlsafe``), its JSON
Schema (schemas/overrides.schema.json), then against the ruleset: known tiers and flags, one
override per field of an account, an expiry after the date made and within the ruleset's cap.
Every problem names file:line:column and the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Problem, RulesetError, suggest
from ..ruleset.schema import schema_problems
from ..ruleset.yamlsafe import Document, load_file, load_text
from .model import Override, Overrides

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset

SCHEMA = "overrides.schema.json"
MIN_REASON = 15  # characters: a real sentence, not "per VP"


def is_overrides_document(data: Any) -> bool:
    """A document whose `tierbook:` says it is an overrides file (validate tells them apart)."""
    return isinstance(data, dict) and str(data.get("tierbook", "")).startswith("overrides")


def load_overrides(
    path: str,
    ruleset: Ruleset | None = None,
    *,
    display: str | None = None,
    text: str | None = None,
) -> Overrides:
    """The file's overrides, or a RulesetError with every located problem."""
    doc = load_text(text, display or path) if text is not None else load_file(path, display)
    found, problems = check_overrides(doc, ruleset)
    if problems:
        raise RulesetError(f"{doc.file}: invalid overrides file", problems)
    return found


def check_overrides(doc: Document, ruleset: Ruleset | None) -> tuple[Overrides, list[Problem]]:
    problems = schema_problems(doc, SCHEMA)
    if problems:
        return Overrides(doc.file), problems
    items: list[dict[str, Any]] = doc.data.get("overrides") or []
    out = Overrides(doc.file)
    seen_ids: dict[str, int] = {}
    seen_fields: dict[tuple[str, str], tuple[str, int]] = {}
    cap = _max_days(ruleset)
    for i, item in enumerate(items):
        at: tuple[str | int, ...] = ("overrides", i)
        line = doc.where(at)[0]
        problems += _item_problems(doc, at, item, ruleset, cap)
        if item["id"] in seen_ids:
            problems.append(
                doc.problem(
                    (*at, "id"),
                    f"duplicate override id '{item['id']}' (first on line {seen_ids[item['id']]})",
                    "override-duplicate-id",
                )
            )
        seen_ids.setdefault(item["id"], line)
        o = _override(item, line)
        for name in o.fields():
            key = (o.account, name)
            if key in seen_fields:
                other, other_line = seen_fields[key]
                problems.append(
                    doc.problem(
                        (*at, _field_key(item, name)),
                        f"account {o.account}: {_field_words(name)} is already overridden by "
                        f"'{other}' (line {other_line}); one override per field of an account",
                        "override-conflict",
                    )
                )
            else:
                seen_fields[key] = (o.id, line)
        out.overrides.append(o)
    return out, sorted(problems)


def _item_problems(
    doc: Document,
    at: tuple[str | int, ...],
    item: dict[str, Any],
    ruleset: Ruleset | None,
    cap: int | None,
) -> list[Problem]:
    problems = []
    if not any(k in item for k in ("tier", "add_flags", "remove_flags")) and not item.get("hold"):
        problems.append(
            doc.problem(
                at,
                "the override does nothing: give tier, add_flags, remove_flags or hold: true",
                "override-empty",
            )
        )
    for key in ("owner", "reason"):
        if not str(item[key]).strip():
            problems.append(doc.problem((*at, key), f"{key} is blank", "override-blank"))
    reason = str(item["reason"]).strip()
    if reason and len(reason) < MIN_REASON:
        problems.append(
            doc.problem(
                (*at, "reason"),
                f"reason {reason!r} is too short: say why the rules are overruled for this "
                f"account (at least {MIN_REASON} characters)",
                "override-reason",
            )
        )
    created, expires = _date(item["created"]), _date(item["expires"])
    if expires < created:
        problems.append(
            doc.problem(
                (*at, "expires"),
                f"expires {expires} is before the override was made ({created})",
                "override-expiry",
            )
        )
    elif cap is not None and (expires - created).days > cap:
        problems.append(
            doc.problem(
                (*at, "expires"),
                f"expires {expires} is {(expires - created).days} days after {created}; the "
                f"ruleset allows at most {cap} days (overrides.max_days)",
                "override-expiry",
            )
        )
    if ruleset is None:
        return problems
    tiers = ruleset.tier_ids
    if "tier" in item and item["tier"] not in tiers:
        problems.append(
            doc.problem(
                (*at, "tier"),
                f"unknown tier '{item['tier']}'" + suggest(item["tier"], tiers),
                "override-unknown-tier",
            )
        )
    flags = [f.id for f in ruleset.flags]
    for key in ("add_flags", "remove_flags"):
        for j, flag in enumerate(item.get(key, [])):
            if flag not in flags:
                problems.append(
                    doc.problem(
                        (*at, key, j),
                        f"unknown flag '{flag}'" + suggest(flag, flags),
                        "override-unknown-flag",
                    )
                )
    both = set(item.get("add_flags", [])) & set(item.get("remove_flags", []))
    for flag in sorted(both):
        problems.append(
            doc.problem(
                (*at, "remove_flags"),
                f"flag '{flag}' is both added and removed",
                "override-conflict",
            )
        )
    return problems


def check_accounts(
    found: Overrides, known: Iterable[str], only: set[str] | None = None
) -> list[Problem]:
    """An override of an account id the portfolio does not have (``only``: just these
    overrides, e.g. the one being added)."""
    ids = set(known)
    return [
        Problem(
            found.file,
            o.line,
            1,
            f"$.overrides[{found.overrides.index(o)}].account",
            f"unknown account id '{o.account}': not in the portfolio" + suggest(o.account, ids),
            "override-unknown-account",
        )
        for o in found.overrides
        if o.account not in ids and (only is None or o.id in only)
    ]


def _override(item: dict[str, Any], line: int) -> Override:
    return Override(
        id=str(item["id"]),
        account=str(item["account"]),
        owner=str(item["owner"]).strip(),
        reason=" ".join(str(item["reason"]).split()),
        created=_date(item["created"]),
        expires=_date(item["expires"]),
        tier=item.get("tier"),
        add_flags=tuple(item.get("add_flags", [])),
        remove_flags=tuple(item.get("remove_flags", [])),
        hold=bool(item.get("hold", False)),
        ticket=str(item.get("ticket", "")),
        line=line,
    )


def _date(text: Any) -> dt.date:
    return dt.date.fromisoformat(str(text))  # (the schema has checked the format)


def _field_key(item: dict[str, Any], name: str) -> str:
    if name == "tier":
        return "tier"
    flag = name.split(":", 1)[1]
    return "add_flags" if flag in item.get("add_flags", []) else "remove_flags"


def _field_words(name: str) -> str:
    return "the tier" if name == "tier" else f"flag '{name.split(':', 1)[1]}'"


def _max_days(ruleset: Ruleset | None) -> int | None:
    if ruleset is None:
        return None
    cap = ruleset.overrides.get("max_days")
    return int(cap) if cap is not None else None


def named_file(ruleset: Ruleset) -> str | None:
    """The overrides file the ruleset names (`overrides.file`), relative to the ruleset's
    folder, or None."""
    name = ruleset.overrides.get("file")
    if not name:
        return None
    here = Path(ruleset.source_file).parent
    return str(here / name) if not Path(name).is_absolute() else str(name)
