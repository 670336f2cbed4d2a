"""What each command does, reachable from Python without click."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Problem, RulesetError
from .ruleset import check_document, content_hash, resolve_ruleset_path
from .yamlsafe import load_file


@dataclass
class ValidationReport:
    valid: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": not self.problems,
            "files": [{"file": f, "valid": f in self.valid} for f in self.valid + self.invalid],
            "errors": [p.as_dict() for p in self.problems],
        }


def validate(paths: list[str], base: str | None = None) -> ValidationReport:
    report = ValidationReport()
    for given in paths:
        path = resolve_ruleset_path(given)
        try:
            doc = load_file(path, given)
            problems = check_document(doc)
        except RulesetError as exc:
            problems = list(exc.problems)
            doc = None
        if not problems and base and doc is not None:
            problems = _version_bump_problems(base, doc)
        if problems:
            report.invalid.append(given)
            report.problems.extend(problems)
        else:
            report.valid.append(given)
    report.problems.sort()
    return report


def _version_bump_problems(base: str, doc) -> list[Problem]:  # type: ignore[no-untyped-def]
    from .sources import load_document

    old = load_document(base)
    if content_hash(old) == content_hash(doc):
        return []
    old_version = old.data.get("metadata", {}).get("version")
    new_version = doc.data.get("metadata", {}).get("version")
    if old_version == new_version:
        return [doc.problem(("metadata", "version"),
                            f"the rules changed since {base} but the version is still "
                            f"{new_version}: every change to the rules is a new version",
                            "version-not-bumped")]
    return []
