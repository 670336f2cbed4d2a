"""Every named CSM's book against the tiers' book sizes, and a rebalancing proposal.

An account weighs ``complexity / complexity_neutral`` (``current_book.complexity``; 1 when
the ruleset names no complexity or the account's is blank).  A CSM's *load* is the sum over
the book of weight / the tier's target book size: 1.0 is exactly one target-size book.
The CSM's *capacity* is the load of the largest book the same tier mix allows (weights over
the tiers' ``book_size.max``) and the *floor* the load of the smallest (over ``min``):
over-loaded above capacity, under-loaded below the floor.  A tier with no book size
(automated) weighs nothing; one with no max never makes a book over-loaded.

Rebalancing moves accounts only out of over-loaded books, so any proposal that leaves no
book over-loaded moves at least, from each such book, the fewest accounts whose weight over
the max covers the excess; taking the heaviest first is that fewest.  Each goes to the CSM
it fits best without being over-loaded: under-loaded first, then a CSM already holding the
tier, then the most room, then the name.  Ties between accounts break on the account id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..ruleset.model import Ruleset
from .current import Tally

EPS = 1e-9


@dataclass
class CsmBook:
    csm: str
    accounts: int
    arr: float
    tiers: dict[str, int]
    load: float
    capacity: float | None
    floor: float | None

    @property
    def status(self) -> str:
        if self.capacity is not None and self.load > self.capacity + EPS:
            return "over"
        if self.floor is not None and self.load < self.floor - EPS:
            return "under"
        return "ok"

    def as_json(self) -> dict[str, Any]:
        return {
            "csm": self.csm,
            "accounts": self.accounts,
            "arr": round(self.arr, 2),
            "tiers": self.tiers,
            "load": round(self.load, 4),
            "capacity": None if self.capacity is None else round(self.capacity, 4),
            "floor": None if self.floor is None else round(self.floor, 4),
            "status": self.status,
        }


@dataclass(frozen=True)
class Move:
    account_id: str
    tier: str
    from_csm: str
    to_csm: str
    load_moved: float

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "tier": self.tier,
            "from_csm": self.from_csm,
            "to_csm": self.to_csm,
            "load_moved": round(self.load_moved, 4),
        }


@dataclass
class CsmBooks:
    csms: list[CsmBook]
    unassigned: Tally
    rebalancing: list[Move] = field(default_factory=list)
    after: list[CsmBook] = field(default_factory=list)  # the books once the moves are made

    def count(self, status: str, books: list[CsmBook] | None = None) -> int:
        return sum(b.status == status for b in (self.csms if books is None else books))

    def as_json(self) -> dict[str, Any]:
        return {
            "csms": [b.as_json() for b in self.csms],
            "unassigned": self.unassigned.as_json(),
            "rebalancing": [m.as_json() for m in self.rebalancing],
            "over_after": self.count("over", self.after),
        }


@dataclass(frozen=True)
class Account:
    account_id: str
    tier: str
    arr: float
    weight: float


@dataclass(frozen=True)
class Norms:
    """Each tier's weight divisor for the load (target), the capacity (max), the floor (min);
    a tier missing from one weighs nothing there."""

    target: dict[str, float]
    max: dict[str, float]
    min: dict[str, float]
    order: tuple[str, ...]

    @classmethod
    def of(cls, rs: Ruleset) -> Norms:
        named = [t for t in rs.tiers if t.book_target and not t.automated]
        return cls(
            {t.id: float(t.book_target or 0) for t in named},
            {t.id: float(t.book_max) for t in named if t.book_max},
            {t.id: float(t.book_min) for t in named if t.book_min},
            tuple(rs.tier_ids),
        )

    def part(self, a: Account, of: dict[str, float]) -> float:
        size = of.get(a.tier)
        return a.weight / size if size else 0.0

    def book(self, csm: str, accounts: list[Account]) -> CsmBook:
        load = math.fsum(self.part(a, self.target) for a in accounts)
        upper = math.fsum(self.part(a, self.max) for a in accounts)
        lower = math.fsum(self.part(a, self.min) for a in accounts)
        tiers = {t: sum(a.tier == t for a in accounts) for t in self.order}
        return CsmBook(
            csm,
            len(accounts),
            math.fsum(a.arr for a in accounts),
            {t: n for t, n in tiers.items() if n},
            load,
            load / upper if upper > 0 else None,
            load / lower if lower > 0 else None,
        )


def csm_books(
    rs: Ruleset,
    ids: list[str],
    csms: list[Any],
    tiers: list[str],
    arrs: list[float],
    complexity: list[Any] | None,
) -> CsmBooks | None:
    """The books, from each account's id, CSM, new tier, ARR and complexity (account order)."""
    if rs.role("csm") is None:
        return None
    neutral = rs.current_book.complexity_neutral
    books: dict[str, list[Account]] = {}
    unassigned = Tally()
    for i, (account_id, csm, tier, arr) in enumerate(zip(ids, csms, tiers, arrs, strict=True)):
        name = "" if csm is None else str(csm).strip()
        if not name:
            unassigned.add(arr)
            continue
        c = complexity[i] if complexity is not None else None
        weight = float(c) / neutral if c is not None else 1.0
        books.setdefault(name, []).append(Account(account_id, tier, arr, weight))
    norms = Norms.of(rs)
    held = {name: books[name] for name in sorted(books)}
    moves = rebalance(norms, held)
    before = {name: norms.book(name, accounts) for name, accounts in held.items()}
    changed = {m.from_csm for m in moves} | {m.to_csm for m in moves}
    after = {name: list(held[name]) for name in changed}
    for m in moves:
        account = next(a for a in after[m.from_csm] if a.account_id == m.account_id)
        after[m.from_csm].remove(account)
        after[m.to_csm].append(account)
    return CsmBooks(
        list(before.values()),
        unassigned,
        moves,
        [norms.book(n, after[n]) if n in after else before[n] for n in held],
    )


