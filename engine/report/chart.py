"""tiers.png: accounts and ARR per tier, two bar charts side by side, drawn with Pillow.

Every segment draws this chart, so it is drawn without matplotlib (whose import alone
cost a segment more than half a second): two panels of bars on a white 1100 x 420 canvas,
each bar labelled with its value, the tiers' labels below at a slant, in Pillow's own
scalable font. The PNG's bytes depend only on the figures drawn."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from ..assess.result import SegmentResult

WIDTH, HEIGHT = 1100, 420
COLORS = ("#1b4f72", "#2e86c1", "#85c1e9", "#d6eaf8", "#aab7b8", "#566573")
EDGE, INK = "#333333", "#000000"
TICK_SLANT = 15  # degrees, as a label reads upwards to the right

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Panel:
    """One bar chart: its title, one value per tier and how a value is written."""

    title: str
    values: Sequence[float]
    label: Callable[[float], str]


@dataclass(frozen=True)
class Box:
    """The plot area of a panel in pixels: left, top, right, bottom (the axis line)."""

    left: int
    top: int
    right: int
    bottom: int


def tier_chart_png(result: SegmentResult, path: str) -> None:
    rs = result.ruleset
    summary = result.tier_summary()
    labels = [t.label for t in rs.tiers]
    panels = (
        Panel("Accounts per tier", [summary[t.id]["accounts"] for t in rs.tiers], "{:,.0f}".format),
        Panel(
            "ARR per tier ($M)",
            [summary[t.id]["arr"] / 1e6 for t in rs.tiers],
            "${:,.2f}M".format,
        ),
    )
    title = (
        f"{rs.name} {rs.version}: {len(result.evaluation.decisions):,} accounts, "
        f"as of {result.evaluation.as_of.isoformat()}"
    )
    draw_bars(title, labels, panels).save(path, format="PNG", optimize=False, compress_level=6)


def draw_bars(title: str, labels: Sequence[str], panels: Sequence[Panel]) -> Image.Image:
    """The canvas with the title on top and the panels side by side below it."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((WIDTH // 2, 10), title, fill=INK, font=_font(15), anchor="mt")
    slot = WIDTH // len(panels)
    for k, panel in enumerate(panels):
        box = Box(left=k * slot + 80, top=70, right=(k + 1) * slot - 20, bottom=345)
        _panel(image, draw, box, labels, panel)
    return image


def _panel(
    image: Image.Image, draw: ImageDraw.ImageDraw, box: Box, labels: Sequence[str], panel: Panel
) -> None:
    small = _font(12)
    draw.text(
        ((box.left + box.right) // 2, box.top - 14),
        panel.title,
        fill=INK,
        font=_font(16),
        anchor="md",
    )
    low = min(0.0, *panel.values) if panel.values else 0.0
    ticks = nice_ticks(low, max(0.0, *panel.values) if panel.values else 0.0)
    bottom, top = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return box.bottom - (value - bottom) / (top - bottom) * (box.bottom - box.top)

    for tick in ticks:
        ty = round(y(tick))
        draw.line([(box.left - 5, ty), (box.left, ty)], fill=INK, width=1)
        draw.text((box.left - 8, ty), f"{tick:,.10g}", fill=INK, font=small, anchor="rm")
    n = max(len(panel.values), 1)
    step = (box.right - box.left) / n
    for i, (value, name) in enumerate(zip(panel.values, labels)):
        centre = box.left + step * (i + 0.5)
        half = step * 0.4
        edge = sorted((y(0.0), y(value)))
        draw.rectangle(
            [(round(centre - half), round(edge[0])), (round(centre + half), round(edge[1]))],
            fill=COLORS[i % len(COLORS)],
            outline=EDGE,
        )
        draw.text(
            (round(centre), round(min(edge)) - 3),
            panel.label(value),
            fill=INK,
            font=small,
            anchor="md",
        )
        draw.line([(round(centre), box.bottom), (round(centre), box.bottom + 5)], fill=INK)
        _slanted(image, name, small, (round(centre) + 4, box.bottom + 8))
    draw.line([(box.left, box.top), (box.left, box.bottom)], fill=INK, width=1)
    draw.line([(box.left, box.bottom), (box.right, box.bottom)], fill=INK, width=1)


def _slanted(image: Image.Image, text: str, font: Font, top_right: tuple[int, int]) -> None:
    """text turned TICK_SLANT degrees, its upper right corner at top_right (under a tick)."""
    right, lower = font.getbbox(text)[2:]
    label = Image.new("L", (int(right) + 2, int(lower) + 2), 0)
    ImageDraw.Draw(label).text((0, 0), text, fill=255, font=font)
    turned = label.rotate(TICK_SLANT, resample=Image.Resampling.BICUBIC, expand=True)
    x = top_right[0] - turned.width
    image.paste(Image.new("RGB", turned.size, INK), (x, top_right[1]), turned)


def nice_ticks(low: float, high: float) -> list[float]:
    """Round axis values from at or below low to at or above high, five to eight of them,
    spaced 1, 2, 2.5 or 5 times a power of ten (an empty range gives 0 and 1)."""
    if high <= low:
        return [low, low + 1.0]
    raw = (high - low) / 6
    power = 10.0 ** math.floor(math.log10(raw))
    spacing = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.floor(low / spacing)
    last = math.ceil(high * 1.04 / spacing)  # a little room above the tallest bar's label
    return [k * spacing for k in range(first, last + 1)]


def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)
