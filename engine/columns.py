"""A field's column of values (one per account, in account order), kept compactly.

``segment`` keeps the accounts as the reader's columns (``Portfolio.by_field``).  As Python
lists they cost a pointer per account per field plus, for a number read from its own text
(an ARR, a ratio), its own object: at 1,000,000 accounts, twice the CSV's size.  Most fields
hold few distinct values (a rating, a flag, a tier, a blank date), so ``compact`` keeps such
a column as a table of its distinct values and a byte (or two) per account (``Coded``), a
column of distinct floats or integers as a typed ``array`` (8 bytes each, no object), and
anything else (account ids, names) as it was.

A compacted column reads exactly like the list it came from: the same values, of the same
types, in the same order (1, 1.0 and True, or 0.0 and -0.0, are equal keys: a column that
holds more than one kind of value, or both zeros, is never coded).  Passes over every
account iterate it at C speed; a pass that works per distinct value (``Coded.table``) can
skip the accounts altogether.

A portfolio of ``COMPACT_MIN`` accounts or more is compacted as it is read: once a reader's
rows tell it is large, each later chunk of rows is joined to the compact columns in place
(``join``), so its columns are never held as lists.
"""

from __future__ import annotations

import os
from array import array
from functools import partial
from itertools import chain, repeat
from math import copysign
from operator import eq
from typing import Any, Iterable, Iterator, Sequence, overload

COMPACT_MIN = 200_000  # accounts in a portfolio before its columns are compacted
_CODED_MAX = 1 << 16  # distinct values a coded column may have (two bytes per account)
_SAMPLE = 1024  # values looked at first, to tell a column of distinct numbers quickly
_FEW_SHARE = 4  # a sample is "few" when at most a quarter of it is distinct
_NONE = type(None)


class Coded(Sequence[Any]):
    """A column as ``table`` (its distinct values, first seen first) and each account's
    index into it (``codes``, an array of unsigned bytes or shorts)."""

    __slots__ = ("table", "codes", "lookup")

    def __init__(self, table: tuple[Any, ...], codes: array) -> None:  # type: ignore[type-arg]
        self.table = table
        self.codes = codes
        # value -> code, kept while chunks are joined to the column (``join``)
        self.lookup: _Codes | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[Any]:
        return map(self.table.__getitem__, self.codes)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Coded: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):  # (a batch of accounts: the same table)
            return Coded(self.table, self.codes[index])
        return self.table[self.codes[index]]

    # (as a list's: a value matches by identity or equality; a slice shares the table, so
    # a value of the table may not occur in it)
    def __contains__(self, value: object) -> bool:
        return any((v is value or v == value) and i in self.codes
                   for i, v in enumerate(self.table))

    def count(self, value: Any) -> int:
        return sum(self.codes.count(i) for i, v in enumerate(self.table)
                   if v is value or v == value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Coded, list, array)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return Coded, (self.table, self.codes)

    def __repr__(self) -> str:
        return f"Coded({len(self.table)} distinct values, {len(self)} accounts)"


def _one_kind(values: Iterable[Any]) -> type | None:
    """The one type of the values other than None (NoneType if all are None); None when
    there are several (a column of 1 and 1.0 would merge them in a table)."""
    kinds = set(map(type, values))
    kinds.discard(_NONE)
    if len(kinds) > 1:
        return None
    return next(iter(kinds), _NONE)


def _both_zeros(values: Iterable[Any]) -> bool:
    """A 0.0 and a -0.0 both among ``values`` (equal keys, different text)."""
    return len(set(map(copysign, repeat(1.0), filter(partial(eq, 0.0), values)))) > 1


class _Codes(dict):  # type: ignore[type-arg]
    """value -> its code, a new value getting the next one (the table is the keys, in order)."""

    def __missing__(self, value: Any) -> int:
        code = self[value] = len(self)
        return code


