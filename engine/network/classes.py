"""Accounts -> classes: which comparisons of the rule network each account passes.

Every comparison in the rules is with a constant, so accounts whose comparisons all come out
the same (one *class*) fire exactly the same rules.  Here each account's class is worked out
a field at a time (once per distinct value of the field, or for numbers compared only by
order, once per place among the constants) and numbered; ``ClassLayout`` keeps enough to
recount tiers under moved boundaries (tierbook.recount).  Also the cache of firing paths
already run, shared by evaluations whose compiled rules are the same.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from math import isnan, prod
from operator import add, itemgetter, mul
from typing import Any

from . import conditions as C
from .compile import Network


def class_bits(network: Network, values: dict[str, Any]) -> bytes:
    """1 true, 0 false, 2 unknown for each distinct comparison of the network."""
    out = bytearray(len(network.leaves))
    for leaf in network.leaves:
        truth = C.compare(leaf.op, values.get(leaf.field), leaf.arg)
        out[leaf.index] = 2 if truth is None else (1 if truth else 0)
    return bytes(out)


class FieldCodes(dict):  # type: ignore[type-arg]
    """One field's values -> a small code per distinct truth of the field's comparisons."""

    def __init__(self, leaves: list[Any], typed: bool) -> None:
        super().__init__()
        self.leaves = leaves
        self.typed = typed  # keys are (type, value): booleans and numbers both occur
        self.truths: list[tuple[int, ...]] = []
        self.codes: dict[tuple[int, ...], int] = {}

    def code(self, value: Any) -> int:
        truth = []
        for leaf in self.leaves:
            t = C.compare(leaf.op, value, leaf.arg)
            truth.append(2 if t is None else (1 if t else 0))
        code = self.codes.get(tuple(truth))
        if code is None:
            code = self.codes[tuple(truth)] = len(self.truths)
            self.truths.append(tuple(truth))
        return code

    def __missing__(self, key: Any) -> int:
        code = self[key] = self.code(key[1] if self.typed else key)
        return code


_NUMBERS = frozenset({int, float})
_ORDERED_OPS = frozenset({"lt", "lte", "gt", "gte", "between", "exists"})


def _thresholds(leaves: list[Any]) -> list[float] | None:
    """The sorted constants of a field compared only by order (lt ... between, exists) with
    numbers: for a number, where it falls among them decides every comparison."""
    out: set[float] = set()
    for leaf in leaves:
        if leaf.op not in _ORDERED_OPS:
            return None
        if leaf.op == "exists":
            continue
        args = leaf.arg if leaf.op == "between" else [leaf.arg]
        if not isinstance(args, (list, tuple)) or len(args) != (2 if leaf.op == "between" else 1):
            return None
        for a in args:
            if isinstance(a, bool) or not isinstance(a, (int, float)) or a != a:
                return None
            out.add(a)
    return sorted(out)


def _codes_by_position(table: FieldCodes, column: Sequence[Any], bounds: list[float]) -> list[int]:
    """Codes of a column of numbers (no NaN) through their position among ``bounds``."""
    n = len(column)
    # bisect_left + bisect_right: 2i between bounds[i-1] and bounds[i], 2i+1 equal to bounds[i]
    places = list(
        map(add, map(bisect_left, [bounds] * n, column), map(bisect_right, [bounds] * n, column))
    )
    # any value of a place decides the place's code (here: its last one)
    by_place = {place: table.code(value) for place, value in dict(zip(places, column)).items()}
    return list(map(by_place.__getitem__, places))


def field_codes(leaves: list[Any], column: Sequence[Any]) -> tuple[FieldCodes, list[int]]:
    """One field's column of values -> (its table of truths, each account's code)."""
    kinds = set(map(type, column))
    typed = bool in kinds and not kinds.isdisjoint(_NUMBERS)
    table = FieldCodes(leaves, typed)
    bounds = _thresholds(leaves) if kinds <= _NUMBERS and len(column) > 64 else None
    if bounds is not None and not any(map(isnan, column)):
        return table, _codes_by_position(table, column, bounds)
    if typed:
        column = list(zip(map(type, column), column))
    return table, list(map(table.__getitem__, column))


def value_columns(
    names: list[str],
    values_list: Sequence[dict[str, Any]],
    by_field: dict[str, Sequence[Any]] | None = None,
) -> list[Any]:
    """Each named field's column of ``values_list`` (None where an account lacks it);
    ``by_field``: columns already at hand for some of the names (``Portfolio.by_field``)."""
    if by_field is not None:
        found = [by_field.get(name) for name in names]
        if None in found:
            todo = [name for name, column in zip(names, found) if column is None]
            rest = iter(value_columns(todo, values_list))
            found = [next(rest) if column is None else column for column in found]
        return found
    n = len(values_list)
    try:  # every account has every field (accounts as read): a field at a time, at C speed
        return [list(map(itemgetter(name), values_list)) for name in names]
    except KeyError:
        return [list(map(dict.get, values_list, [name] * n)) for name in names]


def leaves_by_field(network: Network) -> dict[str, list[Any]]:
    by_field: dict[str, list[Any]] = {}
    for leaf in network.leaves:
        by_field.setdefault(leaf.field, []).append(leaf)
    return by_field


def leaf_signature(leaves: list[Any]) -> tuple[Any, ...]:
    return tuple((leaf.op, repr(leaf.arg)) for leaf in leaves)


@dataclass
class ClassLayout:
    """How an evaluation numbered its classes: per compared field (in key order, the first
    most significant) its comparisons, the distinct truths they took, and the key of every
    account.  Enough to recount tiers under moved band boundaries (``tier_counts``)."""

    fields: list[tuple[str, tuple[Any, ...], list[tuple[int, ...]]]]  # name, signature, truths
    keys: Sequence[int]

    @property
    def radices(self) -> list[int]:
        return [max(1, len(truths)) for _, _, truths in self.fields]

    def codes(self, key: int) -> list[int]:
        """The per-field codes of a class key."""
        out = []
        for radix in reversed(self.radices):
            key, code = divmod(key, radix)
            out.append(code)
        out.reverse()
        return out


def class_index(
    network: Network,
    values_list: Sequence[dict[str, Any]],
    by_field: dict[str, Sequence[Any]] | None = None,
) -> tuple[ClassLayout, Callable[[int], bytes]]:
    """Every account's class as a number (a small code per compared field, combined), and
    the function from that number to the class bits (``class_bits`` of its accounts).

    A field's comparisons are worked out once per distinct value of the field (for numbers
    compared only by order: once per place among the constants), not once per account.
    Values are told apart as dict keys are, except that booleans are kept apart from numbers
    (``True == 1`` but ``gt 0.5`` holds only for the number).
    """
    fields = list(leaves_by_field(network).items())
    n = len(values_list)
    columns = value_columns([name for name, _ in fields], values_list, by_field)
    code_columns = []
    tables = []
    for i, ((_name, leaves), column) in enumerate(zip(fields, columns)):
        columns[i] = None  # let each column go once coded
        table, codes = field_codes(leaves, column)
        code_columns.append(codes)
        tables.append(table)
    layout_fields = [
        (name, leaf_signature(leaves), table.truths)
        for (name, leaves), table in zip(fields, tables)
    ]
    radices = [max(1, len(table.truths)) for table in tables]
    keys: Sequence[int] = [0] * n
    if code_columns:
        combined: Any = code_columns[0]
        for radix, codes in zip(radices[1:], code_columns[1:]):
            combined = map(add, map(mul, combined, repeat(radix)), codes)
        keys = array("q", combined) if prod(radices) < 2**62 else list(combined)
    size = len(network.leaves)
    positions = [
        ([leaf.index for leaf in leaves], table.truths)
        for (_, leaves), table in zip(fields, tables)
    ]

    def bits_of(key: int) -> bytes:
        codes = []
        for radix in reversed(radices):
            key, code = divmod(key, radix)
            codes.append(code)
        out = bytearray(size)
        for (indexes, truths), code in zip(positions, reversed(codes)):
            for i, b in zip(indexes, truths[code]):
                out[i] = b
        return bytes(out)

    return ClassLayout(layout_fields, keys), bits_of


def _holds(formula: Any) -> Callable[[bytes], bool]:
    """An account formula over condition bits as a function (two-valued: an atom holds
    when its bit's state is one of the atom's states, as both executors read it)."""
    kind = formula[0]
    if kind == "atom":
        index = formula[1]
        codes = frozenset(code for code, state in _CODES.items() if state in formula[2])
        return lambda bits: bits[index] in codes
    if kind == "true":
        return lambda bits: True
    parts = [_holds(f) for f in formula[1]]
    if kind == "and":
        return lambda bits: all(p(bits) for p in parts)
    return lambda bits: any(p(bits) for p in parts)


_CODES = {1: "T", 0: "F", 2: "U"}  # condition bit -> state


def conditions_held(network: Network) -> Callable[[bytes], bytes]:
    """Condition bits -> which rule alternatives' conditions on the account hold (one byte
    per alternative whose condition is not always true).

    An executor sees an account only through these conditions: the rest of each rule is
    patterns over facts derived by rules fired earlier.  So condition bits that agree here
    fire exactly the same rules in the same order, and the executor runs once per distinct
    result, not once per class (classes also tell apart values no rule tells apart: a
    blank from a false, or which side of an ``or`` held)."""
    tests = [
        _holds(d.account)
        for rule in network.rules
        for d in rule.disjuncts
        if d.account[0] != "true"
    ]
    return lambda bits: bytes([test(bits) for test in tests])


# Paths already run, per executor and network structure, by the conditions they held.  The
# executor sees only the network's rules (formulas over condition bits, fact patterns,
# outputs, priorities), never the constants the bits were computed with, so a network whose
# rules are the same gives the same path for the same conditions held: calibration's
# recounts (moved band boundaries) and replay's quarters change the constants only.
# Bounded; --no-memo never uses it.
_PATH_CACHE: dict[tuple[str, str], dict[bytes, tuple[tuple[int, int], ...]]] = {}
_PATH_CACHE_NETWORKS = 4
_PATH_CACHE_PATHS = 200_000


def network_signature(network: Network) -> str:
    """The network's rules without the constants behind the condition bits."""
    return repr(
        (
            len(network.leaves),
            [(r.index, r.id, r.kind, r.disjuncts, r.output) for r in network.rules],
        )
    )


def path_cache(engine: str, network: Network) -> dict[bytes, tuple[tuple[int, int], ...]]:
    """Conditions held (``conditions_held``) -> firing path already run by ``engine`` on a
    network like this one."""
    key = (engine, network_signature(network))
    cache = _PATH_CACHE.pop(key, None)
    if cache is None or len(cache) > _PATH_CACHE_PATHS:
        cache = {}
    _PATH_CACHE[key] = cache  # most recently used last
    while len(_PATH_CACHE) > _PATH_CACHE_NETWORKS:
        del _PATH_CACHE[next(iter(_PATH_CACHE))]
    return cache
