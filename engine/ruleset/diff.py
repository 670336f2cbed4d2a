"""What changed between two versions of a ruleset, by meaning rather than by line.

Both documents are walked as data: mappings by key, lists of items with an ``id`` by id
(so a moved item is not a change, and a renamed threshold is named by its band), any other
value as a whole.  Each change is classified:

- ``changes decisions``: the logic that places accounts (bands and their bounds, scores and
  their weights, grid cells, flags, decision tables, review hints, derived values, tiers);
- ``may change decisions``: what decides only with some data or elsewhere (input columns and
  their reading, capacity and calibration, gates, replay transitions and triggers);
- ``metadata only``: metadata and the texts shown to people (because, label, description,
  a hint's or comment's words).

``attribute`` ties each change to the accounts it moves where that can be separated: a band
set's accounts whose band differs (for a change to the set or to the score it is over), a
grid cell whose accounts changed tier in place, a flag's accounts that gained or lost it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DECIDES = "changes decisions"
MAY = "may change decisions"
META = "metadata only"
CLASSES = (DECIDES, MAY, META)

_DECIDING = {"bands", "scores", "grid", "flags", "decisions", "review_hints", "derived", "tiers"}
_SCOPES = {
    "inputs": "reading the portfolio",
    "capacity": "CSM capacity and calibration",
    "gates": "quality gates",
    "contradictions": "the flags_compatible gate",
    "compatible": "the flags_compatible gate",
    "transitions": "replay movement",
    "recalibration": "replay triggers",
    "alignment": "coverage alignment",
    "current_book": "the moves against the current book, changes.csv and CSM books",
    "overrides": "the overrides file it names",
    "tierbook": "the ruleset format",
}
_TEXTS = {
    "because",
    "label",
    "description",
    "changelog",
    "note",
    "title",
    "hint",
    "comment",
    "trigger",
    "unlocks",
}
_TIER_CAPACITY = {"book_size", "csms", "capacity"}


@dataclass
class Change:
    path: tuple[str, ...]
    kind: str  # changed | added | removed | reordered
    before: Any
    after: Any
    klass: str
    scope: str = ""
    accounts: int | None = None  # accounts this change moves, where separable
    arr: float | None = None
    shared: bool = False  # the accounts are moved by this change together with others
    target: str = ""  # what its accounts are counted on: "band set sv_band", "flag x", ...
    others: int = 0  # other changes counted on the same target

    @property
    def where(self) -> str:
        return ".".join(self.path)

    def text(self) -> str:
        if self.kind == "added":
            what = f"added {self.where} = {_show(self.after)}"
        elif self.kind == "removed":
            what = f"removed {self.where} (was {_show(self.before)})"
        elif self.kind == "reordered":
            what = f"reordered {self.where}: {_show(self.before)} -> {_show(self.after)}"
        else:
            what = f"{self.where}: {_show(self.before)} -> {_show(self.after)}"
        return what

    def effect(self) -> str:
        if self.accounts is None:
            return ""
        if self.arr is None:  # a flag: accounts gain or lose it, none moves for it
            what = f"{self.accounts:,} account(s) gain or lose the flag"
        else:
            what = f"moves {self.accounts:,} account(s), ${self.arr:,.0f} ARR"
        return what + (
            f" (with {self.others} other change(s) to {self.target})" if self.shared else ""
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.where,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "class": self.klass,
            "scope": self.scope,
            "accounts": self.accounts,
            "arr": None if self.arr is None else round(self.arr, 2),
            "shared": self.shared,
            "target": self.target,
        }


@dataclass
class RulesetDiff:
    changes: list[Change] = field(default_factory=list)
    grid: dict[str, Any] = field(default_factory=dict)  # the head's grid id and column order
    scored: dict[str, str] = field(default_factory=dict)  # score id -> the band set over it

    def count(self, klass: str) -> int:
        return sum(c.klass == klass for c in self.changes)

    def summary(self) -> str:
        parts = [f"{self.count(k)} {k}" for k in CLASSES if self.count(k)]
        return f"{len(self.changes)} rule change(s): " + ", ".join(parts)

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.changes]

    def attribute(
        self,
        moves: Iterable[tuple[set[tuple[str, str]], float]],
        flags_gained: dict[str, int],
        flags_lost: dict[str, int],
    ) -> None:
        """Accounts and ARR each deciding change moves, where separable: ``moves`` gives
        each moved account's targets (("band", set id) whose band differs, ("cell", cell id)
        when it changed tier in the same cell) and its ARR."""
        by_target: dict[tuple[str, str], list[Change]] = {}
        for c in self.changes:
            target = self._target(c)
            if target is not None:
                by_target.setdefault(target, []).append(c)
        hits: dict[tuple[str, str], tuple[int, float]] = {}
        for targets, arr in moves:
            for t in targets:
                n, a = hits.get(t, (0, 0.0))
                hits[t] = (n + 1, a + arr)
        for target, changes in by_target.items():
            kind, name = target
            moved: float | None = None
            if kind == "flag":
                n = flags_gained.get(name, 0) + flags_lost.get(name, 0)
            else:
                n, moved = hits.get(target, (0, 0.0))
            label = {"band": "band set", "cell": "grid cell", "flag": "flag"}[kind]
            for c in changes:
                c.accounts, c.arr, c.shared = n, moved, len(changes) > 1
                c.target, c.others = f"{label} {name}", len(changes) - 1

    def _target(self, c: Change) -> tuple[str, str] | None:
        if c.klass != DECIDES or len(c.path) < 2:
            return None
        section, item = c.path[0], c.path[1]
        if section == "bands":
            return ("band", item)
        if section == "scores" and item in self.scored:  # moves accounts through its band set
            return ("band", self.scored[item])
        if section == "flags":
            return ("flag", item)
        if section == "grid" and len(c.path) == 4 and c.path[1] == "cells":
            order = self.grid.get("column_order") or []
            at = int(c.path[3]) if c.path[3].isdigit() else -1
            if 0 <= at < len(order):
                return ("cell", f"{self.grid.get('id')}.{c.path[2]}.{order[at]}")
        return None


def _show(value: Any, width: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def classify(path: tuple[str, ...]) -> tuple[str, str]:
    """The class of a change at ``path``, and the part of the product it touches."""
    section = path[0] if path else ""
    if section == "metadata" or (path and path[-1] in _TEXTS):
        return META, "text shown to people" if section != "metadata" else "metadata"
    if section == "tiers" and len(path) >= 3 and path[2] in _TIER_CAPACITY:
        return MAY, "CSM capacity"
    if section in _DECIDING:
        return DECIDES, "segmentation"
    return MAY, _SCOPES.get(section, section)


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of items with unique ids, as id -> item (None when it is not one)."""
    if not items or not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    keyed = {str(i["id"]): i for i in items}
    return keyed if len(keyed) == len(items) else None


