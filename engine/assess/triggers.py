"""Re-calibration triggers watched by `replay`, quarter by quarter.

A trigger *fires* the first quarter its condition holds and is reported as *open* every
later quarter the condition still holds (with the quarter it fired in), not as a new
firing: the model is re-calibrated outside the replay, so a shift that is never acted on
would otherwise fire every quarter.  When the condition stops holding the trigger closes,
and fires again if it returns.  A product launch stays open to the end of the replay (the
strategic-value definition it changed is not re-weighted in a replay).

A trigger that declares ``after_firing: rebase`` takes the quarter it fired in as its new
baseline instead (as if the model had been re-calibrated then): tier ARR and CSM headcount
are compared to the figures of that quarter from then on, and a churn streak starts again.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ..ruleset.model import Ruleset, Trigger


class TriggerWatch:
    """Each trigger's baseline and open state across the quarters of one replay."""

    def __init__(self, ruleset: Ruleset, tier_arr: dict[str, float], csms: int | None) -> None:
        self.rs = ruleset
        self.base_arr = {
            (t.id, tier): arr for t in ruleset.triggers for tier, arr in tier_arr.items()
        }
        self.base_csms = {t.id: csms for t in ruleset.triggers}
        self.churn_streak: Counter[str] = Counter()
        self.open: dict[str, str] = {}  # trigger id[:tier] -> the quarter it fired in
        self.launches: dict[str, str] = {}  # product_launch trigger id -> its last launches

    def quarter(
        self,
        quarter: str,
        tier_arr: dict[str, float],
        csms: int | None,
        churn_rates: dict[str, float],
        launches: list[str],
    ) -> list[dict[str, Any]]:
        """The triggers that fired or are still open at the end of ``quarter``."""
        out: list[dict[str, Any]] = []
        for t in self.rs.triggers:
            held = self._holding(t, tier_arr, csms, churn_rates, launches)
            for key, entry in held:
                since = self.open.get(key)
                if since is None or (t.kind == "product_launch" and launches):
                    entry |= {"status": "fired", "since": quarter}
                    if t.after_firing == "rebase":
                        self._rebase(t, entry)
                    else:
                        self.open[key] = quarter
                else:
                    entry |= {"status": "open", "since": since}
                out.append(entry)
            keys = {key for key, _ in held}
            for key in [k for k in self.open if k.split(":")[0] == t.id and k not in keys]:
                del self.open[key]  # the condition no longer holds: closed
        return out

    def _rebase(self, t: Trigger, entry: dict[str, Any]) -> None:
        figures = entry["figures"]
        if t.kind == "tier_arr_change":
            self.base_arr[(t.id, entry["tier"])] = figures["arr"]
        elif t.kind == "capacity_change":
            self.base_csms[t.id] = figures["csms"]
        elif t.kind == "tier_churn_over_target":
            self.churn_streak[f"{t.id}:{entry['tier']}"] = 0
        entry["detail"] += "; re-based to this quarter"

    def _holding(
        self,
        t: Trigger,
        tier_arr: dict[str, float],
        csms: int | None,
        churn_rates: dict[str, float],
        launches: list[str],
    ) -> list[tuple[str, dict[str, Any]]]:
        """(key, report) for each tier (or once) where ``t``'s condition holds this quarter."""
        watched = list(t.tiers) or self.rs.tier_ids
        threshold = t.threshold if t.threshold is not None else math.inf  # (validated: set)
        head = {"id": t.id, "kind": t.kind}
        found: list[tuple[str, dict[str, Any]]] = []
        if t.kind == "tier_arr_change":
            for tier in watched:
                base = self.base_arr.get((t.id, tier), 0.0)
                if base <= 0:
                    continue
                now = tier_arr[tier]
                change = (now - base) / base
                if abs(round(change, 9)) >= threshold:
                    detail = (
                        f"{tier} ARR ${base:,.0f} -> ${now:,.0f} "
                        f"({change:+.1%}; threshold ±{threshold:.0%})"
                    )
                    figures = {"base_arr": round(base, 2), "arr": round(now, 2)}
                    found.append(
                        (
                            f"{t.id}:{tier}",
                            head
                            | {"tier": tier, "detail": detail, "because": t.because}
                            | {"figures": figures | {"change": round(change, 4)}},
                        )
                    )
        elif t.kind == "capacity_change":
            base_csms = self.base_csms[t.id]
            if base_csms and csms is not None:
                change = (csms - base_csms) / base_csms
                if abs(round(change, 9)) >= threshold:
                    detail = (
                        f"CSMs {base_csms} -> {csms} ({change:+.1%}; threshold ±{threshold:.0%})"
                    )
                    figures = {"base": base_csms, "csms": csms, "change": round(change, 4)}
                    found.append(
                        (t.id, head | {"because": t.because, "detail": detail, "figures": figures})
                    )
        elif t.kind == "tier_churn_over_target":
            for tier in watched:
                target = self.rs.tier(tier).targets.get("churn_rate")
                rate = churn_rates.get(tier)
                if target is None or rate is None:
                    continue
                key = f"{t.id}:{tier}"
                over = rate > (t.ratio or 0.0) * target
                self.churn_streak[key] = self.churn_streak[key] + 1 if over else 0
                run = self.churn_streak[key]
                if run >= t.consecutive_quarters:
                    detail = (
                        f"{tier} churn {rate:.1%} > {t.ratio:g} x target "
                        f"{target:.1%} for {run} quarters"
                    )
                    figures = {"rate": round(rate, 4), "target": target, "quarters": run}
                    found.append(
                        (
                            key,
                            head
                            | {"tier": tier, "because": t.because, "detail": detail}
                            | {"figures": figures},
                        )
                    )
        elif t.kind == "product_launch":
            if launches:
                self.launches[t.id] = "; ".join(launches)
            if launches or t.id in self.open:
                detail = self.launches[t.id]
                figures = {"launches": len(launches)}
                found.append(
                    (t.id, head | {"because": t.because, "detail": detail, "figures": figures})
                )
        return found


def churn_rates(
    ruleset: Ruleset,
    start_tier: dict[str, str],
    joined_tier: dict[str, str],
    churned: Counter[str],
) -> dict[str, float]:
    """Each tier's churn this quarter: the accounts that churned from it over the accounts it
    served during the quarter (held at its start, or joined it; an account that joined and
    churned in the quarter counts in both).  A tier that served none has no rate."""
    served = Counter(start_tier.values()) + Counter(joined_tier.values())
    return rates_of(ruleset, served, churned)


def rates_of(ruleset: Ruleset, served: Counter[str], churned: Counter[str]) -> dict[str, float]:
    """Each tier's churn rate from the accounts it served and those that churned from it."""
    return {t: churned.get(t, 0) / served[t] for t in ruleset.tier_ids if served.get(t)}
