"""`segment`'s terminal summary (keep-segment's output kit: <= 40 lines, box drawing, one
set of severity indicators)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from ..assess.result import SegmentResult
from .summary import money, pct

OK, WARN, FAIL, NA = "✓", "!", "✗", "-"


def _columns(table: Sequence[tuple[str, ...]], width: int, least: tuple[int, ...]) -> list[str]:
    """A left-aligned first column and right-aligned columns, each as wide as ``least``
    says where the width allows and always two spaces wider than its widest cell; a first
    column too long for ``width`` ends in '…'."""
    tight = [1 + max(len(r[0]) for r in table)]
    tight += [2 + max(len(r[i]) for r in table) for i in range(1, len(table[0]))]
    widths = list(tight)
    if sum(tight) > width:
        widths[0] = max(5, width - sum(tight[1:]))
    else:
        for i, want in enumerate(least):  # room to spare: toward the usual layout
            widths[i] += max(0, min(want - widths[i], width - sum(widths)))
    first = widths[0]
    out = []
    for r in table:
        name = r[0] if len(r[0]) < first else r[0][: first - 2] + "…"
        out.append(f"{name:<{first}}" + "".join(f"{c:>{w}}" for c, w in zip(r[1:], widths[1:])))
    return out


def terminal_summary(result: SegmentResult, width: int = 72) -> str:
    rs = result.ruleset
    n = len(result.evaluation.decisions)
    inner = width - 4
    lines: list[str] = []

    def row(text: str = "", wrap: int = 1) -> None:
        """One boxed row; long text wraps onto at most ``wrap`` rows, then ends in '…'."""
        parts = textwrap.wrap(text, inner, subsequent_indent="    ", break_on_hyphens=False) or [""]
        if len(parts) > wrap:
            parts = parts[:wrap]
            parts[-1] = parts[-1][: inner - 1].rstrip() + "…"
        for part in parts:
            lines.append("│ " + part.ljust(inner) + " │")

    def rule(left: str = "├", right: str = "┤") -> None:
        lines.append(left + "─" * (width - 2) + right)

    rule("┌", "┐")
    row(f"tierbook segment · {rs.name} {rs.version} · engine {result.evaluation.engine}", wrap=2)
    row(f"{n:,} accounts · book ARR {money(result.total_arr)} · as of {result.evaluation.as_of}")
    rule()
    for rb in result.evaluation.bands.values():
        if rb.declared_method == "auto":
            row(f"{rb.id}: {rb.reason}", wrap=3)
        elif rb.method == "target_shares":
            row(
                f"{rb.id}: target shares, thresholds "
                + ", ".join(money(t) for t in rb.figures.get("thresholds", []))
            )
        else:
            row(f"{rb.id}: {rb.method}")
    rule()
    summary = result.tier_summary()
    caps = {t.tier: t for t in result.capacity.per_tier}
    table = [("tier", "accounts", "share", "ARR", "CSMs")]
    for t in rs.tiers:
        c, a = summary[t.id]["accounts"], summary[t.id]["arr"]
        cap = caps[t.id]
        csm = f"{cap.needed}/{cap.available}" if cap.available is not None else str(cap.needed)
        table.append((t.id, f"{c:,}", pct(c, n), money(a), csm))
    for line in _columns(table, inner, (24, 10, 8, 14, 10)):
        row(line)
    rule()
    gap = result.capacity.gap
    sev = OK if not gap or gap <= 0 else WARN
    row(f"{sev} {result.capacity.statement()}")
    if result.calibration.direction != "none":
        row(
            f"{WARN} calibration recommends: {result.calibration.direction} "
            f"({len(result.calibration.steps)} step(s)); see model.md"
        )
    flags = result.flag_counts()
    if flags:
        row(
            "flags: "
            + ", ".join(
                f"{k} {v:,}" for k, v in sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
            )
        )
    by_path = result.evaluation.by_path()  # (every account on a path shares its comments)
    comments = sum(len(d.comments) * n for d, n in by_path)
    reviews = sum(len(d.reviews) * n for d, n in by_path)
    row(f"comments {comments:,} · review hints {reviews:,}")
    rule()
    for g in result.gates:
        if not g.applicable:
            row(f"{NA} {g.id}: not applicable ({g.detail})")
            continue
        mark = OK if g.passed else (WARN if g.waived else FAIL)
        text = f"{mark} {g.id}: {g.detail}"
        if g.expired_waiver is not None:
            text += f"; {g.expired_note}" + ("" if g.passed else ", so the gate fails the run")
        row(text, wrap=1 if g.passed and g.expired_waiver is None else 3)
    rule()
    status = "PASSED" if result.ok else "FAILED"
    row(
        f"{OK if result.ok else FAIL} {status} · wrote {result.out_dir}"
        if result.out_dir
        else f"{status}"
    )
    rule("└", "┘")
    return "\n".join(lines[:40])
