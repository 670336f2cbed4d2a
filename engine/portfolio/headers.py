"""Which column of a file each input of the ruleset reads: its id or an alias, exactly, then
ignoring case and separators, so raw Salesforce and HubSpot exports work."""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from ..errors import DataError, Problem

if TYPE_CHECKING:
    from ..ruleset.model import Input, Ruleset

# CRM fields for the customer company's own revenue (Salesforce AnnualRevenue, HubSpot
# annualrevenue): never ARR, whatever their name suggests
COMPANY_REVENUE = frozenset({"annualrevenue"})


def normalise(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).casefold()


# the column names of a CRM's own UI export for the identity roles, read when none of the
# input's declared names is in the file (HubSpot's UI export: `Record ID`, `Company name`)
ROLE_ALIASES = {"account_id": ("Record ID",), "name": ("Company name",)}


def match_columns(ruleset: Ruleset, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """input id -> column index, plus the columns no input claims.  A column named for the
    run (``Input.column``, from --map) is read first, and only that column."""
    found: dict[str, int] = {}
    by_exact = {h: i for i, h in enumerate(headers)}
    by_norm: dict[str, int] = {}
    for i, h in enumerate(headers):
        by_norm.setdefault(normalise(h), i)
    for inp in ruleset.inputs:
        if inp.column is not None and inp.column in by_exact:
            found[inp.id] = by_exact[inp.column]
    for inp in ruleset.inputs:
        if inp.column is not None:
            continue
        names = (inp.id,) + inp.aliases
        idx = next((by_exact[n] for n in names if n in by_exact), None)
        if idx is None:
            idx = next((by_norm[normalise(n)] for n in names if normalise(n) in by_norm), None)
        if idx is None:
            role = ROLE_ALIASES.get(inp.role, ())
            idx = next((by_norm[normalise(n)] for n in role if normalise(n) in by_norm), None)
        if idx is not None and idx not in found.values():
            found[inp.id] = idx
    used = set(found.values())
    return found, [h for i, h in enumerate(headers) if i not in used]


def _nearest_column(inp: Input, unclaimed: list[str]) -> str:
    """A hint naming the file's column that looks like ``inp``'s: the same name once a unit
    in brackets is dropped ('ARR ($)', 'ARR (USD)'), else a close spelling."""
    names = {normalise(n) for n in (inp.id,) + inp.aliases}
    revenue = next((h for h in unclaimed if normalise(h) in COMPANY_REVENUE), None)
    if inp.role == "arr" and revenue is not None:
        return (
            f"; the file has '{revenue}', which is the customer company's own revenue, not "
            "the ARR it pays: export the ARR field (a custom field such as ARR__c, or a "
            "roll-up of subscriptions), or add its name to the input's aliases"
        )
    for header in unclaimed:
        if normalise(re.sub(r"[(\[].*?[)\]]", "", header)) in names:
            return (
                f"; the file has '{header}': rename that column, or add it to the input's aliases"
            )
    by_norm = {normalise(h): h for h in unclaimed}
    near = difflib.get_close_matches(normalise(inp.id), sorted(by_norm), n=1, cutoff=0.6)
    if near:
        return f" (did you mean '{by_norm[near[0]]}'?)"
    alike = sharing_words((inp.id,) + inp.aliases, unclaimed)
    if not alike:
        return ""
    quoted = ", ".join(f"'{h}'" for h in alike)
    return (
        f"; the file has {quoted}, which look{'s' if len(alike) == 1 else ''} like it: "
        f"--map {_cli_name(alike[0])}={inp.id} reads it for this run (or add it to the "
        "input's aliases)"
    )


# words too common in column names to make two of them alike on their own
_GENERIC = frozenset(
    [
        "id",
        "ids",
        "date",
        "at",
        "on",
        "of",
        "the",
        "a",
        "in",
        "is",
        "no",
        "name",
        "count",
        "number",
        "total",
        "amount",
        "value",
        "flag",
        "score",
        "type",
        "status",
        "code",
        "num",
        "pct",
        "percent",
    ]
)


def _word_set(name: str) -> set[str]:
    bare = re.sub(r"__c$", "", name.strip(), flags=re.IGNORECASE)
    bare = re.sub(r"[(\[].*?[)\]]", "", bare)
    bare = re.sub(r"([a-z])([A-Z])", r"\1 \2", bare)  # (camelCase: ArrAmount)
    return {w for w in re.split(r"[\W_]+", bare.casefold()) if w} - _GENERIC


def sharing_words(names: tuple[str, ...], headers: list[str]) -> list[str]:
    """The headers that share a meaningful word with one of ``names`` (`arr_amount` with
    `arr`, `seats` with `seats_licensed`, `churn_flag` with `churn_signal`), in file order."""
    wanted: set[str] = set()
    for n in names:
        wanted |= _word_set(n)
    return [h for h in headers if _word_set(h) & wanted]


def close_headers(name: str, headers: list[str]) -> str:
    """A hint naming the headers that look like a missing column ``name``."""
    by_norm = {normalise(h): h for h in headers}
    near = difflib.get_close_matches(normalise(name), sorted(by_norm), n=1, cutoff=0.6)
    alike = [by_norm[near[0]]] if near else sharing_words((name,), headers)
    if not alike:
        return ""
    return f"; the file has {', '.join(repr(h) for h in alike[:5])}"


def _cli_name(header: str) -> str:
    """A header as one shell word (quoted when it holds spaces)."""
    return header if re.fullmatch(r"[\w.\-]+", header) else f"'{header}'"


def columns(
    file: str, headers: list[str], ruleset: Ruleset
) -> tuple[dict[str, int], list[str], list[str]]:
    """Each input's column, the columns no input reads, the optional inputs with no
    column; a DataError naming every required column that is missing."""
    colmap, ignored = match_columns(ruleset, headers)
    problems: list[Problem] = []
    missing = []
    for inp in ruleset.inputs:
        if inp.id not in colmap:
            if inp.required:
                problems.append(
                    Problem(
                        file,
                        1,
                        1,
                        inp.id,
                        f"missing required column '{inp.id}'"
                        + (f" (or {', '.join(inp.aliases)})" if inp.aliases else "")
                        + _nearest_column(inp, ignored),
                        "missing-column",
                    )
                )
            else:
                missing.append(inp.id)
    if problems:
        raise DataError("missing columns", problems)
    problems = twin_columns(file, headers, colmap)
    if problems:
        raise DataError("columns named twice", problems)
    return colmap, ignored, missing


def twin_columns(file: str, headers: list[str], read: dict[str, int]) -> list[Problem]:
    """A problem for each column read (name -> index) that another column of the file is
    also named, letter case and separators aside: which of the two holds the values cannot
    be told, and reading either would be a silent guess."""
    problems = []
    for name, idx in read.items():
        key = normalise(headers[idx])
        for other, header in enumerate(headers):
            if other != idx and normalise(header) == key:
                first, second = sorted((idx, other))
                problems.append(
                    Problem(
                        file,
                        1,
                        second + 1,
                        name,
                        f"columns {first + 1} and {second + 1} are both named "
                        f"'{headers[first]}'"
                        + (f" / '{headers[second]}'" if headers[second] != headers[first] else "")
                        + f" (read as '{name}'): rename or remove one",
                        "duplicate-column",
                    )
                )
    return problems


def _bare(name: str) -> str:
    """A column name without a CRM's custom-field suffix (Salesforce `__c`) or a unit in
    brackets, normalised: `Health_Score__c` and `Health Score (0-100)` are `healthscore`."""
    name = re.sub(r"__c$", "", name.strip(), flags=re.IGNORECASE)
    return normalise(re.sub(r"[(\[].*?[)\]]", "", name))


def lookalikes(ruleset: Ruleset, ignored: list[str], missing: list[str]) -> dict[str, str]:
    """The ignored columns that look like an input left without a column (column -> input):
    the same name once a custom-field suffix or unit is dropped, else a close spelling."""
    out: dict[str, str] = {}
    wanted = [ruleset.input(m) for m in missing]
    for header in ignored:
        bare = _bare(header)
        for inp in wanted:
            names = [normalise(n) for n in (inp.id,) + inp.aliases]
            if bare in names or difflib.get_close_matches(bare, names, n=1, cutoff=0.85):
                out[header] = inp.id
                break
    return out


class InputNames:
    """The input a field name given elsewhere than a header (an event's field) reads, matched
    as a header is: by id or alias exactly, then ignoring case and separators."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.exact: dict[str, str] = {}
        self.loose: dict[str, str] = {}
        for inp in ruleset.inputs:
            self.exact.setdefault(inp.id, inp.id)
        for inp in ruleset.inputs:
            for name in (inp.id, *inp.aliases):
                self.exact.setdefault(name, inp.id)
                self.loose.setdefault(normalise(name), inp.id)

        self.seen: dict[str, str | None] = {}  # (a name asked of every event: matched once)

    def __call__(self, name: str) -> str | None:
        try:
            return self.seen[name]
        except KeyError:
            found = self.seen[name] = self.exact.get(name) or self.loose.get(normalise(name))
            return found
