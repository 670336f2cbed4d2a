"""`tierbook plan`: what a ruleset change does to the portfolio, before it merges.

Both versions segment the same portfolio; the plan compares them account by account, the
way `terraform plan` compares state with configuration.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..assess.result import SegmentResult


@dataclass
class Move:
    account_id: str
    arr: float
    before: str
    after: str
    before_rule: str
    after_rule: str
    before_because: str
    after_because: str


@dataclass
class Plan:
    base: SegmentResult
    head: SegmentResult
    moves: list[Move]
    matrix: dict[str, dict[str, int]]
    arr_moved: dict[str, dict[str, float]]
    flags_gained: Counter[str]
    flags_lost: Counter[str]
    gate_changes: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.moves
            or self.flags_gained
            or self.flags_lost
            or self.gate_changes
            or self.capacity_delta()
            or self.added
            or self.removed
        )

    def tiers(self) -> list[str]:
        out = list(self.base.ruleset.tier_ids)
        out += [t for t in self.head.ruleset.tier_ids if t not in out]
        return out

    def capacity_rows(self) -> list[dict[str, Any]]:
        before = {t.tier: t for t in self.base.capacity.per_tier}
        after = {t.tier: t for t in self.head.capacity.per_tier}
        rows = []
        for tier in self.tiers():
            b, a = before.get(tier), after.get(tier)
            rows.append(
                {
                    "tier": tier,
                    "accounts_before": b.accounts if b else 0,
                    "accounts_after": a.accounts if a else 0,
                    "needed_before": b.needed if b else 0,
                    "needed_after": a.needed if a else 0,
                    "available_before": b.available if b else None,
                    "available_after": a.available if a else None,
                }
            )
        return rows

    def capacity_delta(self) -> dict[str, Any]:
        b, a = self.base.capacity, self.head.capacity
        if b.needed == a.needed and b.gap == a.gap and b.available == a.available:
            return {}
        return {
            "needed_before": b.needed,
            "needed_after": a.needed,
            "available_before": b.available,
            "available_after": a.available,
            "gap_before": b.gap,
            "gap_after": a.gap,
            "gap_delta": None if a.gap is None or b.gap is None else a.gap - b.gap,
        }

    def as_json(self) -> dict[str, Any]:
        def side(r: SegmentResult) -> dict[str, Any]:
            return {
                "name": r.ruleset.name,
                "version": r.ruleset.version,
                "sha256": r.ruleset.sha256,
                "tiers": r.tier_summary(),
                "capacity": r.capacity.as_dict(),
                "gates": [g.as_dict() for g in r.gates],
                "run_id": r.run_id,
            }

        return {
            "base": side(self.base),
            "head": side(self.head),
            "accounts": len(self.head.evaluation.decisions),
            "changed": self.changed,
            "accounts_changing_tier": len(self.moves),
            "matrix": self.matrix,
            "arr_moved": {
                k: {t: round(v, 2) for t, v in row.items()} for k, row in self.arr_moved.items()
            },
            "capacity": {"per_tier": self.capacity_rows(), "delta": self.capacity_delta()},
            "gate_changes": self.gate_changes,
            "flags_gained": dict(sorted(self.flags_gained.items())),
            "flags_lost": dict(sorted(self.flags_lost.items())),
            "moves": [vars(m) for m in self.moves],
            "accounts_added": self.added,
            "accounts_removed": self.removed,
            "warnings": self.warnings,
        }


def compare(base: SegmentResult, head: SegmentResult) -> Plan:
    before = {d.account_id: d for d in base.evaluation.decisions}
    after = {d.account_id: d for d in head.evaluation.decisions}
    tiers = list(base.ruleset.tier_ids) + [
        t for t in head.ruleset.tier_ids if t not in base.ruleset.tier_ids
    ]
    matrix = {t: {u: 0 for u in tiers} for t in tiers}
    arr_moved: dict[str, dict[str, float]] = {t: {u: 0.0 for u in tiers} for t in tiers}
    moves: list[Move] = []
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    cells_b = {c.id: c.because for c in base.ruleset.grid.cells}
    cells_h = {c.id: c.because for c in head.ruleset.grid.cells}
    for account_id, b in before.items():
        a = after.get(account_id)
        if a is None:
            continue
        matrix[b.tier][a.tier] += 1
        arr = float(a.values.get(head.arr_field) or 0.0)
        if b.tier != a.tier:
            arr_moved[b.tier][a.tier] += arr
            moves.append(
                Move(
                    account_id,
                    arr,
                    b.tier,
                    a.tier,
                    b.cell,
                    a.cell,
                    cells_b.get(b.cell, ""),
                    cells_h.get(a.cell, ""),
                )
            )
        gained.update(set(a.flags) - set(b.flags))
        lost.update(set(b.flags) - set(a.flags))
    moves.sort(key=lambda m: (-m.arr, m.account_id))
    gates_b = {g.id: g for g in base.gates}
    gates_h = {g.id: g for g in head.gates}
    changes = []
    for gid in list(gates_b) + [g for g in gates_h if g not in gates_b]:
        gb, gh = gates_b.get(gid), gates_h.get(gid)
        sb = gb.status if gb else "absent"
        sh = gh.status if gh else "absent"
        if sb != sh:
            latest = gh or gb
            changes.append(
                {"id": gid, "before": sb, "after": sh, "detail": latest.detail if latest else ""}
            )
    plan = Plan(
        base,
        head,
        moves,
        matrix,
        arr_moved,
        gained,
        lost,
        changes,
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
    )
    if (
        base.ruleset.name == head.ruleset.name
        and base.ruleset.sha256 != head.ruleset.sha256
        and base.ruleset.version == head.ruleset.version
    ):  # (two different rulesets: no)
        plan.warnings.append(
            f"the rules changed but the version is still {head.ruleset.version}: "
            "bump metadata.version (every change to the rules is a new version)"
        )
    return plan


# --- rendering ----------------------------------------------------------------------------


def _money(v: float) -> str:
    return f"${v:,.0f}"


def _summary_lines(p: Plan) -> list[str]:
    n = len(p.head.evaluation.decisions)
    b, h = p.base.ruleset, p.head.ruleset
    lines = [
        f"Plan: {b.name} {b.version} -> {h.name} {h.version} on {n:,} accounts",
        f"{len(p.moves):,} account(s) change tier, {_money(sum(m.arr for m in p.moves))} ARR moves",
    ]
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
        lines.append(f"gate {g['id']}: {g['before']} -> {g['after']}")
    if p.flags_gained or p.flags_lost:
        parts = [f"+{n} {f}" for f, n in sorted(p.flags_gained.items())]
        parts += [f"-{n} {f}" for f, n in sorted(p.flags_lost.items())]
        lines.append("flags: " + ", ".join(parts))
    return lines


_WIDE = 80  # a terminal line: wider than this, the movement matrix numbers its columns


def render_text(p: Plan, limit: int = 50) -> str:
    out = _summary_lines(p)  # warnings go to stderr
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
                out.append(f"  {t} -> {u}: {_money(p.arr_moved[t][u])}")
    out += ["", "CSMs needed per tier (before -> after)"]
    for r in p.capacity_rows():
        out.append(
            f"  {r['tier']:<{width}} {r['needed_before']:>4} -> {r['needed_after']:<4} "
            f"({r['accounts_before']:,} -> {r['accounts_after']:,} accounts)"
        )
    if p.moves:
        out += ["", f"Accounts changing tier ({len(p.moves):,}, largest ARR first)"]
        for m in p.moves[:limit]:
            out.append(
                f"  {m.account_id}  {_money(m.arr):>12}  {m.before} -> {m.after}  "
                f"[{m.before_rule} -> {m.after_rule}]"
            )
        if len(p.moves) > limit:
            out.append(f"  ... {len(p.moves) - limit:,} more (--format json lists all)")
    return "\n".join(out)


def render_markdown(p: Plan, limit: int = 500) -> str:
    b, h = p.base.ruleset, p.head.ruleset
    head_name = f"`{h.name}` " if h.name != b.name else ""
    out = [f"### tierbook plan: `{b.name}` {b.version} → {head_name}{h.version}", ""]
    for w in p.warnings:
        out += [f"> **Warning:** {w}", ""]
    out += [f"- {line}" for line in _summary_lines(p)[1:]]
    if not p.changed:
        out += ["", "**No changes.** The portfolio is segmented the same way."]
        return "\n".join(out) + "\n"
    tiers = p.tiers()
    out += ["", "| before \\ after | " + " | ".join(tiers) + " |", "|---|" + "---:|" * len(tiers)]
    for t in tiers:
        out.append(
            f"| **{t}** | "
            + " | ".join(
                f"**{p.matrix[t][u]:,}**" if t != u and p.matrix[t][u] else f"{p.matrix[t][u]:,}"
                for u in tiers
            )
            + " |"
        )
    out += ["", "| tier | accounts | CSMs needed | ARR in | ARR out |", "|---|---:|---:|---:|---:|"]
    for r in p.capacity_rows():
        t = r["tier"]
        arr_in = sum(p.arr_moved[u][t] for u in tiers if u != t)
        arr_out = sum(p.arr_moved[t][u] for u in tiers if u != t)
        out.append(
            f"| {t} | {r['accounts_before']:,} → {r['accounts_after']:,} | "
            f"{r['needed_before']} → {r['needed_after']} | {_money(arr_in)} | {_money(arr_out)} |"
        )
    if p.moves:
        out += [
            "",
            f"<details><summary>{len(p.moves):,} account(s) change tier</summary>",
            "",
            "| account | ARR | before | after | decided by (before → after) |",
            "|---|---:|---|---|---|",
        ]
        for m in p.moves[:limit]:
            out.append(
                f"| {m.account_id} | {_money(m.arr)} | {m.before} | {m.after} | "
                f"`{m.before_rule}` → `{m.after_rule}` |"
            )
        if len(p.moves) > limit:
            out.append(f"| … | {len(p.moves) - limit:,} more | | | |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
