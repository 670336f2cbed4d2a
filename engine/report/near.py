"""Accounts near a tier boundary (tierbook.assess.proximity) as the summary and model.md
show them, beside the stability gate's sampled accounts."""

from __future__ import annotations

from collections.abc import Callable

from ..assess.proximity import NearBoundary


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _what(n: NearBoundary) -> str:
    return "an ARR boundary" if n.relative else f"a {n.over} boundary"


def summary_line(near: list[NearBoundary], money: Callable[[float], str] = _money) -> str:
    """One line: how many accounts sit near each grid axis's boundaries, the largest named."""
    parts = []
    for n in near:
        text = f"{n.accounts:,} within {n.margin_text} of {_what(n)}"
        if n.changes_tier is not None:
            text += f" ({n.changes_tier:,} change tier)"
        if n.largest:
            top = n.largest[0]
            text += f", largest {top['account_id']} {money(float(top['arr'] or 0.0))}"
        parts.append(text)
    return "near a boundary: " + "; ".join(parts)


def markdown(near: list[NearBoundary], money: Callable[[float], str] = _money) -> list[str]:
    if not near:
        return []
    out = [
        "### Accounts near a tier boundary",
        "",
        "Beside the stability gate's sampled accounts: every account near a boundary between "
        "grid rows or columns, where a small change in its value can change its tier.",
        "",
    ]
    for n in near:
        edges = ", ".join(_num(e) for e in n.boundaries) or "none"
        text = (
            f"- `{n.band_set}` (over `{n.over}`): {n.accounts:,} account(s), {money(n.arr)} "
            f"ARR, within {n.margin_text} of {_what(n)} ({edges})"
        )
        if n.changes_tier is not None:
            text += f"; {n.changes_tier:,} of them change tier at ARR {n.margin_text}"
        out.append(text + ".")
        if n.largest:
            out.append("")
            value_column = "" if n.relative else f" {n.over} |"
            out.append(f"| account | ARR |{value_column} boundary | tier |")
            out.append("|---|---|" + ("" if n.relative else "---|") + "---|---|")
            for a in n.largest:
                shown = "" if n.relative else f" {a['value']:g} |"
                out.append(
                    f"| {a['account_id']} | {money(float(a['arr'] or 0.0))} |{shown} "
                    f"{_num(a['boundary'])} | {a['tier']} |"
                )
            if n.accounts > len(n.largest):
                out.append(f"| ... | {n.accounts - len(n.largest):,} more |")
        out.append("")
    return out
