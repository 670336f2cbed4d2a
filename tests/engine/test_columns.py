"""tierbook.columns: a compacted column gives back exactly the values it was made from."""

from __future__ import annotations

import datetime as dt
import pickle
from array import array
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tierbook.columns import Coded, compact, join

N = 2000  # (columns shorter than 1,024 values stay lists)


def typed(column: Any) -> list[tuple[str, str]]:
    """Values as (type, repr): 1, 1.0 and True differ, and so do 0.0 and -0.0."""
    return [(type(v).__name__, repr(v)) for v in column]


def test_a_column_of_distinct_numbers_becomes_a_typed_array():
    floats = [i * 0.37 for i in range(N)]
    ints = [i * 1_000_003 for i in range(N)]
    assert compact(floats) == array("d", floats) and typed(compact(floats)) == typed(floats)
    assert compact(ints) == array("q", ints) and typed(compact(ints)) == typed(ints)
    huge = [2 ** 70 + i for i in range(N)]  # beyond 64 bits: left as it is
    assert compact(huge) is huge


def test_a_column_of_few_values_becomes_a_table_and_a_byte_per_account():
    ratings = [round((i % 11) / 10, 1) for i in range(N)]
    flags = [i % 3 == 0 for i in range(N)]
    dates = [None if i % 5 else dt.date(2026, 1, 1 + i % 28) for i in range(N)]
    tiers = [("scale", "enterprise", "growth")[i % 3] for i in range(N)]
    blank = [None] * N
    for column in (ratings, flags, dates, tiers, blank):
        coded = compact(column)
        assert isinstance(coded, Coded) and coded.codes.typecode == "B"
        assert typed(coded) == typed(column)
    many = [i % 700 for i in range(N)] + [None]  # more than 256 distinct values: two bytes
    assert compact(many).codes.typecode == "H" and list(compact(many)) == many


