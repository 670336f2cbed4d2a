"""Tier counts under moved band boundaries, without re-evaluating every account.

Capacity calibration asks, round after round, how many accounts each tier would hold if one
band boundary moved.  Moving a boundary changes the constants of one field's comparisons
only; every other field's truths are already part of each account's class key.  So the
accounts are grouped by (class key, new code of each changed field) -- a count over small
integers -- and each group's tier comes from its firing path, run on the executor only when
the path cache has not seen the conditions those bits hold yet.

When the moved boundaries leave the network's structure as it was (only constants of
order comparisons on numbers changed), only the accounts whose value lies between an old
and a new constant can compare differently: the others keep the tier the evaluation gave
them, and only the few in between are grouped and looked up (``_moved_only``).

Anything unusual (no class layout, a field set that changed, a path that fails or is
incomplete) falls back to a full evaluation, which raises exactly the error it always did.
tests/engine/test_recount.py holds this to full evaluations with the same bands.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from math import isnan
from typing import Any

from ..network.classes import (
    conditions_held,
    field_codes,
    leaf_signature,
    leaves_by_field,
    network_signature,
    path_cache,
    value_columns,
)
from ..network.compile import compile_network
from .bands import ResolvedBands
from .decisions import Decision
from .run import Evaluation, decode, evaluate, make_executor


class Recounter:
    """``recounter(bands)``: accounts per tier if ``ev``'s accounts were evaluated with
    ``bands`` instead.  Keeps, between calls (calibration moves the same few boundaries
    round after round): the value columns of the fields it recoded, each class's condition
    bits for the fields that did not change, the conditions each set of bits holds, and each
    firing path's tier."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev
        self.columns: dict[str, list[Any]] = {}
        self.class_bits: dict[Any, dict[int, bytes]] = {}
        self.tiers: dict[str, dict[tuple[tuple[int, int], ...], str]] = {}
        self.held: dict[str, dict[bytes, bytes]] = {}  # per network structure: bits -> held
        self.sorted: dict[
            str, tuple[Sequence[Any], Sequence[int]] | None
        ] = {}  # values in order, accounts
        self.signature: str | None = None  # of the evaluation's network
        self.base: Counter[str] | None = None  # the evaluation's tier counts
        self.tier_list: list[str] = []  # and each account's tier

    def __call__(self, bands: dict[str, ResolvedBands]) -> dict[str, int]:
        counts = _recount(self, bands)
        if counts is None:
            ev = self.ev
            trial = evaluate(
                ev.ruleset,
                [],
                ev.as_of,
                engine=ev.engine,
                memo=True,
                bands=bands,
                computed=[(d.values, d.parts) for d in ev.decisions],
            )
            counts = Counter(d.tier for d in trial.decisions)
        return dict(counts)


def tier_counts(ev: Evaluation, bands: dict[str, ResolvedBands]) -> dict[str, int]:
    """Accounts per tier if ``ev``'s accounts were evaluated with ``bands`` instead."""
    return Recounter(ev)(bands)


