"""The trace store's JSON text has one encoder (``texts._json``: orjson, sorted keys,
compact, text as UTF-8, dates as YYYY-MM-DD): a batch of accounts' values, made from their
frame by polars (``account_texts``) as JSON arrays of their layout's keys, reads back
through the store's SQL (the views, ``parts.as_objects``) as exactly ``_json`` of each
account's dicts, and every value the reader can give reads back as itself."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import sqlite3

import orjson
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.portfolio.frame import python_column
from tierbook.trace.parts import as_objects
from tierbook.trace.schema import SCHEMA
from tierbook.trace.texts import _json, account_texts, digests, layout_of, value_digest
from tierbook.trace.values import layout_id

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


def _stored(texts, input_keys, score_ids, parts) -> tuple[list[str], list[str], int]:
    """The accounts' scores and inputs as the store gives them back (its views' SQL)."""
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.executescript(SCHEMA)
        layout = layout_id(db, layout_of(input_keys, score_ids, parts))
        back = [as_objects(db, layout, s, i)
                for s, i in zip(texts["scores"].to_list(), texts["inputs"].to_list())]
    return [s for s, _ in back], [i for _, i in back], layout


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, dt.date):
        return b == a.isoformat()
    if isinstance(a, float):
        return isinstance(b, float) and a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


FLOAT = st.one_of(st.none(), st.floats(), st.floats(width=32), st.sampled_from(FLOATS + [72.0, -3.0]))
TEXT = st.one_of(st.text(max_size=8), st.sampled_from(
    ["", "é", 'say "hi"', "a\nb", "\u2028", "\x7f", "😀", "\x00\x1f", "\\", "\b\f\r\t"]))
KINDS = {  # each kind of column the evaluation's frame holds, with awkward values
    pl.Float64: FLOAT, pl.Int64: st.none() | st.integers(-2**63, 2**63 - 1),
    pl.String: st.none() | TEXT, pl.Boolean: st.none() | st.booleans(),
    pl.Date: st.none() | st.dates(), pl.Null: st.none(),
}


@st.composite
def frames(draw):
    n = draw(st.integers(1, 25))
    names = draw(st.lists(st.sampled_from(["arr", "z", "a b", "é", "parts", "n", "s", "s.parts"]),
                          min_size=1, max_size=6, unique=True))
    columns = {"account_id": pl.Series(draw(st.lists(TEXT, min_size=n, max_size=n)),
                                       dtype=pl.String)}
    for name in names + ["p:a", "p:b"]:
        dtype = draw(st.sampled_from(list(KINDS)))
        columns[name] = pl.Series(name, draw(st.lists(KINDS[dtype], min_size=n, max_size=n)),
                                  dtype=dtype)
    return pl.DataFrame(columns), names


def _rows(frame, whole, input_keys, score_ids, parts):
    """Each account's (scores, inputs) dicts, as the one-at-a-time encoder takes them."""
    values = {name: python_column(frame[name], name in whole) for name in frame.columns}
    n = frame.height
    for i in range(n):
        def get(name):
            return values[name][i] if name in values else None
        scores = {}
        for sid in score_ids:
            scores.setdefault(sid, get(sid))
        for sid in score_ids:
            scores[f"{sid}.parts"] = {cid: values[col][i] for cid, col in parts.get(sid, [])}
        yield scores, {k: get(k) for k in input_keys}


@settings(max_examples=400, deadline=None)
@given(frames(), st.booleans())
def test_each_row_is_the_text_of_its_dicts_and_reads_back_as_them(drawn, whole_arr):
    frame, names = drawn
    whole = {"arr", "n"} if whole_arr else set()
    input_keys = sorted(set(names) | {"account_id", "missing"})
    score_ids = [n for n in names if n in ("s", "z", "arr")]
    parts = {sid: [("b", "p:b"), ("a", "p:a")] for sid in score_ids[:1]}
    texts = account_texts(frame, whole, input_keys, score_ids, parts)
    assert texts["account_id"].to_list() == frame["account_id"].to_list()
    rows = list(_rows(frame, whole, input_keys, score_ids, parts))
    scores_back, inputs_back, layout = _stored(texts, input_keys, score_ids, parts)
    assert scores_back == [_json(s) for s, _ in rows]
    assert inputs_back == [_json(i) for _, i in rows]
    for (scores, inputs), text in zip(rows, inputs_back):
        back = _read(text)
        assert list(back) == sorted(inputs)  # (keys sorted: one text per content)
        for k, v in inputs.items():
            if not (isinstance(v, float) and not math.isfinite(v)):  # (orjson: null)
                assert _same(v, back[k])
    assert digests(texts, layout) == [value_digest(layout, s, i) for s, i in
                                      zip(texts["scores"].to_list(), texts["inputs"].to_list())]


