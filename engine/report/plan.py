"""`tierbook plan` as text for a terminal and as markdown for a pull-request comment."""

from __future__ import annotations

from typing import Any

from ..commands.plan import HintChange, Move, Plan
from ..overrides.plan import plan_lines

# GitHub refuses a comment body over 65,536 characters; lists are cut well before it
COMMENT_LIMIT = 65536
_COMMENT_BUDGET = 60000


def money(v: float) -> str:
    v = round(v) + 0.0  # (+ 0.0: a change of -$0.40 is $0, not $-0)
    return f"-${-v:,.0f}" if v < 0 else f"${v:,.0f}"


def signed_money(v: float) -> str:
    return money(v) if round(v) < 0 else f"+{money(v)}"


def _csm_delta(p: Plan) -> str:
    b, a = p.base.capacity.needed, p.head.capacity.needed
    return f"CSMs needed {b} -> {a}" + (f" ({a - b:+d})" if a != b else "")


def _gates_word(p: Plan) -> str:
    failed = p.failed_gates
    if failed:
        return f"{len(failed)} gate(s) failed ({', '.join(g.id for g in failed)})"
    return "gates passed" if not p.gate_changes else f"{len(p.gate_changes)} gate(s) changed"


def summary_line(p: Plan) -> str:
    """The one line a reviewer reads first: accounts moving, ARR, CSMs, gates."""
    arr = sum(m.arr for m in p.moves)
    return (
        f"{len(p.moves):,} account(s) change tier, {money(arr)} ARR moves, "
        f"{_csm_delta(p)}, {_gates_word(p)}"
    )


def _summary_lines(p: Plan) -> list[str]:
    n = len(p.head.evaluation.decisions)
    b, h = p.base.ruleset, p.head.ruleset
    lines = [f"Plan: {b.name} {b.version} -> {h.name} {h.version} on {n:,} accounts"]
    lines += [f"  {s.line()}" for s in p.sources]
    lines.append(
        f"{len(p.moves):,} account(s) change tier, {money(sum(m.arr for m in p.moves))} ARR moves"
    )
    delta = p.capacity_delta()
    if delta:
        gd = delta["gap_delta"]
        lines.append(
            f"CSMs needed {delta['needed_before']} -> {delta['needed_after']}"
            + (
                f", capacity gap {delta['gap_before']:+d} -> {delta['gap_after']:+d} "
                f"(delta {gd:+d})"
                if gd is not None
                else ""
            )
        )
    else:
        lines.append("CSM capacity unchanged")
    for g in p.gate_changes:
        lines.append(f"gate {g['id']}: {g['before']} -> {g['after']}: {g['detail']}")
    changed = {g["id"] for g in p.gate_changes}
    for g in p.failed_gates:
        if g.id not in changed:
            lines.append(f"gate {g.id}: failed (as in the base): {g.detail}")
    if p.flags_gained or p.flags_lost:
        parts = [f"+{n} {f}" for f, n in sorted(p.flags_gained.items())]
        parts += [f"-{n} {f}" for f, n in sorted(p.flags_lost.items())]
        lines.append("flags: " + ", ".join(parts))
    for kind, label in (("reviews", "review hints"), ("comments", "comments")):
        h_ = p.hints.get(kind)
        if h_ is not None and h_.changed:
            lines.append(
                f"{label}: {h_.before:,} -> {h_.after:,} accounts "
                f"(+{sum(h_.gained.values()):,} gained, -{sum(h_.lost.values()):,} lost)"
            )
    return lines


def _hint_lines(label: str, h: HintChange, limit: int) -> list[str]:
    rows = [("+", n, t) for t, n in h.gained.items()] + [("-", n, t) for t, n in h.lost.items()]
    rows.sort(key=lambda r: (-r[1], r[0], r[2]))
    out = [f"{label} gained (+) and lost (-), accounts ({h.before:,} -> {h.after:,} hold any)"]
    out += [f"  {sign}{n:,}  {text}" for sign, n, text in rows[:limit]]
    if len(rows) > limit:
        out.append(f"  ... {len(rows) - limit:,} more")
    return out


def _calibration_lines(p: Plan) -> list[str]:
    out = []
    for label, r in (("base", p.base), ("head", p.head)):
        c = r.calibration
        out.append(f"  {label}: {c.reason}")
        for s in c.steps:
            out.append(
                f"    round {s.round}: {s.lever} {s.boundary_from:g} -> {s.boundary_to:g}: "
                f"{c.tier} {s.tier_accounts_before:,} -> {s.tier_accounts_after:,} accounts, "
                f"CSMs needed {s.needed_before} -> {s.needed_after}"
            )
    return out


