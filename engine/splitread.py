"""A large CSV portfolio read by two processes: this one reads the first half of the rows,
a forked copy the second, and the copy hands its typed accounts back as columns (each
field's values, with their score parts), from which this process builds their dicts or,
for ``segment``, keeps them as columns (``read.Rows``).

Reading is the one stage that must finish before anything else can start (the band
methods need every account's values), and in CPython it is a second per 100,000 accounts.
Each process reads and decodes its own part of the file, so the file's bytes and text
are never in memory whole.  The halves are split at a line break; whether that break ends
a record is known for certain once this process has read the first half from the top of
the file: a break
inside a quoted cell leaves that cell's text ending in the break, so a last record whose
cells end in one is taken as "maybe inside a cell" and the file is read in one piece.

The halves are used only when both read cleanly: any problem with a row (a bad value, a
blank required cell, an account id in both halves, a row left out by ``--on-error skip``)
or anything unusual about the second process, and the whole file is read again in one
piece, so every message, count and line number is exactly the plain reader's.
"""

from __future__ import annotations

import hashlib
import os
from functools import partial
from typing import Any, Sequence, cast

from .bulk import bulk
from .columns import join
from .forks import can_fork, in_child
from .model import Ruleset
from .errors import DataError
from .read import (CsvRecords, Portfolio, _Builder, _header_csv, body_start, cells_needed, columns,
                   dicts_of, finish)
from .values import PartColumns

FIRST_SHARE = 0.52  # of the rows' text read by this process
_HEADER_MAX = 1 << 20  # bytes the header and the first record must fit in to read halves


