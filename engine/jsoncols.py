"""JSON text of many records at once, built a column at a time.

The trace store keeps every account's values as a JSON object (sorted keys, compact
separators, dates as ISO text).  Encoding 100,000 such objects one by one is dominated by
turning the same numbers into text again and again: a rating of 0.15 or a seat count of 4
occurs thousands of times.  Here a column of few distinct values (a tier, a rating) has each
value encoded once; any other column is encoded in one pass of the C function json itself
uses for its type (or, for dates and mixed columns, each distinct value once); and each
record's text is joined from its columns' pieces.

The text is exactly what ``tierbook.store._json`` gives for each record (the tests compare
them on generated records); a column this cannot do exactly -- numbers of several types,
booleans beside numbers -- is encoded value by value.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from itertools import repeat
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from math import copysign, isfinite
from operator import eq
from typing import Any, Callable, Sequence


_NUMBER_KINDS = frozenset({int, float, bool})
_KNOWN = _NUMBER_KINDS | {str, type(None), dt.date, dt.datetime, dict, list, tuple}
_MEMO_MAX = 1 << 16


class _Texts(dict):  # type: ignore[type-arg]
    """value -> its JSON text, each distinct value encoded once (dates, mixed columns).

    Zeros are never remembered: 0.0 and -0.0 are equal keys with different text."""

    def __init__(self, encode: Callable[[Any], str]) -> None:
        super().__init__()
        self.encode = encode

    def __missing__(self, value: Any) -> str:
        text = self.encode(value)
        if value == 0 and value.__class__ is float:
            return text
        if len(self) >= _MEMO_MAX:
            self.clear()
        self[value] = text
        return text


_DIRECT: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,  # the encoder's own function for text
    int: int.__repr__,
    float: float.__repr__,  # finite floats only (json writes NaN and Infinity)
}
_FILL: dict[type, Any] = {str: "", int: 0, float: 0.0}


def _direct(column: Sequence[Any], kinds: set[type]) -> list[str] | None:
    """Texts of a column of one scalar type (and None) by that type's C function, or None."""
    kinds = kinds - {type(None)}
    if len(kinds) != 1:
        return None
    kind = next(iter(kinds))
    to_text = _DIRECT.get(kind)
    if to_text is None:
        return None
    nulls = [i for i, value in enumerate(column) if value is None] if None in column else []
    if nulls:
        fill = _FILL[kind]
        column = [fill if value is None else value for value in column]
    if kind is float and not all(map(isfinite, column)):
        return None
    texts = list(map(to_text, column))
    for i in nulls:
        texts[i] = "null"
    return texts


_FEW_MIN = 64  # rows before a column's distinct values are worth counting
_FEW_SAMPLE = 1024
_FEW_SHARE = 4  # a column is "few" when at most a quarter of its sample is distinct
_MEMO_KINDS = frozenset({str, int, float, bool, type(None), dt.date})


def _few(column: Sequence[Any], kinds: set[type], encode: Callable[[Any], str]) -> list[str] | None:
    """Texts of a long column of few distinct values (a tier, a rating, a flag), each
    distinct value encoded once, or None.  Only where equal values have one text: one kind
    of number (1, 1.0 and True are equal keys), no NaN (not equal to itself), no -0.0 (equal
    to 0.0)."""
    if len(column) < _FEW_MIN or not kinds <= _MEMO_KINDS or len(kinds & _NUMBER_KINDS) > 1:
        return None
    sample = column[:_FEW_SAMPLE]
    if len(set(sample)) * _FEW_SHARE > len(sample):
        return None
    distinct = set(column)
    if len(distinct) * _FEW_SHARE > len(column):
        return None
    if float in kinds:
        floats = [v for v in distinct if v.__class__ is float]
        if not all(map(isfinite, floats)):
            return None
        # a -0.0 among the zeros (equal to 0.0, so the set kept only one of them)
        if 0.0 in distinct and min(map(copysign, repeat(1.0), filter(partial(eq, 0.0), column)),
                                   default=1.0) < 0:
            return None
    memo = {value: encode(value) for value in distinct}
    return list(map(memo.__getitem__, column))


class Fields:
    """A column of objects given as their fields' columns, in the order to write them
    (sort them for sorted-key text): every record's object has every field."""

    def __init__(self, columns: Sequence[tuple[str, Sequence[Any]]], count: int) -> None:
        self.columns = columns
        self.count = count


def _column_texts(column: Sequence[Any] | Fields, encode: Callable[[Any], str]) -> list[str]:
    if isinstance(column, Fields):
        return objects(column.columns, column.count, encode)
    if False:  # (compact columns are gone)  # each distinct value encoded once, whatever its kind
        table = _column_texts(list(column.table), encode)
        return list(map(table.__getitem__, column.codes))
    kinds = set(map(type, column))
    texts = _few(column, kinds, encode)
    if texts is not None:
        return texts
    texts = _direct(column, kinds)
    if texts is not None:
        return texts
    if len(kinds & _NUMBER_KINDS) > 1 or not kinds <= _KNOWN:
        # 1, 1.0 and True are equal keys with different text (and a subclass may be equal to
        # anything): no memo
        return list(map(encode, column))
    if kinds <= {dict}:
        keys = {tuple(value) for value in column}
        if len(keys) == 1:  # the same keys in every record (a score's parts): by columns
            names = sorted(next(iter(keys)))
            return objects([(name, [value[name] for value in column]) for name in names],
                           len(column), encode)
    if kinds & {dict, list, tuple}:
        return list(map(encode, column))
    return list(map(_Texts(encode).__getitem__, column))


def objects(columns: Sequence[tuple[str, Sequence[Any] | Fields]], count: int,
            encode: Callable[[Any], str]) -> list[str]:
    """``count`` JSON objects, record i being {name: column[i] for each column} with the
    columns' names in the order given (sort them for sorted-key text); ``encode`` is the
    one-value encoder whose text this must reproduce.  A column may be ``Fields``: an
    object per record, from its fields' columns."""
    if not columns:
        return ["{}"] * count
    pieces: list[Any] = []
    for i, (name, column) in enumerate(columns):
        pieces.append(repeat(("{" if i == 0 else ",") + encode_basestring_ascii(name) + ":"))
        pieces.append(_column_texts(column, encode))
    return list(map("".join, zip(*pieces, repeat("}"))))