def _coded(values: Sequence[Any], kind: type) -> Coded | None:
    index = _Codes()
    codes = list(map(index.__getitem__, values))
    if len(index) > _CODED_MAX or kind is float and 0.0 in index and _both_zeros(values):
        return None
    return Coded(tuple(index), array("B" if len(index) <= 256 else "H", codes))


def compact(column: Sequence[Any]) -> Sequence[Any]:
    """``column`` as a ``Coded`` table, a typed array, or itself: whichever is smallest of
    those that give back exactly its values."""
    if not isinstance(column, list) or len(column) < _SAMPLE:
        return column
    kind = _one_kind(column)
    if kind is None:
        return column
    sample = column[:_SAMPLE]
    distinct = len(set(sample)) * _FEW_SHARE > len(sample)
    if distinct and kind in (float, int) and None not in column:
        try:
            return array("d" if kind is float else "q", column)
        except OverflowError:  # (an integer beyond 64 bits)
            return column
    if distinct and kind is str:
        return column  # ids, names: the text is the size
    coded = _coded(column, kind)
    return column if coded is None else coded


def dicts_of(columns: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """One dict per row of ``columns`` (name -> one value per row), keys in the columns' order."""
    return list(map(dict, map(zip, repeat(list(columns)), zip(*columns.values()))))


def worth_compacting(accounts: int) -> bool:
    """Compacting costs about 0.15 CPU-s per 100,000 accounts, and gains about as much in
    the passes after it: below ``COMPACT_MIN`` the memory it saves is not worth changing
    what the benchmarks measure.  ``TIERBOOK_COMPACT_COLUMNS=1`` compacts any portfolio
    (the tests compare both ways)."""
    return accounts >= COMPACT_MIN or bool(os.environ.get("TIERBOOK_COMPACT_COLUMNS"))


def compact_all(columns: dict[str, Sequence[Any]]) -> dict[str, Sequence[Any]]:
    """Every column of ``columns`` compacted, in place (and returned)."""
    for name, column in columns.items():
        columns[name] = compact(column)
    return columns


def join(first: Sequence[Any], second: Sequence[Any]) -> Sequence[Any]:
    """``first``'s values followed by ``second``'s (the next chunk of rows, the other half of
    the portfolio), as compact as ``first``.  ``first`` is extended in place where it can
    be, and returned: a chunk costs its own rows, not the column's."""
    if isinstance(first, list):  # (ids, names: a list stays one)
        first.extend(second)
        return first
    if isinstance(first, Coded):
        more = second.table if isinstance(second, Coded) else second
        kinds = set(map(type, first.table))
        kinds.update(map(type, more))
        kinds.discard(_NONE)
        if len(kinds) <= 1 and not (float in kinds and _both_zeros(chain(first.table, more))):
            index = first.lookup or _Codes(zip(first.table, range(len(first.table))))
            first.lookup = None  # (until the values are in)
            codes = list(map(index.__getitem__, more))
            if len(index) <= _CODED_MAX:
                first.lookup = index
                if len(index) > 256 and first.codes.typecode == "B":
                    first.codes = array("H", first.codes)
                if len(index) > len(first.table):
                    first.table = tuple(index)
                if not isinstance(second, Coded):
                    first.codes.extend(codes)
                elif first.codes.typecode == second.codes.typecode == "B":  # (a byte each)
                    codes += range(len(codes), 256)
                    first.codes.frombytes(second.codes.tobytes().translate(bytes(codes)))
                else:
                    first.codes.extend(map(codes.__getitem__, second.codes))
                return first
    elif isinstance(first, array):
        if isinstance(second, array) and second.typecode == first.typecode:
            first.extend(second)
            return first
        if _one_kind(second) is (float if first.typecode == "d" else int) and None not in second:
            try:  # (the array takes each value as it is: one kind, no blank)
                first.extend(array(first.typecode, second))
                return first
            except OverflowError:
                pass
    return compact([*first, *second])  # (kinds a table or array cannot hold together)
