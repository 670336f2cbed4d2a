"""Evaluate a portfolio: values -> bands resolved -> network compiled -> executor per class.

Every comparison in the rules is with a constant, so accounts whose comparisons all come
out the same (one *class*) fire exactly the same rules.  The executor runs once per class
and each account keeps its own values beside its class's firing path; ``memo=False``
runs the executor for every account (the differential test proves the two identical).
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from . import conditions as C
from .bands import ResolvedBands, resolve_all
from .compile import Network, compile_network
from .errors import EngineError, UsageError
from .model import Ruleset
from .native import NativeExecutor

ENGINES = ("auto", "durable-rules", "native")


@dataclass
class Decision:
    account_id: str
    values: dict[str, Any]
    parts: dict[str, dict[str, float | None]]
    path_id: int
    tier: str = ""
    cell: str = ""
    bands: dict[str, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    motion: str = ""


@dataclass
class Evaluation:
    ruleset: Ruleset
    network: Network
    bands: dict[str, ResolvedBands]
    engine: str
    engine_note: str
    as_of: dt.date
    decisions: list[Decision]
    paths: list[list[tuple[int, int]]]  # path id -> [(rule index, disjunct)]
    memo: dict[bytes, int] = field(default_factory=dict)

    def fired(self, decision: Decision) -> list[tuple[int, int]]:
        return self.paths[decision.path_id]

    def classify(self, inputs: dict[str, Any]) -> Decision:
        """One more account through the same network and bands (stability checks, tests)."""
        from .values import account_values

        values, parts = account_values(self.ruleset, inputs, self.as_of)
        key = class_bits(self.network, values)
        path_id = self.memo.get(key)
        if path_id is None:
            executor = make_executor(self.engine, self.network)
            try:
                self.paths.append(executor.run(key))
            finally:
                executor.close()
            path_id = self.memo[key] = len(self.paths) - 1
        d = Decision(str(values.get("account_id")), values, parts, path_id)
        decode(self.network, d, self.paths[path_id])
        check_complete(self.network, d)
        return d


def choose_engine(engine: str) -> tuple[str, str]:
    """The executor to use, and a note for stderr and the report when it fell back."""
    from . import durable_engine

    if engine not in ENGINES:
        raise UsageError(f"unknown engine '{engine}' (choose {', '.join(ENGINES)})")
    if engine == "native":
        return "native", ""
    if durable_engine.AVAILABLE:
        return "durable-rules", ""
    if engine == "durable-rules":
        raise UsageError(f"durable-rules cannot be imported on Python "
                         f"{sys.version_info.major}.{sys.version_info.minor} "
                         f"({durable_engine.IMPORT_ERROR}); use --engine native")
    note = (f"durable-rules cannot be imported on Python {sys.version_info.major}."
            f"{sys.version_info.minor}; using the native executor (same network, same results)")
    return "native", note


def make_executor(engine: str, network: Network) -> Any:
    if engine == "durable-rules":
        from .durable_engine import DurableExecutor
        return DurableExecutor(network)
    return NativeExecutor(network)


def class_bits(network: Network, values: dict[str, Any]) -> bytes:
    """1 true, 0 false, 2 unknown for each distinct comparison of the network."""
    out = bytearray(len(network.leaves))
    for leaf in network.leaves:
        truth = C.compare(leaf.op, values.get(leaf.field), leaf.arg)
        out[leaf.index] = 2 if truth is None else (1 if truth else 0)
    return bytes(out)


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
                    rule_id=rule.id, account_id=decision.account_id)
            else:
                decision.decisions[out["id"]] = out["value"]
        elif kind == "cell":
            if decision.tier:
                raise EngineError(f"account {decision.account_id}: two grid cells applied "
                                  f"('{decision.cell}' and '{rule.id}')", rule_id=rule.id,
                                  account_id=decision.account_id)
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
        raise EngineError(f"account {decision.account_id}: decision trace incomplete: "
                          f"missing {', '.join(missing)}", account_id=decision.account_id)


def compute_values(ruleset: Ruleset, accounts: Sequence[dict[str, Any]], as_of: dt.date
                   ) -> list[tuple[dict[str, Any], dict[str, dict[str, float | None]]]]:
    from .values import account_values
    return [account_values(ruleset, a, as_of) for a in accounts]


def resolve_bands(ruleset: Ruleset, computed: Sequence[tuple[dict[str, Any], Any]]
                  ) -> dict[str, ResolvedBands]:
    column: dict[str, list[float]] = {}
    for bs in ruleset.bands:
        column[bs.over] = [v[bs.over] for v, _ in computed if v.get(bs.over) is not None]
    return resolve_all(ruleset, column)


def evaluate(ruleset: Ruleset, accounts: Sequence[dict[str, Any]], as_of: dt.date,
             engine: str = "auto", memo: bool = True,
             bands: dict[str, ResolvedBands] | None = None,
             progress: Callable[[int], None] | None = None) -> Evaluation:
    chosen, note = choose_engine(engine)
    computed = compute_values(ruleset, accounts, as_of)
    resolved = bands if bands is not None else resolve_bands(ruleset, computed)
    network = compile_network(ruleset, resolved)
    executor = make_executor(chosen, network)
    memo_paths: dict[bytes, int] = {}
    paths: list[list[tuple[int, int]]] = []
    decisions: list[Decision] = []
    try:
        for n, (values, parts) in enumerate(computed):
            key = class_bits(network, values)
            path_id = memo_paths.get(key) if memo else None
            if path_id is None:
                paths.append(executor.run(key))
                path_id = len(paths) - 1
                if memo:
                    memo_paths[key] = path_id
            d = Decision(str(values.get("account_id")), values, parts, path_id)
            decode(network, d, paths[path_id])
            check_complete(network, d)
            decisions.append(d)
            if progress and n % 1000 == 999:
                progress(n + 1)
    finally:
        executor.close()
    return Evaluation(ruleset, network, resolved, chosen, note, as_of, decisions, paths,
                      memo_paths)
