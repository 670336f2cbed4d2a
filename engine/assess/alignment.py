"""Coverage alignment for the priority model (rulesets/priority-model.yaml).

- Misalignment: each account's current coverage against its recommended tier, with the ARR
  at stake; the changes of highest expected impact (ARR x tiers moved) first; upgrade and
  downgrade candidate lists.
- Expansion ranking: ARR gap to estimated potential x (0.5 + 0.5 x adoption readiness) x
  (1 + 0.25 x organisational signals that hold).
- Territory rebalancing: each named CSM's complexity-weighted load (sum over accounts of
  complexity / the tier's book size); accounts move from the most to the least loaded CSM,
  smallest load first, until every CSM is within the tolerance of the mean or no move helps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .result import SegmentResult


@dataclass
class Alignment:
    misaligned: list[dict[str, Any]]
    unknown_current: int
    upgrades: list[dict[str, Any]]
    downgrades: list[dict[str, Any]]
    top: list[dict[str, Any]]
    arr_at_stake: float
    expansion: list[dict[str, Any]] = field(default_factory=list)
    territory: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "misaligned": len(self.misaligned),
            "arr_at_stake": round(self.arr_at_stake, 2),
            "unknown_current": self.unknown_current,
            "top_changes": self.top,
            "upgrades": self.upgrades,
            "downgrades": self.downgrades,
            "expansion": self.expansion,
            "territory": self.territory,
        }


def align(result: SegmentResult) -> Alignment | None:
    rs = result.ruleset
    cfg = rs.alignment
    if not cfg:
        return None
    tiers = rs.tier_ids
    top_n = int(cfg.get("top", 5))
    arr_field = result.arr_field
    misaligned, unknown = [], 0
    for d, tier in zip(result.evaluation.decisions, result.tiers()):  # (tiers: effective)
        values = d.values
        current = values.get(cfg["current"])
        if current is None or current not in tiers:
            unknown += 1
            continue
        if current == tier:
            continue
        arr = float(values.get(arr_field) or 0.0)
        steps = tiers.index(current) - tiers.index(tier)
        misaligned.append(
            {
                "account_id": d.account_id,
                "arr": round(arr, 2),
                "current": current,
                "recommended": tier,
                "change": "upgrade" if steps > 0 else "downgrade",
                "tiers_moved": abs(steps),
                "impact": round(arr * abs(steps), 2),
            }
        )
    misaligned.sort(key=lambda m: (-m["impact"], m["account_id"]))
    out = Alignment(
        misaligned=misaligned,
        unknown_current=unknown,
        upgrades=[m for m in misaligned if m["change"] == "upgrade"],
        downgrades=[m for m in misaligned if m["change"] == "downgrade"],
        top=misaligned[:top_n],
        arr_at_stake=sum(m["arr"] for m in misaligned),
    )
    if cfg.get("expansion"):
        out.expansion = _expansion(result, cfg["expansion"], top_n * 2)
    if cfg.get("territory"):
        out.territory = _territory(result, cfg["territory"])
    return out


def _expansion(result: SegmentResult, cfg: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for d, tier in zip(result.evaluation.decisions, result.tiers()):  # (tiers: effective)
        values = d.values
        potential = values.get(cfg["potential"])
        arr = float(values.get(result.arr_field) or 0.0)
        if potential is None or potential <= arr:
            continue
        readiness = values.get(cfg.get("readiness", ""), None)
        readiness = min(1.0, max(0.0, float(readiness))) if readiness is not None else 0.0
        signals = [s for s in cfg.get("signals", []) if values.get(s) is True or s in d.flags]
        gap = float(potential) - arr
        score = gap * (0.5 + 0.5 * readiness) * (1 + 0.25 * len(signals))
        rows.append(
            {
                "account_id": d.account_id,
                "arr": round(arr, 2),
                "potential": round(float(potential), 2),
                "gap": round(gap, 2),
                "readiness": round(readiness, 4),
                "signals": signals,
                "score": round(score, 2),
                "tier": tier,
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["account_id"]))
    return rows[:limit]


def _territory(result: SegmentResult, cfg: dict[str, Any]) -> dict[str, Any]:
    rs = result.ruleset
    book = {t.id: (t.book_target or 0) for t in rs.tiers}
    tol = float(cfg.get("tolerance", 0.15))
    accounts: dict[str, list[tuple[float, str]]] = {}
    for d, tier in zip(result.evaluation.decisions, result.tiers()):  # (tiers: effective)
        values = d.values
        csm = values.get(cfg["csm"])
        if not csm or not book.get(tier):
            continue  # pooled/automated or unassigned accounts carry no named load
        complexity = float(values.get(cfg.get("complexity", ""), None) or 1.0)
        accounts.setdefault(str(csm), []).append((complexity / book[tier], d.account_id))
    if not accounts:
        return {"csms": {}, "moves": [], "note": "no accounts with a named CSM"}
    # fsum: exact, so the same on every Python (3.12 made sum() of floats compensated, and
    # the greedy moves below turn on near ties of these loads)
    load = {c: math.fsum(x for x, _ in items) for c, items in accounts.items()}
    before = dict(load)
    mean = math.fsum(load.values()) / len(load)
    moves = []
    for _ in range(10 * sum(len(v) for v in accounts.values())):
        high = max(sorted(load), key=lambda c: load[c])
        low = min(sorted(load), key=lambda c: load[c])
        if load[high] <= mean * (1 + tol) or high == low:
            break
        gap = load[high] - load[low]
        candidates = sorted(accounts[high])
        pick = next(((x, a) for x, a in candidates if x < gap), None)
        if pick is None:
            break
        accounts[high].remove(pick)
        accounts[low].append(pick)
        load[high] -= pick[0]
        load[low] += pick[0]
        moves.append({"account_id": pick[1], "from": high, "to": low, "load": round(pick[0], 4)})
    return {
        "mean_load": round(mean, 4),
        "tolerance": tol,
        "csms": {
            c: {
                "before": round(before[c], 4),
                "after": round(load[c], 4),
                "accounts": len(accounts[c]),
            }
            for c in sorted(load)
        },
        "moves": moves,
    }


def markdown(a: Alignment, tiers: list[str]) -> list[str]:
    out = [
        "## Coverage Alignment",
        "",
        f"{len(a.misaligned):,} account(s) are covered differently from their recommended "
        f"tier, ${a.arr_at_stake:,.0f} ARR at stake ({len(a.upgrades):,} upgrade and "
        f"{len(a.downgrades):,} downgrade candidates; {a.unknown_current:,} without a current "
        "coverage).",
        "",
        "Changes of highest expected impact (ARR x tiers moved):",
        "",
        "| account | ARR | current | recommended | impact |",
        "|---|---:|---|---|---:|",
    ]
    for m in a.top:
        out.append(
            f"| {m['account_id']} | ${m['arr']:,.0f} | {m['current']} | {m['recommended']} | "
            f"${m['impact']:,.0f} |"
        )
    out.append("")
    if a.expansion:
        out += [
            "### Expansion ranking",
            "",
            "| account | ARR | potential | gap | readiness | signals | score |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        for r in a.expansion:
            out.append(
                f"| {r['account_id']} | ${r['arr']:,.0f} | ${r['potential']:,.0f} | ${r['gap']:,.0f} | "
                f"{r['readiness']:.2f} | {', '.join(r['signals'])} | {r['score']:,.0f} |"
            )
        out.append("")
    if a.territory.get("csms"):
        t = a.territory
        out += [
            "### Territory rebalancing",
            "",
            f"Complexity-weighted load per CSM (1.0 = a full book); mean {t['mean_load']:.2f}, "
            f"target within {t['tolerance']:.0%}. {len(t['moves'])} reassignment(s) proposed.",
            "",
            "| CSM | load before | load after | accounts |",
            "|---|---:|---:|---:|",
        ]
        for c, v in t["csms"].items():
            out.append(f"| {c} | {v['before']:.2f} | {v['after']:.2f} | {v['accounts']} |")
        out.append("")
    return out
