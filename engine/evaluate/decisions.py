"""Each account's decision, and every account's (``Decisions``).

Accounts that took one firing path share what it decided (tier, cell, bands, flags, ...);
only the account's id, values and score parts are its own.  An evaluation therefore keeps
a path id per account and one decoded ``Decision`` per path, and makes an account's
``Decision`` when something reads it.  The passes over every account that need only what
its path decided -- tier counts, flags, bands, the stored run's paths -- read
``Evaluation.tiers``, ``path_ids`` and ``by_path`` and make none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from operator import eq
from typing import Any, overload

from ..errors import EngineError
from ..network.model import Network


@dataclass(slots=True, eq=False)
class Decision:
    """One account's decision.  Accounts evaluated through one firing path share that
    path's bands, rows, decisions, flags, comments and reviews objects: read them, never
    change them in place."""

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

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def on_path(self, account_id: str, values: dict[str, Any], parts: Any) -> Decision:
        """Another account's decision on this decision's path."""
        return Decision(
            account_id,
            values,
            parts,
            self.path_id,
            self.tier,
            self.cell,
            self.bands,
            self.rows,
            self.decisions,
            self.flags,
            self.comments,
            self.reviews,
            self.motion,
        )


class Decisions(Sequence[Decision]):
    """Every account's decision, in account order: the path each took (``path_ids``) and,
    by path id, the decision of its first account (``firsts``), whose path fields every
    account on the path shares; each account's values and parts come from ``rows(start,
    stop)`` (dicts of those accounts, made when asked for)."""

    __slots__ = ("_batch", "_rows", "firsts", "ids", "path_ids")

    BATCH = 20000

    def __init__(
        self,
        ids: Sequence[str],
        path_ids: Sequence[int],
        firsts: list[Decision],
        rows: Callable[[int, int], tuple[list[dict[str, Any]], list[dict[str, Any]]]],
    ) -> None:
        self.ids = ids
        self.path_ids = path_ids
        self.firsts = firsts
        self._rows = rows
        self._batch: tuple[int, list[Decision]] = (0, [])  # the batch last read by index

    def __len__(self) -> int:
        return len(self.path_ids)

    def _slice(self, start: int, stop: int) -> list[Decision]:
        values, parts = self._rows(start, stop)
        return [
            self.firsts[self.path_ids[at]].on_path(self.ids[at], v, p)
            for at, v, p in zip(range(start, stop), values, parts)
        ]

    @overload
    def __getitem__(self, index: int) -> Decision: ...

    @overload
    def __getitem__(self, index: slice) -> list[Decision]: ...

    def __getitem__(self, index: int | slice) -> Decision | list[Decision]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            found = self._slice(start, max(start, stop)) if step == 1 else None
            if found is not None:
                return found
            return [self[i] for i in range(start, stop, step)]
        at = range(len(self))[index]
        start, batch = self._batch
        if not start <= at < start + len(batch):  # (accounts read one by one: a batch at a time)
            start = at - at % self.BATCH
            batch = self._slice(start, min(len(self), start + self.BATCH))
            self._batch = (start, batch)
        return batch[at - start]

    def __iter__(self) -> Iterator[Decision]:
        for start in range(0, len(self), self.BATCH):
            yield from self._slice(start, min(len(self), start + self.BATCH))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, Decisions)):
            return len(self) == len(other) and all(map(eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


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
