"""The terminal summary's tier table: columns never run into each other, whatever the size
of the book (a $1B tier) or the length of a tier id, and the box keeps its width."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.examples.generate import generate_portfolio
from tierbook.report.terminal import _columns

from .conftest import needs_durable

LEAST = (24, 10, 8, 14, 10)


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_billion_dollar_tiers_stay_apart():
    table = [("tier", "accounts", "share", "ARR", "CSMs"),
             ("high_touch_enterprise", "3,626", "3.6%", "$1,447,734,321", "303/10"),
             ("plg_self_serve", "1,253,101", "53.1%", "$75,451,636", "1054/1")]
    lines = _columns(table, 66, LEAST)
    assert [_cells(line) for line in lines] == [list(row) for row in table]
    assert len({len(line) for line in lines}) == 1 and len(lines[0]) <= 66


def test_long_tier_id_is_cut_not_the_numbers():
    name = "strategic_high_touch_enterprise_emea_and_apac"
    table = [("tier", "accounts", "share", "ARR", "CSMs"),
             (name, "12", "0.1%", "$999,999,999,999", "1/1")]
    lines = _columns(table, 66, LEAST)
    assert all(len(line) <= 66 for line in lines)
    cells = _cells(lines[1])
    assert cells[0].endswith("…") and name.startswith(cells[0][:-1])
    assert cells[1:] == ["12", "0.1%", "$999,999,999,999", "1/1"]


def test_small_books_keep_the_familiar_layout():
    table = [("tier", "accounts", "share", "ARR", "CSMs"), ("mid_touch", "637", "21.2%", "$99,385,771", "11/12")]
    assert _columns(table, 66, LEAST)[1] == f"{'mid_touch':<24}{'637':>10}{'21.2%':>8}{'$99,385,771':>14}{'11/12':>10}"


@needs_durable
def test_the_summary_names_the_engine_in_full(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["segment", "--as-of", "2026-10-01", "--engine", "durable-rules",
                                       "--store", str(tmp_path / "t.sqlite"), "--out",
                                       str(tmp_path / "out"), "--no-chart"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    head = " ".join(line.strip("│ ") for line in result.stdout.splitlines()[1:3])
    assert "engine durable-rules" in head


def test_large_counts_have_thousands_separators_like_the_table(tmp_path: Path) -> None:
    """Flag, comment and review-hint counts read like the tier table's account counts."""
    rows = generate_portfolio(5000, 7)
    with open(tmp_path / "p.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result = CliRunner().invoke(main, ["segment", str(tmp_path / "p.csv"), "--as-of", "2026-10-01",
                                       "--engine", "native", "--store", str(tmp_path / "t.sqlite"),
                                       "--out", str(tmp_path / "out"), "--no-chart"],
                                catch_exceptions=False)
    text = " ".join(line.strip("│ ") for line in result.stdout.splitlines())
    flags = re.search(r"flags: (\w+) (\d[\d,]*\d)", text)
    assert flags is not None and int(flags.group(2).replace(",", "")) >= 1000
    assert "," in flags.group(2)
    counts = re.search(r"comments (\d[\d,]*) · review hints (\d[\d,]*)", text)
    assert counts is not None
    for n in counts.groups():
        assert n == f"{int(n.replace(',', '')):,}"
