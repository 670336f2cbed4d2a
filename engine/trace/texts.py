"""The trace store's JSON text (one encoder, orjson: sorted keys, compact separators), and
the stored text of a batch of accounts, made from their frame by polars expressions, with
the digest it is kept under.  Used by store.py (writing runs), parts.py (a distributed
run's rows) and schema.py (migrating a store's rows)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
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


def _object(members: Sequence[Member]) -> list[pl.Expr]:
    """The pieces of a JSON object of ``members`` (key, value text or nested members), keys
    sorted as orjson's OPT_SORT_KEYS sorts them."""
    out: list[pl.Expr] = []
    text = "{"
    for i, (key, value) in enumerate(sorted(members, key=lambda m: m[0])):
        text += ("," if i else "") + orjson.dumps(key).decode() + ":"
        out.append(pl.lit(text))
        text = ""
        out.extend(_object(value) if isinstance(value, list) else [value])
    out.append(pl.lit(text + "}"))
    return out


def account_texts(
    frame: pl.DataFrame,
    whole: set[str],
    input_keys: list[str],
    score_ids: list[str],
    parts: Mapping[str, Sequence[tuple[str, str]]],
) -> pl.DataFrame:
    """The stored text of some accounts (``frame``: their values and score parts): their ids,
    their scores with each score's parts ({s: value, "s.parts": {...}}, a .parts entry
    winning a clash) and their inputs and derived values (``input_keys``), as JSON objects
    with sorted keys, each as ``_json`` writes the account's dict; a name the frame lacks is
    null for every account.  ``whole``: the values whose whole floats are integers;
    ``parts``: per score, (component id, its column of parts)."""
    scores: dict[str, Any] = {}
    for sid in score_ids:
        scores.setdefault(sid, _value(frame, sid, sid in whole))
    for sid in score_ids:
        scores[f"{sid}.parts"] = [
            (cid, _value(frame, col, False)) for cid, col in parts.get(sid, [])
        ]
    inputs: list[Member] = [(key, _value(frame, key, key in whole)) for key in input_keys]
    ids = frame["account_id"] if "account_id" in frame.columns else None
    if ids is None or ids.dtype != pl.String:  # (as str() of each value)
        plain = python_column(ids, "account_id" in whole) if ids is not None else []
        ids = pl.Series([str(v) for v in plain] or [str(None)] * frame.height, dtype=pl.String)
    return frame.select(
        pl.lit(ids).alias("account_id"),
        pl.concat_str(_object(list(scores.items()))).alias("scores"),
        pl.concat_str(_object(inputs)).alias("inputs"),
    )


def digests(texts: pl.DataFrame) -> list[bytes]:
    """``value_digest`` of each account's (scores, inputs) in ``texts``."""
    joined = texts.select(pl.concat_str("scores", pl.lit("\0"), "inputs").cast(pl.Binary))
    return [blake2b(b, digest_size=16).digest() for b in joined.to_series()]


def value_digest(scores: str, inputs: str) -> bytes:
    """The key an account's stored values are kept under (`account_values.digest`): the
    16-byte BLAKE2b of its scores' and inputs' JSON text, with a NUL between them (a
    character JSON text never holds)."""
    return hashlib.blake2b(scores.encode() + b"\0" + inputs.encode(), digest_size=16).digest()
