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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

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
    ids: pl.Series,
    csms: pl.Series,
    tiers: pl.Series,
    arrs: pl.Series,
    complexity: pl.Series | None,
) -> CsmBooks | None:
    """The books, from each account's id, CSM, new tier, ARR and complexity (account order,
    polars columns).  Each book's sums are ``math.fsum``'s (exact, so in any order) of its
    accounts' columns; an account is a Python value only in a book that moves accounts."""
    if rs.role("csm") is None:
        return None
    neutral = rs.current_book.complexity_neutral
    norms = Norms.of(rs)
    raw = csms.unique().to_list()
    named = {v: "" if v is None else str(v).strip() for v in raw}
    keys = [v for v in raw if v is not None]
    # (numpy divides as Python does; polars may multiply by the reciprocal, a last bit off)
    weight = np.ones(len(ids))
    if complexity is not None:
        c = complexity.cast(pl.Float64)
        weight = np.where(c.is_null().to_numpy(), 1.0, c.fill_null(0.0).to_numpy() / neutral)
    frame = pl.DataFrame(
        {
            "csm": csms.replace_strict(
                keys, [named[k] for k in keys], return_dtype=pl.String
            ).fill_null("")
            if keys
            else pl.repeat("", len(ids), dtype=pl.String, eager=True),
            "id": ids,
            "tier": tiers,
            "arr": arrs.cast(pl.Float64),
            "w": weight,
        }
    ).with_row_index("i")

    def part(of: dict[str, float], name: str) -> pl.Series:
        size = frame["tier"].replace_strict(of, default=0.0, return_dtype=pl.Float64).to_numpy()
        w = frame["w"].to_numpy()
        parts = np.divide(w, size, out=np.zeros(len(w)), where=size != 0)
        return pl.Series(name, parts, dtype=pl.Float64)

    blank = frame.filter(pl.col("csm") == "")["arr"].to_numpy()
    # (numpy's bincount adds its weights in order: the sum of adding each in turn)
    total = np.bincount(np.zeros(len(blank), np.int64), blank, minlength=1)[0]
    unassigned = Tally(len(blank), float(total) if len(blank) else 0.0)
    held = (
        frame.with_columns(part(norms.target, "t"), part(norms.max, "u"), part(norms.min, "l"))
        .filter(pl.col("csm") != "")
        .sort("csm", "i")
    )
    sizes = held.group_by("csm", maintain_order=True).len()
    names = sizes["csm"].to_list()  # (sorted: polars orders text as Python does)
    bounds = [0, *np.cumsum(sizes["len"].to_numpy(), dtype=np.int64).tolist()]
    sums = {c: held[c].to_numpy() for c in ("arr", "t", "u", "l")}
    mix = held.group_by("csm", "tier").len().rows()
    tiers_of: dict[str, dict[str, int]] = {c: {} for c in names}
    for c, t, n in mix:
        tiers_of[c][t] = n
    before: dict[str, CsmBook] = {}
    upper, lower = {}, {}
    for k, name in enumerate(names):
        part_of = slice(bounds[k], bounds[k + 1])
        load = math.fsum(sums["t"][part_of].tolist())
        upper[name] = math.fsum(sums["u"][part_of].tolist())
        lower[name] = math.fsum(sums["l"][part_of].tolist())
        before[name] = CsmBook(
            name,
            bounds[k + 1] - bounds[k],
            math.fsum(sums["arr"][part_of].tolist()),
            {t: tiers_of[name][t] for t in norms.order if tiers_of[name].get(t)},
            load,
            load / upper[name] if upper[name] > 0 else None,
            load / lower[name] if lower[name] > 0 else None,
        )

    def accounts_of(name: str) -> list[Account]:
        k = names.index(name)
        rows = held.slice(bounds[k], bounds[k + 1] - bounds[k])
        return [Account(*r) for r in rows.select("id", "tier", "arr", "w").iter_rows()]

    holds = {name: set(tiers_of[name]) for name in names}
    moves = rebalance_sums(norms, upper, lower, holds, accounts_of)
    changed = {m.from_csm for m in moves} | {m.to_csm for m in moves}
    after = {name: accounts_of(name) for name in changed}
    for m in moves:
        account = next(a for a in after[m.from_csm] if a.account_id == m.account_id)
        after[m.from_csm].remove(account)
        after[m.to_csm].append(account)
    return CsmBooks(
        list(before.values()),
        unassigned,
        moves,
        [norms.book(n, after[n]) if n in after else before[n] for n in names],
    )


def rebalance(norms: Norms, books: dict[str, list[Account]]) -> list[Move]:
    """``rebalance_sums`` of books given as their accounts."""
    upper = {c: math.fsum(norms.part(a, norms.max) for a in accs) for c, accs in books.items()}
    lower = {c: math.fsum(norms.part(a, norms.min) for a in accs) for c, accs in books.items()}
    holds = {c: {a.tier for a in accs} for c, accs in books.items()}
    return rebalance_sums(norms, upper, lower, holds, books.__getitem__)


def rebalance_sums(
    norms: Norms,
    upper: dict[str, float],
    lower: dict[str, float],
    holds: dict[str, set[str]],
    accounts_of: Callable[[str], list[Account]],
) -> list[Move]:
    """The fewest moves this method finds that leave no book over-loaded (see the module's
    docstring), from each book's loads over the max and the min book sizes, its tiers, and
    (only for an over-loaded book) its accounts.  A book that cannot be brought within its
    capacity (no other CSM has the room) gives nothing away: moves that fix no book are
    not proposed."""
    books = list(upper)  # (the CSMs, in the books' order)
    upper, lower = dict(upper), dict(lower)
    holds = {c: set(t) for c, t in holds.items()}
    moves: list[Move] = []
    over = sorted((c for c in books if upper[c] > 1 + EPS), key=lambda c: (-upper[c], c))
    for giver in over:
        rooms = [1 - upper[c] for c in books if c != giver and upper[c] < 1]
        if math.fsum(rooms) + EPS < upper[giver] - 1:
            continue  # (the others' room together is less than the excess: it cannot be fixed)
        state = (dict(upper), dict(lower), {c: set(t) for c, t in holds.items()})
        mine: list[Move] = []
        heaviest = sorted(
            accounts_of(giver), key=lambda a: (-norms.part(a, norms.max), a.account_id)
        )
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
