"""Waivers in time: which have expired on a date, and how to say so.

A waiver past its `expires` date no longer waives its gate.  That is never silent: the
run's summary, model.md and `tierbook validate` name the waiver, who approved it and when
it expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import Problem
    from .yamlsafe import Document


def is_expired(expires: Any, as_of: dt.date) -> bool:
    """True when ``expires`` (an ISO date, or blank: never) is before ``as_of``."""
    if not expires:
        return False
    try:
        return dt.date.fromisoformat(str(expires)) < as_of
    except ValueError:
        return False  # (the schema reports a date that is not one)


def expired_text(gate: str, approved_by: Any, expires: Any) -> str:
    """`waiver of gate 'x' (approved by cs-ops) expired on 2026-03-31`."""
    who = f" (approved by {approved_by})" if approved_by else " (no approver named)"
    return f"waiver of gate '{gate}'{who} expired on {expires}"


def expired_waivers(
    waivers: Iterable[dict[str, Any]], as_of: dt.date
) -> list[tuple[int, dict[str, Any]]]:
    """(index, waiver) of each waiver of a ruleset document that has expired on ``as_of``."""
    return [(i, w) for i, w in enumerate(waivers) if is_expired(w.get("expires"), as_of)]


def expired_warnings(doc: Document, as_of: dt.date) -> list[Problem]:
    """`tierbook validate`'s warning for each waiver of ``doc`` expired on ``as_of``."""
    data = doc.data if isinstance(doc.data, dict) else {}
    waivers = data.get("waivers")
    if not isinstance(waivers, list):
        return []
    found = [w for w in waivers if isinstance(w, dict)]
    return [
        doc.problem(
            ("waivers", i, "expires"),
            expired_text(w.get("gate", "?"), w.get("approved_by"), w.get("expires"))
            + f" (as of {as_of}): the gate is no longer waived",
            "waiver-expired",
        )
        for i, w in expired_waivers(found, as_of)
    ]
