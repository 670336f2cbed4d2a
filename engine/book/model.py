"""What a segmentation run does to the book the CRM holds (``of_result.book_of`` makes
it; the run's result keeps it)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .changes import Change
from .csms import CsmBooks
from .current import BookMoves


@dataclass
class Book:
    moves: BookMoves | None  # None: the ruleset has no current_tier column
    csms: CsmBooks | None  # None: no csm column
    change_frame: pl.DataFrame | None = None  # changes.csv's rows (``changes.COLUMNS``)

    @property
    def changes(self) -> list[Change]:
        """changes.csv's rows as Python values."""
        frame = self.change_frame
        return [] if frame is None else [Change(*row) for row in frame.iter_rows()]
