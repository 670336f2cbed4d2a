"""A replay's starting book read on the workers from a partitioned portfolio (a folder or
glob of parts, ``parts.partitioned``): each worker reads its parts with the core's reader
(``read_portfolio``), the accounts stay there, and the driver gathers what it needs to
route the events and to find ids repeated across parts (``repeats``).  The replay's parts
(``replay.DaskParts``) then take their accounts from these reads, on the workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataError, Problem
from ..ruleset.model import Ruleset
from .parts import Part, Portfolio
from .repeats import Seen, read_again
from .run import RETRIES, ClusterError, merged_error
from .worker import read_of, seen_of


@dataclass
class BookPart:
    """A part of the book read on a worker: its accounts (kept there), or why it has none."""

    accounts: list[dict[str, Any]]
    seen: Seen | None
    error: DataError | None = None
    rejected: bool = False  # every row of the part set aside (--on-error skip)


@dataclass
class Found:
    """What the driver gathers of a ``BookPart``: the ids (for the events' routing), what
    the repeats across parts are found from, and its error."""

    ids: list[str]
    seen: Seen | None
    error: DataError | None
    rejected: bool


@dataclass
class HeldBook:
    """The book's accounts held by the workers: each part's read (a Dask future) and its
    accounts' ids, in part order (the book's order)."""

    reads: list[Any]
    ids: list[list[str]]

    def stand_in(self) -> list[dict[str, Any]]:
        """The accounts as the driver knows them: their ids (their inputs are on the
        workers)."""
        return [{"account_id": i} for ids in self.ids for i in ids]


def read_book_part(
    part: Part, ruleset: Ruleset, on_error: str, earlier: dict[Any, str] | None = None
) -> BookPart:
    read = read_of(part, ruleset, on_error, earlier)
    if read.portfolio is None:
        if read.empty:
            return BookPart([], None, rejected=read.rejected)
        return BookPart([], None, read.error)
    return BookPart(read.portfolio.accounts, seen_of(part, ruleset, read.portfolio))


def found_of(read: BookPart) -> Found:
    ids = [str(a["account_id"]) for a in read.accounts]
    return Found(ids, read.seen, read.error, read.rejected)


def accounts_of(pieces: Sequence[tuple[BookPart, int, int]]) -> list[dict[str, Any]]:
    """The accounts ``lo``-``hi`` of each read, one after the other."""
    return [a for read, lo, hi in pieces for a in read.accounts[lo:hi]]


def read_book(
    client: Any, source: Portfolio, ruleset: Ruleset, on_error: str
) -> HeldBook | list[dict[str, Any]]:
    """The book of ``source``'s parts, read on the workers; an empty list for a book with
    no accounts (parts with a header only: a replay that starts from an empty book)."""

    def submit(k: int, earlier: dict[Any, str] | None = None) -> Any:
        return client.submit(
            read_book_part,
            source.parts[k],
            ruleset,
            on_error,
            earlier,
            retries=RETRIES,
            pure=False,
        )

    def gather(futures: list[Any]) -> list[Found]:
        try:
            found: list[Found] = client.gather(
                [client.submit(found_of, r, retries=RETRIES, pure=False) for r in futures]
            )
        except Exception as exc:
            raise ClusterError(f"the distributed run could not finish: {exc!r}") from exc
        return found

    reads = [submit(k) for k in range(len(source.parts))]
    found = gather(reads)
    failed = [f.error for f in found if f.error is not None]
    if not failed:
        read_again(reads, found, [f.seen for f in found], submit, gather)
        failed = [f.error for f in found if f.error is not None]
    if failed:
        raise merged_error(source.display, "read", failed)
    if not any(f.ids for f in found):
        if any(f.rejected for f in found):
            why = "no account rows left after skipping rejects"
            raise DataError("no accounts", [Problem(source.display, 2, 1, "", why, "empty")])
        return []
    return HeldBook(reads, [f.ids for f in found])
