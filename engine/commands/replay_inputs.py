"""A replay part's accounts' inputs as one frame, kept from quarter to quarter.

A quarter's events name a minority of the accounts; the frame a quarter is evaluated on
is this frame's rows of the accounts served, so only the accounts the quarter's events
named (their inputs changed, or they joined) are read again from their dicts: the rest of
the frame is the last quarter's columns, gathered. The frame of any accounts is the one
``portfolio.frame.input_frame`` makes of their dicts, column for column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..portfolio.frame import input_frame

if TYPE_CHECKING:
    from ..ruleset.model import Ruleset
    from .replay_apply import AccountState


class InputTable:
    """Every account of a part (served or not, in the part's order) as a row of typed
    inputs; ``changed`` says which accounts' inputs events may have changed."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.rs = ruleset
        self.frame: pl.DataFrame | None = None
        self.row_of: dict[str, int] = {}
        self.ids: list[str] = []
        self.dirty: set[str] = set()

    def changed(self, account_ids: Iterable[str]) -> None:
        """These accounts' inputs may have changed (a new account's row is added anyway)."""
        if self.frame is not None:
            self.dirty.update(account_ids)

    def rows(self, states: Mapping[str, AccountState], ids: Sequence[str]) -> pl.DataFrame:
        """The inputs frame of the accounts ``ids`` (in that order)."""
        frame = self._refreshed(states)
        row_of = self.row_of
        return frame[pl.Series([row_of[i] for i in ids], dtype=pl.UInt32)]

    def _refreshed(self, states: Mapping[str, AccountState]) -> pl.DataFrame:
        frame = self.frame
        if frame is None:
            self.ids = list(states)
            self.row_of = {i: k for k, i in enumerate(self.ids)}
            self.dirty.clear()
            self.frame = input_frame(self.rs, [st.inputs for st in states.values()])
            return self.frame
        # accounts only join a part (at its end): those past the frame's rows are new
        new = list(islice(iter(states), frame.height, None))
        row_of = self.row_of
        changed = sorted(row_of[i] for i in self.dirty if i in row_of)
        self.dirty.clear()
        if not changed and not new:
            return frame
        ids = self.ids
        fresh = input_frame(
            self.rs, [states[ids[k]].inputs for k in changed] + [states[i].inputs for i in new]
        )
        n = frame.height
        take = np.arange(n + len(new), dtype=np.uint32)
        take[np.asarray(changed, dtype=np.int64)] = n + np.arange(len(changed), dtype=np.uint32)
        take[n:] = n + len(changed) + np.arange(len(new), dtype=np.uint32)
        for k, i in enumerate(new):
            row_of[i] = n + k
        ids += new
        self.frame = pl.concat([frame, fresh], how="vertical")[pl.Series(take)]
        return self.frame
