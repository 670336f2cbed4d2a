"""What a worker does with its partition, with the core's own functions: read and cast it
(tierbook.portfolio), compute its values (tierbook.evaluate.values), set aside the accounts
that cannot be placed, then, once the bands are resolved over the whole portfolio, its
condition codes and the conditions held (tierbook.network.classes).  Nothing here decides a
value, a condition or a band: the driver gathers what these return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from ..errors import DataError
from ..evaluate.bands import ResolvedBands
from ..evaluate.values import with_values
from ..network.classes import Classes, classes
from ..network.compile import compile_network
from ..portfolio.frame import Portfolio, read_portfolio
from ..ruleset.model import Ruleset
from .parts import Part, readable
from .repeats import Seen

SetAside = Callable[[Ruleset, Portfolio, pl.DataFrame, str], pl.DataFrame]


@dataclass
class PartRead:
    """A partition read on a worker: its values frame (kept there) and what the driver
    needs to know about it, or the error reading it gave."""

    index: int
    frame: pl.DataFrame | None  # the accounts' values
    portfolio: Portfolio | None  # the read's findings (gaps, rejects, lines), frame dropped
    error: DataError | None = None
    stage: str = ""  # "read" or "place": where the error came from
    empty: bool = False  # a range or part with no account records
    id_column: int = 0
    seen: Seen | None = None  # (--on-error skip) its accounts read, for ids repeated later


@dataclass
class PartSummary:
    """A partition's read without its values: the findings, and the known values of what
    each band set bands (in account order, for the bands resolved over the whole)."""

    index: int
    portfolio: Portfolio | None
    error: DataError | None
    stage: str
    empty: bool
    height: int
    banded: dict[str, pl.Series]
    id_column: int = 0  # the account id's column (1-based), for messages
    seen: Seen | None = None


@dataclass
class Read:
    """A part as the core's reader read it: its portfolio, or the error reading it gave; a
    part of no account rows is ``empty`` (``rejected``: every row of it set aside, --on-error
    skip), its error the reader's."""

    portfolio: Portfolio | None
    error: DataError | None = None
    empty: bool = False
    rejected: bool = False
    id_column: int = 0  # (``id_column=True``) the account id's column in the part, 1-based


def read_of(
    part: Part,
    ruleset: Ruleset,
    on_error: str,
    earlier: dict[Any, str] | None = None,
    id_column: bool = False,
) -> Read:
    """``part`` read with ``read_portfolio`` (what a segment's or a replay's worker reads);
    ``earlier``: ids of earlier parts this one repeats, with where they were first."""
    with readable(part) as path:
        try:
            portfolio = read_portfolio(
                path, ruleset, on_error=on_error, display=part.display, earlier=earlier
            )
        except DataError as exc:
            only = exc.problems[0] if len(exc.problems) == 1 else None
            if only is not None and only.code == "empty":  # (as segment: a part of no rows)
                return Read(None, exc, empty=True, rejected=only.message.endswith("rejects"))
            return Read(None, exc)
        return Read(portfolio, id_column=_id_column(path, ruleset, portfolio) if id_column else 0)


def seen_of(part: Part, ruleset: Ruleset, portfolio: Portfolio) -> Seen:
    """The part's accounts as read (before any is set aside), for ids repeated later."""
    id_input = ruleset.role("account_id") or "account_id"
    ids = portfolio.frame[id_input if id_input in portfolio.frame.columns else "account_id"]
    return Seen(part.display, ids.to_list(), list(portfolio.rows), portfolio.unit)


def read_part(
    index: int,
    part: Part,
    ruleset: Ruleset,
    as_of: dt.date,
    on_error: str,
    set_aside: SetAside,
    earlier: dict[Any, str] | None = None,
) -> PartRead:
    """``earlier``: ids of earlier parts this one repeats, with where they were first."""
    read = read_of(part, ruleset, on_error, earlier, id_column=True)
    portfolio = read.portfolio
    if portfolio is None:
        empty = read.empty and not read.rejected
        return PartRead(index, None, None, None if empty else read.error, "read", empty)
    portfolio.sha256 = ""
    # (the ids as read: before any account is set aside as unplaceable)
    seen = seen_of(part, ruleset, portfolio) if on_error == "skip" else None
    try:
        frame = set_aside(
            ruleset, portfolio, with_values(ruleset, portfolio.frame, as_of), on_error
        )
    except DataError as exc:
        return PartRead(index, None, None, exc, "place")
    found = replace(portfolio, frame=portfolio.frame.clear())
    return PartRead(index, frame, found, id_column=read.id_column, seen=seen)


def summarize(read: PartRead, overs: list[str]) -> PartSummary:
    frame = read.frame
    banded = {}
    if frame is not None:
        for over in overs:
            column = frame[over] if over in frame.columns else pl.Series(over, [], pl.Float64)
            banded[over] = column.drop_nulls()
    return PartSummary(
        read.index,
        read.portfolio,
        read.error,
        read.stage,
        read.empty,
        0 if frame is None else frame.height,
        banded,
        read.id_column,
        read.seen,
    )


def _id_column(path: str, ruleset: Ruleset, portfolio: Portfolio) -> int:
    """Where the account id's column is in the part's header (1-based; 0: it has none)."""
    header = portfolio.columns.get(ruleset.role("account_id") or "account_id")
    if header is None:
        return 0
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix == "parquet":
        names = list(pl.read_parquet_schema(path))
    elif suffix == "csv":
        names = [n.strip() for n in pl.read_csv(path, n_rows=0, infer_schema=False).columns]
    else:
        names = list(portfolio.columns.values())
    return names.index(header) + 1 if header in names else 0


def part_classes(
    read: PartRead, ruleset: Ruleset, bands: dict[str, ResolvedBands], memo: bool
) -> tuple[pl.DataFrame, Classes]:
    """The partition's values and its classes under the network of the whole portfolio's
    bands (each class's first account counted within the partition)."""
    frame = read.frame if read.frame is not None else pl.DataFrame()
    if not frame.height:
        return frame, Classes([], [], [], pl.Series("class", [], dtype=pl.UInt32))
    network = compile_network(ruleset, bands)
    return frame, classes(network, frame, memo)
