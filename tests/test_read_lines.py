"""Every account keeps the line it came from, however the CSV is laid out (the last line of
a row whose quoted cell spans lines), across blank lines, CRLF, multi-line cells and bad
rows; a row with more or fewer cells than the header is an error naming its line."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.errors import DataError
from tierbook.portfolio.frame import read_portfolio
from tierbook.portfolio.formats import read_table

HEADER = ["account_id", "account_name", "arr", "strategic_logo"]

NAMES = st.sampled_from(["Acme", "Acme, Inc.", 'Say "Hi" Ltd', "Two\nLines", "Three\r\nLine\nName",
                         "", "  "])
ROW = st.tuples(NAMES, st.sampled_from(["100", "$1,200.50", "abc", "", "9e9"]),
                st.sampled_from(["0.5", "1", "", "x"]))
EXTRA = st.sampled_from([None, None, None, "", "   ", ",,,", " , , "])


def _text(rows, extras, newline):
    out = io.StringIO()
    w = csv.writer(out, lineterminator=newline)
    w.writerow(HEADER)
    text = out.getvalue()
    for i, ((name, arr, logo), extra) in enumerate(zip(rows, extras)):
        out = io.StringIO()
        csv.writer(out, lineterminator=newline).writerow([f"A{i}", name, arr, logo])
        text += out.getvalue()
        if extra is not None:
            text += extra + newline
    return text


def _ruleset():
    from tierbook.commands.api import load

    return load("cs-segmentation-model")[0]


def _reference(text):
    """csv row by row: (line after the row, row) for each non-blank row."""
    reader = csv.reader(io.StringIO(text))
    next(reader)
    out = []
    for row in reader:
        if not row or (not row[0].strip() and all(not c.strip() for c in row)):
            continue
        out.append((reader.line_num, row[0]))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ROW, EXTRA), min_size=1, max_size=12), st.sampled_from(["\n", "\r\n"]),
       st.sampled_from(["", "sep=,", '"sep=,"']))
def test_lines_match_csv_row_by_row(tmp_path, data, newline, hint):
    """Excel's "sep=," first line is skipped, and the lines stay the file's."""
    default_ruleset = _ruleset()
    rows, extras = zip(*(data + [(("Good", "100", "0.5"), None)]))  # one account at least
    text = _text(rows, extras, newline)
    path = tmp_path / "p.csv"
    path.write_bytes(((hint + newline) if hint else "").encode() + text.encode())
    expected = dict((account, line + bool(hint)) for line, account in _reference(text))
    pf = read_portfolio(str(path), default_ruleset, on_error="skip")
    got = dict(zip((a["account_id"] for a in pf.accounts), pf.rows))
    got.update((r["account_id"], r["line"]) for r in pf.rejects)
    assert got == expected


# -- records and their cells against csv itself ---------------------------------------------

LINES = st.sampled_from([
    "A1,100,Acme,0.5", "A2,$1,200.50,x", " , , ", ",,,", "", "   ", "A3,,,", "A4",
    'A5,"Acme, Inc.",3,4', 'A6,"Two', 'lines",7,8', '"A7",8,9,1', 'A8,"Say ""Hi""",9,1',
    "A10,a\x00b,1,2", "A11,\x0bodd,1,2", "A12,\u2028sep,1,2", "\t,\t", "A13,\x85x,2,3",
    "A14,1,2,3,4", 'A15,"a,b",1,"c\nd,e"',
])


