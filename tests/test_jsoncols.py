"""tierbook.jsoncols builds the trace store's JSON a column at a time: the text must be
exactly the one-record-at-a-time encoding, whatever the columns hold."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tierbook.jsoncols import objects
from tierbook.store import _json, _json_sorted

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.15, 1.0, 1, True, 0, False, float("nan")]),
    st.text(max_size=8), st.sampled_from(["", "é", 'say "hi"', "a\nb", "\u2028"]),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 1, 1)),
)
PARTS = st.fixed_dictionaries({"b": st.floats(allow_nan=False), "a": st.one_of(st.none(), st.floats())})
VALUES = st.one_of(SCALARS, PARTS, st.lists(st.text(max_size=3), max_size=3),
                   st.dictionaries(st.text(max_size=2), SCALARS, max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["arr", "z", "a b", "é", "parts"]), VALUES,
                                min_size=5, max_size=5), min_size=1, max_size=30),
       st.booleans())
def test_same_text_as_one_record_at_a_time(records, repeated):
    if repeated:  # repeated values exercise the memo
        records = records * 3
    names = sorted(records[0])
    records = [r for r in records if sorted(r) == names]
    columns = [(name, [r[name] for r in records]) for name in names]
    expected = [_json({name: r[name] for name in names}) for r in records]
    assert objects(columns, len(records), _json_sorted) == expected
    assert objects(columns, len(records), _json) == expected


def test_zero_and_negative_zero_keep_their_sign():
    column = [0.0, -0.0, 0.0, -0.0]
    assert objects([("x", column)], 4, _json_sorted) == [
        '{"x":0.0}', '{"x":-0.0}', '{"x":0.0}', '{"x":-0.0}']


def test_equal_numbers_of_different_types_keep_their_text():
    column = [1, 1.0, True, 1, 1.0, True]
    assert objects([("x", column)], 6, _json_sorted) == [
        '{"x":1}', '{"x":1.0}', '{"x":true}'] * 2


def test_no_columns():
    assert objects([], 2, _json_sorted) == ["{}", "{}"]


@settings(max_examples=200, deadline=None)
@given(st.lists(SCALARS, min_size=1, max_size=6), st.lists(st.integers(0, 5), min_size=64,
                                                            max_size=300))
def test_long_columns_of_few_values_same_text(pool, picks):
    """Long columns of a few distinct values take the memo path (each value encoded once):
    still the one-record text, for -0.0 beside 0.0, NaN, 1 beside 1.0 and True, dates."""
    column = [pool[i % len(pool)] for i in picks]
    expected = [_json({"x": v}) for v in column]
    assert objects([("x", column)], len(column), _json_sorted) == expected


def test_memo_path_is_taken_and_keeps_zero_signs():
    import tierbook.jsoncols as J

    few = [0.15, 0.0, 0.13, None] * 50
    assert J._few(few, set(map(type, few)), _json_sorted) is not None
    signed = [0.15, 0.0, -0.0, None] * 50
    assert J._few(signed, set(map(type, signed)), _json_sorted) is None
    assert objects([("x", signed)], 200, _json_sorted)[:4] == [
        '{"x":0.15}', '{"x":0.0}', '{"x":-0.0}', '{"x":null}']
    mixed = [1, 1.0, True] * 30
    assert J._few(mixed, set(map(type, mixed)), _json_sorted) is None
    many = [float(i) for i in range(200)]
    assert J._few(many, {float}, _json_sorted) is None


def test_account_texts_with_and_without_every_key():
    """Records that all hold every key are read a row at a time and transposed; one lacking a
    key makes every column read key by key, that key null for it.  Same text either way."""
    from tierbook.store import account_texts

    full = [{"account_id": f"A{i}", "arr": 100.5 * i, "tier": "t", "s": 0.5} for i in range(300)]
    parts = [{"s": {"a": 0.5}} for _ in full]
    ids, scores, inputs = account_texts(full, parts, ["account_id", "arr", "tier"], ["s"])
    assert inputs == [_json_sorted({k: r[k] for k in ("account_id", "arr", "tier")}) for r in full]
    assert scores == [_json_sorted({"s": 0.5, "s.parts": {"a": 0.5}})] * 300
    gap = [dict(r) for r in full]
    del gap[7]["arr"]
    _, _, inputs = account_texts(gap, parts, ["account_id", "arr", "tier"], ["s"])
    assert inputs[7] == _json_sorted({"account_id": "A7", "arr": None, "tier": "t"})
    assert inputs[:7] + inputs[8:] == [
        _json_sorted({k: r[k] for k in ("account_id", "arr", "tier")}) for r in full[:7] + full[8:]]
