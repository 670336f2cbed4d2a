"""A replay part's accounts' inputs as one frame, kept from quarter to quarter.

A quarter's events name a minority of the accounts and write one or two inputs of each:
the frame a quarter is evaluated on is this frame's rows of the accounts served, and only
the inputs the quarter's events wrote (``written``) are read again from the accounts'
dicts, a column at a time; a new account's row is added whole. The frame of any accounts
is the one ``portfolio.frame.input_frame`` makes of their dicts, column for column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..assess.histories import Rows
from ..portfolio.cast import dtype_of
from ..portfolio.frame import input_frame

if TYPE_CHECKING:
    from ..portfolio.events import Event
    from ..ruleset.model import Ruleset
    from .replay_apply import AccountState

# the events that set an account's ARR (replay_apply); a signal or a new account's event
# sets the inputs its fields name, a churn none
ARR_EVENTS = frozenset({"renewal", "expansion", "contraction", "reactivation"})


def written(
    events: Iterable[Event], arr_field: str, input_of: Callable[[str], str | None]
) -> Iterator[tuple[str, str]]:
    """(account id, input id) of every input the events may have written (``input_of``:
    the input an event's field name sets, as ``replay_apply`` matches it)."""
    for e in events:
        if not e.account_id:
            continue
        if e.type in ARR_EVENTS:
            yield e.account_id, arr_field
        elif e.type in ("signal", "new_account"):
            for name in e.fields:
                found = input_of(name)
                if found:
                    yield e.account_id, found


class InputTable:
    """Every account of a part (served or not, in the part's order) as a row of typed
    inputs; ``changed`` says which accounts' inputs events may have written."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.rs = ruleset
        self.dtypes = {i.id: dtype_of(i) for i in ruleset.inputs}
        self.frame: pl.DataFrame | None = None
        self.row_of: dict[str, int] = {}
        self.ids: list[str] = []
        self.dirty: dict[str, set[str]] = defaultdict(set)  # input id -> account ids

    def changed(self, cells: Iterable[tuple[str, str]]) -> None:
        """These (account id, input id) may have been written (a new account's row is
        added whole anyway)."""
        if self.frame is not None:
            for account_id, input_id in cells:
                self.dirty[input_id].add(account_id)

    def rows(self, states: Mapping[str, AccountState], ids: Sequence[str]) -> pl.DataFrame:
        """The inputs frame of the accounts ``ids`` (in that order)."""
        frame = self._refreshed(states)
        row_of = self.row_of
        return frame[pl.Series([row_of[i] for i in ids], dtype=pl.UInt32)]

    def positions(self, states: Mapping[str, AccountState], ids: Sequence[str]) -> Rows:
        """The rows of the accounts ``ids`` in the frame (the part's order)."""
        self._refreshed(states)
        row_of = self.row_of
        return np.fromiter((row_of[i] for i in ids), dtype=np.int64, count=len(ids))

    @property
    def height(self) -> int:
        return 0 if self.frame is None else self.frame.height

    def _refreshed(self, states: Mapping[str, AccountState]) -> pl.DataFrame:
        frame = self.frame
        if frame is None:
            self.ids = list(states)
            self.row_of = {i: k for k, i in enumerate(self.ids)}
            self.dirty.clear()
            self.frame = input_frame(self.rs, [st.inputs for st in states.values()])
            return self.frame
        row_of, ids = self.row_of, self.ids
        columns = []
        for name, accounts in self.dirty.items():
            at = sorted(row_of[i] for i in accounts if i in row_of)
            if not at or name not in self.dtypes:
                continue
            values = [states[ids[k]].inputs.get(name) for k in at]
            column = frame[name].clone()
            column.scatter(at, pl.Series(name, values, dtype=self.dtypes[name], strict=False))
            columns.append(column)
        self.dirty.clear()
        if columns:
            frame = frame.with_columns(columns)
        # accounts only join a part (at its end): those past the frame's rows are new
        new = list(islice(iter(states), frame.height, None))
        if new:
            for k, i in enumerate(new):
                row_of[i] = frame.height + k
            ids += new
            frame = pl.concat([frame, input_frame(self.rs, [states[i].inputs for i in new])])
        self.frame = frame
        return frame
