"""accounts.csv is written a column at a time; each cell must read exactly as the
one-cell-at-a-time rules say: lists joined with ';', ARR to the cent, other numbers to four
places without trailing zeros, blanks empty, and text a spreadsheet would run neutralised."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from tierbook import report
from tierbook import segment as S
from tierbook.report import FORMULA_START, accounts_csv

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
            if isinstance(v, str) and v.startswith(FORMULA_START):
                v = "'" + v
            out[k] = v
        writer.writerow(out)
    return buf.getvalue()


TEXT = st.one_of(st.text(max_size=6), st.sampled_from(["=SUM(A1)", "-x", "+1", "@a", "a,b", 'q"q']))
CELL = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.sampled_from([-1.5, 0.0, -0.0, 1200.5, 0.12345]), TEXT, st.integers(-5, 5),
                 st.booleans(), st.lists(TEXT, max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"account_id": TEXT, "arr": st.one_of(st.none(), st.floats(
    allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)), "score": CELL,
    "flags": st.lists(TEXT, max_size=3), "mixed": CELL}), min_size=1, max_size=20),
    st.booleans())
def test_columns_read_as_cells_one_by_one(rows, uniform):
    if uniform:  # each column of one kind, as real rows are: the fast paths
        rows = [dict(r, mixed=r["account_id"], score=float(i) / 7) for i, r in enumerate(rows)]
    assert accounts_csv(rows) == _one_by_one(rows)


def test_account_files_written_a_batch_at_a_time_are_the_whole_text(tmp_path, default_ruleset,
                                                                   monkeypatch):
    monkeypatch.setenv("TIERBOOK_NO_SPLIT_READ", "1")
    result = S.segment(default_ruleset, str(SAMPLE), as_of=AS_OF, engine="native")
    rows = result.evaluation.decisions.rows  # the accounts as columns (read.Rows)
    monkeypatch.setattr(report, "ROWS_BATCH", 7)
    for name, text in (("a.csv", report.accounts_csv), ("a.jsonl", report.accounts_jsonl)):
        report.write_accounts(result, str(tmp_path / name), text)
    model = report.model_markdown(result, max_rows=50)
    assert not rows.built  # only a batch's dicts at a time, none for the model document
    whole = report.account_rows(result)
    assert len(whole) == len(result.evaluation.decisions) > 7 * 100
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == report.accounts_csv(whole)
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8") == report.accounts_jsonl(whole)
    # the largest accounts by ARR, then id, as sorting every account gives
    ranked = sorted(result.evaluation.decisions,
                    key=lambda d: (-(d.values.get("arr") or 0), d.account_id))[:50]
    table = [line.split(" | ")[0][2:] for line in model.splitlines()
             if line.startswith("| ACC-")]
    assert table == [d.account_id for d in ranked]
