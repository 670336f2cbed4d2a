"""Capacity roll-up (tier counts x book-size norms) and capacity calibration.

Calibration only *recommends*: each round moves one lever one step, re-segments, and
records the effect.  `tierbook calibrate` writes the recommendation as a new ruleset
version; a threshold never moves silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..evaluate.bands import ResolvedBands
from ..ruleset.model import Lever, Ruleset


@dataclass
class TierCapacity:
    tier: str
    accounts: int
    arr: float
    book_size: int | None
    needed: int
    available: int | None

    @property
    def gap(self) -> int | None:
        return None if self.available is None else self.needed - self.available

    @property
    def accounts_per_csm(self) -> float | None:
        """The book each available CSM carries, in accounts (None: no CSMs)."""
        return round(self.accounts / self.available, 1) if self.available else None

    @property
    def arr_per_csm(self) -> float | None:
        """The book each available CSM carries, in ARR (None: no CSMs)."""
        return round(self.arr / self.available, 2) if self.available else None

    @property
    def short(self) -> bool:
        """Fewer CSMs declared for the tier than it needs."""
        return self.gap is not None and self.gap > 0


def gap_words(gap: int | None) -> str:
    """A gap (needed - available) without the sign convention: '2 spare', '3 short'."""
    if gap is None:
        return "unknown"
    if gap == 0:
        return "none (exactly enough)"
    return f"{gap} short" if gap > 0 else f"{-gap} spare"


@dataclass
class CapacityReport:
    per_tier: list[TierCapacity]
    available: int | None

    @property
    def needed(self) -> int:
        return sum(t.needed for t in self.per_tier)

    @property
    def gap(self) -> int | None:
        return None if self.available is None else self.needed - self.available

    @property
    def short_tiers(self) -> list[TierCapacity]:
        return [t for t in self.per_tier if t.short]

    @property
    def fits(self) -> bool:
        """Enough CSMs in total and in every tier that declares its own."""
        return self.gap is not None and self.gap <= 0 and not self.short_tiers

    def statement(self) -> str:
        avail = "not declared" if self.available is None else str(self.available)
        text = f"CSMs needed = {self.needed}, CSMs available = {avail}, gap = {gap_words(self.gap)}"
        short = self.short_tiers
        if short:
            text += "; short of CSMs: " + ", ".join(
                f"{t.tier} (needs {t.needed}, has {t.available})" for t in short
            )
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_tier": {
                t.tier: {
                    "accounts": t.accounts,
                    "arr": round(t.arr, 2),
                    "book_size": t.book_size,
                    "needed": t.needed,
                    "available": t.available,
                    "gap": t.gap,
                    "short": t.short,
                    "accounts_per_csm": t.accounts_per_csm,
                    "arr_per_csm": t.arr_per_csm,
                }
                for t in self.per_tier
            },
            "needed": self.needed,
            "available": self.available,
            "gap": self.gap,
            "short_tiers": [t.tier for t in self.short_tiers],
        }


def roll_up(ruleset: Ruleset, tiers: list[str], arrs: list[float]) -> CapacityReport:
    counts = {t.id: 0 for t in ruleset.tiers}
    arr = {t.id: 0.0 for t in ruleset.tiers}
    for tier, value in zip(tiers, arrs):
        counts[tier] += 1
        arr[tier] += value
    per_tier = []
    for t in ruleset.tiers:
        needed = 0
        if not t.automated and t.book_target:
            needed = math.ceil(counts[t.id] / t.book_target)
        available = ruleset.capacity.per_tier.get(t.id) if ruleset.capacity.per_tier else None
        per_tier.append(
            TierCapacity(t.id, counts[t.id], arr[t.id], t.book_target, needed, available)
        )
    return CapacityReport(per_tier, ruleset.capacity.available)


@dataclass
class CalibrationStep:
    round: int
    lever: str
    band: str
    boundary_from: float
    boundary_to: float
    tier_accounts_before: int
    tier_accounts_after: int
    needed_before: int
    needed_after: int
    because: str


# what happened to a lever in a calibration
APPLIED, AT_LIMIT, NOT_APPLICABLE, NOT_NEEDED, NOT_TRIED = (
    "applied",
    "at_limit",
    "not_applicable",
    "not_needed",
    "not_tried",
)


@dataclass
class LeverOutcome:
    lever: str
    band: str
    outcome: str  # applied | at_limit | not_applicable | not_needed | not_tried
    detail: str
    boundary_from: float | None = None
    boundary_to: float | None = None
    rounds: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return vars(self).copy()


@dataclass
class Calibration:
    tier: str | None
    direction: str  # tighten | loosen | none
    reason: str
    available: int | None
    needed: int | None
    steps: list[CalibrationStep] = field(default_factory=list)
    final_bands: dict[str, ResolvedBands] = field(default_factory=dict)
    fits: bool = True
    levers: list[LeverOutcome] = field(default_factory=list)

    @property
    def refusal(self) -> str:
        """Why a recommendation is not worth a new ruleset version ('' when it is): no
        lever could move, or no move changed the calibrated tier's accounts (a version
        that moves thresholds without serving the tier's capacity)."""
        if self.direction == "none":
            return ""
        if not self.steps:
            return f"no lever can {self.direction} {self.tier}'s thresholds"
        before, after = self.steps[0].tier_accounts_before, self.steps[-1].tier_accounts_after
        if all(s.tier_accounts_before == s.tier_accounts_after for s in self.steps):
            return (
                f"no move changes {self.tier}, the tier being calibrated: it keeps "
                f"{before:,} accounts ({before:,} -> {after:,})"
            )
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "direction": self.direction,
            "reason": self.reason,
            "available": self.available,
            "needed": self.needed,
            "fits": self.fits,
            "steps": [vars(s) for s in self.steps],
            "levers": [lv.as_dict() for lv in self.levers],
        }


