"""`segment`'s terminal summary: one box, at most 40 lines, as wide as the terminal allows.

keep-segment's output kit: box drawing, one set of severity indicators, <= 40 lines.  What
is never left out: the header, every gate that failed or was waived (its whole detail,
wrapped), an expired waiver, the verdict and the box's borders.  When the lines run out,
the passing and not-applicable gates are collapsed into one line each ("12 gates passed"),
then the band reasons and the title get one line each, then the flag and comment counts
go (model.md has them all).

The width follows the terminal (``summary_width``) between MIN_WIDTH and MAX_WIDTH; output
that is not a terminal (a pipe, a file, a test) gets DEFAULT_WIDTH, so it is the same bytes
every time.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from typing import TextIO

from ..assess.gates import GateResult
from ..assess.result import SegmentResult
from . import book, near
from .extra import arr_per_csm
from .summary import money, pct

OK, WARN, FAIL, NA = "✓", "!", "✗", "-"
MAX_LINES = 40
MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 60, 120, 72
LEAST = (24, 10, 8, 14, 10)  # the tier table's usual column widths


def summary_width(stream: TextIO | None = None) -> int:
    """The box's width for ``stream``: the terminal's, within bounds; DEFAULT_WIDTH when
    it is not a terminal."""
    if stream is None or not stream.isatty():
        return DEFAULT_WIDTH
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


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


class _Box:
    def __init__(self, width: int) -> None:
        self.width = width
        self.inner = width - 4

    def row(self, text: str = "", wrap: int | None = 1) -> list[str]:
        """Boxed rows of ``text``, wrapped; beyond ``wrap`` rows (None: no limit) it ends
        in '…'."""
        parts = textwrap.wrap(
            text, self.inner, subsequent_indent="    ", break_on_hyphens=False
        ) or [""]
        if wrap is not None and len(parts) > wrap:
            parts = parts[:wrap]
            parts[-1] = parts[-1][: self.inner - 1].rstrip() + "…"
        return ["│ " + part.ljust(self.inner) + " │" for part in parts]

    def rule(self, left: str = "├", right: str = "┤") -> list[str]:
        return [left + "─" * (self.width - 2) + right]


def _gate_text(g: GateResult) -> str:
    if not g.applicable:
        return f"{NA} {g.id}: not applicable ({g.detail})"
    mark = OK if g.passed else (WARN if g.waived else FAIL)
    text = f"{mark} {g.id}: {g.detail}"
    if g.waived:
        text += f" (waived: {g.waiver_reason})"
    if g.expired_waiver is not None:
        text += f"; {g.expired_note}" + ("" if g.passed else ", so the gate fails the run")
    return text


def _must_show(g: GateResult) -> bool:
    return g.status in ("failed", "waived") or g.expired_waiver is not None


def _gate_rows(box: _Box, gates: list[GateResult], collapse: bool) -> list[str]:
    if not collapse:
        out: list[str] = []
        for g in gates:
            out += box.row(_gate_text(g), wrap=None if _must_show(g) else 1)
        return out
    out = []
    passed = [g for g in gates if g.status == "passed" and not _must_show(g)]
    idle = [g for g in gates if g.status == "not_applicable" and not _must_show(g)]
    if passed:
        names = ", ".join(g.id for g in passed)
        out += box.row(f"{OK} {len(passed)} gate(s) passed: {names}")
    if idle:
        names = ", ".join(g.id for g in idle)
        out += box.row(f"{NA} {len(idle)} gate(s) not applicable: {names}")
    for g in gates:
        if _must_show(g):
            out += box.row(_gate_text(g), wrap=None)
    return out


def terminal_summary(result: SegmentResult, width: int = DEFAULT_WIDTH) -> str:
    box = _Box(max(MIN_WIDTH, min(MAX_WIDTH, width)))
    # (collapse passing gates, one line per band reason and title, drop flag/comment counts)
    for level in range(4):
        lines = _summary_lines(result, box, level)
        if len(lines) <= MAX_LINES:
            break
    return "\n".join(lines)


def _summary_lines(result: SegmentResult, box: _Box, level: int) -> list[str]:
    rs = result.ruleset
    n = len(result.evaluation.decisions)
    short = level >= 2
    lines = box.rule("┌", "┐")
    title = f"tierbook segment · {rs.name} {rs.version} · engine {result.evaluation.engine}"
    lines += box.row(title, wrap=1 if short else 2)
    lines += box.row(
        f"{n:,} accounts · book ARR {money(result.total_arr)} · as of {result.evaluation.as_of}"
    )
    if result.rejects:  # (--on-error skip: left out of every figure below)
        first = ", ".join(f"line {r['line']}" for r in result.rejects[:3])
        more = " …" if len(result.rejects) > 3 else ""
        lines += box.row(
            f"{WARN} {len(result.rejects):,} bad row(s) left out ({first}{more}): "
            "the reasons on stderr",
            wrap=None,
        )
    lines += box.rule()
    for rb in result.evaluation.bands.values():
        if rb.declared_method == "auto":
            lines += box.row(f"{rb.id}: {rb.reason}", wrap=1 if short else 3)
        elif rb.method == "target_shares":
            lines += box.row(
                f"{rb.id}: target shares, thresholds "
                + ", ".join(money(t) for t in rb.figures.get("thresholds", []))
            )
        else:
            lines += box.row(f"{rb.id}: {rb.method}")
    lines += box.rule()
    summary = result.tier_summary()
    caps = {t.tier: t for t in result.capacity.per_tier}
    table = [("tier", "accounts", "share", "ARR", "CSMs")]
    for t in rs.tiers:
        c, a = summary[t.id]["accounts"], summary[t.id]["arr"]
        cap = caps[t.id]
        csm = f"{cap.needed}/{cap.available}" if cap.available is not None else str(cap.needed)
        table.append((t.id, f"{c:,}", pct(c, n), money(a), csm + (f" {WARN}" if cap.short else "")))
    for line in _columns(table, box.inner, LEAST):
        lines += box.row(line)
    lines += box.rule()
    sev = OK if result.capacity.fits else WARN
    lines += box.row(f"{sev} {result.capacity.statement()}", wrap=None)
    per_csm = arr_per_csm(result)
    off = [p for p in per_csm if p.ok is False]
    if off:
        lines += box.row(
            f"{WARN} ARR per CSM off target: "
            + "; ".join(f"{p.tier} {money(p.per_csm or 0)} (target {p.target})" for p in off),
            wrap=None,
        )
    elif per_csm:
        checked = [p for p in per_csm if p.ok]
        lines += box.row(f"{OK} ARR per CSM within target in {len(checked)} tier(s)")
    if result.calibration.direction != "none":
        lines += box.row(
            f"{WARN} calibration recommends: {result.calibration.direction} "
            f"({len(result.calibration.steps)} step(s)); see model.md"
        )
    if result.overrides is not None:
        from ..overrides.report import summary_line

        lines += box.row(f"{WARN} {summary_line(result.overrides)}", wrap=None)
        rules_capacity = result.overrides.rules_capacity
        if rules_capacity is not None:
            lines += box.row(f"rules alone: {rules_capacity.statement()}", wrap=None)
    for well, text in book.terminal_rows(result):
        lines += box.row(f"{OK if well else WARN} {text}", wrap=1 if short else 2)
    if level < 3:
        flags = result.flag_counts()
        if flags:
            ranked = sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
            lines += box.row("flags: " + ", ".join(f"{k} {v:,}" for k, v in ranked))
        by_path = result.evaluation.by_path()  # (every account on a path shares its comments)
        comments = sum(len(d.comments) * n for d, n in by_path)
        reviews = sum(len(d.reviews) * n for d, n in by_path)
        lines += box.row(f"comments {comments:,} · review hints {reviews:,}")
    lines += box.rule()
    lines += _gate_rows(box, result.gates, collapse=level >= 1)
    if any(n.accounts for n in result.near_boundaries):  # beside the stability gate's sample
        lines += box.row(f"{WARN} {near.summary_line(result.near_boundaries, money)}", wrap=3)
    lines += box.rule()
    status = "PASSED" if result.ok else "FAILED"
    lines += box.row(
        f"{OK if result.ok else FAIL} {status} · wrote {result.out_dir}"
        if result.out_dir
        else f"{status}",
        wrap=None,
    )
    lines += box.rule("└", "┘")
    return lines
