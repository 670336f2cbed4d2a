"""Write what `segment` produces: model.md, accounts.csv/.jsonl, a chart, a summary.

Everything is deterministic (sorted, fixed formats, no clock), so re-running gives
byte-identical files.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from heapq import nsmallest
from typing import Any

from ..assess.result import SegmentResult
from ..network.conditions import describe
from .accounts import FORMULA_START
from .extra import extra_sections


def money(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would execute (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "0.0%"


def rejects_csv(rejects: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["line", "account_id", "reasons"])
    for r in rejects:
        writer.writerow(
            [r["line"], safe_cell(str(r["account_id"] or "")), safe_cell(" | ".join(r["reasons"]))]
        )
    return buf.getvalue()


# --- the model document (SPEC 1.1, eight sections in order) -----------------------------


def model_markdown(result: SegmentResult, max_rows: int = 10000) -> str:
    rs = result.ruleset
    ev = result.evaluation
    n = len(ev.decisions)
    total_arr = result.total_arr
    tiers = result.tier_summary()
    out: list[str] = []
    w = out.append
    w(f"# Segmentation model: {rs.name} {rs.version}")
    w("")
    w(
        f"Ruleset `{rs.name}` version {rs.version} (sha256 `{rs.sha256[:12]}`), effective "
        f"{rs.effective_date}; input `{result.input_file}` (sha256 `{result.input_sha256[:12]}`), "
        f"{n} accounts, as of {ev.as_of.isoformat()}; engine {ev.engine}."
    )
    if ev.engine_note:
        w("")
        w(f"> Note: {ev.engine_note}.")
    w("")
    w("## 1. Model Summary")
    w("")
    w(f"{rs.description}")
    w("")
    w(f"- Accounts: {n:,}; book ARR: {money(total_arr)}")
    for t in rs.tiers:
        c, a = tiers[t.id]["accounts"], tiers[t.id]["arr"]
        w(
            f"- {t.label} (`{t.id}`): {c:,} accounts ({pct(c, n)}), {money(a)} ARR ({pct(a, total_arr)})"
        )
    w(f"- Capacity fit: {result.capacity.statement()}")
    failed = [g for g in result.gates if not g.passed]
    w(
        f"- Quality gates: {sum(g.passed for g in result.gates)} of {len(result.gates)} passed"
        + (
            f"; failed: {', '.join(g.id + (' (waived)' if g.waived else '') for g in failed)}"
            if failed
            else ""
        )
    )
    w("")
    w("## 2. Axis Definitions")
    w("")
    for rb in ev.bands.values():
        bs = rs.band_set(rb.id)
        w(f"### {bs.label} (`{rb.id}`, over `{rb.over}`)")
        w("")
        w(
            f"Method: **{rb.method}**"
            + (f" (declared: {rb.declared_method})" if rb.declared_method != rb.method else "")
            + f". Why: {rb.reason}."
        )
        w("")
        w("| band | interval | grid row | accounts |")
        w("|---|---|---|---|")
        counts = result.band_counts(rb.id)
        for b in rb.bands:
            w(
                f"| {b.label or b.id} (`{b.id}`) | {b.interval_text(_num)} | {b.row} | {counts.get(b.id, 0):,} |"
            )
        w("")
        if rb.method == "target_shares":
            w("| band | accounts | target | ARR | target |")
            w("|---|---|---|---|---|")
            targets = {b.id: b for b in bs.variants["declared"]}
            for s in rb.figures.get("shares", []):
                b = targets[s["band"]]

                def judged(share: float, rng: Any) -> tuple[str, str]:
                    if not rng:
                        return f"{share:.1%}", "-"
                    ok = rng[0] <= share <= rng[1]
                    return f"{share:.1%} {'✓' if ok else '✗'}", f"{rng[0]:.0%}-{rng[1]:.0%}"

                acc, acc_t = judged(s["account_share"], b.target_account_share)
                arr, arr_t = judged(s["arr_share"], b.target_arr_share)
                w(f"| {s['band']} | {acc} | {acc_t} | {arr} | {arr_t} |")
            w("")
    for s in rs.scores:
        w(f"### {s.label} (`{s.id}`)")
        w("")
        if s.description:
            w(s.description)
            w("")
        eff = s.effective_weights()
        if s.method == "weighted":
            w(
                f"Weighted sum of component scores (0-1) x {s.scale:g}; declared weights sum to "
                f"{sum(c.weight for c in s.components):g}"
                + (
                    "; zero weights redistributed proportionally"
                    if any(c.weight == 0 for c in s.components)
                    else ""
                )
                + "."
            )
        else:
            w("Count of components that hold.")
        w("")
        if s.method == "weighted":
            w("| component | input | weight | effective weight |")
            w("|---|---|---|---|")
            for c in s.components:
                src = f"`{c.input}`" if c.input else f"`{describe(c.when or {})}`"
                w(f"| {c.label or c.id} | {src} | {c.weight:g} | {eff[c.id]:.4g} |")
        else:
            w("| component | counts when |")
            w("|---|---|")
            for c in s.components:
                src = f"`{describe(c.when)}`" if c.when else f"`{c.input}` scores 1"
                w(f"| {c.label or c.id} | {src} |")
        w("")
    w("## 3. Tier Definitions")
    w("")
    g = rs.grid
    if g.columns:
        w(f"Grid: rows `{g.rows}`, columns `{g.columns}`.")
        w("")
        w("| " + g.rows + " \\ " + g.columns + " | " + " | ".join(g.column_order) + " |")
        w("|---|" + "---|" * len(g.column_order))
        for row in g.row_order:
            cells = [
                next(c.tier for c in g.cells if c.row == row and c.column == col)
                for col in g.column_order
            ]
            w(f"| {row} | " + " | ".join(cells) + " |")
    else:
        w(f"Tiers by `{g.rows}`: " + ", ".join(f"{c.row} -> {c.tier}" for c in g.cells) + ".")
    w("")
    for t in rs.tiers:
        w(f"### {t.label} (`{t.id}`)")
        w("")
        if t.entry:
            w(f"- Entry: {t.entry}")
        if t.treatment:
            w(f"- Treatment: {t.treatment}")
        if t.book_target:
            rng = f"{t.book_min}-{t.book_max}" if t.book_max else f"{t.book_min}+"
            w(
                f"- Book size per CSM: {rng} (capacity uses {t.book_target})"
                + (" pooled" if t.pooled else "")
            )
        if t.automated:
            w("- Automated: no CSMs")
        for key in ("csm_ratio", "motion", "cadence", "escalation"):
            if key in t.motion:
                w(f"- {key.replace('_', ' ').capitalize()}: {t.motion[key]}")
        for key in ("channels", "playbooks"):
            if key in t.motion:
                w(f"- {key.capitalize()}: {', '.join(t.motion[key])}")
        for key, value in t.targets.items():
            if key == "churn_rate":
                text = f"{value:.1%} per quarter"
            elif key.startswith("arr_per_csm"):
                text = money(value)
            elif isinstance(value, list):
                text = f"{value[0]:.0%}-{value[1]:.0%}"
            else:
                text = str(value)
            w(f"- Target {key.replace('_', ' ')}: {text}")
        w("")
    w("## 4. Override Flag Library")
    w("")
    if rs.flags:
        flag_counts = result.flag_counts()
        w("| flag | trigger | rule | unlocks | accounts |")
        w("|---|---|---|---|---|")
        for f in rs.flags:
            w(
                f"| `{f.id}` | {f.trigger or f.because} | `{describe(f.when)}` | "
                f"{', '.join(f.unlocks)} | {flag_counts.get(f.id, 0):,} |"
            )
        w("")
    for c in rs.contradictions:
        w(f"- Contradiction `{c.id}`: {' + '.join(c.flags)} -> comment: {c.comment}")
    for c in rs.compatible:
        w(
            f"- Compatible `{c['id']}`: {c.get('tier', 'any tier')} with {', '.join(c.get('flags', []))}: {c['because']}"
        )
    for r in rs.review_hints:
        w(f"- Review hint `{r.id}`: when `{describe(r.when)}`: {r.hint}")
    w("")
    w("## 5. Customer Segmentation Table")
    w("")
    score_ids = [s.id for s in rs.scores]
    w("| account | name | ARR | " + " | ".join(score_ids) + " | primary segment | override flags |")
    w("|---|---|---|" + "---|" * len(score_ids) + "---|---|")
    # the largest accounts by ARR (then id), from the columns: no account's dict for it
    arrs, ids = ev.column(result.arr_field), ev.account_ids()
    top = nsmallest(max_rows, range(n), key=lambda i: (-(arrs[i] or 0), ids[i]))
    name_field = rs.role("name")
    names = ev.column(name_field) if name_field else None
    score_columns = [ev.column(s) for s in score_ids]
    path_ids = ev.path_ids()
    for i in top:
        d = ev.firsts[path_ids[i]]  # (what the account's path decided)
        name = str(names[i] or "") if names is not None else ""
        scores = " | ".join(_num(c[i]) if c[i] is not None else "" for c in score_columns)
        w(
            f"| {ids[i]} | {_md(name)} | {money(arrs[i] or 0)} | {scores} | "
            f"{d.tier} | {', '.join(d.flags)} |"
        )
    if n > max_rows:
        w(f"| ... | {n - max_rows:,} more accounts in accounts.csv | | | | |")
    w("")
    w("## 6. Capacity Roll-Up")
    w("")
    w("| tier | accounts | ARR | book size | CSMs needed | CSMs available | gap |")
    w("|---|---|---|---|---|---|---|")
    for tc in result.capacity.per_tier:
        avail = "" if tc.available is None else str(tc.available)
        gap = "" if tc.gap is None else f"{tc.gap:+d}"
        w(
            f"| {tc.tier} | {tc.accounts:,} | {money(tc.arr)} | {tc.book_size or '-'} | {tc.needed} "
            f"| {avail} | {gap} |"
        )
    w("")
    w(f"**{result.capacity.statement()}** (gap = needed - available; positive is a shortage).")
    w("")
    cal = result.calibration
    w(f"Calibration: {cal.reason}.")
    if cal.steps:
        w("")
        w("| round | lever | boundary | accounts in tier | CSMs needed | why |")
        w("|---|---|---|---|---|---|")
        for s in cal.steps:
            w(
                f"| {s.round} | `{s.lever}` | {_num(s.boundary_from)} -> {_num(s.boundary_to)} | "
                f"{s.tier_accounts_before} -> {s.tier_accounts_after} | {s.needed_before} -> "
                f"{s.needed_after} | {s.because} |"
            )
        w("")
        w(
            f"Recommendation ({'fits' if cal.fits else 'does not fit within the levers’ limits'}): "
            "review it with `tierbook calibrate`, which writes it as a new ruleset version. "
            "Thresholds never move silently."
        )
    w("")
    w("## 7. Re-Calibration Triggers")
    w("")
    for trig in rs.triggers:
        figure = ""
        if trig.threshold is not None:
            figure = f" (threshold {trig.threshold:.0%})"
        if trig.ratio is not None:
            figure = (
                f" ({trig.ratio:g}x target for {trig.consecutive_quarters} consecutive quarters)"
            )
        w(f"- `{trig.id}` ({trig.kind}){figure}: {trig.because}")
    base = rs.raw.get("recalibration", {})
    if base:
        w(
            f"- Baseline re-run: {base.get('baseline', 'annual')}; never more often than every "
            f"{base.get('min_interval_quarters', 1)} quarter(s)."
        )
    w("")
    w("## 8. Calibration Confidence")
    w("")
    gaps = [(k, v) for k, v in sorted(result.gaps.items()) if v]
    if result.missing_columns:
        w(
            f"- Columns not in the input (every account unknown or defaulted): "
            f"{', '.join(result.missing_columns)}"
        )
    for k, v in gaps:
        if k in result.missing_columns:
            continue
        dflt = result.defaulted.get(k, 0)
        w(
            f"- `{k}`: {v:,} blank of {n:,} ({pct(v, n)})"
            + (
                f"; {dflt:,} defaulted to {rs.input(k).default!r}"
                if dflt
                else "; treated as unknown"
            )
        )
    if not gaps and not result.missing_columns:
        w("- No input gaps.")
    if result.rejects:
        w(f"- {len(result.rejects):,} row(s) rejected and left out (see rejects.csv).")
    w("")
    w("### Quality gates")
    w("")
    w("| gate | status | detail |")
    w("|---|---|---|")
    for gr in result.gates:
        detail = gr.detail + (f" — waived: {gr.waiver_reason}" if gr.waived else "")
        w(f"| `{gr.id}` | {gr.status} | {_md(detail)} |")
    w("")
    for extra in extra_sections(result):  # the method's own sections, after the eight
        out.extend(extra)
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --- chart ---------------------------------------------------------------------------------


def tier_chart_png(result: SegmentResult, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = result.ruleset
    summary = result.tier_summary()
    labels = [t.label for t in rs.tiers]
    accounts = [summary[t.id]["accounts"] for t in rs.tiers]
    arr = [summary[t.id]["arr"] / 1e6 for t in rs.tiers]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    colors = ["#1b4f72", "#2e86c1", "#85c1e9", "#d6eaf8", "#aab7b8", "#566573"][: len(labels)]
    for ax, data, title, fmt in (
        (ax1, accounts, "Accounts per tier", "{:,.0f}"),
        (ax2, arr, "ARR per tier ($M)", "${:,.2f}M"),
    ):
        bars = ax.bar(range(len(labels)), data, color=colors, edgecolor="#333333", linewidth=0.6)
        ax.set_title(title, fontsize=12)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=15, ha="right", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        for bar, value in zip(bars, data):
            ax.annotate(
                fmt.format(value),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=9,
                xytext=(0, 2),
                textcoords="offset points",
            )
    fig.suptitle(
        f"{rs.name} {rs.version}: {len(result.evaluation.decisions):,} accounts, "
        f"as of {result.evaluation.as_of.isoformat()}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


# --- terminal summary (keep-segment's output kit: <= 40 lines, box drawing, one set of
#     severity indicators) ------------------------------------------------------------------

OK, WARN, FAIL = "✓", "!", "✗"


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
        mark = OK if g.passed else (WARN if g.waived else FAIL)
        row(f"{mark} {g.id}: {g.detail}", wrap=1 if g.passed else 3)
    rule()
    status = "PASSED" if result.ok else "FAILED"
    row(
        f"{OK if result.ok else FAIL} {status} · wrote {result.out_dir}"
        if result.out_dir
        else f"{status}"
    )
    rule("└", "┘")
    return "\n".join(lines[:40])
