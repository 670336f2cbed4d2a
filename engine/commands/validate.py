"""`tierbook validate`: each ruleset's errors and expired waivers, and with --base the
version bump each change needs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Problem, RulesetError

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset
    from ..ruleset.yamlsafe import Document


@dataclass
class ValidationReport:
    valid: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # (they do not make a file invalid)
    sides: list[Any] = field(default_factory=list)  # with --base: the base, then each head

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "valid": not self.problems,
            "files": [{"file": f, "valid": f in self.valid} for f in self.valid + self.invalid],
            "errors": [p.as_dict() for p in self.problems],
            "warnings": [p.as_dict() for p in self.warnings],
        }
        if self.sides:
            out["base"] = self.sides[0].as_dict()
            out["heads"] = [s.as_dict() for s in self.sides[1:]]
        return out


def validate(
    paths: list[str],
    base: str | None = None,
    as_of: dt.date | None = None,
    ruleset: str | None = None,
) -> ValidationReport:
    """Each ruleset's errors; and, as warnings, its waivers expired on ``as_of``.  An
    overrides file is checked on its own, or, with ``ruleset``, against that ruleset's tiers,
    flags and expiry cap as a run with ``--overrides`` would check it; an inputs file's
    roll-ups against the types of the inputs they feed (``inputs_against``)."""
    # (each command imports what it needs when it runs: `tierbook --help` imports none,
    # and checking a ruleset imports neither the typed model nor polars)
    from ..overrides.load import is_overrides_document
    from ..overrides.validate import named_overrides_problems, overrides_problems
    from ..ruleset.sources import resolve_ruleset_path
    from ..ruleset.validate import check_document
    from ..ruleset.waivers import expired_warnings
    from ..ruleset.yamlsafe import load_file
    from ..sources.load import check_inputs, is_inputs_document

    def check_file(doc: Document) -> list[Problem]:
        """An inputs file (``kind: inputs``) against its own schema, else a ruleset."""
        if not is_inputs_document(doc):
            return check_document(doc)
        return check_inputs(doc) or inputs_against(doc, against, report.warnings)

    against = None
    if ruleset is not None:
        from .inputs import load

        against = load(ruleset)[0]  # (an invalid one stops here, its errors located)
    report = ValidationReport()
    for given in paths:
        path = resolve_ruleset_path(given)
        try:
            doc = load_file(path, given)
            problems = (
                overrides_problems(doc, against, as_of, report.warnings)
                if is_overrides_document(doc.data)
                else check_file(doc)
            )
        except RulesetError as exc:
            problems = list(exc.problems)
            doc = None
        inputs_file = doc is not None and is_inputs_document(doc)
        other_file = doc is not None and (inputs_file or is_overrides_document(doc.data))
        if not problems and doc is not None and not other_file:
            problems = named_overrides_problems(doc, report.warnings, as_of)
        if not problems and base and doc is not None and not other_file:
            from .review import version_bump_problems  # (git and the base: only with --base)

            problems = version_bump_problems(base, given, doc, report.sides)
        if problems:
            report.invalid.append(given)
            report.problems.extend(problems)
        else:
            report.valid.append(given)
        if doc is not None and not other_file:
            report.warnings += expired_warnings(doc, as_of or dt.date.today())
    report.problems.sort()
    report.warnings.sort()
    return report


def inputs_against(
    doc: Document, ruleset: Ruleset | None, warnings: list[Problem]
) -> list[Problem]:
    """A checked inputs file's roll-ups against the inputs they feed: errors against the
    ruleset given; with none, warnings against the shipped default, the ruleset a run
    given no RULESET reads (the file may be meant for another)."""
    from ..sources.load import build
    from ..sources.types import declaration_problems
    from .inputs import load

    if ruleset is not None:
        return declaration_problems(ruleset, build(doc))
    default = load(None)[0]
    warnings += [
        dataclasses.replace(
            p,
            message=p.message + " (the ruleset a run given none reads; --ruleset RULESET "
            "checks the file against the one it is for)",
        )
        for p in declaration_problems(default, build(doc))
    ]
    return []
