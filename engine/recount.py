"""Tier counts under moved band boundaries, without re-evaluating every account.

Capacity calibration asks, round after round, how many accounts each tier would hold if one
band boundary moved.  Moving a boundary changes the constants of one field's comparisons
only; every other field's truths are already part of each account's class key.  So the
accounts are grouped by (class key, new code of each changed field) -- a count over small
integers -- and each group's tier comes from its firing path, run on the executor only when
the path cache has not seen those condition bits yet.

Anything unusual (no class layout, a field set that changed, a path that fails or is
incomplete) falls back to a full evaluation, which raises exactly the error it always did.
tests/engine/test_recount.py holds this to full evaluations with the same bands.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .bands import ResolvedBands
from .bulk import bulk as _bulk
from .compile import compile_network
from .classes import (field_codes, leaf_signature, leaves_by_field, network_signature,
                      path_cache, value_columns)
from .evaluate import Decision, Evaluation, decode, evaluate, make_executor


class Recounter:
    """``recounter(bands)``: accounts per tier if ``ev``'s accounts were evaluated with
    ``bands`` instead.  Keeps, between calls (calibration moves the same few boundaries
    round after round): the value columns of the fields it recoded, each class's condition
    bits for the fields that did not change, and each firing path's tier."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev
        self.columns: dict[str, list[Any]] = {}
        self.class_bits: dict[Any, dict[int, bytes]] = {}
        self.tiers: dict[str, dict[tuple[tuple[int, int], ...], str]] = {}

    def __call__(self, bands: dict[str, ResolvedBands]) -> dict[str, int]:
        with _bulk():
            counts = _recount(self, bands)
        if counts is None:
            ev = self.ev
            trial = evaluate(ev.ruleset, [], ev.as_of, engine=ev.engine, memo=True, bands=bands,
                             computed=[(d.values, d.parts) for d in ev.decisions])
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
    changed = [name for name, leaves in by_field.items()
               if leaf_signature(leaves) != signatures[name]]
    positions = {name: tuple(leaf.index for leaf in leaves) for name, leaves in by_field.items()}
    todo = [name for name in changed if name not in state.columns]
    if todo:
        state.columns.update(zip(todo, value_columns(todo, [d.values for d in ev.decisions])))
    recoded = []  # (leaf positions, truths by code) of each changed field
    code_columns = []
    for name in changed:
        table, codes = field_codes(by_field[name], state.columns[name])
        recoded.append((positions[name], table.truths))
        code_columns.append(codes)
    groups: Counter[Any] = Counter(zip(layout.keys, *code_columns))

    # a class's bits with the fields that did not change, for this leaf layout
    same = tuple((i, name, positions[name]) for i, (name, _, _) in enumerate(layout.fields)
                 if name not in changed)
    class_bits = state.class_bits.setdefault(same, {})
    size = len(network.leaves)
    ran = path_cache(ev.engine, network)
    tier_of_path = state.tiers.setdefault(network_signature(network), {})
    executor: Any = None
    counts: Counter[str] = Counter()
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
            path = ran.get(bits)
            if path is None:
                if executor is None:
                    executor = make_executor(ev.engine, network)
                try:
                    path = ran[bits] = tuple(executor.run(bits))
                except Exception:  # noqa: BLE001 - the full evaluation names the account
                    return None
            tier = tier_of_path.get(path)
            if tier is None:
                probe = Decision("", {}, {}, 0)
                try:
                    decode(network, probe, path)
                except Exception:  # noqa: BLE001 - as above
                    return None
                if (not probe.tier or probe.motion != probe.tier
                        or any(set_id not in probe.bands for set_id in network.bands)):
                    return None  # check_complete might fail for an account: full evaluation
                tier = tier_of_path[path] = probe.tier
            counts[tier] += count
    finally:
        if executor is not None:
            executor.close()
    return counts
