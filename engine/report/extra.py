"""Method-specific model sections: keep-segment's health framework, CS motion and
resource map, written whenever a ruleset declares what they need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..assess.alignment import align, markdown
from ..assess.gates import GateResult
from ..assess.result import SegmentResult


def _money(v: float) -> str:
    return f"${v:,.0f}"


def gates_line(gates: Sequence[GateResult]) -> str:
    """model.md's summary of the gates: how many passed, failed, were waived, had nothing
    to check."""
    applicable = [g for g in gates if g.applicable]
    idle = [g.id for g in gates if not g.applicable]
    failed = [g for g in applicable if not g.passed]
    text = f"- Quality gates: {sum(g.passed for g in applicable)} of {len(applicable)} passed"
    if failed:
        text += f"; failed: {', '.join(g.id + (' (waived)' if g.waived else '') for g in failed)}"
    if idle:
        text += f"; not applicable (nothing to check): {', '.join(idle)}"
    return text


@dataclass
class PerCsm:
    """A tier's ARR per CSM against its declared target."""

    tier: str
    per_csm: float | None  # None: no CSMs (automated or none declared)
    low: float | None
    high: float | None
    ok: bool | None  # None: nothing to compare

    @property
    def target(self) -> str:
        lo, hi = self.low, self.high
        if lo and hi:
            return f"{_money(lo)}-{_money(hi)}"
        return f"< {_money(hi)}" if hi else f"> {_money(lo)}" if lo else "-"

    @property
    def mark(self) -> str:
        return "" if self.ok is None else (" ✓" if self.ok else " ✗")


def arr_per_csm(result: SegmentResult) -> list[PerCsm]:
    """Each tier's ARR per CSM and its target, for rulesets that declare targets."""
    rs = result.ruleset
    if not any("arr_per_csm_max" in t.targets or "arr_per_csm_min" in t.targets for t in rs.tiers):
        return []
    out = []
    for t, cap in zip(rs.tiers, result.capacity.per_tier):
        csms = cap.available or 0
        per = cap.arr / csms if csms else None
        lo, hi = t.targets.get("arr_per_csm_min"), t.targets.get("arr_per_csm_max")
        ok = None
        if per is not None and (lo or hi):
            ok = (not lo or per >= lo) and (not hi or per <= hi)
        out.append(PerCsm(t.id, per, lo, hi, ok))
    return out


def extra_sections(result: SegmentResult) -> list[list[str]]:
    rs = result.ruleset
    out: list[list[str]] = []
    health = [s for s in rs.scores if s.method == "weighted" and "health" in s.id]
    if health:
        lines = ["## Health Framework", ""]
        for s in health:
            lines += [
                f"`{s.id}` (0-{s.scale:g}):",
                "",
                "| signal | weight | points |",
                "|---|---|---|",
            ]
            for c in s.components:
                lines.append(
                    f"| {c.label or c.id} | {c.weight * 100:g}% | 0-{c.weight * s.scale:g} |"
                )
            lines.append("")
            for b in rs.bands:
                if b.over == s.id:
                    rb = result.evaluation.bands[b.id]
                    counts = result.band_counts(b.id)
                    lines += ["| status | score | accounts |", "|---|---|---|"]
                    for band in reversed(rb.bands):
                        lines.append(
                            f"| {band.label} | {band.interval_text(lambda v: f'{v:g}')} | "
                            f"{counts.get(band.id, 0):,} |"
                        )
                    lines.append("")
        out.append(lines)
    if any(t.motion for t in rs.tiers):
        lines = ["## CS Motion per Tier", ""]
        for t in rs.tiers:
            if not t.motion:
                continue
            lines.append(
                f"**{t.label}**: "
                + "; ".join(
                    f"{k.replace('_', ' ')}: {', '.join(v) if isinstance(v, list) else v}"
                    for k, v in t.motion.items()
                )
            )
            lines.append("")
        out.append(lines)
    if any("arr_per_csm_max" in t.targets or "arr_per_csm_min" in t.targets for t in rs.tiers):
        lines = [
            "## Resource Map",
            "",
            f"Total CSM headcount: {result.capacity.available}",
            "",
            "| tier | CSMs | accounts | ARR | ARR per CSM | target |",
            "|---|---|---|---|---|---|",
        ]
        for t, cap, p in zip(rs.tiers, result.capacity.per_tier, arr_per_csm(result)):
            per = "automated" if p.per_csm is None else _money(p.per_csm) + p.mark
            lines.append(
                f"| {t.label} | {cap.available or 0} | {cap.accounts:,} | {_money(cap.arr)} | "
                f"{per} | {p.target} |"
            )
        lines.append("")
        out.append(lines)
    alignment = align(result)
    if alignment is not None:
        out.append(markdown(alignment, rs.tier_ids))
    return out