def _csv_reference(text: str) -> tuple[list[Any], bool]:
    """csv over the whole text: (line, cells) of each record with a value; whether csv
    found a quoted cell that never closes."""
    reader = csv.reader(io.StringIO(text), strict=True)
    out: list[Any] = []
    try:
        for row in reader:
            if not row or (not row[0].strip() and all(not c.strip() for c in row)):
                continue
            out.append((reader.line_num, len(row), row))
    except csv.Error:
        return out, True
    return out, False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINES, max_size=30), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_records_are_csv_records(tmp_path, lines, newline, end_newline):
    text = newline.join(["h1,h2,h3,h4", *lines]) + (newline if end_newline else "")
    expected, unclosed = _csv_reference(text)
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode())
    try:
        table = read_table(str(path), "p.csv", lambda headers: range(len(headers)))
    except DataError as exc:
        # a quote csv reads literally, inside an unquoted cell, is refused: polars and csv
        # would read different rows
        assert exc.problems[0].code == "csv"
        assert unclosed or any('"' in cell for _, _, cells in expected for cell in cells)
        return
    assert not unclosed
    header, *records = expected
    assert table.lines == [line for line, _, _ in records]
    assert {r: p.line for r, p in table.problems.items()} == {
        r: line for r, (line, n, _) in enumerate(records) if n != 4}
    for r, (_, n, cells) in enumerate(records):
        if n == 4:
            got = [table.columns[i][r] for i in range(4)]
            assert [c or "" for c in got] == cells


@pytest.mark.parametrize("row,count", [("A2,Smith, Jane,200", 4), ("A2,200", 2)])
def test_a_row_of_the_wrong_length_names_its_line_and_counts(tmp_path: Path, default_ruleset,
                                                             row: str, count: int) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"account_id,account_name,arr\nA1,Acme,100\n{row}\n")
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    hint = ("a value with an unquoted comma? quote it, or re-export" if count > 3
            else "a cut-off or hand-edited row? re-export the file")
    assert err.value.render() == (f"p.csv:3:1: the row has {count} cells but the header has 3 "
                                  f"columns ({hint})")


def test_a_quote_never_closed_names_its_line(tmp_path: Path, default_ruleset) -> None:
    path = tmp_path / "p.csv"
    path.write_text('account_id,account_name,arr\nA1,Acme,100\nA2,"Smith,200\nA3,x,1\n')
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert err.value.render() == ("p.csv:3:1: cannot read CSV: a quote on this line is never "
                                  "closed (a cell with a quote in it must be quoted, and its "
                                  "quotes doubled)")


@pytest.mark.parametrize("make", ["folder", "csv-as-parquet"])
def test_a_folder_or_a_mislabelled_file_is_a_located_error(tmp_path: Path, default_ruleset,
                                                           make: str) -> None:
    if make == "folder":
        path = tmp_path / "accounts.csv"
        path.mkdir()
        expected = "accounts.csv: is a folder, not a portfolio file (.csv, .jsonl or .parquet)"
    else:
        path = tmp_path / "accounts.parquet"
        path.write_text("account_id,arr\nA1,5\n")
        expected = "accounts.parquet: cannot read Parquet (is it a Parquet file?)"
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display=path.name)
    assert err.value.render().startswith(expected)


def test_a_quote_inside_an_unquoted_cell_names_its_line(tmp_path: Path, default_ruleset) -> None:
    path = tmp_path / "p.csv"
    path.write_text('account_id,account_name,arr\nA1,Acme,100\nA2,=HYPERLINK("x"),200\n')
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert err.value.render() == ("p.csv:3:1: cannot read CSV: a quote inside a cell that is "
                                  "not quoted (quote the whole cell and double the quotes in it)")


