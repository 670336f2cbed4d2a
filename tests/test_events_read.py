"""The events reader (``portfolio.events.read_events``), whose checks run a column at a time,
against the per-row loop it replaced (tests/events_reference.py): the same events, field
for field and type for type, the same skipped lines and the same problems, in the same
order, on generated files mixing good and bad rows of every kind, CSV and JSON Lines, with
both ``on_error`` modes.  Then examples of the edges found on the way."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.errors import DataError
from tierbook.portfolio.events import read_events

from . import events_reference

QUARTERS = ["2026Q3", "2026Q4", "2027Q1", "2027Q2"]
# (with spaces that str.strip() strips and Rust's whitespace is not: \x1c-\x1f; digits that
# Python's \d reads and ASCII's are not)
BAD_QUARTERS = [
    "",
    " ",
    "2026Q5",
    "2026q4",
    "26Q1",
    " 2027Q1 ",
    "\x1e2027Q1\x1f",
    "2027Q1x",
    "\u0662\u0660\u0662\u0667Q1",
]
TYPES = [
    "renewal",
    "expansion",
    "contraction",
    "churn",
    "new_account",
    "signal",
    "capacity_change",
    "product_launch",
    "reactivation",
]
BAD_TYPES = ["", " signal ", "Signal", "renewl", "upsell"]
ACCOUNTS = ["ACC-1", "ACC-2", " ACC-3 ", "", " ", "\x1c", "\u3000ACC-4"]
FIELDS = ["arr", "csms", "health_score", "", " ", " arr "]
VALUES = [
    "533.00",
    "0",
    "-0",
    "-5",
    "+7",
    "007",
    "42",
    " 42 ",
    "12.5k",
    "1.5M",
    "$1,200.50",
    "1,20,000",
    "1.200,50",
    "1e3",
    "nan",
    "inf",
    "-inf",
    "",
    "5.",
    ".5",
    "1_000",
    "(100)",
    "USD 5",
    "abc",
    "3.14159",
    "0.005",
    "12345678901234567",
    "123456789012345.67",
    "9999999999999.99",
    "99999999999999.99",
    "true",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "\u0665",
    "1e400",
    "1\u00a0000",
    "a\u2028b",
    "\x855\x85",
]


def _outcome(read: Any, path: Path, on_error: str) -> tuple[Any, ...]:
    """What a read gives, in a form compared exactly: each event's repr (its fields' types
    show: 5.0, 5 and '5' differ, and so do -0.0 and 0.0), the skipped lines, or the error
    with each problem as a dict (the code too)."""
    try:
        events, skipped = read(str(path), "events" + path.suffix, on_error=on_error)
    except DataError as exc:
        return ("error", str(exc), [p.as_dict() for p in exc.problems])
    except Exception as exc:  # noqa: BLE001 (whatever the reference raises, the reader must)
        return ("raised", type(exc).__name__, str(exc))
    return ("read", [repr(e) for e in events], skipped)


def _same(path: Path) -> None:
    for on_error in ("fail", "skip"):
        want = _outcome(events_reference.read_events, path, on_error)
        assert _outcome(read_events, path, on_error) == want, on_error


def _write(text: str, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / f"events{suffix}"
    path.write_bytes(text.encode("utf-8"))
    return path


# a good row of each type: (type, field, value), the quarter and account drawn beside
GOOD = [
    ("renewal", "arr", ["533.00", "0", "$1,200.50", "12.5k", " 42 ", "1e3", "-0"]),
    ("expansion", "arr", ["75000", "0.5", "1,000"]),
    ("contraction", "arr", ["10", "2.25"]),
    ("reactivation", "arr", ["0", "40000"]),
    ("churn", "", [""]),
    ("new_account", "arr", ["250000"]),
    ("signal", "health_score", ["53", "", "true"]),
    ("capacity_change", "csms", ["12", "0", "7.0"]),
    ("product_launch", "", [""]),
]


@st.composite
def good_rows(draw: st.DrawFn) -> dict[str, str]:
    kind, name, values = draw(st.sampled_from(GOOD))
    return {
        "quarter": draw(st.sampled_from(QUARTERS)),
        "account_id": draw(st.sampled_from(["ACC-1", "ACC-2", " ACC-3 "])),
        "type": kind,
        "field": name,
        "value": draw(st.sampled_from(values)),
    }


# ---- CSV ----------------------------------------------------------------------------

HEADERS = [
    ["quarter", "account_id", "type", "field", "value"],
    ["type", "quarter", "account_id", "value", "field"],
    ["quarter", "account_id", "type", "field", "value", "value"],
    ["quarter", "account_id", "type", "field", "value", "__bad__"],
    ["quarter", "account_id", "type", "value"],
    ["quarter", "account_id", "type", "field", "value", "fields", "note"],
    ["quarter", "type", "field", "value"],
]


def _quote(cell: str, always: bool) -> str:
    if always or any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(HEADERS))
    cell = {
        "quarter": st.one_of(st.sampled_from(QUARTERS), st.sampled_from(BAD_QUARTERS)),
        "account_id": st.sampled_from(ACCOUNTS),
        "type": st.one_of(st.sampled_from(TYPES), st.sampled_from(BAD_TYPES)),
        "field": st.sampled_from(FIELDS),
        "value": st.sampled_from(VALUES),
    }
    junk = st.text(alphabet=' ,"\r\n\x00\x85\u2028xQ1$k', max_size=8)
    quote_all = draw(st.booleans())
    out = [",".join(_quote(h, quote_all) for h in header) + "\n"]
    for _ in range(draw(st.integers(0, 14))):
        shape = draw(
            st.sampled_from(["good", "good", "row", "row", "short", "long", "blank", "junk"])
        )
        if shape == "blank":
            out.append(draw(st.sampled_from(["\n", "\r\n", "\r\r\n"])))
            continue
        if shape == "junk":
            out.append(draw(junk) + "\n")
            continue
        row = draw(good_rows()) if shape == "good" else {}
        cells = [row[h] if h in row else draw(cell.get(h, st.sampled_from(VALUES))) for h in header]
        if shape == "short":
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
        elif shape == "long":
            cells += draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2))
        always = quote_all or draw(st.booleans())
        end = draw(st.sampled_from(["\n", "\n", "\r\n"]))
        out.append(",".join(_quote(c, always and draw(st.booleans())) for c in cells) + end)
    text = "".join(out)
    if draw(st.booleans()):
        text = text.rstrip("\n")
    return ("\ufeff" if draw(st.booleans()) else "") + text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_csv_reads_as_the_per_row_reader_did(text: str) -> None:
    _same(_write(text, ".csv"))


# ---- JSON Lines ---------------------------------------------------------------------

JSON_VALUES = st.one_of(
    st.sampled_from(VALUES),
    st.integers(-5, 10**6),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.just([1]),
    st.just({"a": 1}),
)


@st.composite
def json_files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        shape = draw(
            st.sampled_from(["good", "good", "object", "object", "nested", "other", "blank"])
        )
        if shape == "blank":
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
            continue
        if shape == "other":
            lines.append(draw(st.sampled_from(["[1, 2]", "5", '"x"', "null", '{"__bad__": 1}'])))
            continue
        keys = {
            "quarter": st.one_of(
                st.sampled_from(QUARTERS + BAD_QUARTERS), st.integers(), st.none()
            ),
            "account_id": st.one_of(st.sampled_from(ACCOUNTS), st.integers(0, 3)),
            "type": st.one_of(st.sampled_from(TYPES + BAD_TYPES), st.booleans()),
            "field": st.one_of(st.sampled_from(FIELDS), st.integers(0, 1)),
            "value": JSON_VALUES,
        }
        if shape == "good":
            row = draw(good_rows())
            obj = {k: v for k, v in row.items() if v or draw(st.booleans())}
            lines.append(json.dumps(obj))
            continue
        obj = {k: draw(v) for k, v in keys.items() if draw(st.sampled_from([True] * 5 + [False]))}
        if shape == "nested":
            obj["fields"] = draw(
                st.one_of(
                    st.dictionaries(st.sampled_from(["arr", "csms", "health_score"]), JSON_VALUES),
                    st.just("not an object"),
                )
            )
        lines.append(json.dumps(obj))
    if draw(st.sampled_from([False] * 20 + [True])):
        lines.insert(draw(st.integers(0, len(lines))), "{not json")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_files())
def test_json_lines_read_as_the_per_row_reader_did(text: str) -> None:
    _same(_write(text, ".jsonl"))


# ---- examples -----------------------------------------------------------------------

HEAD = "quarter,account_id,type,field,value\n"


@pytest.mark.parametrize(
    "body",
    [
        # money cells the polars cast reads and those it leaves to the money reader
        "2026Q4,A,renewal,arr,533.00\n2026Q4,B,renewal,arr,$1,200.50\n",
        '2026Q4,A,renewal,arr,"$1,200.50"\n2026Q4,B,expansion,arr,12.5k\n'
        "2026Q4,C,contraction,arr,1e3\n2026Q4,D,renewal,arr, 42 \n",
        "2026Q4,A,renewal,arr,-0\n2026Q4,B,reactivation,arr,0\n2026Q4,C,expansion,arr,0\n",
        "2026Q4,A,renewal,arr,nan\n2026Q4,B,renewal,arr,-5\n2026Q4,C,renewal,arr,\n",
        "2026Q4,A,renewal,arr,123456789012345.67\n2026Q4,B,renewal,arr,9999999999999.99\n",
        "2026Q4,A,renewal,arr,0.005\n2026Q4,B,renewal,arr,1.200,50\n",
        # headcounts: parse_integer reads through a double (17 digits round)
        "2026Q4,,capacity_change,csms,12\n2026Q4,,capacity_change,csms,5.0\n"
        "2026Q4,,capacity_change,csms,12345678901234567\n2026Q4,,capacity_change,csms,-1\n"
        "2026Q4,,capacity_change,csms,1e20\n",
        # quarters: out of order only against the good rows before (a bad row does not count)
        "2027Q1,A,churn,,\n2026Q4,B,churn,,\n2026Q4,C,churn,,\n2027Q2,D,bogus,,\n2027Q1,E,churn,,\n",
        "2027Q2,,renewal,arr,5\n2027Q1,A,renewal,arr,5\n2026Q4,B,renewal,arr,-5\n",
        # quarters in digits other than ASCII's, which Python's \\d reads
        "\u0662\u0660\u0662\u0667Q1,A,churn,,\n2027Q1,B,churn,,\n",
        # a quoted cell over several lines, blank lines, short and long rows, CRLF
        '2026Q4,A,signal,note,"two\nlines"\n\n2026Q4,B,churn\r\n2026Q4,C,churn,,,extra\n\r\n',
        # unknown types with a suggestion, missing account, signal without field
        "2026Q4,A,renewl,arr,5\n2026Q4,,churn,,\n2026Q4,A,signal,,5\n2026Q4,A,signal, ,5\n",
        # a quote inside an unquoted cell, and one after a quoted part
        '2026Q4,A,signal,note,say "hi"\n2026Q4,B,signal,note,"a"b\n',
        # an unterminated quote runs to the end of the file
        '2026Q4,A,signal,note,"open\n2026Q4,B,churn,,\n',
    ],
)
def test_csv_edges_read_as_before(body: str) -> None:
    _same(_write(HEAD + body, ".csv"))


def test_a_carriage_return_inside_an_unquoted_cell_fails_as_csv_reader_does() -> None:
    path = _write(HEAD + "2026Q4,A,signal,x,1\r2\n", ".csv")
    with pytest.raises(Exception, match="new-line character seen in unquoted field"):
        read_events(str(path))
    _same(path)


def test_a_cell_over_the_csv_field_limit_fails_as_csv_reader_does() -> None:
    path = _write(HEAD + "2026Q4,A,signal,x," + "9" * 131_073 + "\n", ".csv")
    with pytest.raises(Exception, match="field larger than field limit"):
        read_events(str(path))
    _same(path)


def test_the_problems_stop_at_200_and_count_them_all() -> None:
    path = _write(HEAD + "".join(f"2026Q4,A{i},renewal,arr,-{i}\n" for i in range(1, 251)), ".csv")
    with pytest.raises(DataError) as info:
        read_events(str(path), "events.csv")
    assert str(info.value) == "events.csv: 250 bad event(s)"
    assert len(info.value.problems) == 200
    _same(path)


def test_a_bad_row_is_named_with_its_last_line() -> None:
    path = _write(HEAD + '2026Q4,A,signal,note,"a\nb"\n\n2026Q4,B,renewal,arr,-5\n', ".csv")
    with pytest.raises(DataError) as info:
        read_events(str(path), "events.csv")
    assert [str(p) for p in info.value.problems] == [
        "events.csv:5:5: value: renewal needs a non-negative ARR, got '-5'"
    ]


def test_values_keep_their_types() -> None:
    path = _write(
        HEAD + "2026Q4,A,renewal,arr,$1,200.50\n2026Q4,,capacity_change,csms,7\n"
        "2026Q4,A,signal,health_score,53\n2026Q4,B,new_account,arr,40000\n",
        ".csv",
    )
    events, skipped = read_events(str(path))
    assert [(e.line, e.type, e.fields, e.value) for e in events] == [
        (2, "renewal", {"arr": 1.0}, "$1"),  # (the comma splits the cell: quote it)
        (3, "capacity_change", {"csms": 7}, "7"),
        (4, "signal", {"health_score": "53"}, "53"),
        (5, "new_account", {"arr": "40000"}, "40000"),
    ]
    assert skipped == []


def test_json_numbers_and_fields_objects_read_as_before() -> None:
    lines = [
        {"quarter": "2026Q4", "account_id": "A", "type": "renewal", "value": 1200.555},
        {"quarter": "2026Q4", "account_id": "A", "type": "expansion", "field": "arr", "value": 5},
        {"quarter": "2026Q4", "account_id": "A", "type": "renewal", "value": True},
        {
            "quarter": "2026Q4",
            "account_id": "B",
            "type": "new_account",
            "fields": {"arr": 40000, "strategic_logo": 0.5},
        },
        {"quarter": "2026Q4", "account_id": "B", "type": "renewal", "fields": {"arr": "12.5k"}},
        {"quarter": "2026Q4", "type": "capacity_change", "value": 12},
        [1, 2],
    ]
    path = _write("\n".join(json.dumps(line) for line in lines) + "\n", ".jsonl")
    _same(path)
    events, skipped = read_events(str(path), on_error="skip")
    assert [e.fields for e in events] == [
        {"arr": 1200.555},
        {"arr": 5.0},
        {"arr": 40000, "strategic_logo": 0.5},
        {"arr": 12500.0},
        {"csms": 12},
    ]
    assert [s["line"] for s in skipped] == [3, 7]


def test_a_json_integer_too_large_for_a_float_is_an_error_at_its_line() -> None:
    # a crash (OverflowError) before; the checks on its other fields still come first
    path = _write(
        json.dumps({"quarter": "2026Q4", "account_id": "A", "type": "renewal", "value": 10**400})
        + "\n"
        + json.dumps({"quarter": "2026Q4", "type": "renewal", "field": "csms", "value": 10**400})
        + "\n",
        ".jsonl",
    )
    with pytest.raises(DataError) as err:
        read_events(str(path))
    problems = [(p.line, p.path, p.message) for p in err.value.problems]
    assert problems[0][:2] == (1, "value") and problems[0][2].endswith("(too large)")
    assert [p[:2] for p in problems[1:]] == [(2, "account_id"), (2, "field")]
    _same(path)


def test_an_arr_event_on_another_field_and_a_signal_on_the_id_are_errors_at_their_line() -> None:
    """A renewal of seats_licensed once set the ARR to the seat count, and a signal on
    account_id failed the replay with an internal error: both are the line's errors now."""
    path = _write(
        HEAD + "2026Q4,A,renewal,seats_licensed,50\n2026Q4,B,expansion,,300\n"
        "2026Q4,C,signal,account_id,ACC-7\n2026Q4,D,contraction,arr,5\n",
        ".csv",
    )
    with pytest.raises(DataError) as info:
        read_events(str(path), "events.csv")
    assert [str(p) for p in info.value.problems] == [
        "events.csv:2:4: field: a renewal event changes the ARR (field arr), not "
        "'seats_licensed': send another input's new value as a signal event",
        "events.csv:4:4: field: a signal cannot change an account's id (account_id names the "
        "account the event is for)",
    ]
    _same(path)


def test_a_json_arr_event_with_other_fields_or_a_field_given_twice_is_an_error() -> None:
    rows = [
        {"quarter": "2026Q4", "account_id": "N", "type": "new_account", "field": "arr",
         "value": 5, "fields": {"arr": 70000}},
        {"quarter": "2026Q4", "account_id": "A", "type": "expansion",
         "fields": {"arr": 7000, "health_score": 5}},
        {"quarter": "2026Q4", "account_id": "B", "type": "expansion", "fields": {"arr": 7000}},
    ]
    path = _write("".join(json.dumps(r) + "\n" for r in rows), ".jsonl")
    with pytest.raises(DataError) as info:
        read_events(str(path), "events.jsonl")
    assert [str(p) for p in info.value.problems] == [
        "events.jsonl:1:1: field: 'arr' is given twice, as field and value and in fields: "
        "give it once",
        "events.jsonl:2:1: field: an expansion event changes the ARR (field arr), not "
        "'health_score': send another input's new value as a signal event",
    ]
    _same(path)
