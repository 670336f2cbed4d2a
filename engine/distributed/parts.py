"""A partitioned portfolio: a folder or glob of part files (CSV, JSON Lines, Parquet), or one
large CSV or JSON Lines file cut into byte ranges at record boundaries.

A range is read by a worker as a file of its own: the header, then as many empty lines as
come before the range, then the range.  Empty records are skipped by the reader, so every
line number a message or a reject names is the line of the original file, and the same
reader (tierbook.portfolio) reads every part.
"""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, Problem
from ..portfolio.formats import JSON_LINES

SUFFIXES = (".csv", ".parquet", *JSON_LINES)
BLOCK = 1 << 24  # bytes read at a time while looking for the cuts


@dataclass(frozen=True)
class Part:
    """One partition: a whole file, or the bytes ``start``-``stop`` of one."""

    path: str
    display: str  # the name messages give
    start: int = 0
    stop: int = -1  # -1: the whole file
    header: bytes = b""  # a range's header line(s), CSV only
    lines_before: int = 0  # lines of the file before ``start``

    @property
    def whole(self) -> bool:
        return self.stop < 0


@dataclass(frozen=True)
class Portfolio:
    """What the run reads: its parts in order, the name it is given, and its digest."""

    display: str
    parts: list[Part]
    sha256: str


def _not_found(display: str, message: str, code: str) -> DataError:
    return DataError(message, [Problem(display, 0, 0, "", message, code)])


def is_parted(path: str) -> bool:
    """Whether ``path`` names a portfolio in parts: a folder, or a glob pattern."""
    return Path(path).is_dir() or any(ch in path for ch in "*?[")


def partitioned(path: str, display: str, splits: int) -> Portfolio:
    """The parts of a folder (its portfolio files, sorted by name), of a glob pattern, or
    of one file cut into ``splits`` ranges (a Parquet file is one part)."""
    p = Path(path)
    if is_parted(path):
        files = (
            sorted(str(f) for f in p.iterdir() if f.suffix.lower() in SUFFIXES)
            if p.is_dir()
            else sorted(f for f in glob.glob(path) if Path(f).suffix.lower() in SUFFIXES)
        )
        if not files:
            raise _not_found(display, "no portfolio parts (.csv, .jsonl, .parquet) here", "empty")
        parts = [Part(f, f) for f in files]
        digests = "".join(f"{_sha256(f)}  {Path(f).name}\n" for f in files)
        return Portfolio(display, parts, hashlib.sha256(digests.encode()).hexdigest())
    if not p.is_file():
        raise _not_found(display, "file not found", "not-found")
    if p.suffix.lower() == ".parquet" or splits <= 1:
        return Portfolio(display, [Part(path, display)], _sha256(path))
    return _ranges(path, display, splits, csv=p.suffix.lower() not in JSON_LINES)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _ranges(path: str, display: str, splits: int, csv: bool) -> Portfolio:
    """Cut at the first line break after each ``size/splits`` bytes that is not inside a
    quoted cell (an even number of quotes before it); the digest is of the whole file."""
    size = os.path.getsize(path)
    targets = [size * k // splits for k in range(1, splits)]
    cuts: list[tuple[int, int]] = []  # (byte after the line break, lines before it)
    header_end: tuple[int, int] | None = None if csv else (0, 0)
    digest = hashlib.sha256()
    offset = quotes = lines = 0
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
            arr = np.frombuffer(block, dtype=np.uint8)
            breaks = np.flatnonzero(arr == 10)
            if csv:  # (quotes before each break, by position: a cumsum of a mask is slow)
                marks = np.flatnonzero(arr == 34)
                even = (quotes + np.searchsorted(marks, breaks)) % 2 == 0
                closed = breaks[even]
            else:
                closed = breaks
            # lines before each closed break's next byte: the breaks up to and including it
            count = np.searchsorted(breaks, closed, side="right") + lines
            if header_end is None and len(closed):
                header_end = (offset + int(closed[0]) + 1, int(count[0]))
            positions = offset + closed + 1
            while targets and len(positions):
                k = int(np.searchsorted(positions, targets[0], side="right"))
                if k == len(positions):
                    break
                targets.pop(0)
                cut = (int(positions[k]), int(count[k]))
                if not cuts or cuts[-1][0] != cut[0]:
                    cuts.append(cut)
            if csv:
                quotes += len(marks)
            lines += len(breaks)
            offset += len(block)
    if header_end is None:  # (one line only: the reader says what is wrong with it)
        return Portfolio(display, [Part(path, display)], digest.hexdigest())
    with open(path, "rb") as f:
        header = f.read(header_end[0]) if csv else b""
    starts = [header_end] + [c for c in cuts if c[0] < size]
    parts = [
        Part(path, display, start, stop, header, before)
        for (start, before), (stop, _) in zip(starts, starts[1:] + [(size, 0)])
        if stop > start
    ]
    return Portfolio(display, parts, digest.hexdigest())


@contextmanager
def readable(part: Part) -> Iterator[str]:
    """A path the portfolio reader can read for ``part``: the file itself, or a temporary
    file of the header, the empty lines before the range and the range."""
    if part.whole:
        yield part.path
        return
    fd, tmp = tempfile.mkstemp(suffix=Path(part.path).suffix.lower(), prefix="tierbook-part-")
    try:
        with os.fdopen(fd, "wb") as out, open(part.path, "rb") as f:
            out.write(part.header)
            header_lines = part.header.count(b"\n")
            out.write(b"\n" * (part.lines_before - header_lines))
            f.seek(part.start)
            left = part.stop - part.start
            while left > 0:
                block = f.read(min(BLOCK, left))
                if not block:
                    break
                out.write(block)
                left -= len(block)
        yield tmp
    finally:
        os.unlink(tmp)