def _who(m: Move) -> str:
    parts = [m.name] if m.name else []
    parts += [f"CSM {m.csm}"] if m.csm else []
    parts += [f"CRM {m.crm_tier}"] if m.crm_tier else []
    return ("  " + " · ".join(parts)) if parts else ""


_WIDE = 80  # a terminal line: wider than this, the movement matrix numbers its columns


def render_text(p: Plan, limit: int = 50) -> str:
    out = _summary_lines(p)  # warnings go to stderr
    if p.rules is not None and p.rules.changes:
        from ..ruleset.diff import render_lines

        out += ["", *render_lines(p.rules, limit)]
    out += plan_lines(p, limit)
    if not p.changed:
        out.append("No changes. The portfolio is segmented the same way.")
        return "\n".join(out)
    tiers = p.tiers()
    width = max(len(t) for t in tiers) + 2
    out += ["", "Movement matrix (rows: before, columns: after)"]
    column = width
    if width + column * len(tiers) <= _WIDE:  # every tier named over its column
        heads, labels = list(tiers), list(tiers)
    else:  # numbered columns, the numbers on the rows
        column = 12
        heads = [f"({i})" for i in range(1, len(tiers) + 1)]
        labels = [f"({i}) {t}" for i, t in enumerate(tiers, start=1)]
        width = max(len(label) for label in labels) + 2
    out.append(" " * width + "".join(f"{h:>{column}}" for h in heads))
    for t, label in zip(tiers, labels):
        out.append(f"{label:<{width}}" + "".join(f"{p.matrix[t][u]:>{column},}" for u in tiers))
    out += ["", "ARR moved"]
    for t in tiers:
        for u in tiers:
            if t != u and p.arr_moved[t][u]:
                out.append(f"  {t} -> {u}: {money(p.arr_moved[t][u])}")
    width = max(len(t) for t in tiers) + 2
    before, after = p.base.tier_summary(), p.head.tier_summary()
    out += ["", "ARR per tier (before -> after)"]
    for t in tiers:
        b, a = before.get(t, {}).get("arr", 0.0), after.get(t, {}).get("arr", 0.0)
        out.append(f"  {t:<{width}} {money(b):>14} -> {money(a):<14} ({signed_money(a - b)})")
    out += ["", "CSMs needed per tier (before -> after)"]
    for r in p.capacity_rows():
        out.append(
            f"  {r['tier']:<{width}} {r['needed_before']:>4} -> {r['needed_after']:<4} "
            f"({r['accounts_before']:,} -> {r['accounts_after']:,} accounts)"
        )
    out += ["", "Capacity calibration (what each side recommends)", *_calibration_lines(p)]
    for kind, label in (("reviews", "Review hints"), ("comments", "Comments")):
        h = p.hints.get(kind)
        if h is not None and h.changed:
            out += ["", *_hint_lines(label, h, limit)]
    if p.moves:
        out += ["", f"Accounts changing tier ({len(p.moves):,}, largest ARR first)"]
        for m in p.moves[:limit]:
            out.append(
                f"  {m.account_id}  {money(m.arr):>12}  {m.before} -> {m.after}  "
                f"[{m.before_rule} -> {m.after_rule}]{_who(m)}"
            )
        if len(p.moves) > limit:
            out.append(f"  ... {len(p.moves) - limit:,} more (--format json lists all)")
    return "\n".join(out)


