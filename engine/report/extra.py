"""Method-specific model sections: keep-segment's health framework, CS motion and
resource map, written whenever a ruleset declares what they need."""

from __future__ import annotations

from collections.abc import Sequence

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
        for t, cap in zip(rs.tiers, result.capacity.per_tier):
            csms = cap.available or 0
            per = _money(cap.arr / csms) if csms else "automated"
            lo, hi = t.targets.get("arr_per_csm_min"), t.targets.get("arr_per_csm_max")
            target = (
                f"{_money(lo)}-{_money(hi)}"
                if lo and hi
                else f"< {_money(hi)}"
                if hi
                else f"> {_money(lo)}"
                if lo
                else "-"
            )
            lines.append(
                f"| {t.label} | {csms} | {cap.accounts:,} | {_money(cap.arr)} | {per} | {target} |"
            )
        lines.append("")
        out.append(lines)
    alignment = align(result)
    if alignment is not None:
        out.append(markdown(alignment, rs.tier_ids))
    return out
