"""Typed model of a validated ruleset: plain frozen data the later stages read.

Built by :func:`tierbook.ruleset.build_model` only after the schema has passed, so the
structure is known to be right; semantic checks live in :mod:`tierbook.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Condition = dict[str, Any]  # structured: all/any/not/field/flag/event, never a string


@dataclass(frozen=True)
class Input:
    id: str
    type: str
    required: bool = False
    default: Any = None
    unit: str = ""
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    role: str = ""
    label: str = ""
    description: str = ""
    column: str | None = None  # the file's column named for one run (--map), read instead


@dataclass(frozen=True)
class Derived:
    id: str
    op: str  # ratio | difference | sum | days_since | days_until
    args: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Component:
    id: str
    weight: float
    input: str | None = None
    when: Condition | None = None
    scoring: dict[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Score:
    id: str
    method: str  # weighted | count
    components: tuple[Component, ...]
    scale: float = 1.0
    round: int = 4
    label: str = ""
    description: str = ""
    because: str = ""
    # a weighted score with some component unknown: "unknown", or "renormalise" over the
    # known components when they carry at least ``min_known`` of the weight
    when_unknown: str = "unknown"
    min_known: float = 0.5

    def effective_weights(self) -> dict[str, float]:
        """Weights with zero weights' share redistributed proportionally (docs/language.md)."""
        total = sum(c.weight for c in self.components)
        if total <= 0:
            return {c.id: 0.0 for c in self.components}
        return {c.id: c.weight / total for c in self.components}


@dataclass(frozen=True)
class Band:
    id: str
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = False
    row: str = ""
    label: str = ""
    target_account_share: tuple[float, float] | None = None
    target_arr_share: tuple[float, float] | None = None

    def contains(self, value: float) -> bool:
        if self.lower is not None and (
            value < self.lower or (value == self.lower and not self.lower_inclusive)
        ):
            return False
        return self.upper is None or not (
            value > self.upper or (value == self.upper and not self.upper_inclusive)
        )

    def interval_text(self, fmt: Any = str) -> str:
        parts = []
        if self.lower is not None:
            parts.append(f"{'>=' if self.lower_inclusive else '>'} {fmt(self.lower)}")
        if self.upper is not None:
            parts.append(f"{'<=' if self.upper_inclusive else '<'} {fmt(self.upper)}")
        return " and ".join(parts) or "any value"


@dataclass(frozen=True)
class BandSet:
    id: str
    over: str
    method: str
    variants: dict[
        str, tuple[Band, ...]
    ]  # method name -> bands ('declared', 'log', 'quartile', ...)
    quantiles: tuple[float, ...] = (0.25, 0.5, 0.75)
    auto: dict[str, Any] = field(default_factory=dict)
    step: float = 1000.0
    label: str = ""
    description: str = ""
    because: str = ""

    def rows(self) -> list[str]:
        """Row ids in band order (lowest band first), over every variant."""
        out: list[str] = []
        for bands in self.variants.values():
            for band in bands:
                if band.row not in out:
                    out.append(band.row)
        return out


@dataclass(frozen=True)
class DecisionRule:
    id: str
    when: Condition
    value: Any
    because: str
    priority: int = 0


@dataclass(frozen=True)
class Decision:
    id: str
    hit_policy: str
    rules: tuple[DecisionRule, ...]
    default: Any = None
    label: str = ""
    description: str = ""


@dataclass(frozen=True)
class Tier:
    id: str
    label: str
    because: str
    entry: str = ""
    treatment: str = ""
    book_min: int | None = None
    book_max: int | None = None
    book_target: int | None = None
    pooled: bool = False
    automated: bool = False
    motion: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    id: str
    row: str
    column: str
    tier: str
    because: str


@dataclass(frozen=True)
class Grid:
    id: str
    rows: str
    columns: str | None
    row_order: tuple[str, ...]
    column_order: tuple[str, ...]
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Flag:
    id: str
    when: Condition
    because: str
    label: str = ""
    trigger: str = ""
    unlocks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contradiction:
    id: str
    flags: tuple[str, str]
    comment: str
    because: str = ""