def lever_boundary(rb: ResolvedBands, lever: Lever) -> float | None:
    band = next((b for b in rb.bands if b.id == lever.lower_of), None)
    return None if band is None else band.lower


def _num(value: float) -> str:
    return f"{value:,.6g}"


def _step(rb: ResolvedBands, lever: Lever, direction: int) -> tuple[ResolvedBands | None, str]:
    """The band set with the lever's boundary moved one step, or None and why it cannot."""
    current = lever_boundary(rb, lever)
    if current is None:
        return None, f"{rb.id} has no lower bound of {lever.lower_of} to move"
    if lever.factor:
        new = current * lever.factor if direction > 0 else current / lever.factor
    else:
        new = current + (lever.step or 0) * direction
    new = round(new, 6)
    if lever.max is not None and new > lever.max:
        new = lever.max
    if lever.min is not None and new < lever.min:
        new = lever.min
    if new == current:
        limit = "maximum" if direction > 0 else "minimum"
        return None, f"at its {limit} {_num(current)}"
    bands = list(rb.bands)
    i = next(i for i, b in enumerate(bands) if b.id == lever.lower_of)
    below, above = (bands[i - 1].lower if i > 0 else None), bands[i].upper
    for edge in (below, above):
        if edge is not None and (new <= edge if edge is below else new >= edge):
            return None, (
                f"the next step ({_num(current)} -> {_num(new)}) would reach the "
                f"neighbouring boundary {_num(edge)}"
            )
    bands[i] = replace(bands[i], lower=new)
    if i > 0:
        bands[i - 1] = replace(bands[i - 1], upper=new)
    return replace(rb, bands=tuple(bands)), ""


def move_lever(rb: ResolvedBands, lever: Lever, direction: int) -> ResolvedBands | None:
    """The band set with the lever's boundary moved one step, or None at its limit."""
    return _step(rb, lever, direction)[0]


def _not_applicable(lever: Lever, bands: dict[str, ResolvedBands]) -> str:
    """Why a lever does not apply to this run's bands ('' when it does)."""
    rb = bands.get(lever.band)
    if rb is None:
        return f"band set {lever.band} is not in this run"
    if lever.method is not None and lever.method not in (rb.method, rb.declared_method):
        return f"{lever.band} uses {rb.method} bands in this run; the lever moves its {lever.method} bands"
    if lever_boundary(rb, lever) is None:
        return f"{lever.band} ({rb.method}) has no lower bound of {lever.lower_of} to move"
    return ""


