"""What crossed behind a move in `replay`: the band of each banded value the account had
when it was placed in its held tier (at the start, when it joined, or at its last move),
against its band this quarter.

A transition rule's own `because` is written once for every account it moves ("ARR crossed
a band boundary on renewal"); a move to the evaluated tier says instead which banded values
actually crossed, so a move earned by strategic value does not read as an ARR crossing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..evaluate.bands import ResolvedBands
from ..ruleset.model import Ruleset


def crossings(
    ruleset: Ruleset,
    bands: Mapping[str, ResolvedBands],
    before: Mapping[str, str],
    after: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Each band set (in the ruleset's order) whose band differs between ``before`` and
    ``after``: {band_set, over, from, to} with band ids."""
    out = []
    for bs in ruleset.bands:
        old, new = before.get(bs.id), after.get(bs.id)
        if old and new and old != new and bs.id in bands:
            out.append({"band_set": bs.id, "over": bs.over, "from": old, "to": new})
    return out


def value_label(ruleset: Ruleset, name: str) -> str:
    """How a report names a value: its label, 'ARR' for the ARR input, else its id."""
    for inp in ruleset.inputs:
        if inp.id == name:  # (a label defaults to the id)
            if inp.label and inp.label != inp.id:
                return inp.label
            return "ARR" if inp.role == "arr" else name
    return next((sc.label for sc in ruleset.scores if sc.id == name and sc.label), name)


def _label(bands: ResolvedBands, band_id: str) -> str:
    return next((b.label or b.id for b in bands.bands if b.id == band_id), band_id)


def crossing_because(
    ruleset: Ruleset,
    bands: Mapping[str, ResolvedBands],
    crossed: list[dict[str, Any]],
    events: Iterable[str],
) -> str:
    """'Strategic value crossed a band boundary (Medium -> High) on renewal'."""
    parts = []
    for c in crossed:
        rb = bands[c["band_set"]]
        name = value_label(ruleset, c["over"])
        parts.append(
            f"{name} crossed a band boundary ({_label(rb, c['from'])} -> {_label(rb, c['to'])})"
        )
    kinds = sorted(events)
    return " and ".join(parts) + (f" on {' and '.join(kinds)}" if kinds else "")
