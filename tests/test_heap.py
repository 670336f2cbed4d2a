"""The collector's thresholds while a replay holds its book (commands/heap.py): raised for
the replay, never lowered, and the caller's again after it, however it ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import tierbook.commands.replay as replay_module
from tierbook.commands.heap import THRESHOLDS, fewer_collections

from .conftest import write_portfolio
from .test_replay import ARGS, events, ruleset, run


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_raised_inside_restored_after(thresholds) -> None:
    with fewer_collections():
        assert gc.get_threshold() == THRESHOLDS
    assert gc.get_threshold() == thresholds


def test_restored_after_an_error(thresholds) -> None:
    with pytest.raises(KeyError), fewer_collections():
        raise KeyError("x")
    assert gc.get_threshold() == thresholds


def test_never_lower_than_the_callers() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(100_000, 5, 50)
        with fewer_collections():
            assert gc.get_threshold() == (100_000, 20, 50)
        assert gc.get_threshold() == (100_000, 5, 50)
    finally:
        gc.set_threshold(*before)


def test_a_replay_runs_with_fewer_collections(tmp_path: Path, monkeypatch, thresholds) -> None:
    seen = []
    original = replay_module.replay

    def watched(*args, **kwargs):
        seen.append(gc.get_threshold())
        return original(*args, **kwargs)

    monkeypatch.setattr(replay_module, "replay", watched)
    portfolio = write_portfolio(tmp_path, {"A": (50000, 0.2), "B": (5000, 0.2)})
    ev = events(tmp_path, ["2026Q4,A,renewal,arr,200000"])
    result = run(
        "replay", ruleset(tmp_path), portfolio, ev, *ARGS, "--store", str(tmp_path / "s.sqlite")
    )
    assert result.exit_code == 0, result.output
    assert seen == [THRESHOLDS]
    assert gc.get_threshold() == thresholds
