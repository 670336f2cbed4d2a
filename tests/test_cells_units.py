"""A cell is read in its input's unit or refused: a percentage held to a ratio's 0..1, and a
money cell in another currency than the declared USD refused, not read as dollars."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.errors import DataError
from tierbook.portfolio.cells import parse_money, parse_number, parse_ratio, parser
from tierbook.portfolio.frame import read_portfolio

from .conftest import SAMPLE

FOREIGN = ["€40,000", "¥5,000,000", "GBP 900", "£10", "40,000 EUR", "JPY5000", "cad 12",
           "AUD 1.2k", "CHF 300", "INR 1,20,000", "₹100", "₩1000", "₽50", "₺5", "₪5", "₫5",
           "₱5", "₦5", "50¢", "C$100", "(€1,000)"]


@pytest.mark.parametrize("text", ["150%", "101%", "-10%", "100.5%", "1000%"])
def test_a_percentage_outside_0_to_100_is_not_a_ratio(text: str) -> None:
    with pytest.raises(ValueError, match="is not a ratio between 0 and 1"):
        parse_ratio(text)


@pytest.mark.parametrize("text,value", [("0%", 0.0), ("100%", 1.0), ("85%", 0.85),
                                        (" 12.5% ", 0.125), ("1", 1.0), ("0", 0.0)])
def test_a_ratio_in_range_is_read(text: str, value: float) -> None:
    assert parse_ratio(text) == pytest.approx(value)


@pytest.mark.parametrize("text", FOREIGN)
def test_money_in_another_currency_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is in another currency than USD: convert it before"):
        parse_money(text)
    with pytest.raises(ValueError, match="is in another currency than USD"):
        parse_number(text)


@pytest.mark.parametrize("text,value", [
    ("$1,200.50", 1200.5), ("US$1,200", 1200.0), ("US$ 1,200", 1200.0), ("USD 300", 300.0),
    ("USD300", 300.0), ("300 USD", 300.0), ("300USD", 300.0), ("usd 5", 5.0), ("1,200$", 1200.0),
    ("(1,000)", -1000.0), ("-$5", -5.0), ("$-5", -5.0), ("12.5k", 12500.0), ("$1.2M", 1.2e6),
    (" 1,200 ", 1200.0), ("1,20,000", 120000.0)])
def test_dollars_are_read(text: str, value: float) -> None:
    assert parse_money(text) == value


@pytest.mark.parametrize("text", ["85 pts", "abc", "twelve"])
def test_letters_that_are_no_currency_are_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_money(text)


def test_the_money_input_parser_holds_its_declared_unit(default_ruleset) -> None:
    arr = next(i for i in default_ruleset.inputs if i.id == "arr")
    assert arr.unit == "USD"
    read = parser(arr)
    assert read("$1,200.50") == 1200.5
    with pytest.raises(ValueError, match="another currency than USD"):
        read("€40,000")


def _portfolio(tmp_path: Path, arr: str, logo: str) -> Path:
    rows = "".join(f"A{i},{100 + i},0.5\n" for i in range(50))  # the column's plain cells
    path = tmp_path / "p.csv"
    path.write_text(f"account_id,arr,strategic_logo\n{rows}B1,\"{arr}\",{logo}\n")
    return path


@pytest.mark.parametrize("logo", ["150%", "101%", "-10%"])
def test_the_column_cast_refuses_a_percentage_out_of_range(tmp_path: Path, default_ruleset,
                                                           logo: str) -> None:
    path = _portfolio(tmp_path, "100", logo)
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert f"p.csv:52:3: strategic_logo: '{logo}' is not a ratio between 0 and 1" in (
        err.value.render())


@pytest.mark.parametrize("arr", ["€40,000", "GBP 900", "¥5,000,000", "£10"])
def test_the_column_cast_refuses_money_in_another_currency(tmp_path: Path, default_ruleset,
                                                           arr: str) -> None:
    path = _portfolio(tmp_path, arr, "0.5")
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert (f"p.csv:52:2: arr: '{arr}' is in another currency than USD: convert it before "
            "the run") in err.value.render()


def _segment(src: Path, tmp_path: Path):
    return CliRunner().invoke(main, ["segment", "cs-segmentation-model", str(src),
                                     "--as-of", "2026-10-01", "--out", str(tmp_path / "o")],
                              catch_exceptions=False)


def _sample_with(tmp_path: Path, column: str, text: str) -> tuple[Path, int]:
    rows = SAMPLE.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[5].split(",")
    cells[header.index(column)] = f'"{text}"'
    src = tmp_path / "bad.csv"
    src.write_text("\n".join([rows[0], *rows[1:5], ",".join(cells), *rows[6:40]]) + "\n")
    return src, header.index(column) + 1


def test_segment_refuses_a_percentage_out_of_range(tmp_path: Path) -> None:
    src, col = _sample_with(tmp_path, "strategic_logo", "150%")
    result = _segment(src, tmp_path)
    assert result.exit_code == 1
    assert (f"{src}:6:{col}: strategic_logo: '150%' is not a ratio between 0 and 1"
            in result.stderr)


def test_segment_refuses_money_in_another_currency(tmp_path: Path) -> None:
    src, col = _sample_with(tmp_path, "arr", "€40,000")
    result = _segment(src, tmp_path)
    assert result.exit_code == 1
    assert (f"{src}:6:{col}: arr: '€40,000' is in another currency than USD: convert it "
            "before the run") in result.stderr
