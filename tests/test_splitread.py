"""A large CSV read by two processes (tierbook.splitread) must give exactly what reading it in
one piece gives: accounts, line numbers, gap counts in their order, and -- whenever anything
is wrong with a row -- the very same errors.  The cut between the halves may fall anywhere,
including inside a quoted cell that spans lines."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook import forks, splitread
from tierbook import read as R
from tierbook.errors import DataError
from tierbook.evaluate import compute_values
from tierbook.segment import segment
from tierbook.values import ValuesWhileReading

from .conftest import AS_OF, SAMPLE

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                                reason="the split read needs fork and two cores")

ROWS = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
HEADER, BODY = ROWS[0], ROWS[1:]


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Split reading for any size; the list of what read_halves returned."""
    monkeypatch.setattr(R, "SPLIT_MIN", 0)
    monkeypatch.delenv("TIERBOOK_NO_SPLIT_READ", raising=False)
    seen: list[Any] = []
    real = splitread.read_halves

    def spy(*args: Any) -> Any:
        seen.append(real(*args))
        return seen[-1]
    monkeypatch.setattr(splitread, "read_halves", spy)
    return seen


def _text(rows: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([HEADER] + rows)
    return out.getvalue()


def _outcome(path: Path, ruleset: Any, on_error: str = "fail") -> Any:
    try:
        p = R.read_portfolio(str(path), ruleset, on_error=on_error)
    except DataError as exc:
        return ("error", str(exc), [str(problem) for problem in exc.problems])
    return (p.accounts, p.rows, list(p.gaps.items()), list(p.defaulted.items()), p.columns,
            p.ignored_columns, p.missing_columns, p.rejects)


def _both(tmp_path: Path, text: str, ruleset: Any, monkeypatch: pytest.MonkeyPatch,
          on_error: str = "fail") -> tuple[Any, Any]:
    path = tmp_path / "portfolio.csv"
    path.write_text(text, encoding="utf-8")
    halves = _outcome(path, ruleset, on_error)
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_SPLIT_READ", "1")
        whole = _outcome(path, ruleset, on_error)
    return halves, whole


def test_the_sample_in_two_halves(tmp_path, default_ruleset, split, monkeypatch):
    halves, whole = _both(tmp_path, _text(BODY), default_ruleset, monkeypatch)
    assert split and split[0] is not None  # read in two halves
    assert halves == whole and len(halves[0]) == len(BODY)


@pytest.mark.parametrize("bom", [False, True])
def test_each_half_is_read_from_the_file_and_the_digest_is_the_whole_files(
        tmp_path, default_ruleset, split, bom):
    import hashlib

    data = ("\ufeff" if bom else "") + _text(BODY, "\r\n")
    path = tmp_path / "portfolio.csv"
    path.write_bytes(data.encode("utf-8"))
    p = R.read_portfolio(str(path), default_ruleset)
    assert split[0] is not None and len(p.accounts) == len(BODY)
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert p.rows[-1] == len(BODY) + 1 and p.accounts[-1]["account_id"] == BODY[-1][0]


@pytest.mark.parametrize("where", [10, len(BODY) - 10])
def test_bytes_that_are_not_utf8_in_either_half_are_the_same_error(tmp_path, default_ruleset,
                                                                   split, monkeypatch, where):
    rows = [list(r) for r in BODY]
    rows[where][HEADER.index("account_name")] = "Caf\udce9"  # a Latin-1 byte, as exported
    path = tmp_path / "portfolio.csv"
    path.write_bytes(_text(rows).encode("utf-8", "surrogateescape"))
    halves = _outcome(path, default_ruleset)
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_SPLIT_READ", "1")
        whole = _outcome(path, default_ruleset)
    assert split[0] is None and halves == whole and halves[0] == "error"
    assert "not UTF-8" in " ".join(halves[2])


def test_a_file_changed_while_it_is_read_is_read_again_in_one_piece(tmp_path, default_ruleset,
                                                                    split, monkeypatch):
    path = tmp_path / "portfolio.csv"
    path.write_text(_text(BODY[:100]), encoding="utf-8")
    real = splitread._digest_rest

    def meanwhile(*args: Any) -> bool:  # another program rewrites the export
        path.write_text(_text(BODY), encoding="utf-8")
        return real(*args)
    monkeypatch.setattr(splitread, "_digest_rest", meanwhile)
    p = R.read_portfolio(str(path), default_ruleset)
    assert split[0] is None and len(p.accounts) == len(BODY)  # the file as it now is


@pytest.mark.parametrize("where", [10, len(BODY) - 10])
def test_a_bad_value_in_either_half_is_the_same_error(tmp_path, default_ruleset, split,
                                                      monkeypatch, where):
    rows = [list(r) for r in BODY]
    rows[where][HEADER.index("arr")] = "twelve hundred"
    halves, whole = _both(tmp_path, _text(rows), default_ruleset, monkeypatch)
    assert split[0] is None and halves == whole and halves[0] == "error"
    assert "twelve hundred" in " ".join(halves[2])


def test_an_id_in_both_halves_is_the_same_error(tmp_path, default_ruleset, split, monkeypatch):
    rows = [list(r) for r in BODY]
    rows[-5][0] = rows[3][0]
    halves, whole = _both(tmp_path, _text(rows), default_ruleset, monkeypatch)
    assert split[0] is None and halves == whole and "duplicate account id" in " ".join(halves[2])


def test_skipped_rows_are_the_same_rejects(tmp_path, default_ruleset, split, monkeypatch):
    rows = [list(r) for r in BODY]
    rows[-3][HEADER.index("health_score")] = "great"
    halves, whole = _both(tmp_path, _text(rows), default_ruleset, monkeypatch, on_error="skip")
    assert halves == whole and len(halves[-1]) == 1


def _cut(text: str) -> int:
    top = text.index("\n") + 1
    return text.find("\n", top + int((len(text) - top) * splitread.FIRST_SHARE)) + 1


def test_a_quoted_cell_across_the_cut_is_read_in_one_piece(tmp_path, default_ruleset, split,
                                                           monkeypatch):
    name = HEADER.index("account_name")
    row = int(len(BODY) * splitread.FIRST_SHARE)
    for _ in range(100):  # put the long cell where the cut of the edited text falls
        rows = [list(r) for r in BODY]
        rows[row][name] = "Acme\n" * 400 + "Holdings"
        text = _text(rows)
        start = text.index(rows[row][0])  # the row's first cell (its id)
        end = text.index("Holdings", start)
        if start < _cut(text) <= end:
            break
        row += 1 if _cut(text) > end else -1
    else:
        pytest.fail("could not place a cell across the cut")
    halves, whole = _both(tmp_path, text, default_ruleset, monkeypatch)
    assert split[0] is None and halves == whole


def test_rows_pasted_into_a_cell_across_the_cut_are_not_accounts(tmp_path, default_ruleset,
                                                                    split, monkeypatch):
    """The worst case for the cut: the text after it, inside a quoted cell, is itself valid
    CSV rows (a note with rows pasted in, in the last column, open to the end of the file).
    Read from the cut on, they would be accounts; the first half's last record tells."""
    name = HEADER.index("account_name")
    order = [i for i in range(len(HEADER)) if i != name] + [name]  # account_name last
    rows = [[r[i] for i in order] for r in BODY[:300]]
    pasted = [[(f"PASTED-{n}" if i == 0 else r[i]) for i in order] for n, r in enumerate(BODY[300:700])]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[HEADER[i] for i in order]] + rows)
    note = "\n".join(",".join(p) for p in pasted)  # no quotes or commas inside the cells
    assert '"' not in note and len(note) < csv.field_size_limit()
    body = out.getvalue()[:-1]
    comma = body.rindex(",")  # the last name opens a quoted cell that runs to the end
    text = body[:comma + 1] + '"' + body[comma + 1:] + "\n" + note
    assert text.rfind("\n", 0, len(text) - len(note)) < _cut(text)
    halves, whole = _both(tmp_path, text, default_ruleset, monkeypatch)
    assert split[0] is None and halves == whole
    assert len(whole[0]) == 300 and not any(a["account_id"].startswith("PASTED") for a in whole[0])


