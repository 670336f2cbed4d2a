"""Band methods computed from the portfolio at run time (docs/language.md, Bands).

Every resolution records the figures that decided it, so the report can say why the
log or quartile method was chosen and where keep-segment's thresholds landed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..ruleset.model import Band, BandSet, Ruleset


@dataclass(frozen=True)
class ResolvedBands:
    id: str
    over: str
    method: str  # the method actually used: declared | log | quartile | target_shares
    declared_method: str
    bands: tuple[Band, ...]
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def edges(self) -> list[float]:
        return [b.lower for b in self.bands[1:] if b.lower is not None]

    def band_of(self, value: float | None) -> Band | None:
        if value is None:
            return None
        for band in self.bands:
            if band.contains(value):
                return band
        return None


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    n = len(sorted_values)
    if n == 0:
        return 0.0
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def concentration(values: Sequence[float], top_fraction: float) -> dict[str, float]:
    ordered = sorted(values, reverse=True)
    total = sum(ordered)
    k = max(1, math.ceil(len(ordered) * top_fraction)) if ordered else 0
    top = sum(ordered[:k])
    return {
        "accounts": len(ordered),
        "total": round(total, 2),
        "top_accounts": k,
        "top_share": round(top / total, 6) if total > 0 else 0.0,
        "max_share": round(ordered[0] / total, 6) if total > 0 else 0.0,
    }


def _quartile(bs: BandSet, values: Sequence[float]) -> tuple[tuple[Band, ...], dict[str, Any]]:
    ordered = sorted(values)
    edges = [round(percentile(ordered, q), 6) for q in bs.quantiles]
    bands = []
    template = bs.variants["quartile"]
    for i, band in enumerate(template):
        lower = edges[i - 1] if i > 0 else None
        upper = edges[i] if i < len(edges) else None
        bands.append(
            replace(band, lower=lower, lower_inclusive=True, upper=upper, upper_inclusive=False)
        )
    return tuple(bands), {"quantiles": list(bs.quantiles), "edges": edges}


def _target_shares(bs: BandSet, values: Sequence[float]) -> tuple[tuple[Band, ...], dict[str, Any]]:
    """Thresholds from the top band down, each as close as possible to its targets."""
    bands = bs.variants["declared"]
    ordered = sorted(values, reverse=True)
    n, total = len(ordered), sum(ordered) or 1.0
    prefix = [0.0]
    for v in ordered:
        prefix.append(prefix[-1] + v)

    def miss(share: float, target: tuple[float, float] | None) -> float:
        if target is None:
            return 0.0
        lo, hi = target
        return max(0.0, lo - share, share - hi) * 10 + abs(share - (lo + hi) / 2)

    cuts: list[float] = []
    start = 0
    for band in reversed(bands[1:]):  # top band first; the lowest band takes the rest
        best: tuple[float, int] | None = None
        for k in range(start + 1, n):
            if ordered[k - 1] == ordered[k]:
                continue  # a threshold cannot split equal values
            acc_share = (k - start) / n
            arr_share = (prefix[k] - prefix[start]) / total
            cost = miss(acc_share, band.target_account_share) + miss(
                arr_share, band.target_arr_share
            )
            if best is None or cost < best[0]:
                best = (cost, k)
        if best is None:
            break
        k = best[1]
        cuts.append(_nice_threshold(ordered[k], ordered[k - 1], bs.step))
        start = k
    cuts = sorted(set(cuts))
    while len(cuts) < len(bands) - 1:  # degenerate portfolio: keep intervals well-formed
        cuts.append((cuts[-1] if cuts else 0.0) + bs.step)
    out = []
    for i, band in enumerate(bands):
        lower = cuts[i - 1] if i > 0 else None
        upper = cuts[i] if i < len(cuts) else None
        out.append(
            replace(band, lower=lower, lower_inclusive=True, upper=upper, upper_inclusive=False)
        )
    shares = []
    for band in out:
        members = [v for v in ordered if band.contains(v)]
        shares.append(
            {
                "band": band.id,
                "accounts": len(members),
                "account_share": round(len(members) / n, 4) if n else 0.0,
                "arr_share": round(sum(members) / total, 4),
            }
        )
    return tuple(out), {"thresholds": cuts, "shares": shares, "step": bs.step}


def _nice_threshold(below: float, above: float, step: float) -> float:
    """A multiple of ``step`` between the two accounts the cut falls between: the roundest
    one in (below, above] when one exists, else the multiple nearest their midpoint."""
    for s in (step * 100, step * 10, step * 5, step):
        candidate = math.ceil(below / s) * s
        if candidate == below:
            candidate += s
        if below < candidate <= above:
            return round(candidate, 2)
    return round(max(step, round((below + above) / 2 / step) * step), 2)


def resolve_band_set(bs: BandSet, values: Sequence[float]) -> ResolvedBands:
    method = bs.method
    if method == "declared":
        return ResolvedBands(
            bs.id, bs.over, "declared", method, bs.variants["declared"], "declared in the ruleset"
        )
    if method == "log":
        return ResolvedBands(
            bs.id,
            bs.over,
            "log",
            method,
            bs.variants["log"],
            "log-scale bands declared in the ruleset",
        )
    if method == "quartile":
        bands, figures = _quartile(bs, values)
        return ResolvedBands(
            bs.id,
            bs.over,
            "quartile",
            method,
            bands,
            "quartile bands computed from the portfolio",
            figures,
        )
    if method == "target_shares":
        bands, figures = _target_shares(bs, values)
        return ResolvedBands(
            bs.id,
            bs.over,
            "target_shares",
            method,
            bands,
            "thresholds calibrated toward the declared account and ARR shares",
            figures,
        )
    # auto: log when the top 10% hold more than half the ARR, quartile when no account
    # holds more than 5% (docs/language.md, Bands)
    top_fraction = float(bs.auto.get("top_fraction", 0.10))
    log_over = float(bs.auto.get("log_when_top_share_over", 0.50))
    quart_max = float(bs.auto.get("quartile_when_max_share_at_most", 0.05))
    fallback = bs.auto.get("fallback", "log")
    figs: dict[str, Any] = concentration(values, top_fraction)
    long_tailed = figs["top_share"] > log_over
    no_whale = figs["max_share"] <= quart_max
    pct = f"{top_fraction:.0%}"
    top_text = (
        f"the top {pct} of accounts hold {figs['top_share']:.1%} of ARR "
        f"({'more' if long_tailed else 'not more'} than {log_over:.0%})"
    )
    max_text = (
        f"the largest account holds {figs['max_share']:.1%} of ARR "
        f"({'at most' if no_whale else 'more than'} {quart_max:.0%})"
    )
    if long_tailed and not no_whale:
        chosen, why = "log", f"log: {top_text}; {max_text}"
    elif no_whale and not long_tailed:
        chosen, why = "quartile", f"quartile: {top_text}; {max_text}"
    else:
        both = "both tests hold" if long_tailed else "neither test holds"
        chosen, why = (
            fallback,
            f"{fallback} (the declared fallback): {both}; {top_text}; {max_text}",
        )
    figs.update(
        {"long_tailed": long_tailed, "no_single_account_over_max": no_whale, "fallback": fallback}
    )
    if chosen == "log":
        return ResolvedBands(bs.id, bs.over, "log", "auto", bs.variants["log"], why, figs)
    bands, qfigs = _quartile(bs, values)
    figs.update(qfigs)
    return ResolvedBands(bs.id, bs.over, "quartile", "auto", bands, why, figs)


def resolve_all(ruleset: Ruleset, column: dict[str, list[float]]) -> dict[str, ResolvedBands]:
    """Resolve every band set; ``column`` maps a value id to its known values."""
    return {bs.id: resolve_band_set(bs, column.get(bs.over, [])) for bs in ruleset.bands}
