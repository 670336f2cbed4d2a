"""report.html of `tierbook segment`: the run's document (report.json) as sections, the
comments and review hints with their accounts, and the account table with the embedded
decision traces (``traces``)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl

from ...assess.result import SegmentResult
from ..accounts import AccountColumns, account_columns
from ..cells import json_cells, plain_column
from . import sections as S
from . import traces as T
from .page import (
    AccountTable,
    Texts,
    accounts_list,
    document_pieces,
    esc,
    fmt,
    kpis,
    money,
    pairs,
    table,
)

_PLAIN = {str, int, bool, list, type(None)}


def _json_column(column: Sequence[Any]) -> list[Any]:
    """A column as JSON values: a non-finite number blank, a date or other value as text."""
    kinds = set(map(type, column))
    if kinds <= _PLAIN or (
        kinds <= _PLAIN | {float}
        and all(map(math.isfinite, filter(float.__instancecheck__, column)))
    ):
        return list(column)  # (the common case: every value is JSON already, in one pass)
    out = []
    for v in column:
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif not isinstance(v, str | int | float | bool | list | type(None)):
            v = str(v)
        out.append(v)
    return out


def _json_texts(cols: AccountColumns, name: str) -> list[Any] | Texts:
    """An own column for the page's data: a polars column as its JSON texts (a non-finite
    number blank), else its values as ``_json_column`` gives them."""
    column = cols.own.get(name, cols.tail.get(name))
    if isinstance(column, pl.Series) and plain_column(column):
        return Texts(json_cells(column, name in cols.whole, finite=True))
    return _json_column(cols.values(name))


def _ids(cols: AccountColumns) -> pl.Series:
    """Each account's id as text (``str`` of its value)."""
    ids = cols.own["account_id"]
    if isinstance(ids, pl.Series) and ids.dtype == pl.String:
        return ids
    return pl.Series("account_id", [str(a) for a in cols.values("account_id")], dtype=pl.String)


def _hints(cols: AccountColumns, order: pl.Series) -> str:
    """Each comment and review hint with the accounts holding it, largest ARR first."""
    accounts = pl.DataFrame(
        {"id": _ids(cols).gather(order), "p": cols.at.gather(order).cast(pl.Int64)}
    ).with_row_index("r")
    found: list[tuple[tuple[str, str], int, list[str]]] = []
    for kind in ("comments", "reviews"):
        column = cols.decided.get(kind)
        if not column:
            continue
        held = (
            pl.DataFrame({"text": pl.Series(column, dtype=pl.List(pl.String))})
            .with_row_index("p")
            .select(
                pl.col("p").cast(pl.Int64),
                pl.col("text"),
                pl.int_ranges(pl.col("text").list.len()).alias("k"),
            )
            .explode("text", "k")
            .drop_nulls("k")
        )
        groups = (
            accounts.join(held, on="p")
            .sort("r", "k")
            .group_by("text", maintain_order=True)
            .agg(pl.len().alias("n"), pl.col("id").head(_LISTED))
        )
        for text, n, ids in groups.iter_rows():
            found.append(((kind, text), n, ids))
    if not found:
        return '<p class="note">no comment or review hint on any account</p>'
    rows = [
        [
            esc("comment" if kind == "comments" else "review hint"),
            esc(text),
            esc(fmt(n)),
            accounts_list(ids, more=n - len(ids)),
        ]
        for (kind, text), n, ids in sorted(found)
    ]
    return table(["kind", "text", "accounts", "which (largest ARR first)"], rows, raw=True)


_LISTED = 40  # accounts named per comment or hint (``accounts_list``'s limit)


def _moved(
    result: SegmentResult, doc: dict[str, Any], cols: AccountColumns, tiers: pl.Series
) -> pl.Series:
    """Accounts whose CRM tier (mapped by the current book's labels) is another tier; without
    a current book, the accounts coverage alignment would upgrade or downgrade."""
    cb = doc.get("current_book")
    column = result.ruleset.role("current_tier")
    ev = result.evaluation
    al = doc.get("alignment")
    if isinstance(al, dict) and not isinstance(cb, dict):  # (the priority model's `align`)
        ids = {m.get("account_id") for k in ("upgrades", "downgrades") for m in al.get(k) or []}
        return _ids(cols).is_in([str(a) for a in ids if a is not None])
    if not isinstance(cb, dict) or not column or column not in ev.frame.columns:
        return pl.repeat(False, len(tiers), eager=True)
    labels = cb.get("labels") or {}
    crm = ev.frame[column]
    if crm.dtype == pl.String:
        c = pl.col("c")
        moved = c.is_not_null() & (c != "") & (c.replace(labels) != pl.col("t"))
        frame = pl.DataFrame({"c": crm, "t": tiers})
        return frame.select(moved.fill_null(False)).to_series()
    values = ev.column(column)  # (another type: each value as Python compares it)
    t = tiers.to_list()
    return pl.Series([bool(c) and labels.get(c, c) != x for c, x in zip(values, t)])


def _distinct(cols: AccountColumns, name: str) -> list[str]:
    """A column's distinct values as text, sorted, blanks left out."""
    column = cols.own.get(name, cols.tail.get(name))
    if isinstance(column, pl.Series) and column.dtype == pl.String:
        distinct = column.drop_nulls().unique()
        return sorted(distinct.filter(distinct != "").to_list())
    values = _json_column(cols.values(name))
    return sorted({str(v) for v in values if v not in (None, "")})


