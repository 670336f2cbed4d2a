"""Each account's decision, and every account's (``Decisions``) where the accounts were read
as columns.

Accounts that took one firing path share what it decided (tier, cell, bands, flags, ...);
only the account's id, values and score parts are its own.  A portfolio read as columns
therefore keeps a path id per account and one decoded ``Decision`` per path, and makes an
account's ``Decision`` when something reads it: about 190 bytes per account fewer than a
list of them (190 MB at 1,000,000 accounts).  The passes over every account that need only
what its path decided -- tier counts, flags, bands, the stored run's paths -- read
``Evaluation.tiers``, ``path_ids`` and ``by_path`` and make none.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import eq
from typing import Any, overload

from ..portfolio.frame import Rows, dicts_of
from .values import PartColumns


@dataclass(slots=True, eq=False)
class Decision:
    """One account's decision.  Accounts evaluated through one firing path share that
    path's bands, rows, decisions, flags, comments and reviews objects: read them, never
    change them in place.

    ``values`` is the account's dict of values and ``parts`` its score parts; given as the
    portfolio's ``portfolio.Rows`` and ``values.PartColumns`` with the account's index in them
    (``at``), each is looked up when first read (evaluate does so for accounts read as
    columns: three pointers per account instead of a dict and two)."""

    account_id: str
    _values: Any  # the account's values, or the Rows they are in (at ``at``)
    _parts: Any  # the account's score parts, or the PartColumns they are in
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
    at: int = -1  # the account's index in the Rows or PartColumns given for its values

    @property
    def values(self) -> dict[str, Any]:
        found = self._values
        if found.__class__ is Rows:
            found = self._values = found[self.at]
        return found  # type: ignore[no-any-return]

    @property
    def parts(self) -> dict[str, dict[str, float | None]]:
        found = self._parts
        if found.__class__ is PartColumns:
            found = self._parts = found[self.at]
        return found  # type: ignore[no-any-return]

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.account_id,
            self.values,
            self.parts,
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

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()


class Decisions(Sequence[Decision]):
    """Every account's decision, in account order: the account ``ids`` (a column), their
    values (``rows``) and score parts (``parts``: a ``PartColumns``, or one dict per
    account), the path each took (``path_ids``) and, by path id, a decision of its first
    account (``firsts``), whose path fields every account on the path shares."""

    __slots__ = ("firsts", "ids", "parts", "path_ids", "rows")

    def __init__(
        self,
        ids: Sequence[Any],
        rows: Rows,
        parts: Sequence[Any],
        path_ids: array[int],
        firsts: list[Decision],
    ) -> None:
        self.ids = ids
        self.rows = rows
        self.parts = parts
        self.path_ids = path_ids
        self.firsts = firsts

    def __len__(self) -> int:
        return len(self.path_ids)

    def _make(self, at: int) -> Decision:
        f = self.firsts[self.path_ids[at]]
        parts = self.parts if isinstance(self.parts, PartColumns) else self.parts[at]
        return Decision(
            str(self.ids[at]),
            self.rows,
            parts,
            f.path_id,
            f.tier,
            f.cell,
            f.bands,
            f.rows,
            f.decisions,
            f.flags,
            f.comments,
            f.reviews,
            f.motion,
            at,
        )

    @overload
    def __getitem__(self, index: int) -> Decision: ...

    @overload
    def __getitem__(self, index: slice) -> list[Decision]: ...

    def __getitem__(self, index: int | slice) -> Decision | list[Decision]:
        if isinstance(index, slice):
            return list(map(self._make, range(len(self))[index]))
        return self._make(range(len(self))[index])

    def __iter__(self) -> Iterator[Decision]:
        return map(self._make, range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, Decisions)):
            return len(self) == len(other) and all(map(eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def tiers(decisions: Sequence[Decision]) -> list[str]:
    """Each account's tier, in account order."""
    if isinstance(decisions, Decisions):
        tier_of = [f.tier for f in decisions.firsts]
        return list(map(tier_of.__getitem__, decisions.path_ids))
    return [d.tier for d in decisions]


def path_ids(decisions: Sequence[Decision]) -> Sequence[int]:
    """The path each account took, in account order."""
    if isinstance(decisions, Decisions):
        return decisions.path_ids
    return [d.path_id for d in decisions]


def account_ids(decisions: Sequence[Decision]) -> list[str]:
    if isinstance(decisions, Decisions):
        return list(map(str, decisions.ids))
    return [d.account_id for d in decisions]


def values_of(
    decisions: Sequence[Decision], start: int = 0, stop: int | None = None
) -> list[dict[str, Any]]:
    """The values of the accounts from ``start`` to ``stop``, in order.  For accounts read
    as columns whose dicts are not built, the dicts of these accounts only, not kept (the
    report files are written a batch at a time)."""
    if isinstance(decisions, Decisions) and not decisions.rows.built:
        return dicts_of(
            {name: column[start:stop] for name, column in decisions.rows.columns.items()}
        )
    return [d.values for d in decisions[start:stop]]


def with_values(
    decisions: Sequence[Decision], batch: int = 20000
) -> Iterator[tuple[Decision, dict[str, Any]]]:
    """Each account's decision and values, in order, a batch of values at a time
    (``values_of``): a pass over every account's values holds one batch of dicts."""
    for start in range(0, len(decisions), batch):
        yield from zip(decisions[start : start + batch], values_of(decisions, start, start + batch))


def by_path(decisions: Sequence[Decision]) -> list[tuple[Decision, int]]:
    """(a decision on each path some account took, how many accounts took it), paths in
    the order of their first account: for counts of what paths decide (tiers, bands,
    flags), which every account on a path shares."""
    if isinstance(decisions, Decisions):
        return [(decisions.firsts[p], n) for p, n in Counter(decisions.path_ids).items()]
    firsts: dict[int, Decision] = {}
    counts: Counter[int] = Counter()
    for d in decisions:
        firsts.setdefault(d.path_id, d)
        counts[d.path_id] += 1
    return [(d, counts[p]) for p, d in firsts.items()]
