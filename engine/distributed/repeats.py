"""Account ids repeated across the parts of a partitioned portfolio, found as one read of
the whole would find them: a part's id already read without a problem in an earlier part
is a duplicate, named where it repeats and where it was first.  The parts that repeat one
are read again with those ids given (``read_portfolio``'s ``earlier``), so the repeat is
reported (``--on-error fail``) or set aside (``skip``) by the reader itself, as one machine
does: the same message, the same reject, in the same place among the part's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

Found = TypeVar("Found")


@dataclass(frozen=True)
class Seen:
    """A part's accounts read without a problem: their ids (as the reader typed them) and
    their lines, and the name its messages give."""

    file: str
    ids: list[Any]
    lines: list[int]
    unit: str = "line"  # what ``lines`` count: "row" for a Parquet part


def repeats_across(parts: Sequence[Seen | None]) -> list[dict[Any, str]]:
    """For each part, the ids of earlier parts it repeats, each with where it was first:
    "line N" (of the same file: a range of one file cut by the workers) or "line N of FILE"
    ("row N of FILE" for a Parquet part)."""
    first: dict[Any, tuple[str, str]] = {}
    out: list[dict[Any, str]] = []
    for seen in parts:
        mine: dict[Any, str] = {}
        if seen is not None:
            for account_id, line in zip(seen.ids, seen.lines):
                if account_id is None:
                    continue
                where = first.get(account_id)
                if where is None:
                    first[account_id] = (seen.file, f"{seen.unit} {line}")
                elif account_id not in mine:
                    file, at = where
                    mine[account_id] = str(at) if file == seen.file else f"{at} of {file}"
        out.append(mine)
    return out


def read_again(
    reads: list[Any],
    found: list[Found],
    seen: Sequence[Seen | None],
    read: Callable[[int, dict[Any, str]], Any],
    gather: Callable[[list[Any]], list[Found]],
) -> None:
    """The parts that repeat ids of earlier parts (``seen``: each part's accounts as read)
    read again, told those ids: ``read(k, earlier)`` submits part k's read, ``gather``
    gives what the driver keeps of reads; ``reads`` and ``found`` are updated in place."""
    again = [(k, r) for k, r in enumerate(repeats_across(seen)) if r]
    if not again:
        return
    for k, earlier in again:
        reads[k] = read(k, earlier)
    for (k, _), f in zip(again, gather([reads[k] for k, _ in again])):
        found[k] = f
