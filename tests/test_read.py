"""Reading portfolios as people export them, and the errors a real user would hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierbook.errors import DataError
from tierbook.portfolio.frame import read_portfolio
from tierbook.portfolio.cells import (parse_boolean, parse_date, parse_integer, parse_money,
                                      parse_number, parse_ratio)

HEADER = "account_id,account_name,arr,strategic_logo,health_score,design_partner\n"


@pytest.mark.parametrize("text,value", [
    ("$1,200.50", 1200.5), ("1200", 1200.0), (" 1,200 ", 1200.0), ("(1,000)", -1000.0),
    ("US$950", 950.0), ("12.5k", 12500.0), ("1.2M", 1200000.0), ("USD 300", 300.0),
])
def test_money_as_exported(text: str, value: float) -> None:
    assert parse_money(text) == value


@pytest.mark.parametrize("text,value", [
    ("1,234,567.891", 1234567.89), ("-1,200", -1200.0), ("1,200.5k", 1200500.0),
    ("1,20,000", 120000.0), ("1,20,000.50", 120000.5)])
def test_commas_between_digit_groups_are_thousands_separators(text: str, value: float) -> None:
    assert parse_money(text) == value


@pytest.mark.parametrize("text", ["1.200,50", "12,5", "1,2", "€1 200,50", "1,2345", "12,34,5"])
def test_a_decimal_comma_is_refused_not_misread(text: str) -> None:
    """1.200,50 once read as 1.2: a comma anywhere but between digit groups is an error."""
    with pytest.raises(ValueError, match="comma that is not a thousands separator"):
        parse_money(text)
    with pytest.raises(ValueError, match="comma that is not a thousands separator"):
        parse_number(text)


def test_a_decimal_comma_names_row_column_and_value(tmp_path: Path, default_ruleset) -> None:
    rows = "".join(f"A{i},Acme,{100 + i},0.5,70,no\n" for i in range(200))
    path = _write(tmp_path, HEADER + rows + 'B1,Beta,"1.200,50",0.5,70,no\n')
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert ("accounts.csv:202:3: arr: '1.200,50' has a comma that is not a thousands separator"
            in err.value.render())


@pytest.mark.parametrize("text,value", [("12.5%", 0.125), ("85%", 0.85), ("0.85", 0.85), ("1", 1.0)])
def test_ratio_accepts_fractions_and_percentages(text: str, value: float) -> None:
    assert parse_ratio(text) == pytest.approx(value)


def test_ratio_above_one_without_percent_is_refused() -> None:
    with pytest.raises(ValueError, match="write percentages with %"):
        parse_ratio("85")


@pytest.mark.parametrize("text,value", [("Yes", True), ("TRUE", True), ("1", True), ("y", True),
                                        ("No", False), ("false", False), ("0", False)])
def test_booleans(text: str, value: bool) -> None:
    assert parse_boolean(text) is value


def test_dates_iso_and_us() -> None:
    assert parse_date("2026-02-03").isoformat() == "2026-02-03"
    assert parse_date("02/03/2026").isoformat() == "2026-02-03"
    assert parse_date("2026-02-03T10:00:00Z").isoformat() == "2026-02-03"


def test_integer_refuses_fractions() -> None:
    assert parse_integer("1,200") == 1200
    with pytest.raises(ValueError, match="whole number"):
        parse_integer("3.5")


def test_a_long_whole_number_reads_exactly_by_the_column_and_by_the_cell() -> None:
    """17 digits are more than a double holds: the column cast (polars' integer cast) and
    the scalar reader (the cells the cast leaves, events, test cases) agree, exactly."""
    import polars as pl

    from tierbook.portfolio.cast import cast
    from tierbook.ruleset.model import Input

    texts = ["12345678901234567", " -98765432109876543 ", "9007199254740993", "1,200"]
    column = cast(Input("n", "integer"), pl.Series(texts, dtype=pl.String)).values.to_list()
    assert column == [parse_integer(t) for t in texts]
    assert column == [12345678901234567, -98765432109876543, 9007199254740993, 1200]


def _write(tmp_path: Path, text: str, name: str = "accounts.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_bad_cells_name_row_column_and_value(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,$1,200.50,0.5,70,yes\nA2,Beta,twelve,0.5,70,maybe\n")
    # "$1,200.50" unquoted splits across columns: a real export quotes it
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    text = err.value.render()
    assert "accounts.csv:3:3: arr: 'twelve' is not a number" in text
    assert "accounts.csv:3:6: design_partner: 'maybe' is not a yes/no value (true/false, yes/no, 1/0)" in text


def test_quoted_currency_values_read(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + 'A1,Acme,"$1,200.50",50%,70,Yes\n')
    p = read_portfolio(path, default_ruleset)
    assert p.accounts[0]["arr"] == 1200.5
    assert p.accounts[0]["strategic_logo"] == 0.5
    assert p.accounts[0]["design_partner"] is True


def test_duplicate_account_ids(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,100,0.1,70,no\nA1,Acme2,200,0.1,70,no\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render() == ("accounts.csv:3:1: account_id: duplicate account id 'A1' "
                                  "(first on line 2)")


def test_each_repeated_id_names_its_first_good_row(tmp_path: Path, default_ruleset) -> None:
    """A row with a bad cell is not the first of its id: the next good one is; every later
    row of an id is an error of its own, blank ids are never duplicates."""
    rows = ("A1,Acme,lots,0.1,70,no\n"  # line 2: a bad ARR
            "B2,Beta,100,0.1,70,no\n"
            "A1,Acme,100,0.1,70,no\n"  # line 4: A1's first good row
            ",Blank,5,0.1,70,no\n,Blank2,5,0.1,70,no\n"
            "B2,Beta,1,0.1,70,no\nA1,Acme,2,0.1,70,no\nA1,Acme,3,0.1,70,no\n")
    with pytest.raises(DataError) as err:
        read_portfolio(_write(tmp_path, HEADER + rows), default_ruleset, display="a.csv")
    said = err.value.render()
    assert "a.csv:7:1: account_id: duplicate account id 'B2' (first on line 3)" in said
    assert "a.csv:9:1: account_id: duplicate account id 'A1' (first on line 4)" in said
    assert "a.csv:8:1: account_id: duplicate account id 'A1' (first on line 4)" in said
    assert "a.csv:4:1" not in said and "line 2)" not in said
    rejected = read_portfolio(_write(tmp_path, HEADER + rows), default_ruleset, on_error="skip")
    assert [a["account_id"] for a in rejected.accounts if a["account_id"]] == ["B2", "A1"]


def test_empty_file(tmp_path: Path, default_ruleset) -> None:
    with pytest.raises(DataError) as err:
        read_portfolio(_write(tmp_path, ""), default_ruleset, display="accounts.csv")
    assert err.value.render() == ("accounts.csv:1:1: file is empty: expected a header row and "
                                  "one row per account")


def test_header_only_file(tmp_path: Path, default_ruleset) -> None:
    with pytest.raises(DataError) as err:
        read_portfolio(_write(tmp_path, HEADER), default_ruleset, display="accounts.csv")
    assert err.value.render() == "accounts.csv:2:1: no account rows"


def test_wrong_delimiter(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER.replace(",", ";") + "A1;Acme;100;0.1;70;no\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert "looks semicolon-delimited" in err.value.render()


def test_missing_required_column_suggests(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, "account_id,ar,health_score\nA1,100,50\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render() == (
        "accounts.csv:1:1: arr: missing required column 'arr' (or ARR, ARR__c, "
        "Annual Recurring Revenue) (did you mean 'ar'?)")


@pytest.mark.parametrize("header", ["ARR ($)", "Annual Recurring Revenue (USD)", "arr [EUR]"])
def test_a_column_with_a_unit_is_named_in_the_error(tmp_path: Path, default_ruleset,
                                                    header: str) -> None:
    """A CRM export's 'ARR ($)' is not matched silently (a unit could mean another amount),
    but the error names it and says what to do."""
    path = _write(tmp_path, f'account_id,"{header}",health_score\nA1,100,50\n')
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render().endswith(
        f"; the file has '{header}': rename that column, or add it to the input's aliases")


def test_blank_required_value(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,,0.1,70,no\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render() == "accounts.csv:2:3: arr: required value is blank"


def test_skip_mode_keeps_good_rows_and_reasons(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,100,0.1,70,no\nA2,Beta,lots,0.1,70,no\n")
    p = read_portfolio(path, default_ruleset, on_error="skip", display="accounts.csv")
    assert [a["account_id"] for a in p.accounts] == ["A1"]
    assert p.rejects == [{"line": 3, "account_id": "A2", "arr": None,
                          "reasons": ["accounts.csv:3:3: arr: 'lots' is not a number"]}]


def test_blank_optional_is_unknown_and_defaults_apply(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,100,,,\n")
    p = read_portfolio(path, default_ruleset)
    account = p.accounts[0]
    assert account["strategic_logo"] == 0  # declared default
    assert account["health_score"] is None  # unknown, not zero
    assert p.defaulted["strategic_logo"] == 1 and p.gaps["health_score"] == 1


def test_crm_aliases_match(tmp_path: Path, default_ruleset) -> None:
    """ARR comes from the CRM's ARR field; AnnualRevenue (the customer company's own
    revenue) is read by nothing, even when it is the only amount in the file."""
    path = _write(tmp_path, 'Id,Name,ARR__c,AnnualRevenue,NumberOfEmployees\n'
                            '001,Acme,"$5,000.00",2400000,12\n')
    p = read_portfolio(path, default_ruleset)
    assert p.accounts[0]["account_id"] == "001"
    assert p.accounts[0]["arr"] == 5000.0
    assert p.columns["arr"] == "ARR__c"
    assert "AnnualRevenue" in p.ignored_columns


@pytest.mark.parametrize("header", ["AnnualRevenue", "annualrevenue"])
def test_company_revenue_is_never_read_as_arr(tmp_path: Path, default_ruleset,
                                              header: str) -> None:
    path = _write(tmp_path, f"Id,Name,{header}\n001,Acme,2400000\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render() == (
        "accounts.csv:1:1: arr: missing required column 'arr' (or ARR, ARR__c, Annual Recurring "
        f"Revenue); the file has '{header}', which is the customer company's own revenue, not "
        "the ARR it pays: export the ARR field (a custom field such as ARR__c, or a roll-up of "
        "subscriptions), or add its name to the input's aliases")


def test_jsonl_with_typed_values(tmp_path: Path, default_ruleset) -> None:
    lines = [{"hs_object_id": "7", "annual_recurring_revenue": 1500, "design_partner": True},
             {"hs_object_id": "8", "annual_recurring_revenue": "2,500", "design_partner": "no"}]
    path = _write(tmp_path, "".join(json.dumps(x) + "\n" for x in lines), "a.jsonl")
    p = read_portfolio(path, default_ruleset)
    assert [(a["account_id"], a["arr"], a["design_partner"]) for a in p.accounts] == [
        ("7", 1500.0, True), ("8", 2500.0, False)]


def test_out_of_range_value(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,100,0.1,170,no\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render() == "accounts.csv:2:5: health_score: '170' is outside 0..100"


def test_nan_and_infinity_are_bad_values(tmp_path: Path, default_ruleset) -> None:
    path = _write(tmp_path, HEADER + "A1,Acme,nan,0.1,70,no\nA2,Beta,inf,0.1,70,no\n")
    with pytest.raises(DataError) as err:
        read_portfolio(path, default_ruleset, display="accounts.csv")
    assert err.value.render().splitlines() == [
        "accounts.csv:2:3: arr: 'nan' is not a finite number",
        "accounts.csv:3:3: arr: 'inf' is not a finite number"]
