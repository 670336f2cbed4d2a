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
from .evaluate import (Decision, Evaluation, _by_field, _columns, _field_codes, _path_cache,
                       _signature, decode, evaluate, make_executor)


class Recounter:
    """``recounter(bands)``: accounts per tier if ``ev``'s accounts were evaluated with
    ``bands`` instead.  Keeps the value columns of the fields it has recoded, since
    calibration moves the same few boundaries round after round."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev
        self.columns: dict[str, list[Any]] = {}
        self.truths: dict[int, dict[str, tuple[int, ...]]] = {}

    def __call__(self, bands: dict[str, ResolvedBands]) -> dict[str, int]:
        with _bulk():
            counts = _recount(self.ev, bands, self.columns, self.truths)
        if counts is None:
            ev = self.ev
            trial = evaluate(ev.ruleset, [], ev.as_of, engine=ev.engine, memo=True, bands=bands,
                             computed=[(d.values, d.parts) for d in ev.decisions])
            counts = Counter(d.tier for d in trial.decisions)
        return dict(counts)


def tier_counts(ev: Evaluation, bands: dict[str, ResolvedBands]) -> dict[str, int]:
    """Accounts per tier if ``ev``'s accounts were evaluated with ``bands`` instead."""
    return Recounter(ev)(bands)


def _recount(ev: Evaluation, bands: dict[str, ResolvedBands],
             cache: dict[str, list[Any]] | None = None,
             key_truths: dict[int, dict[str, tuple[int, ...]]] | None = None
             ) -> Counter[str] | None:
    cache = {} if cache is None else cache
    key_truths = {} if key_truths is None else key_truths
    layout = ev.layout
    if layout is None:
        return None
    network = compile_network(ev.ruleset, bands)
    by_field = _by_field(network)
    base = {name: (signature, truths) for name, signature, truths in layout.fields}
    if set(by_field) != set(base):
        return None
    changed = [name for name, leaves in by_field.items() if _signature(leaves) != base[name][0]]
    tables = []
    code_columns = []
    todo = [name for name in changed if name not in cache]
    if todo:
        cache.update(zip(todo, _columns(todo, [d.values for d in ev.decisions])))
    for name in changed:
        table, codes = _field_codes(by_field[name], cache[name])
        tables.append(table)
        code_columns.append(codes)
    groups: Counter[Any] = Counter(zip(layout.keys, *code_columns))
    positions = [(name, [leaf.index for leaf in leaves]) for name, leaves in by_field.items()]
    names = [name for name, _, _ in layout.fields]
    ran = _path_cache(ev.engine, network)
    executor: Any = None
    tier_of: dict[bytes, str] = {}
    tier_of_path: dict[tuple[tuple[int, int], ...], str] = {}
    counts: Counter[str] = Counter()
    try:
        for (key, *codes), count in groups.items():
            base_truths = key_truths.get(key)
            if base_truths is None:
                base_truths = key_truths[key] = {
                    name: layout.fields[i][2][code]
                    for i, (name, code) in enumerate(zip(names, layout.codes(key)))}
            truths = base_truths.copy()
            for name, table, code in zip(changed, tables, codes):
                truths[name] = table.truths[code]
            out = bytearray(len(network.leaves))
            for name, indexes in positions:
                for i, b in zip(indexes, truths[name]):
                    out[i] = b
            bits = bytes(out)
            tier = tier_of.get(bits)
            if tier is None:
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
                tier_of[bits] = tier
            counts[tier] += count
    finally:
        if executor is not None:
            executor.close()
    return counts
