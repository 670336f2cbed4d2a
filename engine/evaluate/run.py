"""Evaluate a portfolio: values -> bands resolved -> network compiled -> executor per class.

Every comparison in the rules is with a constant, so accounts whose comparisons all come
out the same (one *class*) fire exactly the same rules; so do classes whose rules'
conditions on the account hold alike (``classes.conditions_held``).  The executor runs once
per distinct set of conditions held and each account keeps its own values beside the
firing path; ``memo=False`` runs the executor for every account (the differential test
proves the two identical).
"""

from __future__ import annotations

import datetime as dt
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engines import ENGINES
from ..errors import EngineError, UsageError
from ..network.classes import ClassLayout, class_bits, class_index, conditions_held, path_cache
from ..network.compile import Network, compile_network
from ..network.native import NativeExecutor
from ..portfolio.frame import Prepared
from ..ruleset.model import Ruleset
from .bands import ResolvedBands, resolve_all
from .decisions import Decision, Decisions, account_ids, by_path, path_ids, tiers
from .values import PartColumns


@dataclass
class Evaluation:
    ruleset: Ruleset
    network: Network
    bands: dict[str, ResolvedBands]
    engine: str
    engine_note: str
    as_of: dt.date
    decisions: Sequence[Decision]  # a list, or Decisions (accounts read as columns)
    paths: list[list[tuple[int, int]]]  # path id -> [(rule index, disjunct)]
    memo: dict[bytes, int] = field(default_factory=dict)  # conditions held -> path id
    layout: ClassLayout | None = None  # the accounts' classes (None: evaluated one by one)
    held: Callable[[bytes], bytes] | None = None  # condition bits -> conditions held
    # some fields' columns of the decisions' values, in decision order (evaluate's by_field)
    by_field: dict[str, Sequence[Any]] | None = None
    # the decisions' score parts as columns, in decision order, where they were read so
    part_columns: PartColumns | None = None

    def column(self, name: str) -> Sequence[Any]:
        """Each decision's value of ``name`` (None where it has none), in decision order:
        the reader's column where kept (no account's dict is needed)."""
        if self.by_field is not None and name in self.by_field:
            return self.by_field[name]
        return [d.values.get(name) for d in self.decisions]

    def tiers(self) -> list[str]:
        """Each account's tier, in account order (no Decision made for it)."""
        return tiers(self.decisions)

    def path_ids(self) -> Sequence[int]:
        """The path each account took, in account order."""
        return path_ids(self.decisions)

    def account_ids(self) -> list[str]:
        return account_ids(self.decisions)

    def by_path(self) -> list[tuple[Decision, int]]:
        """(a decision on each path some account took, its accounts), for counts of what
        paths decide (tiers, bands, flags): every account on a path shares it."""
        return by_path(self.decisions)

    def fired(self, decision: Decision) -> list[tuple[int, int]]:
        return self.paths[decision.path_id]

    def classify(self, inputs: dict[str, Any]) -> Decision:
        """One more account through the same network and bands (stability checks, tests)."""
        from .values import account_values

        values, parts = account_values(self.ruleset, inputs, self.as_of)
        if self.held is None:
            self.held = conditions_held(self.network)
        bits = class_bits(self.network, values)
        key = self.held(bits)
        path_id = self.memo.get(key)
        if path_id is None:
            executor = make_executor(self.engine, self.network)
            try:
                self.paths.append(executor.run(bits))
            finally:
                executor.close()
            path_id = self.memo[key] = len(self.paths) - 1
        d = Decision(str(values.get("account_id")), values, parts, path_id)
        decode(self.network, d, self.paths[path_id])
        check_complete(self.network, d)
        return d


def choose_engine(engine: str) -> tuple[str, str]:
    """The executor to use, and a note for stderr and the report when it fell back."""
    from ..network import durable as durable_engine

    if engine not in ENGINES:
        raise UsageError(f"unknown engine '{engine}' (choose {', '.join(ENGINES)})")
    if engine == "native":
        return "native", ""
    if durable_engine.AVAILABLE:
        return "durable-rules", ""
    if engine == "durable-rules":
        raise UsageError(
            f"durable-rules cannot be imported on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} "
            f"({durable_engine.IMPORT_ERROR}); use --engine native"
        )
    note = (
        f"durable-rules cannot be imported on Python {sys.version_info.major}."
        f"{sys.version_info.minor}; using the native executor (same network, same results)"
    )
    return "native", note


def make_executor(engine: str, network: Network) -> Any:
    if engine == "durable-rules":
        from ..network.durable import DurableExecutor

        return DurableExecutor(network)
    return NativeExecutor(network)


