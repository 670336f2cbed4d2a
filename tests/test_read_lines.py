"""Every account keeps the line it came from, however the CSV is laid out: rows read in
chunks must report the same lines as csv's own count row by row (the last line of a row
whose quoted cell spans lines), across blank lines, CRLF, multi-line cells, chunk and block
boundaries, bad rows and a malformed row."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook import read
from tierbook.errors import DataError
from tierbook.read import read_portfolio

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
    from tierbook.commands import load

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
       st.sampled_from([1, 2, 3, 2048]), st.sampled_from([8, 40, 1 << 20]))
def test_lines_match_csv_row_by_row(tmp_path, monkeypatch, data, newline, chunk, block):
    default_ruleset = _ruleset()
    monkeypatch.setattr(read, "_CHUNK", chunk)
    monkeypatch.setattr(read, "_LINE_BLOCK", block)
    rows, extras = zip(*(data + [(("Good", "100", "0.5"), None)]))  # one account at least
    text = _text(rows, extras, newline)
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode())
    expected = dict((account, line) for line, account in _reference(text))
    pf = read_portfolio(str(path), default_ruleset, on_error="skip")
    got = dict(zip((a["account_id"] for a in pf.accounts), pf.rows))
    got.update((r["account_id"], r["line"]) for r in pf.rejects)
    assert got == expected


@pytest.mark.parametrize("chunk", [1, 3, 2048])
def test_malformed_row_reports_its_line_after_the_good_rows(tmp_path, default_ruleset,
                                                            monkeypatch, chunk):
    monkeypatch.setattr(read, "_CHUNK", chunk)
    huge = "x" * (csv.field_size_limit() + 1)  # csv refuses a cell this long
    text = f"account_id,arr,account_name\nA1,100,a\nA2,200,b\nA3,300,{huge}\nA4,1,c\n"
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        read_portfolio(str(path), default_ruleset)
    [problem] = err.value.problems
    assert problem.code == "csv" and problem.line == 4
    assert "field larger than field limit" in problem.message


# -- the CSV records reader against csv itself ---------------------------------------------

LINES = st.sampled_from([
    "A1,100,Acme,0.5", "A2,$1,200.50,x", " , , ", ",,,", "", "   ", "A3,,,", "A4",
    'A5,"Acme, Inc.",3', 'A6,"Two', 'lines",7', '"A7",8', 'A8,"Say ""Hi""",9',
    "A9,1\r", "A10,a\x00b,1", "A11,\x0bodd,1", "A12,\u2028sep,1", "\t,\t", "A13,\x85x,2",
])


def _csv_reference(text: str, need: int) -> tuple[list[Any], Any, Any]:
    """csv over the whole text: (line, first cells, the rest joined) of each record with a
    value; the error (its line) if csv raises; the last record read."""
    reader = csv.reader(io.StringIO(text))
    out: list[Any] = []
    last = None
    try:
        for row in reader:
            last = row
            if not row or (not row[0].strip() and all(not c.strip() for c in row)):
                continue
            out.append((reader.line_num, row[:need], ",".join(row[need:])))
    except csv.Error:
        return out, reader.line_num, last
    return out, None, last


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=30), st.sampled_from(["\n", "\r\n"]), st.booleans(),
       st.sampled_from([0, 1, 2, 3, 8]), st.sampled_from([1, 16, 64, 1 << 20]),
       st.sampled_from([0, 3]))
def test_records_are_csv_records(lines, newline, end_newline, need, block, base):
    text = newline.join(lines) + (newline if end_newline and lines else "")
    expected, error_line, last = _csv_reference(text, need)
    records = read.CsvRecords(text, "p.csv", 0, None, base, need)
    got: list[Any] = []
    old_block = read._LINE_BLOCK
    read._LINE_BLOCK = block  # blocks end inside quoted cells and blank runs
    try:
        for line, row in records:
            got.append((line - base, row[:need], ",".join(row[need:])))
    except DataError as exc:
        assert error_line is not None and exc.problems[0].line == error_line + base
    else:
        assert error_line is None
        assert ",".join(records.last or []) == ",".join(last or [])
    finally:
        read._LINE_BLOCK = old_block
    assert got == expected


def test_plain_blocks_are_split_and_quoted_ones_read_by_csv(monkeypatch):
    """The split is what makes it fast: a block without quotes never reaches csv."""
    monkeypatch.setattr(read, "_LINE_BLOCK", 16)
    seen: list[str] = []
    block_lines = read._block_lines

    def spy(block: str) -> list[str]:
        seen.append(block)
        return block_lines(block)
    monkeypatch.setattr(read, "_block_lines", spy)
    text = "A1,1,x\nA2,2,y\n" * 20 + 'A3,"q,\n",z\n' + "A4,4,w\n" * 20
    rows = list(read.CsvRecords(text, "p.csv", 0, None, 0, 2))
    assert [r[0] for r in rows] == list(range(1, 41)) + [42] + list(range(43, 63))
    assert rows[40][1][:2] == ["A3", "q,\n"]
    assert rows[0][1] == ["A1", "1", "x"]
    assert '"' in seen[0] and sum(len(block_lines(b)) for b in seen) <= 4  # csv read 4 lines
