"""model.md's largest accounts (``summary.largest``): the ``count`` accounts with the
largest ARR, a blank one as 0, ties by account id then file order -- what sorting every
account in Python gives, whether ``count`` is below the book's size (found without a full
sort) or not."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.report.summary import largest

ARR = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 5.0, 1e9, 12.5]),
                st.floats(-1e6, 1e9, allow_nan=False))
IDS = st.sampled_from(["A", "B", "b", "é", "A1", ""])


def in_python(arrs: list[float | None], ids: list[str], count: int) -> list[int]:
    return sorted(range(len(arrs)), key=lambda i: (-(arrs[i] or 0.0), ids[i], i))[:count]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ARR, IDS), max_size=40), st.integers(0, 50))
def test_the_largest_are_what_a_full_sort_gives(rows: list[tuple[float | None, str]],
                                                count: int) -> None:
    arrs, ids = [a for a, _ in rows], [i for _, i in rows]
    frame = pl.DataFrame({"account_id": pl.Series(ids, dtype=pl.String),
                          "arr": pl.Series(arrs, dtype=pl.Float64)})
    assert largest(frame, "arr", count) == in_python(arrs, ids, count)


def test_no_arr_column_keeps_the_order_of_the_ids() -> None:
    frame = pl.DataFrame({"account_id": ["b", "a", "c", "a"]})
    assert largest(frame, "arr", 3) == [1, 3, 0]
