"""accounts.csv and accounts.jsonl are written a column at a time, what a path decided once
per path; each cell must read exactly as the one-row-at-a-time rules say: lists joined with
';', ARR to the cent, other numbers to four places without trailing zeros, blanks empty,
text a spreadsheet would run neutralised, and each JSON line json.dumps of the row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.report import accounts as A
from tierbook.commands import segment as S

from .conftest import AS_OF, SAMPLE


def _one_by_one(rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        out = {}
        for k, v in row.items():
            if isinstance(v, list):
                v = ";".join(v)
            elif isinstance(v, float):
                v = f"{v:.4f}".rstrip("0").rstrip(".") if k != "arr" else f"{v:.2f}"
            elif v is None:
                v = ""
            if isinstance(v, str) and v.startswith(A.FORMULA_START):
                v = "'" + v
            out[k] = v
        writer.writerow(out)
    return buf.getvalue()


TEXT = st.one_of(st.text(max_size=6), st.sampled_from(["=SUM(A1)", "-x", "+1", "@a", "a,b", 'q"q',
                                                       "x\r\ny", "é"]))
CELL = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.sampled_from([-1.5, 0.0, -0.0, 1200.5, 0.12345]), TEXT, st.integers(-5, 5),
                 st.booleans(), st.lists(TEXT, max_size=3))
ACCOUNT = st.fixed_dictionaries({
    "account_id": TEXT, "arr": st.one_of(st.none(), st.floats(
        allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)),
    "score": CELL, "mixed": CELL, "path": st.integers(0, 3)})
PATH = st.fixed_dictionaries({"tier": TEXT, "flags": st.lists(TEXT, max_size=3), "band": CELL})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ACCOUNT, min_size=1, max_size=20), st.lists(PATH, min_size=4, max_size=4),
       st.booleans())
def test_files_read_as_each_row_written_on_its_own(tmp_path: Path, accounts, paths, uniform):
    if uniform:  # each column of one kind, as real rows are
        accounts = [dict(a, mixed=a["account_id"], score=float(i) / 7)
                    for i, a in enumerate(accounts)]
    used = list(dict.fromkeys(a["path"] for a in accounts))
    table = A.AccountColumns(
        {k: [a[k] for a in accounts] for k in ("account_id", "arr", "score", "mixed")},
        {k: [paths[p][k] for p in used] for k in ("tier", "flags", "band")},
        {p: i for i, p in enumerate(used)}, [a["path"] for a in accounts])
    rows = table.rows()
    assert [r["tier"] for r in rows] == [paths[a["path"]]["tier"] for a in accounts]
    A.write_table_csv(table, str(tmp_path / "a.csv"))
    A.write_table_jsonl(table, str(tmp_path / "a.jsonl"))
    assert (tmp_path / "a.csv").read_bytes().decode() == _one_by_one(rows)
    assert (tmp_path / "a.jsonl").read_bytes().decode() == "".join(
        json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.mark.parametrize("batch", [7, A.BATCH])
def test_account_files_written_a_batch_at_a_time_are_the_whole_text(tmp_path, default_ruleset,
                                                                   monkeypatch, batch):
    result = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    monkeypatch.setattr(A, "BATCH", batch)
    A.write_csv(result, str(tmp_path / "a.csv"))
    A.write_jsonl(result, str(tmp_path / "a.jsonl"))
    rows = A.account_columns(result).rows()
    assert len(rows) == len(result.evaluation.decisions) > 7 * 100
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == _one_by_one(rows)
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8") == "".join(
        json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    by_id = {d.account_id: d for d in result.evaluation.decisions}
    for row in rows[::97]:  # each row is its own account's decision
        d = by_id[row["account_id"]]
        assert (row["tier"], row["cell"], row["flags"]) == (d.tier, d.cell, d.flags)
        assert row["arr"] == d.values["arr"]