def decode(network: Network, decision: Decision, path: Sequence[tuple[int, int]]) -> None:
    rules = network.rules
    for index, _ in path:
        rule = rules[index]
        out = rule.output
        kind = rule.kind
        if kind == "band":
            decision.bands[out["set"]] = out["band"]
            decision.rows[out["set"]] = out["row"]
        elif kind == "decision":
            dec = next(d for d in network.ruleset.decisions if d.id == out["id"])
            if dec.hit_policy == "collect":
                decision.decisions.setdefault(out["id"], []).append(out["value"])
            elif out["id"] in decision.decisions:
                raise EngineError(
                    f"account {decision.account_id}: decision '{out['id']}' has hit policy "
                    f"{dec.hit_policy} but two rules applied ('{rule.id}' and an earlier one)",
                    rule_id=rule.id,
                    account_id=decision.account_id,
                )
            else:
                decision.decisions[out["id"]] = out["value"]
        elif kind == "cell":
            if decision.tier:
                raise EngineError(
                    f"account {decision.account_id}: two grid cells applied "
                    f"('{decision.cell}' and '{rule.id}')",
                    rule_id=rule.id,
                    account_id=decision.account_id,
                )
            decision.tier, decision.cell = out["tier"], rule.id
        elif kind == "flag":
            decision.flags.append(out["flag"])
        elif kind == "comment":
            decision.comments.append(out["id"])
        elif kind == "review":
            decision.reviews.append(out["id"])
        elif kind == "motion":
            decision.motion = out["tier"]


def check_complete(network: Network, decision: Decision) -> None:
    """An account whose trace is incomplete is an error, never a partial result."""
    missing = []
    for set_id, rb in network.bands.items():
        if decision.values.get(rb.over) is not None and set_id not in decision.bands:
            missing.append(f"band of {set_id} ({rb.over} = {decision.values.get(rb.over)})")
    if not decision.tier:
        missing.append("tier (no grid cell applied)")
    elif decision.motion != decision.tier:
        missing.append("CS motion")
    if missing:
        raise EngineError(
            f"account {decision.account_id}: decision trace incomplete: "
            f"missing {', '.join(missing)}",
            account_id=decision.account_id,
        )


def compute_values(
    ruleset: Ruleset, accounts: Sequence[dict[str, Any]], as_of: dt.date, in_place: bool = False
) -> list[tuple[dict[str, Any], dict[str, dict[str, float | None]]]]:
    """Each account's (values, score parts); ``in_place``: each account's dict becomes its
    values (derived values and scores added to it) instead of being copied."""
    from .values import compile_values

    return list(map(compile_values(ruleset, as_of, in_place), accounts))


def resolve_bands(
    ruleset: Ruleset,
    computed: Sequence[tuple[dict[str, Any], Any]],
    by_field: dict[str, Sequence[Any]] | None = None,
) -> dict[str, ResolvedBands]:
    """``by_field``: the values' columns, where there are (``Portfolio.by_field``)."""
    column: dict[str, list[float]] = {}
    for bs in ruleset.bands:
        values = by_field.get(bs.over) if by_field is not None else None
        if values is not None:
            column[bs.over] = [v for v in values if v is not None]
        else:
            column[bs.over] = [v[bs.over] for v, _ in computed if v.get(bs.over) is not None]
    return resolve_all(ruleset, column)


def _may_be_incomplete(network: Network, d: Decision) -> bool:
    """Whether check_complete may fail for some account on d's path (a band missing only
    matters when the account's value is known, so it is checked account by account)."""
    return (
        any(set_id not in d.bands for set_id in network.bands) or not d.tier or d.motion != d.tier
    )


def evaluate(
    ruleset: Ruleset,
    accounts: Sequence[dict[str, Any]],
    as_of: dt.date,
    engine: str = "auto",
    memo: bool = True,
    bands: dict[str, ResolvedBands] | None = None,
    progress: Callable[[int], None] | None = None,
    computed: Sequence[tuple[dict[str, Any], Any]] | None = None,
    by_field: dict[str, Sequence[Any]] | None = None,
) -> Evaluation:
    """``computed``: the accounts' values from an earlier evaluation of the same accounts
    and date (calibration re-evaluates with moved band boundaries only); ``by_field``: some
    fields' columns of those values (``Portfolio.by_field``), read instead of the dicts."""
    chosen, note = choose_engine(engine)
    if computed is None:
        computed = compute_values(ruleset, accounts, as_of)
        by_field = None
    resolved = bands if bands is not None else resolve_bands(ruleset, computed, by_field)
    network = compile_network(ruleset, resolved)
    held_of = conditions_held(network)
    executor = make_executor(chosen, network)
    memo_paths: dict[bytes, int] = {}
    paths: list[list[tuple[int, int]]] = []
    decisions: Sequence[Decision] = []
    try:
        keys: Sequence[int] | None = None
        bits_of: Callable[[int], bytes] | None = None
        layout: ClassLayout | None = None
        try:
            layout, bits_of = class_index(
                network,
                computed.rows if isinstance(computed, Prepared) else [v for v, _ in computed],
                by_field,
            )
            keys = layout.keys
        except Exception:  # noqa: BLE001 - a value the fast path cannot key: account by account
            keys = bits_of = layout = None
        if keys is None or bits_of is None or not memo:
            decisions = _evaluate_each(
                network,
                executor,
                computed,
                memo,
                memo_paths,
                paths,
                progress,
                keys,
                bits_of,
                held_of,
            )
        else:
            ran = path_cache(chosen, network)
            # each class's bits and the conditions they hold, classes in order of first account
            runs: dict[int, tuple[bytes, bytes]] = {}
            for key in dict.fromkeys(keys):
                bits = bits_of(key)
                runs[key] = (bits, held_of(bits))
            decisions = _evaluate_classes(
                network, executor, ran, computed, keys, runs, memo_paths, paths, progress
            )
    finally:
        executor.close()
    part_columns = (
        computed.parts
        if isinstance(computed, Prepared) and isinstance(computed.parts, PartColumns)
        else None
    )
    return Evaluation(
        ruleset,
        network,
        resolved,
        chosen,
        note,
        as_of,
        decisions,
        paths,
        memo_paths,
        layout,
        held_of,
        by_field,
        part_columns,
    )


