"""Money cells too large for exact sums are refused, located; account ids that differ only in
letter case or Unicode form are read as two accounts but named in a warning."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.errors import DataError
from tierbook.portfolio.cast import cast
from tierbook.portfolio.frame import read_portfolio
from tierbook.ruleset.model import Input

from .conftest import SAMPLE

HEADER = "account_id,account_name,arr,strategic_logo,health_score,design_partner\n"
TOO_LARGE = "is too large an amount (at most 9,000,000,000,000)"


def _write(tmp_path: Path, text: str, name: str = "accounts.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "text",
    ["1e308", "1.7976931348623157e308", "10000000000000", "9000000000000.01", "(1e308)",
     "-9000000000001", "$9,000,000,000,001", "9000.5b"],
)
def test_an_amount_too_large_for_exact_sums_is_refused_naming_line_and_column(
    tmp_path: Path, default_ruleset, text: str
) -> None:
    rows = "A1,Acme,1200,0.5,70,no\n" + f'A2,Beta,"{text}",0.5,70,no\n'
    path = _write(tmp_path, HEADER + rows)
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert f"accounts.csv:3:3: arr: '{text}' {TOO_LARGE}" in err.value.render()


def test_the_bound_itself_is_read(tmp_path: Path, default_ruleset) -> None:
    rows = "A1,Acme,9000000000000,0.5,70,no\nA2,Beta,\"$9,000,000,000,000.00\",0.5,70,no\n"
    portfolio = read_portfolio(_write(tmp_path, HEADER + rows), default_ruleset)
    assert portfolio.frame["arr"].to_list() == [9e12, 9e12]


def test_a_column_cast_holds_the_bound_on_both_paths() -> None:
    """Plain digits (cast by polars) and exported forms (the scalar parser) alike."""
    texts = pl.Series(["100", "10000000000000", "$12,000,000,000,000", "1e308", "$1,200.50"])
    c = cast(Input("arr", "money"), texts)
    assert c.values.to_list() == [100.0, None, None, None, 1200.5]
    assert sorted(c.bad) == [1, 2, 3]
    assert all(message.endswith(TOO_LARGE) for message, _ in c.bad.values())


def test_a_json_number_too_large_is_refused(tmp_path: Path, default_ruleset) -> None:
    record = {"account_id": "A1", "account_name": "Acme", "arr": 1e308,
              "strategic_logo": 0.5, "health_score": 70, "design_partner": False}
    path = _write(tmp_path, json.dumps(record) + "\n", "accounts.jsonl")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.jsonl")
    assert f"'1e+308' {TOO_LARGE}" in err.value.render()


def _sample_with_arr(tmp_path: Path, arr: str) -> Path:
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    column = [h.lower() for h in rows[0]].index("arr")
    rows[1][column] = arr
    out = tmp_path / "portfolio.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return out


def test_segment_refuses_a_huge_arr_instead_of_summing_to_inf(tmp_path: Path) -> None:
    path = _sample_with_arr(tmp_path, "1e308")
    result = CliRunner().invoke(
        main, ["segment", str(path), "--out", str(tmp_path / "out"), "--as-of", "2026-10-01"]
    )
    assert result.exit_code == 1, result.output
    assert "portfolio.csv:2:" in result.output and TOO_LARGE in result.output
    assert "inf" not in result.output.replace("info", "")


def test_segment_on_error_skip_leaves_the_huge_row_out(tmp_path: Path) -> None:
    path = _sample_with_arr(tmp_path, "1e308")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["segment", str(path), "--out", str(out), "--as-of", "2026-10-01", "--on-error", "skip"],
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["rejected"] == 1
    assert report["input"]["arr"] < 9e12 * 1000
    assert "inf" not in (out / "report.json").read_text().lower().replace("info", "")


def test_ids_differing_only_in_case_are_two_accounts_and_a_warning(
    tmp_path: Path, default_ruleset
) -> None:
    rows = "ACC-1,Acme,100,0.5,70,no\nB-2,Beta,200,0.5,70,no\nacc-1,Acme2,300,0.5,70,no\n"
    portfolio = read_portfolio(_write(tmp_path, HEADER + rows), default_ruleset,
                               display="accounts.csv")
    assert portfolio.ids == ["ACC-1", "B-2", "acc-1"]
    assert portfolio.warnings == [
        "accounts.csv:4:1: account_id: account id 'acc-1' differs from 'ACC-1' (line 2) "
        "only in letter case: read as two accounts"
    ]


def test_ids_differing_only_in_unicode_form_are_named(tmp_path: Path, default_ruleset) -> None:
    nfc, nfd = "Caf\u00e9", "Cafe\u0301"
    rows = f"{nfc},Acme,100,0.5,70,no\n{nfd},Acme,300,0.5,70,no\nCAFE\u0301,C,1,0.5,70,no\n"
    portfolio = read_portfolio(_write(tmp_path, HEADER + rows), default_ruleset,
                               display="accounts.csv")
    assert len(portfolio.ids) == 3
    first, second = portfolio.warnings
    assert first.startswith(f"accounts.csv:3:1: account_id: account id '{nfd}' differs from "
                            f"'{nfc}' (line 2) only in Unicode form ('Cafe\\u0301' vs 'Caf\\xe9')")
    assert second.startswith(f"accounts.csv:4:1: account_id: account id 'CAFE\u0301' differs "
                             f"from '{nfc}' (line 2)")


def test_distinct_and_exactly_repeated_ids_give_no_near_twin_warning(
    tmp_path: Path, default_ruleset
) -> None:
    rows = "A-1,Acme,100,0.5,70,no\nA-2,Beta,200,0.5,70,no\n"
    assert read_portfolio(_write(tmp_path, HEADER + rows), default_ruleset).warnings == []
    again = rows + "A-1,Acme,100,0.5,70,no\n"
    portfolio = read_portfolio(_write(tmp_path, HEADER + again), default_ruleset,
                               on_error="skip")
    assert portfolio.warnings == [] and len(portfolio.rejects) == 1


def test_segment_says_near_twin_ids_on_stderr(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tierbook.cli.main import main

    src = tmp_path / "twins.csv"
    src.write_text("account_id,arr\nACC-1,1000\nacc-1,2000\nACC-2,3000\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["segment", str(src), "--as-of", "2026-10-01"])
    # (three accounts leave tiers empty, so a gate fails: exit 1, the run still made)
    assert result.exit_code == 1 and "FAILED" in result.stdout, result.output
    assert (
        f"warning: {src}:3:1: account_id: account id 'acc-1' differs from 'ACC-1' (line 2) "
        "only in letter case: read as two accounts"
    ) in result.stderr
