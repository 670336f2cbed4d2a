"""The trace store's JSON text (one encoder, orjson: sorted keys, compact separators), and
the stored text of a batch of accounts with the digest it is kept under.  Used by store.py (writing runs) and schema.py
(migrating a store's rows)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any

import orjson


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

Columns = Mapping[str, Sequence[Any] | Mapping[str, Sequence[Any]]]


def _objects(columns: Columns, count: int) -> list[str]:
    """``count`` JSON objects (``_json``), object i holding {name: column[i]} for each of
    ``columns`` (a column given as a mapping of columns: an object of them).  Each row's
    dict is built as it is written and let go at once."""
    rows = _dicts(
        {
            name: _dicts(column, count) if isinstance(column, Mapping) else column
            for name, column in columns.items()
        },
        count,
    )
    try:
        return list(map(bytes.decode, map(orjson.dumps, rows, repeat(None), repeat(_SORTED))))
    except orjson.JSONEncodeError:
        return list(map(_json, _dicts({n: _column(c, count) for n, c in columns.items()}, count)))


def _column(column: Sequence[Any] | Mapping[str, Sequence[Any]], count: int) -> Iterable[Any]:
    return _dicts(column, count) if isinstance(column, Mapping) else column


def _dicts(columns: Mapping[str, Iterable[Any]], count: int) -> Iterator[dict[str, Any]]:
    """Each row's dict of ``columns``, as it is asked for."""
    if not columns:
        return ({} for _ in range(count))
    return map(dict, map(zip, repeat(list(columns)), zip(*columns.values())))


def row_fields(ruleset: Any) -> tuple[list[str], list[str]]:
    """What an account's stored row holds: its inputs and derived values (sorted), and its
    scores (each with its parts)."""
    inputs = sorted({i.id for i in ruleset.inputs} | {d.id for d in ruleset.derived})
    return inputs, [s.id for s in ruleset.scores]


def account_texts(
    columns: Mapping[str, Sequence[Any]],
    parts: Mapping[str, Mapping[str, Sequence[Any]]],
    input_keys: list[str],
    score_ids: list[str],
) -> tuple[list[str], list[str], list[str]]:
    """The stored text of some accounts: their ids, their scores with each score's parts
    ({s: value, "s.parts": {...}}, a .parts entry winning a clash) and their inputs and derived
    values (``input_keys``, sorted), as JSON objects with sorted keys (``_objects``).
    ``columns``: the accounts' values by name (a name missing: null for every account);
    ``parts``: per score, each component's column of parts."""
    n = len(columns["account_id"])
    blank = [None] * n

    def column(name: str) -> Sequence[Any]:
        return columns.get(name, blank)

    score_columns: dict[str, Sequence[Any] | Mapping[str, Sequence[Any]]] = {}
    for sid in score_ids:
        score_columns.setdefault(sid, column(sid))
    for sid in score_ids:
        score_columns[f"{sid}.parts"] = parts.get(sid, {})
    scores = _objects(dict(sorted(score_columns.items())), n)
    inputs = _objects({key: column(key) for key in input_keys}, n)
    ids = list(map(str, column("account_id")))
    return ids, scores, inputs


def value_digest(scores: str, inputs: str) -> bytes:
    """The key an account's stored values are kept under (`account_values.digest`): the
    16-byte BLAKE2b of its scores' and inputs' JSON text, with a NUL between them (a
    character JSON text never holds)."""
    return hashlib.blake2b(scores.encode() + b"\0" + inputs.encode(), digest_size=16).digest()
