"""What the commands read: a ruleset (a path, a shipped name or git:REF:PATH) and, when
none is given, the bundled sample portfolio and events."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset

SAMPLE_PORTFOLIO = "examples/portfolio.csv"
SAMPLE_EVENTS = "examples/events.csv"


def _bundled(relative: str, what: str) -> str:
    """A bundled sample file: from the source tree, or the copy shipped in the wheel."""
    here = Path(relative)
    if here.exists():
        return str(here)
    shipped = resources.files("tierbook.examples").joinpath(here.name)
    if shipped.is_file():
        return str(shipped)
    raise UsageError(f"no {what} given and the bundled sample ({relative}) was not found")


def sample_events() -> str:
    return _bundled(SAMPLE_EVENTS, "EVENTS")


def sample_portfolio() -> str:
    return _bundled(SAMPLE_PORTFOLIO, "ACCOUNTS")


def load(ruleset_arg: str | None) -> tuple[Ruleset, str]:
    """A validated ruleset and its text (for the trace store): a path, a shipped ruleset
    name, or git:REF:PATH."""
    from ..ruleset.build import ruleset_from_document
    from ..ruleset.sources import load_document, resolve_ruleset_path
    from ..ruleset.yamlsafe import load_file

    doc = (
        load_document(ruleset_arg)
        if ruleset_arg
        else load_file(resolve_ruleset_path(None), "cs-segmentation-model")
    )
    return ruleset_from_document(doc), doc.text
