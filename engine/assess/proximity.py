"""Accounts near a tier boundary: beside the stability gate's sampled accounts, every account
whose ARR is within the gate's perturbation (±10%) of an ARR boundary of the grid, and every
account whose score is within ±0.02 (of the score's 0-1 scale) of a score boundary of the grid,
with the largest of them by ARR.

Only boundaries between bands in different grid rows (or columns) count: crossing one of
those can change the tier, crossing `<$1K` / `$1K-$10K` (both the Low row) cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import nsmallest
from typing import Any

import polars as pl

from ..evaluate.bands import ResolvedBands
from ..evaluate.run import Evaluation
from ..ruleset.model import Ruleset

SCORE_MARGIN = 0.02  # of the score's scale: 0.02 on a 0-1 score, 2 points on a 0-100 one
LARGEST = 5  # accounts named per band set


@dataclass
class NearBoundary:
    band_set: str
    over: str
    margin: float  # relative for ARR (0.10 = ±10%), absolute for a score
    relative: bool
    boundaries: list[float]
    accounts: int = 0
    arr: float = 0.0
    changes_tier: int | None = None  # ARR: how many change tier at ARR ±margin
    largest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def margin_text(self) -> str:
        return f"±{self.margin:.0%}" if self.relative else f"±{self.margin:g}"

    def as_dict(self) -> dict[str, Any]:
        out = vars(self).copy()
        out["arr"] = round(self.arr, 2)
        return out


def _tier_boundaries(rb: ResolvedBands, rows: dict[str, str]) -> list[float]:
    """The edges between bands that sit in different grid rows (or columns)."""
    out = []
    for below, above in zip(rb.bands, rb.bands[1:]):
        if above.lower is not None and rows.get(below.id) != rows.get(above.id):
            out.append(above.lower)
    return out


def _grid_axes(ruleset: Ruleset, bands: dict[str, ResolvedBands]) -> list[ResolvedBands]:
    grid = ruleset.grid
    return [bands[b] for b in (grid.rows, grid.columns) if b and b in bands]


def near_boundaries(
    ruleset: Ruleset,
    evaluation: Evaluation,
    arr_field: str,
    reclassify: Callable[[list[tuple[int, float]]], list[str]],
) -> list[NearBoundary]:
    stability = next((g for g in ruleset.gates if g.kind == "stability"), None)
    perturbation = float(stability.params.get("perturbation", 0.10)) if stability else 0.10
    scores = {s.id: s for s in ruleset.scores}
    arrs = evaluation.column(arr_field)
    ids = evaluation.account_ids()
    tiers = evaluation.tiers()
    out = []
    for rb in _grid_axes(ruleset, evaluation.bands):
        rows = {b.id: b.row or b.id for b in rb.bands}
        edges = _tier_boundaries(rb, rows)
        if rb.over == arr_field:
            near = NearBoundary(rb.id, rb.over, perturbation, True, edges)
        elif rb.over in scores:
            near = NearBoundary(rb.id, rb.over, SCORE_MARGIN * scores[rb.over].scale, False, edges)
        else:
            continue
        values = arrs if near.relative else evaluation.column(rb.over)
        frame = evaluation.frame
        column = (
            frame[rb.over].cast(pl.Float64)
            if rb.over in frame.columns
            else pl.Series(values, dtype=pl.Float64, strict=False)
        )
        hits = _near(column, edges, near)
        near.accounts = len(hits)
        near.arr = sum(float(arrs[i] or 0.0) for i, _ in hits)
        top = nsmallest(LARGEST, hits, key=lambda h: (-(arrs[h[0]] or 0.0), ids[h[0]]))
        near.largest = [
            {
                "account_id": ids[i],
                "arr": arrs[i],
                "value": values[i],
                "boundary": edge,
                "tier": tiers[i],
            }
            for i, edge in top
        ]
        if near.relative:
            trials = []
            for i, _ in hits:
                arr = float(arrs[i] or 0.0)
                trials += [
                    (i, round(arr * (1 + perturbation), 2)),
                    (i, round(arr * (1 - perturbation), 2)),
                ]
            if not _grid_decides(ruleset, rb, arr_field):
                new_tiers = reclassify(trials)  # (an account at a time: exact, slower)
            else:
                new_tiers = _grid_tiers(ruleset, evaluation, rb, trials)
            near.changes_tier = len(
                {i for (i, _), tier in zip(trials, new_tiers) if tier != tiers[i]}
            )
        out.append(near)
    return out


def _near(v: pl.Series, edges: list[float], near: NearBoundary) -> list[tuple[int, float]]:
    """(account index, the boundary it is nearest) for the accounts within the margin."""
    if not edges:
        return []
    m = near.margin
    lo, hi = (v * (1 - m), v * (1 + m)) if near.relative else (v - m, v + m)
    within = pl.lit(False)
    frame = pl.DataFrame({"lo": lo, "hi": hi})
    for e in edges:
        within = within | ((pl.col("lo") <= e) & (pl.col("hi") >= e))
    at = frame.select(within.fill_null(False).alias("w")).to_series().arg_true().to_list()
    hits = []
    for i, x, low, high in zip(at, v.gather(at), lo.gather(at), hi.gather(at)):
        close = [e for e in edges if low <= e <= high]
        hits.append((i, min(close, key=lambda e: (abs(e - x), e))))
    return hits


def _reads(ruleset: Ruleset, name: str, target: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``name``'s value may depend on ``target`` (True when it cannot tell)."""
    if name == target:
        return True
    if name in seen:
        return False
    seen = seen | {name}
    for d in ruleset.derived:
        if d.id == name:
            return any(_reads(ruleset, a, target, seen) for a in d.args)
    for s in ruleset.scores:
        if s.id == name:
            return any(
                _condition_reads(ruleset, c.when, target, seen)
                if c.when is not None
                else _reads(ruleset, c.input or "", target, seen)
                for c in s.components
            )
    return any(dec.id == name for dec in ruleset.decisions)  # a decision: it may read anything


