"""The tiers' ARR as the report files state it: summed account by account, in the book's
order, so the cents come out the same as a plain running total (engine/assess/sums.py)."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.assess.sums import arr_per_tier

TIERS = st.sampled_from(["strategic", "scaled", "tech_touch"])
ARR = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.sampled_from([0.0, -0.0, 0.1, 0.2, 1e16, -1e16, 1e-300]),
)


def running_totals(tiers: list[str], arrs: list[float | None]) -> dict[str, tuple[int, float]]:
    out: dict[str, list[float]] = {}
    for tier, arr in zip(tiers, arrs, strict=True):
        count, total = out.setdefault(tier, [0, 0.0])
        out[tier] = [count + 1, total + float(arr or 0.0)]
    return {t: (int(c), s) for t, (c, s) in out.items()}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (
        a == b and math.copysign(1, a) == math.copysign(1, b)
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TIERS, ARR), max_size=60))
def test_the_same_bits_as_a_running_total_in_book_order(
    rows: list[tuple[str, float | None]],
) -> None:
    tiers = [t for t, _ in rows]
    arrs = [a for _, a in rows]
    got = arr_per_tier(tiers, pl.Series(arrs, dtype=pl.Float64))
    want = running_totals(tiers, arrs)
    assert list(got) == list(want)  # the tiers in the order the book first meets them
    for tier, (count, total) in want.items():
        assert got[tier][0] == count
        assert same(got[tier][1], total), (tier, got[tier][1], total)


def test_a_sum_that_pairwise_addition_would_round_differently() -> None:
    arrs = [1e16, 1.0, 1.0, 1.0, 1.0]  # 1e16 + 1 rounds back to 1e16, four times
    got = arr_per_tier(["a"] * 5, pl.Series(arrs))
    assert got == {"a": (5, 1e16)}
    assert float(sum(pl.Series(arrs).to_numpy()[1:])) + 1e16 != 1e16  # (the other order)


def test_whole_dollars_no_arr_column_and_an_empty_book() -> None:
    assert arr_per_tier(["a", "b", "a"], pl.Series([1, 2, 3])) == {"a": (2, 4.0), "b": (1, 2.0)}
    assert arr_per_tier(["a", "b"], None) == {"a": (1, 0.0), "b": (1, 0.0)}
    assert arr_per_tier([], pl.Series([], dtype=pl.Float64)) == {}
