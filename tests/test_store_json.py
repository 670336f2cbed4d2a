"""The trace store's JSON text has one encoder (``texts._json``: orjson, sorted keys,
compact, text as UTF-8, dates as YYYY-MM-DD): a batch of rows (``_objects``) is written
exactly as each row alone, and every value the reader can give reads back as itself."""

from __future__ import annotations

import datetime as dt
import json
import math
from array import array

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.trace.texts import _json, _objects, account_texts

FLOATS = [0.0, -0.0, 1e-05, -3.5e-07, 9.99e-05, 0.0001, 1e16, -1.5e300, 5e-324, 0.1 + 0.2,
          1e15, 123456789.125]
SCALARS = st.one_of(  # (what the reader gives: no NaN, no infinity, 64-bit integers)
    st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(FLOATS),
    st.text(max_size=8).filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)),
    st.sampled_from(["", "é", 'say "hi"', "a\nb", "\u2028", "\x7f", "😀", "\x00\x1f"]),
    st.dates(),
)
VALUES = st.one_of(SCALARS, st.dictionaries(st.text(max_size=2), SCALARS, max_size=3))


def _read(text: str):
    return json.loads(text)


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, dt.date):
        return b == a.isoformat()
    if isinstance(a, float):
        return isinstance(b, float) and a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["arr", "z", "a b", "é", "parts"]), VALUES,
                                min_size=5, max_size=5), min_size=1, max_size=30))
def test_a_batch_is_written_as_each_row_and_reads_back_as_it(records):
    names = sorted(records[0])
    records = [r for r in records if sorted(r) == names]
    columns = {name: [r[name] for r in records] for name in names}
    texts = _objects(columns, len(records))
    assert texts == [_json(r) for r in records]
    for record, text in zip(records, texts):
        assert _same(record, _read(text))
        assert list(_read(text)) == sorted(record)  # (keys sorted: one text per content)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"x": st.one_of(st.none(), st.floats(allow_nan=False)),
                                       "y": st.one_of(st.none(), st.floats(allow_nan=False))}),
                min_size=1, max_size=20))
def test_a_column_of_objects_has_the_text_of_its_dicts(parts):
    columns = {"p": {"x": [p["x"] for p in parts], "y": [p["y"] for p in parts]},
               "q": parts}
    assert _objects(columns, len(parts)) == [_json({"p": p, "q": p}) for p in parts]


def test_the_text_of_plain_rows():
    columns = {"arr": [447.65, 0.0, 12.5], "id": ["A-1", "Société", 'C "3"'], "n": [1, None, -2],
               "d": [dt.date(2026, 1, 2), None, dt.date(1, 1, 1)], "ok": [True, False, None],
               "s.parts": {"b": [0.5, 1.0, None], "a": [0.25, 0.0, 8.19027710167175e-05]}}
    texts = _objects(columns, 3)
    assert texts[0] == ('{"arr":447.65,"d":"2026-01-02","id":"A-1","n":1,"ok":true,'
                        '"s.parts":{"a":0.25,"b":0.5}}')
    assert '"id":"Société"' in texts[1]  # (UTF-8, as the CSV had it)
    assert '"a":0.0000819027710167175' in texts[2]  # (plain digits; reads back as the float)
    assert _read(texts[2])["s.parts"]["a"] == 8.19027710167175e-05


def test_a_value_orjson_refuses_is_still_written():
    """Not a value the reader gives (its integers are 64-bit), but never a lost row."""
    big = 2**70
    try:
        orjson.dumps(big)
        refused = False
    except orjson.JSONEncodeError:
        refused = True
    assert refused
    assert _objects({"n": [1, big]}, 2) == ['{"n":1}', '{"n":%d}' % big]
    assert _json({"n": big}) == '{"n":%d}' % big


def test_typed_columns_have_their_values_text():
    for column in (array("d", [0.5, -0.0, 1e-07, 3.0, 2.5]), array("q", [1, 2**62, -5, 0, 7]),
                   [1, 1.0, True, 0, -0.0]):
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
