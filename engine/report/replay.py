"""What `replay` writes: a per-quarter text report, charts (PNG) with their data (CSV)."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from typing import Any

from ..assess.replay_result import Replay
from .bridge import bridge_csv, bridge_lines


def _money(v: float) -> str:
    return f"${v:,.0f}"


def _bands_as_of(r: Replay) -> str:
    """The date the bands were resolved: the start, or the end of the first quarter for a
    replay that starts from an empty book."""
    return str(r.start.get("bands_as_of", r.start["as_of"]))


def render_text(r: Replay, limit: int = 10) -> str:
    rs = r.ruleset
    out = [
        f"tierbook replay · {rs.name} {rs.version} · {len(r.quarters)} quarter(s) from "
        f"{r.start['as_of']} · engine {r.engine}",
        "start: " + ", ".join(f"{t} {v['accounts']:,}" for t, v in r.start["tiers"].items()),
        f"bands, resolved as of {_bands_as_of(r)} and held fixed:",
    ]
    for band_set, b in r.start["bands"].items():
        declared = (
            "" if b["method"] == b["declared_method"] else f" (declared {b['declared_method']})"
        )
        out.append(f"  {band_set}: {b['method']}{declared}; why: {b['reason']}")
    for q in r.quarters:
        out.append("")
        out.append(f"── {q.quarter} (as of {q.as_of.isoformat()}) " + "─" * 30)
        out.append(
            "  tiers: "
            + ", ".join(f"{t} {v['accounts']:,} ({_money(v['arr'])})" for t, v in q.tiers.items())
        )
        ev = ", ".join(f"{k} {v}" for k, v in q.events.items())
        back = f"; reactivated {len(q.reactivated)}" if q.reactivated else ""
        out.append(
            f"  events: {ev or 'none'}; new accounts {q.new_accounts}; churned "
            f"{sum(q.churned.values())}{back}; evaluated tier differs from held for {q.drift}"
        )
        out.append(
            "  bands: "
            + ", ".join(f"{k} {b['method']}" for k, b in q.bands.items())
            + f" (as of {_bands_as_of(r)}, held fixed)"
        )
        cap = q.capacity
        gap = "" if cap["gap"] is None else f", gap {cap['gap']:+d}"
        out.append(f"  CSMs needed {cap['needed']}, available {cap['available']}{gap}")
        out.append(
            f"  moves {len(q.moves)}, held {len(q.held)}, reviews {len(q.reviews)}, flags "
            f"raised {len(q.flags['raised'])}, cleared {len(q.flags['cleared'])}"
        )
        for m in q.moves[:limit]:
            out.append(
                f"    moved  {m['account_id']} {m['from']} -> {m['to']} ({m['rule']}: {m['because']})"
            )
        if len(q.moves) > limit:
            out.append(f"    ... {len(q.moves) - limit} more moves")
        for m in q.held[:limit]:
            out.append(
                f"    held   {m['account_id']} {m['from']} (would be {m['to']}; {m['rule']})"
            )
        for m in q.reviews[:limit]:
            out.append(
                f"    review {m['account_id']} {m['from']} -> {m['to']}? ({m['rule']}: {m['because']})"
            )
        out += bridge_lines(q.arr_bridge)
        for t in q.triggers:
            if t["status"] == "open":
                out.append(f"  · trigger {t['id']} still open (fired {t['since']}): {t['detail']}")
            else:
                out.append(f"  ! trigger {t['id']}: {t['detail']}")
    if r.skipped:
        out.append("")
        out.append(f"skipped {len(r.skipped)} bad event(s):")
        out += [f"  {reason}" for s in r.skipped[:20] for reason in s["reasons"]]
    if r.ignored_signals:
        total = sum(r.ignored_signals.values())
        out.append(
            f"ignored {total} signal(s) on columns this ruleset does not read "
            f"({', '.join(sorted(r.ignored_signals)[:6])}{', ...' if len(r.ignored_signals) > 6 else ''})"
        )
    return "\n".join(out)


def tier_series_csv(r: Replay) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["quarter", "tier", "accounts", "arr"])
    for t, v in r.start["tiers"].items():
        w.writerow(["start", t, v["accounts"], f"{v['arr']:.2f}"])
    for q in r.quarters:
        for t, v in q.tiers.items():
            w.writerow([q.quarter, t, v["accounts"], f"{v['arr']:.2f}"])
    return buf.getvalue()


def flows_csv(r: Replay) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["quarter", "from_tier", "to_tier", "accounts"])
    order = r.ruleset.tier_ids
    for q in r.quarters:
        for a, row in q.transitions.items():
            for b, n in row.items():
                if n:
                    w.writerow([q.quarter, a, b, n])
        for t, n in q.churned.items():
            if n:
                w.writerow([q.quarter, t, "churned", n])
        for t, n in sorted(Counter(q.joined.values()).items(), key=lambda x: order.index(x[0])):
            w.writerow([q.quarter, "joined", t, n])
    return buf.getvalue()


def flow_totals(r: Replay) -> tuple[list[str], list[str], list[list[int]]]:
    """The flows of every quarter together, as flows.csv has them quarter by quarter: rows
    the held tier (in tier order), then 'joined' when accounts joined; columns the tier
    after (stayers on the diagonal), then 'churned'."""
    ids = r.ruleset.tier_ids
    joined = Counter(t for q in r.quarters for t in q.joined.values())
    rows = ids + (["joined"] if joined else [])
    cols = ids + ["churned"]
    grid = [[0] * len(cols) for _ in rows]
    for q in r.quarters:
        for a, row in q.transitions.items():
            for b, n in row.items():
                grid[ids.index(a)][ids.index(b)] += n
        for tier_id, n in q.churned.items():
            grid[ids.index(tier_id)][-1] += n
    for tier_id, n in joined.items():
        grid[-1][ids.index(tier_id)] += n
    return rows, cols, grid


def charts_png(r: Replay, tiers_path: str, flows_path: str) -> None:
    from .figure import new_figure, save_png

    rs = r.ruleset
    labels = ["start"] + [q.quarter for q in r.quarters]
    fig = new_figure(10, 4.5)
    ax = fig.subplots()
    for t in rs.tiers:
        series = [r.start["tiers"][t.id]["accounts"]] + [
            q.tiers[t.id]["accounts"] for q in r.quarters
        ]
        ax.plot(labels, series, marker="o", label=t.label)
    ax.set_title(f"{rs.name} {rs.version}: accounts per tier by quarter")
    ax.set_ylabel("accounts")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    save_png(fig, tiers_path)

    fig = new_figure(14, 5)
    ax, heat = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    quarters = [q.quarter for q in r.quarters]
    ids = rs.tier_ids
    ups = [sum(1 for m in q.moves if ids.index(m["to"]) < ids.index(m["from"])) for q in r.quarters]
    downs = [
        sum(1 for m in q.moves if ids.index(m["to"]) > ids.index(m["from"])) for q in r.quarters
    ]
    held = [len(q.held) for q in r.quarters]
    reviews = [len(q.reviews) for q in r.quarters]
    churn = [sum(q.churned.values()) for q in r.quarters]
    x = range(len(quarters))
    width = 0.17
    for k, (data, label, color) in enumerate(
        (
            (ups, "promoted", "#2e86c1"),
            (downs, "demoted", "#cb4335"),
            (held, "held (dwell)", "#aab7b8"),
            (reviews, "review", "#f5b041"),
            (churn, "churned", "#566573"),
        )
    ):
        ax.bar([i + (k - 2) * width for i in x], data, width, label=label, color=color)
    ax.set_xticks(list(x))
    ax.set_xticklabels(quarters, rotation=30)
    ax.set_title("Movements by quarter", pad=22)
    ax.set_ylabel("accounts")
    # the legend between the title and the bars, never over them
    ax.legend(fontsize=8, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    # where accounts went, all quarters together: held tier before -> after (or churned);
    # the stayers are on the diagonal, as in flows.csv, and a log colour scale keeps the
    # few movers visible beside them
    from matplotlib.colors import LogNorm

    rows, cols, grid = flow_totals(r)
    peak = max((v for row in grid for v in row), default=0) or 1
    shown = [[v if v else float("nan") for v in row] for row in grid]
    heat.imshow(shown, cmap="Blues", aspect="auto", norm=LogNorm(vmin=1, vmax=max(peak, 2)))
    heat.set_xticks(range(len(cols)))
    heat.set_xticklabels([c.replace("_", " ") for c in cols], rotation=30, ha="right", fontsize=8)
    heat.set_yticks(range(len(rows)))
    heat.set_yticklabels([t.replace("_", " ") for t in rows], fontsize=8)
    for i, grid_row in enumerate(grid):
        for j, v in enumerate(grid_row):
            heat.text(
                j,
                i,
                f"{v:,}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if v > 1 and math.log(v) > math.log(peak) * 0.6 else "black",
            )
    heat.set_title(
        f"Flow between tiers, {quarters[0]}-{quarters[-1]}" if quarters else "Flow between tiers"
    )
    heat.set_ylabel("from (held tier; the diagonal stayed)")
    heat.set_xlabel("to")
    save_png(fig, flows_path)


def files(r: Replay) -> dict[str, str]:
    from .jsontext import indented

    return {
        "replay.txt": render_text(r, limit=1_000_000) + "\n",
        "replay.json": indented(r.as_json()) + "\n",
        "tiers_by_quarter.csv": tier_series_csv(r),
        "flows.csv": flows_csv(r),
        "arr_bridge.csv": bridge_csv(r),
    }


def summary(r: Replay) -> dict[str, Any]:
    return {
        "quarters": len(r.quarters),
        "moves": sum(len(q.moves) for q in r.quarters),
        "triggers": sum(t["status"] == "fired" for q in r.quarters for t in q.triggers),
    }
