"""The compiled rule network: what both executors (durable-rules and native) run.

Each rule is a disjunction of *disjuncts*; a disjunct is a formula over the account's
condition codes (one per distinct comparison, ``Leaf``: true / false / unknown) plus
positive patterns over facts derived by rules fired earlier (``Pattern``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..evaluate.bands import ResolvedBands
from ..ruleset.model import Condition, Ruleset
from . import conditions as C

T, F, U = "T", "F", "U"
TRUE_ONLY = frozenset({T})
NOT_TRUE = frozenset({F, U})
FALSE_ONLY = frozenset({F})
NOT_FALSE = frozenset({T, U})

# account formula: ("true",) | ("atom", leaf_index, states) | ("and", (...)) | ("or", (...))
Formula = tuple[Any, ...]
TRUE: Formula = ("true",)
FALSE: Formula = ("or", ())

MAX_RULES = 60000
MAX_LEAVES = 240  # durable-rules fails with error 302 past ~250 fields in one fact


@dataclass(frozen=True)
class Leaf:
    index: int
    field: str
    op: str
    arg: Any

    @property
    def text(self) -> str:
        return C.describe({"field": self.field, self.op: self.arg})


@dataclass(frozen=True)
class Pattern:
    """Matches one derived fact: type plus attribute -> allowed values."""

    type: str
    attrs: tuple[tuple[str, tuple[Any, ...]], ...]

    def matches(self, fact: dict[str, Any]) -> bool:
        return fact["t"] == self.type and all(fact.get(k) in vs for k, vs in self.attrs)

    @property
    def text(self) -> str:
        parts = [
            f"{k}{'=' if len(v) == 1 else ' in '}{v[0] if len(v) == 1 else list(v)}"
            for k, v in self.attrs
        ]
        return f"{self.type}({', '.join(parts)})"


@dataclass(frozen=True)
class Disjunct:
    account: Formula
    facts: tuple[Pattern, ...]


@dataclass(frozen=True)
class Rule:
    index: int
    id: str
    kind: str  # band | decision | cell | flag | comment | review | motion
    disjuncts: tuple[Disjunct, ...]
    output: dict[str, Any]
    because: str
    condition: Condition | None = None  # the rule's own condition, for traces and why-not
    decision: str = ""

    @property
    def priority(self) -> int:
        return self.index


@dataclass
class Network:
    ruleset: Ruleset
    bands: dict[str, ResolvedBands]
    leaves: list[Leaf] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    _leaf_index: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def leaf(self, name: str, op: str, arg: Any) -> int:
        key = (name, op, json.dumps(arg, sort_keys=True))
        if key not in self._leaf_index:
            self._leaf_index[key] = len(self.leaves)
            self.leaves.append(Leaf(len(self.leaves), name, op, arg))
        return self._leaf_index[key]

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


# --- formulas ---------------------------------------------------------------------


def conjoin(items: Iterable[Formula]) -> Formula:
    items = [i for i in items if i != TRUE]
    if any(i == FALSE for i in items):
        return FALSE
    if not items:
        return TRUE
    return items[0] if len(items) == 1 else ("and", tuple(items))


def disjoin(items: Iterable[Formula]) -> Formula:
    items = [i for i in items if i != FALSE]
    if any(i == TRUE for i in items):
        return TRUE
    if not items:
        return FALSE
    return items[0] if len(items) == 1 else ("or", tuple(items))


def negated(states: frozenset[str]) -> frozenset[str]:
    swap = {T: F, F: T, U: U}
    return frozenset(swap[s] for s in states)


def merge_patterns(pats: tuple[Pattern, ...]) -> tuple[Pattern, ...] | None:
    """Conjunction of patterns; None when two can never hold at once (one tier only...)."""
    out: list[Pattern] = []
    for p in pats:
        if p in out:
            continue
        out.append(p)
    singles = {"tier": ("tier",), "band": ("set",), "decision": ("id",)}
    by_key: dict[tuple[Any, ...], set[Any] | None] = {}
    for p in out:
        if p.type not in singles:
            continue
        attrs = dict(p.attrs)
        key = (p.type,) + tuple(attrs[k] for k in singles[p.type])
        value_attr = {"tier": "tier", "band": "band", "decision": "value"}[p.type]
        if value_attr not in attrs:
            continue
        allowed = set(attrs[value_attr])
        earlier = by_key.get(key)
        if earlier is not None:
            allowed &= earlier
            if not allowed:
                return None
        by_key[key] = allowed
    return tuple(out)


def number_text(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"