def read_halves(path: str, file: str, ruleset: Ruleset, on_error: str,
                values: Any = None) -> Portfolio | None:
    """The CSV portfolio at ``path`` read in two halves at once, or None (read it in one
    piece, which also reports whatever was wrong).

    Each process reads and decodes only its own part of the file: the file's bytes and
    their text are never in memory whole (at 1,000,000 accounts, 270 MB each).  The digest
    is this process's part, then the other part read again from the file (which must not
    change meanwhile).  ``values`` (see read_portfolio): each process computes the values of
    the accounts it reads; if that fails anywhere, the file is read in one piece."""
    if not can_fork() or os.environ.get("TIERBOOK_NO_SPLIT_READ"):
        return None
    try:
        with open(path, "rb") as fh:
            before = os.fstat(fh.fileno())
            # the other process also pickles its columns (and this one unpickles them): it
            # takes the smaller part, from the end of a line on
            fh.seek(int(before.st_size * FIRST_SHARE))
            cut = fh.tell() + len(fh.readline())  # bytes before the other process's part
            fh.seek(0)
            prefix = fh.read(min(cut, _HEADER_MAX))
    except OSError:
        return None
    if cut >= before.st_size:
        return None
    try:  # the header, from the prefix's whole lines (both processes need it)
        start = prefix[:prefix.rfind(b"\n") + 1].decode("utf-8-sig")
        headers, header_lines = _header_csv(start, file)
        colmap, ignored, missing = columns(file, headers, ruleset)
    except (UnicodeDecodeError, DataError):
        return None
    if body_start(start, header_lines) >= len(start):
        return None
    del prefix, start
    need = cells_needed(colmap)

    def builder() -> _Builder:
        b = _Builder(file, headers, ruleset, on_error, False, colmap, values)
        b.part_of = 2  # (a large portfolio is compact as its halves are read)
        return b

    def read_second() -> tuple[Any, ...]:  # in the forked process
        with open(path, "rb") as fh:
            base = 0  # lines before this part
            while fh.tell() < cut:
                base += fh.read(min(1 << 20, cut - fh.tell())).count(b"\n")
            try:
                rest = fh.read().decode("utf-8")
            except UnicodeDecodeError:  # (the one-piece reading reports it)
                return (None, [], None, None, True, None)
        with bulk():
            second = builder()
            # the accounts as their columns while every chunk is read as columns: no dict
            # per account here, and half the pickling; the other process builds the dicts
            second.columns_only = True
            second.read(iter(CsvRecords(rest, file, 0, None, base, need)))
            troubled = bool(second.problems or second.rejects)
            sent: Any = second.accounts
            parts: Any = None
            if troubled:
                pass
            elif second.columns_only:  # (compact, for a large portfolio: half the pickle)
                sent, parts = second.by_field, second.parts
            elif second.prepared is not None:
                # the values are in the accounts' own dicts; each account's score parts beside
                parts = [p for _, p in second.prepared]
        return (sent, second.rows, second.gaps, second.defaulted, troubled, parts)

    # forked before this process reads its part: neither holds the other's bytes or text
    child = in_child(read_second)
    if child is None:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(cut)
        if not head.endswith(b"\n") or head.isspace():
            raise DataError("not two parts", [])
        digest = hashlib.sha256(head)
        text = head.decode("utf-8-sig")
        del head
    except (OSError, UnicodeDecodeError, DataError):
        child.kill()  # (the one-piece reading reports it)
        return None
    top = body_start(text, header_lines)  # where the first record starts
    first = builder()
    records = CsvRecords(text, file, top, None, header_lines, need)
    try:
        with bulk():
            first.read(iter(records))
            if (first.problems or first.rejects or records.last is not None
                    and any(cell.endswith(("\n", "\r")) for cell in records.last)):
                child.kill()  # a problem, or the cut may be inside a quoted cell: one piece
                return None
            if values is not None and first.prepared is None:
                child.kill()  # values failed: in one piece, where the caller reports it
                return None
    except BaseException as exc:  # the other half is not wanted
        child.kill()
        if isinstance(exc, Exception):
            # a problem with the first half or its values: the plain reading (and the values
            # computed after it) reports it
            return None
        raise
    del text, records
    if not _digest_rest(path, cut, before, digest):
        child.kill()  # the file changed while it was read: one piece
        return None
    with bulk():
        ok, second = child.result()
    if not ok:
        return None
    sent, rows, gaps, defaulted, troubled, parts = second
    if troubled:
        return None  # a problem in the other half: the plain reader reports it
    by_field: dict[str, Sequence[Any]] | None = sent if isinstance(sent, dict) else None
    ids = by_field.get("account_id", []) if by_field is not None else [a["account_id"] for a in sent]
    if not first.seen_ids.keys().isdisjoint(ids):
        return None  # an id in both halves: the plain reader reports it
    if first.prepared is not None and (parts is None or len(parts) != len(ids)):
        return None
    if by_field is None or first.by_field is None or by_field.keys() != first.by_field.keys():
        first.make_dicts()  # (the first half's, if kept as columns)
        first.by_field = None
    else:
        if first.columns_only:
            if not (isinstance(parts, PartColumns) and first.parts.extend(parts)):
                return None  # (the halves' parts do not line up: never, for one ruleset)
            for name, column in first.by_field.items():  # (compact if this half is)
                first.by_field[name] = join(column, by_field[name])
        else:  # the second half's dicts are built below from the same objects as its columns
            by_field = {name: list(column) for name, column in by_field.items()}
            for name, column in by_field.items():
                cast(list, first.by_field[name]).extend(column)
        if first.prepared is not None and values is not None and values.ready is not None:
            # every value is known: whatever waits for them starts before any dict is built
            values.ready(first.by_field, first.parts if first.columns_only
                         else [*(p for _, p in first.prepared), *parts])
    if not first.columns_only:  # the second half's dicts, as the first half has
        with bulk():
            accounts = dicts_of(by_field) if by_field is not None else sent
        if first.prepared is not None:
            first.prepared.extend(zip(accounts, parts))
        first.accounts.extend(accounts)
    first.rows.extend(rows)
    first.gaps.update(gaps)  # keys in the order the rows first meet them, as in one piece
    first.defaulted.update(defaulted)
    return finish(first, file, digest.hexdigest(), headers, colmap, ignored, missing)


def _digest_rest(path: str, cut: int, before: os.stat_result, digest: Any) -> bool:
    """``digest`` updated with the file's bytes from ``cut`` on; False when the file is not
    the one whose first part was read (its size or time changed)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(cut)
            for block in iter(partial(fh.read, 1 << 20), b""):
                digest.update(block)
            after = os.fstat(fh.fileno())
    except OSError:
        return False
    return (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
