"""The trace store's JSON text: what json writes (sorted keys, compact separators), written
by orjson at C speed wherever its text is the same, and the stored text of a batch of
accounts with the digest it is kept under.  Used by store.py (writing runs) and schema.py
(migrating a store's rows)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from typing import Any

import orjson


def _json(value: Any) -> str:
    """The store's JSON text: sorted keys, compact separators, anything JSON has no type
    for (a date) as its text, non-ASCII escaped, NaN and infinities as NaN and Infinity."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


# Most of a run's JSON is written by orjson (at C speed) instead, wherever its text is the
# same as ``_json``'s: for text (whose characters outside ASCII, and DEL, json escapes and
# orjson does not: checked on the text written), None, booleans, integers (up to 64 bits:
# orjson refuses larger ones), dates (YYYY-MM-DD both) and floats as in ``_floats_alike``.
# Anything else (a datetime, a key that is not text, a subclass) is written by json.
_SORTED = orjson.OPT_SORT_KEYS
_SCALARS = frozenset({str, int, bool, type(None), dt.date})


def _floats_alike(floats: list[float]) -> bool:
    """Whether orjson writes each of ``floats`` as Python's repr (so as json) does.  It does
    for 0 and for 1e-4 <= |x| < 1e16 (the shortest digits that read back, in plain
    notation); others it writes with an exponent or as 0.0000..., NaN and infinities as
    null, which are looked for in its text (``_FLOATS``: the installed orjson does so)."""
    if not _FLOATS:
        return False
    text = orjson.dumps(floats)
    return b"e" not in text and b"null" not in text and b"0.0000" not in text


def _orjson_floats_as_repr() -> bool:
    """Whether this orjson writes floats as ``_floats_alike`` takes it to (the text of the
    installed version is checked, not assumed)."""
    probe = [
        0.0,
        -0.0,
        0.1 + 0.2,
        1 / 3,
        2 / 3,
        100.0,
        123456789.125,
        5e-324,
        1.7976931348623157e308,
    ]
    probe += [
        s * m * 10.0**e
        for e in range(-12, 20)
        for s in (1, -1)
        for m in (1, 1.5, 1.2345678901234567, 9.999999999999998, 3.0000000000000004)
    ]
    for value in probe:
        text = orjson.dumps([value])
        if (
            b"e" not in text
            and b"null" not in text
            and b"0.0000" not in text
            and text[1:-1].decode() != repr(value)
        ):
            return False
    return True


_FLOATS = _orjson_floats_as_repr()


def _alike(values: Sequence[Any]) -> bool:
    """Whether orjson writes every one of ``values`` (scalars, or dicts of them) as
    ``_json`` does, text outside ASCII aside (``_objects`` checks that): a pass or two in C."""
    kinds = set(map(type, values))
    if kinds <= _SCALARS:
        return True
    if float in kinds:
        floats = (
            values
            if kinds == {float} and isinstance(values, list)
            else list(filter(float.__instancecheck__, values))
        )
        if not _floats_alike(floats):
            return False
        kinds.discard(float)
    if dict in kinds:
        dicts = list(filter(dict.__instancecheck__, values))
        if not (
            set(map(type, chain.from_iterable(dicts))) <= {str}
            and _alike(list(chain.from_iterable(map(dict.values, dicts))))
        ):
            return False
        kinds.discard(dict)
    return kinds <= _SCALARS


def _value_alike(value: Any) -> bool:
    """``_alike`` for one value, of any kind."""
    kind = value.__class__
    if kind in _SCALARS:
        return True
    if kind is float:
        return _floats_alike([value])
    if kind is dict:
        return all(k.__class__ is str for k in value) and all(map(_value_alike, value.values()))
    if kind is list or kind is tuple:
        return all(map(_value_alike, value))
    return False


def _odd_rows(column: Sequence[Any]) -> list[int]:
    """The rows of ``column`` whose value orjson would not write as ``_json`` does."""
    if _alike(column):
        return []
    return [i for i, value in enumerate(column) if not _value_alike(value)]


def _one(value: Any) -> str:
    """``_json(value)``, by orjson where its text is the same (``value`` alike)."""
    try:
        text = orjson.dumps(value, option=_SORTED).decode()
    except orjson.JSONEncodeError:  # (an integer beyond 64 bits, text with a surrogate, ...)
        return _json(value)
    return text if text.isascii() and "\x7f" not in text else _json(value)


def _text(value: Any) -> str:
    """``_json(value)``, by orjson where its text is the same."""
    return _one(value) if _value_alike(value) else _json(value)


Columns = Mapping[str, Sequence[Any] | Mapping[str, Sequence[Any]]]


def _objects(columns: Columns, count: int) -> list[str]:
    """``count`` JSON objects as ``_json`` writes them, object i holding {name: column[i]}
    for each of ``columns`` (a column given as a mapping of columns: an object of them).
    By orjson where its text is the same: not for the rows holding a value orjson writes
    otherwise, nor any that orjson refuses or whose text is not ASCII.  Each row's dict is
    built as it is written and let go at once (a batch of them kept alive would be moved to
    the collector's oldest generation, and walked by its full collections)."""
    odd: set[int] = set()
    for column in columns.values():
        for inner in column.values() if isinstance(column, Mapping) else (column,):
            odd.update(_odd_rows(inner))

    def row(i: int) -> dict[str, Any]:
        return {
            name: {k: c[i] for k, c in column.items()} if isinstance(column, Mapping) else column[i]
            for name, column in columns.items()
        }

    if odd:
        return [_json(row(i)) if i in odd else _one(row(i)) for i in range(count)]
    rows = _dicts(
        {
            name: _dicts(column, count) if isinstance(column, Mapping) else column
            for name, column in columns.items()
        },
        count,
    )
    try:
        texts = list(map(bytes.decode, map(orjson.dumps, rows, repeat(None), repeat(_SORTED))))
    except orjson.JSONEncodeError:  # (an integer beyond 64 bits, text with a surrogate, ...)
        return [_one(row(i)) for i in range(count)]
    if all(map(str.isascii, texts)) and not any(map(str.__contains__, texts, repeat("\x7f"))):
        return texts
    return [
        text if text.isascii() and "\x7f" not in text else _json(row(i))
        for i, text in enumerate(texts)
    ]


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
