"""report.html of `tierbook segment`: the run's document (report.json) as sections, the
comments and review hints with their accounts, and the account table with the embedded
decision traces (``traces``)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
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
    document,
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


def _hints(cols: AccountColumns, order: list[int]) -> str:
    """Each comment and review hint with the accounts holding it, largest ARR first."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    at = cols.at.to_list()
    ids = cols.values("account_id")
    for kind in ("comments", "reviews"):
        column = cols.decided.get(kind)
        if column is None:
            continue
        for i in order:
            for text in column[at[i]]:
                found[(kind, text)].append(str(ids[i]))
    if not found:
        return '<p class="note">no comment or review hint on any account</p>'
    rows = [
        [
            esc("comment" if kind == "comments" else "review hint"),
            esc(text),
            esc(fmt(len(accounts))),
            accounts_list(accounts),
        ]
        for (kind, text), accounts in sorted(found.items())
    ]
    return table(["kind", "text", "accounts", "which (largest ARR first)"], rows, raw=True)


def _moved(result: SegmentResult, doc: dict[str, Any], tiers: Sequence[Any]) -> list[bool]:
    """Accounts whose CRM tier (mapped by the current book's labels) is another tier; without
    a current book, the accounts coverage alignment would upgrade or downgrade."""
    cb = doc.get("current_book")
    column = result.ruleset.role("current_tier")
    ev = result.evaluation
    al = doc.get("alignment")
    if isinstance(al, dict) and not isinstance(cb, dict):  # (the priority model's `align`)
        ids = {m.get("account_id") for k in ("upgrades", "downgrades") for m in al.get(k) or []}
        return [a in ids for a in ev.account_ids()]
    if not isinstance(cb, dict) or not column or column not in ev.frame.columns:
        return [False] * len(tiers)
    labels = cb.get("labels") or {}
    return [bool(c) and labels.get(c, c) != t for c, t in zip(ev.column(column), tiers)]


def account_table(
    result: SegmentResult, doc: dict[str, Any], cols: AccountColumns, order: list[int]
) -> tuple[AccountTable, str]:
    n = len(cols)
    ids = [str(a) for a in cols.values("account_id")]
    path_index = cols.at.to_list()
    decided = cols.decided
    needs = [
        bool(c) or bool(r) for c, r in zip(decided.get("comments", []), decided.get("reviews", []))
    ]
    tier_col = decided.get("tier") or [""] * (max(path_index, default=-1) + 1)
    tiers = [tier_col[p] for p in path_index]
    moved = _moved(result, doc, tiers)
    own = {k: _json_texts(cols, k) for k in [*cols.own, *cols.tail]}
    override = cols.values("override") if "override" in cols.own else None

    def attention(i: int) -> bool:
        flagged = bool(needs) and needs[path_index[i]]
        return flagged or moved[i] or bool(override and override[i])

    chosen = T.chosen(order, attention)
    traced: dict[str, str] = {}
    if result.run_id is not None and result.store_path:
        traced = T.explain_texts(result.store_path, result.run_id, [ids[i] for i in chosen])
    rs = result.ruleset
    filters = {"tier": list(rs.tier_ids), "flags": [f.id for f in rs.flags]}
    for name in ("csm", "current_tier"):
        if name in own:
            values = _json_column(cols.values(name))
            distinct = sorted({str(v) for v in values if v not in (None, "")})
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
    rs, inp = doc["ruleset"], doc["input"]
    cols = account_columns(result)
    arr = cols.own["arr"]
    order = T.by_arr(arr if isinstance(arr, pl.Series) else cols.values("arr"))
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
        ("accounts", "Accounts", tab.html(counts)),
        ("confidence", "Boundaries and input gaps", S.boundaries(doc)),
    ]
    return document(
        f"Segmentation: {rs['name']} {rs['version']}",
        [f"{inp['file']} · {fmt(inp['accounts'])} accounts · as of {doc['as_of']}"],
        parts,
    )
