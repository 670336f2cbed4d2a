"""report.html of `tierbook plan` (``--html FILE``) and of `tierbook replay` (in --out):
made from the command's JSON document (``Plan.as_json``, ``Replay.as_json``), with the
account table of the accounts that move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import sections as S
from . import svg
from . import traces as T
from .page import AccountTable, dict_table, document, esc, fmt, kpis, money, table


def _matrix(matrix: dict[str, dict[str, int]], caption: str) -> str:
    names = list(matrix)
    names += [t for row in matrix.values() for t in row if t not in names]
    peak = max((n for a, row in matrix.items() for b, n in row.items() if a != b), default=0) or 1
    head = "".join(f'<th class="num">{esc(t)}</th>' for t in names)
    body = []
    for a in names:
        tds = []
        for b in names:
            n = matrix.get(a, {}).get(b, 0)
            alpha = 0.08 + 0.5 * n / peak if n and a != b else 0
            shade = f"rgba(224,123,57,{min(alpha, 0.6):.2f})" if alpha else "transparent"
            tds.append(f'<td class="num" style="background:{shade}">{esc(fmt(n))}</td>')
        body.append(f"<tr><th>{esc(a)}</th>{''.join(tds)}</tr>")
    return (
        f'<p class="note">{esc(caption)}</p><table class="heat"><thead><tr><th></th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {n: [_cell(r.get(n)) for r in rows] for n in names}


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return [fmt(x) if isinstance(x, dict) else x for x in v]
    return fmt(v) if isinstance(v, dict) else v


# -- plan ----------------------------------------------------------------------------------


def plan_page(doc: dict[str, Any], traces: dict[str, str]) -> str:
    """``traces``: per moved account, its explain text under the base and the head."""
    base, head = doc["base"], doc["head"]
    gates_doc = {"gates": head["gates"], "passed": not doc.get("failed_gates")}
    summary = kpis(
        [
            ("accounts", fmt(doc["accounts"])),
            ("change tier", fmt(doc["accounts_changing_tier"])),
            (
                "ARR moved",
                money(sum(v for row in doc["arr_moved"].values() for k, v in row.items())),
            ),
            ("gates changed", fmt(len(doc.get("gate_changes", [])))),
            ("head gates", "failed" if doc.get("failed_gates") else "passed"),
        ]
    ) + table(
        ["", "base", "head"],
        [
            ["ruleset", f"{base['name']} {base['version']}", f"{head['name']} {head['version']}"],
            ["spec", base.get("spec", ""), head.get("spec", "")],
            ["sha256", base["sha256"][:12], head["sha256"][:12]],
        ],
    )
    tiers = list(dict.fromkeys([*base["tiers"], *head["tiers"]]))
    per_tier = svg.paired_bars(
        [
            (
                t,
                float(base["tiers"].get(t, {}).get("accounts", 0)),
                float(head["tiers"].get(t, {}).get("accounts", 0)),
            )
            for t in tiers
        ],
        ("base", "head"),
        "accounts per tier, base and head",
    )
    cap = doc.get("capacity") or {}
    capacity = dict_table(cap.get("per_tier", [])) + (
        dict_table([cap["delta"]]) if cap.get("delta") else '<p class="note">CSMs unchanged</p>'
    )
    hints = table(
        ["", "accounts before", "accounts after", "gained", "lost"],
        [
            [k, v.get("accounts_before"), v.get("accounts_after"), v.get("gained"), v.get("lost")]
            for k, v in (
                ("review hints", doc.get("reviews") or {}),
                ("comments", doc.get("comments") or {}),
            )
        ],
    ) + table(["", "flags"], [["gained", doc.get("flags_gained")], ["lost", doc.get("flags_lost")]])
    moves = doc.get("moves", [])
    names = [
        "account_id",
        "name",
        "csm",
        "crm_tier",
        "arr",
        "before",
        "after",
        "before_rule",
        "after_rule",
    ]
    names = [n for n in names if any(m.get(n) is not None for m in moves)] or ["account_id"]
    tab = AccountTable(
        columns=names,
        cols=_columns(moves, names),
        command="tierbook explain {id} --run N  (N: the plan's base or head run; tierbook runs lists them)",
        untraced="This account's traces are not embedded in the page; they are in the trace store:",
        traces=traces,
        filters={k: tiers for k in ("before", "after") if k in names},
        search=[n for n in ("account_id", "name", "csm") if n in names],
    )
    counts = (
        f"{len(moves):,} accounts change tier. Traces (base and head) are embedded for "
        f"{len(traces):,} of them, largest ARR first, at most {T.TRACE_CAP}."
    )
    parts: list[S.Section] = [
        ("summary", "Summary", summary),
        (
            "gates",
            "Gates of the head",
            S.gates(gates_doc)
            + (
                "<h3>Gates whose status changed</h3>" + dict_table(doc["gate_changes"])
                if doc.get("gate_changes")
                else ""
            ),
        ),
        (
            "matrix",
            "Movement matrix",
            _matrix(doc["matrix"], "rows: base tier, columns: head tier") + per_tier,
        ),
        ("diff", "What changed in the ruleset", dict_table(doc.get("rule_changes", []), limit=500)),
        ("capacity", "Capacity", capacity),
        ("hints", "Flags, comments and review hints", hints),
        ("accounts", "Accounts that change tier", tab.html(counts)),
    ]
    if doc.get("warnings"):
        parts.append(("warnings", "Warnings", "".join(f"<p>{esc(w)}</p>" for w in doc["warnings"])))
    return document(
        f"Plan: {base['name']} {base['version']} -> {head['name']} {head['version']}",
        [f"{fmt(doc['accounts'])} accounts · {fmt(doc['accounts_changing_tier'])} change tier"],
        parts,
    )


def plan_traces(p: Any) -> dict[str, str]:
    """Each moved account's explain text under the base's and the head's runs (the largest
    ``TRACE_CAP`` by ARR)."""
    moves = sorted(p.moves, key=lambda m: (-(m.arr or 0.0), m.account_id))[: T.TRACE_CAP]
    ids = [m.account_id for m in moves]
    if not ids or p.base.run_id is None or p.head.run_id is None:
        return {}
    before = T.explain_texts(p.base.store_path, p.base.run_id, ids, ruleset=T.as_stored(p.base))
    after = T.explain_texts(p.head.store_path, p.head.run_id, ids, ruleset=T.as_stored(p.head))
    return {a: f"under the base:\n{before[a]}\n\nunder the head:\n{after[a]}" for a in ids}


# -- replay --------------------------------------------------------------------------------


def replay_page(doc: dict[str, Any]) -> str:
    quarters = [q["quarter"] for q in doc["quarters"]]
    tiers = list(doc["start"]["tiers"])
    xs = ["start", *quarters]
    series = [doc["start"]["tiers"], *(q["tiers"] for q in doc["quarters"])]
    accounts = svg.lines(
        xs,
        [(t, [float(s.get(t, {}).get("accounts", 0)) for s in series]) for t in tiers],
        "accounts per tier over the quarters",
    )
    arr = svg.lines(
        xs,
        [(t, [float(s.get(t, {}).get("arr", 0)) for s in series]) for t in tiers],
        "ARR per tier over the quarters",
        money=True,
    )
    per_quarter = table(
        [
            "quarter",
            "moves",
            "held",
            "reviews",
            "joined",
            "churned",
            "CSMs needed / available",
            *[f"{t} ARR" for t in tiers],
        ],
        [
            [
                q["quarter"],
                len(q["moves"]),
                len(q["held"]),
                len(q["reviews"]),
                q.get("new_accounts"),
                sum((q.get("churned") or {}).values()),
                f"{fmt(q['capacity'].get('needed'))} / {fmt(q['capacity'].get('available'))}",
                *[money(q["tiers"].get(t, {}).get("arr")) for t in tiers],
            ]
            for q in doc["quarters"]
        ],
    )
    marks = [
        (i, t["id"], t["status"])
        for i, q in enumerate(doc["quarters"], start=1)
        for t in q.get("triggers", [])
    ]
    triggers = svg.timeline(xs, marks, "re-calibration triggers (filled: fired, hollow: open)")
    trig_rows = [
        {"quarter": q["quarter"]} | {k: v for k, v in t.items() if k != "figures"}
        for q in doc["quarters"]
        for t in q.get("triggers", [])
    ]
    flows: dict[str, dict[str, int]] = {}
    for q in doc["quarters"]:
        for a, row in q["transitions"].items():
            for b, n in row.items():
                flows.setdefault(a, {}).setdefault(b, 0)
                flows[a][b] += n
    rows = [
        {"quarter": q["quarter"], "outcome": kind} | m
        for q in doc["quarters"]
        for kind, items in (("moved", q["moves"]), ("held", q["held"]), ("review", q["reviews"]))
        for m in items
    ]
    names = [
        "quarter",
        "outcome",
        "account_id",
        "name",
        "arr",
        "from",
        "to",
        "evaluated",
        "rule",
        "because",
        "crossed",
    ]
    tab = AccountTable(
        columns=names,
        cols=_columns(rows, names),
        command="tierbook history {id}",
        untraced="Every quarter of this account, from the trace store:",
        filters={"outcome": ["moved", "held", "review"], "quarter": quarters},
        search=["account_id", "name", "rule"],
        group=["quarter", "outcome", "from", "to", "rule", "because", "crossed"],
    )
    counts = (
        f"{len(rows):,} moves, holds and reviews over {len(quarters)} quarters; opening one "
        "shows every quarter of its account in the replay."
    )
    rs = doc["ruleset"]
    parts: list[S.Section] = [
        (
            "summary",
            "Summary",
            kpis(
                [
                    ("quarters", fmt(len(quarters))),
                    ("moves", fmt(sum(len(q["moves"]) for q in doc["quarters"]))),
                    ("triggers fired", fmt(sum(1 for r in trig_rows if r["status"] == "fired"))),
                ]
            )
            + per_quarter,
        ),
        (
            "movement",
            "Tier movement over the quarters",
            f'<div class="charts">{accounts}{arr}</div>'
            + _matrix(
                flows, "every quarter's transitions added up (rows: held before, columns: after)"
            ),
        ),
        ("triggers", "Re-calibration triggers", triggers + dict_table(trig_rows)),
        *S.contract_sections(doc, tiers),
        ("accounts", "Accounts that moved", tab.html(counts)),
    ]
    if doc.get("skipped_events"):
        parts.append(("skipped", "Skipped events", dict_table(doc["skipped_events"])))
    return document(
        f"Replay: {rs['name']} {rs['version']}",
        [
            f"from {doc['start']['as_of']} · {len(quarters)} quarters ({quarters[0]} to {quarters[-1]})"
            if quarters
            else f"from {doc['start']['as_of']}"
        ],
        parts,
    )