def test_what_a_table_would_merge_is_never_coded():
    mixed = [1, 1.0, True, 0] * (N // 4)  # equal keys of three types
    assert compact(mixed) is mixed
    zeros = [0.0, -0.0, None, 0.5] * (N // 4)  # 0.0 and -0.0 are equal keys
    assert compact(zeros) is zeros
    signed = [0.0, -0.0, 0.5, 0.25] * (N // 4)  # no blank: the array keeps both zeros
    assert typed(compact(signed)) == typed(signed)
    names = [f"Account {i}" for i in range(N)]  # distinct text: the text is the size
    assert compact(names) is names
    short = [0.5] * 10
    assert compact(short) is short


def test_not_a_number_keeps_itself():
    nan = float("nan")
    column = [nan, None, 0.5, float("nan")] * (N // 4)
    coded = compact(column)
    assert typed(coded) == typed(column)
    # found and counted as a list finds it: by identity
    assert nan in coded and coded.count(nan) == column.count(nan) == N // 4
    assert coded == column


def test_a_coded_column_reads_like_a_list():
    column = [("a", "b", None)[i % 3] for i in range(N)]
    coded = compact(column)
    assert isinstance(coded, Coded)
    assert len(coded) == N and coded[4] == "b" and coded[-1] == column[-1]
    part = coded[10:20]
    assert isinstance(part, Coded) and list(part) == column[10:20] and part.table is coded.table
    assert None in coded and "c" not in coded
    assert "a" not in coded[1:2] and "b" in coded[1:2]  # (a slice shares the table)
    assert coded.count(None) == column.count(None) and coded.count("c") == 0
    assert coded == column and coded != column[:-1]
    again = pickle.loads(pickle.dumps(coded))
    assert isinstance(again, Coded) and again == column


def test_halves_join_into_one_compact_column():
    first = [("x", "y")[i % 2] for i in range(N)]
    second = [("y", "z", None)[i % 3] for i in range(N)]
    joined = join(compact(first), compact(second))
    assert isinstance(joined, Coded) and joined.table == ("x", "y", "z", None)
    assert typed(joined) == typed(first + second)
    wide = [i % 200 for i in range(N)], [200 + i % 200 for i in range(N)]
    joined = join(compact(wide[0]), compact(wide[1]))  # 400 values: codes widen to two bytes
    assert joined.codes.typecode == "H" and list(joined) == wide[0] + wide[1]
    floats = [i * 0.5 for i in range(N)], [i * 0.25 for i in range(N)]
    assert join(compact(floats[0]), compact(floats[1])) == array("d", floats[0] + floats[1])


def test_halves_whose_tables_would_merge_join_as_they_are():
    ints = [i % 3 for i in range(N)]
    floats = [float(i % 3) for i in range(N)]
    assert typed(join(compact(ints), compact(floats))) == typed(ints + floats)
    plus = [0.0, 0.5, None] * (N // 3)
    minus = [-0.0, 0.5, None] * (N // 3)
    assert typed(join(compact(plus), compact(minus))) == typed(plus + minus)
    names = [f"n{i}" for i in range(N)]
    tiers = ["a", "b"] * (N // 2)
    assert typed(join(compact(names[:]), compact(tiers))) == typed(names + tiers)


def test_chunks_of_rows_join_a_compact_column_in_place():
    ratings = [i % 200 for i in range(N)]
    column = compact(ratings[:])
    codes = column.codes
    chunk = [200 + i % 100 for i in range(150)]  # new values: the table grows past 256
    assert join(column, chunk[:]) is column and column.codes.typecode == "H"
    assert list(column) == ratings + chunk and codes is not column.codes
    amounts = [i * 1.5 for i in range(N)]
    column = compact(amounts[:])
    assert isinstance(column, array) and join(column, [7.25, 8.5]) is column
    assert typed(column) == typed(amounts + [7.25, 8.5])
    widened = join(column, [None, 1])  # a blank, an int: an array cannot hold them
    assert typed(widened) == typed(amounts + [7.25, 8.5, None, 1])
    counts = compact([i * 10 ** 9 for i in range(N)])
    before = len(counts)
    grown = join(counts, [5, 2 ** 70])  # beyond 64 bits: nothing half added
    assert len(counts) == before and list(grown) == [i * 10 ** 9 for i in range(N)] + [5, 2 ** 70]


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(-2 ** 70, 2 ** 70),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, float("inf")]), st.floats(allow_nan=True),
    st.sampled_from(["enterprise", "scale", ""]), st.text(max_size=3),
    st.dates(dt.date(2020, 1, 1), dt.date(2020, 1, 5)))


@st.composite
def _columns(draw: Any) -> list[Any]:
    """A column of the reader's sort: mostly one kind of value (and blanks), sometimes more."""
    kinds = draw(st.lists(_VALUES, min_size=1, max_size=6))
    picks = draw(st.lists(st.integers(0, len(kinds) - 1), min_size=1, max_size=40))
    repeat = draw(st.sampled_from([1, 40, 60]))  # (a long column: compacted)
    return [kinds[i] for i in picks] * repeat


@settings(max_examples=150, deadline=None)
@given(_columns(), _columns())
def test_any_column_and_any_two_halves_give_back_their_values(first, second):
    assert typed(compact(first)) == typed(first)
    assert typed(join(compact(first[:]), compact(second[:]))) == typed(first + second)
    # a column and its next chunk of rows (as read: a list), joined in place
    column = compact(first[:])
    assert typed(join(column, second[:])) == typed(first + second)


def test_only_a_large_portfolio_is_compacted_unless_asked(monkeypatch):
    from tierbook import columns

    monkeypatch.delenv("TIERBOOK_COMPACT_COLUMNS", raising=False)
    assert not columns.worth_compacting(columns.COMPACT_MIN - 1)
    assert columns.worth_compacting(columns.COMPACT_MIN)
    monkeypatch.setenv("TIERBOOK_COMPACT_COLUMNS", "1")
    assert columns.worth_compacting(10)