def _recount(state: Recounter, bands: dict[str, ResolvedBands]) -> Counter[str] | None:
    ev = state.ev
    layout = ev.layout
    if layout is None:
        return None
    network = compile_network(ev.ruleset, bands)
    by_field = leaves_by_field(network)
    signatures = {name: signature for name, signature, _ in layout.fields}
    if set(by_field) != set(signatures):
        return None
    changed = [
        name for name, leaves in by_field.items() if leaf_signature(leaves) != signatures[name]
    ]
    positions = {name: tuple(leaf.index for leaf in leaves) for name, leaves in by_field.items()}
    todo = [name for name in changed if name not in state.columns]
    if todo:
        at_hand = ev.by_field or {}
        values = [] if all(name in at_hand for name in todo) else [d.values for d in ev.decisions]
        state.columns.update(zip(todo, value_columns(todo, values, ev.by_field)))
    signature = network_signature(network)
    moved = _moved_only(state, network, signature, changed)
    recoded = []  # (leaf positions, truths by code) of each changed field
    code_columns = []
    for name in changed:
        column = state.columns[name]
        table, codes = field_codes(
            by_field[name], column if moved is None else list(map(column.__getitem__, moved))
        )
        recoded.append((positions[name], table.truths))
        code_columns.append(codes)
    keys = layout.keys if moved is None else list(map(layout.keys.__getitem__, moved))
    groups: Counter[Any] = Counter(zip(keys, *code_columns))

    # a class's bits with the fields that did not change, for this leaf layout
    same = tuple(
        (i, name, positions[name])
        for i, (name, _, _) in enumerate(layout.fields)
        if name not in changed
    )
    class_bits = state.class_bits.setdefault(same, {})
    size = len(network.leaves)
    ran = path_cache(ev.engine, network)
    held_by_bits = state.held.setdefault(signature, {})
    held_of = conditions_held(network)
    tier_of_path = state.tiers.setdefault(signature, {})
    executor: Any = None
    counts: Counter[str] = Counter()
    if moved is not None:  # the others keep their tiers: start from them
        if state.base is None:
            state.tier_list = ev.tiers()
            state.base = Counter(state.tier_list)
        counts.update(state.base)
        counts.subtract(Counter(map(state.tier_list.__getitem__, moved)))
    try:
        for (key, *codes), count in groups.items():
            unchanged = class_bits.get(key)
            if unchanged is None:
                out = bytearray(size)
                key_codes = layout.codes(key)
                for i, _, indexes in same:
                    for j, b in zip(indexes, layout.fields[i][2][key_codes[i]]):
                        out[j] = b
                unchanged = class_bits[key] = bytes(out)
            if recoded:
                out = bytearray(unchanged)
                for (indexes, truths), code in zip(recoded, codes):
                    for j, b in zip(indexes, truths[code]):
                        out[j] = b
                bits = bytes(out)
            else:
                bits = unchanged
            held = held_by_bits.get(bits)
            if held is None:
                held = held_by_bits[bits] = held_of(bits)
            path = ran.get(held)
            if path is None:
                if executor is None:
                    executor = make_executor(ev.engine, network)
                try:
                    path = ran[held] = tuple(executor.run(bits))
                except Exception:  # noqa: BLE001 - the full evaluation names the account
                    return None
            tier = tier_of_path.get(path)
            if tier is None:
                probe = Decision("", {}, {}, 0)
                try:
                    decode(network, probe, path)
                except Exception:  # noqa: BLE001 - as above
                    return None
                if (
                    not probe.tier
                    or probe.motion != probe.tier
                    or any(set_id not in probe.bands for set_id in network.bands)
                ):
                    return None  # check_complete might fail for an account: full evaluation
                tier = tier_of_path[path] = probe.tier
            counts[tier] += count
    finally:
        if executor is not None:
            executor.close()
    return +counts if moved is not None else counts  # (no tier left at zero)


def _moved_only(
    state: Recounter, network: Any, signature: str, changed: list[str]
) -> list[int] | None:
    """The accounts that may compare differently in ``network`` than in the evaluation's, in
    account order; None when that cannot be told this way (then every account is recounted).

    The two networks must have the same structure (the same rules over the same leaves; the
    executor sees nothing else), and each changed leaf must be an order comparison (lt, lte,
    gt, gte, between) with numbers on a field holding only numbers and blanks.  Then an
    account whose value is below every changed constant, old and new, or above every one,
    compares the same in both: only values from the lowest to the highest of them can move.
    """
    ev = state.ev
    if state.signature is None:
        state.signature = network_signature(ev.network)
    if signature != state.signature:
        return None
    bounds: dict[str, list[float]] = {}
    for old, new in zip(ev.network.leaves, network.leaves):
        if old.field != new.field or old.op != new.op:
            return None
        if repr(old.arg) == repr(new.arg):
            continue
        if new.op not in _ORDERED:
            return None
        args = [
            a for leaf in (old, new) for a in (leaf.arg if leaf.op == "between" else [leaf.arg])
        ]
        if not all(type(a) in (int, float) and a == a for a in args):
            return None
        bounds.setdefault(new.field, []).extend(args)
    if set(bounds) != set(changed):
        return None
    moved: set[int] = set()
    for name, args in bounds.items():
        order = _sorted_column(state, name)
        if order is None:
            return None
        values, accounts = order
        moved.update(accounts[bisect_left(values, min(args)) : bisect_right(values, max(args))])
    return sorted(moved)


_ORDERED = frozenset({"lt", "lte", "gt", "gte", "between"})


def _sorted_column(state: Recounter, name: str) -> tuple[Sequence[Any], Sequence[int]] | None:
    """A field's known values in increasing order and the account of each; None unless
    every value is a number (no booleans, no NaN) or blank.  Kept as typed arrays where the
    values are of one type (16 bytes per account, not 70: calibration holds two or three)."""
    if name not in state.sorted:
        column: Sequence[Any] = state.columns[name]
        kinds = set(map(type, column))
        if not kinds <= {int, float, type(None)}:
            state.sorted[name] = None
            return None
        value_of = column.__getitem__
        accounts: Sequence[int] = (
            [i for i, v in enumerate(column) if v is not None]
            if None in column
            else range(len(column))
        )
        if any(map(isnan, map(value_of, accounts))):
            state.sorted[name] = None
            return None
        order = array("q", sorted(accounts, key=value_of))
        values: Sequence[Any] = (
            array("d", map(value_of, order))
            if kinds - {type(None)} == {float}
            else list(map(value_of, order))
        )
        state.sorted[name] = (values, order)
    return state.sorted[name]
