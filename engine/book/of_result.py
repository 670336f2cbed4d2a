"""The current book, the CSM books and the change rows of one segmentation run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from ..assess.result import SegmentResult
from ..evaluate.values import whole_as_int
from .changes import change_frame, text_cells
from .csms import csm_books
from .current import book_moves
from .model import Book


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
    frame = ev.frame
    tier_of = pl.Series([f.tier for f in ev.firsts], dtype=pl.String)
    new = (
        pl.Series(list(tiers), dtype=pl.String)
        if tiers is not None
        else tier_of.gather(ev.path_of)
        if len(tier_of)
        else pl.Series([], dtype=pl.String)
    )
    arr_name = result.arr_field
    arrs = (
        frame[arr_name].cast(pl.Float64).fill_null(0.0)
        if arr_name in frame.columns
        else pl.repeat(0.0, frame.height, eager=True)
    )
    ids = frame["account_id"]
    whole = whole_as_int(rs)
    if ids.dtype != pl.String:  # (as str() of each value)
        ids = text_cells(ids, "account_id" in whole)

    def column(role: str) -> pl.Series:
        name = rs.role(role)
        if name and name in frame.columns:
            return frame[name]
        return pl.Series([None] * frame.height, dtype=pl.String)

    def present(role: str) -> bool:  # (declared, and a column of the portfolio)
        return rs.role(role) not in (None, *result.missing_columns)

    labels, csm_names = column("current_tier"), column("csm")
    moves = book_moves(rs, labels, new, arrs) if present("current_tier") else None
    complexity = rs.current_book.complexity
    weights = frame[complexity] if complexity and complexity in frame.columns else None
    books = csm_books(rs, ids, csm_names, new, arrs, weights) if present("csm") else None
    rows = None
    if moves is not None:
        names = {"name": column("name"), "csm": csm_names, "current_tier": labels}
        rows = change_frame(
            rs,
            moves,
            ids=ids,
            columns=names,
            new=new,
            path_of=ev.path_of,
            firsts=ev.firsts,
            arrs=arrs,
            overrides=overrides,
            whole=frozenset(k for k in names if rs.role(k) in whole),
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