EDIT = st.tuples(st.integers(0, 299), st.sampled_from(["name", "blank", "quote", "comma"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(EDIT, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_any_cut_reads_like_one_piece(tmp_path, default_ruleset, split, monkeypatch, edits,
                                      newline):
    """Multi-line and quoted names, blank rows and either line ending, anywhere (the cut
    falls wherever the text puts it)."""
    rows: list[list[str]] = [list(r) for r in BODY[:300]]
    name = HEADER.index("account_name")
    blank_after = set()
    for i, kind in edits:
        if kind == "name":
            rows[i][name] = "Line one\nline two\n"
        elif kind == "quote":
            rows[i][name] = 'The "Best" Co'
        elif kind == "comma":
            rows[i][name] = "Acme, Inc."
        else:
            blank_after.add(i)
    with_blanks: list[list[str]] = []
    for i, r in enumerate(rows):
        with_blanks.append(r)
        if i in blank_after:
            with_blanks.append([])
    halves, whole = _both(tmp_path, _text(with_blanks, newline), default_ruleset, monkeypatch)
    assert halves == whole


def test_a_failing_second_process_means_one_piece(tmp_path, default_ruleset, split, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise MemoryError
    monkeypatch.setattr(forks.pickle, "dumps", broken)  # in the forked process
    halves, whole = _both(tmp_path, _text(BODY), default_ruleset, monkeypatch)
    assert split[0] is None and halves == whole and len(whole[0]) == len(BODY)


def test_small_files_are_read_in_one_piece(tmp_path, default_ruleset, monkeypatch):
    calls: list[Any] = []
    monkeypatch.setattr(splitread, "read_halves", lambda *a: calls.append(a))
    (tmp_path / "p.csv").write_text(_text(BODY[:50]), encoding="utf-8")
    assert len(R.read_portfolio(str(tmp_path / "p.csv"), default_ruleset).accounts) == 50
    assert calls == [] and R.SPLIT_MIN > 1_000_000


def _prepare(ruleset: Any, fail_in: str | None = None) -> Any:
    """The values, as segment computes them while reading; ``fail_in``: 'child' or
    'parent' -- that process's values raise, a chunk at a time and account by account."""
    values = ValuesWhileReading(ruleset, AS_OF)
    parent = os.getpid()

    def failing(compute: Any) -> Any:
        def run(*args: Any) -> Any:
            here = "parent" if os.getpid() == parent else "child"
            if here == fail_in:
                raise ZeroDivisionError(f"in the {here}")
            return compute(*args)
        return run
    values.one, values.columns = failing(values.one), failing(values.columns)
    return values


def test_each_half_computes_its_own_values(tmp_path, default_ruleset, split, monkeypatch):
    path = tmp_path / "portfolio.csv"
    path.write_text(_text(BODY), encoding="utf-8")
    p = R.read_portfolio(str(path), default_ruleset, values=_prepare(default_ruleset))
    assert split[0] is not None and p.prepared is not None
    assert all(values is account for (values, _), account in zip(p.prepared, p.accounts))
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_SPLIT_READ", "1")
        bare = R.read_portfolio(str(path), default_ruleset)
        plain = R.read_portfolio(str(path), default_ruleset, values=_prepare(default_ruleset))
    assert bare.prepared is None and "strategic_value" not in bare.accounts[0]
    expected = compute_values(default_ruleset, bare.accounts, AS_OF, in_place=True)
    assert p.prepared == expected == plain.prepared and p.accounts == plain.accounts
    assert len(p.prepared) == len(BODY) and "strategic_value" in p.accounts[-1]


@pytest.mark.parametrize("where", ["child", "parent"])
def test_values_failing_in_either_half_mean_one_piece(tmp_path, default_ruleset, split,
                                                      monkeypatch, where):
    path = tmp_path / "portfolio.csv"
    path.write_text(_text(BODY), encoding="utf-8")
    p = R.read_portfolio(str(path), default_ruleset, values=_prepare(default_ruleset, where))
    assert split[0] is None
    assert (p.prepared is None) == (where == "parent")  # the one piece is read here
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_SPLIT_READ", "1")
        plain = R.read_portfolio(str(path), default_ruleset)
    assert [{k: a[k] for k in b} for a, b in zip(p.accounts, plain.accounts)] == plain.accounts
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no process left behind


def test_segment_is_the_same_with_values_from_the_halves(default_ruleset, split, monkeypatch):
    def decisions(result: Any) -> list[Any]:
        return [(d.account_id, d.tier, d.flags, d.bands, d.values, d.parts)
                for d in result.evaluation.decisions]
    halves = segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    assert split[0] is not None and split[0].prepared is not None
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    whole = segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    assert decisions(halves) == decisions(whole)


@pytest.mark.parametrize("where", [40, len(BODY) - 40])
def test_a_short_row_in_either_half_reads_like_one_piece(tmp_path, default_ruleset, split,
                                                         monkeypatch, where):
    """A row without its trailing (optional) cells is read row by row, with no problem: in
    the second process, the accounts it kept as columns so far get their dicts too."""
    monkeypatch.setattr(R, "_CHUNK", 64)  # chunks as columns before and after it
    rows = [list(r) for r in BODY]
    rows[where] = rows[where][:HEADER.index("csm")]
    path = tmp_path / "portfolio.csv"
    path.write_text(_text(rows), encoding="utf-8")
    p = R.read_portfolio(str(path), default_ruleset, values=_prepare(default_ruleset))
    assert split[0] is not None and p.prepared is not None and p.by_field is None
    with monkeypatch.context() as m:
        m.setenv("TIERBOOK_NO_SPLIT_READ", "1")
        plain = R.read_portfolio(str(path), default_ruleset, values=_prepare(default_ruleset))
    assert plain.prepared is not None and p.prepared == plain.prepared
    assert p.accounts == plain.accounts and p.rows == plain.rows and len(p.accounts) == len(BODY)
    assert all(values is account for (values, _), account in zip(p.prepared, p.accounts))