def _walk(before: Any, after: Any, path: tuple[str, ...], out: list[Change]) -> None:
    def add(kind: str, b: Any, a: Any, at: tuple[str, ...] = path) -> None:
        klass, scope = classify(at)
        out.append(Change(at, kind, b, a, klass, scope))

    if isinstance(before, dict) and isinstance(after, dict) and path[-1:] != ("when",):
        # (a condition is one change, however many of its leaves differ)
        for key in list(before) + [k for k in after if k not in before]:
            at = path + (str(key),)
            if key not in after:
                add("removed", before[key], None, at)
            elif key not in before:
                add("added", None, after[key], at)
            else:
                _walk(before[key], after[key], at, out)
        return
    if isinstance(before, list) and isinstance(after, list):
        kb, ka = _keyed(before), _keyed(after)
        if kb is not None and ka is not None:
            _walk(kb, ka, path, out)
            common_b = [k for k in kb if k in ka]
            common_a = [k for k in ka if k in kb]
            if common_b != common_a:
                add("reordered", common_b, common_a)
            return
        n = len(before)
        if len(after) > n and (after[:n] == before or after[-n:] == before if n else True):
            # entries added at one end (a changelog line): the new entries are the change
            new = after[n:] if after[:n] == before else after[: len(after) - n]
            add("added", None, new)
            return
        if len(before) == len(after) and path[:2] == ("grid", "cells"):
            for i, (b, a) in enumerate(zip(before, after)):
                if b != a:
                    add("changed", b, a, path + (str(i),))
            return
    if before != after:
        add("changed", before, after)


def diff_documents(before: Any, after: Any) -> RulesetDiff:
    """The changes from ``before`` to ``after`` (ruleset documents as plain data)."""
    out: list[Change] = []
    _walk(before, after, (), out)
    after = after if isinstance(after, dict) else {}
    grid = after.get("grid") or {}
    scored: dict[str, str] = {}
    for b in after.get("bands") or []:
        if isinstance(b, dict) and "over" in b:
            scored.setdefault(str(b["over"]), str(b.get("id")))
    return RulesetDiff(
        out, {"id": grid.get("id"), "column_order": grid.get("column_order")}, scored
    )


def move_targets(
    bands_before: dict[str, str], bands_after: dict[str, str], cell_before: str, cell_after: str
) -> set[tuple[str, str]]:
    """What moved one account: the band sets whose band differs, and its grid cell when the
    cell is the same and the tier is not (the cell's tier changed)."""
    targets = {
        ("band", s)
        for s in set(bands_before) | set(bands_after)
        if bands_before.get(s) != bands_after.get(s)
    }
    if cell_before and cell_before == cell_after:
        targets.add(("cell", cell_after))
    return targets


def render_lines(d: RulesetDiff, limit: int = 50) -> list[str]:
    out = [f"Rule changes ({d.summary().split(': ', 1)[1]})"]
    for c in d.changes[:limit]:
        effect = c.effect()
        out.append(f"  [{c.klass}] {c.text()}" + (f"  -> {effect}" if effect else ""))
    if len(d.changes) > limit:
        out.append(f"  ... {len(d.changes) - limit:,} more (--format json lists all)")
    return out


def render_markdown(d: RulesetDiff, limit: int = 500) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    rows = ["| change | class | effect |", "|---|---|---|"]
    rows += [
        f"| `{cell(c.text())}` | {c.klass} | {cell(c.effect() or c.scope)} |"
        for c in d.changes[:limit]
    ]
    if len(d.changes) > limit:
        rows.append(f"| … {len(d.changes) - limit:,} more | | |")
    return rows