def marker(p: Plan) -> str:
    """The comment's first line, the same on every push of a pull request, so a CI job
    finds its earlier comment and edits it instead of adding one."""
    head = p.sources[1].spec if len(p.sources) > 1 else p.head.ruleset.name
    return f"<!-- tierbook-plan head={head} -->"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _details(summary: str, body: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _markdown(p: Plan, limit: int) -> str:
    b, h = p.base.ruleset, p.head.ruleset
    head_name = f"`{h.name}` " if h.name != b.name else ""
    md_line = summary_line(p).replace(" -> ", " → ")
    out = [
        marker(p),
        f"### tierbook plan: `{b.name}` {b.version} → {head_name}{h.version}: {md_line}",
    ]
    out.append("")
    out += [
        f"- {s.role}: `{s.source}` ({s.name} {s.version}, sha256 `{s.sha256[:12]}`)"
        for s in p.sources
    ]
    for w in p.warnings:
        out += ["", f"> **Warning:** {w}"]
    for g in p.failed_gates:
        out += ["", f"> **Gate failed:** `{g.id}`: {_cell(g.detail)}"]
    if p.rules is not None and p.rules.changes:
        from ..ruleset.diff import render_markdown

        out += _details(p.rules.summary(), render_markdown(p.rules, limit))
    if not p.changed:
        out += ["", "**No changes.** The portfolio is segmented the same way."]
        return "\n".join(out) + "\n"
    tiers = p.tiers()
    matrix = ["| before \\ after | " + " | ".join(tiers) + " |", "|---|" + "---:|" * len(tiers)]
    for t in tiers:
        matrix.append(
            f"| **{t}** | "
            + " | ".join(
                f"**{p.matrix[t][u]:,}**" if t != u and p.matrix[t][u] else f"{p.matrix[t][u]:,}"
                for u in tiers
            )
            + " |"
        )
    out += _details("Movement matrix (rows: before, columns: after)", matrix)
    before, after = p.base.tier_summary(), p.head.tier_summary()
    per_tier = [
        "| tier | accounts | ARR | CSMs needed | ARR in | ARR out |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in p.capacity_rows():
        t = r["tier"]
        arr_in = sum(p.arr_moved[u][t] for u in tiers if u != t)
        arr_out = sum(p.arr_moved[t][u] for u in tiers if u != t)
        arr_b, arr_a = before.get(t, {}).get("arr", 0.0), after.get(t, {}).get("arr", 0.0)
        per_tier.append(
            f"| {t} | {r['accounts_before']:,} → {r['accounts_after']:,} | "
            f"{money(arr_b)} → {money(arr_a)} | "
            f"{r['needed_before']} → {r['needed_after']} | {money(arr_in)} | {money(arr_out)} |"
        )
    out += _details("Accounts, ARR and CSMs per tier", per_tier)
    if p.gate_changes:
        rows = ["| gate | before | after | detail |", "|---|---|---|---|"]
        rows += [
            f"| `{g['id']}` | {g['before']} | {g['after']} | {_cell(g['detail'])} |"
            for g in p.gate_changes
        ]
        out += _details(f"{len(p.gate_changes)} gate(s) changed", rows)
    for kind, label in (("reviews", "Review hints"), ("comments", "Comments")):
        hc = p.hints.get(kind)
        if hc is not None and hc.changed:
            items = [("+", n, t) for t, n in hc.gained.items()]
            items += [("-", n, t) for t, n in hc.lost.items()]
            items.sort(key=lambda r: (-r[1], r[0], r[2]))
            rows = ["| | accounts | text |", "|---|---:|---|"]
            rows += [f"| {s} | {n:,} | {_cell(t)} |" for s, n, t in items[:limit]]
            if len(items) > limit:
                rows.append(f"| | … | {len(items) - limit:,} more |")
            out += _details(f"{label}: {hc.before:,} → {hc.after:,} accounts", rows)
    calibration = [  # a list: lines of a plain paragraph would run together
        ("  - " if line.startswith("    ") else "- ") + line.strip()
        for line in _calibration_lines(p)
    ]
    out += _details("Capacity calibration", calibration)
    if p.moves:
        rows = [
            "| account | name | ARR | before | after | CSM | CRM tier | decided by |",
            "|---|---|---:|---|---|---|---|---|",
        ]
        rows += [
            f"| {m.account_id} | {_cell(m.name)} | {money(m.arr)} | {m.before} | {m.after} | "
            f"{_cell(m.csm)} | {_cell(m.crm_tier)} | `{m.before_rule}` → `{m.after_rule}` |"
            for m in p.moves[:limit]
        ]
        if len(p.moves) > limit:
            rows.append(f"| … | {len(p.moves) - limit:,} more | | | | | | |")
        out += _details(f"{len(p.moves):,} account(s) change tier, largest ARR first", rows)
    pinned = plan_lines(p, limit)
    if pinned:
        out += _details("Overrides", [f"- {line.strip()}" for line in pinned[1:]])
    return "\n".join(out) + "\n"


def render_markdown(p: Plan, limit: int = 500) -> str:
    """The pull-request comment: the marker, one summary line, then collapsed sections;
    long lists are cut (with a count of the rest) until it fits well under GitHub's limit."""
    text = _markdown(p, limit)
    while len(text) > _COMMENT_BUDGET and limit > 1:
        limit //= 2
        text = _markdown(p, limit)
    return text
