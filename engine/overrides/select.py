"""Which overrides file a command applies: `--overrides FILE`, else the file the ruleset
names (`overrides.file`), else none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .load import load_overrides, named_file

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset
    from .model import Overrides


def overrides_path(ruleset: Ruleset, given: str | None) -> str | None:
    return given or named_file(ruleset)


def overrides_for(ruleset: Ruleset, given: str | None) -> Overrides | None:
    """The overrides (a file, or ``git:REF:PATH`` as `plan` reads a base), checked against the
    ruleset (a RulesetError naming file:line if not)."""
    path = overrides_path(ruleset, given)
    if path is None:
        return None
    if path.startswith("git:"):
        from ..ruleset.sources import load_document

        doc = load_document(path)
        return load_overrides(path, ruleset, text=doc.text)
    return load_overrides(path, ruleset)
