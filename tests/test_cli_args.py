"""RULESET comes first and may be left out: a CS ops user's `tierbook segment accounts.csv`
must segment accounts.csv with the shipped ruleset, not fail with a YAML error about a CSV."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.cli.options import leading_ruleset

from .conftest import ROOT, SAMPLE


@pytest.mark.parametrize("given, meant", [
    (("accounts.csv", None), [None, "accounts.csv"]),
    (("export.PARQUET", None), [None, "export.PARQUET"]),
    (("rows.jsonl", None), [None, "rows.jsonl"]),
    (("model.yaml", "accounts.csv"), ["model.yaml", "accounts.csv"]),
    (("cs-segmentation-model", None), ["cs-segmentation-model", None]),
    ((None, None), [None, None]),
    (("accounts.csv", "events.csv", None), [None, "accounts.csv", "events.csv"]),
    (("accounts.csv", "events.csv", "more.csv"), ["accounts.csv", "events.csv", "more.csv"]),
])
def test_a_data_file_first_is_the_portfolio(given, meant):
    assert leading_ruleset("segment", *given) == meant


def test_ruleset_after_the_data_is_a_usage_error_showing_the_right_order():
    with pytest.raises(click.UsageError) as err:
        leading_ruleset("segment", "accounts.csv", "model.yml")
    assert "tierbook segment model.yml accounts.csv" in str(err.value)


def test_segment_with_only_a_csv(tmp_path: Path) -> None:
    csv = tmp_path / "my export.csv"
    csv.write_bytes(SAMPLE.read_bytes())
    result = CliRunner().invoke(main, ["segment", str(csv), "--as-of", "2026-10-01", "--store",
                                       str(tmp_path / "t.sqlite"), "--out", str(tmp_path / "out"),
                                       "--no-chart"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "cs-segmentation-model" in result.stdout and "3,000 accounts" in result.stdout


def test_swapped_arguments_exit_2_before_reading_anything(tmp_path: Path) -> None:
    ruleset = ROOT / "rulesets" / "keep-segment.yaml"
    result = CliRunner().invoke(main, ["segment", str(SAMPLE), str(ruleset), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"tierbook segment {ruleset} {SAMPLE}" in result.output
    assert not (tmp_path / "out").exists()
