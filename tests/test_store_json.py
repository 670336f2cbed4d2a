"""The trace store's JSON is written by orjson wherever its text is json's (``texts._json``:
sorted keys, compact, non-ASCII escaped, NaN as NaN, dates as text), and by json where it
would not be: the text must be exactly ``_json``'s, whatever the values."""

from __future__ import annotations

import datetime as dt
import math
import struct
from array import array

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.trace import texts as S
from tierbook.trace.texts import _json, _objects, _text, account_texts

ODD_FLOATS = [0.0, -0.0, 1e-05, -3.5e-07, 9.99e-05, 0.0001, 1e16, -1.5e300, 5e-324,
              float("nan"), float("inf"), float("-inf"), 0.1 + 0.2, 1e15, 123456789.125]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.integers(-2**70, 2**70), st.sampled_from([2**63, 2**64, -2**63 - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(ODD_FLOATS),
    st.sampled_from([0.0, -0.0, 0.15, 1.0, 1, True, 0, False]),
    st.text(max_size=8),
    st.sampled_from(["", "é", 'say "hi"', "a\nb", "\u2028", "\x7f", "😀", "\ud800", "\x00\x1f"]),
    st.dates(), st.datetimes(max_value=dt.datetime(9999, 1, 1)),
)
PARTS = st.fixed_dictionaries({"b": st.floats(allow_nan=False), "a": st.one_of(st.none(), st.floats())})
VALUES = st.one_of(SCALARS, PARTS, st.lists(st.text(max_size=3), max_size=3),
                   st.dictionaries(st.text(max_size=2), SCALARS, max_size=3),
                   st.dictionaries(st.integers(0, 3), SCALARS, max_size=2))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["arr", "z", "a b", "é", "parts"]), VALUES,
                                min_size=5, max_size=5), min_size=1, max_size=30))
def test_rows_have_the_text_json_gives_them(records):
    names = sorted(records[0])
    records = [r for r in records if sorted(r) == names]
    columns = {name: [r[name] for r in records] for name in names}
    assert _objects(columns, len(records)) == [_json(r) for r in records]
    for r in records:
        assert _text(r) == _json(r)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"x": st.one_of(st.none(), st.floats()),
                                       "y": st.one_of(st.none(), st.floats())}),
                min_size=1, max_size=20))
def test_a_column_of_objects_has_the_text_of_its_dicts(parts):
    columns = {"p": {"x": [p["x"] for p in parts], "y": [p["y"] for p in parts]},
               "q": parts}
    assert _objects(columns, len(parts)) == [_json({"p": p, "q": p}) for p in parts]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1))
def test_floats_orjson_is_trusted_with_are_written_as_repr(bits):
    value = struct.unpack("d", struct.pack("Q", bits))[0]
    if S._floats_alike([value]):
        assert orjson.dumps(value).decode() == repr(value)
    assert _text({"v": value}) == _json({"v": value})


def test_this_orjson_writes_plain_floats_as_repr():
    assert S._FLOATS  # or every float would be written by json (exact, but slow)
    for value in (0.15, 447.65, 0.0001, 123456.78, 9999999999999998.0, -0.0):
        assert S._floats_alike([value])
    for value in ODD_FLOATS[2:5] + ODD_FLOATS[6:12]:
        assert not S._floats_alike([value]) or orjson.dumps(value).decode() == repr(value)


def test_plain_rows_are_written_by_orjson_alone(monkeypatch):
    def refused(value):
        raise AssertionError(f"json wrote {value!r}")
    monkeypatch.setattr(S, "_json", refused)
    columns = {"arr": [447.65, 0.0, 12.5], "id": ["A-1", "B/2", 'C "3"'], "n": [1, None, -2],
               "d": [dt.date(2026, 1, 2), None, dt.date(1, 1, 1)], "ok": [True, False, None],
               "s.parts": {"b": [0.5, 1.0, None], "a": [0.25, 0.0, 1.0]}}
    texts = _objects(columns, 3)
    assert texts[0] == ('{"arr":447.65,"d":"2026-01-02","id":"A-1","n":1,"ok":true,'
                        '"s.parts":{"a":0.25,"b":0.5}}')


def test_only_the_odd_rows_are_written_by_json(monkeypatch):
    written = []
    real = S._json

    def counted(value):
        written.append(value)
        return real(value)
    monkeypatch.setattr(S, "_json", counted)
    column = [0.5] * 10 + [1e-05] + [0.25] * 5 + [float("nan")]
    names = ["ok"] * 20 + ["Société"] + ["ok"] * 5
    texts = _objects({"v": column + [0.5] * 9, "name": names}, 26)
    assert len(written) == 3 and written[0]["v"] == 1e-05 and math.isnan(written[1]["v"])
    assert written[2]["name"] == "Société"
    assert texts[10] == '{"name":"ok","v":1e-05}' and texts[16] == '{"name":"ok","v":NaN}'
    assert texts[20] == '{"name":"Soci\\u00e9t\\u00e9","v":0.5}'


@pytest.mark.parametrize("column", [
    array("d", [0.5, -0.0, 1e-07, 3.0, 2.5]),
    array("q", [1, 2**62, -5, 0, 7]),
    [1, 1.0, True, 0, -0.0],
])
def test_typed_columns_have_their_values_text(column):
    assert _objects({"x": column}, 5) == [_json({"x": v}) for v in column]


def test_no_columns():
    assert _objects({}, 2) == ["{}", "{}"]
    assert _objects({"p": {}}, 2) == ['{"p":{}}', '{"p":{}}']


def test_account_texts_from_columns_a_missing_one_null():
    """An account's stored texts are read from the evaluation's columns; a name no column
    holds is null for every account."""
    rows = [{"account_id": f"A{i}", "arr": 100.5 * i, "tier": "t", "s": 0.5} for i in range(300)]
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    parts = {"s": {"a": [0.5] * 300}}
    ids, scores, inputs = account_texts(columns, parts, ["account_id", "arr", "tier"], ["s"])
    assert ids == [r["account_id"] for r in rows]
    assert inputs == [_json({k: r[k] for k in ("account_id", "arr", "tier")}) for r in rows]
    assert scores == [_json({"s": 0.5, "s.parts": {"a": 0.5}})] * 300
    del columns["arr"]
    _, _, inputs = account_texts(columns, parts, ["account_id", "arr", "tier"], ["s"])
    assert inputs[7] == _json({"account_id": "A7", "arr": None, "tier": "t"})
