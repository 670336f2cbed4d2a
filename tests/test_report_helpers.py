"""The output files: every one is written into a temporary folder that is swapped in only
when all are, so an error leaves the previous folder as it was."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

import tierbook.report.accounts as account_files
import tierbook.report.chart as chart_file
import tierbook.report.summary as report
import tierbook.commands.segment as S
from tierbook.ruleset.build import load_ruleset

from .conftest import AS_OF, ROOT, SAMPLE

FILES = ("model.md", "accounts.csv", "accounts.jsonl", "tiers.png", "report.json", "report.html",
         "changes.csv")


@lru_cache(maxsize=None)
def result():
    rs = load_ruleset(str(ROOT / "rulesets" / "cs-segmentation-model.yaml"))
    return S.segment(rs, str(SAMPLE), as_of=AS_OF, engine="native")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_every_file_is_written(tmp_path) -> None:
    S.write_outputs(result(), str(tmp_path / "out"))
    written = files(tmp_path / "out")
    assert sorted(written) == sorted(FILES)
    assert written["tiers.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert len(written["accounts.jsonl"].decode().splitlines()) == 3000
    S.write_outputs(result(), str(tmp_path / "again"))
    assert files(tmp_path / "again") == written


@pytest.mark.parametrize("module,name", [(account_files, "write_csv"),
                                         (account_files, "write_jsonl"),
                                         (chart_file, "tier_chart_png"),
                                         (S, "write_segment_page"),
                                         (S.book_report, "write_changes_csv")])
def test_an_error_keeps_the_old_folder(tmp_path, monkeypatch, module, name) -> None:
    S.write_outputs(result(), str(tmp_path / "out"))
    before = files(tmp_path / "out")

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(module, name, broken)
    with pytest.raises(OSError, match="disk full"):
        S.write_outputs(result(), str(tmp_path / "out"))
    assert files(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def test_an_amount_that_rounds_to_zero_has_no_minus_sign() -> None:
    from tierbook.report import book, plan, summary

    assert plan.money(-0.4) == "$0" and plan.signed_money(-0.4) == "+$0"
    assert plan.money(-0.6) == "-$1"
    assert summary.money(-0.001) == "$0.00" and book._money(-0.004) == "$0.00"
    assert summary.money(-5.5) == "$-5.50"
