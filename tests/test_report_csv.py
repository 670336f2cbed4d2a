"""accounts.csv is written a column at a time; each cell must read exactly as the
one-cell-at-a-time rules say: lists joined with ';', ARR to the cent, other numbers to four
places without trailing zeros, blanks empty, and text a spreadsheet would run neutralised."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from tierbook.report import FORMULA_START, accounts_csv


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
