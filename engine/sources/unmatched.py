"""A table's rows whose account id is no account's: they roll up into nothing, so the run
counts them per table and names a few ids, and an id that is an account's but for letter
case says which account it looks like.  Ids still match exactly (docs/inputs.md): both
sides are stripped of surrounding whitespace when read, as every cell is, and case counts."""

from __future__ import annotations

from typing import Any

import polars as pl

EXAMPLES = 5  # ids named per table, in the table's order


def unmatched_rows(file: str, keys: pl.Series, ids: pl.Series) -> dict[str, Any] | None:
    """What the run says of the rows of ``file`` whose key (``keys``, one per row) is none of
    the accounts' ``ids``; None when every row has its account."""
    known = ids.cast(pl.String)
    missed = ~keys.is_in(known)
    rows = int(missed.sum())
    if not rows:
        return None
    missing = keys.filter(missed).unique(maintain_order=True)
    out: dict[str, Any] = {
        "file": file,
        "rows": rows,
        "table_rows": keys.len(),
        "ids": missing.len(),
        "examples": missing.head(EXAMPLES).to_list(),
    }
    folded = pl.DataFrame({"id": missing}).with_columns(fold=pl.col("id").str.to_lowercase())
    accounts = (
        pl.DataFrame({"account": known})
        .with_columns(fold=pl.col("account").str.to_lowercase())
        .unique("fold", keep="first", maintain_order=True)
    )
    case = folded.join(accounts, on="fold", how="inner", maintain_order="left")
    if case.height:
        out["case_ids"] = case.height
        out["case"] = dict(
            zip(case["id"].head(EXAMPLES).to_list(), case["account"].head(EXAMPLES).to_list())
        )
    return out