def rebalance(norms: Norms, books: dict[str, list[Account]]) -> list[Move]:
    """The fewest moves this method finds that leave no book over-loaded (see the module's
    docstring).  A book that cannot be brought within its capacity (no other CSM has the
    room) gives nothing away: moves that fix no book are not proposed."""
    upper = {c: math.fsum(norms.part(a, norms.max) for a in accs) for c, accs in books.items()}
    lower = {c: math.fsum(norms.part(a, norms.min) for a in accs) for c, accs in books.items()}
    holds = {c: {a.tier for a in accs} for c, accs in books.items()}
    moves: list[Move] = []
    over = sorted((c for c in books if upper[c] > 1 + EPS), key=lambda c: (-upper[c], c))
    for giver in over:
        rooms = [1 - upper[c] for c in books if c != giver and upper[c] < 1]
        if math.fsum(rooms) + EPS < upper[giver] - 1:
            continue  # (the others' room together is less than the excess: it cannot be fixed)
        state = (dict(upper), dict(lower), {c: set(t) for c, t in holds.items()})
        mine: list[Move] = []
        heaviest = sorted(books[giver], key=lambda a: (-norms.part(a, norms.max), a.account_id))
        most_room = max(rooms, default=0.0)
        for a in heaviest:
            share = norms.part(a, norms.max)
            if upper[giver] <= 1 + EPS or share <= 0:
                break
            if share > most_room + EPS:
                continue  # (fits nowhere)
            fits = [c for c in books if c != giver and upper[c] + share <= 1 + EPS]
            if not fits:
                continue
            to = min(
                fits,
                key=lambda c: (lower[c] >= 1 - EPS, a.tier not in holds[c], upper[c], c),
            )
            for book, sign in ((giver, -1.0), (to, 1.0)):
                upper[book] += sign * share
                lower[book] += sign * norms.part(a, norms.min)
            holds[to].add(a.tier)
            most_room = max((1 - upper[c] for c in books if c != giver), default=0.0)
            mine.append(Move(a.account_id, a.tier, giver, to, norms.part(a, norms.target)))
        if upper[giver] > 1 + EPS:  # (still over: undo, and leave the book as it is)
            upper, lower, holds = state
            continue
        moves.extend(mine)
    return moves