@dataclass(frozen=True)
class ReviewHint:
    id: str
    when: Condition
    hint: str
    because: str


@dataclass(frozen=True)
class Lever:
    id: str
    band: str
    lower_of: str
    method: str | None = None
    step: float | None = None
    factor: float | None = None
    min: float | None = None
    max: float | None = None
    because: str = ""


@dataclass(frozen=True)
class Capacity:
    per_tier: dict[str, int] = field(default_factory=dict)
    total: int | None = None
    calibration_tier: str | None = None
    tolerance: float = 0.10
    max_rounds: int = 10
    levers: tuple[Lever, ...] = ()

    @property
    def available(self) -> int | None:
        if self.total is not None:
            return self.total
        return sum(self.per_tier.values()) if self.per_tier else None


@dataclass(frozen=True)
class Gate:
    id: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    because: str = ""


@dataclass(frozen=True)
class Waiver:
    gate: str
    reason: str
    approved_by: str = ""
    expires: str = ""


@dataclass(frozen=True)
class Trigger:
    id: str
    kind: str
    because: str
    threshold: float | None = None
    ratio: float | None = None
    consecutive_quarters: int = 1
    tiers: tuple[str, ...] = ()
    after_firing: str = "open"  # open (reported as still open) | rebase


@dataclass(frozen=True)
class TransitionRule:
    id: str
    action: str
    when: Condition
    because: str
    to: str = "evaluated"


@dataclass(frozen=True)
class CurrentBook:
    """The ruleset's ``current_book`` section: the CRM's current-tier labels -> tiers (empty:
    only a label that is a tier id counts), the label written back per tier, and what
    weights an account's load in its CSM's book."""

    labels: dict[str, str] = field(default_factory=dict)
    export: dict[str, str] = field(default_factory=dict)
    complexity: str | None = None
    complexity_neutral: float = 1.0


@dataclass(frozen=True)
class Ruleset:
    name: str
    version: str
    effective_date: str
    description: str
    sha256: str
    source_file: str
    inputs: tuple[Input, ...]
    derived: tuple[Derived, ...]
    scores: tuple[Score, ...]
    bands: tuple[BandSet, ...]
    decisions: tuple[Decision, ...]
    tiers: tuple[Tier, ...]
    grid: Grid
    flags: tuple[Flag, ...]
    contradictions: tuple[Contradiction, ...]
    compatible: tuple[dict[str, Any], ...]
    review_hints: tuple[ReviewHint, ...]
    capacity: Capacity
    gates: tuple[Gate, ...]
    waivers: tuple[Waiver, ...]
    triggers: tuple[Trigger, ...]
    transitions: tuple[TransitionRule, ...]
    min_dwell_quarters: int
    alignment: dict[str, Any]
    metadata: dict[str, Any]
    raw: dict[str, Any]
    # event type -> a condition on the account's values and flags that counts, for
    # history.quarters_since.<event type>, as an event of that type (transitions.signals)
    transition_signals: dict[str, Condition] = field(default_factory=dict)
    current_book: CurrentBook = field(default_factory=CurrentBook)
    # the overrides file it names (`file`) and how far ahead an override may expire (`max_days`)
    overrides: dict[str, Any] = field(default_factory=dict)

    def input(self, input_id: str) -> Input:
        return next(i for i in self.inputs if i.id == input_id)

    def role(self, role: str) -> str | None:
        return next((i.id for i in self.inputs if i.role == role), None)

    def band_set(self, band_id: str) -> BandSet:
        return next(b for b in self.bands if b.id == band_id)

    def tier(self, tier_id: str) -> Tier:
        return next(t for t in self.tiers if t.id == tier_id)

    @property
    def tier_ids(self) -> list[str]:
        return [t.id for t in self.tiers]

    @property
    def flag_ids(self) -> list[str]:
        return [f.id for f in self.flags]