def _evaluate_each(
    network: Network,
    executor: Any,
    computed: Sequence[tuple[dict[str, Any], Any]],
    memo: bool,
    memo_paths: dict[bytes, int],
    paths: list[list[tuple[int, int]]],
    progress: Callable[[int], None] | None,
    keys: Sequence[int] | None,
    bits_of: Callable[[int], bytes] | None,
    held_of: Callable[[bytes], bytes],
) -> list[Decision]:
    """Account by account (and, without the memo, one executor run per account)."""
    decisions: list[Decision] = []
    bits_cache: dict[int, bytes] = {}
    held_cache: dict[bytes, bytes] = {}
    for n, (values, parts) in enumerate(computed):
        if keys is not None and bits_of is not None:
            bits = bits_cache.get(keys[n])
            if bits is None:
                bits = bits_cache[keys[n]] = bits_of(keys[n])
        else:
            bits = class_bits(network, values)
        held = b""
        if memo:
            found = held_cache.get(bits)
            held = found if found is not None else held_cache.setdefault(bits, held_of(bits))
        path_id = memo_paths.get(held) if memo else None
        if path_id is None:
            paths.append(executor.run(bits))
            path_id = len(paths) - 1
            if memo:
                memo_paths[held] = path_id
        d = Decision(str(values.get("account_id")), values, parts, path_id)
        decode(network, d, paths[path_id])
        check_complete(network, d)
        decisions.append(d)
        if progress and n % 1000 == 999:
            progress(n + 1)
    return decisions


def _evaluate_classes(
    network: Network,
    executor: Any,
    ran: dict[bytes, tuple[tuple[int, int], ...]],
    computed: Sequence[tuple[dict[str, Any], Any]],
    keys: Sequence[int],
    runs: dict[int, tuple[bytes, bytes]],
    memo_paths: dict[bytes, int],
    paths: list[list[tuple[int, int]]],
    progress: Callable[[int], None] | None,
) -> Sequence[Decision]:
    """One executor run per distinct set of conditions held (with the bits of its first
    account); every account with it shares its decoded path.  Accounts read as columns get
    ``Decisions`` (a path id each), others a list of ``Decision``.

    Accounts are taken in order and each step happens at the same account as in
    ``_evaluate_each``, so an error names the same account and rule."""
    path_of: dict[int, int] = {}  # class key -> path id
    firsts: list[Decision] = []  # by path id: its first account's decision, decoded
    checked_paths: set[int] = set()  # paths where check_complete may fail for an account
    kept: Decisions | None = None
    listed: list[Decision] = []
    if isinstance(computed, Prepared):  # values (and parts) looked up when first read
        kept = Decisions(
            computed.rows.columns["account_id"], computed.rows, computed.parts, array("i"), firsts
        )

    def bare(n: int) -> Decision:
        """Account ``n``'s decision before its path's fields are in it."""
        if kept is not None:
            parts = kept.parts if isinstance(kept.parts, PartColumns) else kept.parts[n]
            return Decision(str(kept.ids[n]), kept.rows, parts, -1, at=n)
        values, parts = computed[n]
        return Decision(str(values.get("account_id")), values, parts, -1, at=n)

    for n, key in enumerate(keys):
        path_id = path_of.get(key)
        if path_id is None:
            bits, held = runs[key]
            path_id = memo_paths.get(held)
            if path_id is None:
                path = ran.get(held)
                if path is None:
                    path = ran[held] = tuple(executor.run(bits))
                paths.append(list(path))
                path_id = memo_paths[held] = len(paths) - 1
                first = bare(n)
                first.path_id = path_id
                decode(network, first, paths[path_id])
                firsts.append(first)
                if _may_be_incomplete(network, first):
                    checked_paths.add(path_id)
            path_of[key] = path_id
        if kept is not None:
            kept.path_ids.append(path_id)
            if path_id in checked_paths:
                check_complete(network, kept[n])
        else:
            f = firsts[path_id]
            d = bare(n)
            d.path_id, d.tier, d.cell, d.bands, d.rows, d.decisions = (
                path_id,
                f.tier,
                f.cell,
                f.bands,
                f.rows,
                f.decisions,
            )
            d.flags, d.comments, d.reviews, d.motion = f.flags, f.comments, f.reviews, f.motion
            if path_id in checked_paths:
                check_complete(network, d)
            listed.append(d)
        if progress and n % 1000 == 999:
            progress(n + 1)
    return listed if kept is None else kept
