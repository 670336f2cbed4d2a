"""report.html's sections made from a segment document (report.json's shape): gates,
tiers, capacity, calibration, flags, boundaries; and, each only when its key is present,
the moves against the current book, the CSMs' books, overrides and the ARR bridge.  Keys
these sections do not know are ignored; a key they know may carry more fields than they
show (tables list every field they find)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...assess.capacity import gap_words
from . import svg
from .page import Body, dict_table, esc, fmt, kpis, money, status_cell, table

Section = tuple[str, str, Body]


def gates(doc: dict[str, Any]) -> str:
    rows = [
        [
            esc(g["id"]),
            status_cell(g["status"]),
            esc(g.get("detail", ""))
            + (f" <i>(waived: {esc(g['waiver_reason'])})</i>" if g.get("waived") else ""),
        ]
        for g in doc.get("gates", [])
    ]
    verdict = "every gate passed or is waived" if doc.get("passed") else "a gate failed"
    cls = "pass" if doc.get("passed") else "fail"
    return f'<p class="{cls}">{esc(verdict)}</p>' + table(
        ["gate", "status", "detail"], rows, raw=True
    )


def tiers(doc: dict[str, Any]) -> str:
    t = doc.get("tiers", {})
    total_n = sum(v["accounts"] for v in t.values()) or 1
    total_arr = sum(v["arr"] for v in t.values()) or 1.0
    rows = [
        [
            name,
            v["accounts"],
            f"{v['accounts'] / total_n:.1%}",
            money(v["arr"]),
            f"{v['arr'] / total_arr:.1%}",
        ]
        for name, v in t.items()
    ]
    charts = svg.bars([(k, v["accounts"]) for k, v in t.items()], "accounts per tier") + svg.bars(
        [(k, v["arr"]) for k, v in t.items()], "ARR per tier", money=True
    )
    return table(["tier", "accounts", "share", "ARR", "ARR share"], rows) + (
        f'<div class="charts">{charts}</div>'
    )


def capacity(doc: dict[str, Any]) -> str:
    cap = doc.get("capacity") or {}
    per = cap.get("per_tier", {})
    rows = [
        [
            name,
            v.get("accounts"),
            v.get("book_size"),
            v.get("needed"),
            v.get("available"),
            gap_words(v.get("gap")),
            "short" if v.get("short") else "",
        ]
        for name, v in per.items()
    ]
    line = (
        f"CSMs needed = {fmt(cap.get('needed'))}, CSMs available = {fmt(cap.get('available'))}, "
        f"gap = {gap_words(cap.get('gap'))}"
    )
    chart = svg.paired_bars(
        [(k, float(v.get("needed") or 0), float(v.get("available") or 0)) for k, v in per.items()],
        ("needed", "available"),
        "CSMs needed and available per tier",
    )
    out = (
        f"<p>{esc(line)}</p>"
        + table(["tier", "accounts", "book size", "needed", "available", "gap", ""], rows)
        + chart
    )
    cal = doc.get("calibration")
    if cal:
        out += f"<h3>Calibration</h3><p>{esc(cal.get('reason', ''))}</p>"
        if cal.get("steps"):
            out += dict_table(cal["steps"])
        if cal.get("levers"):
            out += dict_table(
                [{k: v for k, v in lv.items() if k != "rounds"} for lv in cal["levers"]]
            )
    return out


def flags(doc: dict[str, Any]) -> str:
    f = doc.get("flags", {})
    if not f:
        return '<p class="note">no flag raised</p>'
    return table(["flag", "accounts"], f.items()) + svg.bars(list(f.items()), "accounts per flag")


def boundaries(doc: dict[str, Any]) -> str:
    out = ""
    near = doc.get("near_boundaries") or []
    if near:
        out += "<h3>Accounts near a boundary</h3>" + dict_table(
            [{k: v for k, v in n.items() if k != "largest"} for n in near]
        )
    if doc.get("unreachable_tiers"):
        out += "<h3>Tiers out of reach</h3>" + dict_table(doc["unreachable_tiers"])
    inp = doc.get("input") or {}
    if inp.get("missing_columns") or inp.get("ignored_columns"):
        out += table(
            ["", "columns"],
            [
                ["missing (defaults used)", inp.get("missing_columns") or []],
                ["ignored (no input reads them)", inp.get("ignored_columns") or []],
            ],
        )
    return out


def current_book(cb: dict[str, Any], tier_order: Sequence[str]) -> str:
    """The movement from the CRM's current tier to the new one."""
    cells = {(m["from"], m["to"]): m for m in cb.get("matrix", [])}
    names = list(tier_order) + sorted(
        {t for pair in cells for t in pair if t not in tier_order}, key=str
    )
    peak = max((m.get("accounts", 0) for m in cells.values()), default=0) or 1
    head = "".join(f'<th class="num">{esc(t)}</th>' for t in names)
    body = []
    for a in names:
        tds = []
        for b in names:
            m = cells.get((a, b))
            n = m.get("accounts", 0) if m else 0
            shade = f"rgba(47,95,179,{0.08 + 0.5 * n / peak:.2f})" if n else "transparent"
            title = f' title="{esc(money(m.get("arr")))}"' if m else ""
            tds.append(f'<td class="num" style="background:{shade}"{title}>{esc(fmt(n))}</td>')
        body.append(f"<tr><th>{esc(a)}</th>{''.join(tds)}</tr>")
    matrix = (
        f'<table class="heat"><thead><tr><th>current \\ new</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    moves = [(k, cb.get(k) or {}) for k in ("upgrades", "downgrades", "unchanged", "unknown")]
    up, down = cb.get("upgrades") or {}, cb.get("downgrades") or {}
    change = (
        f"{fmt(up.get('accounts', 0) + down.get('accounts', 0))} · "
        f"{money(up.get('arr', 0) + down.get('arr', 0))}"
    )
    summary = (
        kpis(
            [("change tier", change)]
            + [(k, f"{fmt(v.get('accounts', 0))} · {money(v.get('arr', 0))}") for k, v in moves]
        )
        + '<p class="note">changes.csv beside this page lists the accounts that change tier, '
        "for the CRM's import.</p>"
    )
    chart = svg.bars([(k, float(v.get("accounts", 0))) for k, v in moves], "accounts by move")
    out = (
        f'<p class="note">current tier column: {esc(cb.get("column", ""))}</p>'
        + summary
        + matrix
        + chart
    )
    if cb.get("labels"):
        out += "<h3>CRM labels</h3>" + table(["CRM label", "tier"], cb["labels"].items())
    if cb.get("unmapped"):
        out += "<h3>Labels mapped to no tier</h3>" + dict_table(cb["unmapped"])
    return out


def csm_books(books: dict[str, Any]) -> str:
    csms = books.get("csms", [])
    rows = [
        {k: v for k, v in c.items() if k != "tiers"} | {"tier mix": c.get("tiers")} for c in csms
    ]
    out = dict_table(rows, limit=1000)
    out += svg.paired_bars(
        [
            (str(c.get("csm")), float(c.get("load") or 0), float(c.get("capacity") or 0))
            for c in csms[:40]
        ],
        ("load", "capacity"),
        "each CSM's load against capacity" + (" (first 40)" if len(csms) > 40 else ""),
    )
    over = [c["csm"] for c in csms if c.get("status") == "over"]
    under = [c["csm"] for c in csms if c.get("status") == "under"]
    out += f'<p><span class="over">over-loaded: {esc(fmt(over) or "none")}</span>; under-loaded: {esc(fmt(under) or "none")}</p>'
    un = books.get("unassigned") or {}
    out += f"<p>unassigned: {esc(fmt(un.get('accounts', 0)))} accounts, {esc(money(un.get('arr', 0)))}</p>"
    if books.get("rebalancing") is not None:
        out += "<h3>Rebalancing proposal</h3>" + dict_table(books["rebalancing"])
    return out


def overrides(ov: dict[str, Any]) -> str:
    out = kpis(
        [("overrides applied", fmt(ov.get("applied", 0))), ("ARR overridden", money(ov.get("arr")))]
    )
    if ov.get("file"):
        out += f'<p class="note">file: {esc(ov["file"])}</p>'
    if ov.get("by_tier"):
        out += table(["tier", "overrides"], ov["by_tier"].items())
    for key in ("expiring", "expired", "redundant", "stale"):
        items = ov.get(key) or []
        if items:
            rows = [i if isinstance(i, dict) else {"override": i} for i in items]
            out += f"<h3>{esc(key)}</h3>" + dict_table(rows)
    return out


def arr_bridge(rows: list[dict[str, Any]]) -> str:
    quarters = sorted({r["quarter"] for r in rows})
    total = [r for r in rows if r.get("tier") == "all"]
    chart = svg.lines(
        quarters,
        [
            (
                t,
                [
                    next(
                        (
                            float(r.get("ending") or 0)
                            for r in rows
                            if r["quarter"] == q and r.get("tier") == t
                        ),
                        0.0,
                    )
                    for q in quarters
                ],
            )
            for t in dict.fromkeys(r.get("tier") for r in rows)
            if t is not None
        ],
        "ending ARR per tier and quarter",
        money=True,
    )
    return (
        chart
        + dict_table(total or rows, limit=400)
        + (
            "<h3>Per tier</h3>" + dict_table([r for r in rows if r.get("tier") != "all"], limit=400)
            if total
            else ""
        )
    )


def alignment(al: dict[str, Any]) -> str:
    """Coverage alignment (the priority model's `align`): the accounts covered otherwise
    than their recommended tier, the largest changes, expansion and territory."""
    out = kpis(
        [
            ("misaligned accounts", fmt(al.get("misaligned"))),
            ("ARR at stake", money(al.get("arr_at_stake"))),
            ("current tier unknown", fmt(al.get("unknown_current"))),
        ]
    )
    for key, title in (
        ("top_changes", "Changes of highest impact"),
        ("upgrades", "Upgrades"),
        ("downgrades", "Downgrades"),
        ("expansion", "Expansion ranking"),
    ):
        if isinstance(al.get(key), list):
            out += f"<h3>{esc(title)} ({fmt(len(al[key]))})</h3>" + dict_table(al[key], limit=50)
    territory = al.get("territory")
    if isinstance(territory, dict):
        csms = territory.get("csms")
        out += "<h3>Territory</h3>"
        if isinstance(csms, dict):
            out += dict_table(
                [{"csm": k} | (v if isinstance(v, dict) else {"value": v}) for k, v in csms.items()]
            )
        if isinstance(territory.get("moves"), list):
            out += dict_table(territory["moves"], limit=100)
    return out


def contract_sections(doc: dict[str, Any], tier_order: Sequence[str]) -> list[Section]:
    """The sections of the keys other parts of a run add when they have them."""
    out: list[Section] = []
    if isinstance(doc.get("alignment"), dict):
        out.append(("alignment", "Coverage alignment", alignment(doc["alignment"])))
    if isinstance(doc.get("current_book"), dict):
        out.append(
            (
                "current-book",
                "Moves against the current book",
                current_book(doc["current_book"], tier_order),
            )
        )
    if isinstance(doc.get("csm_books"), dict):
        out.append(("csm-books", "CSM books", csm_books(doc["csm_books"])))
    if isinstance(doc.get("overrides"), dict):
        out.append(("overrides", "Overrides", overrides(doc["overrides"])))
    if isinstance(doc.get("arr_bridge"), list) and doc["arr_bridge"]:
        out.append(("arr-bridge", "ARR bridge", arr_bridge(doc["arr_bridge"])))
    return out
