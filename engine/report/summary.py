"""Write what `segment` produces: model.md, accounts.csv/.jsonl, a chart, a summary.

Everything is deterministic (sorted, fixed formats, no clock), so re-running gives
byte-identical files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import polars as pl

from ..assess.capacity import gap_words
from ..assess.result import SegmentResult
from ..evaluate.values import whole_as_int
from ..network.conditions import describe
from ..portfolio.frame import python_column
from ..sources.report import capacity_lines
from . import behind, book, confidence, near
from .accounts import FORMULA_START
from .arr_order import largest_first
from .extra import extra_sections, gates_line
from .levers import lever_markdown


def money(value: float) -> str:
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${round(value, 2) + 0.0:,.2f}"  # (+ 0.0: -$0.001 is $0.00, not $-0.00)


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


# --- the model document (its eight sections in order, as README.md lists them) ---------


def model_markdown(result: SegmentResult, max_rows: int = 10000) -> str:
    rs = result.ruleset
    ev = result.evaluation
    n = ev.frame.height
    total_arr = result.total_arr
    tiers = result.tier_summary()
    out: list[str] = []
    w = out.append
    w(f"# Segmentation model: {rs.name} {rs.version}")
    w("")
    w(
        f"Ruleset `{rs.name}` version {rs.version} (sha256 `{rs.sha256[:12]}`), effective "
        f"{rs.effective_date}; input `{result.input_file}` (sha256 `{result.input_sha256[:12]}`), "
        f"{n:,} accounts, as of {ev.as_of.isoformat()}; engine {ev.engine}."
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
    w(gates_line(result.gates))
    for gr in result.gates:
        if gr.expired_waiver is not None:
            w(f"- Expired: {gr.expired_note}; it no longer waives the gate.")
    w("")
    w("## 2. Axis Definitions")
    w("")
    for rb in ev.bands.values():
        bs = rs.band_set(rb.id)
        w(f"### Axis: {bs.label} (`{rb.id}`, bands over `{rb.over}`)")
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
        w(f"### Score: {s.label} (`{s.id}`)")
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
            rng = f"{_num(t.book_min)}-{_num(t.book_max)}" if t.book_max else f"{_num(t.book_min)}+"
            w(
                f"- Book size per CSM: {rng} (capacity uses {t.book_target:,})"
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
    listed = behind.accounts_behind(result)
    for c in rs.contradictions:
        w(f"- Contradiction `{c.id}`: {' + '.join(c.flags)} -> comment: {c.comment}")
        w(behind.line(result, listed, c.id, money))
    for c in rs.compatible:
        w(
            f"- Compatible `{c['id']}`: {c.get('tier', 'any tier')} with {', '.join(c.get('flags', []))}: {c['because']}"
        )
    for r in rs.review_hints:
        w(f"- Review hint `{r.id}`: when `{describe(r.when)}`: {r.hint}")
        w(behind.line(result, listed, r.id, money))
    w("")
    w("## 5. Customer Segmentation Table")
    w("")
    score_ids = [s.id for s in rs.scores]
    w("| account | name | ARR | " + " | ".join(score_ids) + " | primary segment | override flags |")
    w("|---|---|---|" + "---|" * len(score_ids) + "---|---|")
    # the largest accounts by ARR (then id), by a polars sort: only their rows read as values
    top = largest(ev.frame, result.arr_field, max_rows)
    rows = ev.frame[top]
    whole = whole_as_int(rs)

    def column(name: str | None) -> list[Any] | None:
        if name is None or name not in rows.columns:
            return None if name is None else [None] * rows.height
        return python_column(rows[name], name in whole)

    arrs = column(result.arr_field) or []
    ids = [str(v) for v in column("account_id") or []]
    name_field = rs.role("name")
    names = column(name_field) if name_field else None
    score_columns = [column(s) or [] for s in score_ids]
    path_ids = ev.path_of.gather(top).to_list()
    for i in range(len(top)):
        d = ev.firsts[path_ids[i]]  # (what the account's path decided)
        name = str(names[i] or "") if names is not None else ""
        scores = " | ".join(_num(c[i]) if c[i] is not None else "" for c in score_columns)
        w(
            f"| {ids[i]} | {_md(name)} | {money(arrs[i] or 0)} | {scores} | "
            f"{d.tier} | {', '.join(d.flags)} |"
        )
    if n > max_rows:
        w(f"| ... | {n - max_rows:,} more accounts in accounts.csv | | | | |")
    out.extend(book.moves_markdown(result))
    w("")
    w("## 6. Capacity Roll-Up")
    w("")
    w("| tier | accounts | ARR | book size | CSMs needed | CSMs available | gap |")
    w("|---|---|---|---|---|---|---|")
    for tc in result.capacity.per_tier:
        avail = "" if tc.available is None else str(tc.available)
        gap = "" if tc.gap is None else gap_words(tc.gap) + (" ✗" if tc.short else " ✓")
        w(
            f"| {tc.tier} | {tc.accounts:,} | {money(tc.arr)} | {_num(tc.book_size) or '-'} | {tc.needed} "
            f"| {avail} | {gap} |"
        )
    w("")
    w(f"**{result.capacity.statement()}**.")
    out.extend(capacity_lines(result))
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
    out.extend(lever_markdown(cal))
    if cal.refusal:
        w("")
        w(f"No recommendation: {cal.refusal}; `tierbook calibrate` writes no version for it.")
    elif cal.steps:
        w("")
        w(
            f"Recommendation ({'fits' if cal.fits else 'does not fit within the levers’ limits'}): "
            "review it with `tierbook calibrate`, which writes it as a new ruleset version. "
            "Thresholds never move silently."
        )
    out.extend(book.csm_markdown(result))
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
    out.extend(confidence.markdown_lines(result))
    w("")
    w("### Quality gates")
    w("")
    w("| gate | status | detail |")
    w("|---|---|---|")
    for gr in result.gates:
        detail = gr.detail + (f" — waived: {gr.waiver_reason}" if gr.waived else "")
        if gr.expired_waiver is not None:
            detail += f" — {gr.expired_note}"
        w(f"| `{gr.id}` | {gr.status.replace('_', ' ')} | {_md(detail)} |")
    w("")
    out.extend(near.markdown(result.near_boundaries, money))
    for extra in extra_sections(result):  # the method's own sections, after the eight
        out.extend(extra)
    if result.overrides is not None:
        from ..overrides.report import markdown as overrides_markdown

        out.extend(overrides_markdown(result))
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


def largest(frame: pl.DataFrame, arr_field: str, count: int) -> list[int]:
    """The indexes of the ``count`` accounts with the largest ARR (a blank one 0), ties by
    account id then file order."""
    ids = pl.col("account_id").cast(pl.String) if "account_id" in frame.columns else pl.lit("")
    order = largest_first(frame, arr_field, ids)
    if count < order.height:  # (the few largest found without sorting every account)
        order = order.bottom_k(count, by=["k", "id", "i"])
    top = order.sort("k", "id", "i").head(count)["i"]
    return [int(i) for i in top.to_list()]
