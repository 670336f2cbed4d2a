"""The output files: forked copies draw the chart and write accounts.jsonl while this process
writes the rest; the files are the same either way, and a failed copy costs nothing."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

import tierbook.report as report
import tierbook.segment as S
from tierbook.forks import can_fork
from tierbook.ruleset import load_ruleset

from .conftest import AS_OF, ROOT, SAMPLE

FILES = ("model.md", "accounts.csv", "accounts.jsonl", "tiers.png", "report.json")
forks = pytest.mark.skipif(not can_fork(), reason="no second core or fork here")


@lru_cache(maxsize=None)
def result():
    rs = load_ruleset(str(ROOT / "rulesets" / "cs-segmentation-model.yaml"))
    return S.segment(rs, str(SAMPLE), as_of=AS_OF, engine="native")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def in_parent_only(monkeypatch, name: str) -> None:
    """``report.<name>`` fails when this process calls it; a forked copy runs it as usual."""
    parent = os.getpid()
    real = getattr(report, name)

    def guarded(*args, **kwargs):
        if os.getpid() == parent:
            raise AssertionError(f"{name} ran in this process")
        return real(*args, **kwargs)
    monkeypatch.setattr(report, name, guarded)


def in_child_only_fails(monkeypatch, name: str) -> None:
    parent = os.getpid()
    real = getattr(report, name)

    def failing(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the copy fails")
        return real(*args, **kwargs)
    monkeypatch.setattr(report, name, failing)


@forks
def test_forked_and_in_line_files_are_identical(tmp_path, monkeypatch) -> None:
    S.write_outputs(result(), str(tmp_path / "forked"))
    monkeypatch.setattr(S, "can_fork", lambda: False)
    S.write_outputs(result(), str(tmp_path / "in-line"))
    forked, in_line = files(tmp_path / "forked"), files(tmp_path / "in-line")
    assert sorted(forked) == sorted(FILES)
    assert forked == in_line


@forks
def test_the_copies_write_the_chart_and_the_jsonl(tmp_path, monkeypatch) -> None:
    in_parent_only(monkeypatch, "tier_chart_png")
    in_parent_only(monkeypatch, "accounts_jsonl")
    S.write_outputs(result(), str(tmp_path / "out"))
    assert (tmp_path / "out" / "tiers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((tmp_path / "out" / "accounts.jsonl").read_text().splitlines()) == 3000


@forks
def test_a_failed_copy_is_written_here(tmp_path, monkeypatch) -> None:
    S.write_outputs(result(), str(tmp_path / "good"))
    in_child_only_fails(monkeypatch, "tier_chart_png")
    in_child_only_fails(monkeypatch, "accounts_jsonl")
    S.write_outputs(result(), str(tmp_path / "out"))
    assert files(tmp_path / "out") == files(tmp_path / "good")


@forks
def test_an_error_here_stops_the_copies_and_keeps_the_old_folder(tmp_path, monkeypatch) -> None:
    S.write_outputs(result(), str(tmp_path / "out"))
    before = files(tmp_path / "out")

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(report, "accounts_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        S.write_outputs(result(), str(tmp_path / "out"))
    assert files(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every copy was reaped