@pytest.mark.parametrize("window", [1, 7, 64])
def test_lines_counted_a_window_at_a_time_are_csv_lines(tmp_path: Path, monkeypatch,
                                                        window: int) -> None:
    from tierbook.portfolio import formats

    monkeypatch.setattr(formats, "_LINES_WINDOW", window)
    rows = [[f"A{i}", 'x,"y"\nz' if i % 3 == 0 else "n", str(i)] for i in range(50)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    path = tmp_path / "p.csv"
    path.write_text(buf.getvalue())
    table = read_table(str(path), "p.csv", lambda headers: range(3))
    assert table.lines == [line for line, _, _ in _csv_reference(buf.getvalue())[0][1:]]
    assert not table.problems
    assert table.columns[1].to_list() == [r[1] for r in rows]


# -- Excel's "sep=" first line ----------------------------------------------------------------


def test_excels_sep_line_is_skipped_and_messages_name_the_files_lines(
    tmp_path: Path, default_ruleset
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        b'sep=,\r\naccount_id,account_name,arr\r\nA1,"Two\r\nLines",100\r\nA2,Acme,lots\r\n'
        b"A1,Acme,5\r\n"
    )
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert err.value.render() == (
        "p.csv:5:3: arr: 'lots' is not a number\n"
        "p.csv:6:1: account_id: duplicate account id 'A1' (first on line 4)"
    )
    skipped = read_portfolio(str(path), default_ruleset, on_error="skip", display="p.csv")
    assert skipped.rows == [4]
    assert [r["line"] for r in skipped.rejects] == [5, 6]


@pytest.mark.parametrize(
    "hint, name", [("sep=;", "semicolon"), ("sep=\t", "tab"), ("SEP=|", "pipe")]
)
def test_a_sep_line_naming_another_separator_is_refused(
    tmp_path: Path, default_ruleset, hint: str, name: str
) -> None:
    sep = hint[-1]
    path = tmp_path / "p.csv"
    path.write_text(f"{hint}\naccount_id{sep}arr\nA1{sep}100\n")
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    shown = hint.replace("\t", "\\t")[4:]
    assert err.value.render() == (
        f"p.csv:1:1: the first line 'sep={shown}' says the file is {name}-separated, but "
        "tierbook reads comma-separated CSV; re-export it with commas"
    )


def test_a_sep_line_and_nothing_else_is_an_empty_file(tmp_path: Path, default_ruleset) -> None:
    path = tmp_path / "p.csv"
    path.write_text("sep=,\n")
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert err.value.render() == (
        "p.csv:1:1: file is empty: expected a header row and one row per account"
    )


# -- a file that is not UTF-8 -----------------------------------------------------------------

_FIRST = (
    "the CSV file is not UTF-8 (Excel's plain \"CSV\" is Windows-1252): byte 0xE9 ('\u00e9' in "
    'Windows-1252) is not UTF-8 text; save it as UTF-8 (Excel: Save As "CSV UTF-8 (Comma '
    'delimited)") and read it again'
)


def test_a_windows_1252_csv_names_each_line_and_cell(tmp_path: Path, default_ruleset) -> None:
    path = tmp_path / "p.csv"
    text = (
        'account_id,account_name,arr\r\nA1,Acme,1\r\nA2,Caf\u00e9,2\r\nA3,"Smith, Ren\u00e9",3\r\n'
    )
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert err.value.render() == (
        f"p.csv:3:2: account_name: {_FIRST}\n"
        "p.csv:4:2: account_name: byte 0xE9 ('\u00e9' in Windows-1252) is not UTF-8 text"
    )


def test_a_header_not_utf8_and_a_sep_line_keep_the_files_lines(
    tmp_path: Path, default_ruleset
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("sep=,\naccount_id,soci\u00e9t\u00e9,arr\nA1,x,\u00e9\n".encode("cp1252"))
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    assert err.value.render() == (
        f"p.csv:2:2: {_FIRST}\n"
        "p.csv:3:3: arr: byte 0xE9 ('\u00e9' in Windows-1252) is not UTF-8 text"
    )


def test_lines_not_utf8_past_the_tenth_are_counted(tmp_path: Path, default_ruleset) -> None:
    path = tmp_path / "p.csv"
    rows = "".join(f"A{i},Caf\u00e9,{i}\n" for i in range(13))
    path.write_bytes(("account_id,account_name,arr\n" + rows).encode("cp1252"))
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.csv")
    lines = err.value.render().splitlines()
    assert [p.line for p in err.value.problems] == list(range(2, 12))
    assert lines[-1] == (
        "p.csv:11:2: account_name: byte 0xE9 ('\u00e9' in Windows-1252) is not UTF-8 text "
        "(3 more lines are not UTF-8 either)"
    )


def test_json_lines_not_utf8_name_the_line_and_character(tmp_path: Path, default_ruleset) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"account_id": "A1", "arr": 5}\n{"account_id": "Caf\x81", "arr": 5}\n')
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset, display="p.jsonl")
    assert err.value.render() == (
        "p.jsonl:2:20: the file is not UTF-8: byte 0x81 is not UTF-8 text; save it as UTF-8 "
        "and read it again"
    )
