"""One error hierarchy for tierbook, and the one place that maps errors to exit codes.

Every problem names where it is: ``file:line:column: path: message`` (in a Parquet file,
``file: row N: path: message``).  Commands collect
all problems they can find, sort them by position, and raise them together.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_INVALID = 1  # invalid ruleset or data, or a failed gate
EXIT_USAGE = 2
EXIT_INTERNAL = 3  # a bug in tierbook itself
EXIT_CHANGES = 4  # plan --detailed-exitcode: the change moves something (no error)
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as a shell reports it: not a failed gate


def located(file: str, line: int, column: int, unit: str = "line") -> str:
    """``file:line:column``; ``file: row N`` where ``unit`` is "row" (a Parquet file: no
    lines, and the column is named by the path that follows); ``file`` where ``line`` is 0."""
    if not line:
        return file
    return f"{file}: row {line}" if unit == "row" else f"{file}:{line}:{column}"


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem: a ruleset error, a bad input cell, a failed check."""

    file: str
    line: int
    column: int
    path: str
    message: str
    code: str = field(default="invalid", compare=False)
    # "row": ``line`` is the 1-based data row of a file that has no lines (Parquet)
    unit: str = field(default="line", compare=False)

    def __str__(self) -> str:
        where = located(self.file, self.line, self.column, self.unit)
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "code": self.code,
            "message": self.message,
        }


class TierbookError(Exception):
    """Base of every error tierbook raises on purpose."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = sorted(problems)
        super().__init__(message)

    def render(self) -> str:
        if not self.problems:
            return str(self)
        return "\n".join(str(p) for p in self.problems)


class UsageError(TierbookError):
    exit_code = EXIT_USAGE


class RulesetError(TierbookError):
    """A ruleset that cannot be loaded or is invalid."""


class DataError(TierbookError):
    """Account or event data that cannot be read."""


class EngineError(TierbookError):
    """A rule that failed while evaluating an account; names the rule id."""

    def __init__(self, message: str, rule_id: str = "", account_id: str = "") -> None:
        self.rule_id = rule_id
        self.account_id = account_id
        super().__init__(message)


class StoreError(TierbookError):
    """The trace store is missing, unreadable, or has no such run or account."""


def suggest(name: str, known: Iterable[str]) -> str:
    """A did-you-mean suffix for a misspelt or shortened name, or an empty string.

    Closeness of meaning first: a known name that starts with the given one's words
    (`high_touch` -> `high_touch_enterprise`), else one holding all of them, fewest other
    words first; only then closeness of spelling (`high_touch` is not `mid_touch`)."""
    names = sorted(set(known))
    match = _by_words(str(name), names)
    if match is None:
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        match = close[0] if close else None
    return f" (did you mean '{match}'?)" if match else ""


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", name.casefold()) if w]


def _by_words(name: str, names: list[str]) -> str | None:
    words = _words(name)
    if not words:
        return None
    ranked = []
    for known in names:
        theirs = _words(known)
        if theirs == words:
            continue
        if theirs[: len(words)] == words:
            ranked.append((0, len(theirs), known))
        elif set(words) <= set(theirs):
            ranked.append((1, len(theirs), known))
    return min(ranked)[2] if ranked else None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: a missing or extra character in an id counts as one."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest(name: str, known: Iterable[str], n: int = 5) -> list[str]:
    """The known names nearest to a mistyped one, nearest first."""
    ranked = sorted(set(known), key=lambda k: (edit_distance(name.casefold(), k.casefold()), k))
    limit = max(2, len(name) // 2)
    return [k for k in ranked[:n] if edit_distance(name.casefold(), k.casefold()) <= limit]
