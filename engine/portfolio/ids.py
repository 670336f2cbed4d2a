"""Account ids that differ only in letter case or Unicode form ('ACC-1' and 'acc-1', 'Café'
composed and decomposed): read as two accounts, since some CRMs do tell them apart, but
each such pair is named with its lines, as a warning the run's notes repeat."""

from __future__ import annotations

import unicodedata

import polars as pl

from ..errors import Problem, located
from .formats import Table

MAX_NAMED = 20  # near-twin ids named one by one; the rest counted


def fold(text: str) -> str:
    """``text`` with letter case and Unicode form set aside (Unicode's caseless matching,
    compatibility forms included): two ids with the same fold are near-twins."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _how(a: str, b: str) -> str:
    if unicodedata.normalize("NFKC", a) == unicodedata.normalize("NFKC", b):
        return f"only in Unicode form ({a!a} vs {b!a})"
    if a.casefold() == b.casefold():
        return "only in letter case"
    return f"only in letter case or Unicode form ({a!a} vs {b!a})"


def near_twins(
    file: str,
    table: Table,
    ids: pl.Series | None,
    id_col: int | None,
    problems_by_row: dict[int, list[Problem]],
) -> list[str]:
    """One warning per account id (of a row read without a problem) that differs from an
    earlier row's id only in letter case or Unicode form, naming both and their lines."""
    if id_col is None or ids is None or ids.dtype != pl.String:
        return []
    eligible = ids.is_not_null()
    if problems_by_row:
        eligible = eligible.scatter(sorted(problems_by_row), False)
    rows = (
        pl.DataFrame({"id": ids, "row": pl.int_range(len(ids), eager=True)})
        .filter(eligible)
        .unique("id", keep="first", maintain_order=True)
    )
    if rows.height < 2:
        return []
    # (ASCII ids folded by polars; only the others through Python's casefold)
    plain = rows["id"].str.contains(r"^[\x00-\x7f]*$")
    keys = rows["id"].str.to_lowercase()
    others = plain.not_().arg_true()
    if len(others):
        folded = [fold(t) for t in rows["id"].gather(others).to_list()]
        keys = keys.scatter(others, pl.Series(folded, dtype=pl.String))
    rows = rows.with_columns(key=keys)
    twins = rows.filter(pl.col("key").is_duplicated())
    if twins.is_empty():
        return []
    header = table.headers[id_col]
    first: dict[str, tuple[str, int]] = {}
    out: list[str] = []
    extra = 0
    for account_id, r, key in twins.iter_rows():
        if key not in first:
            first[key] = (account_id, r)
            continue
        if len(out) >= MAX_NAMED:
            extra += 1
            continue
        other, f = first[key]
        where = located(file, table.lines[r], id_col + 1, table.unit)
        out.append(
            f"{where}: {header}: account id '{account_id}' differs from "
            f"'{other}' ({table.unit} {table.lines[f]}) {_how(account_id, other)}: "
            "read as two accounts"
        )
    if extra:
        out.append(f"{file}: {extra} more account id(s) differ from another only so")
    return out