def account_table(
    result: SegmentResult, doc: dict[str, Any], cols: AccountColumns, order: pl.Series
) -> tuple[AccountTable, str]:
    """The table's data, every column made by polars (a Python value per account only where
    overrides give Python columns)."""
    n = len(cols)
    decided = cols.decided
    at = cols.at
    tier_col = decided.get("tier")
    tiers = (
        pl.Series(tier_col, dtype=pl.String).gather(at)
        if tier_col
        else pl.repeat("", n, dtype=pl.String, eager=True)
    )
    attention = _moved(result, doc, cols, tiers).fill_null(False)
    comments, reviews = decided.get("comments", []), decided.get("reviews", [])
    if comments and reviews:
        needs = [bool(c) or bool(r) for c, r in zip(comments, reviews)]
        attention = attention | pl.Series(needs, dtype=pl.Boolean).gather(at)
    if "override" in cols.own:
        attention = attention | pl.Series([bool(v) for v in cols.values("override")])
    chosen = T.chosen_of(order, attention)
    traced: dict[str, str] = {}
    if result.run_id is not None and result.store_path:
        ids = _ids(cols).gather(chosen).to_list()
        traced = T.explain_texts(result.store_path, result.run_id, ids, ruleset=T.as_stored(result))
    own = {k: _json_texts(cols, k) for k in [*cols.own, *cols.tail]}
    rs = result.ruleset
    filters = {"tier": list(rs.tier_ids), "flags": [f.id for f in rs.flags]}
    for name in ("csm", "current_tier"):
        if name in own:
            distinct = _distinct(cols, name)
            if len(distinct) <= 300:
                filters[name] = distinct
    tab = AccountTable(
        columns=cols.names,
        cols=own,
        decided={k: _json_column(v) for k, v in decided.items()},
        path_of=Texts(cols.at.cast(pl.String)),
        command="tierbook explain {id}",
        untraced="This account's trace is not embedded in the page; it is in the trace store:",
        traces=traced,
        filters={k: v for k, v in filters.items() if k in cols.names},
        search=[c for c in ("account_id", "account_name", "csm") if c in cols.names],
    )
    counts = T.COUNTS.format(
        total=f"{n:,}",
        page=tab.page_size,
        traced=f"{len(traced):,}",
        top=T.TOP_BY_ARR,
        cap=T.TRACE_CAP,
    )
    return tab, counts


def segment_page(result: SegmentResult, doc: dict[str, Any]) -> str:
    """The page: ``doc`` is the run's segment document (report.json's shape)."""
    return "".join(segment_page_pieces(result, doc))


def write_segment_page(result: SegmentResult, doc: dict[str, Any], path: str) -> None:
    """The page written to ``path`` piece by piece (the same text as ``segment_page``)."""
    with open(path, "w", encoding="utf-8") as fh:
        for piece in segment_page_pieces(result, doc):
            fh.write(piece)


def segment_page_pieces(result: SegmentResult, doc: dict[str, Any]) -> Iterator[str]:
    """``segment_page``'s text in pieces, the account table's data a column at a time."""
    rs, inp = doc["ruleset"], doc["input"]
    cols = account_columns(result)
    arr = cols.own["arr"]
    order = T.order_by_arr(arr if isinstance(arr, pl.Series) else cols.values("arr"))
    tab, counts = account_table(result, doc, cols, order)
    summary = kpis(
        [
            ("accounts", fmt(inp["accounts"])),
            ("ARR", money(inp["arr"])),
            ("tiers", fmt(len(doc.get("tiers", {})))),
            (
                "CSMs needed / available",
                f"{fmt(doc['capacity'].get('needed'))} / {fmt(doc['capacity'].get('available'))}",
            ),
            ("gates", "passed" if doc.get("passed") else "failed"),
        ]
    ) + pairs(
        [
            ("ruleset", f"{rs['name']} {rs['version']} ({rs['sha256'][:12]})"),
            ("input", f"{inp['file']} ({inp['sha256'][:12]})"),
            ("rejected rows", inp["rejected"]),
            ("as of", doc["as_of"]),
            ("engine", doc["engine"]),
            ("ARR bands", (doc.get("arr_bands") or {}).get("reason", "")),
        ]
    )
    parts: list[S.Section] = [
        ("summary", "Summary", summary),
        ("gates", "Quality gates", S.gates(doc)),
        ("tiers", "Tiers", S.tiers(doc)),
        ("capacity", "Capacity", S.capacity(doc)),
        *S.contract_sections(doc, list(doc.get("tiers", {}))),
        ("flags", "Flags", S.flags(doc)),
        ("hints", "Comments and review hints", _hints(cols, order)),
        ("accounts", "Accounts", tab.pieces(counts)),
        ("confidence", "Boundaries and input gaps", S.boundaries(doc)),
    ]
    yield from document_pieces(
        f"Segmentation: {rs['name']} {rs['version']}",
        [f"{inp['file']} · {fmt(inp['accounts'])} accounts · as of {doc['as_of']}"],
        parts,
    )
