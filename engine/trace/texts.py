"""The trace store's JSON text (one encoder, orjson: sorted keys, compact separators), and
the stored text of a batch of accounts, made from their frame by polars expressions, with
the digest it is kept under: each account's values as JSON arrays, their keys once per
layout (``Layout``).  Used by store.py (writing runs), parts.py (a distributed
run's rows) and schema.py (migrating a store's rows)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

import orjson
import polars as pl

from ..portfolio.frame import python_column


def _json(value: Any) -> str:
    """The store's JSON text, by orjson: sorted keys, compact, text as UTF-8, a date as
    YYYY-MM-DD.  (The reader never gives NaN, an infinity or an integer beyond 64 bits;
    should some value orjson refuses get here, json writes it.)"""
    try:
        return orjson.dumps(value, option=_SORTED).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


_SORTED = orjson.OPT_SORT_KEYS
_text = _json


def row_fields(ruleset: Any) -> tuple[list[str], list[str]]:
    """What an account's stored row holds: its inputs and derived values (sorted), and its
    scores (each with its parts)."""
    inputs = sorted({i.id for i in ruleset.inputs} | {d.id for d in ruleset.derived})
    return inputs, [s.id for s in ruleset.scores]


def _text_of(x: pl.Expr) -> pl.Expr:
    """Text as orjson writes it (its escapes are json's: short ones and ``\\u00XX``)."""
    return pl.lit('"') + x.str.replace_many(_ESCAPED, _ESCAPES) + pl.lit('"')


_ESCAPED = ["\\", '"', *map(chr, range(32))]
_ESCAPES = [orjson.dumps(c).decode()[1:-1] for c in _ESCAPED]


def _value(frame: pl.DataFrame, name: str, whole: bool) -> pl.Expr:
    """A column's values as the store's JSON text (``_json`` of each value): a float as
    polars writes it (orjson's shortest text too), NaN and infinities null as orjson writes
    them, a whole float of a ``number`` input as an integer (as the scalar parser gives
    it), a date as YYYY-MM-DD; a column of another type one value at a time."""
    if name not in frame.columns:
        return pl.lit("null")
    x = pl.col(name)
    dtype = frame[name].dtype
    expr: pl.Expr
    if dtype.is_float():
        expr = pl.when(x.is_finite()).then(x.cast(pl.String))
        if whole:
            whole_int = x.is_finite() & (x == x.floor()) & (x.abs() < 2.0**53)
            expr = pl.when(whole_int).then(x.cast(pl.Int64).cast(pl.String)).otherwise(expr)
    elif dtype.is_integer():
        expr = x.cast(pl.String)
    elif dtype == pl.Boolean:
        expr = pl.when(x).then(pl.lit("true")).when(~x).then(pl.lit("false"))
    elif dtype == pl.Date:
        expr = pl.lit('"') + x.cast(pl.String) + pl.lit('"')
    elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        expr = _text_of(x.cast(pl.String))
    elif dtype == pl.Null:
        expr = pl.lit("null")
    else:
        texts = list(map(_json, python_column(frame[name], whole)))
        expr = pl.lit(pl.Series(name, texts, dtype=pl.String))
    return expr.fill_null("null")


Member = tuple[str, Any]  # (key, a value's text or a nested object's members)


def _sorted(members: Sequence[Member]) -> list[Member]:
    """Members in the order orjson's OPT_SORT_KEYS writes an object's keys."""
    return sorted(members, key=lambda m: m[0])


def _array(members: Sequence[Member]) -> list[pl.Expr]:
    """The pieces of a JSON array of the values of ``members`` in their keys' sorted order
    (a nested object's values as an array of their own)."""
    out: list[pl.Expr] = []
    text = "["
    for i, (_, value) in enumerate(_sorted(members)):
        out.append(pl.lit(text + ("," if i else "")))
        text = ""
        out.extend(_array(value) if isinstance(value, list) else [value])
    out.append(pl.lit(text + "]"))
    return out


def _keys(members: Sequence[Member]) -> list[Any]:
    """The layout of ``members``: each key in sorted order, a nested object's as
    [key, [its keys]]."""
    return [[k, _keys(v)] if isinstance(v, list) else k for k, v in _sorted(members)]


@dataclass(frozen=True)
class Layout:
    """Where each value of the stored arrays belongs: the keys of an account's scores (a
    score's parts as [key, [component ids]]) and of its inputs, as JSON text
    (`value_layouts`; the store's views put the objects back together from them)."""

    scores: str
    inputs: str


def _members(
    frame: pl.DataFrame,
    whole: set[str],
    input_keys: list[str],
    score_ids: list[str],
    parts: Mapping[str, Sequence[tuple[str, str]]],
) -> tuple[list[Member], list[Member]]:
    scores: dict[str, Any] = {}
    for sid in score_ids:
        scores.setdefault(sid, _value(frame, sid, sid in whole))
    for sid in score_ids:  # (a .parts entry wins a clash with a score's id)
        scores[f"{sid}.parts"] = [
            (cid, _value(frame, col, False)) for cid, col in parts.get(sid, [])
        ]
    inputs: list[Member] = [(key, _value(frame, key, key in whole)) for key in input_keys]
    return list(scores.items()), inputs


def layout_of(
    input_keys: list[str], score_ids: list[str], parts: Mapping[str, Sequence[tuple[str, str]]]
) -> Layout:
    """The layout of the rows ``account_texts`` makes for these fields."""
    scores, inputs = _members(pl.DataFrame(), set(), input_keys, score_ids, parts)
    return Layout(_json(_keys(scores)), _json(_keys(inputs)))


def account_texts(
    frame: pl.DataFrame,
    whole: set[str],
    input_keys: list[str],
    score_ids: list[str],
    parts: Mapping[str, Sequence[tuple[str, str]]],
) -> pl.DataFrame:
    """The stored text of some accounts (``frame``: their values and score parts): their ids,
    the values of their scores with each score's parts ({s: value, "s.parts": {...}}) and of
    their inputs and derived values (``input_keys``), each as a JSON array in the order of
    ``layout_of``'s keys, each value as ``_json`` writes it; a name the frame lacks is null
    for every account.  ``whole``: the values whose whole floats are integers; ``parts``:
    per score, (component id, its column of parts)."""
    scores, inputs = _members(frame, whole, input_keys, score_ids, parts)
    ids = frame["account_id"] if "account_id" in frame.columns else None
    if ids is None or ids.dtype != pl.String:  # (as str() of each value)
        plain = python_column(ids, "account_id" in whole) if ids is not None else []
        ids = pl.Series([str(v) for v in plain] or [str(None)] * frame.height, dtype=pl.String)
    return frame.select(
        pl.lit(ids).alias("account_id"),
        pl.concat_str(_array(scores)).alias("scores"),
        pl.concat_str(_array(inputs)).alias("inputs"),
    )


def digests(texts: pl.DataFrame, layout_id: int) -> list[bytes]:
    """``value_digest`` of each account's (scores, inputs) in ``texts``."""
    joined = texts.select(
        pl.concat_str(pl.lit(f"{layout_id}\0"), "scores", pl.lit("\0"), "inputs").cast(pl.Binary)
    )
    return [blake2b(b, digest_size=16).digest() for b in joined.to_series()]


def value_digest(layout_id: int, scores: str, inputs: str) -> bytes:
    """The key an account's stored values are kept under (`account_values.digest`): the
    16-byte BLAKE2b of its layout's id and its scores' and inputs' JSON text, with a NUL
    after each (a character JSON text never holds)."""
    text = f"{layout_id}\0{scores}\0{inputs}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()
