"""`tierbook plan`: what a ruleset change does to the portfolio, before it merges.

Both versions segment the same portfolio; the plan compares them account by account, the
way `terraform plan` compares state with configuration.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..assess.result import SegmentResult
from ..overrides.plan import effective, pinned_moves, plan_overrides_json


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
    name: str = ""
    csm: str = ""
    crm_tier: str = ""  # the CRM's current tier (the portfolio's current_tier column)


@dataclass
class HintChange:
    """Review hints (or comments) before and after: accounts holding any, and each text's
    accounts gained and lost."""

    before: int = 0
    after: int = 0
    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.gained or self.lost)

    def as_json(self) -> dict[str, Any]:
        return {
            "accounts_before": self.before,
            "accounts_after": self.after,
            "gained": dict(sorted(self.gained.items())),
            "lost": dict(sorted(self.lost.items())),
        }


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
    sources: list[Any] = field(default_factory=list)  # review.Side of the base and the head
    hints: dict[str, HintChange] = field(default_factory=dict)  # "reviews", "comments"
    rules: Any = None  # ruleset.diff.RulesetDiff, when both documents were given
    # overridden accounts whose rules' tier the change moves but an override pins (issue 19)
    pinned: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_gates(self) -> list[Any]:
        """The head's gates that failed (not waived): they fail the plan."""
        return [g for g in self.head.gates if not g.passed and not g.waived]

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
            or any(h.changed for h in self.hints.values())
            or bool(self.pinned)
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
                "calibration": r.calibration.as_dict(),
                "run_id": r.run_id,
            }

        sides = [side(self.base), side(self.head)]
        for out, src in zip(sides, self.sources):
            out["spec"], out["source"] = src.spec, src.source
        return {
            "base": sides[0],
            "head": sides[1],
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
            "failed_gates": [g.as_dict() for g in self.failed_gates],
            "reviews": self.hints["reviews"].as_json() if "reviews" in self.hints else {},
            "comments": self.hints["comments"].as_json() if "comments" in self.hints else {},
            "rule_changes": self.rules.as_json() if self.rules is not None else [],
            "moves": [vars(m) for m in self.moves],
            "accounts_added": self.added,
            "accounts_removed": self.removed,
            "warnings": self.warnings,
        } | plan_overrides_json(self)


def _because(over: Any, cell: str, because: str) -> tuple[str, str]:
    """The rule and reason behind a side's tier: its grid cell, or the override pinning it."""
    if over is None or over.tier == over.rules_tier:
        return cell, because
    pin = next(o for o in over.overrides if o.tier)
    return f"override:{pin.id}", f"{pin.does()} {pin.by_whom()}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def compare(base: SegmentResult, head: SegmentResult, rules: Any = None) -> Plan:
    """Base and head account by account; ``rules`` (a ruleset.diff.RulesetDiff of the two
    documents) is told the accounts each of its changes moves, where separable."""
    from ..ruleset.diff import move_targets

    targets: list[tuple[set[tuple[str, str]], float]] = []
    before = {d.account_id: d for d in base.evaluation.decisions}
    after = {d.account_id: d for d in head.evaluation.decisions}
    over_b, over_a = effective(base), effective(head)  # (account -> its overrides, if any)
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
    hints = {"reviews": HintChange(), "comments": HintChange()}
    roles = [head.ruleset.role(r) for r in ("name", "csm", "current_tier")]
    for account_id, b in before.items():
        a = after.get(account_id)
        if a is None:
            continue
        ob, oa = over_b.get(account_id), over_a.get(account_id)
        b_tier, a_tier = ob.tier if ob else b.tier, oa.tier if oa else a.tier
        matrix[b_tier][a_tier] += 1
        arr = float(a.values.get(head.arr_field) or 0.0)
        if b_tier != a_tier:
            arr_moved[b_tier][a_tier] += arr
            if rules is not None:
                targets.append((move_targets(b.bands, a.bands, b.cell, a.cell), arr))
            rule_b, because_b = _because(ob, b.cell, cells_b.get(b.cell, ""))
            rule_a, because_a = _because(oa, a.cell, cells_h.get(a.cell, ""))
            moves.append(
                Move(
                    account_id,
                    arr,
                    b_tier,
                    a_tier,
                    rule_b,
                    rule_a,
                    because_b,
                    because_a,
                    *(_text(a.values.get(r)) if r else "" for r in roles),
                )
            )
        b_flags, a_flags = ob.flags if ob else b.flags, oa.flags if oa else a.flags
        gained.update(set(a_flags) - set(b_flags))
        lost.update(set(b_flags) - set(a_flags))
        for kind, change in hints.items():
            was, now = getattr(b, kind), getattr(a, kind)
            change.before += bool(was)
            change.after += bool(now)
            if was != now:
                change.gained.update(set(now) - set(was))
                change.lost.update(set(was) - set(now))
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
                {
                    "id": gid,
                    "before": sb,
                    "after": sh,
                    "detail": latest.detail if latest else "",
                    "detail_before": gb.detail if gb else "",
                }
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
        hints=hints,
        rules=rules,
        pinned=pinned_moves(before, after, over_b, over_a, head.arr_field),
    )
    if rules is not None:
        rules.attribute(targets, gained, lost)
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
