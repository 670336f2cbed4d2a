"""Tiers no account can reach with the columns given: an input whose column is absent holds
its default for every account, so a score over it has a narrower range (strategic value
cannot exceed 0.5 when two factors weighing 0.25 each are absent and default to 0), and the
bands beyond that range, with the grid cells that need them, are out of reach.

Read from the ruleset alone (no account is looked at): an empty tier that is reachable is
the portfolio's doing, an unreachable one the export's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..evaluate.bands import ResolvedBands
from ..evaluate.values import _component
from ..ruleset.model import Band, Component, Ruleset, Score

Range = tuple[float, float]
EVERYTHING: Range = (-math.inf, math.inf)


@dataclass(frozen=True)
class Unreachable:
    tier: str
    because: str

    def as_dict(self) -> dict[str, str]:
        return {"tier": self.tier, "because": self.because}


def component_score(c: Component, value: Any) -> float | None:
    """The 0-1 score a component gives ``value`` (an absent input's default), by the one
    definition the evaluation uses."""
    if value is None:
        return None
    dtype = pl.Boolean() if isinstance(value, bool) else pl.Float64()
    found = pl.select(_component(c, pl.lit(value, dtype=dtype), dtype, 1)).item()
    return None if found is None else float(found)


def _component_range(c: Component, absent: dict[str, object]) -> Range | None:
    """The 0-1 scores a component can give; None when it is unknown for every account."""
    if c.when is not None or not c.input:
        return (0.0, 1.0)
    if c.input in absent:
        value = component_score(c, absent[c.input])
        return None if value is None else (value, value)
    s = c.scoring
    if "points" in s:
        ys = [float(y) for _, y in s["points"]]
        return (min(ys), max(ys))
    if "thresholds" in s:
        ys = [float(r["score"]) for r in s["thresholds"]] + [float(s.get("else", 0.0))]
        return (min(ys), max(ys))
    return (0.0, 1.0)


def _score_range(score: Score, absent: dict[str, object]) -> Range | None:
    parts = {c.id: _component_range(c, absent) for c in score.components}
    if score.method == "count":
        known = [r for r in parts.values() if r is not None]
        return (sum(r[0] for r in known), sum(r[1] for r in known))
    weights = score.effective_weights()
    lo = hi = 0.0
    for c in score.components:
        part = parts[c.id]
        if part is None:
            return None
        lo += weights[c.id] * part[0]
        hi += weights[c.id] * part[1]
    return (round(lo * score.scale, 9), round(hi * score.scale, 9))


def value_range(ruleset: Ruleset, name: str, absent: dict[str, object]) -> Range | None:
    """The values ``name`` can take for any account; None when unknown for every account."""
    if name in absent:
        value = absent[name]
        return None if not isinstance(value, int | float) else (float(value), float(value))
    score = next((s for s in ruleset.scores if s.id == name), None)
    if score is not None:
        return _score_range(score, absent)
    return EVERYTHING  # an input with its column, a derived value, a decision: anything


def _reachable(band: Band, rng: Range) -> bool:
    lo, hi = rng
    if band.lower is not None and (
        hi < band.lower or (hi == band.lower and not band.lower_inclusive)
    ):
        return False
    return not (
        band.upper is not None
        and (lo > band.upper or (lo == band.upper and not band.upper_inclusive))
    )


def _num(value: float) -> str:
    return f"{value:g}"


def unreachable_tiers(
    ruleset: Ruleset, bands: dict[str, ResolvedBands], missing_columns: list[str]
) -> list[Unreachable]:
    absent = {i.id: i.default for i in ruleset.inputs if i.id in missing_columns}
    if not absent:
        return []
    grid = ruleset.grid
    axes = [b for b in (grid.rows, grid.columns) if b and b in bands]
    out_of_reach: dict[str, dict[str, str]] = {}  # band set -> grid row -> why it is out of reach
    for axis in axes:
        rb = bands[axis]
        rng = value_range(ruleset, rb.over, absent)
        if rng is None or rng == EVERYTHING:
            continue
        reachable_rows = {b.row or b.id for b in rb.bands if _reachable(b, rng)}
        why_range = _range_text(ruleset, rb.over, rng, absent)
        for b in rb.bands:
            row = b.row or b.id
            if row not in reachable_rows:
                out_of_reach.setdefault(axis, {})[row] = (
                    f"needs {axis} {b.label or b.id} ({rb.over} {b.interval_text(_num)}), "
                    f"but {why_range}"
                )
    if not out_of_reach:
        return []
    result = []
    for tier in ruleset.tiers:
        cells = [c for c in grid.cells if c.tier == tier.id]
        if not cells:
            continue
        reasons: list[str] = []
        for c in cells:
            why = out_of_reach.get(grid.rows, {}).get(c.row) or (
                out_of_reach.get(grid.columns, {}).get(c.column) if grid.columns else None
            )
            if why is None:
                break
            if why not in reasons:
                reasons.append(why)
        else:
            result.append(Unreachable(tier.id, "; ".join(reasons)))
    return result


def _range_text(ruleset: Ruleset, name: str, rng: Range, absent: dict[str, object]) -> str:
    score = next((s for s in ruleset.scores if s.id == name), None)
    inputs = [c.input for c in score.components if c.input in absent] if score else [name]
    defaults = sorted({repr(absent[i]) for i in inputs if i})
    span = f"{_num(rng[0])}" if rng[0] == rng[1] else f"between {_num(rng[0])} and {_num(rng[1])}"
    return (
        f"{name} is {span} with {', '.join(i for i in inputs if i)} absent "
        f"(defaulting to {', '.join(defaults)})"
    )


def unreachable_note(
    ruleset: Ruleset, bands: dict[str, ResolvedBands], missing_columns: list[str], empty: list[str]
) -> str:
    """For the no_empty_tier gate: which empty tiers no account could reach, and why."""
    named = [u for u in unreachable_tiers(ruleset, bands, missing_columns) if u.tier in empty]
    return "".join(f"; {u.tier} is unreachable with the columns given: {u.because}" for u in named)
