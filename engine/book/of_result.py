"""The current book, the CSM books and the change rows of one segmentation run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..assess.result import SegmentResult
from .changes import Change, changes
from .csms import CsmBooks, csm_books
from .current import BookMoves, book_moves


@dataclass
class Book:
    moves: BookMoves | None  # None: the ruleset has no current_tier column
    csms: CsmBooks | None  # None: no csm column
    changes: list[Change] = field(default_factory=list)


def book_of(
    result: SegmentResult,
    *,
    tiers: Sequence[str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Book:
    """``tiers``: each account's effective tier where something other than the rules
    decides it (overrides), else the rules' own; ``overrides``: account id -> the override
    that decides it, named as the reason in changes.csv."""
    rs = result.ruleset
    ev = result.evaluation
    new = list(tiers) if tiers is not None else ev.tiers()
    arrs = [float(v or 0.0) for v in ev.column(result.arr_field)]
    ids = ev.account_ids()

    def column(role: str) -> list[object]:
        name = rs.role(role)
        return ev.column(name) if name and name in ev.frame.columns else [None] * len(ids)

    def present(role: str) -> bool:  # (declared, and a column of the portfolio)
        return rs.role(role) not in (None, *result.missing_columns)

    labels, csm_names = column("current_tier"), column("csm")
    moves = book_moves(rs, labels, new, arrs) if present("current_tier") else None
    complexity = rs.current_book.complexity
    weights = ev.column(complexity) if complexity and complexity in ev.frame.columns else None
    books = csm_books(rs, ids, csm_names, new, arrs, weights) if present("csm") else None
    rows: list[Change] = []
    if moves is not None:
        firsts = ev.firsts
        decisions = [firsts[p] for p in ev.path_ids()]
        if tiers is not None:  # (the reason names the override; the tier is the effective one)
            decisions = [d if d.tier == t else replace(d, tier=t) for d, t in zip(decisions, new)]
        rows = changes(
            rs,
            moves,
            ids=ids,
            names=column("name"),
            csms=csm_names,
            labels=labels,
            decisions=decisions,
            arrs=arrs,
            overrides=overrides,
        )
    return Book(moves, books, rows)


def the_book(result: SegmentResult) -> Book:
    """The run's book, computed once and kept on the result."""
    if result.book is None:
        if result.overrides is None:
            result.book = book_of(result)
        else:  # (the effective tiers move the book; the override is the change's reason)
            ids = result.evaluation.account_ids()
            result.book = book_of(
                result,
                tiers=result.tiers(),
                overrides={  # (the reason only where the override, not the rules, set the tier)
                    ids[i]: a.ids
                    for i, a in result.overrides.applied.items()
                    if a.tier != a.rules_tier
                },
            )
    return result.book
