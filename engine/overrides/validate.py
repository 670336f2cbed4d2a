"""`tierbook validate` of an overrides file: given itself (schema and structure), or named
by a ruleset (then against that ruleset's tiers, flags and expiry cap); expired overrides
are warnings."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..errors import Problem, RulesetError
from ..ruleset.yamlsafe import Document, load_file
from .load import check_overrides, named_file

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset


def overrides_problems(
    doc: Document,
    ruleset: Ruleset | None,
    as_of: dt.date | None,
    warnings: list[Problem] | None = None,
) -> list[Problem]:
    """The file's problems; its expired overrides are added to ``warnings``."""
    found, problems = check_overrides(doc, ruleset)
    if warnings is not None and not problems:
        on = as_of or dt.date.today()
        warnings += [
            doc.problem(
                ("overrides", i, "expires"),
                f"override '{o.id}' expired on {o.expires} (as of {on}): it is ignored; "
                "remove it from the file",
                "override-expired",
            )
            for i, o in enumerate(found.overrides)
            if o.expired(on)
        ]
    return problems


def named_overrides_problems(
    doc: Document, warnings: list[Problem], as_of: dt.date | None
) -> list[Problem]:
    """The overrides file a valid ruleset names, checked against it."""
    # most rulesets name none: then the typed model (built only to check that file
    # against the ruleset's tiers and flags) is not needed
    named = doc.data.get("overrides") if isinstance(doc.data, dict) else None
    if not (isinstance(named, dict) and named.get("file")):
        return []
    from ..ruleset.build import build_model, content_hash

    ruleset = build_model(doc, content_hash(doc))  # (the caller has checked the document)
    path = named_file(ruleset)
    if path is None:
        return []
    try:
        found = load_file(path)
    except RulesetError as exc:
        return list(exc.problems)
    return overrides_problems(found, ruleset, as_of, warnings)
