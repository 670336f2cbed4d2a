"""network.classes.paths_of, the one loop evaluate, tier_counts and the replay's transitions
run classes through: a path cached for a class's conditions held is not run again, the
executor is made only when a class needs it and once, and without a cache every class runs."""

from __future__ import annotations

from contextlib import closing

import polars as pl
import pytest
from tierbook.network.classes import Classes, paths_of


class Recording:
    """An executor that fires "rule" ``bits[0]`` and notes what it was asked."""

    def __init__(self, made: list[Recording]) -> None:
        made.append(self)
        self.name = "recording"
        self.ran: list[bytes] = []
        self.closed = 0

    def run(self, bits: bytes) -> list[tuple[int, int]]:
        self.ran.append(bytes(bits))
        return [(bits[0], 0)]

    def close(self) -> None:
        self.closed += 1


def _classes(*held: bytes) -> Classes:
    """One class per ``held``, its condition codes its first byte and its position."""
    bits = [bytes([h[0], k]) for k, h in enumerate(held)]
    return Classes(list(range(len(held))), bits, list(held), pl.Series(range(len(held))))


def test_a_cached_path_is_not_run_and_no_executor_is_made_for_it() -> None:
    made: list[Recording] = []
    cache = {b"\x01": ((9, 1),), b"\x02": ((8, 0),)}
    paths = list(paths_of(_classes(b"\x01", b"\x02", b"\x01"), lambda: Recording(made), cache))
    assert paths == [((9, 1),), ((8, 0),), ((9, 1),)]
    assert made == []


def test_the_executor_is_made_at_the_first_miss_only_and_once() -> None:
    made: list[Recording] = []
    cache = {b"\x01": ((9, 1),)}
    fired = paths_of(_classes(b"\x01", b"\x05", b"\x06", b"\x05"), lambda: Recording(made), cache)
    assert next(fired) == ((9, 1),) and made == []  # (a hit: nothing made yet)
    assert next(fired) == ((5, 0),) and len(made) == 1
    assert list(fired) == [((6, 0),), ((5, 0),)]  # (the last one is the first miss's, cached)
    (executor,) = made
    assert executor.ran == [b"\x05\x01", b"\x06\x02"]
    assert executor.closed == 1
    assert cache == {b"\x01": ((9, 1),), b"\x05": ((5, 0),), b"\x06": ((6, 0),)}


def test_without_a_cache_every_class_runs_even_holding_the_same() -> None:
    made: list[Recording] = []
    paths = list(paths_of(_classes(b"\x03", b"\x03", b"\x04"), lambda: Recording(made), None))
    assert paths == [((3, 0),), ((3, 0),), ((4, 0),)]
    (executor,) = made
    assert executor.ran == [b"\x03\x00", b"\x03\x01", b"\x04\x02"] and executor.closed == 1


def test_the_executor_is_closed_when_the_reader_stops_early_or_fails() -> None:
    made: list[Recording] = []
    with closing(paths_of(_classes(b"\x01", b"\x02"), lambda: Recording(made), {})) as fired:
        next(fired)
    assert [e.closed for e in made] == [1] and made[0].ran == [b"\x01\x00"]
    with (
        pytest.raises(KeyError),
        closing(paths_of(_classes(b"\x07", b"\x08"), lambda: Recording(made), {})) as fired,
    ):
        for _ in fired:
            raise KeyError("the reader's own error")
    assert [e.closed for e in made] == [1, 1]


def test_no_class_makes_no_executor() -> None:
    made: list[Recording] = []
    assert list(paths_of(_classes(), lambda: Recording(made), None)) == [] and made == []
