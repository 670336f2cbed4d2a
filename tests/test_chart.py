"""tiers.png as a person sees it: two panels of bars whose heights follow the values, in
the tiers' colours, on a canvas of the size the goldens record; and its axis values."""

from __future__ import annotations

import pytest
from PIL import Image

from tierbook.report.chart import COLORS, HEIGHT, WIDTH, Panel, draw_bars, nice_ticks


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _bar_heights(image: Image.Image, x_from: int, x_to: int) -> dict[int, int]:
    """For each tier colour, the tallest run of its pixels in one column of [x_from, x_to)."""
    px = image.load()
    assert px is not None
    heights: dict[int, int] = {}
    for k, colour in enumerate(COLORS):
        rgb = _rgb(colour)
        for x in range(x_from, x_to):
            run = sum(1 for y in range(image.height) if px[x, y] == rgb)
            heights[k] = max(heights.get(k, 0), run)
    return heights


def test_bars_are_as_tall_as_their_values_in_both_panels() -> None:
    labels = ["High touch", "Mid touch", "Tech touch"]
    image = draw_bars("t", labels, [
        Panel("Accounts", [100, 400, 200], "{:,.0f}".format),
        Panel("ARR", [3.0, 1.0, 0.0], "${:,.2f}M".format),
    ])
    assert image.size == (WIDTH, HEIGHT)
    left = _bar_heights(image, 0, WIDTH // 2)
    assert left[1] == pytest.approx(4 * left[0], abs=3) and left[2] == pytest.approx(2 * left[0], abs=3)
    right = _bar_heights(image, WIDTH // 2, WIDTH)
    assert right[0] == pytest.approx(3 * right[1], abs=3) and right[2] == 0  # (a zero bar: its edge only)


def test_more_tiers_than_colours_cycle_and_an_empty_portfolio_draws() -> None:
    labels = [f"tier {i}" for i in range(8)]
    image = draw_bars("t", labels, [Panel("a", [1.0] * 8, str), Panel("b", [0.0] * 8, str)])
    assert _bar_heights(image, 0, WIDTH // 2)[0] > 0
    empty = draw_bars("t", labels[:2], [Panel("a", [0, 0], str), Panel("b", [0, 0], str)])
    assert empty.size == (WIDTH, HEIGHT)


@pytest.mark.parametrize("low,high,expected", [
    (0, 53101, [0, 10000, 20000, 30000, 40000, 50000, 60000]),
    (0, 3394.47, [0, 1000, 2000, 3000, 4000]),
    (0, 0, [0, 1]),
    (0, 7, [0, 2, 4, 6, 8]),
    (-20, 100, [-20, 0, 20, 40, 60, 80, 100, 120]),
])
def test_axis_values_are_round_and_cover_the_bars(low, high, expected) -> None:
    assert nice_ticks(low, high) == pytest.approx(expected)