def calibrate(
    ruleset: Ruleset,
    bands: dict[str, ResolvedBands],
    tier_counts: dict[str, int],
    resegment: Callable[[dict[str, ResolvedBands]], dict[str, int]],
) -> Calibration:
    cap = ruleset.capacity
    tier_id = cap.calibration_tier
    if not tier_id:
        return Calibration(
            None, "none", "no capacity calibration declared", None, None, final_bands=bands
        )
    tier = ruleset.tier(tier_id)
    available = cap.per_tier.get(tier_id)
    if available is None or not tier.book_target:
        return Calibration(
            tier_id,
            "none",
            f"no CSMs available or book size declared for {tier_id}",
            available,
            None,
            final_bands=bands,
        )

    def needed_for(count: int) -> int:
        return math.ceil(count / tier.book_target) if tier.book_target else 0

    count = tier_counts.get(tier_id, 0)
    needed = needed_for(count)
    low, high = available * (1 - cap.tolerance), available * (1 + cap.tolerance)
    if low <= needed <= high:
        return Calibration(
            tier_id,
            "none",
            f"{tier_id} fits: needs {needed} CSMs, {available} "
            f"available (tolerance {cap.tolerance:.0%})",
            available,
            needed,
            final_bands=bands,
            levers=[
                LeverOutcome(lv.id, lv.band, NOT_NEEDED, f"{tier_id} fits") for lv in cap.levers
            ],
        )
    direction = 1 if needed > high else -1
    word = "tighten" if direction > 0 else "loosen"
    reason = (
        f"{tier_id} {'over' if direction > 0 else 'under'} capacity: needs {needed} CSMs for "
        f"{count} accounts, {available} available; {word} the thresholds"
    )
    result = Calibration(tier_id, word, reason, available, needed, final_bands=bands)
    current = dict(bands)
    outcomes: dict[str, LeverOutcome] = {}
    usable = []
    for lv in cap.levers:
        why = _not_applicable(lv, current)
        if why:
            outcomes[lv.id] = LeverOutcome(lv.id, lv.band, NOT_APPLICABLE, why)
        else:
            usable.append(lv)
    stuck: dict[str, str] = {}  # lever -> why it can move no further
    stopped = f"the {cap.max_rounds} round(s) allowed were used"
    rnd = 0  # rounds are the moves made: a lever at its limit takes none
    while rnd < cap.max_rounds:
        lever = next((lv for lv in usable if lv.id not in stuck), None)
        if lever is None:
            stopped = "every lever reached its limit"
            break
        moved, why = _step(current[lever.band], lever, direction)
        if moved is None:
            stuck[lever.id] = why
            continue
        rnd += 1
        trial = dict(current, **{lever.band: moved})
        counts = resegment(trial)
        new_count = counts.get(tier_id, 0)
        result.steps.append(
            CalibrationStep(
                rnd,
                lever.id,
                lever.band,
                lever_boundary(current[lever.band], lever) or 0.0,
                lever_boundary(moved, lever) or 0.0,
                count,
                new_count,
                needed_for(count),
                needed_for(new_count),
                lever.because,
            )
        )
        current, count = trial, new_count
        if low <= needed_for(count) <= high:
            stopped = f"{tier_id} fits after round {rnd}"
            break
        if (direction > 0 and needed_for(count) < low) or (
            direction < 0 and needed_for(count) > high
        ):
            stopped = f"round {rnd} overshot the capacity"
            break  # overshot: stop rather than oscillate
    result.final_bands = current
    result.fits = low <= needed_for(count) <= high
    for lv in usable:
        outcomes[lv.id] = _outcome(lv, result.steps, stuck.get(lv.id, ""), stopped)
    result.levers = [outcomes[lv.id] for lv in cap.levers]
    return result


def _outcome(lever: Lever, steps: list[CalibrationStep], stuck: str, stopped: str) -> LeverOutcome:
    mine = [s for s in steps if s.lever == lever.id]
    if not mine:
        if stuck:
            return LeverOutcome(lever.id, lever.band, AT_LIMIT, f"cannot move: {stuck}")
        status = NOT_NEEDED if " fits " in stopped else NOT_TRIED
        return LeverOutcome(lever.id, lever.band, status, stopped)
    first, last = mine[0], mine[-1]
    rounds = [s.round for s in mine]
    span = f"round {rounds[0]}" if len(rounds) == 1 else f"rounds {rounds[0]}-{rounds[-1]}"
    detail = f"moved {_num(first.boundary_from)} -> {_num(last.boundary_to)} in {span}"
    if stuck:
        detail += f"; then {stuck}"
    return LeverOutcome(
        lever.id, lever.band, APPLIED, detail, first.boundary_from, last.boundary_to, rounds
    )