def _condition_reads(ruleset: Ruleset, cond: Any, target: str, seen: frozenset[str]) -> bool:
    if isinstance(cond, list):
        return any(_condition_reads(ruleset, c, target, seen) for c in cond)
    if not isinstance(cond, dict):
        return False
    if any(k in cond for k in ("flag", "event", "tier", "band", "decision")):
        return True  # decided by the rule network: it may read anything
    if "field" in cond and _reads(ruleset, str(cond["field"]), target, seen):
        return True
    return any(_condition_reads(ruleset, v, target, seen) for k, v in cond.items() if k != "field")


def _grid_decides(ruleset: Ruleset, rb: ResolvedBands, arr_field: str) -> bool:
    """Whether an ARR change moves the account only along ``rb``'s axis of the grid: then
    its new tier is the grid cell of its ARR band's row and its own other band."""
    grid = ruleset.grid
    other = grid.columns if grid.rows == rb.id else grid.rows
    if other is None:
        return True
    over = next((b.over for b in ruleset.bands if b.id == other), None)
    return over is not None and not _reads(ruleset, over, arr_field)


def _grid_tiers(
    ruleset: Ruleset, evaluation: Evaluation, rb: ResolvedBands, trials: list[tuple[int, float]]
) -> list[str]:
    grid = ruleset.grid
    cell = {(c.row, c.column): c.tier for c in grid.cells}
    by_row = grid.rows == rb.id
    other = grid.columns if by_row else grid.rows
    other_rows: dict[str, str] = {}
    if other is not None:
        other_rows = {b.id: b.row or b.id for b in evaluation.bands[other].bands}
    out = []
    # the other axis's band is the account's path's (every account on a path shares it)
    band_on_path = {
        d.path_id: d.bands.get(other) if other else None for d, _ in evaluation.by_path()
    }
    path_ids = evaluation.path_ids()
    for i, arr in trials:
        band = rb.band_of(arr)
        mine = (band.row or band.id) if band is not None else ""
        theirs = other_rows.get(band_on_path[path_ids[i]] or "", "")
        key = (mine, theirs) if by_row else (theirs, mine)
        out.append(cell.get(key, ""))
    return out
