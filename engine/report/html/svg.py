"""Charts for report.html drawn as inline SVG: horizontal bars, paired bars, lines over
quarters and a timeline.  Plain markup from the numbers, so the page needs no plotting
library and fetches nothing; coordinates are rounded to one decimal so the bytes repeat."""

from __future__ import annotations

from collections.abc import Sequence

from .page import esc

PALETTE = ("#2f5fb3", "#e07b39", "#3c9a5f", "#b54a8f", "#7a6fcf", "#c9a227", "#4aa3b5", "#8c5a3c")


def _n(x: float) -> str:
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label(value: float, money: bool) -> str:
    if money:
        for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= size:
                return f"${value / size:.1f}{unit}"
        return f"${value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 10 else f"{value:,.2f}"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def bars(
    items: Sequence[tuple[str, float]], caption: str, *, money: bool = False, width: int = 460
) -> str:
    """One horizontal bar per item, its value written beside it."""
    if not items:
        return ""
    label_w, row_h = 170, 22
    top = max((v for _, v in items), default=0) or 1
    plot = width - label_w - 70
    h = row_h * len(items) + 8
    parts = [
        f'<svg width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{esc(caption)}">'
    ]
    for i, (name, value) in enumerate(items):
        y = 4 + i * row_h
        w = max(0.0, plot * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{esc(name)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{_n(w)}" height="{row_h - 7}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{_n(label_w + w + 4)}" y="{y + 14}">{esc(_label(value, money))}</text>'
        )
    parts.append("</svg>")
    return figure("".join(parts), caption)


def paired_bars(
    items: Sequence[tuple[str, float, float]],
    names: tuple[str, str],
    caption: str,
    *,
    width: int = 460,
) -> str:
    """Two bars per item (say CSMs needed and available), with a legend."""
    if not items:
        return ""
    label_w, row_h = 170, 30
    top = max((max(a, b) for _, a, b in items), default=0) or 1
    plot = width - label_w - 60
    h = row_h * len(items) + 26
    colors = (PALETTE[0], PALETTE[1])
    parts = [
        f'<svg width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{esc(caption)}">'
    ]
    for k, name in enumerate(names):
        x = label_w + k * 120
        parts.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{colors[k]}"/>'
            f'<text x="{x + 14}" y="13">{esc(name)}</text>'
        )
    for i, (name, a, b) in enumerate(items):
        y = 22 + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{esc(name)}</text>')
        for k, value in enumerate((a, b)):
            w = max(0.0, plot * value / top)
            yy = y + 2 + k * 12
            parts.append(
                f'<rect x="{label_w}" y="{yy}" width="{_n(w)}" height="10" fill="{colors[k]}"/>'
                f'<text x="{_n(label_w + w + 4)}" y="{yy + 9}">{esc(_label(value, False))}</text>'
            )
    parts.append("</svg>")
    return figure("".join(parts), caption)


def lines(
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    caption: str,
    *,
    money: bool = False,
    width: int = 620,
    height: int = 260,
) -> str:
    """One line per series over the x labels (quarters), with a legend below."""
    if not xs or not series:
        return ""
    left, right, top_pad, bottom = 70, 16, 12, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((max(v, default=0) for _, v in series), default=0) or 1
    step = plot_w / max(1, len(xs) - 1)
    legend_rows = (len(series) + 3) // 4
    h = height + 16 * legend_rows
    parts = [
        f'<svg width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{esc(caption)}">'
    ]
    for k in range(5):
        y = top_pad + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" stroke="#e3e6ec"/>'
            f'<text x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">'
            f"{esc(_label(top * k / 4, money))}</text>"
        )
    for i, x in enumerate(xs):
        parts.append(
            f'<text x="{_n(left + i * step)}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{esc(x)}</text>'
        )
    for s, (name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        points = " ".join(
            f"{_n(left + i * step)},{_n(top_pad + plot_h - plot_h * v / top)}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        lx, ly = 10 + (s % 4) * (width // 4), height + 16 * (s // 4) - 4
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{ly}">{esc(name)}</text>'
        )
    parts.append("</svg>")
    return figure("".join(parts), caption)


def timeline(
    xs: Sequence[str], events: Sequence[tuple[int, str, str]], caption: str, *, width: int = 700
) -> str:
    """One lane per trigger over a line of quarters: (quarter index, trigger, status) --
    a filled mark where it fired, a hollow one each quarter it stays open."""
    if not xs:
        return ""
    lanes = list(dict.fromkeys(label for _, label, _ in events))
    left, right, lane_h = 200, 30, 22
    step = (width - left - right) / max(1, len(xs) - 1)
    base = 10 + lane_h * len(lanes)
    h = base + 26
    parts = [
        f'<svg width="{width}" height="{h}" viewBox="0 0 {width} {h}" role="img" '
        f'aria-label="{esc(caption)}">',
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#8a93a6"/>',
    ]
    for i, x in enumerate(xs):
        parts.append(
            f'<text x="{_n(left + i * step)}" y="{base + 18}" text-anchor="middle">{esc(x)}</text>'
        )
    for k, lane in enumerate(lanes):
        parts.append(
            f'<text x="{left - 10}" y="{14 + k * lane_h + 4}" text-anchor="end">{esc(lane)}</text>'
        )
    for index, label, status in events:
        k = lanes.index(label)
        cx, cy = left + index * step, 14 + k * lane_h
        fill = PALETTE[1] if status == "fired" else "#fff"
        parts.append(
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="6" fill="{fill}" stroke="{PALETTE[1]}" '
            f'stroke-width="2"><title>{esc(label)}: {esc(status)} in {esc(xs[index])}</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return figure("".join(parts), caption)
