"""The ARR bridge as `replay` shows it: a table per quarter in the text report and
arr_bridge.csv in --out (the rows of assess.bridge; docs/events.md)."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..assess.bridge import AMOUNTS, MOVES
from ..assess.replay_result import Replay

RATIOS = ("nrr", "grr", "churn_rate", "churn_target", "over_target")
HEAD = ("starting", "new", "expansion", "contraction", "churned", "reactivated", "ending")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _churn(row: dict[str, Any]) -> str:
    rate, target = row["churn_rate"], row["churn_target"]
    if target is None:
        return _pct(rate)
    over = " over" if row["over_target"] else ""
    return f"{_pct(rate)} vs {_pct(target)}{over}"


def bridge_lines(rows: list[dict[str, Any]]) -> list[str]:
    """A quarter's bridge as text: one line per tier, then the whole book."""
    if not rows:
        return []
    width = max(len(r["tier"]) for r in rows)
    head = " ".join(f"{h:>13}" for h in HEAD)
    out = [
        "  ARR bridge (starting + new + expansion - contraction - churned + reactivated "
        "= ending; in the tier held at the quarter's start):",
        f"    {'':<{width}} {head} {'NRR':>7} {'GRR':>7}  churn (accounts) vs target",
    ]
    for r in rows:
        amounts = " ".join(f"{'$' + format(round(r[k]), ','):>13}" for k in HEAD)
        out.append(
            f"    {r['tier']:<{width}} {amounts} {_pct(r['nrr']):>7} {_pct(r['grr']):>7}  "
            f"{_churn(r)}"
        )
    return out


def bridge_csv(r: Replay) -> str:
    """arr_bridge.csv: every quarter's rows, amounts with two decimals."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["quarter", "tier", *AMOUNTS, *MOVES, *RATIOS])
    for q in r.quarters:
        for row in q.arr_bridge:
            ratios = [
                "" if row[k] is None else str(row[k]).lower() if k == "over_target" else row[k]
                for k in RATIOS
            ]
            w.writerow(
                [row["quarter"], row["tier"]] + [f"{row[k]:.2f}" for k in AMOUNTS + MOVES] + ratios
            )
    return buf.getvalue()