def test_the_text_of_plain_rows():
    frame = pl.DataFrame({"arr": [447.65, 0.0, 12.5], "id": ["A-1", "Société", 'C "3"'],
                          "n": [1, None, -2],
                          "d": [dt.date(2026, 1, 2), None, dt.date(1, 1, 1)],
                          "ok": [True, False, None], "s": [0.5, 1.0, None],
                          "s:b": [0.5, 1.0, None], "s:a": [0.25, 0.0, 8.19027710167175e-05],
                          "account_id": ["A", "B", "C"]})
    keys, parts = ["arr", "d", "id", "n", "ok"], {"s": [("b", "s:b"), ("a", "s:a")]}
    texts = account_texts(frame, set(), keys, ["s"], parts)
    assert texts["inputs"][0] == '[447.65,"2026-01-02","A-1",1,true]'  # (what is stored)
    assert texts["scores"][0] == '[0.5,[0.25,0.5]]'
    assert layout_of(keys, ["s"], parts).scores == '["s",["s.parts",["a","b"]]]'
    scores, inputs, _ = _stored(texts, keys, ["s"], parts)
    assert inputs[0] == '{"arr":447.65,"d":"2026-01-02","id":"A-1","n":1,"ok":true}'
    assert scores[0] == '{"s":0.5,"s.parts":{"a":0.25,"b":0.5}}'
    assert '"id":"Société"' in inputs[1]  # (UTF-8, as the CSV had it)
    assert '"a":0.0000819027710167175' in scores[2]  # (plain digits; reads back as the float)
    assert _read(scores[2])["s.parts"]["a"] == 8.19027710167175e-05


def test_a_value_orjson_refuses_is_still_written():
    """Not a value the reader gives (its integers are 64-bit), but never a lost row."""
    big = 2**70
    try:
        orjson.dumps(big)
        refused = False
    except orjson.JSONEncodeError:
        refused = True
    assert refused
    assert _json({"n": big}) == '{"n":%d}' % big


def test_no_columns():
    frame = pl.DataFrame({"account_id": ["A", "B"]})
    texts = account_texts(frame, set(), [], ["p"], {})
    assert texts["inputs"].to_list() == ["[]", "[]"]
    scores, inputs, _ = _stored(texts, [], ["p"], {})
    assert inputs == ["{}", "{}"]
    assert scores == ['{"p":null,"p.parts":{}}'] * 2


def test_account_texts_a_missing_column_null():
    """An account's stored texts are read from the evaluation's columns; a name no column
    holds is null for every account."""
    rows = [{"account_id": f"A{i}", "arr": 100.5 * i, "tier": "t", "s": 0.5} for i in range(300)]
    frame = pl.DataFrame(rows).with_columns(pl.col("s").alias("s:a"))
    parts = {"s": [("a", "s:a")]}
    keys = ["account_id", "arr", "tier"]
    texts = account_texts(frame, set(), keys, ["s"], parts)
    assert texts["account_id"].to_list() == [r["account_id"] for r in rows]
    scores, inputs, _ = _stored(texts, keys, ["s"], parts)
    assert inputs == [_json({k: r[k] for k in keys}) for r in rows]
    assert scores == [_json({"s": 0.5, "s.parts": {"a": 0.5}})] * 300
    texts = account_texts(frame.drop("arr"), set(), keys, ["s"], parts)
    assert texts["inputs"][7] == '["A7",null,"t"]'
    assert _stored(texts, keys, ["s"], parts)[1][7] == _json(
        {"account_id": "A7", "arr": None, "tier": "t"})
